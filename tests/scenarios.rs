//! Every scenario file under `scenarios/` is a test (libtest-mimic, `harness = false`).
//!
//! Each file `scenarios/<dir>/<stem>.yaml` gives up to two trials, named after its path with
//! dots replaced by underscores (so that filters never need escaping) by
//! `upgrade_harness::scenario::TestName`, which `upgrade-harness matrix` prints too:
//! - `plan::<dir>::<stem>`: loads and checks the scenario, plans it, and compares the plan
//!   listing with `snapshots/plans/<dir>/<stem>.snap`. Runs everywhere, no Docker.
//! - `run::<dir>::<stem>`: the real upgrade in Docker (`upgrade_harness::run::run_file`).
//!   Scenarios that cannot run here are marked ignored with the reason: an `upstream`
//!   scenario whose image is neither on the engine nor pullable (asked once per reference
//!   when the trials are listed: the engine, then the registry for the manifest only;
//!   nothing is pulled) says "image <ref> not present and cannot be pulled"; one with a
//!   version no image is named for says so. Forced to run (`--ignored`), such a trial
//!   reports the reason as ignored under `cargo test`, and fails under nextest (where a
//!   runtime "ignored" would be shown as a pass).
//!   A passing run's normalized observations are compared with `snapshots/runs/<dir>/<stem>/
//!   <phase>/<node>.snap` and its API drift report with `snapshots/drift/<dir>/<stem>.snap`
//!   (docs/snapshots.md).
//! - `repeat::local::1_10_0-to-1_11_0`: runs that scenario twice; both runs must observe the
//!   same normalized snapshots and drift (snapshots never churn between runs).
//! - `published::local::1_10_0-to-1_11_0`: runs that scenario with the harness reaching the
//!   nodes through published ports (`RunOptions::reach`, as on a remote engine, rootless
//!   Docker or Docker Desktop); it must pass with the same snapshots, and every address the
//!   harness was given and every request it sent must have gone to 127.0.0.1.
//!
//! Run trials start clusters: at most `UPGRADE_HARNESS_MAX_CLUSTERS` (default 4) at once on the
//! machine, under nextest and `cargo test` alike (`tests/common/clusters.rs`). On SIGINT/SIGTERM no new cluster
//! starts (a trial that has not started fails "interrupted before start"), the runs in flight
//! are stopped and removed, and the binary exits with 130/143 (`tests/common/clusters.rs`).
//!
//! Filters: `cargo test --test scenarios -- 1_10` or `cargo nextest run -E 'test(/1_10/)'`
//! select `scenarios/local/1.10.0-to-1.11.0.yaml` (and `1.9.0-to-1.10.0`); `plan::seed`
//! selects every seed plan. See docs/scenarios.md.

mod common;

use std::path::{Path, PathBuf};

use common::clusters;
use libtest_mimic::{Arguments, Completion, Failed, Trial};
use upgrade_harness::docker::Reach;
use upgrade_harness::domain::Role;
use upgrade_harness::drift;
use upgrade_harness::plan::plan;
use upgrade_harness::report::RunReport;
use upgrade_harness::run::{self, RunError, RunOptions};
use upgrade_harness::scenario::model::{Distribution, Scenario};
use upgrade_harness::scenario::test_name::{TestName, SCENARIOS_FOLDER};
use upgrade_harness::snapshot::{phase_folder, Render};

/// Whether each image reference is on the engine or can be pulled, asked once per reference
/// while the trials are listed (`None`: yes; `Some(why)`: the reason the trial is ignored).
struct ImageCheck {
    rt: tokio::runtime::Runtime,
    engine: Result<upgrade_harness::docker::Engine, String>,
    seen: std::collections::HashMap<String, Option<String>>,
}

impl ImageCheck {
    fn new() -> ImageCheck {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let engine = rt
            .block_on(upgrade_harness::docker::Engine::connect())
            .map_err(|e| e.to_string());
        ImageCheck {
            rt,
            engine,
            seen: Default::default(),
        }
    }

    /// Why `reference` cannot be had here, if it cannot.
    fn unavailable(&mut self, reference: &str) -> Option<String> {
        if let Some(known) = self.seen.get(reference) {
            return known.clone();
        }
        let why = match &self.engine {
            // The run reports it (and fails under CI=true).
            Err(_) => None,
            Ok(engine) => self.rt.block_on(async {
                match upgrade_harness::docker::local_image(engine, reference).await {
                    Ok(Some(_)) => None,
                    Ok(None) => upgrade_harness::docker::registry_has(engine, reference)
                        .await
                        .err()
                        .map(|cause| {
                            format!("skipped: image {reference} not present and cannot be pulled ({cause})")
                        }),
                    Err(e) => Some(format!("skipped: image {reference}: {e}")),
                }
            }),
        };
        self.seen.insert(reference.to_string(), why.clone());
        why
    }

    /// For an `upstream` scenario: the first of its images (after `UPGRADE_HARNESS_IMAGES`)
    /// that cannot be had here.
    fn scenario(&mut self, s: &Scenario) -> Option<String> {
        let overrides = std::env::var(upgrade_harness::image_builds::IMAGES_ENV)
            .ok()
            .and_then(|t| upgrade_harness::image_builds::parse_overrides(&t).ok())
            .unwrap_or_default();
        for v in [s.from_version(), s.to_version()] {
            let refs = overrides
                .get(&v)
                .cloned()
                .or_else(|| s.images.get(&v.to_string()).map(|r| r.value.clone()))
                .unwrap_or_default();
            for r in refs {
                if let Some(why) = self.unavailable(&r) {
                    return Some(why);
                }
            }
        }
        None
    }
}

/// One scenario file.
#[derive(Clone)]
struct ScenarioFile {
    /// Absolute path of the file.
    path: PathBuf,
    /// Path relative to `scenarios/`, e.g. `local/1.10.0-to-1.11.0.yaml`.
    relative: String,
    /// Test id: `local::1_10_0-to-1_11_0`.
    id: String,
    /// Snapshot folder below `snapshots/plans/` (`local`), empty for top-level files.
    dir: String,
    /// Snapshot name (`1_10_0-to-1_11_0`).
    stem: String,
    /// Its trials' names.
    name: TestName,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every scenario file, found as `upgrade-harness check`/`matrix` find them and named by
/// `TestName` (the names `upgrade-harness matrix` prints).
fn scenario_files() -> Vec<ScenarioFile> {
    let base = root().join(SCENARIOS_FOLDER);
    let paths = upgrade_harness::cli::scenario_files(std::slice::from_ref(&base))
        .unwrap_or_else(|d| panic!("{}", d.render_plain(100)));
    paths
        .into_iter()
        .map(|path| {
            let relative = path
                .strip_prefix(&base)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let name = TestName::of(&relative);
            ScenarioFile {
                path,
                relative,
                id: name.id(),
                dir: name.dir.clone(),
                stem: name.stem.clone(),
                name,
            }
        })
        .collect()
}

/// Loads and validates a scenario like `upgrade-harness check` does; the error is the
/// rendered diagnostics (plain text, so that test output stays readable).
fn load(file: &Path) -> Result<Scenario, Failed> {
    upgrade_harness::scenario::load(file).map_err(|d| Failed::from(d.render_plain(100)))
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

/// The project's own conventions for its scenario files (not rules of the format): the
/// folder says the distribution, and every check names the change it documents.
fn check_conventions(file: &ScenarioFile, s: &Scenario) -> Result<(), Failed> {
    let mut problems = Vec::new();
    let expected = match file.dir.split('/').next() {
        Some("seed") => Some(Distribution::Upstream),
        Some("local" | "still-1x" | "faults" | "must-fail" | "downgrades") => {
            Some(Distribution::Local)
        }
        _ => None,
    };
    if let Some(expected) = expected {
        if s.distribution.value != expected {
            problems.push(format!(
                "files in scenarios/{}/ use distribution {expected:?}",
                file.dir
            ));
        }
    }
    for check in &s.checks {
        if check.value.documents.as_deref().is_none_or(str::is_empty) {
            problems.push(format!(
                "line {}: the check after `{}` says no `documents:` (\"<version>: <change>\")",
                check.value.after.referenced.line(),
                check.value.after.value
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n").into())
    }
}

fn plan_trial(file: &ScenarioFile) -> Trial {
    let path = file.path.clone();
    let relative = file.relative.clone();
    let snapshot_dir = root().join("snapshots/plans").join(&file.dir);
    let stem = file.stem.clone();
    let conventions = file.clone();
    Trial::test(file.name.plan(), move || {
        let scenario = load(&path)?;
        check_conventions(&conventions, &scenario)?;
        let p = plan(&scenario);
        check_phases(&scenario, &p.phases())?;
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(snapshot_dir);
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.set_input_file(format!("scenarios/{relative}"));
        settings.set_description(format!("upgrade-harness plan scenarios/{relative}"));
        settings.bind(|| insta::assert_snapshot!(stem.as_str(), p.to_string()));
        Ok(())
    })
}

/// Every snapshot belongs to a scenario file, and no pending `.snap.new` is left behind:
/// deleting or renaming a scenario must delete or rename its snapshots. Plan snapshots: one
/// per file. Run snapshots (`snapshots/runs/`): one per phase of the plan and Mesos node
/// (the leading master, which may be any master, and the agents) of each scenario that runs
/// here; drift: one per such scenario.
/// The expected set comes from the plans, so this needs no Docker.
fn orphans_trial(files: &[ScenarioFile], runnable: &[(ScenarioFile, Scenario)]) -> Trial {
    let mut expected: Vec<PathBuf> = files
        .iter()
        .map(|f| {
            root()
                .join("snapshots/plans")
                .join(&f.dir)
                .join(format!("{}.snap", f.stem))
        })
        .collect();
    for (f, s) in runnable {
        if s.expect_failure.is_some() || !snapshot_folder(f) {
            continue; // must-fail and fault runs are not snapshot
        }
        let p = plan(s);
        // Any master may lead at a phase (HA): each may have snapshots.
        let nodes: Vec<&str> = p
            .nodes
            .iter()
            .filter(|n| matches!(n.role, Role::Master | Role::Agent))
            .map(|n| n.name.as_str())
            .collect();
        for phase in p.phases() {
            for node in &nodes {
                expected.push(
                    run_snapshot_dir(f)
                        .join(phase_folder(&phase))
                        .join(format!("{node}.snap")),
                );
            }
        }
        expected.push(
            root()
                .join("snapshots/drift")
                .join(&f.dir)
                .join(format!("{}.snap", f.stem)),
        );
    }
    Trial::test("plan::no_orphaned_snapshots", move || {
        let mut found = Vec::new();
        for dir in ["snapshots/plans", "snapshots/runs", "snapshots/drift"] {
            collect_snapshots(&root().join(dir), &mut found);
        }
        let mut problems: Vec<String> = found
            .iter()
            .filter(|p| !expected.contains(p))
            .map(|p| {
                let shown = p.strip_prefix(root()).unwrap_or(p).display().to_string();
                if shown.ends_with(".snap.new") || shown.ends_with(".pending-snap") {
                    format!(
                        "{shown}: pending snapshot; review it (cargo insta review) or delete it"
                    )
                } else {
                    format!("{shown}: no scenario file has this snapshot; delete it")
                }
            })
            .collect();
        problems.sort();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n").into())
        }
    })
}

fn collect_snapshots(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_snapshots(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Why a run trial is ignored, if it is: the scenario cannot run on this machine. Images are
/// asked about only when `ask_images` (the trial is selected by the filter: nextest starts
/// this binary once per test).
fn ignore_reason(
    scenario: Option<&Scenario>,
    images: &mut ImageCheck,
    ask_images: bool,
) -> Option<String> {
    match scenario {
        None => Some("the scenario is invalid; its plan:: trial reports why".to_string()),
        Some(s) => run::not_runnable_reason(s).or_else(|| {
            (ask_images && s.distribution.value == Distribution::Upstream)
                .then(|| images.scenario(s))
                .flatten()
        }),
    }
}

fn run_trial(file: &ScenarioFile, scenario: Option<&Scenario>, reason: Option<String>) -> Trial {
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
    let file = file.clone();
    if scenario.is_some_and(|s| s.expect_failure.is_some()) {
        return Trial::ignorable_test(name, move || must_fail_run(&file));
    }
    Trial::ignorable_test(name, move || real_run(&file, None).map(|(c, _)| c))
}

/// Whether the runs of a file are snapshot. Not under `faults/`: after a killed or frozen
/// leader any master may lead, so which node's snapshot a phase has is chance; the API of the
/// same versions is snapshot under `local-ha/` (issue 17).
/// Not under `downgrades/` either: the API of those versions is snapshot by the upgrades.
fn snapshot_folder(file: &ScenarioFile) -> bool {
    !matches!(file.dir.split('/').next(), Some("faults" | "downgrades"))
}

/// A must-fail scenario (`scenarios/must-fail/`, issue 17): the run must fail exactly as its
/// `expect_failure` says (first failure at that phase, by that invariant, check or action,
/// with those words); a run that passes, or fails elsewhere or otherwise, fails the test.
/// Its observations are not snapshot (a broken cluster's answers are not a reference).
fn must_fail_run(file: &ScenarioFile) -> Result<Completion, Failed> {
    let report = match run_once(&file.path, None)? {
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
/// A passing run's normalized observations must equal its snapshots (`snapshots/runs/`,
/// `snapshots/drift/`; docs/snapshots.md).
/// `reach` forces how the harness reaches the nodes; the report is returned with the
/// completion when the run happened.
fn real_run(
    file: &ScenarioFile,
    reach: Option<Reach>,
) -> Result<(Completion, Option<RunReport>), Failed> {
    let report = match run_once(&file.path, reach)? {
        Ok(report) => report,
        Err(completion) => return Ok((completion, None)),
    };
    if !report.passed() {
        return Err(report.failures().join("\n").into());
    }
    if !snapshot_folder(file) {
        return Ok((Completion::Completed, Some(report)));
    }
    let scenario = load(&file.path)?;
    let mut failures = Vec::new();
    for (phase, node, text) in report.observations.snapshots() {
        let dir = run_snapshot_dir(file).join(&phase);
        let description = format!(
            "upgrade-harness run scenarios/{}: {node} at phase {phase}",
            file.relative
        );
        if let Err(why) = assert_snapshot(file, dir, &node, description, text) {
            failures.push(why);
        }
    }
    let drift = drift::drift(&scenario, &report.observations).markdown();
    let dir = root().join("snapshots/drift").join(&file.dir);
    let description = format!("upgrade-harness run scenarios/{}: API drift", file.relative);
    if let Err(why) = assert_snapshot(file, dir, &file.stem, description, drift) {
        failures.push(why);
    }
    if failures.is_empty() {
        return Ok((Completion::Completed, Some(report)));
    }
    let listed: Vec<&str> = failures.iter().map(|(shown, _)| shown.as_str()).collect();
    let bundle = bundle_snapshot_diffs(&report, &failures);
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
fn bundle_snapshot_diffs(report: &RunReport, failures: &[(String, String)]) -> String {
    let folder = out_root().join(report.folder_name());
    let diffs: String = failures
        .iter()
        .map(|(shown, diff)| format!("{shown}\n{diff}\n"))
        .collect();
    let written = std::fs::write(folder.join("snapshot-diffs.txt"), diffs)
        .and_then(|()| upgrade_harness::report::write_bundle(&folder, report));
    match written {
        Ok(path) => format!("failure bundle: {}", path.display()),
        Err(e) => format!(
            "the failure bundle could not be written in {}: {e}",
            folder.display()
        ),
    }
}

/// Where scenario tests put their run folders.
fn out_root() -> PathBuf {
    root().join("target/upgrade-harness")
}

/// `snapshots/runs/<dir>/<stem>`: one folder per phase, one snapshot per node.
fn run_snapshot_dir(file: &ScenarioFile) -> PathBuf {
    root()
        .join("snapshots/runs")
        .join(&file.dir)
        .join(&file.stem)
}

/// One insta assertion; a mismatch is returned (so that every snapshot of a run is
/// compared, and written as `.snap.new` locally), not raised, as the snapshot's path and
/// the diff from the committed snapshot to this run's text.
fn assert_snapshot(
    file: &ScenarioFile,
    dir: PathBuf,
    name: &str,
    description: String,
    text: String,
) -> Result<(), (String, String)> {
    let seen = text.clone();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(dir.clone());
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_input_file(format!("scenarios/{}", file.relative));
    settings.set_description(description);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        settings.bind(|| insta::assert_snapshot!(name, text));
    }));
    outcome.map_err(|_| {
        let shown = dir
            .strip_prefix(root())
            .unwrap_or(&dir)
            .display()
            .to_string();
        let committed = std::fs::read_to_string(dir.join(format!("{name}.snap")))
            .map(|t| snapshot_body(&t))
            .unwrap_or_default();
        let diff = similar::TextDiff::from_lines(committed.trim_end(), seen.trim_end())
            .unified_diff()
            .header("committed", "this run")
            .to_string();
        (format!("  {shown}/{name}.snap"), diff)
    })
}

/// The content of an insta snapshot file: what follows its `---` header.
fn snapshot_body(file: &str) -> String {
    match file
        .strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
    {
        Some((_, body)) => body.to_string(),
        None => file.to_string(),
    }
}

/// Runs the scenario once in a cluster slot; `Err(completion)` when it cannot run here
/// (Docker unreachable outside CI). After a signal it starts nothing, and a run in flight is
/// dropped, which removes its cluster.
fn run_once(path: &Path, reach: Option<Reach>) -> Result<Result<RunReport, Completion>, Failed> {
    let _slot = clusters::slot().map_err(|signal| {
        Failed::from(format!(
            "interrupted before start by {}: no new cluster starts after a signal",
            clusters::name(signal)
        ))
    })?;
    let opts = RunOptions {
        out_root: out_root(),
        progress: false,
        reach,
        ..RunOptions::default()
    };
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

/// The scenario whose second run must observe exactly what its first run observed.
const REPEATED: &str = "local::1_10_0-to-1_11_0";

/// `repeat::<id>`: runs one scenario twice and compares the normalized observations (every
/// snapshot text and the drift report): the proof that snapshots do not churn between runs.
fn repeat_trial(file: &ScenarioFile) -> Trial {
    let file = file.clone();
    Trial::ignorable_test(format!("repeat::{}", file.id), move || {
        let mut seen = Vec::new();
        for _ in 0..2 {
            let report = match run_once(&file.path, None)? {
                Ok(report) => report,
                Err(completion) => return Ok(completion),
            };
            if !report.passed() {
                return Err(report.failures().join("\n").into());
            }
            let scenario = load(&file.path)?;
            let mut texts: Vec<(String, String)> = report
                .observations
                .snapshots()
                .into_iter()
                .map(|(phase, node, text)| (format!("{phase}/{node}"), text))
                .collect();
            texts.push((
                "drift".to_string(),
                drift::drift(&scenario, &report.observations).markdown(),
            ));
            seen.push(texts);
        }
        let differing: Vec<String> = seen[0]
            .iter()
            .zip(&seen[1])
            .filter(|(a, b)| a != b)
            .map(|(a, b)| {
                let diff = similar::TextDiff::from_lines(&a.1, &b.1)
                    .unified_diff()
                    .header("first run", "second run")
                    .to_string();
                format!("{}:\n{diff}", a.0)
            })
            .collect();
        if seen[0].len() != seen[1].len() {
            return Err(format!(
                "the runs observed {} and {} (phase, node) pairs",
                seen[0].len(),
                seen[1].len()
            )
            .into());
        }
        if differing.is_empty() {
            Ok(Completion::Completed)
        } else {
            Err(differing.join("\n").into())
        }
    })
}

/// The scenario also run with the harness reaching nodes through published ports.
const PUBLISHED: &str = "local::1_10_0-to-1_11_0";

/// `published::<id>`: the real run with [`Reach::Published`] forced (issue 12, item 6). The
/// run passes with the same snapshots as `run::<id>` (the nodes cannot tell), the report and
/// `result.json` say `published`, every node (Mesos and ZooKeeper) has only 127.0.0.1
/// addresses, and every HTTP request went to one of them.
fn published_trial(file: &ScenarioFile) -> Trial {
    let file = file.clone();
    Trial::ignorable_test(format!("published::{}", file.id), move || {
        let (completion, report) = real_run(&file, Some(Reach::Published))?;
        let Some(report) = report else {
            return Ok(completion);
        };
        let reach = report
            .reach
            .as_ref()
            .ok_or("the report does not say how the nodes were reached")?;
        let mut problems = Vec::new();
        if reach.mode != Reach::Published {
            problems.push(format!(
                "mode {} ({}), not published",
                reach.mode, reach.why
            ));
        }
        let scenario = load(&file.path)?;
        let nodes: Vec<String> = plan(&scenario)
            .nodes
            .iter()
            .map(|n| n.name.clone())
            .collect();
        let mut given = Vec::new();
        for node in &nodes {
            match reach.addresses.get(node) {
                None => problems.push(format!("{node}: no address in the report")),
                Some(addrs) => {
                    for a in addrs {
                        if !a.starts_with("127.0.0.1:") {
                            problems.push(format!("{node} reached at {a}, not on 127.0.0.1"));
                        }
                        given.push(a.clone());
                    }
                }
            }
        }
        let sent: u64 = reach.requests.values().sum();
        if sent == 0 {
            problems.push("no HTTP request was counted".to_string());
        }
        for (addr, n) in &reach.requests {
            if !given.contains(addr) {
                problems.push(format!(
                    "{n} request(s) went to {addr}, which is not a published node address ({})",
                    given.join(", ")
                ));
            }
        }
        let result = root()
            .join("target/upgrade-harness")
            .join(format!("{}-{}", report.scenario, report.run_id))
            .join("result.json");
        let json: serde_json::Value = std::fs::read_to_string(&result)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .ok_or_else(|| format!("{}: missing or not JSON", result.display()))?;
        if json.pointer("/reach/mode") != Some(&serde_json::Value::from("published")) {
            problems.push(format!(
                "{}: reach.mode is {:?}, not \"published\"",
                result.display(),
                json.pointer("/reach/mode")
            ));
        }
        if problems.is_empty() {
            Ok(completion)
        } else {
            Err(problems.join("\n").into())
        }
    })
}

/// How many seeds `seeds::` trials run per real path (`scenarios/local/`): the nightly-style
/// randomized runs of issue 17. 0 (the default) lists none; `.ci/run` sets a small number.
const SEEDS_ENV: &str = "UPGRADE_HARNESS_SEEDS";
/// The first seed (default 1): a nightly job can pass the date to draw new plans each night.
const SEED_BASE_ENV: &str = "UPGRADE_HARNESS_SEED_BASE";

/// Which real paths get `seeds::` trials: every one (the default, for a nightly job), or with
/// `UPGRADE_HARNESS_SEED_PATHS=series` only those that cross one Mesos series (1.x.y ->
/// 1.x+1.z: 8 of the 13 `scenarios/local/` files; the patch-level upgrades and the 1.4.3 ->
/// 1.11.0 skip are left to the nightly job). `.ci/run` uses `series` to keep the seeded runs
/// within a few minutes of the suite (docs/faults.md).
const SEED_PATHS_ENV: &str = "UPGRADE_HARNESS_SEED_PATHS";

fn seeded_path(scenario: Option<&Scenario>) -> bool {
    match std::env::var(SEED_PATHS_ENV).as_deref().map(str::trim) {
        Ok("series") => scenario.is_some_and(|s| {
            let parse = |v: &str| v.parse::<upgrade_harness::domain::Version>().ok();
            match (parse(&s.from.value), parse(&s.to.value)) {
                (Some(from), Some(to)) => from.major == to.major && from.minor + 1 == to.minor,
                _ => false,
            }
        }),
        _ => true,
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// `seeds::<id>::<seed>`: the scenario randomized by `seed` (`run --seed`) must pass, and the
/// run must be the plan `plan --seed` prints: the same phases in the same order, the seed
/// in the report. Observations are not snapshot (the order of nodes varies).
fn seed_trial(file: &ScenarioFile, seed: u64) -> Trial {
    let file = file.clone();
    Trial::ignorable_test(format!("seeds::{}::{seed}", file.id), move || {
        let _slot = clusters::slot()
            .map_err(|s| Failed::from(format!("interrupted by {}", clusters::name(s))))?;
        let opts = RunOptions {
            out_root: out_root(),
            progress: false,
            seed: Some(seed),
            ..RunOptions::default()
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| Failed::from(format!("tokio runtime: {e}")))?;
        let report = match rt.block_on(clusters::until_stopped(run::run_file(&file.path, &opts))) {
            Ok(Ok(report)) => report,
            Ok(Err(e))
                if e.docker_unreachable() && std::env::var("CI").as_deref() != Ok("true") =>
            {
                return Ok(Completion::ignored_with(format!("Docker unreachable: {e}")))
            }
            Ok(Err(e)) => return Err(e.to_string().into()),
            Err(signal) => return Err(format!("interrupted by {}", clusters::name(signal)).into()),
        };
        let scenario = load(&file.path)?;
        let planned = upgrade_harness::plan::plan_with(&scenario, Some(seed)).phases();
        let ran: Vec<String> = report.phases.iter().map(|p| p.name.clone()).collect();
        let mut problems = Vec::new();
        if report.seed != Some(seed) {
            problems.push(format!(
                "the report's seed is {:?}, not {seed}",
                report.seed
            ));
        }
        if !report.passed() {
            problems.push(format!(
                "seed {seed} failed (replay: upgrade-harness run scenarios/{} --seed {seed}):\n{}",
                file.relative,
                report.failures().join("\n")
            ));
        } else if !ran.starts_with(&planned) {
            problems.push(format!(
                "the run's phases are not the plan's:\n  planned {planned:?}\n  ran     {ran:?}"
            ));
        }
        if problems.is_empty() {
            Ok(Completion::Completed)
        } else {
            Err(problems.join("\n").into())
        }
    })
}

fn main() {
    let args = Arguments::from_args();
    let files = scenario_files();
    let mut trials = Vec::new();
    let (mut ignored, mut real) = (0, 0);
    let mut runnable = Vec::new();
    let mut images = ImageCheck::new();
    for file in &files {
        // The distribution decides the run trial's reason; a file that does not parse still
        // gets its plan trial, which reports the error.
        let scenario = upgrade_harness::scenario::load(&file.path).ok();
        let name = file.name.run();
        let selected = match &args.filter {
            None => true,
            Some(f) if args.exact => &name == f,
            Some(f) => name.contains(f.as_str()),
        };
        let reason = ignore_reason(scenario.as_ref(), &mut images, selected);
        match &reason {
            Some(_) => ignored += 1,
            None => {
                real += 1;
                if let Some(s) = &scenario {
                    runnable.push((file.clone(), s.clone()));
                }
            }
        }
        trials.push(plan_trial(file));
        trials.push(run_trial(file, scenario.as_ref(), reason.clone()));
        if file.id == REPEATED {
            trials.push(repeat_trial(file));
        }
        if file.id == PUBLISHED && reason.is_none() {
            trials.push(published_trial(file));
        }
        if file.dir == "local" && reason.is_none() && seeded_path(scenario.as_ref()) {
            let base = env_u64(SEED_BASE_ENV, 1);
            for seed in base..base + env_u64(SEEDS_ENV, 0) {
                trials.push(seed_trial(file, seed));
            }
        }
    }
    trials.push(orphans_trial(&files, &runnable));
    if !args.list {
        clusters::stop_on_signals(clusters::OnSignal::MainExits);
        eprintln!(
            "scenarios: {} files; {real} run:: trials run real upgrades in Docker, {ignored} are ignored \
             (each with its reason: an image not present and not pullable, a version without an image)",
            files.len()
        );
    }
    let conclusion = libtest_mimic::run(&args, trials);
    if let Some(signal) = clusters::stopping() {
        std::process::exit(clusters::finish(signal));
    }
    conclusion.exit();
}
