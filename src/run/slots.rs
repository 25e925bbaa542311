//! The machine-wide cluster slots: a lock (`flock`) on one of N files in the temporary
//! folder per cluster, so that every process of the harness on this machine (test binaries
//! under nextest or `cargo test`, `compat run`, two checkouts at once) shares one cap. The
//! kernel releases a lock when its process dies, so a killed process never leaks a slot.

use std::path::PathBuf;
use std::time::Duration;

/// The environment variable with the cap.
pub const MAX_CLUSTERS_ENV: &str = "UPGRADE_HARNESS_MAX_CLUSTERS";
/// Measured on 2 cores and 24 GiB (docs/performance.md): clusters mostly wait on Mesos.
pub const DEFAULT_MAX_CLUSTERS: usize = 4;

/// The cap: `UPGRADE_HARNESS_MAX_CLUSTERS`, or [`DEFAULT_MAX_CLUSTERS`]; else what is wrong
/// with the variable's value.
pub fn max_clusters_setting() -> Result<usize, String> {
    match std::env::var(MAX_CLUSTERS_ENV) {
        Err(_) => Ok(DEFAULT_MAX_CLUSTERS),
        Ok(text) => match text.trim().parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(format!(
                "{MAX_CLUSTERS_ENV}={text:?}: expected a whole number of at least 1 (how many clusters may run at once; default {DEFAULT_MAX_CLUSTERS})"
            )),
        },
    }
}

/// A held slot; given back when dropped.
pub struct MachineSlot(#[allow(dead_code)] std::fs::File);

/// The folder of the slot files.
fn slot_dir() -> PathBuf {
    std::env::temp_dir().join("upgrade-harness-cluster-slots")
}

/// Takes a free one of the `max` slots, if one is free now.
pub fn try_take(max: usize) -> std::io::Result<Option<MachineSlot>> {
    use std::os::fd::AsRawFd;
    let dir = slot_dir();
    std::fs::create_dir_all(&dir).map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("creating {} for cluster slots: {e}", dir.display()),
        )
    })?;
    for i in 0..max {
        let path = dir.join(format!("slot-{i}.lock"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| {
                std::io::Error::new(e.kind(), format!("opening {}: {e}", path.display()))
            })?;
        // SAFETY: flock on a descriptor this function owns; no memory is shared.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(Some(MachineSlot(file)));
        }
    }
    Ok(None)
}

/// How often a waiter looks again: a lock taken by another process sends no notice here.
pub const RETRY: Duration = Duration::from_millis(100);

/// Waits, without blocking the runtime, until one of the `max` slots is free.
pub async fn take(max: usize) -> std::io::Result<MachineSlot> {
    loop {
        if let Some(slot) = try_take(max)? {
            return Ok(slot);
        }
        tokio::time::sleep(RETRY).await;
    }
}
