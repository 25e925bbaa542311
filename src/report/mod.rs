//! Reports: what a run did, step by step, as plain data; the progress lines while it runs;
//! the files of the run folder (`result.json`, `junit.xml`, `summary.md`, ...), the failure
//! bundle of a failed run, and the overview of many runs.
//!
//! The renderings are pure functions of [`RunReport`], one module each: `junit` (a test
//! case per phase), `summary` (Markdown for a CI job summary), `overview` (every run of a
//! folder, with the command that reruns the failed ones), `bundle` (the `.tar.gz` of a
//! failed run). Design notes: `docs/design.md` (report files).

mod bundle;
pub mod expected;
pub mod junit;
pub mod overview;
pub mod summary;
#[cfg(test)]
mod test_fixture;

pub use bundle::{bundle_path, write_bundle};
pub use overview::scenario_test_name;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::check::Verdict;
use crate::docker::Reach;
use crate::domain::Version;
use crate::drift::Drift;
use crate::observation::Observations;
use crate::scenario::diagnostic::{Problem, SourceFile};

/// Outcome of one item (an action, an invariant, a check).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// It held / it was done.
    Passed,
    /// It did not hold.
    Failed,
    /// Not done here; `reason` says why. Never counted as passed.
    Skipped,
    /// Nothing to do by design (e.g. `rebuild_modules` without modules); `reason` says why.
    NoOp,
}

/// Where in the scenario file an item was written: the field that was wrong, the step
/// whose action or phase failed. Absent (not 0) when the item has no place in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Place {
    /// The scenario file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// One action of the plan as performed.
#[derive(Debug, Clone, Serialize)]
pub struct ActionRecord {
    /// Plan number.
    pub number: usize,
    /// What was done, in words.
    pub what: String,
    /// Outcome.
    pub status: Status,
    /// Why skipped / no-op / failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The step it belongs to, in the scenario file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<Place>,
    /// Wall time, seconds.
    pub seconds: f64,
    /// When it started, seconds since the Unix epoch: Mesos log lines carry wall-clock
    /// times, and `crate::timing` compares them with this.
    #[serde(default)]
    pub started_unix: f64,
}

/// What a verdict is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    /// One of the scenario's `invariants`, judged after every phase.
    Invariant,
    /// One of the scenario's `checks`, judged at its phase.
    Check,
}

impl std::fmt::Display for VerdictKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            VerdictKind::Invariant => "invariant",
            VerdictKind::Check => "check",
        })
    }
}

/// One invariant or check at a phase.
#[derive(Debug, Clone, Serialize)]
pub struct VerdictRecord {
    /// An invariant or a check.
    pub kind: VerdictKind,
    /// Invariant name or check description.
    pub name: String,
    /// The node asked.
    pub node: String,
    /// Where in the scenario file: a check's offending field, or the step of the phase.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<Place>,
    /// Outcome.
    pub status: Status,
    /// The verdict (expected / seen).
    pub verdict: Verdict,
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// One build the nodes ran, with the content hash of its inputs (`images::build_version`):
/// the same hash is the same build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildRecord {
    /// What was built: `mesos 1.10.0`, `zookeeper`.
    pub build: String,
    /// SHA-256 of the build's inputs (for Mesos: the PyPI tarball, the launcher, the format).
    pub hash: String,
}

/// The harness that is running: its crate version and, when it was built from a git
/// checkout, `git describe` at build time (`build.rs`).
pub fn harness_version() -> String {
    match option_env!("UPGRADE_HARNESS_GIT") {
        Some(git) => format!("upgrade-harness {} (git {git})", env!("CARGO_PKG_VERSION")),
        None => format!("upgrade-harness {}", env!("CARGO_PKG_VERSION")),
    }
}

/// A phase: the actions that led to it and what was judged there.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseRecord {
    /// Phase name, as checks name it in `after:`.
    pub name: String,
    /// Actions performed since the previous phase.
    pub actions: Vec<ActionRecord>,
    /// Invariants and checks judged at this phase.
    pub verdicts: Vec<VerdictRecord>,
    /// Versions running per node at this phase.
    pub versions: std::collections::BTreeMap<String, Version>,
    /// Wall time since the previous phase, seconds.
    pub seconds: f64,
    /// Where the phase's own work (after its actions) went.
    pub timing: PhaseTiming,
    /// Folder holding each node's log for this phase.
    pub logs: PathBuf,
}

/// Now, in seconds since the Unix epoch (the clock Mesos log lines are written with).
pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Seconds a phase spent after its actions: saving logs, judging (invariants wait for the
/// cluster to settle), probing for the snapshots.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct PhaseTiming {
    pub logs: f64,
    pub judge: f64,
    pub probe: f64,
}

impl PhaseRecord {
    /// Whether any action or verdict failed here.
    pub fn failed(&self) -> bool {
        self.actions.iter().any(|a| a.status == Status::Failed)
            || self.verdicts.iter().any(|v| v.status == Status::Failed)
    }

    /// What failed here, actions first, in the words every report uses.
    pub fn failures(&self) -> Vec<Failure> {
        let logs = self.logs.display().to_string();
        let actions = self
            .actions
            .iter()
            .filter(|a| a.status == Status::Failed)
            .map(|a| Failure {
                code: "run::action_failed",
                what: format!("action {} failed: {}", a.number, a.what),
                label: "this step's action failed".to_string(),
                at: a.at.clone(),
                details: vec![
                    (
                        "error",
                        a.reason
                            .as_deref()
                            .unwrap_or("no reason recorded")
                            .to_string(),
                    ),
                    ("logs", logs.clone()),
                ],
            });
        let verdicts = self
            .verdicts
            .iter()
            .filter(|v| v.status == Status::Failed)
            .map(|v| {
                let (code, label) = match v.kind {
                    VerdictKind::Check => ("run::check_failed", "not as expected".to_string()),
                    VerdictKind::Invariant => (
                        "run::invariant_failed",
                        format!("{} failed after this step", v.name),
                    ),
                };
                Failure {
                    code,
                    what: format!("{} {} failed on {}", v.kind, v.name, v.node),
                    label,
                    at: v.at.clone(),
                    details: vec![
                        ("expected", v.verdict.expected.clone()),
                        ("seen", v.verdict.seen.clone()),
                        ("logs", logs.clone()),
                    ],
                }
            });
        actions.chain(verdicts).collect()
    }

    /// How many verdicts (invariants and checks) passed, failed and were skipped here.
    pub fn verdict_counts(&self) -> (usize, usize, usize) {
        let count = |s| self.verdicts.iter().filter(|v| v.status == s).count();
        (
            count(Status::Passed),
            count(Status::Failed),
            count(Status::Skipped),
        )
    }
}

/// One failed action or verdict of a phase, as every report words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Diagnostic code: `run::check_failed`, `run::invariant_failed`, `run::action_failed`.
    pub code: &'static str,
    /// `check GET /x answers 200 failed on master-1`, `action 7 failed: ...`.
    pub what: String,
    /// The label under the caret.
    pub label: String,
    /// The field or step in the scenario file.
    pub at: Option<Place>,
    /// `expected`/`seen` or `error`, then `logs`: the help lines, in order.
    pub details: Vec<(&'static str, String)>,
}

impl Failure {
    /// The help lines under the diagnostic, labels aligned (`expected: ...`, `seen:     ...`).
    pub fn help(&self) -> String {
        self.details
            .iter()
            .map(|(key, value)| format!("{:<10}{value}", format!("{key}:")))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// One line: what failed, where in the scenario file, and the first detail (expected or
    /// the error), for places that show one line (a JUnit failure message).
    pub fn one_line(&self) -> String {
        let mut line = self.what.clone();
        if let Some(at) = &self.at {
            line.push_str(&format!(" at {at}"));
        }
        for (key, value) in self.details.iter().filter(|(k, _)| *k != "logs") {
            line.push_str(&format!("; {key}: {}", value.replace('\n', " ")));
        }
        line
    }
}

/// The JSON result of a run (`result.json`).
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// Scenario name.
    pub scenario: String,
    /// Scenario file.
    pub file: PathBuf,
    /// Run id (the `upgrade-harness.run` label).
    pub run_id: String,
    /// `from` version.
    pub from: Version,
    /// `to` version.
    pub to: Version,
    /// Phases in order.
    pub phases: Vec<PhaseRecord>,
    /// Set when the run stopped early (infrastructure problem, interrupted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aborted: Option<String>,
    /// Wall time, seconds.
    pub seconds: f64,
    /// What the nodes answered at every phase (written to `observations.json`, not here).
    #[serde(skip)]
    pub observations: Observations,
    /// What could not be removed after the verdict (the verdict stands).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cleanup: Option<String>,
    /// The scenario file's text as it was run: failures are shown against it.
    #[serde(skip)]
    pub source: String,
    /// The harness that ran it ([`harness_version`]).
    pub harness: String,
    /// The builds the nodes ran.
    pub builds: Vec<BuildRecord>,
    /// The node image (every build above in one image).
    pub image: String,
    /// The plan listing as run (`upgrade-harness plan`), written to `plan.txt`.
    #[serde(skip)]
    pub plan: String,
    /// How the harness reached the nodes; absent when no node was created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reach: Option<Reaching>,
    /// The seed of a randomized run (`run --seed N` replays it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// A must-fail scenario: whether the harness caught the bad upgrade where expected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_failure: Option<expected::ExpectedOutcome>,
}

/// How the harness reached the nodes of a run (`docs/runtime.md`): directly at their
/// addresses on the run network, or through published ports; and the evidence.
#[derive(Debug, Clone, Serialize)]
pub struct Reaching {
    /// `direct` or `published`.
    pub mode: Reach,
    /// Why this mode: forced by whom, what the engine is, or what the probe saw.
    pub why: String,
    /// Every address the harness was given for each node (`host:port`), in order: a
    /// published port changes when its node reboots.
    pub addresses: BTreeMap<String, Vec<String>>,
    /// HTTP requests the harness sent, by `host:port`.
    pub requests: BTreeMap<String, u64>,
}

impl RunReport {
    /// For a must-fail scenario: whether it failed exactly as expected; otherwise whether
    /// it passed. What the exit code and the scenario tests go by.
    pub fn as_expected(&self) -> bool {
        match &self.expected_failure {
            Some(e) => e.caught,
            None => self.passed(),
        }
    }

    /// Whether everything passed (skips are not failures, but are listed).
    pub fn passed(&self) -> bool {
        self.aborted.is_none() && !self.phases.iter().any(PhaseRecord::failed)
    }

    /// Every failure as plain text, one diagnostic each (see [`RunReport::render_failures`]).
    pub fn failures(&self) -> Vec<String> {
        self.render_failures(&plain_handler())
    }

    /// The failures of one phase as plain text (JUnit, the summary).
    pub fn phase_failures(&self, phase: &PhaseRecord) -> Vec<String> {
        self.render_phase_failures(phase, &plain_handler())
    }

    /// Every failure rendered like a load error: what failed at which phase and node, the
    /// scenario file at `file:line:column` with a caret on the field or step, then what was
    /// expected, what was seen and where the phase's logs are. The run's abort reason, if
    /// any, comes last.
    pub fn render_failures(&self, handler: &miette::GraphicalReportHandler) -> Vec<String> {
        let mut out: Vec<String> = self
            .phases
            .iter()
            .flat_map(|p| self.render_phase_failures(p, handler))
            .collect();
        if let Some(why) = &self.aborted {
            out.push(format!("run aborted: {why}\n"));
        }
        if let Some(why) = &self.cleanup {
            out.push(format!("after the verdict: {why}\n"));
        }
        out
    }

    /// The failures of `phase`, rendered by `handler` against the scenario text as run.
    pub fn render_phase_failures(
        &self,
        phase: &PhaseRecord,
        handler: &miette::GraphicalReportHandler,
    ) -> Vec<String> {
        let source = SourceFile::new(self.file.display().to_string(), self.source.as_str());
        phase
            .failures()
            .into_iter()
            .map(|f| {
                let problem = located(&source, f.at.as_ref(), f.code)(format!(
                    "phase {}: {}",
                    phase.name, f.what
                ))
                .label(f.label.clone())
                .help(f.help());
                let mut s = String::new();
                if handler.render_report(&mut s, &problem).is_err() {
                    s = problem.message.clone();
                }
                s
            })
            .collect()
    }

    /// Everything reported as skipped, one line per item and reason, with the phases where
    /// it was skipped (an invariant skipped at every phase is one line, not ten).
    pub fn skipped(&self) -> Vec<String> {
        let mut lines: Vec<(String, Vec<String>)> = Vec::new();
        let mut add = |item: String, phase: &str| match lines.iter_mut().find(|(i, _)| *i == item) {
            Some((_, phases)) => phases.push(phase.to_string()),
            None => lines.push((item, vec![phase.to_string()])),
        };
        for p in &self.phases {
            for a in p.actions.iter().filter(|a| a.status == Status::Skipped) {
                add(
                    format!("{}: {}", a.what, a.reason.as_deref().unwrap_or_default()),
                    &p.name,
                );
            }
            for v in p.verdicts.iter().filter(|v| v.status == Status::Skipped) {
                add(
                    format!("{} {}: {}", v.kind, v.name, v.verdict.seen),
                    &p.name,
                );
            }
        }
        lines
            .into_iter()
            .map(|(item, phases)| match phases.as_slice() {
                [one] => format!("{item} (at {one})"),
                many => format!(
                    "{item} (at {} phases: {} .. {})",
                    many.len(),
                    many[0],
                    many[many.len() - 1]
                ),
            })
            .collect()
    }

    /// Writes the run folder's files: `result.json`, `observations.json` (raw answers),
    /// `drift.md` and `drift.json` (the API drift report), `junit.xml` (a test case per
    /// phase), `summary.md` (for a CI job summary), `plan.txt` (the plan as run); and for a
    /// failed run the failure bundle beside the folder ([`write_bundle`]), whose path it
    /// returns.
    pub fn write(&self, folder: &Path, drift: &Drift) -> std::io::Result<Option<PathBuf>> {
        write_json(&folder.join("result.json"), self)?;
        write_json(&folder.join("observations.json"), &self.observations)?;
        std::fs::write(folder.join("drift.md"), drift.markdown())?;
        write_json(&folder.join("drift.json"), drift)?;
        std::fs::write(folder.join("junit.xml"), junit::render(self))?;
        std::fs::write(folder.join("summary.md"), summary::render(self))?;
        std::fs::write(folder.join("plan.txt"), &self.plan)?;
        if self.passed() {
            Ok(None)
        } else {
            write_bundle(folder, self).map(Some)
        }
    }

    /// The run folder's name: `<scenario>-<run id>`.
    pub fn folder_name(&self) -> String {
        format!("{}-{}", self.scenario, self.run_id)
    }
}

/// Progress while running: one line per phase with its duration, on stderr.
/// Quiet when `enabled` is false (tests print the report instead).
#[derive(Debug)]
pub struct Progress {
    enabled: bool,
    started: Instant,
}

impl Progress {
    /// A progress printer.
    pub fn new(enabled: bool) -> Progress {
        Progress {
            enabled,
            started: Instant::now(),
        }
    }

    /// A line for a finished phase.
    pub fn phase(&self, record: &PhaseRecord) {
        if !self.enabled {
            return;
        }
        let mark = if record.failed() { "FAIL" } else { "ok  " };
        let skipped = record
            .actions
            .iter()
            .filter(|a| a.status == Status::Skipped)
            .count()
            + record
                .verdicts
                .iter()
                .filter(|v| v.status == Status::Skipped)
                .count();
        let judged = record
            .verdicts
            .iter()
            .filter(|v| v.status != Status::Skipped)
            .count();
        let extra = if skipped > 0 {
            format!(", {skipped} skipped")
        } else {
            String::new()
        };
        let _ = writeln!(
            std::io::stderr().lock(),
            "{mark} {:<40} {:>6.1}s  ({judged} verdicts{extra})  [{:>5.1}s]",
            record.name,
            record.seconds,
            self.started.elapsed().as_secs_f64()
        );
    }

    /// A free-form line (setup steps).
    pub fn note(&self, what: &str, took: Duration) {
        if self.enabled {
            let _ = writeln!(
                std::io::stderr().lock(),
                "     {what:<40} {:>6.1}s",
                took.as_secs_f64()
            );
        }
    }
}

/// Plain text, no colours, 100 columns: what files and test output show.
fn plain_handler() -> miette::GraphicalReportHandler {
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::none())
        .with_width(100)
        .with_links(false)
}

/// Pretty JSON with a final newline.
fn write_json(path: &Path, value: &impl Serialize) -> std::io::Result<()> {
    let json = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    std::fs::write(path, json + "\n")
}

/// A problem at `at` in `source` (or with the file as a whole when it has no place).
fn located<'a>(
    source: &'a SourceFile,
    at: Option<&'a Place>,
    code: &'static str,
) -> impl FnOnce(String) -> Problem + 'a {
    move |message| match at.and_then(|p| source.span_at(p.line, p.column)) {
        Some(span) => Problem::at(source, Some(span), code, "", message),
        None => Problem::file(code, message),
    }
}
