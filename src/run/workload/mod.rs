//! The workload of a run: tasks on the harness's custom executor that must survive every
//! step (issue 6; facts in `../shared/tasks.md`, design in `docs/tasks.md`).
//!
//! - `start_workload` subscribes the test framework with a [`Workload`] offer handler and
//!   launches `workload.tasks` tasks spread over the agents with the `from` executor build;
//! - `upgrade_executors` launches as many new tasks with the `to` build, the old ones keep
//!   running;
//! - `TasksRunning` (after every phase): every task TASK_RUNNING, its process the same one
//!   (pid, parent pid and start time from `/proc/<pid>/stat` in its node), its executor
//!   re-subscribed once per restart of its agent (counted in the executor's own log in the
//!   sandbox), and no update ever in a state that loses a task;
//! - at the end every task is killed: TASK_KILLED, and the executor process exits.
//!
//! Tasks on a rebooted agent die with it (a reboot kills every process): they are expected
//! to end and are left out of the invariant.
//!
//! One file per job: `helpers` (the harness binary and its links in node images), `faults`
//! (the faults a regression test injects), `tasks` (the test framework and launching tasks),
//! `facts` (what a node says of a task's process and executor), `invariant` (`TasksRunning`),
//! `finish` (killing every task at the end).

mod facts;
mod faults;
mod finish;
mod helpers;
mod invariant;
mod tasks;

pub use helpers::{harness_binary, task_helper_files, this_binary_serves_helpers};

use std::collections::{BTreeMap, BTreeSet};

use crate::domain::Version;
use crate::mesos::workload::Workload;

/// Where the executor builds live in every node: `executor-<version>`.
pub const EXECUTOR_DIR: &str = "/opt/upgrade-harness";

/// The executor binary path in nodes for a version's build.
pub fn executor_path(version: Version) -> String {
    format!("{EXECUTOR_DIR}/executor-{version}")
}

/// What the runner saw of a task's process when it started.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessFacts {
    pub node: String,
    pub pid: u32,
    pub ppid: u32,
    pub start_time: u64,
    /// Restarts of its agent before it launched.
    pub restarts_at_launch: u32,
    /// The executor's sandbox.
    pub sandbox: Option<String>,
}

/// Faults a regression test can inject (all off by default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskFaults {
    /// Remove `/opt/mesos/<v>/mesos-executor` from every agent node after it is created: a
    /// 1.4.x agent then re-registers without its custom executors and a newer master drops
    /// the re-registration (`tasks.md`).
    pub without_mesos_executor_file: bool,
    /// At the first agent restart, SIGKILL the processes of the tasks of that agent (task,
    /// executor, containerizer) while its Mesos process is down.
    pub kill_tasks_while_agent_down: bool,
}

/// The workload state of a run.
#[derive(Debug, Default)]
pub struct WorkloadRun {
    pub faults: TaskFaults,
    fault_done: bool,
    pub workload: Workload,
    pub facts: BTreeMap<String, ProcessFacts>,
    /// Agent node -> how many times its Mesos process was restarted (or the node rebooted).
    pub restarts: BTreeMap<String, u32>,
    /// Tasks whose agent was rebooted: expected to end.
    pub ended_by_design: BTreeSet<String>,
    /// Agent removals a fault expected (`expect.tasks: lost`): `no_agent_removed` allows them.
    pub expected_removals: u32,
    next_task: u32,
}

impl WorkloadRun {
    pub fn new(faults: TaskFaults) -> WorkloadRun {
        WorkloadRun {
            faults,
            ..WorkloadRun::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executor_paths_by_build() {
        assert_eq!(
            executor_path("1.11.0".parse().unwrap()),
            "/opt/upgrade-harness/executor-1.11.0"
        );
    }
}
