//! Mesos task states (`TaskState` in `mesos/v1/mesos.proto`), so that code compares states
//! instead of strings. One table ([`TaskState::as_str`]) gives the wire names for serde,
//! parsing and display.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A task state; on the wire (JSON, status updates, `/state`) its `TASK_*` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "&'static str", try_from = "String")]
pub enum TaskState {
    /// Initial state (the master has the task; the agent may not).
    Staging,
    Starting,
    Running,
    /// Being killed by the executor (only for frameworks with `TASK_KILLING_STATE`).
    Killing,
    Finished,
    Failed,
    Killed,
    /// The task description was invalid.
    Error,
    Lost,
    /// Failed to launch for a transient reason (partition-aware frameworks).
    Dropped,
    /// Its agent lost contact with the master; it may still run.
    Unreachable,
    /// Its agent is gone for good.
    Gone,
    GoneByOperator,
    /// The master does not know the task (reconciliation answer).
    Unknown,
}

impl TaskState {
    /// Every state, in the order of `mesos.proto`.
    pub const ALL: [TaskState; 14] = [
        TaskState::Staging,
        TaskState::Starting,
        TaskState::Running,
        TaskState::Killing,
        TaskState::Finished,
        TaskState::Failed,
        TaskState::Killed,
        TaskState::Error,
        TaskState::Lost,
        TaskState::Dropped,
        TaskState::Unreachable,
        TaskState::Gone,
        TaskState::GoneByOperator,
        TaskState::Unknown,
    ];

    /// The name Mesos uses (`TASK_RUNNING`).
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Staging => "TASK_STAGING",
            TaskState::Starting => "TASK_STARTING",
            TaskState::Running => "TASK_RUNNING",
            TaskState::Killing => "TASK_KILLING",
            TaskState::Finished => "TASK_FINISHED",
            TaskState::Failed => "TASK_FAILED",
            TaskState::Killed => "TASK_KILLED",
            TaskState::Error => "TASK_ERROR",
            TaskState::Lost => "TASK_LOST",
            TaskState::Dropped => "TASK_DROPPED",
            TaskState::Unreachable => "TASK_UNREACHABLE",
            TaskState::Gone => "TASK_GONE",
            TaskState::GoneByOperator => "TASK_GONE_BY_OPERATOR",
            TaskState::Unknown => "TASK_UNKNOWN",
        }
    }

    /// Terminal as Mesos defines it (`protobuf::isTerminalState`): the task is over and its
    /// resources are released. `TASK_UNREACHABLE` and `TASK_UNKNOWN` are not terminal: the
    /// task may still be running.
    pub fn is_terminal(self) -> bool {
        match self {
            TaskState::Finished
            | TaskState::Failed
            | TaskState::Killed
            | TaskState::Error
            | TaskState::Lost
            | TaskState::Dropped
            | TaskState::Gone
            | TaskState::GoneByOperator => true,
            TaskState::Staging
            | TaskState::Starting
            | TaskState::Running
            | TaskState::Killing
            | TaskState::Unreachable
            | TaskState::Unknown => false,
        }
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not a Mesos task state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a Mesos task state; expected one of {valid}", valid = TaskState::ALL.map(TaskState::as_str).join(", "))]
pub struct UnknownTaskState(pub String);

impl FromStr for TaskState {
    type Err = UnknownTaskState;

    fn from_str(s: &str) -> Result<Self, UnknownTaskState> {
        TaskState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownTaskState(s.to_string()))
    }
}

impl TryFrom<String> for TaskState {
    type Error = UnknownTaskState;

    fn try_from(s: String) -> Result<Self, UnknownTaskState> {
        s.parse()
    }
}

impl From<TaskState> for &'static str {
    fn from(state: TaskState) -> Self {
        state.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_round_trips_through_its_name_and_json() {
        for state in TaskState::ALL {
            assert_eq!(state.as_str().parse::<TaskState>(), Ok(state));
            assert_eq!(state.to_string(), state.as_str());
            let json = serde_json::to_value(state).unwrap();
            assert_eq!(json, serde_json::Value::String(state.as_str().into()));
            assert_eq!(serde_json::from_value::<TaskState>(json).unwrap(), state);
        }
        let names: std::collections::HashSet<_> =
            TaskState::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names.len(), TaskState::ALL.len(), "names are distinct");
    }

    #[test]
    fn terminal_as_mesos_defines_it() {
        let terminal: Vec<_> = TaskState::ALL
            .into_iter()
            .filter(|s| s.is_terminal())
            .map(TaskState::as_str)
            .collect();
        assert_eq!(
            terminal,
            [
                "TASK_FINISHED",
                "TASK_FAILED",
                "TASK_KILLED",
                "TASK_ERROR",
                "TASK_LOST",
                "TASK_DROPPED",
                "TASK_GONE",
                "TASK_GONE_BY_OPERATOR"
            ]
        );
    }

    #[test]
    fn unknown_names_are_refused_with_the_valid_ones() {
        let err = "TASK_RUNING".parse::<TaskState>().unwrap_err().to_string();
        assert!(
            err.starts_with("`TASK_RUNING` is not a Mesos task state"),
            "{err}"
        );
        assert!(
            err.contains("TASK_RUNNING") && err.contains("TASK_GONE_BY_OPERATOR"),
            "{err}"
        );
        assert!("running".parse::<TaskState>().is_err(), "names are exact");
        let json = serde_json::from_str::<TaskState>("\"TASK_RUNING\"").unwrap_err();
        assert!(json.to_string().contains("TASK_RUNING"), "{json}");
    }
}
