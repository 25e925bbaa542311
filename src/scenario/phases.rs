//! Phase names: the checkpoints of a scenario, where probes run and checks are made.
//!
//! The rule (shared with the `plan` module, which lists the same phases in the same order):
//! - `start`: the cluster is up at `from`, the workload runs, no step was taken yet;
//! - after each step, the step's phase: its `phase:` option if given, else the step name,
//!   with `#2`, `#3`, ... for the second, third, ... step of the same kind without a
//!   `phase:` option (`restart_masters_with_flag`, then `restart_masters_with_flag#2`);
//! - a step that (re)starts nodes one at a time (see [`StepKind::one_node_at_a_time`]) first
//!   has one phase per node, `<step phase>/<node>` (`upgrade_agents/agent-1`, ...), in node
//!   order; its own phase follows the last node's.

use std::collections::BTreeMap;

use super::model::{Scenario, Step, StepKind, Topology};

/// The phase before any step.
pub const START: &str = "start";

/// The phase name of each step, in step order (without the per-node phases).
pub fn step_phases(steps: &[Step]) -> Vec<String> {
    let mut seen: BTreeMap<StepKind, usize> = BTreeMap::new();
    steps
        .iter()
        .map(|step| match &step.options.phase {
            Some(phase) => phase.clone(),
            None => {
                let n = seen.entry(step.kind).or_insert(0);
                *n += 1;
                if *n == 1 {
                    step.kind.name().to_string()
                } else {
                    format!("{}#{}", step.kind.name(), n)
                }
            }
        })
        .collect()
}

/// The per-node phases of one step with phase name `phase`, in node order (empty for
/// steps that do not act node by node).
pub fn node_phases(kind: StepKind, phase: &str, topology: &Topology) -> Vec<String> {
    match kind.one_node_at_a_time() {
        Some(role) => topology
            .nodes(role)
            .into_iter()
            .map(|node| format!("{phase}/{node}"))
            .collect(),
        None => Vec::new(),
    }
}

/// Every phase of the scenario in the order they are reached.
pub fn phases(scenario: &Scenario) -> Vec<String> {
    let steps: Vec<Step> = scenario.steps.iter().map(|s| s.value.clone()).collect();
    let mut all = vec![START.to_string()];
    for (step, phase) in steps.iter().zip(step_phases(&steps)) {
        all.extend(node_phases(step.kind, &phase, &scenario.topology));
        all.push(phase);
    }
    all
}
