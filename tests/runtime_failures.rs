//! Runtime failures point into the scenario file like load errors (issue 11): a real run of
//! `tests/fixtures/failing/three-failures.yaml` fails at a check (caret on its `code:`), at an
//! invariant (caret on the step whose phase failed) and at an action (caret on the step), and
//! the rendered output is snapshot-tested. Needs Docker: skipped with the reason without it,
//! failed with `CI=true`.

mod common;

use std::path::Path;

use upgrade_harness::report::Status;
use upgrade_harness::run::{self, RunOptions};

#[test]
fn check_invariant_and_action_failures_point_at_their_fields() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = Path::new("tests/fixtures/failing/three-failures.yaml");
    let opts = RunOptions {
        out_root: root.join("target/upgrade-harness"),
        progress: false,
        ..RunOptions::default()
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let report = match rt.block_on(run::run_file(file, &opts)) {
        Ok(report) => report,
        Err(e) if e.docker_unreachable() => return common::skip(format!("{e}")),
        Err(e) => panic!("the run gave no verdict: {e}"),
    };
    assert!(!report.passed(), "the fixture must fail");

    // result.json's places: every failed verdict and action has one, in this file.
    let failed_verdicts: Vec<_> = report
        .phases
        .iter()
        .flat_map(|p| p.verdicts.iter().map(move |v| (p, v)))
        .filter(|(_, v)| v.status == Status::Failed)
        .collect();
    let check = failed_verdicts
        .iter()
        .find(|(p, v)| p.name == "start" && v.kind == "check")
        .expect("the wrong check fails at start");
    let at = check.1.at.as_ref().expect("a failed check has a place");
    assert_eq!((at.line, at.column), (22, 43), "caret on `code: 200`");
    let invariant = failed_verdicts
        .iter()
        .find(|(_, v)| v.kind == "invariant" && v.name == "tasks_running")
        .expect("tasks_running fails once the agent restarts without checkpointing");
    let at = invariant
        .1
        .at
        .as_ref()
        .expect("an invariant has its step's place");
    assert_eq!(at.line, 18, "the upgrade_agents step");
    let action = report
        .phases
        .iter()
        .flat_map(|p| &p.actions)
        .find(|a| a.status == Status::Failed)
        .expect("the master restart with a refused flag fails");
    assert_eq!(action.at.as_ref().map(|a| a.line), Some(19));
    assert!(
        report.aborted.is_some(),
        "the failed action ends the run early"
    );

    // The rendered text, with what changes between runs replaced.
    let text = report.failures().join("\n");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots/runtime-failures");
    settings.set_prepend_module_to_snapshot(false);
    settings.add_filter(
        r"failing-three-ways-[0-9a-f]{12}",
        "failing-three-ways-[run-id]",
    );
    // What was seen and the process's output carry times, pids and IDs (and wrap with them).
    settings.add_filter(r"(?s)(seen: +).*?\n(\s*logs:)", "$1[seen]\n$2");
    settings.add_filter(r"(?s)(error: +).*?\n(\s*logs:)", "$1[error]\n$2");
    settings.add_filter(r"(?m)^(run aborted: action \d+ failed: ).*$", "$1[error]");
    settings.add_filter(r"/\S*/target/upgrade-harness", "target/upgrade-harness");
    settings.bind(|| insta::assert_snapshot!("three-failures", text));
}
