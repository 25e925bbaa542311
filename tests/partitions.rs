//! Partitions (issue 12, item 4): `cargo nextest run --profile ci --partition hash:K/N` gives
//! every scenario `run::` trial that CI runs to exactly one of the N jobs, for N = 1..4; the
//! trials are named from the scenario files' paths (`scenario::TestName`), so they are stable;
//! and `upgrade-harness matrix --runnable yes --format names` names exactly the trials CI runs.
//!
//! It asks nextest itself (`cargo nextest list ... --message-format json`), which builds the
//! test binaries as `cargo nextest run` does, with the same profile: after the suite's own
//! build nothing is left to build and each listing takes about half a second; run alone on a
//! cold target it first builds every test binary. Skipped with the reason when cargo-nextest is
//! not installed (`ci/install-deps.sh` installs it); with `CI=true` that fails.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use upgrade_harness::scenario::test_name::{TestName, SCENARIOS_FOLDER};

/// The most jobs a partitioned CI run is proven for.
const MAX_JOBS: u32 = 4;

/// A listing that has to build every test binary first (a cold target, 2 shared cores).
const FIRST_LISTING: Duration = Duration::from_secs(20 * 60);
/// A listing with nothing left to build.
const LISTING: Duration = Duration::from_secs(120);

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The cargo that runs this test (the one that built it when run otherwise).
fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let mut command = Command::new(cargo);
    command.current_dir(root());
    // The listing must be the one a fresh CI job gets, not shaped by the nextest run this
    // test may be part of.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("NEXTEST") {
            command.env_remove(name);
        }
    }
    command
}

/// Runs `command` to its end, or kills it (its whole process group: cargo and the rustc and
/// test processes it started) after `deadline`.
fn output_within(mut command: Command, deadline: Duration) -> Result<Output, String> {
    let shown = format!("{command:?}");
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start {shown}: {e}"))?;
    let group = child.id() as libc::pid_t;
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(child.wait_with_output());
    });
    match receiver.recv_timeout(deadline) {
        Ok(output) => output.map_err(|e| format!("{shown}: {e}")),
        Err(_) => {
            // SAFETY: signals the process group this test started, nothing else.
            unsafe { libc::kill(-group, libc::SIGKILL) };
            Err(format!(
                "{shown} did not finish within {deadline:?}; killed"
            ))
        }
    }
}

/// Why nextest cannot be asked here, if it cannot.
fn nextest_missing() -> Option<String> {
    let mut command = cargo();
    command.args(["nextest", "--version"]);
    match output_within(command, LISTING) {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(format!(
            "cargo-nextest is not installed (`cargo nextest --version`: {}); ci/install-deps.sh installs it",
            String::from_utf8_lossy(&out.stderr).lines().next().unwrap_or("").trim()
        )),
        Err(e) => Some(e),
    }
}

/// One `run::` trial of the scenario binary in a listing.
#[derive(Debug)]
struct Listed {
    /// Marked ignored by the binary (a scenario that cannot run here).
    ignored: bool,
    /// Selected by this listing's filters, ignored handling and partition.
    selected: bool,
}

/// The scenario binary's `run::` trials as `cargo nextest list --profile ci
/// -E 'binary(scenarios)' <extra>` lists them.
fn list(extra: &[&str], deadline: Duration) -> BTreeMap<String, Listed> {
    let mut command = cargo();
    command.args([
        "nextest",
        "list",
        "--profile",
        "ci",
        "-E",
        "binary(scenarios)",
        "--message-format",
        "json",
    ]);
    command.args(extra);
    let out = output_within(command, deadline).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "cargo nextest list {extra:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("cargo nextest list {extra:?}: not JSON: {e}"));
    let suite = json["rust-suites"]
        .as_object()
        .and_then(|suites| {
            suites
                .values()
                .find(|s| s["binary-name"] == "scenarios" && s["kind"] == "test")
        })
        .unwrap_or_else(|| panic!("no scenarios binary in the listing {extra:?}"));
    let cases = suite["testcases"]
        .as_object()
        .unwrap_or_else(|| panic!("no testcases in the listing {extra:?}"));
    cases
        .iter()
        .filter(|(name, _)| name.starts_with("run::"))
        .map(|(name, case)| {
            let listed = Listed {
                ignored: case["ignored"] == true,
                selected: case["filter-match"]["status"] == "matches",
            };
            (name.clone(), listed)
        })
        .collect()
}

fn selected(listing: &BTreeMap<String, Listed>) -> BTreeSet<String> {
    listing
        .iter()
        .filter(|(_, l)| l.selected)
        .map(|(name, _)| name.clone())
        .collect()
}

/// `run::` trial names of every scenario file, from the files and the shared naming rule.
fn named_from_files() -> BTreeSet<String> {
    let base = root().join(SCENARIOS_FOLDER);
    let files = upgrade_harness::cli::scenario_files(std::slice::from_ref(&base))
        .unwrap_or_else(|d| panic!("{}", d.render_plain(100)));
    files
        .iter()
        .map(|p| {
            let relative = p.strip_prefix(&base).unwrap().to_string_lossy();
            TestName::of(&relative.replace('\\', "/")).run()
        })
        .collect()
}

/// What `upgrade-harness matrix --runnable yes --format names` prints.
fn matrix_names() -> BTreeSet<String> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_upgrade-harness"));
    command
        .current_dir(root())
        .args(["matrix", "--runnable", "yes", "--format", "names"]);
    let out = output_within(command, LISTING).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn every_scenario_trial_ci_runs_lands_in_exactly_one_partition() {
    if let Some(reason) = nextest_missing() {
        common::skip(reason);
        return;
    }
    // Every trial, the ignored ones too: one per scenario file, named from its path.
    let all = list(&["--run-ignored", "all"], FIRST_LISTING);
    let names: BTreeSet<String> = all.keys().cloned().collect();
    assert_eq!(
        names,
        named_from_files(),
        "the scenario binary's run:: trials are not the files' names"
    );
    // What CI runs: the trials that are not ignored; the matrix names the same ones.
    let ci = list(&[], LISTING);
    let runs = selected(&ci);
    let expected: BTreeSet<String> = ci
        .iter()
        .filter(|(_, l)| !l.ignored)
        .map(|(n, _)| n.clone())
        .collect();
    assert!(!runs.is_empty(), "CI runs no scenario trial: {ci:?}");
    assert_eq!(
        runs, expected,
        "CI's listing selects something else than the trials not ignored"
    );
    // The matrix is decided without Docker: it also names the `upstream` scenarios whose
    // images this engine has not and cannot pull; their trials are ignored here (the reason
    // names the image) and run where the images can be had.
    let matrix = matrix_names();
    assert!(
        runs.is_subset(&matrix),
        "CI runs trials `matrix --runnable yes` does not name: {:?}",
        runs.difference(&matrix).collect::<Vec<_>>()
    );
    for extra in matrix.difference(&runs) {
        assert!(
            extra.starts_with("run::seed::") && ci.get(extra).is_some_and(|l| l.ignored),
            "`matrix --runnable yes` names {extra}, which CI does not run and which is not an upstream trial ignored for its images"
        );
    }

    let mut problems = Vec::new();
    for n in 1..=MAX_JOBS {
        let parts: Vec<BTreeSet<String>> = (1..=n)
            .map(|k| selected(&list(&["--partition", &format!("hash:{k}/{n}")], LISTING)))
            .collect();
        for trial in &runs {
            let jobs: Vec<String> = (1..=n)
                .filter(|k| parts[*k as usize - 1].contains(trial))
                .map(|k| format!("{k}/{n}"))
                .collect();
            if jobs.len() != 1 {
                problems.push(format!("{trial}: in jobs [{}] of {n}", jobs.join(", ")));
            }
        }
        for (k, part) in parts.iter().enumerate() {
            for stray in part.difference(&runs) {
                problems.push(format!(
                    "{stray}: run by job {}/{n}, but not by CI unpartitioned",
                    k + 1
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "--partition hash:K/N does not give each scenario trial to exactly one job:\n{}",
        problems.join("\n")
    );
}
