//! Roles and flags: what process to start in a node, and with which environment, so that it
//! becomes a Mesos master or agent of a given version.
//!
//! Pure data in, plain data out: the Docker layer receives a [`ProcessSpec`] (argv + env) and
//! knows nothing about Mesos. Every flag is passed as a `MESOS_<FLAG>` variable, which is how
//! the project's launchers (`/opt/mesos/<version>/mesos-launcher master|agent`) load them.
//!
//! Why each flag is set is written in `docs/mesos.md`; the short version is in the comments of
//! [`master_process`] and [`agent_process`].

use std::collections::BTreeMap;
use std::time::Duration;

/// Port of every master (all versions).
pub const MASTER_PORT: u16 = 5050;
/// The ZooKeeper client port masters connect to.
pub const ZOOKEEPER_PORT: u16 = 2181;
/// Port of every agent (all versions since 0.13).
pub const AGENT_PORT: u16 = 5051;
/// Master work dir inside a node (holds the replicated log: the registry).
pub const MASTER_WORK_DIR: &str = "/var/lib/mesos/master";
/// Agent work dir inside a node (checkpointed agent ID, frameworks, executors).
pub const AGENT_WORK_DIR: &str = "/var/lib/mesos/agent";
/// Agent runtime dir inside a node (container pids and status files; must survive restarts).
pub const AGENT_RUNTIME_DIR: &str = "/var/run/mesos";
/// Where an agent checkpoints the kernel's boot ID. At start it compares it with the
/// current one to tell a host reboot (recover no executor: they all died) from a restart
/// of its own process. A container restart keeps the host's boot ID, so a simulated reboot
/// must change this file (and empty the runtime dir, a tmpfs on real hosts).
pub const AGENT_BOOT_ID_FILE: &str = "/var/lib/mesos/agent/meta/boot_id";
/// Where a version's build lives inside a node.
pub const INSTALL_ROOT: &str = "/opt/mesos";

pub use crate::domain::Role;
use crate::domain::Version;

/// The port a role's process listens on (ZooKeeper: its client port).
pub fn port(role: Role) -> u16 {
    match role {
        Role::ZooKeeper => ZOOKEEPER_PORT,
        Role::Master => MASTER_PORT,
        Role::Agent => AGENT_PORT,
    }
}

/// A node as Mesos must see it: a stable hostname and address across restarts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeAddress {
    /// Node name, also its hostname and network alias (`master-1`, `agent-2`).
    pub hostname: String,
    /// The node's address on the run's network (what libprocess binds and advertises).
    pub ip: String,
}

/// How agents (and, with ZooKeeper, masters) find the leading master.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MasterLocation {
    /// A single master at `host:port`.
    Standalone { host: String, port: u16 },
    /// Leader election through ZooKeeper: `zk://host1:2181,host2:2181/mesos`.
    ZooKeeper { url: String },
}

impl MasterLocation {
    /// The value of `--master` for agents.
    pub fn flag_value(&self) -> String {
        match self {
            MasterLocation::Standalone { host, port } => format!("{host}:{port}"),
            MasterLocation::ZooKeeper { url } => url.clone(),
        }
    }
}

/// Timing flags, chosen so that waits are short but an agent restart (install new binaries and
/// restart) stays well inside the time after which the master gives the agent up. A scenario's
/// `timeouts:` replaces any of them (e.g. with a production cluster's values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tuning {
    /// Master `--agent_ping_timeout`.
    pub agent_ping_timeout: Duration,
    /// Master `--max_agent_ping_timeouts`.
    pub max_agent_ping_timeouts: u32,
    /// Agent `--registration_backoff_factor`: first (re-)registration after a random delay in
    /// `[0, factor]`, doubling on each retry.
    pub registration_backoff_factor: Duration,
    /// Agent `--executor_reregistration_timeout`: a restarted agent finishes its recovery
    /// (and re-registers) only when this has passed, even when every executor re-subscribed
    /// at once (measured on 1.10.0 and 1.11.0: "Finished recovery" exactly this long after
    /// "Waiting for executor ... to subscribe").
    pub executor_reregistration_timeout: Duration,
    /// Master and agent `--zk_session_timeout` (HA only).
    pub zk_session_timeout: Duration,
}

impl Default for Tuning {
    /// Mesos's defaults are 15 s x 5 pings, a 2 s executor re-registration window and 1 s of
    /// registration backoff: production values, where an agent noticing a restarted
    /// standalone master alone costs up to 75 s. Here:
    /// - 1 s x 6 pings: the master gives an agent up after 5-6 s of silence; a restarted
    ///   agent is silent for about 1.5 s on a quiet machine and up to 3.4 s measured on two
    ///   cores under a load of 11 (stop, start, the 1 s executor window, re-registration;
    ///   `upgrade-harness timing` prints the longest agent absence of a run beside this
    ///   budget); an agent notices a restarted standalone master within the same 5-6 s.
    /// - 1 s executor window: the executors re-subscribe about 0.1 s after the agent starts
    ///   recovering (10x margin; a late one would be reported by the `tasks_running`
    ///   invariant as a killed task, never silently).
    fn default() -> Self {
        Tuning {
            agent_ping_timeout: Duration::from_secs(1),
            max_agent_ping_timeouts: 6,
            registration_backoff_factor: Duration::from_millis(100),
            executor_reregistration_timeout: Duration::from_secs(1),
            zk_session_timeout: Duration::from_secs(2),
        }
    }
}

/// A Mesos duration (`15secs`, `500ms`, `1.5secs`, `2mins`): a number and one of Mesos's
/// units `ns`, `us`, `ms`, `secs`, `mins`, `hrs`, `days`, `weeks`.
pub fn parse_mesos_duration(text: &str) -> Result<Duration, String> {
    const UNITS: [(&str, f64); 8] = [
        ("ns", 1e-9),
        ("us", 1e-6),
        ("ms", 1e-3),
        ("secs", 1.0),
        ("mins", 60.0),
        ("hrs", 3600.0),
        ("days", 86400.0),
        ("weeks", 604800.0),
    ];
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let expected =
        "a number and a unit (ns, us, ms, secs, mins, hrs, days, weeks), e.g. `15secs` or `500ms`";
    let n: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a Mesos duration: expected {expected}"))?;
    let scale = UNITS
        .iter()
        .find(|(u, _)| *u == unit)
        .map(|(_, s)| *s)
        .ok_or_else(|| format!("`{text}` has no Mesos unit: expected {expected}"))?;
    Ok(Duration::from_secs_f64(n * scale))
}

impl Tuning {
    /// How long an agent may be unreachable before the master removes it
    /// (`agent_ping_timeout x max_agent_ping_timeouts`). An agent upgrade must stay below it.
    pub fn agent_downtime_budget(&self) -> Duration {
        self.agent_ping_timeout * self.max_agent_ping_timeouts
    }

    /// Upper bound for an agent to re-register after its master was replaced: it first has to
    /// notice (ping timeouts, standalone) and then backs off before re-registering.
    pub fn agent_reregistration_bound(&self) -> Duration {
        self.agent_downtime_budget() + self.registration_backoff_factor * 4 + Duration::from_secs(5)
    }
}

/// ZooKeeper settings of an HA master.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HaSettings {
    /// `zk://.../mesos`
    pub zk_url: String,
    /// Replicated-log quorum (majority of the masters).
    pub quorum: u32,
}

/// Everything needed to start a master.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterConfig {
    /// Mesos version, e.g. `1.11.0`.
    pub version: Version,
    pub node: NodeAddress,
    /// `None`: standalone master (local replicated log, no election).
    pub ha: Option<HaSettings>,
    pub tuning: Tuning,
}

/// Everything needed to start an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentConfig {
    /// Mesos version, e.g. `1.11.0`.
    pub version: Version,
    pub node: NodeAddress,
    pub master: MasterLocation,
    /// `--resources`; fixed so that offers and `/master/state` do not depend on the host.
    pub resources: String,
    pub tuning: Tuning,
}

/// Default agent resources: small, fixed, identical on every host.
pub const DEFAULT_AGENT_RESOURCES: &str = "cpus:2;mem:1024;disk:2048;ports:[31000-32000]";

/// A process to start in a node: plain argv and environment (sorted by name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessSpec {
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
}

impl ProcessSpec {
    /// The value of an environment variable, if set.
    pub fn env_var(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of a Mesos flag (`MESOS_<FLAG>`), if set.
    pub fn flag(&self, name: &str) -> Option<&str> {
        self.env_var(&flag_env_name(name))
    }

    /// Every Mesos flag in the environment (`MESOS_WORK_DIR` -> `work_dir`).
    pub fn flags(&self) -> BTreeMap<String, String> {
        self.env
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("MESOS_")
                    .map(|f| (f.to_ascii_lowercase(), v.clone()))
            })
            .collect()
    }

    /// Applies a scenario step's `flags` and `unset_flags` (flag names without `--`).
    /// Unsetting a flag the role sets itself is allowed: that is how a scenario shows that a
    /// required flag is required (`fails_to_start`).
    pub fn apply_flags(
        &mut self,
        set: &BTreeMap<String, String>,
        unset: &[String],
    ) -> Result<(), RoleError> {
        let mut env: BTreeMap<String, String> = self.env.drain(..).collect();
        for name in unset {
            check_flag_name(name)?;
            env.remove(&flag_env_name(name));
        }
        for (name, value) in set {
            check_flag_name(name)?;
            env.insert(flag_env_name(name), value.clone());
        }
        self.env = env.into_iter().collect();
        Ok(())
    }
}

/// Errors building a process spec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    #[error("unsupported Mesos version `{version}`: roles are defined for 0.11.0 and later")]
    UnsupportedVersion { version: String },
    #[error(
        "invalid flag name `{name}`: use the name without `--`, lowercase letters, digits and `_`"
    )]
    InvalidFlagName { name: String },
}

/// `MESOS_<FLAG>` for a flag name.
pub fn flag_env_name(flag: &str) -> String {
    format!("MESOS_{}", flag.to_ascii_uppercase())
}

/// The launcher program of a version inside a node.
pub fn launcher_path(version: Version) -> String {
    format!("{INSTALL_ROOT}/{version}/mesos-launcher")
}

/// Formats a duration the way Mesos parses it (`100ms`, `2secs`).
pub fn mesos_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if !d.subsec_nanos().is_multiple_of(1_000_000) {
        format!("{}us", d.as_micros())
    } else if ms.is_multiple_of(1000) {
        format!("{}secs", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// The process that runs a master.
///
/// Flags (all exist in 1.0-1.11; older versions get only those they have: `work_dir`,
/// `registry` and `quorum` from 0.19, the ping timeouts under their pre-1.0 names from 0.23):
/// - `work_dir` + `registry=replicated_log`: the registry survives restarts and upgrades, so
///   agents keep their IDs.
/// - `hostname`, `LIBPROCESS_IP`, `LIBPROCESS_PORT`, `port`: a stable identity across restarts;
///   the hostname is what a non-leading master puts in its 307 `Location`.
/// - `agent_ping_timeout`, `max_agent_ping_timeouts`: see [`Tuning`].
/// - HA: `zk`, `quorum`, `zk_session_timeout` (fast re-election after the leader stops).
pub fn master_process(cfg: &MasterConfig) -> Result<ProcessSpec, RoleError> {
    check_version(cfg.version)?;
    let t = &cfg.tuning;
    let v = cfg.version;
    let mut env = base_env(&cfg.node, Role::Master);
    if v >= REGISTRAR {
        flag(&mut env, "work_dir", MASTER_WORK_DIR);
        flag(&mut env, "registry", "replicated_log");
    }
    if let Some((timeout, max)) = ping_timeout_flags(v) {
        flag(&mut env, timeout, &mesos_duration(t.agent_ping_timeout));
        flag(&mut env, max, &t.max_agent_ping_timeouts.to_string());
    }
    if let Some(ha) = &cfg.ha {
        flag(&mut env, "zk", &ha.zk_url);
        if v >= REGISTRAR {
            flag(&mut env, "quorum", &ha.quorum.to_string());
        }
        flag(
            &mut env,
            "zk_session_timeout",
            &mesos_duration(t.zk_session_timeout),
        );
    }
    Ok(spec(cfg.version, Role::Master, env))
}

/// The process that runs an agent.
///
/// Flags (all exist in 1.0-1.11; before 1.0 no `runtime_dir`, before 0.18
/// `isolation=process`):
/// - `master`: `host:5050`, or the `zk://` URL with HA.
/// - `work_dir`, `runtime_dir`: persistent per node; recovery after a restart reads both.
/// - `launcher=posix`, `isolation=posix/cpu,posix/mem`, `systemd_enable_support=false`: no
///   cgroups or systemd inside a container.
/// - `launcher_dir`: where the agent finds helper programs (`mesos-containerizer`, and the
///   `mesos-executor` that 1.4.x requires to exist).
/// - `registration_backoff_factor`: re-register within ~0.1 s instead of ~1 s.
/// - `executor_reregistration_timeout`: see [`Tuning`].
/// - `resources`: fixed, so observations do not depend on the host.
pub fn agent_process(cfg: &AgentConfig) -> Result<ProcessSpec, RoleError> {
    check_version(cfg.version)?;
    let t = &cfg.tuning;
    let mut env = base_env(&cfg.node, Role::Agent);
    flag(&mut env, "master", &cfg.master.flag_value());
    // Required from 1.0; before, it defaulted to /tmp/mesos: set in every version, so that
    // recovery reads the same directory whichever version wrote it.
    flag(&mut env, "work_dir", AGENT_WORK_DIR);
    if cfg.version >= Version::new(1, 0, 0) {
        flag(&mut env, "runtime_dir", AGENT_RUNTIME_DIR);
    }
    flag(&mut env, "launcher", "posix");
    let isolation = if cfg.version >= POSIX_ISOLATION {
        "posix/cpu,posix/mem"
    } else {
        "process"
    };
    flag(&mut env, "isolation", isolation);
    flag(&mut env, "systemd_enable_support", "false");
    flag(
        &mut env,
        "launcher_dir",
        &format!("{INSTALL_ROOT}/{}", cfg.version),
    );
    flag(
        &mut env,
        "registration_backoff_factor",
        &mesos_duration(t.registration_backoff_factor),
    );
    flag(
        &mut env,
        "executor_reregistration_timeout",
        &mesos_duration(t.executor_reregistration_timeout),
    );
    flag(&mut env, "resources", &cfg.resources);
    if matches!(cfg.master, MasterLocation::ZooKeeper { .. }) {
        flag(
            &mut env,
            "zk_session_timeout",
            &mesos_duration(t.zk_session_timeout),
        );
    }
    Ok(spec(cfg.version, Role::Agent, env))
}

/// The libprocess environment variable that rate-limits `/metrics/snapshot` (default 2/1secs).
pub const METRICS_RATE_LIMIT_ENV: &str = "LIBPROCESS_METRICS_SNAPSHOT_ENDPOINT_RATE_LIMIT";

fn base_env(node: &NodeAddress, role: Role) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    env.insert("LIBPROCESS_IP".to_string(), node.ip.clone());
    env.insert("LIBPROCESS_PORT".to_string(), port(role).to_string());
    // libprocess serves `/metrics/snapshot` at most twice a second unless this is set; empty
    // lifts the limit (as Mesos's own test binaries do). Readiness waits, invariants and
    // probes all read it: with the limit each read after the first waits up to 0.5 s.
    env.insert(METRICS_RATE_LIMIT_ENV.to_string(), String::new());
    flag(&mut env, "hostname", &node.hostname);
    flag(&mut env, "port", &port(role).to_string());
    env
}

fn flag(env: &mut BTreeMap<String, String>, name: &str, value: &str) {
    env.insert(flag_env_name(name), value.to_string());
}

fn spec(version: Version, role: Role, env: BTreeMap<String, String>) -> ProcessSpec {
    ProcessSpec {
        argv: vec![launcher_path(version), role.as_str().to_string()],
        env: env.into_iter().collect(),
    }
}

/// 0.19: the registrar; the master's `--work_dir` and, with ZooKeeper, `--quorum` appear
/// (and are required).
const REGISTRAR: Version = Version::new(0, 19, 0);
/// 0.18: `--isolation=process` deprecated for `posix/cpu,posix/mem`.
const POSIX_ISOLATION: Version = Version::new(0, 18, 0);
/// The oldest release the harness knows (`mesos::versions::UPSTREAM`).
const OLDEST: Version = Version::new(0, 11, 0);

/// The master's ping-timeout flags at a version: configurable from 0.23 as
/// `slave_ping_timeout`/`max_slave_ping_timeouts`, renamed `agent_...` in 1.0; before 0.23
/// they do not exist (the fixed 15 s x 5 applies), so nothing is passed.
pub fn ping_timeout_flags(version: Version) -> Option<(&'static str, &'static str)> {
    if version >= Version::new(1, 0, 0) {
        Some(("agent_ping_timeout", "max_agent_ping_timeouts"))
    } else if version >= Version::new(0, 23, 0) {
        Some(("slave_ping_timeout", "max_slave_ping_timeouts"))
    } else {
        None
    }
}

fn check_version(version: Version) -> Result<(), RoleError> {
    if version >= OLDEST {
        Ok(())
    } else {
        Err(RoleError::UnsupportedVersion {
            version: version.to_string(),
        })
    }
}

fn check_flag_name(name: &str) -> Result<(), RoleError> {
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(RoleError::InvalidFlagName {
            name: name.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, ip: &str) -> NodeAddress {
        NodeAddress {
            hostname: name.into(),
            ip: ip.into(),
        }
    }

    fn master() -> MasterConfig {
        MasterConfig {
            version: "1.11.0".parse().unwrap(),
            node: node("master-1", "10.0.0.2"),
            ha: None,
            tuning: Tuning::default(),
        }
    }

    fn agent() -> AgentConfig {
        AgentConfig {
            version: "1.4.3".parse().unwrap(),
            node: node("agent-1", "10.0.0.3"),
            master: MasterLocation::Standalone {
                host: "master-1".into(),
                port: MASTER_PORT,
            },
            resources: DEFAULT_AGENT_RESOURCES.into(),
            tuning: Tuning::default(),
        }
    }

    #[test]
    fn mesos_durations_read_and_write_alike() {
        assert_eq!(parse_mesos_duration("15secs"), Ok(Duration::from_secs(15)));
        assert_eq!(
            parse_mesos_duration("500ms"),
            Ok(Duration::from_millis(500))
        );
        assert_eq!(
            parse_mesos_duration("1.5secs"),
            Ok(Duration::from_millis(1500))
        );
        assert_eq!(parse_mesos_duration("2mins"), Ok(Duration::from_secs(120)));
        for bad in ["15", "15s", "secs", "", "1,5secs"] {
            let e = parse_mesos_duration(bad).unwrap_err();
            assert!(e.contains("e.g. `15secs`"), "{bad}: {e}");
        }
        for d in [
            Duration::from_secs(2),
            Duration::from_millis(100),
            Duration::from_micros(1500),
        ] {
            assert_eq!(parse_mesos_duration(&mesos_duration(d)), Ok(d));
        }
    }

    #[test]
    fn master_env_is_complete_and_sorted() {
        let p = master_process(&master()).unwrap();
        assert_eq!(p.argv, ["/opt/mesos/1.11.0/mesos-launcher", "master"]);
        let got: Vec<String> = p.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            got,
            [
                "LIBPROCESS_IP=10.0.0.2",
                "LIBPROCESS_METRICS_SNAPSHOT_ENDPOINT_RATE_LIMIT=",
                "LIBPROCESS_PORT=5050",
                "MESOS_AGENT_PING_TIMEOUT=1secs",
                "MESOS_HOSTNAME=master-1",
                "MESOS_MAX_AGENT_PING_TIMEOUTS=6",
                "MESOS_PORT=5050",
                "MESOS_REGISTRY=replicated_log",
                "MESOS_WORK_DIR=/var/lib/mesos/master",
            ]
        );
    }

    #[test]
    fn ha_master_gets_zookeeper_flags() {
        let mut cfg = master();
        cfg.ha = Some(HaSettings {
            zk_url: "zk://zk-1:2181/mesos".into(),
            quorum: 2,
        });
        let p = master_process(&cfg).unwrap();
        assert_eq!(p.flag("zk"), Some("zk://zk-1:2181/mesos"));
        assert_eq!(p.flag("quorum"), Some("2"));
        assert_eq!(p.flag("zk_session_timeout"), Some("2secs"));
    }

    #[test]
    fn agent_env_points_at_master_and_its_own_build() {
        let p = agent_process(&agent()).unwrap();
        assert_eq!(p.argv, ["/opt/mesos/1.4.3/mesos-launcher", "agent"]);
        assert_eq!(p.flag("master"), Some("master-1:5050"));
        assert_eq!(p.flag("launcher_dir"), Some("/opt/mesos/1.4.3"));
        assert_eq!(p.flag("registration_backoff_factor"), Some("100ms"));
        assert_eq!(p.flag("port"), Some("5051"));
        assert_eq!(p.env_var("LIBPROCESS_PORT"), Some("5051"));
        assert_eq!(p.flag("zk_session_timeout"), None);
        assert_eq!(p.flags()["isolation"], "posix/cpu,posix/mem");
        assert!(!p.flags().contains_key("libprocess_ip"));
    }

    #[test]
    fn step_flags_set_and_unset() {
        let mut p = agent_process(&agent()).unwrap();
        let set = BTreeMap::from([("checkpoint".to_string(), "true".to_string())]);
        p.apply_flags(&set, &["work_dir".to_string()]).unwrap();
        assert_eq!(p.flag("checkpoint"), Some("true"));
        assert_eq!(p.flag("work_dir"), None);
        let sorted = p.env.windows(2).all(|w| w[0].0 < w[1].0);
        assert!(sorted);
    }

    #[test]
    fn bad_flag_names_and_versions_are_rejected() {
        let mut p = agent_process(&agent()).unwrap();
        let set = BTreeMap::from([("--checkpoint".to_string(), "true".to_string())]);
        let err = p.apply_flags(&set, &[]).unwrap_err();
        assert_eq!(err.to_string(), "invalid flag name `--checkpoint`: use the name without `--`, lowercase letters, digits and `_`");
        let mut cfg = master();
        cfg.version = "0.10.0".parse().unwrap();
        assert!(master_process(&cfg).is_err());
    }

    #[test]
    fn old_versions_get_only_the_flags_they_have() {
        let mut cfg = master();
        cfg.ha = Some(HaSettings {
            zk_url: "zk://zk-1:2181/mesos".into(),
            quorum: 2,
        });
        cfg.version = "0.28.2".parse().unwrap();
        let p = master_process(&cfg).unwrap();
        assert_eq!(p.flag("slave_ping_timeout"), Some("1secs"));
        assert_eq!(p.flag("max_slave_ping_timeouts"), Some("6"));
        assert_eq!(p.flag("agent_ping_timeout"), None);
        assert_eq!(p.flag("quorum"), Some("2"));
        cfg.version = "0.18.0".parse().unwrap();
        let p = master_process(&cfg).unwrap();
        for absent in ["work_dir", "registry", "quorum", "slave_ping_timeout"] {
            assert_eq!(p.flag(absent), None, "{absent}");
        }
        assert_eq!(p.flag("zk"), Some("zk://zk-1:2181/mesos"));
        let mut a = agent();
        a.version = "0.17.0".parse().unwrap();
        let p = agent_process(&a).unwrap();
        assert_eq!(p.flag("isolation"), Some("process"));
        assert_eq!(p.flag("runtime_dir"), None);
        assert_eq!(p.flag("work_dir"), Some(AGENT_WORK_DIR));
    }

    #[test]
    fn durations_in_mesos_syntax() {
        assert_eq!(mesos_duration(Duration::from_millis(100)), "100ms");
        assert_eq!(mesos_duration(Duration::from_secs(2)), "2secs");
        assert_eq!(
            Tuning::default().agent_downtime_budget(),
            Duration::from_secs(6)
        );
    }
}
