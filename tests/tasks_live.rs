//! Regression tests of issue 6 (tasks that must survive an upgrade), against real Mesos in
//! Docker: each runs a whole scenario (~35-60 s) with a fault and asserts that the harness
//! reports the broken recovery at the step where it happens. They are in nextest's `docker`
//! test group and hold a cluster slot each (`src/testing/clusters.rs`).
//!
//! Without a reachable Docker engine each prints `skipped <test>: <reason>` and passes; with
//! `CI=true` it fails instead.

mod common;

use std::path::{Path, PathBuf};

use common::clusters;
use upgrade_harness::docker::Engine;
use upgrade_harness::report::{RunReport, Status};
use upgrade_harness::run::{self, RunOptions, TaskFaults};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The run's report, or None (after reporting the skip) without a Docker engine. In a
/// cluster slot; after a signal nothing starts and a run in flight is removed.
fn run(file: &Path, faults: TaskFaults) -> Option<RunReport> {
    let slot =
        clusters::slot().unwrap_or_else(|s| clusters::interrupted(s, "interrupted before start"));
    let opts = RunOptions {
        // Runs that must fail are kept apart from the scenario runs, so that the overview
        // of a test run (`upgrade-harness report target/upgrade-harness`) shows scenarios only.
        out_root: root().join("target/upgrade-harness-negative"),
        progress: false,
        task_faults: faults,
        ..RunOptions::default()
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    if let Err(e) = rt.block_on(Engine::connect()) {
        common::skip(format!("Docker unreachable: {e}"));
        return None;
    }
    let outcome = match rt.block_on(clusters::until_stopped(run::run_file(file, &opts))) {
        Ok(outcome) => outcome,
        Err(signal) => {
            drop(slot);
            clusters::interrupted(signal, "interrupted; the run was removed")
        }
    };
    Some(outcome.expect("the run gives a verdict"))
}

/// The first phase with a failure, and the failure texts there.
fn first_failure(report: &RunReport) -> (String, Vec<String>) {
    for p in &report.phases {
        let mut why: Vec<String> = p
            .verdicts
            .iter()
            .filter(|v| v.status == Status::Failed)
            .map(|v| format!("{}: {}", v.name, v.verdict.seen))
            .collect();
        why.extend(
            p.actions
                .iter()
                .filter(|a| a.status == Status::Failed)
                .map(|a| format!("{}: {}", a.what, a.reason.clone().unwrap_or_default())),
        );
        if !why.is_empty() {
            return (p.name.clone(), why);
        }
    }
    panic!("the run passed: {:?}", report.aborted);
}

/// tasks.md: a 1.4.x agent without a `mesos-executor` file in its launcher_dir re-registers
/// without its custom executors, and the newer master drops the re-registration.
#[test]
fn issue_6_agent_1_4_without_mesos_executor_file_is_refused_by_the_new_master() {
    let file = root().join("scenarios/local/1.4.3-to-1.11.0.yaml");
    let Some(report) = run(
        &file,
        TaskFaults {
            without_mesos_executor_file: true,
            ..TaskFaults::default()
        },
    ) else {
        return;
    };
    let (phase, why) = first_failure(&report);
    eprintln!("{phase}: {why:#?}");
    assert!(
        phase.starts_with("(aborted)") || phase.starts_with("upgrade_masters"),
        "{phase}: {why:?}"
    );
    let text = why.join("\n");
    assert!(
        text.contains("master-1: process mesos-master 1.4.3 replaced by 1.11.0 in node master-1"),
        "{text}"
    );
    assert!(
        text.contains("Task has an invalid ExecutorID 'executor-task-"),
        "{text}"
    );
}

/// tasks.md: killing the container while the agent is down shows up after the restart as
/// TASK_FAILED with REASON_EXECUTOR_TERMINATED.
#[test]
fn issue_6_tasks_killed_while_their_agent_is_down_are_reported_failed_at_that_step() {
    let file = root().join("scenarios/local/1.10.0-to-1.11.0.yaml");
    let Some(report) = run(
        &file,
        TaskFaults {
            kill_tasks_while_agent_down: true,
            ..TaskFaults::default()
        },
    ) else {
        return;
    };
    let (phase, why) = first_failure(&report);
    eprintln!("{phase}: {why:#?}");
    assert_eq!(phase, "upgrade_agents/agent-1", "{why:?}");
    let text = why.join("\n");
    assert!(
        text.contains("tasks_running") && text.contains("task-1 on agent-1 went TASK_FAILED"),
        "{text}"
    );
}

/// tasks.md: without checkpointing, recovery legitimately kills the executor: the harness
/// reports the lost tasks at the first agent step.
#[test]
fn issue_6_framework_without_checkpointing_loses_its_tasks_at_the_agent_step() {
    let file = root().join("tests/fixtures/tasks/no-checkpoint-1.10.0-to-1.11.0.yaml");
    let Some(report) = run(&file, TaskFaults::default()) else {
        return;
    };
    let (phase, why) = first_failure(&report);
    eprintln!("{phase}: {why:#?}");
    assert_eq!(phase, "upgrade_agents/agent-1", "{why:?}");
    let text = why.join("\n");
    assert!(
        text.contains("tasks_running") && text.contains("task-1 on agent-1 went TASK_"),
        "{text}"
    );
}
