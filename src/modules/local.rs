//! One Mesos process of a version's build, started on this machine (127.0.0.1, no Docker)
//! with modules listed, and its fate: the loader's refusal, a crash, or the module's proof.
//! Used by `certify` to try a build on a version alone (and the negative controls) in a
//! second instead of a cluster's minute; the rolling paths run in real clusters.

use std::net::TcpListener;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::images::VersionBuild;
use crate::mesos::modules::{module_env, LoadedModule, ModuleOutcome};

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A started process, killed when dropped.
struct Node {
    child: Child,
    log: PathBuf,
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn start(
    build: &VersionBuild,
    mode: &str,
    env: &[(String, String)],
    dir: &Path,
) -> std::io::Result<Node> {
    let bin = build
        .rootfs
        .join(build.launcher_dir_in_image.trim_start_matches('/'));
    std::fs::create_dir_all(dir)?;
    let log = dir.join(format!("{mode}.log"));
    let file = std::fs::File::create(&log)?;
    let mut cmd = Command::new(bin.join("mesos-launcher"));
    cmd.arg(mode)
        .env_clear()
        .envs(crate::images::host_process_env(&bin, free_port()?))
        .env("MESOS_WORK_DIR", dir.join("work"))
        .env("MESOS_RUNTIME_DIR", dir.join("run"))
        .env("MESOS_REGISTRY", "in_memory")
        // Nothing listens there: an agent loads its modules before it looks for a master.
        .env("MESOS_MASTER", format!("127.0.0.1:{}", free_port()?))
        .stdout(Stdio::from(file.try_clone()?))
        .stderr(Stdio::from(file));
    for (k, v) in env {
        cmd.env(k, v);
    }
    Ok(Node {
        child: cmd.spawn()?,
        log,
    })
}

/// Starts `mode` (`master` or `agent`) of `build` with `module` listed (its proof file is
/// `proof`, a path on this machine) in `dir`, and waits for its fate: an exit (classified
/// from its output), or the proof file written within `within`.
pub fn outcome(
    build: &VersionBuild,
    mode: &str,
    module: &LoadedModule,
    proof: &Path,
    dir: &Path,
    within: Duration,
) -> std::io::Result<ModuleOutcome> {
    let _ = std::fs::remove_file(proof);
    let mut node = start(build, mode, &module_env(std::slice::from_ref(module)), dir)?;
    let started = Instant::now();
    loop {
        if let Some(status) = node.child.try_wait()? {
            let output = std::fs::read_to_string(&node.log).unwrap_or_default();
            return Ok(ModuleOutcome::of_exit(
                status.code(),
                status.signal(),
                &output,
            ));
        }
        if let Ok(text) = std::fs::read_to_string(proof) {
            if !text.is_empty() {
                return Ok(ModuleOutcome::Works(text.trim().to_string()));
            }
        }
        if started.elapsed() > within {
            return Ok(ModuleOutcome::LoadedNoProof(format!(
                "{mode} still running, no {} after {within:?}",
                proof.display()
            )));
        }
        // Polling a process and a file: no event to wait on without a second thread.
        std::thread::sleep(Duration::from_millis(50));
    }
}
