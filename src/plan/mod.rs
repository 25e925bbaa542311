//! Plans: a scenario resolved into the ordered list of concrete actions, with the phases
//! (checkpoints where the cluster is probed) between them.
//!
//! Pure: no I/O, no Docker. `upgrade-harness plan FILE` prints a [`Plan`] with its
//! [`Display`](std::fmt::Display) implementation, and `tests/scenarios.rs` snapshot-tests that
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
//!   The rule is implemented once, in [`crate::scenario::phases`](mod@crate::scenario::phases);
//!   the plan uses it.
//!
//! # Versions
//! Every Mesos node has an installed version and a running version. `upgrade_*` steps change
//! both; `install_*_binaries` changes only the installed one, which the node runs from its
//! next restart (`restart_*`, `reboot_agents`). The same holds for the schedulers:
//! `upgrade_schedulers` links the new library, `restart_schedulers` makes it run.
//!
//! # Files
//! - `model.rs`: the plan's types and the queries on them.
//! - `build.rs`: [`plan()`], the algorithm that resolves a scenario.
//! - `render.rs`: the listing ([`Action::describe`], `Display for Plan`).

mod build;
mod model;
mod render;
#[cfg(test)]
mod tests;
mod vary;

pub use build::{phases, plan, plan_with, DEFAULT_FAULT_SECONDS};
pub use model::{
    Action, ActionKind, Entry, Fault, FlagOverrides, Node, NodeImage, NodeModel, Phase, PhaseScope,
    Plan, StepRef, VersionChange,
};
pub use vary::Variation;
