//! The typed scenario, format v1: what a scenario file says, nothing more.
//!
//! The doc comments on these types are the reference documentation of the format;
//! `upgrade-harness schema` turns them into `scenarios/schema.json`.
//! Serde discipline (see docs/design.md): `deny_unknown_fields`, no `untagged`, no `flatten`,
//! so every error can name the field and the line it is on.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_saphyr::{Location, Spanned};

use crate::domain::Version;
pub use crate::domain::{
    Distribution, ExpectFailure, FaultExpectation, FaultTarget, MasterStop, Mistake, RestartAs,
    Role, SetupMistake, StepKind, TasksAfterFault,
};

/// One upgrade scenario: a cluster at `from`, the documented steps that take it to `to`,
/// and what must hold along the way.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Format version of this file. Only `1` exists.
    #[schemars(with = "u32", range(min = 1, max = 1))]
    pub format: Spanned<u32>,
    /// Short unique name, used in test names, snapshot names and run folders
    /// (lowercase letters, digits, `-`, `_`, `.`).
    #[schemars(with = "String", regex(pattern = r"^[a-z0-9][a-z0-9._-]{0,79}$"))]
    pub name: Spanned<String>,
    /// What the scenario proves, in a sentence or two.
    #[serde(default)]
    pub description: String,
    /// The version the cluster starts at, e.g. `1.10.0`. `upgrade-harness check --help`
    /// lists the versions of each distribution.
    #[schemars(
        with = "String",
        regex(pattern = r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
    )]
    pub from: Spanned<String>,
    /// The version every component runs at the end, e.g. `1.11.0`.
    #[schemars(
        with = "String",
        regex(pattern = r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
    )]
    pub to: Spanned<String>,
    /// Set to `true` when `to` is older than `from` on purpose (a downgrade test).
    #[serde(default)]
    pub downgrade: bool,
    /// Where the binaries come from: `local` (built by the project from the PyPI
    /// binaries) or `upstream` (taken from Docker images, see `images`).
    #[schemars(with = "Distribution")]
    pub distribution: Spanned<Distribution>,
    /// `upstream` only: per version (`from`, `to`), the Docker images its Mesos programs are
    /// taken from, e.g. `"1.7.3": [mesosphere/mesos-master:1.7.3, mesosphere/mesos-slave:1.7.3]`
    /// (references or local image IDs; an image missing on the engine is pulled). The first
    /// image that has a role's program (`mesos-master`; `mesos-agent` or, before 1.0,
    /// `mesos-slave`) gives it. `[]`: no public image is known for that version. Replaced per
    /// version by `run --image VERSION=REF` and `UPGRADE_HARNESS_IMAGES`.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, Vec<String>>")]
    pub images: BTreeMap<String, Spanned<Vec<String>>>,
    /// How many nodes of each kind the cluster has.
    pub topology: Topology,
    /// Long-running tasks started before the first step that must survive the upgrade.
    #[serde(default)]
    pub workload: Workload,
    /// Whether `steps` follow the documented procedure of the upgrade notes for this
    /// path, the six-step order inferred for 1.x paths, or deviate from it (with a reason).
    #[schemars(with = "Order")]
    pub order: Spanned<Order>,
    /// The upgrade steps, in the order they are performed.
    #[schemars(with = "Vec<Step>")]
    pub steps: Vec<Spanned<Step>>,
    /// Explicit checks, each made at one phase.
    #[serde(default)]
    #[schemars(with = "Vec<Check>")]
    pub checks: Vec<Spanned<Check>>,
    /// Extra probes whose answers are recorded (and snapshot) at every phase,
    /// beside the built-in ones.
    #[serde(default)]
    #[schemars(with = "Vec<Probe>")]
    pub probes: Vec<Spanned<Probe>>,
    /// Properties checked after every step. Defaults to all of them.
    #[serde(default = "Invariant::all")]
    pub invariants: Vec<Invariant>,
    /// Vendor modules loaded by masters or agents (rebuilt by `rebuild_modules`).
    #[serde(default)]
    #[schemars(with = "Vec<Module>")]
    pub modules: Vec<Spanned<Module>>,
    /// Your own frameworks, started after the cluster (and the built-in workload) and checked
    /// after every phase: same framework ID, their tasks running with the same IDs, their
    /// health (docs/scenarios.md, "Your own frameworks").
    #[serde(default)]
    #[schemars(with = "Vec<Framework>")]
    pub frameworks: Vec<Spanned<Framework>>,
    /// Mistakes made when the cluster is set up (known-bad upgrades, `scenarios/must-fail/`).
    #[serde(default)]
    pub mistakes: Vec<SetupMistake>,
    /// A must-fail scenario: the failure the harness must report (first failure at this
    /// phase, by this invariant, check or action, saying this). The run passes only then.
    #[serde(default)]
    #[schemars(with = "Option<ExpectFailure>")]
    pub expect_failure: Option<Spanned<ExpectFailure>>,
    /// Mesos timing flags for this run instead of the harness's fast ones (docs/scenarios.md,
    /// "Timeouts"): e.g. a production cluster's, to see its upgrade take the time it takes.
    #[serde(default)]
    pub timeouts: Timeouts,
}

/// Mesos timing flags, each in Mesos's duration syntax (`15secs`, `500ms`, `1mins`); an
/// absent one keeps the harness's value. Mesos's own defaults are in parentheses.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Timeouts {
    /// Master `--agent_ping_timeout` (Mesos: `15secs`; harness: `1secs`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub agent_ping_timeout: Option<Spanned<String>>,
    /// Master `--max_agent_ping_timeouts` (Mesos: 5; harness: 6).
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(min = 1))]
    pub max_agent_ping_timeouts: Option<Spanned<u32>>,
    /// Agent `--executor_reregistration_timeout` (Mesos: `2secs`; harness: `1secs`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub executor_reregistration_timeout: Option<Spanned<String>>,
    /// Agent `--registration_backoff_factor` (Mesos: `1secs`; harness: `100ms`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub registration_backoff_factor: Option<Spanned<String>>,
    /// Master and agent `--zk_session_timeout`, HA only (Mesos: `10secs`; harness: `2secs`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub zk_session_timeout: Option<Spanned<String>>,
}

/// A `timeouts:` value that is not valid (for the declarations that copy `timeouts:` into
/// generated scenarios: `compat`, `certify`).
pub enum TimeoutProblem<'a> {
    /// A duration Mesos would refuse: field name, the value, why.
    Duration(&'static str, &'a Spanned<String>, String),
    /// `max_agent_ping_timeouts: 0`.
    NoPings(&'a Spanned<u32>),
}

impl Timeouts {
    /// The `timeouts:` lines of a generated scenario (`name`, `value`), in the format's field
    /// order (the ping count right after the ping timeout), and the values that are invalid.
    pub fn lines(&self) -> (Vec<(String, String)>, Vec<TimeoutProblem<'_>>) {
        let (mut lines, mut problems) = (Vec::new(), Vec::new());
        for (name, value) in self.durations() {
            if let Some(value) = value {
                match crate::mesos::roles::parse_mesos_duration(&value.value) {
                    Ok(_) => lines.push((name.to_string(), value.value.clone())),
                    Err(e) => problems.push(TimeoutProblem::Duration(name, value, e.to_string())),
                }
            }
            if let (Some(n), "agent_ping_timeout") = (&self.max_agent_ping_timeouts, name) {
                if n.value == 0 {
                    problems.push(TimeoutProblem::NoPings(n));
                }
                lines.push(("max_agent_ping_timeouts".to_string(), n.value.to_string()));
            }
        }
        (lines, problems)
    }

    /// The duration fields, by name, as written.
    pub fn durations(&self) -> [(&'static str, Option<&Spanned<String>>); 4] {
        [
            ("agent_ping_timeout", self.agent_ping_timeout.as_ref()),
            (
                "executor_reregistration_timeout",
                self.executor_reregistration_timeout.as_ref(),
            ),
            (
                "registration_backoff_factor",
                self.registration_backoff_factor.as_ref(),
            ),
            ("zk_session_timeout", self.zk_session_timeout.as_ref()),
        ]
    }
}

impl Scenario {
    /// `from` as a version. Validation refuses a scenario whose `from` does not parse, so
    /// a loaded scenario always has one; an unvalidated one gets `0.0.0`.
    pub fn from_version(&self) -> Version {
        self.from.value.parse().unwrap_or(Version::new(0, 0, 0))
    }

    /// `to` as a version (see [`Scenario::from_version`]).
    pub fn to_version(&self) -> Version {
        self.to.value.parse().unwrap_or(Version::new(0, 0, 0))
    }
}

/// Cluster shape. Node names follow from it: `zk-1`, `master-1`..`master-N`, `agent-1`..`agent-N`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Topology {
    /// ZooKeeper servers (0 = standalone master; needed for more than one master; at most 7).
    /// `run` builds one: ensembles validate and plan, but cannot run here yet.
    #[serde(default)]
    #[schemars(with = "u32", range(max = 7))]
    pub zookeeper: Option<Spanned<u32>>,
    /// Masters (1-7).
    #[schemars(with = "u32", range(min = 1, max = 7))]
    pub masters: Spanned<u32>,
    /// Agents (1-50).
    #[schemars(with = "u32", range(min = 1, max = 50))]
    pub agents: Spanned<u32>,
    /// How a master is stopped for its restart: `crash` (the default: SIGTERM, which a real
    /// `mesos-master` does not handle, so with ZooKeeper the others wait for its session to
    /// expire) or `graceful` (the master terminates, then withdraws its ZooKeeper candidacy:
    /// the next leader is elected at once). Only HA masters stop differently.
    #[serde(default)]
    pub master_stop: MasterStop,
}

/// The work that runs through the upgrade.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// Long-running tasks launched before the first step (spread over the agents).
    #[serde(default)]
    pub tasks: u32,
    /// Whether the test framework subscribes with checkpointing (`FrameworkInfo.checkpoint`);
    /// without it tasks are expected to be lost when their agent restarts.
    #[serde(default = "yes")]
    pub checkpoint: bool,
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            tasks: 0,
            checkpoint: true,
        }
    }
}

fn yes() -> bool {
    true
}

/// A default value for a `Spanned` field the file does not write (it has no location).
fn unspanned<T: Default>() -> Spanned<T> {
    Spanned::new(T::default(), Location::UNKNOWN, Location::UNKNOWN)
}

fn leading_master() -> Spanned<Target> {
    unspanned()
}

/// How `steps` relate to the documented procedure.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Order {
    /// Exactly the numbered steps of the upgrade notes for this path.
    Documented,
    /// The notes give no numbered steps for this path (most 1.x versions); the
    /// six-step order of 0.22+ is used.
    Inferred,
    /// Deliberately different from the documented order; say why.
    Deviates {
        /// Why the scenario does not follow the documented order.
        reason: String,
    },
}

/// One upgrade step. Written as a bare name (`- upgrade_masters`) or as a one-key map
/// with options (`- restart_agents_with_flag: { flags: { checkpoint: "true" } }`).
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// What the step does.
    pub kind: StepKind,
    /// Its options.
    pub options: StepOptions,
}

/// Options of a step; all optional.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepOptions {
    /// Name of the phase after this step, when the default (`<step>`, or `<step>#2`
    /// for the second one of a kind) is not clear enough.
    #[serde(default)]
    pub phase: Option<String>,
    /// Flags (without `--`) set on the nodes this step (re)starts, e.g. `{ checkpoint: "true" }`.
    #[serde(default)]
    pub flags: BTreeMap<String, String>,
    /// Flags removed from the nodes this step (re)starts.
    #[serde(default)]
    pub unset_flags: Vec<String>,
    /// Why the step is here, or what the notes say about it.
    #[serde(default)]
    pub note: Option<String>,
    /// Fault steps: which node (`master` = the leader, `master-2`, `agent-1`, `agents`,
    /// `random`). Default `master`.
    #[serde(default)]
    pub target: Option<FaultTarget>,
    /// `pause_node`, `partition_node`: how long the fault lasts, in seconds (default 5).
    #[serde(default)]
    pub seconds: Option<u32>,
    /// `kill_node`: which version the killed process comes back at (default `same`).
    #[serde(default)]
    pub restart_as: Option<RestartAs>,
    /// Fault steps: what must hold again after the fault, and within how many seconds.
    #[serde(default)]
    pub expect: Option<FaultExpectation>,
    /// Steps that restart masters or agents one at a time: a mistake made while each node
    /// is down (`wipe_work_dir`, `delete_registry`, `kill_executors`).
    #[serde(default)]
    pub mistake: Option<Mistake>,
}

/// Which node a check or probe talks to: `master` (the leading master), `agents` (each
/// agent), or one node by name: `agent-2`, or the long form `{ node: agent-2 }`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Target {
    /// The leading master.
    #[default]
    Master,
    /// Every agent (the check must hold on each).
    Agents,
    /// One node by name, e.g. `agent-2`.
    Node(String),
}

impl Serialize for Target {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(match self {
            Target::Master => "master",
            Target::Agents => "agents",
            Target::Node(name) => name,
        })
    }
}

/// `master`, `agents`, a node name, or `{ node: <name> }` (a string is never a node called
/// `master` or `agents`: node names are `zk-N`, `master-N`, `agent-N`).
impl<'de> Deserialize<'de> for Target {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::{self, MapAccess, Visitor};

        struct TargetVisitor;

        impl<'de> Visitor<'de> for TargetVisitor {
            type Value = Target;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "`master`, `agents`, a node name such as `agent-2`, or `{ node: <name> }`",
                )
            }

            fn visit_str<E: de::Error>(self, name: &str) -> Result<Target, E> {
                Ok(match name {
                    "master" => Target::Master,
                    "agents" => Target::Agents,
                    node => Target::Node(node.to_string()),
                })
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Target, A::Error> {
                #[derive(Deserialize)]
                #[serde(rename_all = "snake_case")]
                enum Key {
                    Node,
                }
                let Some(Key::Node) = map.next_key::<Key>()? else {
                    return Err(de::Error::missing_field("node"));
                };
                let node: String = map.next_value()?;
                if map.next_key::<Key>()?.is_some() {
                    return Err(de::Error::duplicate_field("node"));
                }
                Ok(Target::Node(node))
            }
        }

        deserializer.deserialize_any(TargetVisitor)
    }
}

impl JsonSchema for Target {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Target".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Which node a check or probe talks to: `master` (the leading master), \
                `agents` (each agent), or one node by name (`agent-2`, or `{ node: agent-2 }`).",
            "oneOf": [
                { "description": "The leading master.", "const": "master" },
                { "description": "Every agent (the check must hold on each).", "const": "agents" },
                {
                    "description": "One node by name.",
                    "type": "string",
                    "pattern": "^(zk|master|agent)-[1-9][0-9]*$"
                },
                {
                    "description": "One node by name, long form.",
                    "type": "object",
                    "properties": { "node": { "type": "string", "pattern": "^(zk|master|agent)-[1-9][0-9]*$" } },
                    "required": ["node"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

/// An explicit expectation, made once at the named phase.
/// Exactly one of the check kinds (`status`, `json`, `metric_present`, `metric_absent`,
/// `flag`, `log_line`, `fails_to_start`) is given.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// The phase after which the check is made: `start`, a step's phase (`upgrade_masters`),
    /// or one node's action within a step (`upgrade_agents/agent-2`). `upgrade-harness plan`
    /// lists them.
    #[schemars(with = "String")]
    pub after: Spanned<String>,
    /// The node to ask. Default: the leading master.
    #[serde(default = "leading_master")]
    #[schemars(with = "Target")]
    pub on: Spanned<Target>,
    /// The change in the upgrade notes this check documents, e.g. `"1.0: /observe removed"`.
    #[serde(default)]
    pub documents: Option<String>,
    /// HTTP status code of an endpoint.
    #[serde(default)]
    pub status: Option<StatusCheck>,
    /// A field of an endpoint's JSON body.
    #[serde(default)]
    pub json: Option<JsonCheck>,
    /// A metric name that `/metrics/snapshot` must contain.
    #[serde(default)]
    pub metric_present: Option<String>,
    /// A metric name that `/metrics/snapshot` must not contain.
    #[serde(default)]
    pub metric_absent: Option<String>,
    /// A flag in `/flags` (present, absent or with a value).
    #[serde(default)]
    pub flag: Option<FlagCheck>,
    /// A line the node logged since the previous phase.
    #[serde(default)]
    pub log_line: Option<LogCheck>,
    /// The node's (re)start in this phase must fail, with this message in its output.
    #[serde(default)]
    pub fails_to_start: Option<FailsToStart>,
}

/// An HTTP request and the status code it must get.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusCheck {
    /// GET this path (starts with `/`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub get: Option<Spanned<String>>,
    /// POST to this path (starts with `/`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub post: Option<Spanned<String>>,
    /// Body of the POST.
    #[serde(default)]
    pub body: Option<String>,
    /// `Content-Type` of the POST body. Default `application/json`.
    #[serde(default)]
    pub content_type: Option<String>,
    /// The expected status code (100-599).
    #[schemars(with = "u16", range(min = 100, max = 599))]
    pub code: Spanned<u16>,
}

/// A JSON field of a GET response, addressed by a JSON pointer (RFC 6901).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JsonCheck {
    /// Path of the endpoint (starts with `/`).
    #[schemars(with = "String")]
    pub get: Spanned<String>,
    /// JSON pointer of the field, e.g. `/slaves/0/active`.
    pub field: String,
    /// `exists` (default), `absent`, or `equals` (with `value`).
    #[serde(default = "unspanned::<JsonExpectation>")]
    #[schemars(with = "JsonExpectation")]
    pub expect: Spanned<JsonExpectation>,
    /// The value the field must equal, with `expect: equals`. Quote strings that look like
    /// numbers: YAML reads `1.10` as the number 1.1.
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub value: Option<Spanned<serde_json::Value>>,
}

/// What a [`JsonCheck`] expects of its field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JsonExpectation {
    /// The field is there.
    #[default]
    Exists,
    /// The field is not there.
    Absent,
    /// The field equals `value`.
    Equals,
}

/// A flag as `/flags` reports it.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagCheck {
    /// Flag name without `--`.
    pub name: String,
    /// `present` (default), `absent`, or `equals` (with `value`).
    #[serde(default = "unspanned::<FlagExpectation>")]
    #[schemars(with = "FlagExpectation")]
    pub expect: Spanned<FlagExpectation>,
    /// The value the flag must have, with `expect: equals`.
    #[serde(default)]
    pub value: Option<String>,
}

/// What a [`FlagCheck`] expects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FlagExpectation {
    /// The flag is listed.
    #[default]
    Present,
    /// The flag is not listed.
    Absent,
    /// The flag has `value`.
    Equals,
}

/// A line in a node's log.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogCheck {
    /// Text the line contains.
    pub contains: String,
}

/// A start that must fail.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FailsToStart {
    /// Text the failing process prints, e.g. `Flag 'work_dir' is required`.
    pub message: String,
}

/// A request made at every phase; its answer is recorded and, if asked, snapshot.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    /// Name used in snapshot names (lowercase letters, digits, `-`, `_`).
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// The node to ask. Default: the leading master.
    #[serde(default = "leading_master")]
    #[schemars(with = "Target")]
    pub on: Spanned<Target>,
    /// GET this path (starts with `/`). Exactly one of `get` and `post`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub get: Option<Spanned<String>>,
    /// POST to this path (starts with `/`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub post: Option<Spanned<String>>,
    /// Body of the POST (e.g. a v1 operator API call).
    #[serde(default)]
    pub body: Option<String>,
    /// Whether the normalized answer is snapshot (default true); otherwise only its status code.
    #[serde(default = "yes")]
    pub snapshot: bool,
}

/// A property checked after every step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Invariant {
    /// Exactly one master leads.
    LeaderElected,
    /// Every agent is active with the ID it had at the start.
    AgentsRegistered,
    /// No agent was removed from the registry (`master/slave_removals` and
    /// `master/recovery_slave_removals` are 0 at the leader).
    NoAgentRemoved,
    /// The test framework is still registered with its ID.
    FrameworkRegistered,
    /// Every workload task is still running, with the same process.
    TasksRunning,
    /// No node is restarting in a loop.
    NoRestartLoop,
}

impl Invariant {
    /// The name as the scenario writes it (`leader_elected`); reports use it too.
    pub fn name(self) -> &'static str {
        match self {
            Invariant::LeaderElected => "leader_elected",
            Invariant::AgentsRegistered => "agents_registered",
            Invariant::NoAgentRemoved => "no_agent_removed",
            Invariant::FrameworkRegistered => "framework_registered",
            Invariant::TasksRunning => "tasks_running",
            Invariant::NoRestartLoop => "no_restart_loop",
        }
    }

    /// Every invariant, the default.
    pub fn all() -> Vec<Invariant> {
        use Invariant::*;
        vec![
            LeaderElected,
            AgentsRegistered,
            NoAgentRemoved,
            FrameworkRegistered,
            TasksRunning,
            NoRestartLoop,
        ]
    }
}

/// A framework of yours that runs through the upgrade in its own long-lived container on the
/// run's network. Its environment names the masters: `MESOS_MASTER` (`master-1:5050`, or the
/// `zk://` URL with ZooKeeper), `MESOS_MASTERS` (every master, `host:port,...`), `MESOS_ZK`
/// (with ZooKeeper), `FRAMEWORK_NAME`, and `FRAMEWORK_STATE_DIR` (a directory kept across its
/// restarts, for its framework ID).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    /// Its name in the run: the container is `fw-<name>`, its output `fw-<name>.log` in each
    /// phase's logs (lowercase letters, digits and `-`, at most 30).
    #[schemars(with = "String", regex(pattern = r"^[a-z0-9][a-z0-9-]{0,29}$"))]
    pub name: Spanned<String>,
    /// The name it registers with Mesos under (`FrameworkInfo.name`), how the harness finds
    /// its framework ID. Default: `name`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub registers_as: Option<Spanned<String>>,
    /// The program it starts with.
    #[schemars(with = "Program")]
    pub program: Spanned<Program>,
    /// The program `upgrade_schedulers` restarts it with (its build for `to`). Default: the
    /// same `program`.
    #[serde(default)]
    #[schemars(with = "Option<Program>")]
    pub upgrade_to: Option<Spanned<Program>>,
    /// Its executor: a binary (found like `program.binary`) copied into every agent node at
    /// `/opt/frameworks/<name>/<file>`; its path there is in `FRAMEWORK_EXECUTOR`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub executor: Option<Spanned<String>>,
    /// Arguments given to the program.
    #[serde(default)]
    pub args: Vec<String>,
    /// Environment of the program, on top of the harness's (`MESOS_MASTER`, ...).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// How the harness knows it is up: after its start (within 60 s) and after every phase.
    #[schemars(with = "Health")]
    pub healthy: Spanned<Health>,
    /// What must hold through the upgrade, checked after every phase.
    #[serde(default = "unspanned::<Keeps>")]
    #[schemars(with = "Keeps")]
    pub keeps: Spanned<Keeps>,
}

/// A program: a binary the harness copies into a container of its own making, or a locally
/// present image, or the harness's libmesos-linked framework. Exactly one of `binary`, `image`
/// and `libmesos_scheduler`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Program {
    /// A Linux binary: a path relative to the scenario file (or absolute), or a bare name
    /// looked up beside the harness binary (`target/debug/` for this crate's binaries), then
    /// in `PATH`. It runs in the run's node image (Debian, the Mesos libraries in
    /// `/opt/mesos/<version>/lib`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub binary: Option<Spanned<String>>,
    /// A Docker image present on the engine (never pulled): the container runs `command`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub image: Option<Spanned<String>>,
    /// With `image`: the program in the image and its first arguments (`args` follow).
    #[serde(default)]
    pub command: Vec<String>,
    /// The harness's framework linked against this Mesos version's libmesos (the C++
    /// scheduler driver; docs/libmesos-scheduler.md), built by the harness for that version:
    /// `1.7.3`. A version the run's node image holds (`from` or `to`); as `upgrade_to`, the
    /// `to` build relinks it (`upgrade_schedulers`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub libmesos_scheduler: Option<Spanned<String>>,
}

impl Program {
    /// The version of a `libmesos_scheduler` program.
    pub fn libmesos_version(&self) -> Option<crate::domain::Version> {
        self.libmesos_scheduler.as_ref()?.value.parse().ok()
    }
}

/// How the harness knows a framework is up. Exactly one of `http`, `log_line`, `registered`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Health {
    /// An HTTP endpoint of the framework that answers 2xx.
    #[serde(default)]
    pub http: Option<Endpoint>,
    /// A line its output contains (since its last start).
    #[serde(default)]
    pub log_line: Option<String>,
    /// Registered with the leading master, active, under its `registers_as` name.
    #[serde(default)]
    pub registered: bool,
}

/// An HTTP endpoint of a framework's container.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// The TCP port it listens on in its container.
    #[schemars(range(min = 1, max = 65535))]
    pub port: u16,
    /// GET this path (starts with `/`).
    #[schemars(with = "String")]
    pub path: Spanned<String>,
}

/// What a framework keeps through the upgrade.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Keeps {
    /// Its framework ID: registered and active at the leading master with the ID it had at
    /// the start (default true).
    #[serde(default = "yes")]
    pub framework_id: bool,
    /// Its tasks that must keep running with the IDs they had at the start.
    #[serde(default)]
    pub tasks: Option<KeptTasks>,
    /// Its own endpoints that must answer 2xx.
    #[serde(default)]
    pub endpoints: Vec<Endpoint>,
}

impl Default for Keeps {
    fn default() -> Self {
        Keeps {
            framework_id: true,
            tasks: None,
            endpoints: Vec::new(),
        }
    }
}

/// Tasks of a framework, by name or label: those running at the start (at least `count`)
/// must stay TASK_RUNNING with the same task IDs.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeptTasks {
    /// Task names (`TaskInfo.name`), each of which must run.
    #[serde(default)]
    pub names: Vec<String>,
    /// Labels a task must all carry to count (`key: value`).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// How many matching tasks must run at the start (default: one per name, else 1).
    #[serde(default)]
    pub count: Option<u32>,
}

/// A vendor module loaded by masters or agents (`docs/modules.md`): its builds per Mesos
/// version, how it is loaded, and the proof that it works. A node always loads the build of
/// the version it runs, once `rebuild_modules` installed it (before that, the `from` build).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Module {
    /// The module's name: the global symbol of its library, as listed in `--modules`
    /// (e.g. `org_example_touch`; the harness's fixtures are `org_upgrade_harness_touch`).
    #[schemars(with = "String", regex(pattern = r"^[A-Za-z_][A-Za-z0-9_]*$"))]
    pub name: Spanned<String>,
    /// The kind it declares. Only `Anonymous` modules are created without an activation
    /// flag; `Hook` modules are activated with `--hooks`.
    #[schemars(with = "ModuleKind")]
    pub kind: Spanned<ModuleKind>,
    /// Which nodes load it: `master`, `agents`, or both.
    #[schemars(with = "Vec<ModuleRole>", length(min = 1))]
    pub roles: Spanned<Vec<ModuleRole>>,
    /// A fixture module of the harness, built per version from its own source
    /// (`touch`, or a bad variant: `wrong-api`, `newer-version`, `unknown-kind`,
    /// `incompatible`, `create-null`). Give this or `builds`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub fixture: Option<Spanned<String>>,
    /// The vendor's library file per Mesos version (`from` and `to`), relative to the
    /// scenario file, e.g. `"1.11.0": builds/1.11.0/libexample.so`. Give this or `fixture`.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub builds: BTreeMap<String, Spanned<String>>,
    /// The module's parameters (`--modules` `parameters`), as key: value.
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    /// What shows that the module works on a node.
    #[schemars(with = "ModuleProof")]
    pub proof: Spanned<ModuleProof>,
}

/// The kind of a module, as its library declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum ModuleKind {
    /// Created by the master or agent as soon as it is listed.
    Anonymous,
    /// Activated by `--hooks`.
    Hook,
}

/// The nodes that load a module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ModuleRole {
    /// Every master.
    Master,
    /// Every agent.
    Agents,
}

/// The proof that a module works on a node: checked after every start of a node that loads
/// it (the file is removed before the start, so only that start's module can write it).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModuleProof {
    /// An absolute path in the node that the module writes (the fixtures write the file
    /// named by their `file` parameter).
    pub file: String,
}

/// A step is either a bare name or a one-key map `{ <name>: <options> }`.
impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::{self, MapAccess, Visitor};

        struct StepVisitor;

        impl<'de> Visitor<'de> for StepVisitor {
            type Value = Step;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a step name, or a map with one step name and its options")
            }

            fn visit_str<E: de::Error>(self, name: &str) -> Result<Step, E> {
                let kind = StepKind::deserialize(de::value::StrDeserializer::<E>::new(name))?;
                Ok(Step {
                    kind,
                    options: StepOptions::default(),
                })
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Step, A::Error> {
                let Some(kind) = map.next_key::<StepKind>()? else {
                    return Err(de::Error::invalid_length(0, &self));
                };
                let options = map.next_value::<Option<StepOptions>>()?.unwrap_or_default();
                if map.next_key::<de::IgnoredAny>()?.is_some() {
                    return Err(de::Error::custom(
                        "a step map has exactly one key, the step name; put options under it",
                    ));
                }
                Ok(Step { kind, options })
            }
        }

        deserializer.deserialize_any(StepVisitor)
    }
}

impl Topology {
    /// Node names of a role, in order (`master-1`, `master-2`, ...).
    pub fn nodes(&self, role: Role) -> Vec<String> {
        let count = match role {
            Role::ZooKeeper => self.zookeeper_count(),
            Role::Master => self.masters.value,
            Role::Agent => self.agents.value,
        };
        (1..=count).map(|i| role.node_name(i)).collect()
    }

    /// ZooKeeper servers (0 when not given).
    pub fn zookeeper_count(&self) -> u32 {
        self.zookeeper.as_ref().map_or(0, |z| z.value)
    }

    /// Every node name: `zk-*`, then `master-*`, then `agent-*`.
    pub fn node_names(&self) -> Vec<String> {
        let mut names = self.nodes(Role::ZooKeeper);
        names.extend(self.nodes(Role::Master));
        names.extend(self.nodes(Role::Agent));
        names
    }
}

/// The schema says what the custom `Deserialize` accepts: a step name, or a map with exactly
/// one step name whose value is the options (or empty).
impl JsonSchema for Step {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Step".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let kind = generator.subschema_for::<StepKind>();
        let options = generator.subschema_for::<Option<StepOptions>>();
        schemars::json_schema!({
            "description": "One upgrade step: a bare name (`- upgrade_masters`) or a one-key map with \
                options (`- restart_agents_with_flag: { flags: { checkpoint: \"true\" } }`).",
            "oneOf": [
                kind,
                {
                    "type": "object",
                    "minProperties": 1,
                    "maxProperties": 1,
                    "propertyNames": kind,
                    "additionalProperties": options
                }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invariant_names_are_the_serde_names() {
        for inv in Invariant::all() {
            assert_eq!(serde_json::to_value(inv).unwrap(), inv.name());
        }
    }
}
