//! Randomized plans (`run --seed N`, `--random`, `plan --seed N`): what a seed varies within
//! what the procedure allows. Pure; the same seed and scenario give the same variation
//! (`fastrand`'s wyrand, seeded), so `run --seed N` replays a run exactly.
//!
//! A seed varies:
//! - the order of the nodes in each step that acts one node at a time (agents in any order;
//!   with several masters the run still takes non-leaders first and the leader last, the
//!   order the harness's procedure fixes, but the non-leaders in the drawn order), unless the
//!   scenario's checks name that step's per-node phases (they were written for its order);
//! - a pause of 1-3 s before some steps;
//! - a mixed-version phase: the test framework restarts abruptly between two agents of an
//!   agent upgrade (some agents new, some old);
//! - one fault (`kill_node`, `pause_node`, `partition_node` on a drawn agent, or
//!   `kill_node` of the leading master) between two steps, recovery expected.

use std::collections::BTreeMap;

use super::model::{Fault, Node};
use crate::domain::{FaultTarget, RestartAs, Role, StepKind};
use crate::scenario::model::Scenario;

/// The choices a seed made for one scenario.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Variation {
    /// Step index -> the order of its nodes.
    node_orders: BTreeMap<usize, Vec<String>>,
    /// Step index -> seconds to pause before it.
    pauses: BTreeMap<usize, u32>,
    /// (step index, position): the framework restarts after that node of that step.
    framework_restart: Option<(usize, usize)>,
    /// (before step index, the fault): `index == steps.len()` is after the last step.
    fault: Option<(usize, Fault)>,
    /// The choices in words, for the plan listing and the report.
    pub described: Vec<String>,
}

/// The phase after a fault a seed inserted.
pub const RANDOM_FAULT_PHASE: &str = "random_fault";

impl Variation {
    /// The variation `seed` draws for scenario `s` whose nodes are `nodes`.
    pub fn from_seed(s: &Scenario, nodes: &[Node], seed: u64) -> Variation {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut v = Variation::default();
        let of_role = |role: Role| -> Vec<String> {
            nodes
                .iter()
                .filter(|n| n.role == role)
                .map(|n| n.name.clone())
                .collect()
        };
        let agents = of_role(Role::Agent);
        let masters = of_role(Role::Master);
        let phases = crate::scenario::phases::step_phases(
            &s.steps
                .iter()
                .map(|st| st.value.clone())
                .collect::<Vec<_>>(),
        );
        let mut agent_steps = Vec::new();
        for (index, step) in s.steps.iter().enumerate() {
            let kind = step.value.kind;
            if let Some(role) = kind.one_node_at_a_time() {
                let mut order = of_role(role);
                rng.shuffle(&mut order);
                // Checks at this step's per-node phases were written for the file's order
                // (`after: upgrade_agents/agent-1` expecting agent-2 still old): they fix it.
                let node_phase = format!("{}/", phases[index]);
                let pinned = s
                    .checks
                    .iter()
                    .any(|c| c.value.after.value.starts_with(&node_phase));
                if pinned {
                    order = of_role(role);
                    if order.len() > 1 {
                        v.described.push(format!(
                            "step {} ({kind}): node order kept (checks name its per-node phases)",
                            index + 1
                        ));
                    }
                } else if order != of_role(role) {
                    v.described.push(format!(
                        "step {} ({kind}): nodes in the order {}",
                        index + 1,
                        order.join(", ")
                    ));
                }
                if role == Role::Agent && kind == StepKind::UpgradeAgents && order.len() > 1 {
                    agent_steps.push((index, order.clone()));
                }
                v.node_orders.insert(index, order);
            }
            if rng.u8(..4) == 0 {
                let seconds = rng.u32(1..=3);
                v.pauses.insert(index, seconds);
                v.described.push(format!(
                    "step {} ({kind}): a pause of {seconds} s before it",
                    index + 1
                ));
            }
        }
        if s.workload.tasks > 0 && !agent_steps.is_empty() && rng.bool() {
            let (index, order) = &agent_steps[rng.usize(..agent_steps.len())];
            let position = rng.usize(..order.len() - 1);
            v.framework_restart = Some((*index, position));
            v.described.push(format!(
                "step {} (upgrade_agents): the framework restarts abruptly after {} (phase `{}/{}/restart_framework`), while {} still run{} {}",
                index + 1,
                order[position],
                phases[*index],
                order[position],
                order[position + 1..].join(", "),
                if order.len() - position - 1 == 1 { "s" } else { "" },
                s.from.value
            ));
        }
        if rng.bool() && !agents.is_empty() {
            let before = rng.usize(..=s.steps.len());
            let agent = agents[rng.usize(..agents.len())].clone();
            let (kind, target, seconds) = match rng.u8(..4) {
                0 => (StepKind::KillNode, FaultTarget::Node(agent), 0),
                1 => (
                    StepKind::PauseNode,
                    FaultTarget::Node(agent),
                    rng.u32(2..=4),
                ),
                2 => (
                    StepKind::PartitionNode,
                    FaultTarget::Node(agent),
                    rng.u32(2..=4),
                ),
                _ if masters.len() == 1 => {
                    (StepKind::KillNode, FaultTarget::Node(masters[0].clone()), 0)
                }
                _ => (StepKind::KillNode, FaultTarget::Master, 0),
            };
            let when = if before == s.steps.len() {
                "after the last step".to_string()
            } else {
                format!(
                    "before step {} ({})",
                    before + 1,
                    s.steps[before].value.kind
                )
            };
            let lasting = if seconds > 0 {
                format!(" for {seconds} s")
            } else {
                String::new()
            };
            v.described.push(format!(
                "{kind} on {}{lasting} {when} (phase `{RANDOM_FAULT_PHASE}`)",
                target.name()
            ));
            v.fault = Some((
                before,
                Fault {
                    kind,
                    target,
                    seconds,
                    restart_as: RestartAs::Same,
                    expect: Default::default(),
                },
            ));
        }
        v
    }

    /// The order of the nodes of step `index`, when the seed changed it.
    pub(super) fn node_order(&self, index: usize) -> Option<&[String]> {
        self.node_orders.get(&index).map(Vec::as_slice)
    }

    /// Seconds to pause before step `index`.
    pub(super) fn pause_before(&self, index: usize) -> Option<u32> {
        self.pauses.get(&index).copied()
    }

    /// Whether the framework restarts after the node at `position` of step `index`.
    pub(super) fn framework_restart_after(&self, index: usize, position: usize) -> bool {
        self.framework_restart == Some((index, position))
    }

    /// The fault to inject before step `index`, with its phase.
    pub(super) fn fault_before(&self, index: usize) -> Option<(Fault, String)> {
        match &self.fault {
            Some((i, f)) if *i == index => Some((f.clone(), RANDOM_FAULT_PHASE.to_string())),
            _ => None,
        }
    }
}
