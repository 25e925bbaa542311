//! The planning algorithm: a scenario's steps resolved, node by node, into actions and phases.

use std::collections::BTreeMap;

use super::model::{
    Action, ActionKind, Entry, Fault, FlagOverrides, Node, NodeImage, NodeModel, Phase, PhaseScope,
    Plan, StepRef, VersionChange,
};
use super::vary::Variation;
use crate::domain::{Distribution, FaultTarget, RestartAs, Role, StepKind, Version};
use crate::mesos::distribution::LOCAL_ZOOKEEPER_IMAGE;
use crate::scenario::model::{Scenario, Step};
use crate::scenario::phases::{step_phases, START};

/// The phase names of a scenario, in order (what checks may name in `after:`): the same
/// list as [`crate::scenario::phases::phases`], which validation uses (a test keeps them equal).
pub fn phases(s: &Scenario) -> Vec<String> {
    plan(s).phases()
}

/// What a step does to the nodes of its role.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum NodeEffect {
    Replace,
    Install,
    Restart,
    RestartWithFlags,
    Reconfigure,
    Reboot,
}

pub(super) fn node_step(kind: StepKind) -> Option<(Role, NodeEffect)> {
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
        | KillNode
        | PauseNode
        | PartitionNode
        | RestartZookeeper
        | RestartFramework
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
        mistake: None,
    }
}

/// How long a pause or partition lasts when the step does not say.
pub const DEFAULT_FAULT_SECONDS: u32 = 5;

/// The fault of a fault step, its target resolved (`random` drawn from `seed`; `master`
/// named when there is one master).
pub(super) fn fault_of(step: &Step, index: usize, nodes: &[Node], seed: u64) -> Fault {
    let o = &step.options;
    let mesos: Vec<&Node> = nodes.iter().filter(|n| n.version.is_some()).collect();
    let masters: Vec<&Node> = mesos
        .iter()
        .copied()
        .filter(|n| n.role == Role::Master)
        .collect();
    let target = match o.target.clone().unwrap_or_default() {
        FaultTarget::Random if !mesos.is_empty() => {
            let mut rng = fastrand::Rng::with_seed(seed ^ (index as u64).wrapping_mul(0x9E37_79B9));
            FaultTarget::Node(mesos[rng.usize(..mesos.len())].name.clone())
        }
        FaultTarget::Master if masters.len() == 1 => FaultTarget::Node(masters[0].name.clone()),
        t => t,
    };
    Fault {
        kind: step.kind,
        target,
        seconds: o.seconds.unwrap_or(DEFAULT_FAULT_SECONDS),
        restart_as: o.restart_as.unwrap_or_default(),
        expect: o.expect.unwrap_or_default(),
    }
}

/// Resolve a scenario into its plan. Pure; works on any scenario that deserialized, valid
/// or not (validation reports what is wrong; the plan just follows the file).
pub fn plan(s: &Scenario) -> Plan {
    plan_with(s, None)
}

/// The plan, randomized by `seed` when there is one (`plan::vary`): the same seed gives the
/// same plan.
pub fn plan_with(s: &Scenario, seed: Option<u64>) -> Plan {
    let (from, to) = (s.from_version(), s.to_version());
    let distribution = s.distribution.value;
    let node_model = NodeModel::ProcessInHost;
    let images: BTreeMap<Version, Vec<String>> = match distribution {
        Distribution::Local => BTreeMap::new(),
        Distribution::Upstream => [from, to]
            .into_iter()
            .map(|v| {
                let named = s.images.get(&v.to_string());
                (v, named.map(|r| r.value.clone()).unwrap_or_default())
            })
            .collect(),
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
        // Both distributions run the project's ZooKeeper build.
        let image = LOCAL_ZOOKEEPER_IMAGE.to_string();
        nodes.push(Node {
            name: format!("zk-{i}"),
            role: Role::ZooKeeper,
            version: None,
            image: NodeImage::Image(image),
        });
    }
    for (role, count) in [(Role::Master, masters), (Role::Agent, agents)] {
        for i in 1..=count {
            let image = NodeImage::Host {
                builds: builds.clone(),
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
    for (index, fw) in s.frameworks.iter().enumerate() {
        b.action(blank(
            ActionKind::StartFramework {
                name: fw.value.name.value.clone(),
                index,
            },
            None,
        ));
    }
    // The schedulers' steps act on the built-in framework and on the scenario's own.
    let schedulers = workload || !s.frameworks.is_empty();
    b.phase(START.to_string(), PhaseScope::Start);

    let steps: Vec<Step> = s.steps.iter().map(|st| st.value.clone()).collect();
    let step_phases = step_phases(&steps);
    let variation = seed.map(|seed| Variation::from_seed(s, &nodes, seed));
    let vary = variation.clone().unwrap_or_default();
    for (index, spanned) in s.steps.iter().enumerate() {
        if let Some((fault, phase)) = vary.fault_before(index) {
            b.fault(fault, None, phase, index, &mut state, from, to);
        }
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

        if let Some(seconds) = vary.pause_before(index) {
            let mut a = blank(ActionKind::Pause { seconds }, Some(sref.clone()));
            a.note = take_note();
            b.action(a);
        }
        if step.kind.is_fault() {
            let fault = fault_of(step, index, &nodes, seed.unwrap_or(0));
            let note = take_note();
            b.fault(
                fault,
                Some((sref.clone(), note)),
                sref.phase.clone(),
                index,
                &mut state,
                from,
                to,
            );
            continue;
        }
        if let Some((role, effect)) = node_step(step.kind) {
            let mut names: Vec<String> = nodes
                .iter()
                .filter(|n| n.role == role)
                .map(|n| n.name.clone())
                .collect();
            if let Some(order) = vary.node_order(index) {
                names = order.to_vec();
            }
            for (position, name) in names.into_iter().enumerate() {
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
                if starts {
                    a.mistake = step.options.mistake;
                }
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
                if vary.framework_restart_after(index, position) {
                    let fault = Fault {
                        kind: StepKind::RestartFramework,
                        target: FaultTarget::Master,
                        seconds: 0,
                        restart_as: RestartAs::Same,
                        expect: Default::default(),
                    };
                    let mut a = blank(ActionKind::Fault(fault), Some(sref.clone()));
                    a.role = None;
                    b.action(a);
                    b.phase(
                        format!("{}/{}/restart_framework", sref.phase, name),
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
                    modules: s
                        .modules
                        .iter()
                        .map(|m| m.value.name.value.clone())
                        .collect(),
                },
                StepKind::UpgradeSchedulers | StepKind::RestartSchedulers if !schedulers => {
                    ActionKind::NoOp {
                        reason: "the scenario has no workload: no test framework or executor runs"
                            .to_string(),
                    }
                }
                StepKind::SetFrameworkCheckpoint | StepKind::UpgradeExecutors if !workload => {
                    ActionKind::NoOp {
                        reason: "the scenario has no workload: no test framework or executor runs"
                            .to_string(),
                    }
                }
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
    if let Some((fault, phase)) = vary.fault_before(s.steps.len()) {
        let last = s.steps.len().saturating_sub(1);
        b.fault(fault, None, phase, last, &mut state, from, to);
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
        images,
        nodes,
        master_stop: s.topology.master_stop,
        entries,
        seed,
        variations: variation.map(|v| v.described).unwrap_or_default(),
        setup_mistakes: s.mistakes.clone(),
    }
}

impl Builder {
    /// A fault action and the phase after it. `step`: the fault step and its note (`None`
    /// for a fault a seed inserted); `index`: the step a failure there points at.
    #[allow(clippy::too_many_arguments)]
    fn fault(
        &mut self,
        fault: Fault,
        step: Option<(StepRef, Option<String>)>,
        phase: String,
        index: usize,
        state: &mut BTreeMap<String, Tracked>,
        from: Version,
        to: Version,
    ) {
        let (sref, note) = step.unzip();
        let mut a = blank(ActionKind::Fault(fault.clone()), sref);
        a.note = note.flatten();
        match &fault.target {
            FaultTarget::Node(n) if fault.kind.targets_a_node() => {
                a.node = Some(n.clone());
                a.role = Some(if n.starts_with("master") {
                    Role::Master
                } else {
                    Role::Agent
                });
                if let Some(t) = state.get_mut(n) {
                    let before = t.running;
                    if fault.kind == StepKind::KillNode {
                        t.running = match fault.restart_as {
                            RestartAs::Same => t.running,
                            RestartAs::From => from,
                            RestartAs::To => to,
                        };
                    }
                    a.running = Some(VersionChange::new(before, t.running));
                    a.overrides = Some(t.overrides.clone());
                }
            }
            FaultTarget::Agents if fault.kind.targets_a_node() => a.role = Some(Role::Agent),
            FaultTarget::Master if fault.kind.targets_a_node() => a.role = Some(Role::Master),
            _ => {}
        }
        self.action(a);
        self.phase(phase, PhaseScope::Step(index));
    }
}
