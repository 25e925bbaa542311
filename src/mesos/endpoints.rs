//! Every HTTP path and metric name the harness asks Mesos for, in one place: what each role
//! serves, what must not be requested while probing, and the counters invariants read.

use crate::domain::{Role, Version};

/// Every process's version document.
pub const VERSION: &str = "/version";
/// Every process's metrics (a flat name -> number map).
pub const METRICS: &str = "/metrics/snapshot";
/// The endpoint index (`/help` as JSON).
pub const HELP: &str = "/help?format=json";
/// The master's state document.
pub const MASTER_STATE: &str = "/master/state";
/// The master's flags document.
pub const MASTER_FLAGS: &str = "/master/flags";
/// The agent's state document (libprocess id `slave(1)` in every version).
pub const AGENT_STATE: &str = "/slave(1)/state";
/// The agent's flags document.
pub const AGENT_FLAGS: &str = "/slave(1)/flags";

/// Counters of agents the master removed: while running, and at registry recovery (a
/// registry loss after a master change).
pub const AGENT_REMOVALS: [&str; 2] = ["master/slave_removals", "master/recovery_slave_removals"];

/// The flags document of a Mesos role (`None` for ZooKeeper).
pub fn flags_path(role: Role) -> Option<&'static str> {
    match role {
        Role::Master => Some(MASTER_FLAGS),
        Role::Agent => Some(AGENT_FLAGS),
        Role::ZooKeeper => None,
    }
}

/// The state document of a Mesos role (`None` for ZooKeeper).
pub fn state_path(role: Role) -> Option<&'static str> {
    match role {
        Role::Master => Some(MASTER_STATE),
        Role::Agent => Some(AGENT_STATE),
        Role::ZooKeeper => None,
    }
}

/// The bodies recorded at every phase for a node of `role` (none for ZooKeeper).
pub fn recorded_bodies(role: Role) -> &'static [&'static str] {
    match role {
        Role::Master => &[VERSION, MASTER_FLAGS, MASTER_STATE],
        Role::Agent => &[VERSION, AGENT_FLAGS, AGENT_STATE],
        Role::ZooKeeper => &[],
    }
}

/// Why a GET of `path` on a node of `role` running `version` must not be made while
/// probing, if so: it changes state, starts work, streams, or kills the process.
///
/// `help` is the endpoint's `/help` text: the endpoints of [`READ_BY_GET`] are probed with a
/// GET when their text says a GET reads (it names GET, or says it returns or retrieves).
pub fn probe_skip_reason(
    path: &str,
    role: Role,
    version: Version,
    help: Option<&str>,
) -> Option<&'static str> {
    if READ_BY_GET.iter().any(|p| path.ends_with(p)) {
        let text = help.unwrap_or_default().to_lowercase();
        let reads = text.contains("get") || text.contains("return") || text.contains("retriev");
        return (!reads).then_some("changes state (its /help text names no GET that reads)");
    }
    let mutating = [
        "/teardown",
        "/machine/up",
        "/machine/down",
        "/reserve",
        "/unreserve",
        "/create-volumes",
        "/destroy-volumes",
        "/logging/toggle",
        "/profiler/start",
        "/profiler/stop",
    ];
    if path.contains("/api/v1") {
        return Some("v1 API (calls that subscribe, stream or change state)");
    }
    if path.contains("/maintenance/") {
        return Some("maintenance (schedules change state)");
    }
    if mutating.iter().any(|m| path.ends_with(m)) {
        return Some("changes state or starts work");
    }
    if role == Role::Agent && path.ends_with("/containerizer/debug") && version.at_least(1, 9) {
        return Some(
            "kills 1.9+ agents of these builds (no PendingFutureTracker; real-mesos.md, Limits)",
        );
    }
    None
}

/// State fields whose presence depends on what happened to the cluster (a phase), not on
/// the version: the drift report does not count them as API changes and says so.
pub const PHASE_EFFECTS: &[(&str, &str)] = &[(
    "/slaves/*/reregistered_time",
    "set once an agent re-registered with a restarted master (a phase effect)",
)];

/// Fields of v1 answers that say how the release was built, not what it can do: which of
/// them are set depends on who built it from where (only the 1.6.1 release, built from a
/// branch, has `git_branch`). Not compared.
pub const BUILD_PROVENANCE: &[(&str, &str)] = &[(
    "/get_version/version_info/*",
    "how the release was built (git_branch is set by some builds only), not the API",
)];

/// Metric names a process adds when an event first happens (a task ending for a reason),
/// not when it starts: they come with the workload, not the version.
pub const EVENT_METRICS: &[(&str, &str)] = &[(
    "master/task_*/source_*/reason_*",
    "counted from the first task that ended so (workload)",
)];

/// State values that describe the API rather than the cluster (what the process can do):
/// the drift report compares their values, not only their presence.
pub const API_VALUES: &[&str] = &["/capabilities", "/slaves/*/capabilities"];

/// Endpoints that change state with POST, PUT or DELETE but only read with GET: probed with
/// GET (checked against each version's `/help` text by [`probe_skip_reason`]).
pub const READ_BY_GET: &[&str] = &[
    "/master/quota",
    "/master/weights",
    "/master/maintenance/status",
    "/master/maintenance/schedule",
];

/// The `--zk` URL of masters electing through the ZooKeeper servers at `addresses`:
/// `zk://10.0.0.2:2181,10.0.0.3:2181/mesos`.
pub fn zk_url<'a>(addresses: impl IntoIterator<Item = &'a str>) -> String {
    let servers: Vec<String> = addresses
        .into_iter()
        .map(|ip| format!("{ip}:{}", super::roles::ZOOKEEPER_PORT))
        .collect();
    format!("zk://{}/mesos", servers.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containerizer_debug_is_skipped_from_1_9_on_agents_only() {
        let path = "/slave(1)/containerizer/debug";
        let v = |s: &str| s.parse::<Version>().unwrap();
        assert!(probe_skip_reason(path, Role::Agent, v("1.9.0"), None).is_some());
        assert!(probe_skip_reason(path, Role::Agent, v("1.8.1"), None).is_none());
        assert!(probe_skip_reason("/master/teardown", Role::Master, v("1.4.3"), None).is_some());
        assert!(probe_skip_reason("/master/state", Role::Master, v("1.11.0"), None).is_none());
        let quota = "/master/quota";
        let reads = Some("Gets or updates quota. GET returns the quota status.");
        assert!(probe_skip_reason(quota, Role::Master, v("1.11.0"), reads).is_none());
        assert!(probe_skip_reason(quota, Role::Master, v("1.11.0"), Some("Sets quota.")).is_some());
        assert!(probe_skip_reason("/master/reserve", Role::Master, v("1.11.0"), reads).is_some());
    }

    #[test]
    fn zk_url_lists_every_server() {
        assert_eq!(
            zk_url(["10.0.0.2", "10.0.0.3"]),
            "zk://10.0.0.2:2181,10.0.0.3:2181/mesos"
        );
    }
}
