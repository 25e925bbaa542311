//! The steps that fill one version's build directory: libmesos and what it needs, the stub
//! libraries, the launcher (`launcher.rs`), its system closure, and the rest of a rootfs.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use super::cache::{BuildOptions, BUILD_FORMAT_VERSION};
use super::launcher::Launcher;
use super::rootfs::{dir_size, normalize_tree, set_mode};
use super::tool::run_tool;
use crate::images::elf;
use crate::images::error::ImagesError;
use crate::images::versions::{self, LibrarySource, VersionInfo};

/// Where the system closure goes inside the rootfs (Debian's multiarch
/// directory, a default search path of the loader).
const SYSTEM_LIB_DIR: &str = "lib/x86_64-linux-gnu";

pub(super) struct Assembler<'a> {
    pub(super) info: &'a VersionInfo,
    pub(super) opts: &'a BuildOptions,
    tmp: PathBuf,
    pub(super) work: PathBuf,
    rootfs: PathBuf,
    pub(super) opt: PathBuf,
    hash: &'a str,
}

impl<'a> Assembler<'a> {
    pub(super) fn new(
        info: &'a VersionInfo,
        opts: &'a BuildOptions,
        tmp: &Path,
        hash: &'a str,
    ) -> Self {
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

    pub(super) fn version(&self) -> &str {
        self.info.version
    }

    /// Runs a tool; a missing tool and a failure become one-line errors.
    pub(super) fn tool(&self, cmd: &mut Command, package: &str) -> Result<String, ImagesError> {
        let out = run_tool(self.version(), cmd, package)?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn mkdir(&self, p: &Path) -> Result<(), ImagesError> {
        fs::create_dir_all(p).map_err(ImagesError::io("creating", p))
    }

    pub(super) fn write(&self, p: &Path, text: &str) -> Result<(), ImagesError> {
        fs::write(p, text).map_err(ImagesError::io("writing", p))
    }

    fn copy(&self, from: &Path, to: &Path) -> Result<(), ImagesError> {
        if let Some(parent) = to.parent() {
            self.mkdir(parent)?;
        }
        fs::copy(from, to).map_err(ImagesError::io("copying", from))?;
        Ok(())
    }

    pub(super) fn run(&self, tarball: &Path, started: Instant) -> Result<(), ImagesError> {
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

        // 4.-5. The FlagsBase offsets and the launcher (`launcher.rs`).
        let Launcher {
            path: launcher,
            agent_abi: abi,
            slave_offset: offset,
            master_ha_abi: ha_abi,
            master_offset,
            vtable_slots,
            selfcheck: check_text,
        } = self.build_launcher(&libmesos, &exported, &shim_o)?;

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
