//! Every scenario file under `scenarios/` is a test (libtest-mimic, `harness = false`),
//! through `upgrade_harness::testing` (the entry point other crates use on their own
//! scenario folders: docs/your-project.md); this file adds the project's conventions and
//! the `repeat::`, `published::` and `seeds::` trials.
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
//! machine, under nextest and `cargo test` alike (`upgrade_harness::testing::clusters`). On SIGINT/SIGTERM no new cluster
//! starts (a trial that has not started fails "interrupted before start"), the runs in flight
//! are stopped and removed, and the binary exits with 130/143 (`upgrade_harness::testing::clusters`).
//!
//! Filters: `cargo test --test scenarios -- 1_10` or `cargo nextest run -E 'test(/1_10/)'`
//! select `scenarios/local/1.10.0-to-1.11.0.yaml` (and `1.9.0-to-1.10.0`); `plan::seed`
//! selects every seed plan. See docs/scenarios.md.

use upgrade_harness::docker::Reach;
use upgrade_harness::drift;
use upgrade_harness::plan::plan;
use upgrade_harness::run::RunOptions;
use upgrade_harness::scenario::model::{Distribution, Scenario};
use upgrade_harness::snapshot::Render;
use upgrade_harness::testing::libtest_mimic::{Completion, Failed, Trial};
use upgrade_harness::testing::{ScenarioFile, Scenarios};

/// This repository's scenario folder, with its conventions; everything about the folder's
/// trials is `upgrade_harness::testing`'s, which other crates use on their own folders.
fn scenarios() -> Scenarios {
    Scenarios::new(env!("CARGO_MANIFEST_DIR"))
        .conventions(check_conventions)
        .snapshot_runs_when(snapshot_folder)
}

/// Loads and validates a scenario like `upgrade-harness check` does; the error is the
/// rendered diagnostics (plain text, so that test output stays readable).
fn load(file: &std::path::Path) -> Result<Scenario, Failed> {
    upgrade_harness::scenario::load(file).map_err(|d| Failed::from(d.render_plain(100)))
}

/// The project's own conventions for its scenario files (not rules of the format): the
/// folder says the distribution, and every check names the change it documents.
fn check_conventions(file: &ScenarioFile, s: &Scenario) -> Result<(), String> {
    let mut problems = Vec::new();
    let expected = match file.dir.split('/').next() {
        Some("seed") => Some(Distribution::Upstream),
        Some("local" | "still-1x" | "faults" | "must-fail" | "downgrades" | "frameworks") => {
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
        Err(problems.join("\n"))
    }
}

/// Whether the runs of a file are snapshot. Not under `faults/`: after a killed or frozen
/// leader any master may lead, so which node's snapshot a phase has is chance; the API of the
/// same versions is snapshot under `local-ha/` (issue 17).
/// Not under `downgrades/` either: the API of those versions is snapshot by the upgrades.
fn snapshot_folder(file: &ScenarioFile) -> bool {
    !matches!(file.dir.split('/').next(), Some("faults" | "downgrades"))
}

/// The scenario whose second run must observe exactly what its first run observed.
const REPEATED: &str = "local::1_10_0-to-1_11_0";

/// `repeat::<id>`: runs one scenario twice and compares the normalized observations (every
/// snapshot text and the drift report): the proof that snapshots do not churn between runs.
fn repeat_trial(suite: &Scenarios, file: &ScenarioFile) -> Trial {
    let (suite, file) = (suite.clone(), file.clone());
    Trial::ignorable_test(format!("repeat::{}", file.id), move || {
        let mut seen = Vec::new();
        for _ in 0..2 {
            let report = match suite.run_once(&file.path, suite.run_options(None))? {
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
                drift::drift(&scenario, &report.observations, None).markdown(),
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
fn published_trial(suite: &Scenarios, file: &ScenarioFile) -> Trial {
    let (suite, file) = (suite.clone(), file.clone());
    Trial::ignorable_test(format!("published::{}", file.id), move || {
        let (completion, report) = suite.real_run(&file, Some(Reach::Published))?;
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
        let result = suite
            .run_folders()
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
fn seed_trial(suite: &Scenarios, file: &ScenarioFile, seed: u64) -> Trial {
    let (suite, file) = (suite.clone(), file.clone());
    Trial::ignorable_test(format!("seeds::{}::{seed}", file.id), move || {
        let opts = RunOptions {
            seed: Some(seed),
            ..suite.run_options(None)
        };
        let report = match suite.run_once(&file.path, opts)? {
            Ok(report) => report,
            Err(completion) => return Ok(completion),
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
    let suite = scenarios();
    let args = upgrade_harness::testing::arguments();
    let mut listing = suite.list(&args);
    let mut extra = Vec::new();
    for listed in &listing.files {
        let file = &listed.file;
        let runs_here = listed.ignored.is_none();
        if file.id == REPEATED {
            extra.push(repeat_trial(&suite, file));
        }
        if file.id == PUBLISHED && runs_here {
            extra.push(published_trial(&suite, file));
        }
        if file.dir == "local" && runs_here && seeded_path(listed.scenario.as_ref()) {
            let base = env_u64(SEED_BASE_ENV, 1);
            for seed in base..base + env_u64(SEEDS_ENV, 0) {
                extra.push(seed_trial(&suite, file, seed));
            }
        }
    }
    listing.trials.extend(extra);
    suite.run(&args, listing)
}
