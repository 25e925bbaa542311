//! Assembling one version's build directory (see docs/images.md).

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use sha2::{Digest, Sha256};

use super::elf;
use super::error::{tail, ImagesError};
use super::fetch::fetch_tarball;
use super::versions::{self, LibrarySource, VersionInfo};

/// Bump when the build's logic or layout changes: every version rebuilds.
pub const BUILD_FORMAT_VERSION: u32 = 2;

/// The launcher's source, compiled into this crate so that a build depends
/// only on the harness binary and the hash covers it.
const LAUNCHER_SOURCE: &str = include_str!("../../launcher/mesos-launcher.cc");

/// Where the system closure goes inside the rootfs (Debian's multiarch
/// directory, a default search path of the loader).
const SYSTEM_LIB_DIR: &str = "lib/x86_64-linux-gnu";

/// How to build.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Downloads go to `<cache_dir>/downloads`, builds to `<cache_dir>/builds`.
    pub cache_dir: PathBuf,
    /// Python interpreter with pip (finds and downloads the tarballs).
    pub python: String,
    /// C++ compiler for the launcher.
    pub cxx: String,
    /// C compiler for the stub libraries.
    pub cc: String,
    /// Where the Debian libraries are installed.
    pub library_dir: PathBuf,
}

impl Default for BuildOptions {
    /// Cache in `$UPGRADE_HARNESS_CACHE`, else `$HOME/.cache/upgrade-harness`.
    fn default() -> Self {
        let cache_dir = std::env::var_os("UPGRADE_HARNESS_CACHE")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/upgrade-harness"))
            })
            .unwrap_or_else(|| PathBuf::from(".upgrade-harness-cache"));
        BuildOptions {
            cache_dir,
            python: "python3".into(),
            cxx: "g++".into(),
            cc: "gcc".into(),
            library_dir: PathBuf::from("/usr/lib/x86_64-linux-gnu"),
        }
    }
}

impl BuildOptions {
    pub fn with_cache_dir(cache_dir: impl Into<PathBuf>) -> Self {
        BuildOptions {
            cache_dir: cache_dir.into(),
            ..Default::default()
        }
    }
}

/// A finished build of one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionBuild {
    pub version: String,
    /// `<cache>/builds/<version>-<hash>`: holds `rootfs/`, `build.json` and
    /// the generated sources under `work/`.
    pub dir: PathBuf,
    /// A directory to copy into an image root: everything the launcher needs
    /// at run time, at the absolute paths it has in the image.
    pub rootfs: PathBuf,
    /// `/opt/mesos/<version>/mesos-launcher`.
    pub launcher_path_in_image: String,
    /// `/opt/mesos/<version>`: give this as the agent's `MESOS_LAUNCHER_DIR`.
    pub launcher_dir_in_image: String,
    /// Content hash of the build inputs (format version, tarball, launcher).
    pub hash: String,
    /// True when an existing build was reused.
    pub reused: bool,
}

/// The build of `version` already in the cache of `opts`, without building anything: for
/// tests that run the cached builds and must stay cheap.
#[cfg(test)]
pub(crate) fn cached_build(version: &str, opts: &BuildOptions) -> Option<VersionBuild> {
    let hash = input_hash(versions::lookup(version)?);
    let dir = opts
        .cache_dir
        .join("builds")
        .join(format!("{version}-{}", &hash[..16]));
    if dir.join("build.json").is_file() {
        build_version(version, opts).ok()
    } else {
        None
    }
}

fn input_hash(info: &VersionInfo) -> String {
    let mut h = Sha256::new();
    h.update(format!("format {BUILD_FORMAT_VERSION}\n"));
    h.update(format!("version {}\n", info.version));
    h.update(format!("tarball {}\n", info.sha256));
    h.update(format!("agent-abi {}\n", info.agent_abi.macro_value()));
    h.update(format!(
        "master-ha-abi {}\n",
        versions::master_ha_abi(info.version)
    ));
    h.update(b"launcher\n");
    h.update(LAUNCHER_SOURCE.as_bytes());
    hex::encode(h.finalize())
}

/// Builds (or reuses) the build directory of `version`.
pub fn build_version(version: &str, opts: &BuildOptions) -> Result<VersionBuild, ImagesError> {
    let info = versions::lookup(version).ok_or_else(|| ImagesError::UnknownVersion {
        version: version.to_string(),
        known: versions::known_versions().join(", "),
    })?;
    let hash = input_hash(info);
    let builds = opts.cache_dir.join("builds");
    let dir = builds.join(format!("{version}-{}", &hash[..16]));
    let result = |reused| VersionBuild {
        version: version.to_string(),
        dir: dir.clone(),
        rootfs: dir.join("rootfs"),
        launcher_path_in_image: format!("/opt/mesos/{version}/mesos-launcher"),
        launcher_dir_in_image: format!("/opt/mesos/{version}"),
        hash: hash.clone(),
        reused,
    };
    if dir.join("build.json").is_file() {
        return Ok(result(true));
    }

    let tarball = fetch_tarball(version, opts)?;
    fs::create_dir_all(&builds).map_err(ImagesError::io("creating", &builds))?;
    let tmp = builds.join(format!(
        ".tmp-{version}-{}-{}",
        &hash[..16],
        std::process::id()
    ));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(ImagesError::io("removing", &tmp))?;
    }
    let started = Instant::now();
    if let Err(e) = Assembler::new(info, opts, &tmp, &hash).run(&tarball, started) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if let Err(e) = fs::rename(&tmp, &dir) {
        // Someone else finished the same build first: theirs is as good.
        let _ = fs::remove_dir_all(&tmp);
        if !dir.join("build.json").is_file() {
            return Err(ImagesError::io("renaming", &tmp)(e));
        }
    }
    Ok(result(false))
}

/// Removes build directories of known versions whose inputs no longer match
/// (an older launcher or build format), and temp directories left by
/// interrupted builds. Returns what was removed. Downloads are kept.
pub fn prune_builds(opts: &BuildOptions) -> Result<Vec<PathBuf>, ImagesError> {
    let builds = opts.cache_dir.join("builds");
    let Ok(entries) = fs::read_dir(&builds) else {
        return Ok(Vec::new());
    };
    let current: HashSet<String> = versions::VERSIONS
        .iter()
        .map(|v| format!("{}-{}", v.version, &input_hash(v)[..16]))
        .collect();
    let mut removed = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let stale_tmp = name.starts_with(".tmp-")
            && name
                .rsplit('-')
                .next()
                .and_then(|pid| pid.parse::<u32>().ok())
                .is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists());
        let known_version = versions::VERSIONS
            .iter()
            .any(|v| name.starts_with(&format!("{}-", v.version)));
        let stale_build = known_version && !name.starts_with('.') && !current.contains(&name);
        if stale_tmp || stale_build {
            let path = entry.path();
            fs::remove_dir_all(&path).map_err(ImagesError::io("removing", &path))?;
            removed.push(path);
        }
    }
    removed.sort();
    Ok(removed)
}

struct Assembler<'a> {
    info: &'a VersionInfo,
    opts: &'a BuildOptions,
    tmp: PathBuf,
    work: PathBuf,
    rootfs: PathBuf,
    opt: PathBuf,
    hash: &'a str,
}

impl<'a> Assembler<'a> {
    fn new(info: &'a VersionInfo, opts: &'a BuildOptions, tmp: &Path, hash: &'a str) -> Self {
        let rootfs = tmp.join("rootfs");
        Assembler {
            info,
            opts,
            tmp: tmp.to_path_buf(),
            work: tmp.join("work"),
            opt: rootfs.join("opt/mesos").join(info.version),
            rootfs,
            hash,
        }
    }

    fn version(&self) -> &str {
        self.info.version
    }

    /// Runs a tool; a missing tool and a failure become one-line errors.
    /// The offset of the virtual `FlagsBase` base inside `<namespace>::Flags` (`slave` or
    /// `master`), from the disassembly of its constructor (kept in the work folder).
    fn flags_base_offset(
        &self,
        nm_sizes: &str,
        libmesos: &Path,
        namespace: &str,
    ) -> Result<u64, ImagesError> {
        let ctor = format!("_ZN5mesos8internal{}{namespace}5FlagsC1Ev", namespace.len());
        let fail = |detail: String| ImagesError::FlagsOffset {
            version: self.version().into(),
            detail: format!("{namespace}::Flags: {detail}"),
        };
        let (addr, size) = elf::nm_address_size(nm_sizes, &ctor)
            .ok_or_else(|| fail(format!("{ctor} is not exported")))?;
        let disassembly = self.tool(
            Command::new("objdump")
                .args(["-d", "--no-show-raw-insn"])
                .arg(format!("--start-address=0x{addr:x}"))
                .arg(format!("--stop-address=0x{:x}", addr + size.min(0x4000)))
                .arg(libmesos),
            "binutils",
        )?;
        self.write(
            &self.work.join(format!("{namespace}-flags-ctor.objdump")),
            &disassembly,
        )?;
        elf::flags_base_offset(&disassembly).map_err(fail)
    }

    fn tool(&self, cmd: &mut Command, package: &str) -> Result<String, ImagesError> {
        let out = run_tool(self.version(), cmd, package)?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn mkdir(&self, p: &Path) -> Result<(), ImagesError> {
        fs::create_dir_all(p).map_err(ImagesError::io("creating", p))
    }

    fn write(&self, p: &Path, text: &str) -> Result<(), ImagesError> {
        fs::write(p, text).map_err(ImagesError::io("writing", p))
    }

    fn copy(&self, from: &Path, to: &Path) -> Result<(), ImagesError> {
        if let Some(parent) = to.parent() {
            self.mkdir(parent)?;
        }
        fs::copy(from, to).map_err(ImagesError::io("copying", from))?;
        Ok(())
    }

    fn run(&self, tarball: &Path, started: Instant) -> Result<(), ImagesError> {
        let _ = (&self.tmp, self.hash);
        self.mkdir(&self.work)?;
        self.mkdir(&self.opt)?;

        // 1. libmesos: the extension module, stripped of its static symbols.
        let scheduler_so = self.work.join("_scheduler.so");
        self.extract_so(tarball, &scheduler_so)?;
        let libmesos = self.opt.join("libmesos.so");
        self.tool(
            Command::new("strip")
                .arg("--strip-unneeded")
                .arg("-o")
                .arg(&libmesos)
                .arg(&scheduler_so),
            "binutils",
        )?;
        fs::remove_file(&scheduler_so).map_err(ImagesError::io("removing", &scheduler_so))?;

        // 2. What it needs.
        let needed = elf::parse_needed(
            &self.tool(Command::new("readelf").arg("-d").arg(&libmesos), "binutils")?,
        );
        let version_needs = elf::parse_version_needs(&self.tool(
            Command::new("readelf").args(["-V", "-W"]).arg(&libmesos),
            "binutils",
        )?);
        let syms = elf::parse_dyn_syms(
            &self.tool(
                Command::new("readelf")
                    .args(["--dyn-syms", "-W"])
                    .arg(&libmesos),
                "binutils",
            )?,
        );
        let exported: HashSet<String> = syms
            .iter()
            .filter(|s| !s.undefined)
            .map(|s| s.name.clone())
            .collect();

        let mut stub_sonames = Vec::new();
        let mut real_libraries = Vec::new(); // host paths of real NEEDED libraries
        let mut debian = Vec::new(); // (asked soname, host file, package)
        for soname in &needed {
            match versions::library_source(soname) {
                None => {
                    return Err(ImagesError::UnknownLibrary {
                        version: self.version().into(),
                        soname: soname.clone(),
                    })
                }
                Some(LibrarySource::Stub) => stub_sonames.push(soname.clone()),
                Some(LibrarySource::System) => {
                    let path = self.opts.library_dir.join(soname);
                    if !path.exists() {
                        return Err(ImagesError::LibraryMissing {
                            version: self.version().into(),
                            file: soname.clone(),
                            dir: self.opts.library_dir.clone(),
                            package: system_package(soname).into(),
                        });
                    }
                    real_libraries.push(path);
                }
                Some(LibrarySource::Debian { file, package }) => {
                    let path = self.opts.library_dir.join(file);
                    if !path.exists() {
                        return Err(ImagesError::LibraryMissing {
                            version: self.version().into(),
                            file: file.into(),
                            dir: self.opts.library_dir.clone(),
                            package: package.into(),
                        });
                    }
                    self.copy(&path, &self.opt.join(soname))?;
                    real_libraries.push(path);
                    debian.push((soname.clone(), file.to_string(), package.to_string()));
                }
            }
        }
        let mut defined_by_real = HashSet::new();
        for lib in &real_libraries {
            let nm = self.tool(
                Command::new("nm").args(["-D", "--defined-only"]).arg(lib),
                "binutils",
            )?;
            defined_by_real.extend(elf::parse_nm_defined(&nm));
        }

        // 3. Stub libraries and the Python C API shim.
        let (stubs, python) =
            elf::plan_stubs(&stub_sonames, &version_needs, &syms, &defined_by_real);
        let mut stub_report = Vec::new();
        for stub in &stubs {
            let (c, script) = elf::render_stub_library(stub);
            let c_path = self.work.join(format!("stub-{}.c", stub.soname));
            self.write(&c_path, &c)?;
            let mut cmd = Command::new(&self.opts.cc);
            cmd.args(["-shared", "-fPIC", "-O1", "-o"])
                .arg(self.opt.join(&stub.soname))
                .arg(&c_path)
                .arg(format!("-Wl,-soname,{}", stub.soname));
            if let Some(script) = script {
                let map = self.work.join(format!("stub-{}.map", stub.soname));
                self.write(&map, &script)?;
                cmd.arg(format!("-Wl,--version-script={}", map.display()));
            }
            self.tool(&mut cmd, "gcc")?;
            let functions = stub
                .nodes
                .iter()
                .flat_map(|(_, s)| s.iter())
                .chain(&stub.unversioned)
                .count();
            stub_report.push(serde_json::json!({
                "soname": stub.soname,
                "version_nodes": stub.nodes.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
                "symbols": functions,
            }));
        }
        let shim_c = self.work.join("python-shims.c");
        let shim_refs: Vec<&elf::StubSymbol> = python.iter().collect();
        self.write(&shim_c, &elf::render_stub_c("the Python C API", &shim_refs))?;
        let shim_o = self.work.join("python-shims.o");
        self.tool(
            Command::new(&self.opts.cc)
                .args(["-c", "-fPIC", "-O1", "-o"])
                .arg(&shim_o)
                .arg(&shim_c),
            "gcc",
        )?;

        // 4. The FlagsBase offset inside slave::Flags, from the disassembly.
        let nm_sizes = self.tool(
            Command::new("nm")
                .args(["-D", "-S", "--defined-only"])
                .arg(&libmesos),
            "binutils",
        )?;
        let offset = self.flags_base_offset(&nm_sizes, &libmesos, "slave")?;
        // The same for master::Flags, for versions with the HA master mode.
        let ha_abi = versions::master_ha_abi(self.version());
        let master_offset = if ha_abi == 0 {
            0
        } else {
            self.flags_base_offset(&nm_sizes, &libmesos, "master")?
        };
        let ha_versions = versions::HA_MASTER_VERSIONS
            .iter()
            .map(|(v, _)| *v)
            .collect::<Vec<_>>()
            .join(", ");
        let vtable_slots = elf::nm_address_size(&nm_sizes, "_ZTVN5flags9FlagsBaseE")
            .map(|(_, size)| size / 8)
            .unwrap_or(0)
            .saturating_sub(2);

        // 5. The launcher: compile, check its Mesos imports, link, self-check.
        let src = self.work.join("mesos-launcher.cc");
        self.write(&src, LAUNCHER_SOURCE)?;
        let obj = self.work.join("mesos-launcher.o");
        let abi = self.info.agent_abi.macro_value();
        self.tool(
            Command::new(&self.opts.cxx)
                .args(["-std=c++17", "-O2", "-fPIC", "-Wall", "-c", "-o"])
                .arg(&obj)
                .arg(format!("-DMESOS_VERSION_STRING=\"{}\"", self.version()))
                .arg(format!("-DMESOS_AGENT_ABI={abi}"))
                .arg(format!("-DMESOS_SLAVE_FLAGSBASE_OFFSET=0x{offset:x}"))
                .arg(format!("-DMESOS_MASTER_HA_ABI={ha_abi}"))
                .arg(format!(
                    "-DMESOS_MASTER_FLAGSBASE_OFFSET=0x{master_offset:x}"
                ))
                .arg(format!("-DMESOS_MASTER_HA_VERSIONS=\"{ha_versions}\""))
                .arg(&src),
            "g++",
        )?;
        let undefined = self.tool(Command::new("nm").args(["-u"]).arg(&obj), "binutils")?;
        let missing: Vec<String> = undefined
            .lines()
            .filter_map(|l| l.split_whitespace().last())
            .filter(|s| {
                s.starts_with("_ZN5mesos")
                    || s.starts_with("_ZN7process")
                    || s.starts_with("_ZN5flags")
            })
            .filter(|s| !exported.contains(*s))
            .map(str::to_string)
            .collect();
        if !missing.is_empty() {
            let demangled = self
                .tool(Command::new("c++filt").args(&missing), "binutils")
                .unwrap_or_else(|_| missing.join("\n"));
            return Err(ImagesError::MissingMesosSymbols {
                version: self.version().into(),
                abi,
                missing: missing.len(),
                symbols: demangled.lines().collect::<Vec<_>>().join("; "),
            });
        }
        let launcher = self.opt.join("mesos-launcher");
        self.tool(
            Command::new(&self.opts.cxx)
                .arg("-o")
                .arg(&launcher)
                .arg(&obj)
                .arg(&shim_o)
                .arg("-rdynamic")
                .arg(format!("-L{}", self.opt.display()))
                .arg("-l:libmesos.so")
                .arg("-Wl,--disable-new-dtags,-rpath,$ORIGIN")
                .arg(format!("-Wl,-rpath-link,{}", self.opt.display()))
                .args(["-lpthread", "-ldl"]),
            "g++",
        )?;
        let check = Command::new(&launcher)
            .arg("selfcheck")
            .env_clear()
            .env("LD_BIND_NOW", "1")
            .env(
                "MESOS_LAUNCHER_FLAGSBASE_VTABLE_SLOTS",
                vtable_slots.to_string(),
            )
            .output()
            .map_err(ImagesError::io("running", &launcher))?;
        let check_text = format!(
            "{}{}",
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        );
        self.write(&self.work.join("selfcheck.txt"), &check_text)?;
        if !check.status.success() || !check_text.contains("selfcheck ok") {
            return Err(ImagesError::SelfCheck {
                version: self.version().into(),
                output_tail: tail(&check_text, 1200),
            });
        }

        // 6. What else the agent and modules look for beside the launcher.
        self.write(
            &self.opt.join("mesos-executor"),
            "# Placeholder: Mesos 1.4.x agents need a file named mesos-executor in\n\
             # their launcher_dir (docs/images.md). Command tasks are not supported.\n",
        )?;
        set_mode(&self.opt.join("mesos-executor"), 0o755)?;
        let alias = self.opt.join(format!("libmesos-{}.so", self.version()));
        std::os::unix::fs::symlink("libmesos.so", &alias)
            .map_err(ImagesError::io("linking", &alias))?;

        // 7. The system closure of the launcher, at its absolute paths.
        let ldd = self.tool(Command::new("ldd").arg(&launcher).env_clear(), "libc-bin")?;
        let mut closure = Vec::new();
        for entry in elf::parse_ldd(&ldd) {
            let Some(path) = entry.path else {
                return Err(ImagesError::Tool {
                    version: self.version().into(),
                    command: format!("ldd {}", launcher.display()),
                    stderr_tail: format!("{} not found", entry.name),
                });
            };
            if Path::new(&path).starts_with(&self.opt) {
                continue;
            }
            let target = if entry.name.starts_with('/') {
                self.rootfs.join(entry.name.trim_start_matches('/'))
            } else {
                self.rootfs.join(SYSTEM_LIB_DIR).join(&entry.name)
            };
            self.copy(Path::new(&path), &target)?;
            closure.push(
                target
                    .strip_prefix(&self.rootfs)
                    .unwrap_or(&target)
                    .display()
                    .to_string(),
            );
        }

        // 8. The minimal rest of a root filesystem.
        self.write_etc()?;
        for d in ["tmp", "var/lib/mesos", "var/run/mesos"] {
            self.mkdir(&self.rootfs.join(d))?;
        }
        normalize_tree(&self.rootfs, &self.rootfs)?;

        let bytes = dir_size(&self.rootfs);
        let metadata = serde_json::json!({
            "version": self.version(),
            "format": BUILD_FORMAT_VERSION,
            "hash": self.hash,
            "tarball_sha256": self.info.sha256,
            "agent_abi": abi,
            "slave_flags_flagsbase_offset": format!("0x{offset:x}"),
            "flagsbase_vtable_slots": vtable_slots,
            "master_ha_abi": ha_abi,
            "master_flags_flagsbase_offset": format!("0x{master_offset:x}"),
            "needed": needed,
            "stubs": stub_report,
            "python_symbols": python.len(),
            "debian_libraries": debian.iter().map(|(asked, file, package)| serde_json::json!({
                "soname": asked, "file": file, "package": package })).collect::<Vec<_>>(),
            "system_closure": closure,
            "launcher": format!("/opt/mesos/{}/mesos-launcher", self.version()),
            "rootfs_bytes": bytes,
            "build_seconds": started.elapsed().as_secs_f64(),
            "selfcheck": check_text.lines().collect::<Vec<_>>(),
        });
        let text = serde_json::to_string_pretty(&metadata).unwrap_or_default();
        self.write(&self.tmp.join("build.json"), &text)
    }

    fn extract_so(&self, tarball: &Path, to: &Path) -> Result<(), ImagesError> {
        let file = fs::File::open(tarball).map_err(ImagesError::io("opening", tarball))?;
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
        let entries = archive
            .entries()
            .map_err(ImagesError::io("reading", tarball))?;
        for entry in entries {
            let mut entry = entry.map_err(ImagesError::io("reading", tarball))?;
            let path = entry
                .path()
                .map_err(ImagesError::io("reading", tarball))?
                .into_owned();
            let normalized = path.to_string_lossy().trim_start_matches("./").to_string();
            if normalized == self.info.so_path {
                let mut out = fs::File::create(to).map_err(ImagesError::io("creating", to))?;
                std::io::copy(&mut entry, &mut out).map_err(ImagesError::io("extracting", to))?;
                return Ok(());
            }
        }
        Err(ImagesError::SoNotInTarball {
            version: self.version().into(),
            path: self.info.so_path.into(),
        })
    }

    fn write_etc(&self) -> Result<(), ImagesError> {
        let etc = self.rootfs.join("etc");
        self.mkdir(&etc)?;
        self.write(&etc.join("passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")?;
        self.write(&etc.join("group"), "root:x:0:\nnogroup:x:65534:\n")?;
        self.write(
            &etc.join("hosts"),
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
        )?;
        self.write(
            &etc.join("nsswitch.conf"),
            "passwd: files\ngroup: files\nhosts: files dns\n",
        )
    }
}

fn system_package(soname: &str) -> &'static str {
    match soname {
        "libstdc++.so.6" => "libstdc++6",
        "libgcc_s.so.1" => "libgcc-s1",
        "libz.so.1" => "zlib1g",
        _ => "libc6",
    }
}

/// Fixed modes and mtimes, so that equal inputs give equal image layers
/// (mtime `SOURCE_DATE_EPOCH`, default 0; symlinks keep theirs).
pub(super) fn normalize_tree(root: &Path, path: &Path) -> Result<(), ImagesError> {
    let meta = fs::symlink_metadata(path).map_err(ImagesError::io("inspecting", path))?;
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    let relative = path.strip_prefix(root).unwrap_or(path);
    let mode = if meta.is_dir() {
        if relative == Path::new("tmp") {
            0o1777
        } else {
            0o755
        }
    } else if relative.starts_with("etc") {
        0o644
    } else {
        0o755 // libraries, the loader, the launcher, the mesos-executor marker
    };
    if meta.is_dir() {
        let mut children: Vec<PathBuf> = fs::read_dir(path)
            .map_err(ImagesError::io("listing", path))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        children.sort();
        for child in children {
            normalize_tree(root, &child)?;
        }
    }
    set_mode(path, mode)?;
    let epoch = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0);
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(epoch);
    let file = fs::File::open(path).map_err(ImagesError::io("opening", path))?;
    file.set_times(fs::FileTimes::new().set_modified(time).set_accessed(time))
        .map_err(ImagesError::io("setting the mtime of", path))
}

fn set_mode(path: &Path, mode: u32) -> Result<(), ImagesError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(ImagesError::io("setting permissions of", path))
}

pub(super) fn dir_size(path: &Path) -> u64 {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return 0;
    };
    if meta.is_dir() {
        fs::read_dir(path)
            .map(|rd| rd.filter_map(Result::ok).map(|e| dir_size(&e.path())).sum())
            .unwrap_or(0)
    } else {
        meta.len()
    }
}

/// Runs a tool for the build of `what` (a version, or "ZooKeeper"); a missing tool becomes
/// one sentence naming the Debian package, a failure the command and its output's tail.
pub(super) fn run_tool(
    what: &str,
    cmd: &mut Command,
    package: &str,
) -> Result<std::process::Output, ImagesError> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let shown = std::iter::once(program.clone())
        .chain(cmd.get_args().map(|a| a.to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ");
    let out = cmd.output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            ImagesError::ToolMissing {
                tool: program.clone(),
                package: package.to_string(),
                detail: e.to_string(),
            }
        } else {
            ImagesError::Tool {
                version: what.into(),
                command: tail(&shown, 300),
                stderr_tail: e.to_string(),
            }
        }
    })?;
    if !out.status.success() {
        let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
        if text.trim().is_empty() {
            text = String::from_utf8_lossy(&out.stdout).into_owned();
        }
        return Err(ImagesError::Tool {
            version: what.into(),
            command: tail(&shown, 300),
            stderr_tail: tail(&format!("{} ({})", text, out.status), 800),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::test_skip;

    #[test]
    fn hash_depends_on_inputs() {
        let a = input_hash(versions::lookup("1.11.0").unwrap());
        let b = input_hash(versions::lookup("1.4.3").unwrap());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(a, input_hash(versions::lookup("1.11.0").unwrap()));
    }

    #[test]
    fn unknown_version_names_the_known_ones() {
        let opts = BuildOptions::with_cache_dir(tempfile::tempdir().unwrap().path());
        let msg = build_version("1.2.3", &opts).unwrap_err().to_string();
        assert!(
            msg.contains("1.4.3, 1.5.2") && msg.contains("1.11.0"),
            "{msg}"
        );
    }

    #[test]
    fn missing_pip_says_what_to_install() {
        let cache = tempfile::tempdir().unwrap();
        let opts = BuildOptions {
            python: "/nonexistent/python3".into(),
            ..BuildOptions::with_cache_dir(cache.path())
        };
        let err = build_version("1.11.0", &opts).unwrap_err();
        assert!(matches!(err, ImagesError::PipMissing { .. }), "{err}");
        assert!(err.to_string().contains("apt-get install -y python3-pip"));
    }

    /// A scratch cache holding the already downloaded tarball of `version` (`.ci/run`
    /// downloads every version before the tests), or None after reporting the skip.
    fn scratch_cache_with(version: &str) -> Option<tempfile::TempDir> {
        let cache = BuildOptions::default().cache_dir;
        let cached = cache.join(format!(
            "downloads/mesos.scheduler-{version}.linux-x86_64.tar.gz"
        ));
        if !cached.is_file() {
            test_skip::skip(&format!(
                "no downloaded tarball of Mesos {version} in {}: `upgrade-harness images build {version}` downloads it",
                cache.display()
            ));
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("downloads")).unwrap();
        fs::copy(
            &cached,
            dir.path()
                .join("downloads")
                .join(cached.file_name().unwrap()),
        )
        .unwrap();
        Some(dir)
    }

    /// Runs the real build of 1.4.3 (from the downloaded tarball) up to the missing library.
    #[test]
    fn missing_debian_library_names_the_package() {
        let Some(cache) = scratch_cache_with("1.4.3") else {
            return;
        };
        let empty = tempfile::tempdir().unwrap();
        let opts = BuildOptions {
            library_dir: empty.path().to_path_buf(),
            ..BuildOptions::with_cache_dir(cache.path())
        };
        let msg = build_version("1.4.3", &opts).unwrap_err().to_string();
        assert!(msg.contains("apt-get install -y"), "{msg}");
        assert!(
            !cache
                .path()
                .join("builds")
                .read_dir()
                .unwrap()
                .any(|_| true),
            "a failed build leaves nothing"
        );
    }

    /// Runs the real build of 1.4.3 (from the downloaded tarball) up to the missing compiler.
    #[test]
    fn missing_compiler_says_what_to_install() {
        let Some(cache) = scratch_cache_with("1.4.3") else {
            return;
        };
        let opts = BuildOptions {
            cc: "/nonexistent/gcc".into(),
            ..BuildOptions::with_cache_dir(cache.path())
        };
        let err = build_version("1.4.3", &opts).unwrap_err();
        assert!(matches!(err, ImagesError::ToolMissing { .. }), "{err}");
        assert!(err.to_string().contains("apt-get install -y gcc"), "{err}");
    }

    /// Builds 1.11.0 for real from its downloaded tarball in a scratch cache (g++, Debian
    /// libraries, the launcher's self-check; no network), then finds it again.
    #[test]
    fn builds_1_11_0_for_real() {
        let Some(cache) = scratch_cache_with("1.11.0") else {
            return;
        };
        let opts = BuildOptions::with_cache_dir(cache.path());
        let build = build_version("1.11.0", &opts).unwrap();
        assert!(!build.reused);
        let launcher = build
            .rootfs
            .join(build.launcher_path_in_image.trim_start_matches('/'));
        assert!(launcher.is_file(), "{}", launcher.display());
        assert!(build.rootfs.join("lib64/ld-linux-x86-64.so.2").is_file());
        let again = build_version("1.11.0", &opts).unwrap();
        assert!(again.reused);
        assert_eq!(again.dir, build.dir);
    }
}
