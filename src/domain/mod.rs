//! The domain vocabulary shared by every stage: versions, roles, steps, distributions.
//! It depends on nothing else in the crate, so `scenario`, `plan`, `mesos` and `run` can all
//! use it without depending on each other.
mod fault;
mod role;
mod step;
mod version;

pub use fault::{
    ExpectFailure, FaultExpectation, FaultTarget, Mistake, RestartAs, SetupMistake, TasksAfterFault,
};
pub use role::Role;
pub use step::{Distribution, MasterStop, StepKind};
pub use version::{next_series, series, BadVersion, Series, Version};
