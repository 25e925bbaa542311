//! The trials of one scenario file: its plan, and its real run (or must-fail run).

use std::path::Path;

use libtest_mimic::{Completion, Failed, Trial};

use super::snapshots::{self, assert_snapshot};
use super::{clusters, ScenarioFile, Scenarios};
use crate::docker::Reach;
use crate::drift;
use crate::plan::plan;
use crate::report::RunReport;
use crate::run::{self, RunError, RunOptions};
use crate::scenario::model::Scenario;
use crate::snapshot::Render;

/// A run that happened (its report), or the completion of a trial that could not run here
/// (Docker unreachable outside CI: ignored with the reason).
pub type RunOutcome = Result<RunReport, Completion>;

/// Loads and validates a scenario like `upgrade-harness check` does; the error is the
/// rendered diagnostics (plain text, so that test output stays readable).
pub(super) fn load(file: &Path) -> Result<Scenario, Failed> {
    crate::scenario::load(file).map_err(|d| Failed::from(d.render_plain(100)))
}

/// Checks that need the plan: every `after:` names a phase of the plan.
fn check_phases(s: &Scenario, phases: &[String]) -> Result<(), Failed> {
    let mut problems = Vec::new();
    for check in &s.checks {
        let after = &check.value.after.value;
        if !phases.contains(after) {
            problems.push(format!(
                "line {}: check after `{after}`: no such phase (phases: {})",
                check.value.after.referenced.line(),
                phases.join(", ")
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n").into())
    }
}

pub(super) fn plan_trial(s: &Scenarios, file: &ScenarioFile) -> Trial {
    let (s, file) = (s.clone(), file.clone());
    Trial::test(file.name.plan(), move || {
        let scenario = load(&file.path)?;
        if let Some(rule) = &s.conventions {
            rule(&file, &scenario).map_err(Failed::from)?;
        }
        let p = plan(&scenario);
        check_phases(&scenario, &p.phases())?;
        snapshots::assert_plan(&s, &file, p.to_string());
        Ok(())
    })
}

pub(super) fn run_trial(
    s: &Scenarios,
    file: &ScenarioFile,
    scenario: Option<&Scenario>,
    reason: Option<String>,
) -> Trial {
    let name = file.name.run();
    if let Some(reason) = reason {
        return Trial::ignorable_test(name, move || {
            // nextest runs one test per process and shows a runtime "ignored" as a pass: fail there.
            if std::env::var_os("NEXTEST").is_some() {
                Err(format!("cannot run here: {reason}").into())
            } else {
                Ok(Completion::ignored_with(reason))
            }
        })
        .with_ignored_flag(true);
    }
    let (s, file) = (s.clone(), file.clone());
    if scenario.is_some_and(|sc| sc.expect_failure.is_some()) {
        return Trial::ignorable_test(name, move || must_fail_run(&s, &file));
    }
    Trial::ignorable_test(name, move || real_run(&s, &file, None).map(|(c, _)| c))
}

/// A must-fail scenario: the run must fail exactly as its `expect_failure` says (first
/// failure at that phase, by that invariant, check or action, with those words); a run that
/// passes, or fails elsewhere or otherwise, fails the test. Its observations are not
/// snapshot (a broken cluster's answers are not a reference).
fn must_fail_run(s: &Scenarios, file: &ScenarioFile) -> Result<Completion, Failed> {
    let report = match run_once(&file.path, s.run_options(None))? {
        Ok(report) => report,
        Err(completion) => return Ok(completion),
    };
    match &report.expected_failure {
        Some(e) if e.caught => Ok(Completion::Completed),
        Some(e) => Err(format!(
            "the bad upgrade was not caught as expected: expected the first failure at `{}` by {} saying {:?}; seen:\n{}",
            e.expected.phase, e.expected.by, e.expected.contains, e.seen
        )
        .into()),
        None => Err("the report has no verdict on the expected failure".into()),
    }
}

/// The real upgrade. Docker unreachable is reported as ignored with the reason, except in CI
/// (`CI=true`), where it is a failure: CI must never pass without running the upgrades.
/// A passing run's normalized observations must equal its snapshots (docs/snapshots.md),
/// unless the folder's rule says its runs are not snapshot.
/// `reach` forces how the harness reaches the nodes; the report is returned with the
/// completion when the run happened.
pub(super) fn real_run(
    s: &Scenarios,
    file: &ScenarioFile,
    reach: Option<Reach>,
) -> Result<(Completion, Option<RunReport>), Failed> {
    let report = match run_once(&file.path, s.run_options(reach))? {
        Ok(report) => report,
        Err(completion) => return Ok((completion, None)),
    };
    if !report.passed() {
        return Err(report.failures().join("\n").into());
    }
    if !(s.snapshot_runs)(file) {
        return Ok((Completion::Completed, Some(report)));
    }
    let scenario = load(&file.path)?;
    let mut failures = Vec::new();
    for (phase, node, text) in report.observations.snapshots() {
        let dir = snapshots::run_dir(s, file).join(&phase);
        let description = format!(
            "upgrade-harness run {}: {node} at phase {phase}",
            file.shown
        );
        if let Err(why) = assert_snapshot(s, file, dir, &node, description, text) {
            failures.push(why);
        }
    }
    // The builds the run used (trials run with the default build options, `run_options`).
    let apis = drift::scenario_apis(&scenario, &s.run_options(None).build).map_err(|why| {
        Failed::from(format!(
            "the drift report needs the builds' protobuf APIs: {why}"
        ))
    })?;
    let drift = drift::drift(
        &scenario,
        &report.observations,
        apis.as_ref().map(|(a, b)| (a, b)),
    )
    .markdown();
    let description = format!("upgrade-harness run {}: API drift", file.shown);
    let dir = snapshots::drift_dir(s, file);
    if let Err(why) = assert_snapshot(s, file, dir, &file.stem, description, drift) {
        failures.push(why);
    }
    if failures.is_empty() {
        return Ok((Completion::Completed, Some(report)));
    }
    let listed: Vec<&str> = failures.iter().map(|(shown, _)| shown.as_str()).collect();
    let bundle = bundle_snapshot_diffs(s, &report, &failures);
    Err(format!(
        "{} snapshot(s) differ (review with `cargo insta review`; docs/snapshots.md):\n{}\n{bundle}",
        failures.len(),
        listed.join("\n")
    )
    .into())
}

/// A passed run whose snapshots differ is a failed test: its run folder gets
/// `snapshot-diffs.txt` (the overview shows the run as "snapshots differ") and the failure
/// bundle is written beside it. Returns the line that says where.
fn bundle_snapshot_diffs(
    s: &Scenarios,
    report: &RunReport,
    failures: &[(String, String)],
) -> String {
    let folder = s.out_root.join(report.folder_name());
    let diffs: String = failures
        .iter()
        .map(|(shown, diff)| format!("{shown}\n{diff}\n"))
        .collect();
    let written = std::fs::write(folder.join("snapshot-diffs.txt"), diffs)
        .and_then(|()| crate::report::write_bundle(&folder, report));
    match written {
        Ok(path) => format!("failure bundle: {}", path.display()),
        Err(e) => format!(
            "the failure bundle could not be written in {}: {e}",
            folder.display()
        ),
    }
}

/// Runs the scenario once in a cluster slot with `opts`. After a signal it starts nothing,
/// and a run in flight is dropped, which removes its cluster.
pub(super) fn run_once(path: &Path, opts: RunOptions) -> Result<RunOutcome, Failed> {
    let _slot = clusters::slot().map_err(|signal| {
        Failed::from(format!(
            "interrupted before start by {}: no new cluster starts after a signal",
            clusters::name(signal)
        ))
    })?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failed::from(format!("tokio runtime: {e}")))?;
    let interrupted = |signal| {
        Failed::from(format!(
            "interrupted by {}: the run was stopped and its cluster removed",
            clusters::name(signal)
        ))
    };
    let outcome = match rt.block_on(clusters::until_stopped(run::run_file(path, &opts))) {
        Ok(outcome) => outcome,
        Err(signal) => {
            // An image build in flight (a blocking task) is not waited for.
            rt.shutdown_background();
            return Err(interrupted(signal));
        }
    };
    match outcome {
        Ok(report) => Ok(Ok(report)),
        Err(RunError::Interrupted(signal)) => Err(interrupted(signal)),
        Err(e) if e.docker_unreachable() && std::env::var("CI").as_deref() != Ok("true") => Ok(
            Err(Completion::ignored_with(format!("Docker unreachable: {e}"))),
        ),
        Err(e) => Err(e.to_string().into()),
    }
}
