//! Labels on everything a run creates, and who owns a run.
//!
//! Sweeping leftovers must never touch a live run or anything the harness did
//! not create. A run records its owner (host name, boot id, pid and the pid's
//! start time) in labels; a run counts as dead only when its owner was on
//! this same host and that exact process no longer exists.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

/// The run id; present on every container and network of a run.
pub const RUN_LABEL: &str = "upgrade-harness.run";
/// Pid of the harness process that owns the run.
pub const OWNER_PID_LABEL: &str = "upgrade-harness.owner-pid";
/// Host name of the machine the owner runs on.
pub const OWNER_HOST_LABEL: &str = "upgrade-harness.owner-host";
/// Boot id of that machine: after a reboot every old owner is dead.
pub const OWNER_BOOT_LABEL: &str = "upgrade-harness.owner-boot";
/// Machine id (`/etc/machine-id`): tells apart machines sharing a host name.
pub const OWNER_MACHINE_LABEL: &str = "upgrade-harness.owner-machine";
/// Start time of the owner pid (clock ticks after boot): guards against pid reuse.
pub const OWNER_START_LABEL: &str = "upgrade-harness.owner-start";
/// Present (`true`) on runs made with `keep`: sweeps leave them alone.
pub const KEEP_LABEL: &str = "upgrade-harness.keep";
/// Node name, on containers.
pub const NODE_LABEL: &str = "upgrade-harness.node";

/// The identity of a harness process, as written into labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    /// Process id.
    pub pid: u32,
    /// Host name (`/proc/sys/kernel/hostname`).
    pub host: String,
    /// `/etc/machine-id`, empty if unknown.
    pub machine_id: String,
    /// Kernel boot id, empty if unknown.
    pub boot_id: String,
    /// Start time of `pid` in clock ticks after boot, empty if unknown.
    pub start_ticks: String,
}

/// What the labels of a run say about its owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Liveness {
    /// The owner process still exists: hands off.
    Alive,
    /// Same host, and the owner process is gone: safe to sweep.
    Dead,
    /// Cannot tell (other host, missing labels): never swept.
    Unknown(String),
}

impl Owner {
    /// This process.
    pub fn current() -> Owner {
        let pid = std::process::id();
        Owner {
            pid,
            host: host_name(),
            machine_id: machine_id(),
            boot_id: boot_id(),
            start_ticks: start_ticks(pid).unwrap_or_default(),
        }
    }

    /// The owner labels (without the run id).
    pub fn labels(&self) -> HashMap<String, String> {
        HashMap::from([
            (OWNER_PID_LABEL.to_string(), self.pid.to_string()),
            (OWNER_HOST_LABEL.to_string(), self.host.clone()),
            (OWNER_MACHINE_LABEL.to_string(), self.machine_id.clone()),
            (OWNER_BOOT_LABEL.to_string(), self.boot_id.clone()),
            (OWNER_START_LABEL.to_string(), self.start_ticks.clone()),
        ])
    }
}

/// Decides from a run's labels whether its owner is alive, as seen from here.
///
/// Dead only when provably the same machine: same host name, not a
/// different machine id, and then either the same boot with the pid gone
/// (or reused: other start time), or a later boot of the same machine id.
/// A different boot id without machine ids to compare could be another
/// machine of the same name: unknown.
pub fn liveness(labels: &HashMap<String, String>) -> Liveness {
    liveness_from(labels, &Owner::current())
}

fn liveness_from(labels: &HashMap<String, String>, me: &Owner) -> Liveness {
    let get = |k: &str| labels.get(k).map(String::as_str).unwrap_or("");
    let host = get(OWNER_HOST_LABEL);
    if host.is_empty() || me.host.is_empty() || host != me.host {
        return Liveness::Unknown(format!("owned by host {host:?}, this is {:?}", me.host));
    }
    let Ok(pid) = get(OWNER_PID_LABEL).parse::<u32>() else {
        return Liveness::Unknown("no owner pid label".into());
    };
    let machine = get(OWNER_MACHINE_LABEL);
    let known_machines = !machine.is_empty() && !me.machine_id.is_empty();
    if known_machines && machine != me.machine_id {
        return Liveness::Unknown(format!("owned by another machine named {host:?}"));
    }
    let boot = get(OWNER_BOOT_LABEL);
    if !boot.is_empty() && !me.boot_id.is_empty() && boot != me.boot_id {
        return if known_machines {
            Liveness::Dead // this machine rebooted since
        } else {
            Liveness::Unknown("owned by another boot, machine unknown".into())
        };
    }
    match start_ticks(pid) {
        None => Liveness::Dead,
        Some(now) => {
            let then = get(OWNER_START_LABEL);
            if !then.is_empty() && then != now {
                Liveness::Dead // the pid was reused by another process
            } else {
                Liveness::Alive
            }
        }
    }
}

/// A short, unique run id: seconds since the epoch in hex plus 16 random bits.
pub fn new_run_id() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u128(now.as_nanos());
    format!("{:x}{:04x}", now.as_secs(), h.finish() & 0xffff)
}

fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn host_name() -> String {
    read_trimmed("/proc/sys/kernel/hostname")
}

fn machine_id() -> String {
    let id = read_trimmed("/etc/machine-id");
    if id.is_empty() {
        read_trimmed("/var/lib/dbus/machine-id")
    } else {
        id
    }
}

fn boot_id() -> String {
    read_trimmed("/proc/sys/kernel/random/boot_id")
}

/// Field 22 of `/proc/<pid>/stat`; None when the process does not exist.
fn start_ticks(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces: count after its ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    Some(rest.split_whitespace().nth(19)?.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_dead_pid_is_dead() {
        let me = Owner::current();
        assert_eq!(liveness(&me.labels()), Liveness::Alive);
        let mut dead = me.labels();
        dead.insert(OWNER_PID_LABEL.into(), "4194304".into()); // above pid_max
        assert_eq!(liveness(&dead), Liveness::Dead);
        let mut reused = me.labels();
        reused.insert(OWNER_START_LABEL.into(), "1".into());
        assert_eq!(liveness(&reused), Liveness::Dead);
    }

    fn owner(machine: &str, boot: &str) -> Owner {
        Owner {
            pid: 1,
            host: "h".into(),
            machine_id: machine.into(),
            boot_id: boot.into(),
            start_ticks: String::new(),
        }
    }

    #[test]
    fn another_boot_is_dead_only_on_the_same_machine() {
        let mut then = owner("m1", "b1").labels();
        then.insert(OWNER_PID_LABEL.into(), "4194304".into());
        assert_eq!(liveness_from(&then, &owner("m1", "b2")), Liveness::Dead);
        assert!(matches!(
            liveness_from(&then, &owner("m2", "b2")),
            Liveness::Unknown(_)
        ));
        assert!(matches!(
            liveness_from(&then, &owner("", "b2")),
            Liveness::Unknown(_)
        ));
        assert_eq!(liveness_from(&then, &owner("", "b1")), Liveness::Dead);
    }

    #[test]
    fn other_hosts_and_missing_labels_are_never_dead() {
        let mut other = Owner::current().labels();
        other.insert(OWNER_HOST_LABEL.into(), "elsewhere".into());
        other.insert(OWNER_PID_LABEL.into(), "4194304".into());
        assert!(matches!(liveness(&other), Liveness::Unknown(_)));
        assert!(matches!(liveness(&HashMap::new()), Liveness::Unknown(_)));
    }

    #[test]
    fn run_ids_are_short_and_distinct() {
        let a = new_run_id();
        let b = new_run_id();
        assert!(a.len() <= 14, "{a}");
        assert_ne!(a, b);
    }
}
