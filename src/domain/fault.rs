//! The fault vocabulary (issue 17): what goes wrong during an upgrade, on which node, what a
//! mistaken operator does, and what must hold once the fault is over. Words of the scenario
//! format; their doc comments are part of its reference (`scenarios/schema.json`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Which node a fault step hits: `master` (the leader when the fault starts), a node by
/// name (`master-2`, `agent-1`), `agents` (every agent at once) or `random` (one master or
/// agent, drawn from the run's seed).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum FaultTarget {
    /// The leading master.
    #[default]
    Master,
    /// Every agent at once.
    Agents,
    /// One Mesos node drawn from the run's seed (0 without `--seed`).
    Random,
    /// One node by name.
    Node(String),
}

impl FaultTarget {
    /// As the scenario writes it.
    pub fn name(&self) -> &str {
        match self {
            FaultTarget::Master => "master",
            FaultTarget::Agents => "agents",
            FaultTarget::Random => "random",
            FaultTarget::Node(n) => n,
        }
    }
}

impl std::str::FromStr for FaultTarget {
    type Err = String;
    fn from_str(s: &str) -> Result<FaultTarget, String> {
        Ok(match s {
            "master" => FaultTarget::Master,
            "agents" => FaultTarget::Agents,
            "random" => FaultTarget::Random,
            n if valid_node_name(n) => FaultTarget::Node(n.to_string()),
            other => {
                return Err(format!(
                    "`{other}` is no fault target: write `master`, `agents`, `random` or a node name such as `agent-1`"
                ))
            }
        })
    }
}

fn valid_node_name(n: &str) -> bool {
    ["master-", "agent-"].iter().any(|p| {
        n.strip_prefix(p).is_some_and(|i| {
            !i.is_empty() && !i.starts_with('0') && i.chars().all(|c| c.is_ascii_digit())
        })
    })
}

impl<'de> Deserialize<'de> for FaultTarget {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for FaultTarget {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl JsonSchema for FaultTarget {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "FaultTarget".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Which node a fault hits: `master` (the leader when the fault starts), \
                `agents` (every agent at once), `random` (one master or agent drawn from the run's \
                seed), or a node by name (`master-2`, `agent-1`).",
            "oneOf": [
                { "const": "master" },
                { "const": "agents" },
                { "const": "random" },
                { "type": "string", "pattern": "^(master|agent)-[1-9][0-9]*$" }
            ]
        })
    }
}

/// Which version a killed node's process comes back at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RestartAs {
    /// The version it ran when it was killed.
    #[default]
    Same,
    /// The scenario's `from` version (for a downgrade of that node).
    From,
    /// The scenario's `to` version.
    To,
}

/// What the tasks on the faulted agents must do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TasksAfterFault {
    /// Keep running with the same processes (checkpointed recovery).
    #[default]
    Running,
    /// Lost: each must be reported in a terminal state (LOST, GONE, FAILED, UNREACHABLE...);
    /// `tasks_running` then leaves them out.
    Lost,
}

/// What must hold again after a fault, and how soon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FaultExpectation {
    /// Seconds from the end of the fault (restart, unpause, reconnect) until a master leads,
    /// every agent is active with its ID and the framework is registered again.
    #[serde(default = "default_within")]
    pub within: u32,
    /// What the tasks of the faulted agents do.
    #[serde(default)]
    pub tasks: TasksAfterFault,
}

fn default_within() -> u32 {
    60
}

impl Default for FaultExpectation {
    fn default() -> Self {
        FaultExpectation {
            within: default_within(),
            tasks: TasksAfterFault::Running,
        }
    }
}

/// A mistake an operator makes while a node is down for one of this step's restarts (a
/// known-bad upgrade the invariants must catch; `scenarios/must-fail/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mistake {
    /// Agents: the agent's `work_dir` is emptied (it comes back as a new agent).
    WipeWorkDir,
    /// Masters: the master's registry (its replicated log in `work_dir`) is deleted.
    DeleteRegistry,
    /// Agents: the tasks' executors (and their processes) are SIGKILLed.
    KillExecutors,
    /// Masters or agents: the scenario's own frameworks (`frameworks:`) are SIGKILLed and not
    /// started again.
    KillFrameworks,
}

impl Mistake {
    pub fn name(self) -> &'static str {
        match self {
            Mistake::WipeWorkDir => "wipe_work_dir",
            Mistake::DeleteRegistry => "delete_registry",
            Mistake::KillExecutors => "kill_executors",
            Mistake::KillFrameworks => "kill_frameworks",
        }
    }
}

/// A mistake made when the cluster is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SetupMistake {
    /// Agents have no `mesos-executor` file in their `launcher_dir` (the stale 1.4.x
    /// `mesos-executor` case of `tasks.md`).
    RemoveMesosExecutor,
    /// `rebuild_modules` leaves the `from` module builds in place: upgraded nodes load the
    /// stale build, which the loader rejects (`docs/modules.md`).
    StaleModuleBuild,
}

/// The failure a must-fail scenario expects: the harness must catch the bad upgrade at
/// exactly this phase, by this invariant, check or action.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectFailure {
    /// The phase of the first failure (`upgrade_agents/agent-1`; an action's failure is at
    /// the phase its action leads to).
    pub phase: String,
    /// What fails there: an invariant name (`tasks_running`), `check`, or `action`.
    pub by: String,
    /// Text the failure says (its `seen`, or the failed action's reason).
    pub contains: String,
}
