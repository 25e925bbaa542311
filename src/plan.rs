//! Plans: a scenario resolved into the ordered list of concrete actions, with the phases
//! (checkpoints where the cluster is probed) between them.
//!
//! Pure: no I/O, no Docker. `upgrade-harness plan FILE` prints a [`Plan`] with its
//! [`Display`](fmt::Display) implementation, and `tests/scenarios.rs` snapshot-tests that
//! listing for every scenario file, so the listing must stay stable.
//!
//! # Phase names
//! - `start`: after the cluster (and the workload, if any) has started.
//! - `<step phase>/<node>`: after one node's action within a step that (re)starts processes
//!   or hosts (`upgrade_*`, `restart_*`, `reboot_agents`), e.g. `upgrade_agents/agent-2`.
//!   Steps that change no running process (`install_*_binaries`,
//!   `reconfigure_agent_cgroups_mounts`) and single-action steps (scheduler, executor,
//!   module steps) have no per-node phases.
//! - `<step phase>`: after the whole step. The step phase is the step's `phase:` option, or
//!   else the step kind's snake_case name, with `#2`, `#3`, ... for the second, third, ...
//!   step of the same kind without a `phase:` option (`restart_masters_with_flag#2`).
//!   The rule is implemented once, in [`crate::scenario::phases`]; the plan uses it.
//!
//! # Versions
//! Every Mesos node has an installed version and a running version. `upgrade_*` steps change
//! both; `install_*_binaries` changes only the installed one, which the node runs from its
//! next restart (`restart_*`, `reboot_agents`). The same holds for the schedulers:
//! `upgrade_schedulers` links the new library, `restart_schedulers` makes it run.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::domain::{Distribution, MasterStop, Role, StepKind, Version};
use crate::mesos::distribution::{
    local_image, process_name, upstream_image, LOCAL_ZOOKEEPER_IMAGE, UPSTREAM_ZOOKEEPER_IMAGE,
};
use crate::scenario::model::{Order, Scenario, Step};
use crate::scenario::phases::{step_phases, START};

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
    /// The nodes of the cluster as they are started.
    pub nodes: Vec<Node>,
    /// How a master is stopped for its restart (differs only with ZooKeeper).
    pub master_stop: MasterStop,
    /// Actions and phases, in execution order.
    pub entries: Vec<Entry>,
}

/// How a node changes the Mesos version it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeModel {
    /// `local`: a node is one long-lived host container holding the builds of every version
    /// the scenario needs (`/opt/mesos/<version>`); an upgrade stops the Mesos process of one
    /// version and starts the other's in the same node. Executors and tasks live on.
    ProcessInHost,
    /// `upstream`: one public image per version, Mesos is the container's main process; a
    /// version change replaces the container (same name, address and volumes), and a restart
    /// restarts it. Executors and tasks on an agent node do not survive either.
    ContainerPerVersion,
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
    /// A host container holding one build per version (local distribution), each the content
    /// of the standalone image `upgrade-harness/mesos:<version>`, at `/opt/mesos/<version>`.
    Host {
        /// The versions whose builds the node holds, in the order the scenario uses them.
        builds: Vec<Version>,
    },
    /// One image (ZooKeeper, or an upstream Mesos image for the node's starting version).
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
    fn new(before: Version, after: Version) -> VersionChange {
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
    fn apply(&mut self, set: &BTreeMap<String, String>, unset: &[String]) {
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

/// The phase names of a scenario, in order (what checks may name in `after:`): the same
/// list as [`crate::scenario::phases::phases`], which validation uses (a test keeps them equal).
pub fn phases(s: &Scenario) -> Vec<String> {
    plan(s).phases()
}

/// What a step does to the nodes of its role.
#[derive(Clone, Copy, PartialEq, Eq)]
enum NodeEffect {
    Replace,
    Install,
    Restart,
    RestartWithFlags,
    Reconfigure,
    Reboot,
}

fn node_step(kind: StepKind) -> Option<(Role, NodeEffect)> {
    use StepKind::*;
    Some(match kind {
        UpgradeMasters => (Role::Master, NodeEffect::Replace),
        InstallMasterBinaries => (Role::Master, NodeEffect::Install),
        RestartMasters => (Role::Master, NodeEffect::Restart),
        RestartMastersWithFlag => (Role::Master, NodeEffect::RestartWithFlags),
        UpgradeAgents => (Role::Agent, NodeEffect::Replace),
        InstallAgentBinaries => (Role::Agent, NodeEffect::Install),
        RestartAgents => (Role::Agent, NodeEffect::Restart),
        RestartAgentsWithFlag => (Role::Agent, NodeEffect::RestartWithFlags),
        ReconfigureAgentCgroupsMounts => (Role::Agent, NodeEffect::Reconfigure),
        RebootAgents => (Role::Agent, NodeEffect::Reboot),
        RebuildModules
        | UpgradeSchedulers
        | SetFrameworkCheckpoint
        | RestartSchedulers
        | UpgradeExecutors => return None,
    })
}

/// Versions and flag overrides of one Mesos node (or of the schedulers) while planning.
struct Tracked {
    installed: Version,
    running: Version,
    overrides: FlagOverrides,
}

struct Builder {
    entries: Vec<Entry>,
    actions: usize,
}

impl Builder {
    fn action(&mut self, mut action: Action) {
        self.actions += 1;
        action.number = self.actions;
        self.entries.push(Entry::Action(action));
    }

    fn phase(&mut self, name: String, scope: PhaseScope) {
        self.entries.push(Entry::Phase(Phase {
            name,
            scope,
            checks: 0,
        }));
    }
}

fn blank(kind: ActionKind, step: Option<StepRef>) -> Action {
    Action {
        number: 0,
        step,
        kind,
        node: None,
        role: None,
        running: None,
        installed: None,
        flags_set: BTreeMap::new(),
        flags_unset: Vec::new(),
        overrides: None,
        note: None,
    }
}

/// Resolve a scenario into its plan. Pure; works on any scenario that deserialized, valid
/// or not (validation reports what is wrong; the plan just follows the file).
pub fn plan(s: &Scenario) -> Plan {
    let (from, to) = (s.from_version(), s.to_version());
    let distribution = s.distribution.value;
    let node_model = match distribution {
        Distribution::Local => NodeModel::ProcessInHost,
        Distribution::Upstream => NodeModel::ContainerPerVersion,
    };
    let zookeepers = s.topology.zookeeper.as_ref().map_or(0, |z| z.value);
    let masters = s.topology.masters.value;
    let agents = s.topology.agents.value;

    let builds = if from == to {
        vec![from]
    } else {
        vec![from, to]
    };
    let mut nodes = Vec::new();
    for i in 1..=zookeepers {
        let image = match distribution {
            Distribution::Local => LOCAL_ZOOKEEPER_IMAGE.to_string(),
            Distribution::Upstream => UPSTREAM_ZOOKEEPER_IMAGE.to_string(),
        };
        nodes.push(Node {
            name: format!("zk-{i}"),
            role: Role::ZooKeeper,
            version: None,
            image: NodeImage::Image(image),
        });
    }
    for (role, count) in [(Role::Master, masters), (Role::Agent, agents)] {
        for i in 1..=count {
            let image = match distribution {
                Distribution::Local => NodeImage::Host {
                    builds: builds.clone(),
                },
                Distribution::Upstream => NodeImage::Image(upstream_image(role, from)),
            };
            nodes.push(Node {
                name: format!("{}-{i}", role.as_str()),
                role,
                version: Some(from),
                image,
            });
        }
    }

    let mut b = Builder {
        entries: Vec::new(),
        actions: 0,
    };
    let mut state: BTreeMap<String, Tracked> = BTreeMap::new();
    for node in &nodes {
        let mut a = blank(ActionKind::StartNode, None);
        a.node = Some(node.name.clone());
        a.role = Some(node.role);
        if let Some(v) = &node.version {
            a.running = Some(VersionChange::new(*v, *v));
            state.insert(
                node.name.clone(),
                Tracked {
                    installed: *v,
                    running: *v,
                    overrides: FlagOverrides::default(),
                },
            );
            a.overrides = Some(FlagOverrides::default());
        }
        b.action(a);
    }
    let workload = s.workload.tasks > 0;
    let mut scheduler = Tracked {
        installed: from,
        running: from,
        overrides: FlagOverrides::default(),
    };
    if workload {
        let mut a = blank(
            ActionKind::StartWorkload {
                tasks: s.workload.tasks,
                checkpoint: s.workload.checkpoint,
            },
            None,
        );
        a.running = Some(VersionChange::new(from, from));
        b.action(a);
    }
    b.phase(START.to_string(), PhaseScope::Start);

    let steps: Vec<Step> = s.steps.iter().map(|st| st.value.clone()).collect();
    let step_phases = step_phases(&steps);
    for (index, spanned) in s.steps.iter().enumerate() {
        let step = &spanned.value;
        let line = match spanned.referenced.line() {
            0 => spanned.defined.line(),
            l => l,
        };
        let sref = StepRef {
            index,
            kind: step.kind,
            line,
            phase: step_phases[index].clone(),
        };
        let note = step.options.note.clone();
        let mut first = true;
        let mut take_note = || {
            if std::mem::take(&mut first) {
                note.clone()
            } else {
                None
            }
        };

        if let Some((role, effect)) = node_step(step.kind) {
            let names: Vec<String> = nodes
                .iter()
                .filter(|n| n.role == role)
                .map(|n| n.name.clone())
                .collect();
            for name in names {
                let t = state.get_mut(&name).expect("every Mesos node is tracked");
                let installed_before = t.installed;
                let running_before = t.running;
                let kind = match effect {
                    NodeEffect::Replace => {
                        t.installed = to;
                        t.running = to;
                        ActionKind::ReplaceProcess
                    }
                    NodeEffect::Install => {
                        t.installed = to;
                        ActionKind::InstallBinaries
                    }
                    NodeEffect::Restart => {
                        t.running = t.installed;
                        ActionKind::RestartProcess
                    }
                    NodeEffect::RestartWithFlags => {
                        t.running = t.installed;
                        ActionKind::RestartWithFlags
                    }
                    NodeEffect::Reconfigure => ActionKind::ReconfigureCgroupsMounts,
                    NodeEffect::Reboot => {
                        t.running = t.installed;
                        ActionKind::RebootNode
                    }
                };
                let mut a = blank(kind, Some(sref.clone()));
                a.node = Some(name.clone());
                a.role = Some(role);
                a.running = Some(VersionChange::new(running_before, t.running));
                a.installed = Some(VersionChange::new(installed_before, t.installed));
                // Flags only matter to (re)starts; a step that starts nothing cannot apply them.
                let starts = !matches!(effect, NodeEffect::Install | NodeEffect::Reconfigure);
                if starts {
                    a.flags_set = step.options.flags.clone();
                    a.flags_unset = step.options.unset_flags.clone();
                    t.overrides.apply(&a.flags_set, &a.flags_unset);
                }
                a.overrides = Some(t.overrides.clone());
                a.note = take_note();
                b.action(a);
                if starts {
                    b.phase(
                        format!("{}/{}", sref.phase, name),
                        PhaseScope::Node {
                            step: index,
                            node: name.clone(),
                        },
                    );
                }
            }
        } else {
            let kind = match step.kind {
                StepKind::RebuildModules if s.modules.is_empty() => ActionKind::NoOp {
                    reason: "the scenario declares no modules: nothing to rebuild".to_string(),
                },
                StepKind::RebuildModules => ActionKind::RebuildModules {
                    modules: s.modules.iter().map(|m| m.value.name.clone()).collect(),
                },
                _ if !workload => ActionKind::NoOp {
                    reason: "the scenario has no workload: no test framework or executor runs"
                        .to_string(),
                },
                StepKind::UpgradeSchedulers => ActionKind::SchedulerUpgrade,
                StepKind::SetFrameworkCheckpoint => ActionKind::SetFrameworkCheckpoint,
                StepKind::RestartSchedulers => ActionKind::SchedulerFailover,
                StepKind::UpgradeExecutors => ActionKind::ExecutorUpgrade,
                _ => unreachable!("node steps are handled above"),
            };
            let mut a = blank(kind, Some(sref.clone()));
            match &a.kind {
                ActionKind::SchedulerUpgrade => {
                    a.installed = Some(VersionChange::new(scheduler.installed, to));
                    scheduler.installed = to;
                }
                ActionKind::SchedulerFailover => {
                    a.running = Some(VersionChange::new(scheduler.running, scheduler.installed));
                    scheduler.running = scheduler.installed;
                }
                ActionKind::ExecutorUpgrade => {
                    a.installed = Some(VersionChange::new(from, to));
                }
                _ => {}
            }
            a.note = take_note();
            b.action(a);
        }
        b.phase(sref.phase.clone(), PhaseScope::Step(index));
    }

    let mut entries = b.entries;
    for e in &mut entries {
        if let Entry::Phase(p) = e {
            p.checks = s
                .checks
                .iter()
                .filter(|c| c.value.after.value == p.name)
                .count();
        }
    }
    Plan {
        scenario: s.name.value.clone(),
        from,
        to,
        distribution,
        node_model,
        order: s.order.value.clone(),
        nodes,
        master_stop: s.topology.master_stop,
        entries,
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

    fn masters(&self) -> usize {
        self.nodes.iter().filter(|n| n.role == Role::Master).count()
    }
}

/// `with --a=b, without --c`: how a (re)start changes flags.
fn flag_list(set: &BTreeMap<String, String>, unset: &[String]) -> String {
    let mut parts: Vec<String> = set.iter().map(|(k, v)| format!("--{k}={v}")).collect();
    if !parts.is_empty() {
        parts[0] = format!("with {}", parts[0]);
    }
    parts.extend(unset.iter().map(|k| format!("without --{k}")));
    parts.join(", ")
}

impl Action {
    /// The action in words, as the plan listing and the run report both show it.
    pub fn describe(&self, model: NodeModel) -> String {
        let node = self.node.as_deref().unwrap_or("");
        let role = self.role.unwrap_or(Role::Agent);
        let running = self.running.as_ref();
        let installed = self.installed.as_ref();
        let proc_at = |v: Version| format!("{} {}", process_name(role, v), v);
        let executors_die = if role == Role::Agent {
            "; executors in it die"
        } else {
            ""
        };
        let restart_text = || -> String {
            let r = running.expect("restarts track the running version");
            let mut text = match (model, r.changes()) {
                (NodeModel::ProcessInHost, false) => {
                    format!("{node}: restart {} in node {node}", proc_at(r.after))
                }
                (NodeModel::ProcessInHost, true) => format!(
                    "{node}: restart: process {} replaced by the installed {} in node {node}",
                    proc_at(r.before),
                    r.after
                ),
                (NodeModel::ContainerPerVersion, false) => format!(
                    "{node}: restart container ({} is its main process{executors_die})",
                    proc_at(r.after)
                ),
                (NodeModel::ContainerPerVersion, true) => format!(
                    "{node}: restart: container replaced, {} -> installed {} (image {}{executors_die})",
                    proc_at(r.before),
                    r.after,
                    upstream_image(role, r.after)
                ),
            };
            let flags = flag_list(&self.flags_set, &self.flags_unset);
            if !flags.is_empty() {
                text.push_str(&format!(" {flags}"));
            }
            text
        };
        match &self.kind {
            ActionKind::StartNode => match running {
                None => format!("start node {node} (zookeeper)"),
                Some(r) => format!("start node {node}: {}", proc_at(r.after)),
            },
            ActionKind::StartWorkload { tasks, checkpoint } => format!(
                "start the test framework (scheduler and executor builds {}) and {tasks} long-running task{} (framework checkpointing {})",
                running.map_or(String::new(), |r| r.after.to_string()),
                if *tasks == 1 { "" } else { "s" },
                if *checkpoint { "on" } else { "off" }
            ),
            ActionKind::ReplaceProcess => {
                let r = running.expect("replacements track the running version");
                let mut text = match model {
                    NodeModel::ProcessInHost => format!(
                        "{node}: process {} replaced by {} in node {node}",
                        proc_at(r.before),
                        r.after
                    ),
                    NodeModel::ContainerPerVersion => format!(
                        "{node}: container replaced, {} -> {} (image {}{})",
                        proc_at(r.before),
                        r.after,
                        upstream_image(role, r.after),
                        executors_die
                    ),
                };
                if !r.changes() {
                    text.push_str(" (already at that version: a restart)");
                }
                let flags = flag_list(&self.flags_set, &self.flags_unset);
                if !flags.is_empty() {
                    text.push_str(&format!(" {flags}"));
                }
                text
            }
            ActionKind::InstallBinaries => {
                let i = installed.expect("installs track the installed version");
                let r = running.expect("installs track the running version");
                let what = match model {
                    NodeModel::ProcessInHost => format!("build {}", i.after),
                    NodeModel::ContainerPerVersion => {
                        format!("image {}", upstream_image(role, i.after))
                    }
                };
                format!(
                    "{node}: install {} binaries ({what}); still runs {} until its next restart",
                    i.after,
                    proc_at(r.after)
                )
            }
            ActionKind::RestartProcess => restart_text(),
            ActionKind::RestartWithFlags => restart_text(),
            ActionKind::ReconfigureCgroupsMounts => format!(
                "{node}: reconfigure cgroups to one mountpoint per controller (nothing restarts; takes effect at the reboot)"
            ),
            ActionKind::RebootNode => {
                let r = running.expect("reboots track the running version");
                let mut text = format!(
                    "reboot host {node}: everything on it dies, the disk is kept; {} comes back",
                    proc_at(r.after)
                );
                if r.changes() {
                    text.push_str(&format!(" (was {}: installed binaries take effect)", r.before));
                }
                text
            }
            ActionKind::SchedulerUpgrade => {
                let i = installed.expect("scheduler upgrades track the linked version");
                format!(
                    "relink the test framework's scheduler: {} -> {} (runs from its next restart)",
                    i.before, i.after
                )
            }
            ActionKind::SetFrameworkCheckpoint => {
                "set FrameworkInfo.checkpoint in the scheduler (takes effect when it restarts)"
                    .to_string()
            }
            ActionKind::SchedulerFailover => {
                let r = running.expect("failovers track the running version");
                if r.changes() {
                    format!(
                        "restart the scheduler: re-subscribe with the same framework ID, now running {} (was {})",
                        r.after, r.before
                    )
                } else {
                    format!(
                        "restart the scheduler: re-subscribe with the same framework ID, still running {}",
                        r.after
                    )
                }
            }
            ActionKind::ExecutorUpgrade => {
                let i = installed.expect("executor upgrades track the build");
                format!(
                    "upgrade the executors: new executors use the {} build (was {}); running ones are left alone",
                    i.after, i.before
                )
            }
            ActionKind::RebuildModules { modules } => {
                format!("rebuild modules {} for the new version", modules.join(", "))
            }
            ActionKind::NoOp { reason } => format!("no-op: {reason}"),
        }
    }
}

fn step_header(
    kind: StepKind,
    masters: usize,
    stop: MasterStop,
    model: NodeModel,
) -> Option<String> {
    let masters_order = match (masters > 1, stop) {
        (false, _) => "one master",
        (true, MasterStop::Crash) => "masters one at a time, non-leaders first, leader last: order decided at run time; each stopped like a crash (SIGTERM: a new leader once its ZooKeeper session expires)",
        (true, MasterStop::Graceful) => "masters one at a time, non-leaders first, leader last: order decided at run time; each stopped gracefully (terminated, then its ZooKeeper candidacy withdrawn)",
    };
    Some(match node_step(kind)? {
        (Role::Master, NodeEffect::Install | NodeEffect::Reconfigure) => {
            "on every master".to_string()
        }
        (Role::Master, _) => masters_order.to_string(),
        (_, NodeEffect::Install | NodeEffect::Reconfigure) => "on every agent".to_string(),
        (_, NodeEffect::Reboot) => "agents one at a time".to_string(),
        (_, _) => match model {
            NodeModel::ProcessInHost => {
                "agents one at a time; they recover from their work dir".to_string()
            }
            NodeModel::ContainerPerVersion => "agents one at a time".to_string(),
        },
    })
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "plan {}: Mesos {} -> {}",
            self.scenario, self.from, self.to
        )?;
        match self.node_model {
            NodeModel::ProcessInHost => writeln!(
                f,
                "distribution: local (each node is a long-lived host holding the builds it needs; an upgrade replaces the Mesos process inside it)"
            )?,
            NodeModel::ContainerPerVersion => writeln!(
                f,
                "distribution: upstream (public images; a node upgrade replaces its container, so executors on it cannot survive)"
            )?,
        }
        match &self.order {
            Order::Documented => writeln!(f, "order: documented (the numbered steps of the upgrade notes)")?,
            Order::Inferred => writeln!(
                f,
                "order: inferred (the notes give no steps for this path; the six-step order of 0.22+)"
            )?,
            Order::Deviates { reason } => writeln!(f, "order: deviates from the notes: {reason}")?,
        }
        writeln!(f, "nodes:")?;
        for n in &self.nodes {
            let image = match &n.image {
                NodeImage::Image(i) => format!("image {i}"),
                NodeImage::Host { builds } => format!(
                    "host with builds {} at /opt/mesos/<version>",
                    builds
                        .iter()
                        .map(|v| local_image(*v))
                        .collect::<Vec<_>>()
                        .join(" + ")
                ),
            };
            let version = n.version.map(|v| format!(" {v}")).unwrap_or_default();
            writeln!(
                f,
                "  {:<9} {:<9}{:<8} {image}",
                n.name,
                n.role.as_str(),
                version
            )?;
        }
        writeln!(f)?;
        writeln!(f, "start")?;
        let mut current_step: Option<usize> = None;
        for e in &self.entries {
            match e {
                Entry::Action(a) => {
                    if let Some(st) = &a.step {
                        if current_step != Some(st.index) {
                            current_step = Some(st.index);
                            writeln!(f)?;
                            let line = if st.line > 0 {
                                format!(", line {}", st.line)
                            } else {
                                String::new()
                            };
                            write!(f, "step {}{line}: {}", st.index + 1, st.kind.name())?;
                            if st.phase != st.kind.name() {
                                write!(f, " (phase `{}`)", st.phase)?;
                            }
                            if let Some(h) = step_header(
                                st.kind,
                                self.masters(),
                                self.master_stop,
                                self.node_model,
                            ) {
                                write!(f, ": {h}")?;
                            }
                            writeln!(f)?;
                            if let Some(note) = &a.note {
                                writeln!(f, "       note: {note}")?;
                            }
                        }
                    }
                    writeln!(f, "  {:>3}. {}", a.number, a.describe(self.node_model))?;
                }
                Entry::Phase(p) => match p.checks {
                    0 => writeln!(f, "       -> phase `{}`", p.name)?,
                    1 => writeln!(f, "       -> phase `{}` (1 check)", p.name)?,
                    n => writeln!(f, "       -> phase `{}` ({n} checks)", p.name)?,
                },
            }
        }
        writeln!(f)?;
        let finals = self.final_versions();
        let behind: Vec<String> = finals
            .iter()
            .filter(|(_, v)| **v != self.to)
            .map(|(n, v)| format!("{n} runs {v}"))
            .collect();
        if behind.is_empty() {
            write!(f, "end: every Mesos node runs {}", self.to)?;
        } else {
            write!(
                f,
                "end: not every node runs {}: {}",
                self.to,
                behind.join(", ")
            )?;
        }
        writeln!(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        s.parse().unwrap()
    }

    fn load(yaml: &str) -> Scenario {
        serde_saphyr::from_str::<Scenario>(yaml).expect("test scenario parses")
    }

    const BASE: &str = "format: 1\nname: t\nfrom: 0.14.0\nto: 0.15.0\ndistribution: local\n\
        topology: { masters: 1, agents: 2 }\nworkload: { tasks: 1 }\norder: documented\n";

    #[test]
    fn phases_follow_the_naming_rule() {
        let s = load(&format!(
            "{BASE}steps:\n  - install_master_binaries\n  - restart_masters_with_flag: {{ flags: {{ credentials: /c }} }}\n  - upgrade_agents\n  - restart_masters_with_flag: {{ flags: {{ authenticate: \"true\" }} }}\n  - restart_schedulers: {{ phase: failover }}\n"
        ));
        assert_eq!(
            phases(&s),
            [
                "start",
                "install_master_binaries",
                "restart_masters_with_flag/master-1",
                "restart_masters_with_flag",
                "upgrade_agents/agent-1",
                "upgrade_agents/agent-2",
                "upgrade_agents",
                "restart_masters_with_flag#2/master-1",
                "restart_masters_with_flag#2",
                "failover",
            ]
        );
    }

    #[test]
    fn plan_phases_equal_the_validation_phases() {
        let s = load(&format!(
            "{BASE}steps:\n  - rebuild_modules\n  - upgrade_masters: {{ phase: masters }}\n  - install_agent_binaries\n  - reconfigure_agent_cgroups_mounts\n  - reboot_agents\n  - restart_agents_with_flag: {{ flags: {{ isolation: cgroups/cpu }} }}\n  - upgrade_masters\n  - upgrade_schedulers\n  - set_framework_checkpoint\n  - restart_schedulers\n  - upgrade_executors\n"
        ));
        assert_eq!(phases(&s), crate::scenario::phases::phases(&s));
    }

    #[test]
    fn installed_binaries_run_from_the_next_restart() {
        let s = load(&format!(
            "{BASE}steps:\n  - install_master_binaries\n  - restart_masters\n"
        ));
        let p = plan(&s);
        let masters: Vec<&Action> = p
            .actions()
            .filter(|a| a.node.as_deref() == Some("master-1") && a.step.is_some())
            .collect();
        assert_eq!(masters[0].kind, ActionKind::InstallBinaries);
        assert_eq!(
            masters[0].running,
            Some(VersionChange::new(v("0.14.0"), v("0.14.0")))
        );
        assert_eq!(
            masters[0].installed,
            Some(VersionChange::new(v("0.14.0"), v("0.15.0")))
        );
        assert_eq!(masters[1].kind, ActionKind::RestartProcess);
        assert_eq!(
            masters[1].running,
            Some(VersionChange::new(v("0.14.0"), v("0.15.0")))
        );
        assert_eq!(p.final_versions()["master-1"], "0.15.0");
        assert_eq!(p.final_versions()["agent-1"], "0.14.0");
    }

    #[test]
    fn flag_overrides_persist_across_later_restarts() {
        let s = load(&format!(
            "{BASE}steps:\n  - upgrade_agents: {{ unset_flags: [work_dir] }}\n  - restart_agents\n  - restart_agents_with_flag: {{ flags: {{ work_dir: /w }} }}\n"
        ));
        let p = plan(&s);
        let agent1: Vec<&Action> = p
            .actions()
            .filter(|a| a.node.as_deref() == Some("agent-1"))
            .collect();
        let unset = |a: &Action| a.overrides.as_ref().unwrap().unset.contains("work_dir");
        assert!(!unset(agent1[0]), "not removed at the start");
        assert!(unset(agent1[1]), "removed by upgrade_agents");
        assert!(unset(agent1[2]), "still removed after a plain restart");
        assert!(agent1[2].flags_unset.is_empty());
        assert!(!unset(agent1[3]));
        assert_eq!(agent1[3].overrides.as_ref().unwrap().set["work_dir"], "/w");
    }

    #[test]
    fn versions_at_each_phase() {
        let s = load(&format!(
            "{BASE}steps:\n  - upgrade_agents\n  - upgrade_masters\n"
        ));
        let p = plan(&s);
        let at = |phase: &str| p.versions_at(phase).unwrap();
        assert_eq!(at("start")["agent-1"], "0.14.0");
        assert_eq!(at("upgrade_agents/agent-1")["agent-1"], "0.15.0");
        assert_eq!(at("upgrade_agents/agent-1")["agent-2"], "0.14.0");
        assert_eq!(at("upgrade_agents")["master-1"], "0.14.0");
        assert_eq!(at("upgrade_masters")["master-1"], "0.15.0");
        assert_eq!(p.versions_at("nope"), None);
    }

    #[test]
    fn rebuild_modules_without_modules_is_a_no_op() {
        let s = load(&format!("{BASE}steps:\n  - rebuild_modules\n"));
        let p = plan(&s);
        let a = p.actions().last().unwrap();
        assert!(matches!(a.kind, ActionKind::NoOp { .. }), "{a:?}");
        assert_eq!(a.step.as_ref().unwrap().line, 10);
    }
}
