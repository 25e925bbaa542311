//! The plan's types: nodes, actions, phases, and the queries the runner and reports make.

use std::collections::{BTreeMap, BTreeSet};

use crate::domain::{
    Distribution, FaultExpectation, FaultTarget, MasterStop, Mistake, RestartAs, Role, StepKind,
    Version,
};
use crate::scenario::model::Order;

/// A scenario resolved into concrete actions and phases, in execution order.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The scenario's `name`.
    pub scenario: String,
    /// The version the cluster starts at.
    pub from: Version,
    /// The version every component runs at the end.
    pub to: Version,
    /// Where the binaries come from; decides how a node changes version (see [`NodeModel`]).
    pub distribution: Distribution,
    /// How a version change happens in a node.
    pub node_model: NodeModel,
    /// How the steps relate to the documented procedure.
    pub order: Order,
    /// `upstream`: the images the scenario names per version (empty for `local`).
    pub images: BTreeMap<Version, Vec<String>>,
    /// The nodes of the cluster as they are started.
    pub nodes: Vec<Node>,
    /// How a master is stopped for its restart (differs only with ZooKeeper).
    pub master_stop: MasterStop,
    /// Actions and phases, in execution order.
    pub entries: Vec<Entry>,
    /// The seed of a randomized plan (`--seed N`, `--random`), and what it chose.
    pub seed: Option<u64>,
    /// The choices the seed made, in words (empty without a seed).
    pub variations: Vec<String>,
    /// Mistakes made when the cluster is set up (the scenario's `mistakes`).
    pub setup_mistakes: Vec<crate::domain::SetupMistake>,
}

/// How a node changes the Mesos version it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeModel {
    /// Every distribution: a node is one long-lived host container holding the builds of
    /// every version the scenario needs (`/opt/mesos/<version>`: built here for `local`,
    /// taken from images for `upstream`); an upgrade stops the Mesos process of one version
    /// and starts the other's in the same node. Executors and tasks live on.
    ProcessInHost,
}

/// A node of the cluster as it is started.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// `zk-1`, `master-1`, `agent-1`, ...: also its hostname and network alias.
    pub name: String,
    /// What runs in it.
    pub role: Role,
    /// The Mesos version it starts with (`None` for ZooKeeper).
    pub version: Option<Version>,
    /// What the node is made of.
    pub image: NodeImage,
}

/// What a node is made of.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeImage {
    /// A host container holding one build per version at `/opt/mesos/<version>`: for `local`
    /// the content of the standalone image `upgrade-harness/mesos:<version>`, for `upstream`
    /// the programs and libraries taken from the version's images.
    Host {
        /// The versions whose builds the node holds, in the order the scenario uses them.
        builds: Vec<Version>,
    },
    /// One image (ZooKeeper).
    Image(String),
}

/// One entry of a plan: an action, or a phase reached after it.
// A plan has tens of entries: boxing actions would buy nothing but noise in every match.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// Something to do.
    Action(Action),
    /// A checkpoint: invariants, checks and probes are evaluated here.
    Phase(Phase),
}

/// A checkpoint between actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phase {
    /// The name checks use in `after:` (see the module documentation).
    pub name: String,
    /// After what this phase comes.
    pub scope: PhaseScope,
    /// How many of the scenario's explicit checks are made here.
    pub checks: usize,
}

/// After what a phase comes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhaseScope {
    /// The cluster and workload have started.
    Start,
    /// One node's action within a step (index into the scenario's steps, node name).
    Node {
        /// Index of the step in the scenario's `steps` (0-based).
        step: usize,
        /// The node.
        node: String,
    },
    /// A whole step (index into the scenario's `steps`, 0-based).
    Step(usize),
}

/// The step an action belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRef {
    /// Index in the scenario's `steps` (0-based).
    pub index: usize,
    /// The step's kind.
    pub kind: StepKind,
    /// Line of the step in the scenario file (1-based; 0 when unknown).
    pub line: u64,
    /// The step's phase name.
    pub phase: String,
}

/// What an action does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionKind {
    /// Start a node and its process (ZooKeeper, or Mesos at the node's version).
    StartNode,
    /// Start the test framework and its long-running tasks.
    StartWorkload {
        /// Number of tasks.
        tasks: u32,
        /// Whether the framework subscribes with `checkpoint: true`.
        checkpoint: bool,
    },
    /// Start one of the scenario's own frameworks (`frameworks[index]`) and wait until it
    /// is healthy.
    StartFramework {
        /// Its name.
        name: String,
        /// Its index in `frameworks`.
        index: usize,
    },
    /// Install the new binaries and restart (`upgrade_masters`, `upgrade_agents`): the
    /// process of the old version is replaced by the new version's.
    ReplaceProcess,
    /// Install the new binaries without restarting; they run from the node's next restart.
    InstallBinaries,
    /// Restart the process (at the installed version).
    RestartProcess,
    /// Restart the process (at the installed version) with changed flags.
    RestartWithFlags,
    /// Change the agent host's cgroups mounts to one mountpoint per controller; nothing
    /// restarts (the reboot that the notes advise is its own step).
    ReconfigureCgroupsMounts,
    /// Reboot the host: everything on it dies, the disk is kept; Mesos comes back at the
    /// installed version.
    RebootNode,
    /// Relink the schedulers against the new version (takes effect when they restart).
    SchedulerUpgrade,
    /// Set `FrameworkInfo.checkpoint` in the scheduler (takes effect when it restarts).
    SetFrameworkCheckpoint,
    /// Restart the schedulers: disconnect, re-subscribe with the same framework ID.
    SchedulerFailover,
    /// New executors use the new version's build; running ones are left alone.
    ExecutorUpgrade,
    /// Rebuild the named modules for the new version.
    RebuildModules {
        /// Module names.
        modules: Vec<String>,
    },
    /// A fault (a `kill_node`, `pause_node`, ... step, or one a seed inserted).
    Fault(Fault),
    /// Wait this many seconds before the next action (a randomized plan's pause).
    Pause {
        /// Seconds.
        seconds: u32,
    },
    /// Nothing to do; the reason says why.
    NoOp {
        /// Why nothing happens.
        reason: String,
    },
}

/// A version before and after an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionChange {
    /// Before the action.
    pub before: Version,
    /// After the action.
    pub after: Version,
}

impl VersionChange {
    pub(super) fn new(before: Version, after: Version) -> VersionChange {
        VersionChange { before, after }
    }

    /// Whether the version actually changes.
    pub fn changes(&self) -> bool {
        self.before != self.after
    }
}

/// One concrete action.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    /// Position in the plan's listing (1-based, counting actions only).
    pub number: usize,
    /// The step it belongs to (`None` while starting the cluster).
    pub step: Option<StepRef>,
    /// What it does.
    pub kind: ActionKind,
    /// The node it acts on, if any (scheduler, executor and module actions have none).
    pub node: Option<String>,
    /// That node's role.
    pub role: Option<Role>,
    /// The running version before and after (node actions; the scheduler for failovers).
    pub running: Option<VersionChange>,
    /// The installed version before and after (node actions; the scheduler's linked library
    /// for scheduler upgrades; the executors' build for executor upgrades).
    pub installed: Option<VersionChange>,
    /// Flags set by this action (without `--`).
    pub flags_set: BTreeMap<String, String>,
    /// Flags removed by this action.
    pub flags_unset: Vec<String>,
    /// The node's flag overrides in force after this action (Mesos nodes only): everything
    /// earlier steps set or removed, as on a real host whose configuration persists. The
    /// runtime applies them over its default flags at every (re)start.
    pub overrides: Option<FlagOverrides>,
    /// The step's `note`, on the step's first action.
    pub note: Option<String>,
    /// A mistake made while the node is down for this action (`mistake:` of the step).
    pub mistake: Option<Mistake>,
}

/// A fault the run injects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// `kill_node`, `pause_node`, `partition_node`, `restart_zookeeper` or `restart_framework`.
    pub kind: StepKind,
    /// The node (resolved: never `random`; `master` is the leader when the fault starts).
    pub target: FaultTarget,
    /// How long a pause or partition lasts.
    pub seconds: u32,
    /// `kill_node`: the version the node comes back at.
    pub restart_as: RestartAs,
    /// What must hold again, and how soon.
    pub expect: FaultExpectation,
}

/// Flags changed by the scenario's steps on one node, relative to the runtime's defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlagOverrides {
    /// Flags set, with their values (without `--`).
    pub set: BTreeMap<String, String>,
    /// Flags removed (including ones the runtime would otherwise pass, like `work_dir`).
    pub unset: BTreeSet<String>,
}

impl FlagOverrides {
    pub(super) fn apply(&mut self, set: &BTreeMap<String, String>, unset: &[String]) {
        for name in unset {
            self.set.remove(name);
            self.unset.insert(name.clone());
        }
        for (name, value) in set {
            self.unset.remove(name);
            self.set.insert(name.clone(), value.clone());
        }
    }
}

impl Plan {
    /// The phase names, in order.
    pub fn phases(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter_map(|e| match e {
                Entry::Phase(p) => Some(p.name.clone()),
                Entry::Action(_) => None,
            })
            .collect()
    }

    /// The actions, in order.
    pub fn actions(&self) -> impl Iterator<Item = &Action> {
        self.entries.iter().filter_map(|e| match e {
            Entry::Action(a) => Some(a),
            Entry::Phase(_) => None,
        })
    }

    /// The flag overrides in force on `node` when action `number` is performed.
    pub fn overrides_before(&self, node: &str, number: usize) -> FlagOverrides {
        self.actions()
            .take_while(|a| a.number <= number)
            .filter(|a| a.node.as_deref() == Some(node))
            .filter_map(|a| a.overrides.clone())
            .last()
            .unwrap_or_default()
    }

    /// The version each Mesos node runs after the last action (what the plan ends at).
    pub fn final_versions(&self) -> BTreeMap<String, Version> {
        let mut out: BTreeMap<String, Version> = BTreeMap::new();
        for a in self.actions() {
            if let (Some(node), Some(running)) = (&a.node, &a.running) {
                out.insert(node.clone(), running.after);
            }
        }
        out
    }

    /// The version each Mesos node runs when `phase` is reached (`None` for an unknown
    /// phase): what readiness waits for and what `/version` must answer there.
    pub fn versions_at(&self, phase: &str) -> Option<BTreeMap<String, Version>> {
        let mut out: BTreeMap<String, Version> = BTreeMap::new();
        for e in &self.entries {
            match e {
                Entry::Action(a) => {
                    if let (Some(node), Some(running)) = (&a.node, &a.running) {
                        out.insert(node.clone(), running.after);
                    }
                }
                Entry::Phase(p) if p.name == phase => return Some(out),
                Entry::Phase(_) => {}
            }
        }
        None
    }
}
