//! Pure parsers over binutils output (`readelf`, `nm`, `objdump`, `ldd`) and
//! the generators built on them (stub libraries, Python C API shims). No I/O
//! here: `build.rs` runs the tools and feeds their text in.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

/// One entry of `readelf --dyn-syms -W`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DynSym {
    pub name: String,
    /// The symbol version (`SSL_new@OPENSSL_1.0.0` -> `OPENSSL_1.0.0`).
    pub version: Option<String>,
    pub undefined: bool,
    pub weak: bool,
    /// `FUNC`, `OBJECT`, `NOTYPE`, ...
    pub kind: String,
    /// The version index readelf prints after the name (`(8)`): ties an
    /// imported symbol to exactly one (file, version node) of `.gnu.version_r`.
    pub version_index: Option<u32>,
}

/// A version node required from a file: its name and version index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VersionNeed {
    pub name: String,
    pub index: u32,
}

/// `NEEDED` entries of `readelf -d`.
pub(crate) fn parse_needed(readelf_d: &str) -> Vec<String> {
    readelf_d
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| {
            let start = l.find('[')? + 1;
            let end = l[start..].find(']')? + start;
            Some(l[start..end].to_string())
        })
        .collect()
}

/// The `.gnu.version_r` section of `readelf -V -W`: for each file, the
/// version nodes required from it, in order of appearance.
pub(crate) fn parse_version_needs(readelf_v: &str) -> Vec<(String, Vec<VersionNeed>)> {
    let mut out: Vec<(String, Vec<VersionNeed>)> = Vec::new();
    let mut in_needs = false;
    for line in readelf_v.lines() {
        if line.starts_with("Version needs section") {
            in_needs = true;
            continue;
        }
        if in_needs
            && (line.starts_with("Version symbols section")
                || line.starts_with("Version definition section"))
        {
            in_needs = false;
        }
        if !in_needs {
            continue;
        }
        if let Some(pos) = line.find("File: ") {
            let rest = &line[pos + 6..];
            let file = rest.split_whitespace().next().unwrap_or("").to_string();
            out.push((file, Vec::new()));
        } else if let Some(pos) = line.find("Name: ") {
            let name = line[pos + 6..]
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_string();
            let index = line
                .rsplit_once("Version: ")
                .and_then(|(_, i)| i.trim().parse::<u32>().ok())
                .unwrap_or(0);
            if let Some(last) = out.last_mut() {
                last.1.push(VersionNeed { name, index });
            }
        }
    }
    out
}

/// `readelf --dyn-syms -W`.
pub(crate) fn parse_dyn_syms(readelf_syms: &str) -> Vec<DynSym> {
    let mut out = Vec::new();
    for line in readelf_syms.lines() {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        // Num: Value Size Type Bind Vis Ndx Name [(verindex)]
        if tokens.len() < 8 || !tokens[0].ends_with(':') || tokens[0] == "Num:" {
            continue;
        }
        let raw = tokens[7];
        let (name, version) = match raw.find('@') {
            Some(at) => {
                let v = raw[at..].trim_start_matches('@');
                (raw[..at].to_string(), Some(v.to_string()))
            }
            None => (raw.to_string(), None),
        };
        if name.is_empty() {
            continue;
        }
        let version_index = tokens
            .get(8)
            .and_then(|t| t.strip_prefix('(')?.strip_suffix(')')?.parse::<u32>().ok());
        out.push(DynSym {
            name,
            version,
            version_index,
            undefined: tokens[6] == "UND",
            weak: tokens[4] == "WEAK",
            kind: tokens[3].to_string(),
        });
    }
    out
}

/// Names of the symbols `nm -D --defined-only` lists (versions stripped).
pub(crate) fn parse_nm_defined(nm: &str) -> HashSet<String> {
    nm.lines()
        .filter_map(|l| {
            let tokens: Vec<&str> = l.split_whitespace().collect();
            if tokens.len() < 3 {
                return None;
            }
            let name = tokens[tokens.len() - 1];
            Some(name.split('@').next().unwrap_or(name).to_string())
        })
        .collect()
}

/// Address and size of `symbol` in `nm -D -S` output.
pub(crate) fn nm_address_size(nm_s: &str, symbol: &str) -> Option<(u64, u64)> {
    nm_s.lines().find_map(|l| {
        let t: Vec<&str> = l.split_whitespace().collect();
        if t.len() == 4 && t[3] == symbol {
            Some((
                u64::from_str_radix(t[0], 16).ok()?,
                u64::from_str_radix(t[1], 16).ok()?,
            ))
        } else {
            None
        }
    })
}

/// A symbol a generated library or shim defines.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct StubSymbol {
    pub name: String,
    pub is_data: bool,
}

/// One generated stub library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StubLibrary {
    pub soname: String,
    /// Version nodes in the order libmesos' `readelf -V` lists them, each with
    /// the symbols libmesos binds to that node.
    pub nodes: Vec<(String, Vec<StubSymbol>)>,
    /// Symbols libmesos imports without a version that no real library of its
    /// closure defines (for example curl in the openSUSE build).
    pub unversioned: Vec<StubSymbol>,
}

/// Python C API data objects libmesos refers to (everything else from
/// Python is a function). readelf types them NOTYPE, so the name decides.
fn python_is_data(name: &str) -> bool {
    name.starts_with("PyExc_")
        || (name.starts_with("_Py_") && name.ends_with("Struct"))
        || (name.starts_with("Py") && name.ends_with("_Type"))
}

fn stub_symbol(sym: &DynSym, python: bool) -> StubSymbol {
    let is_data = if python {
        python_is_data(&sym.name)
    } else {
        sym.kind == "OBJECT" || sym.kind == "TLS"
    };
    StubSymbol {
        name: sym.name.clone(),
        is_data,
    }
}

pub(crate) fn is_python_symbol(name: &str) -> bool {
    name.starts_with("Py") || name.starts_with("_Py")
}

/// Which stub library an unversioned leftover symbol belongs in.
fn leftover_home<'a>(name: &str, stubs: &'a [String]) -> Option<&'a String> {
    let prefer = |pat: &str| stubs.iter().find(|s| s.starts_with(pat));
    let by_prefix = if name.starts_with("curl_") {
        prefer("libcurl.")
    } else if name.contains("openssl") {
        prefer("libevent_openssl")
    } else if name.starts_with("SSL_") || name.starts_with("TLS") || name.starts_with("DTLS") {
        prefer("libssl.")
    } else {
        prefer("libcrypto.")
    };
    by_prefix
        .or_else(|| stubs.iter().find(|s| !s.starts_with("libpython")))
        .or_else(|| stubs.first())
}

/// Plans the stub libraries for the `stub_sonames` libmesos needs.
/// `defined_by_real_libraries`: symbols the real (non-stub) NEEDED libraries
/// define; unversioned imports found there are not stubbed.
/// Returns the stubs and the Python C API symbols the launcher must define.
pub(crate) fn plan_stubs(
    stub_sonames: &[String],
    version_needs: &[(String, Vec<VersionNeed>)],
    syms: &[DynSym],
    defined_by_real_libraries: &HashSet<String>,
) -> (Vec<StubLibrary>, Vec<StubSymbol>) {
    let mut libs: Vec<StubLibrary> = Vec::new();
    // version index -> (library, node) for the stubbed files.
    let mut by_index: BTreeMap<u32, (usize, usize)> = BTreeMap::new();
    for soname in stub_sonames {
        let needs: Vec<&VersionNeed> = version_needs
            .iter()
            .filter(|(file, _)| file == soname)
            .flat_map(|(_, n)| n.iter())
            .collect();
        for (j, need) in needs.iter().enumerate() {
            by_index.insert(need.index, (libs.len(), j));
        }
        let nodes = needs.iter().map(|n| (n.name.clone(), Vec::new())).collect();
        libs.push(StubLibrary {
            soname: soname.clone(),
            nodes,
            unversioned: Vec::new(),
        });
    }
    let mut python = Vec::new();
    let mut seen: HashSet<(String, Option<u32>)> = HashSet::new();
    for sym in syms.iter().filter(|s| s.undefined) {
        if !seen.insert((sym.name.clone(), sym.version_index)) {
            continue;
        }
        if is_python_symbol(&sym.name) && sym.version.is_none() {
            python.push(stub_symbol(sym, true));
            continue;
        }
        if sym.version.is_some() {
            if let Some(&(lib, node)) = sym.version_index.and_then(|i| by_index.get(&i)) {
                libs[lib].nodes[node].1.push(stub_symbol(sym, false));
            }
            continue; // otherwise a versioned symbol of a real library
        }
        if sym.weak || defined_by_real_libraries.contains(&sym.name) {
            continue;
        }
        if let Some(home) = leftover_home(&sym.name, stub_sonames) {
            let home = home.clone();
            let lib = libs.iter_mut().find(|l| l.soname == home).unwrap();
            lib.unversioned.push(stub_symbol(sym, false));
        }
    }
    for lib in &mut libs {
        for (_, s) in &mut lib.nodes {
            s.sort();
        }
        lib.unversioned.sort();
    }
    python.sort();
    (libs, python)
}

/// C source defining `symbols`; every function prints its own name and
/// aborts, data objects are 256 zero bytes.
pub(crate) fn render_stub_c(origin: &str, symbols: &[&StubSymbol]) -> String {
    let mut c = String::new();
    let _ = writeln!(
        c,
        "/* Generated by upgrade-harness (src/images/elf.rs); do not edit. */"
    );
    let _ = writeln!(
        c,
        "extern long uh_write(int, const void *, unsigned long) __asm__(\"write\");"
    );
    let _ = writeln!(
        c,
        "extern void uh_abort(void) __asm__(\"abort\") __attribute__((noreturn));"
    );
    let _ = writeln!(c, "static unsigned long uh_len(const char *s) {{ unsigned long n = 0; while (s[n]) n++; return n; }}");
    let _ = writeln!(
        c,
        "__attribute__((noreturn)) static void uh_stub_called(const char *name) {{"
    );
    let _ = writeln!(c, "  static const char a[] = \"mesos-launcher: \";");
    let _ = writeln!(c, "  static const char b[] = \" was called, but {origin} is a stub in this build (see docs/images.md)\\n\";");
    let _ = writeln!(c, "  uh_write(2, a, sizeof a - 1); uh_write(2, name, uh_len(name)); uh_write(2, b, sizeof b - 1);");
    let _ = writeln!(c, "  uh_abort();");
    let _ = writeln!(c, "}}");
    for s in symbols {
        if s.is_data {
            let _ = writeln!(
                c,
                "__attribute__((visibility(\"default\"), aligned(64))) char {}[256];",
                s.name
            );
        } else {
            let _ = writeln!(
                c,
                "__attribute__((visibility(\"default\"))) void {n}(void) {{ uh_stub_called(\"{n}\"); }}",
                n = s.name
            );
        }
    }
    c
}

/// The C source and (if the library has version nodes) the linker version
/// script of a stub library.
pub(crate) fn render_stub_library(lib: &StubLibrary) -> (String, Option<String>) {
    let all: Vec<&StubSymbol> = lib
        .nodes
        .iter()
        .flat_map(|(_, s)| s.iter())
        .chain(lib.unversioned.iter())
        .collect();
    let c = render_stub_c(&lib.soname, &all);
    if lib.nodes.is_empty() {
        return (c, None);
    }
    let mut script = String::new();
    let last = lib.nodes.len() - 1;
    for (i, (node, syms)) in lib.nodes.iter().enumerate() {
        let _ = write!(script, "{node} {{\n  global:\n");
        for s in syms {
            let _ = writeln!(script, "    {};", s.name);
        }
        if i == 0 {
            for s in &lib.unversioned {
                let _ = writeln!(script, "    {};", s.name);
            }
        }
        if i == last {
            let _ = writeln!(script, "  local: *;");
        }
        let _ = writeln!(script, "}};");
    }
    (c, Some(script))
}

/// Derives the offset of the virtual `flags::FlagsBase` base inside
/// `slave::Flags` from `objdump -d --no-show-raw-insn` of
/// `slave::Flags::Flags()` (the complete-object constructor, C1).
///
/// Two shapes occur: the `FlagsBase` constructor is called (its `this` is
/// `lea OFF(%this),%reg` moved to `%rdi`), or it is inlined, and then its
/// first act is storing FlagsBase's vptr (`mov <_ZTVN5flags9FlagsBaseE>,%reg;
/// add $0x10,%reg; mov %reg,OFF(%this)`). `%this` is `%rdi` or a register
/// copied from it.
pub(crate) fn flags_base_offset(objdump: &str) -> Result<u64, String> {
    let insns: Vec<(String, String, String)> = objdump
        .lines()
        .filter_map(|l| {
            // "  285cb43:\tmov    %rdi,%r14" with an optional "# comment"
            let (addr, rest) = l.split_once(":\t")?;
            if addr.trim().is_empty() || !addr.trim().chars().all(|c| c.is_ascii_hexdigit()) {
                return None;
            }
            let (code, comment) = match rest.split_once('#') {
                Some((c, m)) => (c, m.to_string()),
                None => (rest, String::new()),
            };
            let mut parts = code.trim().splitn(2, char::is_whitespace);
            let mnemonic = parts.next().unwrap_or("").to_string();
            let operands = parts.next().unwrap_or("").trim().to_string();
            // objdump puts call targets `<sym>` in the operands.
            let comment = if comment.is_empty() {
                operands.clone()
            } else {
                comment
            };
            Some((mnemonic, operands, comment))
        })
        .collect();
    if insns.is_empty() {
        return Err("the disassembly is empty".into());
    }
    // Registers holding `this`.
    let mut this_regs: HashSet<String> = HashSet::from(["%rdi".to_string()]);
    let parse_mem = |op: &str| -> Option<(u64, String)> {
        // "0x1150(%r13)"
        let (off, reg) = op.split_once('(')?;
        let reg = reg.trim_end_matches(')').to_string();
        let off = u64::from_str_radix(off.trim_start_matches("0x"), 16).ok()?;
        Some((off, reg))
    };
    for (i, (mnemonic, operands, comment)) in insns.iter().enumerate() {
        if mnemonic == "mov" {
            if let Some((src, dst)) = operands.split_once(',') {
                if this_regs.contains(src) && dst.starts_with('%') {
                    this_regs.insert(dst.to_string());
                }
            }
        }
        // Shape 1: call to the FlagsBase constructor.
        if mnemonic.starts_with("call")
            && (comment.contains("<_ZN5flags9FlagsBaseC2Ev")
                || comment.contains("<_ZN5flags9FlagsBaseC1Ev"))
        {
            let mut target = "%rdi".to_string();
            for (m, ops, _) in insns[..i].iter().rev() {
                let Some((src, dst)) = ops.rsplit_once(',') else {
                    continue;
                };
                if dst != target {
                    continue;
                }
                if m == "lea" {
                    let (off, reg) =
                        parse_mem(src).ok_or_else(|| format!("unexpected operand `{ops}`"))?;
                    if !this_regs.contains(&reg) {
                        return Err(format!("the FlagsBase constructor's `this` is based on {reg}, not on the object"));
                    }
                    return Ok(off);
                }
                if m == "mov" && src.starts_with('%') {
                    if this_regs.contains(src) {
                        return Ok(0);
                    }
                    target = src.to_string();
                    continue;
                }
                return Err(format!(
                    "the FlagsBase constructor's `this` comes from `{m} {ops}`"
                ));
            }
            return Err("no instruction sets `this` for the FlagsBase constructor".into());
        }
        // Shape 2: inlined; FlagsBase's vptr is loaded and stored.
        if mnemonic == "mov" && comment.contains("<_ZTVN5flags9FlagsBaseE") {
            let Some((_, reg)) = operands.rsplit_once(',') else {
                continue;
            };
            let reg = reg.to_string();
            let mut adjusted = false;
            for (m, ops, _) in insns[i + 1..].iter() {
                let Some((src, dst)) = ops.rsplit_once(',') else {
                    continue;
                };
                if m == "add" && dst == reg {
                    if src != "$0x10" {
                        return Err(format!(
                            "FlagsBase's vtable address is adjusted by {src}, expected $0x10"
                        ));
                    }
                    adjusted = true;
                    continue;
                }
                if m == "mov" && src == reg {
                    if let Some((off, base)) = parse_mem(dst) {
                        if this_regs.contains(&base) {
                            if !adjusted {
                                return Err("FlagsBase's vtable is stored without the +0x10 vptr adjustment".into());
                            }
                            return Ok(off);
                        }
                    }
                }
                if dst == reg {
                    return Err(format!(
                        "{reg} is overwritten by `{m} {ops}` before FlagsBase's vptr is stored"
                    ));
                }
            }
            return Err("FlagsBase's vtable is loaded but never stored".into());
        }
    }
    Err(
        "neither a call to the FlagsBase constructor nor a store of FlagsBase's vptr was found"
            .into(),
    )
}

/// One line of `ldd` output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LddEntry {
    /// The name asked for (a soname, or the loader's absolute path).
    pub name: String,
    /// Where the library was found; `None` for "not found".
    pub path: Option<String>,
}

pub(crate) fn parse_ldd(ldd: &str) -> Vec<LddEntry> {
    let mut out = Vec::new();
    for line in ldd.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("linux-vdso") || line.starts_with("statically") {
            continue;
        }
        if let Some((name, rest)) = line.split_once(" => ") {
            let rest = rest.trim();
            let path = if rest.starts_with("not found") {
                None
            } else {
                Some(rest.split(" (").next().unwrap_or(rest).trim().to_string())
            };
            out.push(LddEntry {
                name: name.trim().to_string(),
                path,
            });
        } else if line.starts_with('/') {
            let path = line.split(" (").next().unwrap_or(line).trim().to_string();
            out.push(LddEntry {
                name: path.clone(),
                path: Some(path),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const READELF_D: &str = "
Dynamic section at offset 0x4b6fc58 contains 42 entries:
  Tag        Type                         Name/Value
 0x0000000000000001 (NEEDED)             Shared library: [libz.so.1]
 0x0000000000000001 (NEEDED)             Shared library: [libcurl.so.4]
 0x000000000000000e (SONAME)             Library soname: [_scheduler.so]
";

    const READELF_V: &str = "
Version symbols section '.gnu.version' contains 166730 entries:
  000:   0 (*local*)       0 (*local*)       0 (*local*)       2 (GLIBC_2.2.5)
Version needs section '.gnu.version_r' contains 3 entries:
 Addr: 0x0000000001e4d5d0  Offset: 0x01e4d5d0  Link: 4 (.dynstr)
  000000: Version: 1  File: libcrypto.so.1.0.0  Cnt: 2
  0x0010:   Name: OPENSSL_1.0.2  Flags: none  Version: 21
  0x0020:   Name: OPENSSL_1.0.0  Flags: none  Version: 9
  0x0030: Version: 1  File: libssl.so.1.0.0  Cnt: 2
  0x0040:   Name: OPENSSL_1.0.1  Flags: none  Version: 22
  0x0050:   Name: OPENSSL_1.0.0  Flags: none  Version: 8
  0x0060: Version: 1  File: libcurl.so.4  Cnt: 1
  0x0070:   Name: CURL_OPENSSL_3  Flags: none  Version: 6
  0x0080: Version: 1  File: libc.so.6  Cnt: 1
  0x0090:   Name: GLIBC_2.2.5  Flags: none  Version: 2
";

    const READELF_SYMS: &str = "
Symbol table '.dynsym' contains 166730 entries:
   Num:    Value          Size Type    Bind   Vis      Ndx Name
     0: 0000000000000000     0 NOTYPE  LOCAL  DEFAULT  UND 
    10: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND curl_global_init@CURL_OPENSSL_3 (6)
    12: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND SSL_get_verify_result@OPENSSL_1.0.0 (8)
    13: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND BIO_free@OPENSSL_1.0.0 (9)
    14: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND SSL_CTX_set_next_proto_select_cb@OPENSSL_1.0.1 (22)
    16: 0000000000000000     0 NOTYPE  WEAK   DEFAULT  UND _ZTHN7process10_executor_E
    23: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND svn_txdelta_parse_svndiff
    24: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND mallctl
    32: 0000000000000000     0 NOTYPE  GLOBAL DEFAULT  UND PyErr_Print
   240: 0000000000000000     0 NOTYPE  GLOBAL DEFAULT  UND _Py_NoneStruct
   241: 0000000000000000     0 NOTYPE  GLOBAL DEFAULT  UND PyExc_TypeError
   300: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND memcpy@GLIBC_2.14 (3)
   301: 00000000028546b0  1234 FUNC    GLOBAL DEFAULT   12 _ZN5mesos8internal5slave5FlagsC1Ev
";

    #[test]
    fn needed_entries() {
        assert_eq!(parse_needed(READELF_D), vec!["libz.so.1", "libcurl.so.4"]);
    }

    #[test]
    fn version_needs() {
        let v = parse_version_needs(READELF_V);
        assert_eq!(v.len(), 4);
        let need = |name: &str, index| VersionNeed {
            name: name.into(),
            index,
        };
        assert_eq!(
            v[0],
            (
                "libcrypto.so.1.0.0".into(),
                vec![need("OPENSSL_1.0.2", 21), need("OPENSSL_1.0.0", 9)]
            )
        );
        assert_eq!(
            v[2],
            ("libcurl.so.4".into(), vec![need("CURL_OPENSSL_3", 6)])
        );
    }

    #[test]
    fn dyn_syms() {
        let s = parse_dyn_syms(READELF_SYMS);
        assert_eq!(s.len(), 12);
        assert_eq!(s[0].name, "curl_global_init");
        assert_eq!(s[0].version.as_deref(), Some("CURL_OPENSSL_3"));
        assert_eq!(s[0].version_index, Some(6));
        assert!(s[0].undefined);
        assert!(s[4].weak && !s[3].weak);
        assert!(!s[11].undefined);
        assert_eq!(s[11].version, None);
        assert_eq!(s[10].version_index, Some(3));
    }

    #[test]
    fn stubs_from_readelf() {
        let syms = parse_dyn_syms(READELF_SYMS);
        let needs = parse_version_needs(READELF_V);
        let stubs = vec![
            "libssl.so.1.0.0".to_string(),
            "libcrypto.so.1.0.0".to_string(),
            "libcurl.so.4".to_string(),
        ];
        let real: HashSet<String> = ["svn_txdelta_parse_svndiff".to_string()].into();
        let (libs, python) = plan_stubs(&stubs, &needs, &syms, &real);
        let ssl = &libs[0];
        assert_eq!(ssl.soname, "libssl.so.1.0.0");
        assert_eq!(ssl.nodes[0].0, "OPENSSL_1.0.1");
        assert_eq!(ssl.nodes[0].1[0].name, "SSL_CTX_set_next_proto_select_cb");
        assert_eq!(ssl.nodes[1].1[0].name, "SSL_get_verify_result");
        let crypto = &libs[1];
        assert_eq!(
            crypto.nodes.len(),
            2,
            "OPENSSL_1.0.2 is kept even without symbols"
        );
        assert!(crypto.nodes[0].1.is_empty());
        assert_eq!(crypto.nodes[1].1[0].name, "BIO_free");
        // mallctl (jemalloc, unversioned, defined nowhere) lands in a stub.
        assert_eq!(crypto.unversioned[0].name, "mallctl");
        assert_eq!(libs[2].nodes[0].1[0].name, "curl_global_init");
        let names: Vec<_> = python
            .iter()
            .map(|p| (p.name.as_str(), p.is_data))
            .collect();
        assert_eq!(
            names,
            vec![
                ("PyErr_Print", false),
                ("PyExc_TypeError", true),
                ("_Py_NoneStruct", true)
            ]
        );

        let (c, script) = render_stub_library(crypto);
        assert!(c.contains("void BIO_free(void) { uh_stub_called(\"BIO_free\"); }"));
        assert!(c.contains("void mallctl(void)"));
        let script = script.unwrap();
        assert_eq!(
            script,
            "OPENSSL_1.0.2 {\n  global:\n    mallctl;\n};\nOPENSSL_1.0.0 {\n  global:\n    BIO_free;\n  local: *;\n};\n"
        );
    }

    const OBJDUMP_INLINED: &str = "
000000000285cb30 <_ZN5mesos8internal5slave5FlagsC1Ev>:
 285cb30:\tpush   %rbp
 285cb43:\tmov    %rdi,%r14
 285cb47:\tlea    0x13b8(%rdi),%rbx
 285cb55:\tmov    %rbx,0x13a8(%rdi)
 285cb76:\tmov    0x2474ccb(%rip),%rax        # 4cd1848 <_ZTVN5flags9FlagsBaseE@@Base+0x111e50>
 285cb7d:\tmovb   $0x0,0x13b8(%rdi)
 285cbae:\tadd    $0x10,%rax
 285cbb2:\tmovl   $0x0,0x1428(%rdi)
 285cbc7:\tmov    %rax,0x1398(%rdi)
 285cbce:\tlea    0x13f8(%rdi),%rax
";

    const OBJDUMP_CALL: &str = "
00000000017a60d0 <_ZN5mesos8internal5slave5FlagsC1Ev>:
 17a60d0:\tpush   %r15
 17a60e0:\tmov    %rdi,%r13
 17a60ed:\tmov    %rax,0x240(%rsp)
 17a60f5:\tlea    0x1150(%r13),%r12
 17a60fc:\tmov    %r12,%rdi
 17a60ff:\tcall   126d650 <_ZN5flags9FlagsBaseC2Ev@plt>
 17a6104:\tlea    0x10c8(%r13),%rdi
";

    #[test]
    fn offset_from_inlined_constructor() {
        assert_eq!(flags_base_offset(OBJDUMP_INLINED), Ok(0x1398));
    }

    #[test]
    fn offset_from_constructor_call() {
        assert_eq!(flags_base_offset(OBJDUMP_CALL), Ok(0x1150));
    }

    #[test]
    fn offset_refuses_to_guess() {
        let no_adjust = OBJDUMP_INLINED.replace("add    $0x10,%rax", "nop");
        assert!(flags_base_offset(&no_adjust).unwrap_err().contains("+0x10"));
        let foreign = OBJDUMP_CALL.replace("0x1150(%r13)", "0x10(%rsp)");
        assert!(flags_base_offset(&foreign).unwrap_err().contains("%rsp"));
        assert!(flags_base_offset("000 <x>:\n 1:\tret\n").is_err());
    }

    #[test]
    fn ldd_lines() {
        let text = "\tlinux-vdso.so.1 (0x00007ffc)\n\tlibmesos.so => /b/opt/mesos/1.11.0/libmesos.so (0x00007f)\n\tlibfoo.so.1 => not found\n\t/lib64/ld-linux-x86-64.so.2 (0x00007f)\n";
        let e = parse_ldd(text);
        assert_eq!(e.len(), 3);
        assert_eq!(
            e[0].path.as_deref(),
            Some("/b/opt/mesos/1.11.0/libmesos.so")
        );
        assert_eq!(e[1].path, None);
        assert_eq!(e[2].name, "/lib64/ld-linux-x86-64.so.2");
    }

    #[test]
    fn nm_lookup() {
        let nm = "000000000285cb30 000000000000883d T _ZN5mesos8internal5slave5FlagsC1Ev\n";
        assert_eq!(
            nm_address_size(nm, "_ZN5mesos8internal5slave5FlagsC1Ev"),
            Some((0x285cb30, 0x883d))
        );
        let d = parse_nm_defined("0000000000001 T dlopen@@GLIBC_2.34\n0000 W foo\n");
        assert!(d.contains("dlopen") && d.contains("foo"));
    }
}
