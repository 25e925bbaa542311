//! `libmesos-scheduler` (`frameworks/libmesos-scheduler.cc`): a framework that drives the
//! C++ scheduler driver exported by a version's libmesos, written without Mesos headers and
//! built per Mesos version with the system compiler into the content-addressed cache, like
//! the module fixtures. Linked with a DT_RPATH of `/opt/mesos/<version>`, it runs in any
//! node image holding that version; `upgrade_schedulers` restarts it as the `to` build, which
//! fails over to the same framework ID (docs/libmesos-scheduler.md).
//!
//! Two facts it needs are read from the build's own library and checked before compiling
//! (never guessed): the size of `mesos::Offer` (the stride of the `std::vector<Offer>` of
//! offers, from the symbol `mesos::_Offer_default_instance_`), and the order of the
//! scheduler interface's virtual functions (from the vtable of the Python binding's
//! `ProxyScheduler`, which implements that interface in every build).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use object::{Object, ObjectSymbol, ObjectSymbolTable, RelocationFlags, RelocationTarget};
use sha2::{Digest, Sha256};

use crate::images::VersionBuild;

/// The program's C++ source, compiled into the harness so that the hash covers it.
pub const SOURCE: &str = include_str!("../../frameworks/libmesos-scheduler.cc");

/// The program's file name in its build folder.
pub const PROGRAM: &str = "libmesos-scheduler";

/// Bump when the way it is built changes: every build redoes.
const FORMAT: u32 = 1;

/// The callbacks of `mesos::Scheduler`, in the order of their vtable slots after the two
/// destructor slots: the order `frameworks/libmesos-scheduler.cc` declares them in.
pub const CALLBACKS: [&str; 10] = [
    "registered",
    "reregistered",
    "disconnected",
    "resourceOffers",
    "offerRescinded",
    "statusUpdate",
    "frameworkMessage",
    "slaveLost",
    "executorLost",
    "error",
];

const OFFER_INSTANCE: &str = "_ZN5mesos24_Offer_default_instance_E";
const PROXY_VTABLE: &str = "_ZTVN5mesos6python14ProxySchedulerE";

/// A built scheduler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerBuild {
    /// The Mesos version whose libmesos it links.
    pub version: String,
    /// `<cache>/frameworks/libmesos-scheduler-<version>-<hash16>/libmesos-scheduler`.
    pub program: PathBuf,
    /// Content hash of the inputs (format, source, the Mesos build's hash, the facts read).
    pub hash: String,
    /// True when the cache already had it.
    pub reused: bool,
}

/// What was read from a libmesos.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverFacts {
    /// `sizeof(mesos::Offer)`.
    pub offer_size: u64,
}

/// Why the scheduler could not be built for a version.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("building libmesos-scheduler for Mesos {version}: {what} {path}: {source}")]
    Io {
        version: String,
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("building libmesos-scheduler for Mesos {version}: {path}: {why}")]
    Library {
        version: String,
        path: PathBuf,
        why: String,
    },
    #[error("building libmesos-scheduler for Mesos {version}: `{cxx}` could not run ({detail}); install it with `apt-get install -y g++`")]
    CompilerMissing {
        version: String,
        cxx: String,
        detail: String,
    },
    #[error("building libmesos-scheduler for Mesos {version}: the compiler failed: {stderr}")]
    Compile { version: String, stderr: String },
}

/// Reads the facts the program is compiled with from the ELF file `libmesos`, and checks
/// the scheduler interface's slot order against [`CALLBACKS`].
pub fn driver_facts(libmesos: &Path) -> Result<DriverFacts, String> {
    let bytes = fs::read(libmesos).map_err(|e| format!("reading it: {e}"))?;
    let elf = object::File::parse(&*bytes).map_err(|e| format!("not an ELF file: {e}"))?;
    let mut by_name = HashMap::new();
    let mut names_at: HashMap<u64, Vec<String>> = HashMap::new();
    for sym in elf.dynamic_symbols().filter(|s| !s.is_undefined()) {
        let Ok(name) = sym.name() else { continue };
        by_name.insert(name.to_string(), (sym.address(), sym.size()));
        names_at
            .entry(sym.address())
            .or_default()
            .push(name.to_string());
    }
    let offer_size = match by_name.get(OFFER_INSTANCE) {
        Some(&(_, size)) if size > 0 && size % 8 == 0 => size,
        Some(&(_, size)) => return Err(format!("{OFFER_INSTANCE} has an unlikely size {size}")),
        None => return Err(format!("it exports no {OFFER_INSTANCE}")),
    };
    let &(vtable, size) = by_name
        .get(PROXY_VTABLE)
        .ok_or_else(|| format!("it exports no {PROXY_VTABLE} to read the interface from"))?;
    // offset-to-top, typeinfo, then the slots.
    let slots = (size / 8).saturating_sub(2);
    if slots != 2 + CALLBACKS.len() as u64 {
        return Err(format!(
            "ProxyScheduler's vtable has {slots} slots; the scheduler interface this program declares has {}",
            2 + CALLBACKS.len()
        ));
    }
    // What each slot points at: an address in the library (`R_X86_64_RELATIVE`, most builds)
    // or a symbol by name (`R_X86_64_64`, 1.6.1's openSUSE build).
    let mut slot_names: HashMap<u64, Vec<String>> = HashMap::new();
    for (at, r) in elf.dynamic_relocations().into_iter().flatten() {
        if at < vtable + 16 || at >= vtable + size {
            continue;
        }
        let RelocationFlags::Elf { r_type } = r.flags() else {
            continue;
        };
        let names = match (r_type, r.target()) {
            (object::elf::R_X86_64_RELATIVE, _) => names_at
                .get(&(r.addend() as u64))
                .cloned()
                .unwrap_or_default(),
            (object::elf::R_X86_64_64, RelocationTarget::Symbol(index)) => elf
                .dynamic_symbol_table()
                .and_then(|t| t.symbol_by_index(index).ok())
                .and_then(|s| s.name().ok().map(|n| vec![n.to_string()]))
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        slot_names.insert(at, names);
    }
    for (i, callback) in CALLBACKS.iter().enumerate() {
        let at = vtable + 16 + 8 * (2 + i as u64);
        let wanted = format!("14ProxyScheduler{}{callback}E", callback.len());
        let names = slot_names.get(&at).filter(|n| !n.is_empty());
        if !names.is_some_and(|n| n.iter().any(|n| n.contains(&wanted))) {
            return Err(format!(
                "slot {} of the scheduler interface is not `{callback}` (found {})",
                2 + i,
                names.map_or("no exported function".to_string(), |n| n.join(", "))
            ));
        }
    }
    Ok(DriverFacts { offer_size })
}

fn input_hash(build: &VersionBuild, facts: &DriverFacts) -> String {
    let mut h = Sha256::new();
    h.update(format!("libmesos-scheduler {FORMAT}\n"));
    h.update(format!("mesos {} build {}\n", build.version, build.hash));
    h.update(format!("offer size {}\n", facts.offer_size));
    h.update(SOURCE.as_bytes());
    hex::encode(h.finalize())
}

/// Builds (or reuses) the scheduler for the Mesos `build` under `<cache_dir>/frameworks`,
/// with the C++ compiler `cxx`. Written atomically: a temp directory renamed into place.
pub fn build_scheduler(
    build: &VersionBuild,
    cache_dir: &Path,
    cxx: &str,
) -> Result<SchedulerBuild, BuildError> {
    let version = build.version.clone();
    let opt = build
        .rootfs
        .join(build.launcher_dir_in_image.trim_start_matches('/'));
    let libmesos = opt.join("libmesos.so");
    let facts = driver_facts(&libmesos).map_err(|why| BuildError::Library {
        version: version.clone(),
        path: libmesos.clone(),
        why,
    })?;
    let hash = input_hash(build, &facts);
    let root = cache_dir.join("frameworks");
    let dir = root.join(format!("{PROGRAM}-{version}-{}", &hash[..16]));
    let result = |reused| SchedulerBuild {
        version: version.clone(),
        program: dir.join(PROGRAM),
        hash: hash.clone(),
        reused,
    };
    if dir.join(PROGRAM).is_file() {
        return Ok(result(true));
    }
    let io = |what: &'static str, path: &Path| {
        let (version, path) = (version.clone(), path.to_path_buf());
        move |source| BuildError::Io {
            version,
            what,
            path,
            source,
        }
    };
    let tmp = root.join(format!(
        ".tmp-{PROGRAM}-{version}-{}-{}",
        &hash[..16],
        std::process::id()
    ));
    fs::create_dir_all(&tmp).map_err(io("creating", &tmp))?;
    let src = tmp.join("libmesos-scheduler.cc");
    fs::write(&src, SOURCE).map_err(io("writing", &src))?;
    // The launcher's Python C API shim: libmesos (a Python extension) imports it.
    let shims = build.dir.join("work/python-shims.o");
    let out = Command::new(cxx)
        .args(["-std=c++17", "-O2", "-Wall", "-o"])
        .arg(tmp.join(PROGRAM))
        .arg(format!("-DMESOS_VERSION_STRING=\"{version}\""))
        .arg(format!("-DOFFER_SIZE={}", facts.offer_size))
        .arg(&src)
        .arg(&shims)
        .arg("-rdynamic")
        .arg(format!("-L{}", opt.display()))
        .arg("-l:libmesos.so")
        .arg(format!(
            "-Wl,--disable-new-dtags,-rpath,{}",
            build.launcher_dir_in_image
        ))
        .arg(format!("-Wl,-rpath-link,{}", opt.display()))
        .args(["-lpthread", "-ldl"])
        .output()
        .map_err(|e| {
            let _ = fs::remove_dir_all(&tmp);
            BuildError::CompilerMissing {
                version: version.clone(),
                cxx: cxx.to_string(),
                detail: e.to_string(),
            }
        })?;
    if !out.status.success() {
        let _ = fs::remove_dir_all(&tmp);
        return Err(BuildError::Compile {
            version: version.clone(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    if let Err(e) = fs::rename(&tmp, &dir) {
        // Someone else finished the same build first: theirs is as good.
        let _ = fs::remove_dir_all(&tmp);
        if !dir.join(PROGRAM).is_file() {
            return Err(io("renaming", &tmp)(e));
        }
    }
    Ok(result(false))
}

#[cfg(test)]
#[path = "libmesos_scheduler_live_tests.rs"]
mod live_tests;
