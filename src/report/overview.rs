//! The overview of many runs (`upgrade-harness report [DIR]`): every run folder's
//! `result.json` under DIR, one row per scenario (its newest run) with status and duration,
//! and the command that reruns the failed ones; as `overview.md` and `overview.html`.
//!
//! Under nextest every scenario test is its own process, so nothing in one process sees the
//! whole test run: the run folders are the record, and this reads them afterwards.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;

use super::Status;
use crate::scenario::TestName;

/// The name of the scenario test that runs `file` (`run::local::1_10_0-to-1_11_0`), when the
/// file is one of the project's scenarios (under a `scenarios/` folder): the one naming rule,
/// [`TestName`].
pub fn scenario_test_name(file: &Path) -> Option<String> {
    // Only a file under a `scenarios` folder is a scenario test (a generated compat or
    // certify scenario is not: rerun it with `upgrade-harness run FILE`).
    under_scenarios(file)?;
    TestName::of_path(file).map(|name| name.run())
}

/// `file` from its `scenarios/` folder on (`/home/ci/h/scenarios/local/x.yaml` ->
/// `scenarios/local/x.yaml`): how to name it from the repository's root. Other files as given.
pub fn repository_path(file: &Path) -> PathBuf {
    match under_scenarios(file) {
        Some(relative) => Path::new("scenarios").join(relative),
        None => file.to_path_buf(),
    }
}

/// The part of `file` below its last `scenarios` folder.
fn under_scenarios(file: &Path) -> Option<PathBuf> {
    let parts: Vec<Component> = file.components().collect();
    let at = parts.iter().rposition(|c| c.as_os_str() == "scenarios")?;
    let rest: PathBuf = parts[at + 1..].iter().collect();
    (rest.components().count() > 0).then_some(rest)
}

/// What the overview reads of a `result.json`: a subset of [`super::RunReport`]'s fields,
/// so unknown fields are accepted (newer fields must not break reading older ones).
#[derive(Debug, Clone, Deserialize)]
struct ResultFile {
    scenario: String,
    file: PathBuf,
    from: String,
    to: String,
    phases: Vec<PhaseResult>,
    #[serde(default)]
    aborted: Option<String>,
    seconds: f64,
    /// A must-fail scenario's outcome: whether it failed where it should.
    #[serde(default)]
    expected_failure: Option<ExpectedRead>,
}

#[derive(Debug, Clone, Deserialize)]
struct ExpectedRead {
    caught: bool,
}

#[derive(Debug, Clone, Deserialize)]
struct PhaseResult {
    name: String,
    actions: Vec<ItemResult>,
    verdicts: Vec<ItemResult>,
}

#[derive(Debug, Clone, Deserialize)]
struct ItemResult {
    status: Status,
}

impl PhaseResult {
    fn failed(&self) -> bool {
        self.actions
            .iter()
            .chain(&self.verdicts)
            .any(|i| i.status == Status::Failed)
    }
}

/// The outcome of one run, as the overview shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// Every action, invariant and check held.
    Passed,
    /// Something failed, or the run stopped early.
    Failed,
    /// A must-fail scenario that failed exactly where and how it should: what it is for.
    FailedAsExpected,
    /// The run passed, but its scenario test found its observations differ from the
    /// committed snapshots (`snapshot-diffs.txt` in the run folder).
    SnapshotsDiffer,
}

impl RunStatus {
    fn word(self) -> &'static str {
        match self {
            RunStatus::Passed => "passed",
            RunStatus::Failed => "**FAILED**",
            RunStatus::FailedAsExpected => "failed as expected",
            RunStatus::SnapshotsDiffer => "**snapshots differ**",
        }
    }
}

/// One run in the overview.
#[derive(Debug, Clone)]
pub struct RunRow {
    /// Scenario name.
    pub scenario: String,
    /// Scenario file, from the repository's root when it is one of the project's.
    pub file: PathBuf,
    /// `run::<dir>::<stem>` for the project's scenarios.
    pub test: Option<String>,
    /// `from -> to`.
    pub versions: String,
    /// The outcome.
    pub status: RunStatus,
    /// Wall time of the run, seconds.
    pub seconds: f64,
    /// Number of phases.
    pub phases: usize,
    /// The first phase that failed, or why the run stopped.
    pub failed_at: Option<String>,
    /// The run folder's name (below the overview's folder).
    pub folder: String,
    /// Whether the failure bundle is there.
    pub bundle: bool,
    /// Whether the run folder has `summary.md` (runs of older harnesses do not).
    pub summary: bool,
}

/// Every run of a folder of run folders.
#[derive(Debug, Clone, Default)]
pub struct Overview {
    /// One row per scenario file (its newest run), ordered by file.
    pub runs: Vec<RunRow>,
    /// Run folders without `result.json` (interrupted, or still running).
    pub without_result: Vec<String>,
    /// Run folders whose `result.json` could not be read, with why.
    pub unreadable: Vec<(String, String)>,
    /// Older runs of a scenario that a newer one replaced.
    pub superseded: usize,
}

/// Why an overview could not be made.
#[derive(Debug, thiserror::Error)]
pub enum OverviewError {
    /// The folder is not there.
    #[error("no folder {0}: run a scenario first (its results go to target/upgrade-harness), or name the folder that holds the run folders")]
    NoFolder(PathBuf),
    /// Reading the folder or writing the overview.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: std::io::Error,
    },
}

/// Reads every run folder under `dir` (one level), keeping each scenario's newest run
/// (by the time of its `result.json`) and, with `since`, only runs that finished then or later.
pub fn collect(dir: &Path, since: Option<SystemTime>) -> Result<Overview, OverviewError> {
    if !dir.is_dir() {
        return Err(OverviewError::NoFolder(dir.to_path_buf()));
    }
    let io = |what: String| move |source| OverviewError::Io { what, source };
    let mut folders: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io(format!("reading {}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    let mut overview = Overview::default();
    let mut newest: BTreeMap<PathBuf, (SystemTime, RunRow)> = BTreeMap::new();
    for folder in folders {
        let name = folder
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let result = folder.join("result.json");
        let Ok(meta) = std::fs::metadata(&result) else {
            overview.without_result.push(name);
            continue;
        };
        let finished = meta.modified().unwrap_or(UNIX_EPOCH);
        if since.is_some_and(|since| finished < since) {
            continue;
        }
        let parsed = std::fs::read_to_string(&result)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str::<ResultFile>(&t).map_err(|e| e.to_string()));
        let r = match parsed {
            Ok(r) => r,
            Err(why) => {
                overview.unreadable.push((name, why));
                continue;
            }
        };
        let row = row(&folder, name, r);
        match newest.get(&row.file) {
            Some((seen, _)) if *seen >= finished => overview.superseded += 1,
            Some(_) => {
                overview.superseded += 1;
                newest.insert(row.file.clone(), (finished, row));
            }
            None => {
                newest.insert(row.file.clone(), (finished, row));
            }
        }
    }
    overview.runs = newest.into_values().map(|(_, row)| row).collect();
    Ok(overview)
}

fn row(folder: &Path, name: String, r: ResultFile) -> RunRow {
    let failed_phase = r.phases.iter().find(|p| p.failed()).map(|p| p.name.clone());
    let status = if let Some(e) = &r.expected_failure {
        if e.caught {
            RunStatus::FailedAsExpected
        } else {
            RunStatus::Failed
        }
    } else if failed_phase.is_some() || r.aborted.is_some() {
        RunStatus::Failed
    } else if folder.join("snapshot-diffs.txt").is_file() {
        RunStatus::SnapshotsDiffer
    } else {
        RunStatus::Passed
    };
    RunRow {
        scenario: r.scenario,
        test: scenario_test_name(&r.file),
        file: repository_path(&r.file),
        versions: format!("{} -> {}", r.from, r.to),
        status,
        seconds: r.seconds,
        phases: r.phases.len(),
        failed_at: failed_phase.or(r.aborted.map(|why| format!("aborted: {why}"))),
        bundle: super::bundle_path(folder).is_file(),
        summary: folder.join("summary.md").is_file(),
        folder: name,
    }
}

impl Overview {
    /// Runs that did not go as they should (a must-fail run that failed as expected did).
    pub fn failed(&self) -> impl Iterator<Item = &RunRow> {
        self.runs
            .iter()
            .filter(|r| !matches!(r.status, RunStatus::Passed | RunStatus::FailedAsExpected))
    }

    /// The one command that reruns every failed scenario test:
    /// `cargo nextest run --profile ci -E 'test(=run::a) | test(=run::b)'`.
    pub fn rerun_command(&self) -> Option<String> {
        let tests: Vec<String> = self
            .failed()
            .filter_map(|r| r.test.as_ref().map(|t| format!("test(={t})")))
            .collect();
        (!tests.is_empty())
            .then(|| format!("cargo nextest run --profile ci -E '{}'", tests.join(" | ")))
    }

    /// The Markdown overview.
    pub fn markdown(&self) -> String {
        let failed = self.failed().count();
        let as_expected = self
            .runs
            .iter()
            .filter(|r| r.status == RunStatus::FailedAsExpected)
            .count();
        let passed = self.runs.len() - failed - as_expected;
        let expected = if as_expected > 0 {
            format!(", {as_expected} failed as expected (must-fail)")
        } else {
            String::new()
        };
        let mut md = format!(
            "# Upgrade scenarios: {passed} passed, {failed} failed{expected}\n\n{} scenario run{} in {:.0}s of cluster time.\n\n",
            self.runs.len(),
            if self.runs.len() == 1 { "" } else { "s" },
            self.runs.iter().map(|r| r.seconds).sum::<f64>()
        );
        if !self.runs.is_empty() {
            md.push_str("| scenario | Mesos | status | seconds | failed at | results |\n");
            md.push_str("|---|---|---|---:|---|---|\n");
            for r in &self.runs {
                let mut links = Vec::new();
                if r.summary {
                    links.push(format!("[summary]({}/summary.md)", r.folder));
                }
                if r.bundle {
                    links.push(format!("[bundle]({}.tar.gz)", r.folder));
                }
                if links.is_empty() {
                    links.push(format!("`{}/`", r.folder));
                }
                let results = links.join(" · ");
                md.push_str(&format!(
                    "| `{}` | {} | {} | {:.1} | {} | {results} |\n",
                    r.scenario,
                    r.versions,
                    r.status.word(),
                    r.seconds,
                    r.failed_at
                        .as_deref()
                        .map(|f| format!("`{}`", cell(f)))
                        .unwrap_or_default(),
                ));
            }
        }
        if failed > 0 {
            md.push_str("\n## Rerun the failed scenarios\n\n```sh\n");
            if let Some(command) = self.rerun_command() {
                md.push_str(&command);
                md.push('\n');
            }
            for r in self.failed().filter(|r| r.test.is_none()) {
                md.push_str(&format!("upgrade-harness run {}\n", r.file.display()));
            }
            md.push_str("```\n");
        }
        if !self.without_result.is_empty() {
            md.push_str(&format!(
                "\nRun folders without `result.json` (interrupted, or still running): {}.\n",
                self.without_result
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        for (name, why) in &self.unreadable {
            md.push_str(&format!(
                "\n`{name}/result.json` cannot be read: `{}`\n",
                cell(why)
            ));
        }
        if self.superseded > 0 {
            md.push_str(&format!(
                "\n{} older run{} of the same scenarios not shown.\n",
                self.superseded,
                if self.superseded == 1 { "" } else { "s" }
            ));
        }
        md
    }

    /// The same overview as a standalone HTML page (rendered from the Markdown by
    /// pulldown-cmark, which escapes the text).
    pub fn html(&self) -> String {
        let md = self.markdown();
        let parser = pulldown_cmark::Parser::new_ext(&md, pulldown_cmark::Options::ENABLE_TABLES);
        let mut body = String::new();
        pulldown_cmark::html::push_html(&mut body, parser);
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <title>upgrade-harness: scenario overview</title>\n<style>\n{STYLE}</style>\n\
             </head>\n<body>\n{body}</body>\n</html>\n"
        )
    }
}

const STYLE: &str = "body { font-family: sans-serif; margin: 2em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; }
pre { background: #f4f4f4; padding: 0.8em; overflow-x: auto; }
";

/// Text inside a table cell's code span: no pipe may end the cell, no backtick the span.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
        .replace('`', "'")
        .replace('\n', " ")
}

/// Writes `overview.md` and `overview.html` into `dir`; returns what they show.
pub fn write_overview(dir: &Path, since: Option<SystemTime>) -> Result<Overview, OverviewError> {
    let overview = collect(dir, since)?;
    for (name, text) in [
        ("overview.md", overview.markdown()),
        ("overview.html", overview.html()),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|source| OverviewError::Io {
            what: format!("writing {}", path.display()),
            source,
        })?;
    }
    Ok(overview)
}

/// Seconds since the epoch as a time (`--since`).
pub fn since_epoch(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

#[cfg(test)]
mod tests {
    use super::super::test_fixture;
    use super::*;

    #[test]
    fn test_names_are_those_of_tests_scenarios() {
        assert_eq!(
            scenario_test_name(Path::new("/w/h/scenarios/local-ha/1.10.0-to-1.11.0.yaml"))
                .as_deref(),
            Some("run::local-ha::1_10_0-to-1_11_0")
        );
        assert_eq!(
            scenario_test_name(Path::new("tests/fixtures/failing/three-failures.yaml")),
            None
        );
        assert_eq!(
            repository_path(Path::new("/w/h/scenarios/local/a.yaml")),
            Path::new("scenarios/local/a.yaml")
        );
    }

    /// A run folder with the `result.json` of `report`, written `age` seconds ago.
    fn run_folder(dir: &Path, report: &super::super::RunReport, age: u64) -> PathBuf {
        let folder = dir.join(report.folder_name());
        std::fs::create_dir_all(&folder).unwrap();
        let result = folder.join("result.json");
        super::super::write_json(&result, report).unwrap();
        std::fs::write(
            folder.join("summary.md"),
            super::super::summary::render(report),
        )
        .unwrap();
        let when = SystemTime::now() - Duration::from_secs(age);
        std::fs::File::options()
            .write(true)
            .open(&result)
            .unwrap()
            .set_modified(when)
            .unwrap();
        folder
    }

    /// A folder with: a passed scenario, a failed one with its bundle, a failed fixture
    /// outside `scenarios/`, an older failed run of the passed scenario, a run without
    /// `result.json`, and one with a broken `result.json`.
    fn fixture() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let passed = test_fixture::passed();
        run_folder(dir.path(), &passed, 10);
        let mut older = test_fixture::failed();
        older.scenario = passed.scenario.clone();
        older.file = passed.file.clone();
        older.run_id = "0123456700aa".into();
        run_folder(dir.path(), &older, 3600);
        let mut failed = test_fixture::failed();
        failed.scenario = "local-1.4.3-to-1.11.0".into();
        failed.file = "/home/ci/h/scenarios/local/1.4.3-to-1.11.0.yaml".into();
        let folder = run_folder(dir.path(), &failed, 20);
        std::fs::write(super::super::bundle_path(&folder), b"").unwrap();
        let fixture = run_folder(dir.path(), &test_fixture::failed(), 30);
        std::fs::remove_file(fixture.join("summary.md")).unwrap(); // as an older harness left it
        std::fs::create_dir_all(dir.path().join("local-1.9.0-to-1.10.0-6b1600000000/logs"))
            .unwrap();
        let broken = dir.path().join("local-1.8.0-to-1.9.0-6b1600000001");
        std::fs::create_dir_all(&broken).unwrap();
        std::fs::write(broken.join("result.json"), "{\"scenario\": ").unwrap();
        dir
    }

    #[test]
    fn the_overview_lists_the_newest_run_of_each_scenario_and_how_to_rerun_the_failed() {
        let dir = fixture();
        let overview = write_overview(dir.path(), None).unwrap();
        let md = std::fs::read_to_string(dir.path().join("overview.md")).unwrap();
        assert_eq!(md, overview.markdown());
        insta::assert_snapshot!("overview", md);
        assert_eq!(overview.runs.len(), 3);
        assert_eq!(overview.superseded, 1);
        assert_eq!(
            overview.rerun_command().as_deref(),
            Some("cargo nextest run --profile ci -E 'test(=run::local::1_4_3-to-1_11_0)'")
        );
        assert!(md.contains("upgrade-harness run tests/fixtures/failing/three-failures.yaml"));
        let html = std::fs::read_to_string(dir.path().join("overview.html")).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert_eq!(
            html.matches("<tr>").count(),
            1 + overview.runs.len(),
            "{html}"
        );
        assert!(html.contains("test(=run::local::1_4_3-to-1_11_0)"));
    }

    #[test]
    fn since_keeps_only_the_runs_of_this_test_run() {
        let dir = fixture();
        let since = SystemTime::now() - Duration::from_secs(15);
        let overview = collect(dir.path(), Some(since)).unwrap();
        let names: Vec<&str> = overview.runs.iter().map(|r| r.scenario.as_str()).collect();
        assert_eq!(names, ["local-1.10.0-to-1.11.0"]);
        assert_eq!(overview.rerun_command(), None);
    }

    #[test]
    fn a_passed_run_whose_snapshots_differ_is_not_passed() {
        let dir = tempfile::tempdir().unwrap();
        let folder = run_folder(dir.path(), &test_fixture::passed(), 0);
        std::fs::write(folder.join("snapshot-diffs.txt"), "-a\n+b\n").unwrap();
        let overview = collect(dir.path(), None).unwrap();
        assert_eq!(overview.runs[0].status, RunStatus::SnapshotsDiffer);
        assert_eq!(
            overview.rerun_command().as_deref(),
            Some("cargo nextest run --profile ci -E 'test(=run::local::1_10_0-to-1_11_0)'")
        );
    }

    #[test]
    fn a_must_fail_run_caught_where_expected_is_not_a_failure_to_rerun() {
        let dir = tempfile::tempdir().unwrap();
        let mut outcomes = Vec::new();
        for caught in [true, false] {
            let sub = dir.path().join(caught.to_string());
            let folder = run_folder(&sub, &test_fixture::failed(), 0);
            // What a must-fail run's result.json adds (`report::expected`).
            let path = folder.join("result.json");
            let mut v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            v["expected_failure"] = serde_json::json!({"caught": caught, "seen": "x"});
            std::fs::write(&path, v.to_string()).unwrap();
            let overview = collect(&sub, None).unwrap();
            outcomes.push((overview.runs[0].status, overview.failed().count() == 1));
            let md = overview.markdown();
            if caught {
                assert!(
                    md.starts_with(
                        "# Upgrade scenarios: 0 passed, 0 failed, 1 failed as expected (must-fail)"
                    ),
                    "{md}"
                );
                assert!(!md.contains("Rerun"), "{md}");
            }
        }
        assert_eq!(
            outcomes,
            [
                (RunStatus::FailedAsExpected, false),
                (RunStatus::Failed, true)
            ]
        );
    }

    #[test]
    fn a_missing_folder_is_named() {
        let err = collect(Path::new("/nonexistent/runs"), None).unwrap_err();
        assert!(
            err.to_string().starts_with("no folder /nonexistent/runs:"),
            "{err}"
        );
    }
}
