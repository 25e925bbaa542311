//! Static pre-flight of a module build: what it declares, read from its ELF file without
//! loading it (`dlopen` would run the vendor's static constructors), its undefined symbols
//! against one version's `libmesos.so`, and the loader's verdict predicted from both, by the
//! rules of `../shared/modules.md` ("The loader's rules, in order").

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use object::{Object, ObjectSection, ObjectSymbol, RelocationFlags, RelocationTarget};

use crate::domain::Version;

/// The module struct as its library declares it (null pointers are `None`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Manifest {
    pub name: String,
    pub api_version: Option<String>,
    pub mesos_version: Option<String>,
    pub kind: Option<String>,
    pub author_name: Option<String>,
    pub author_email: Option<String>,
    pub description: Option<String>,
    /// Whether `compatible` is set (its answer is known only at run time).
    pub compatible: bool,
    /// Whether `create` is set.
    pub create: bool,
}

/// A module library read without loading it.
#[derive(Debug, Clone)]
pub struct ModuleFile {
    /// `None` when the library has no such symbol.
    pub manifest: Option<Manifest>,
    /// Non-weak undefined dynamic symbols (what `RTLD_NOW` must resolve).
    pub undefined: Vec<String>,
    /// `NEEDED` libraries.
    pub needed: Vec<String>,
}

/// What the loader of one Mesos version will do with the module, predicted statically.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "verdict", content = "text", rename_all = "snake_case")]
pub enum Prediction {
    /// Every check passes; the module loads (and `create()` decides the rest).
    Loads,
    /// Every static check passes; `compatible()` decides at run time.
    DependsOnCompatible,
    /// The loader refuses it: the text it will print after `Error loading modules: `
    /// (a version is shown as the loader normalizes it).
    Rejected(String),
}

impl fmt::Display for Prediction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Prediction::Loads => f.write_str("loads"),
            Prediction::DependsOnCompatible => f.write_str("loads if compatible() says so"),
            Prediction::Rejected(text) => write!(f, "rejected at load: {text}"),
        }
    }
}

/// Whether a real outcome is the predicted one: a predicted text (with `...` for what the
/// dynamic loader words itself) must appear piece by piece in the loader's.
pub fn agrees(prediction: &Prediction, real: &crate::mesos::modules::ModuleOutcome) -> bool {
    use crate::mesos::modules::ModuleOutcome;
    match (prediction, real) {
        (Prediction::Rejected(text), ModuleOutcome::RejectedAtLoad(seen)) => {
            text.split("...").all(|piece| seen.contains(piece.trim()))
        }
        (Prediction::Loads, ModuleOutcome::Works(_) | ModuleOutcome::CreateFailed(_)) => true,
        (Prediction::DependsOnCompatible, ModuleOutcome::Works(_)) => true,
        (Prediction::DependsOnCompatible, ModuleOutcome::RejectedAtLoad(seen)) => {
            seen.contains("has determined to be incompatible")
        }
        _ => false,
    }
}

/// Reads `file`'s module `name` and its dynamic imports.
pub fn read_module(file: &Path, name: &str) -> Result<ModuleFile, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("reading {}: {e}", file.display()))?;
    let elf = object::File::parse(&*bytes)
        .map_err(|e| format!("{} is not an ELF shared library: {e}", file.display()))?;
    let undefined = elf
        .dynamic_symbols()
        .filter(|s| s.is_undefined() && !s.is_weak())
        .filter_map(|s| s.name().ok().map(str::to_string))
        .filter(|n| !n.is_empty())
        .collect();
    let needed = needed_libraries(&elf);
    let manifest = elf
        .dynamic_symbols()
        .find(|s| s.name() == Ok(name) && !s.is_undefined())
        .map(|sym| read_manifest(&elf, name, sym.address()))
        .transpose()?;
    Ok(ModuleFile {
        manifest,
        undefined,
        needed,
    })
}

fn needed_libraries(elf: &object::File) -> Vec<String> {
    let object::File::Elf64(e) = elf else {
        return Vec::new();
    };
    use object::read::elf::FileHeader;
    let endian = e.endian();
    let data = e.data();
    let Ok(segments) = e.elf_header().program_headers(endian, data) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for seg in segments {
        use object::read::elf::{Dyn, ProgramHeader};
        let Ok(Some(dynamic)) = seg.dynamic(endian, data) else {
            continue;
        };
        // The string table's address, then each DT_NEEDED offset into it.
        let strtab = dynamic
            .iter()
            .find(|d| d.d_tag(endian) == object::elf::DT_STRTAB)
            .map(|d| d.d_val(endian));
        let Some(strtab) = strtab else { continue };
        for d in dynamic {
            if d.d_tag(endian) == object::elf::DT_NEEDED {
                if let Some(s) = c_string_at(elf, strtab + d.d_val(endian)) {
                    out.push(s);
                }
            }
        }
    }
    out
}

/// The eight pointers of the module struct at `address`: each is a dynamic relocation
/// (`R_X86_64_RELATIVE`: its addend is the address; `R_X86_64_64` to a defined symbol: the
/// symbol's address plus the addend) or, without one, the file's own bytes.
fn read_manifest(elf: &object::File, name: &str, address: u64) -> Result<Manifest, String> {
    let relocations: Vec<(u64, object::Relocation)> = elf
        .dynamic_relocations()
        .map(|r| r.collect())
        .unwrap_or_default();
    let pointer = |field: u64| -> Option<u64> {
        let at = address + 8 * field;
        if let Some((_, r)) = relocations.iter().find(|(off, _)| *off == at) {
            let r_type = match r.flags() {
                RelocationFlags::Elf { r_type } => r_type,
                _ => return None,
            };
            if r_type == object::elf::R_X86_64_RELATIVE {
                return Some(r.addend() as u64);
            }
            if let RelocationTarget::Symbol(index) = r.target() {
                let sym = elf.symbol_by_index(index).ok()?;
                if sym.is_undefined() {
                    // Resolved at load time elsewhere: not null.
                    return Some(u64::MAX);
                }
                return Some(sym.address().wrapping_add(r.addend() as u64));
            }
            return None;
        }
        let raw = bytes_at(elf, at, 8)?;
        let value = u64::from_le_bytes(raw.try_into().ok()?);
        (value != 0).then_some(value)
    };
    if bytes_at(elf, address, 64).is_none() {
        return Err(format!(
            "the module symbol {name} is smaller than the module struct (64 bytes)"
        ));
    }
    let string = |field: u64| pointer(field).and_then(|p| c_string_at(elf, p));
    Ok(Manifest {
        name: name.to_string(),
        api_version: string(0),
        mesos_version: string(1),
        kind: string(2),
        author_name: string(3),
        author_email: string(4),
        description: string(5),
        compatible: pointer(6).is_some(),
        create: pointer(7).is_some(),
    })
}

fn bytes_at<'a>(elf: &'a object::File, address: u64, len: u64) -> Option<&'a [u8]> {
    elf.sections().find_map(|s| {
        let start = s.address();
        if address < start || address + len > start + s.size() {
            return None;
        }
        let data = s.data().ok()?;
        let from = (address - start) as usize;
        data.get(from..from + len as usize)
    })
}

fn c_string_at(elf: &object::File, address: u64) -> Option<String> {
    elf.sections().find_map(|s| {
        let start = s.address();
        if address < start || address >= start + s.size() {
            return None;
        }
        let data = s.data().ok()?;
        let rest = data.get((address - start) as usize..)?;
        let end = rest.iter().position(|b| *b == 0)?;
        Some(String::from_utf8_lossy(&rest[..end]).into_owned())
    })
}

/// The symbols a shared library defines (exports).
pub fn exported_symbols(file: &Path) -> Result<HashSet<String>, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("reading {}: {e}", file.display()))?;
    let elf = object::File::parse(&*bytes)
        .map_err(|e| format!("{} is not an ELF library: {e}", file.display()))?;
    Ok(elf
        .dynamic_symbols()
        .filter(|s| !s.is_undefined())
        .filter_map(|s| s.name().ok().map(str::to_string))
        .collect())
}

/// The kinds in the loader's table of `version`.
pub fn known_kinds(version: Version) -> Vec<&'static str> {
    let mut kinds = vec![
        "Allocator",
        "Anonymous",
        "Authenticatee",
        "Authenticator",
        "Authorizer",
        "ContainerLogger",
        "Hook",
        "HttpAuthenticator",
        "Isolator",
        "MasterContender",
        "MasterDetector",
        "QoSController",
        "ResourceEstimator",
        "SecretResolver",
        "TestModule",
    ];
    if version.at_least(1, 5) {
        kinds.extend(["DiskProfileAdaptor", "HttpAuthenticatee"]);
    }
    kinds
}

/// A declared version as the loader parses it: up to three numeric parts (missing ones
/// are 0), an optional `-prerelease`, `+build` ignored. `Err` is the loader's text.
pub fn parse_declared(text: &str) -> Result<(Version, Option<String>), String> {
    let text = text.split('+').next().unwrap_or("");
    let (core, pre) = match text.split_once('-') {
        Some((c, p)) => (c, Some(p.to_string())),
        None => (text, None),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() > 3 {
        return Err(format!(
            "Version string has {} components; maximum 3 components allowed",
            parts.len()
        ));
    }
    let mut numbers = [0u32; 3];
    for (i, p) in parts.iter().enumerate() {
        numbers[i] = p.parse().map_err(|_| {
            format!("Invalid version component '{p}': Failed to convert '{p}' to number")
        })?;
    }
    Ok((Version::new(numbers[0], numbers[1], numbers[2]), pre))
}

/// The verdict of `running`'s loader, in its rules' order: the library opens (every
/// undefined symbol resolves: `unresolved` are those that do not), the symbol exists, the
/// six strings are set, API version 2, a known kind, a parseable version at least the
/// kind's minimum (the running release itself, 1.4-1.11), then equal to it without
/// `compatible`, or `compatible()` decides.
pub fn predict(
    file_in_message: &str,
    name: &str,
    module: &ModuleFile,
    unresolved: &[String],
    running: Version,
) -> Prediction {
    if let Some(symbol) = unresolved.first() {
        return Prediction::Rejected(format!(
            "Error opening library: '{file_in_message}': Could not load library '{file_in_message}': ... undefined symbol: {symbol}"
        ));
    }
    let Some(m) = &module.manifest else {
        return Prediction::Rejected(format!(
            "Error loading module '{name}': Error looking up symbol '{name}' in '{file_in_message}' : ... undefined symbol: {name}"
        ));
    };
    let (Some(api), Some(declared), Some(kind), Some(_), Some(_), Some(_)) = (
        &m.api_version,
        &m.mesos_version,
        &m.kind,
        &m.author_name,
        &m.author_email,
        &m.description,
    ) else {
        return Prediction::Rejected(format!("Error loading module '{name}'; missing fields"));
    };
    let verify =
        |text: String| Prediction::Rejected(format!("Error verifying module '{name}': {text}"));
    if api != "2" {
        return verify(format!(
            "Module API version mismatch. Mesos has: 2, library requires: {api}"
        ));
    }
    if !known_kinds(running).contains(&kind.as_str()) {
        return verify(format!("Unknown module kind: {kind}"));
    }
    let (version, pre) = match parse_declared(declared) {
        Ok(v) => v,
        Err(text) => return verify(text),
    };
    let shown = match &pre {
        Some(p) => format!("{version}-{p}"),
        None => version.to_string(),
    };
    // A prerelease sorts before its release.
    let below = version < running || (version == running && pre.is_some());
    if below {
        return verify(format!(
            "Minimum supported mesos version for '{kind}' is {running}, but module is compiled with version {shown}"
        ));
    }
    if !m.compatible {
        if version != running {
            return verify(format!(
                "Mesos has version {running}, but module is compiled with version {shown}"
            ));
        }
        return Prediction::Loads;
    }
    if version > running {
        return verify(format!(
            "Mesos has version {running}, but module is compiled with version {shown}"
        ));
    }
    Prediction::DependsOnCompatible
}

/// The undefined symbols of `module` that neither `libmesos` nor its `NEEDED` libraries
/// (found in `library_dirs`) define.
pub fn unresolved_symbols(
    module: &ModuleFile,
    libmesos: &HashSet<String>,
    library_dirs: &[&Path],
) -> Vec<String> {
    let mut defined: HashSet<String> = HashSet::new();
    for lib in &module.needed {
        if let Some(path) = library_dirs
            .iter()
            .map(|d| d.join(lib))
            .find(|p| p.is_file())
        {
            if let Ok(symbols) = exported_symbols(&path) {
                defined.extend(symbols);
            }
        }
    }
    let mut out: Vec<String> = module
        .undefined
        .iter()
        .filter(|s| !libmesos.contains(*s) && !defined.contains(*s))
        .cloned()
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::{build_fixture, Fixture, FIXTURE_MODULE_NAME};

    fn v(s: &str) -> Version {
        s.parse().unwrap()
    }

    #[test]
    fn declared_versions_parse_as_the_loader_does() {
        assert_eq!(parse_declared("1.11").unwrap(), (v("1.11.0"), None));
        assert_eq!(
            parse_declared("1.11.0+vendor.7").unwrap(),
            (v("1.11.0"), None)
        );
        assert_eq!(
            parse_declared("1.11.0-rc1").unwrap(),
            (v("1.11.0"), Some("rc1".to_string()))
        );
        assert_eq!(
            parse_declared("one.11").unwrap_err(),
            "Invalid version component 'one': Failed to convert 'one' to number"
        );
    }

    /// Every fixture, built for real, read back from its ELF file: the manifest is what the
    /// build declared, and the predicted verdict for 1.11.0 follows the loader's rules.
    #[test]
    fn fixtures_are_read_back_and_predicted() {
        let cache = tempfile::tempdir().unwrap();
        let libmesos: HashSet<String> = [
            "_ZNK6google8protobuf11MessageLite17SerializeToStringEPNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEE".to_string(),
        ]
        .into_iter()
        .collect();
        let dirs = [
            Path::new("/usr/lib/x86_64-linux-gnu"),
            Path::new("/lib/x86_64-linux-gnu"),
        ];
        let running = v("1.11.0");
        let name = FIXTURE_MODULE_NAME;
        let mut seen = Vec::new();
        for f in Fixture::ALL {
            let built = build_fixture(f, running, cache.path(), "g++").unwrap();
            let module = read_module(&built.library, name).unwrap();
            let m = module.manifest.clone().expect("the module symbol");
            assert_eq!(m.api_version.as_deref(), Some(f.declared_api()));
            assert_eq!(m.kind.as_deref(), Some(f.declared_kind()));
            assert_eq!(
                m.mesos_version.as_deref(),
                Some(f.declared_version(running).as_str())
            );
            assert_eq!(m.compatible, f == Fixture::Incompatible);
            assert!(m.create);
            let unresolved = unresolved_symbols(&module, &libmesos, &dirs);
            assert!(unresolved.is_empty(), "{f}: {unresolved:?}");
            let p = predict("lib.so", name, &module, &unresolved, running);
            seen.push(format!("{f}: {p}"));
        }
        // The stale build: the 1.10.0 build of the good fixture, loaded by 1.11.0.
        let stale = build_fixture(Fixture::Touch, v("1.10.0"), cache.path(), "g++").unwrap();
        let module = read_module(&stale.library, name).unwrap();
        seen.push(format!(
            "stale 1.10.0 build: {}",
            predict("lib.so", name, &module, &[], running)
        ));
        // Without libmesos, the protobuf symbol is missing.
        let good = build_fixture(Fixture::Touch, running, cache.path(), "g++").unwrap();
        let module = read_module(&good.library, name).unwrap();
        let unresolved = unresolved_symbols(&module, &HashSet::new(), &dirs);
        seen.push(format!(
            "without libmesos: {}",
            predict("lib.so", name, &module, &unresolved, running)
        ));
        assert_eq!(
            seen,
            vec![
                "touch: loads".to_string(),
                format!("wrong-api: rejected at load: Error verifying module '{name}': Module API version mismatch. Mesos has: 2, library requires: 1"),
                format!("newer-version: rejected at load: Error verifying module '{name}': Mesos has version 1.11.0, but module is compiled with version 1.12.0"),
                format!("unknown-kind: rejected at load: Error verifying module '{name}': Unknown module kind: Anonymus"),
                "incompatible: loads if compatible() says so".to_string(),
                "create-null: loads".to_string(),
                format!("stale 1.10.0 build: rejected at load: Error verifying module '{name}': Minimum supported mesos version for 'Anonymous' is 1.11.0, but module is compiled with version 1.10.0"),
                "without libmesos: rejected at load: Error opening library: 'lib.so': Could not load library 'lib.so': ... undefined symbol: _ZNK6google8protobuf11MessageLite17SerializeToStringEPNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEE".to_string(),
            ]
        );
    }
}
