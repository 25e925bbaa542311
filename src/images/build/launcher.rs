//! The launcher of one version: the offsets of `FlagsBase` inside `slave::Flags` and
//! `master::Flags`, then compiling `launcher/mesos-launcher.cc` against libmesos, checking
//! its Mesos imports, linking it and running its self-check.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::assemble::Assembler;
use crate::images::elf;
use crate::images::error::{tail, ImagesError};
use crate::images::versions;

/// The launcher's source, compiled into this crate so that a build depends
/// only on the harness binary and the hash covers it.
pub(super) const LAUNCHER_SOURCE: &str = include_str!("../../../launcher/mesos-launcher.cc");

/// What building the launcher found and made; `build.json` records it.
pub(super) struct Launcher {
    /// `<rootfs>/opt/mesos/<version>/mesos-launcher`.
    pub(super) path: PathBuf,
    pub(super) agent_abi: u32,
    pub(super) slave_offset: u64,
    pub(super) master_ha_abi: u32,
    /// 0 for versions without the HA master mode.
    pub(super) master_offset: u64,
    pub(super) vtable_slots: u64,
    /// The self-check's output.
    pub(super) selfcheck: String,
}

impl Assembler<'_> {
    /// Steps 4 and 5 of the build: `libmesos` is the stripped library in the image,
    /// `exported` the symbols it defines, `shim_o` the compiled Python C API shim.
    pub(super) fn build_launcher(
        &self,
        libmesos: &Path,
        exported: &HashSet<String>,
        shim_o: &Path,
    ) -> Result<Launcher, ImagesError> {
        // 4. The FlagsBase offset inside slave::Flags, from the disassembly.
        let nm_sizes = self.tool(
            Command::new("nm")
                .args(["-D", "-S", "--defined-only"])
                .arg(libmesos),
            "binutils",
        )?;
        let offset = self.flags_base_offset(&nm_sizes, libmesos, "slave")?;
        // The same for master::Flags, for versions with the HA master mode.
        let ha_abi = versions::master_ha_abi(self.version());
        let master_offset = if ha_abi == 0 {
            0
        } else {
            self.flags_base_offset(&nm_sizes, libmesos, "master")?
        };
        let ha_versions = versions::versions_with_ha_masters().join(", ");
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
                .arg(shim_o)
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
        Ok(Launcher {
            path: launcher,
            agent_abi: abi,
            slave_offset: offset,
            master_ha_abi: ha_abi,
            master_offset,
            vtable_slots,
            selfcheck: check_text,
        })
    }

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
}
