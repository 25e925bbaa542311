//! Running a table: each cell's generated scenario through [`crate::run::run_file`], as many at
//! once as asked, results reused from the previous table (or the cache folder) when nothing
//! that decides them changed, the table rewritten after every cell so that an interrupted
//! run resumes where it stopped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use futures_util::stream::{self, StreamExt};
use regex::Regex;
use sha2::{Digest, Sha256};

use super::declaration::{pair_name, Compat};
use super::expand::{cells, scenario_text, Cell};
use super::table::{CellResult, Outcome, Table};
use crate::docker::ShutdownSignal;
use crate::report::RunReport;
use crate::run::{run_file, RunError, RunOptions};

/// Bumped when the meaning of a cached result changes.
const CACHE_FORMAT: u32 = 1;

/// How to run a table.
#[derive(Debug, Clone)]
pub struct CompatOptions {
    /// Where `<name>.md`, `<name>.html`, `<name>.json` and the failure pages
    /// (`<name>/<topology>-<pair>.md`) go; the JSON there is also read back as the cache.
    pub out: PathBuf,
    /// Where the generated scenario files are written (runs point into them).
    pub work: PathBuf,
    /// Where each cell's result is cached by key, whatever `out` is.
    pub cache: PathBuf,
    /// How each scenario runs (`out_root`: the run folders).
    pub run: RunOptions,
    /// Clusters at once.
    pub jobs: usize,
    /// Only the cells whose id (`single/1.4.3-to-1.11.0`) this finds.
    pub only: Option<Regex>,
    /// Run failed and refused cells again even when cached (flaky cells show both outcomes).
    pub rerun_failed: bool,
    /// Run every selected cell, cached or not.
    pub fresh: bool,
}

/// What a table run did.
#[derive(Debug)]
pub struct Outcomes {
    /// The table written.
    pub table: Table,
    /// Cells run now.
    pub ran: usize,
    /// Cells taken from the cache.
    pub cached: usize,
    /// Set when a signal stopped the run (the table holds what finished).
    pub interrupted: Option<ShutdownSignal>,
}

/// Why a table could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CompatError {
    /// Writing the table or the scenario files failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being written.
        what: String,
        /// The error.
        source: std::io::Error,
    },
    /// A generated scenario did not load (a bug of the expansion: never expected).
    #[error("the generated scenario {file} is invalid:\n{diagnostics}")]
    Generated {
        /// The file.
        file: PathBuf,
        /// What was wrong.
        diagnostics: String,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> CompatError {
    let what = what.into();
    move |source| CompatError::Io { what, source }
}

/// The cache key of a cell: its generated scenario (which says the pair, the topology, the
/// workload and the checks), the content hashes of both Mesos builds, and the harness's
/// version (its crate version: a run's verdict depends on the harness's judging, which
/// changes with releases, not with every commit; `--fresh` forces new runs between them).
pub fn key(cell: &Cell, scenario: &str) -> String {
    let build = |v: crate::domain::Version| {
        crate::images::build_hash(&v.to_string()).unwrap_or_else(|| format!("unknown {v}"))
    };
    let mut h = Sha256::new();
    h.update(format!("compat-cache {CACHE_FORMAT}\n"));
    h.update(format!("harness {}\n", env!("CARGO_PKG_VERSION")));
    h.update(format!("from-build {}\n", build(cell.from)));
    h.update(format!("to-build {}\n", build(cell.to)));
    h.update(scenario.as_bytes());
    hex::encode(h.finalize())
}

/// Where `cell`'s generated scenario is written.
pub fn scenario_path(work: &Path, cell: &Cell) -> PathBuf {
    work.join(&cell.topology)
        .join(format!("{}.yaml", pair_name(cell.from, cell.to)))
}

/// Paths of the table's files in `out`.
pub fn table_paths(out: &Path, name: &str) -> [PathBuf; 3] {
    [
        out.join(format!("{name}.md")),
        out.join(format!("{name}.html")),
        out.join(format!("{name}.json")),
    ]
}

/// The previous table in `out`, if there is a readable one.
fn previous(out: &Path, name: &str) -> BTreeMap<String, CellResult> {
    let [_, _, json] = table_paths(out, name);
    std::fs::read_to_string(json)
        .ok()
        .and_then(|text| serde_json::from_str::<Table>(&text).ok())
        .map(|t| t.cells.into_iter().map(|c| (c.cell.clone(), c)).collect())
        .unwrap_or_default()
}

fn cached(cache: &Path, key: &str) -> Option<CellResult> {
    let text = std::fs::read_to_string(cache.join(format!("{key}.json"))).ok()?;
    serde_json::from_str(&text).ok()
}

/// Runs the table of `compat` and writes it; `progress` gets one line per finished cell.
pub async fn run_table(
    compat: &Compat,
    opts: &CompatOptions,
    command: String,
    progress: &(dyn Fn(String) + Sync),
) -> Result<Outcomes, CompatError> {
    let all = cells(compat);
    let before = previous(&opts.out, &compat.name);
    std::fs::create_dir_all(&opts.work).map_err(io(format!("creating {}", opts.work.display())))?;
    // Every cell's scenario and key; which are reused, which run.
    let mut results: BTreeMap<String, CellResult> = BTreeMap::new();
    let mut cached_count = 0;
    let mut to_run: Vec<(Cell, PathBuf, String)> = Vec::new();
    for cell in &all {
        let text = scenario_text(compat, cell);
        let key = key(cell, &text);
        let selected = opts.only.as_ref().is_none_or(|r| r.is_match(&cell.id()));
        let reusable = [before.get(&cell.id()).cloned(), cached(&opts.cache, &key)]
            .into_iter()
            .flatten()
            .find(|c| c.key == key && c.outcome != Outcome::NotRun);
        let rerun = opts.fresh
            || (opts.rerun_failed
                && reusable
                    .as_ref()
                    .is_some_and(|c| matches!(c.outcome, Outcome::Failed | Outcome::Refused)));
        match reusable {
            Some(r) if !(selected && rerun) => {
                cached_count += 1;
                results.insert(cell.id(), r);
            }
            _ if selected => {
                let path = scenario_path(&opts.work, cell);
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)
                        .map_err(io(format!("creating {}", dir.display())))?;
                }
                std::fs::write(&path, &text).map_err(io(format!("writing {}", path.display())))?;
                to_run.push((cell.clone(), path, key));
            }
            _ => {
                results.insert(
                    cell.id(),
                    not_run(cell, &key, "not run yet (outside `--only`)"),
                );
            }
        }
    }
    let total = to_run.len();
    let mut run_opts = opts.run.clone();
    if compat.shared_image {
        run_opts.image_versions = compat.versions.clone();
    }
    run_opts.progress = false;
    let stop = AtomicBool::new(false);
    let interrupted: Mutex<Option<ShutdownSignal>> = Mutex::new(None);
    let shared = Mutex::new((results, 0usize));
    let table_of = |results: &BTreeMap<String, CellResult>| {
        let mut table = Table::new(compat, command.clone());
        table.cells = all
            .iter()
            .map(|c| {
                results.get(&c.id()).cloned().unwrap_or_else(|| {
                    not_run(c, &key(c, &scenario_text(compat, c)), "not run yet")
                })
            })
            .collect();
        table
    };
    let machine_cap = crate::run::slots::max_clusters_setting()
        .unwrap_or(crate::run::slots::DEFAULT_MAX_CLUSTERS);
    let work = stream::iter(to_run)
        .map(|(cell, path, key)| {
            let run_opts = &run_opts;
            let stop = &stop;
            async move {
                if stop.load(Ordering::SeqCst) {
                    return (cell, key, None);
                }
                // The machine-wide cap shared with test runs (`run::slots`), besides `--jobs`.
                // Waiting for a slot another process holds: a signal must still stop the table.
                let slot = match crate::docker::until_shutdown(crate::run::slots::take(machine_cap))
                    .await
                {
                    Err(sig) => return (cell, key, Some(Err(RunError::Interrupted(sig)))),
                    Ok(Ok(slot)) => slot,
                    Ok(Err(e)) => {
                        let e = crate::run::InfraError::Io {
                            what: "taking a cluster slot".into(),
                            source: e,
                        };
                        return (cell, key, Some(Err(RunError::from(e))));
                    }
                };
                if stop.load(Ordering::SeqCst) {
                    return (cell, key, None);
                }
                let outcome = run_file(&path, run_opts).await;
                drop(slot);
                (cell, key, Some(outcome))
            }
        })
        .buffer_unordered(opts.jobs.max(1));
    futures_util::pin_mut!(work);
    while let Some((cell, key, outcome)) = work.next().await {
        let Some(outcome) = outcome else { continue };
        let mut result = match outcome {
            Ok(report) => {
                let folder = opts
                    .run
                    .out_root
                    .join(format!("{}-{}", report.scenario, report.run_id));
                let mut r = from_report(&cell, &key, &report, &folder);
                r.details = details_page(opts, compat, &cell, &report, &r)?;
                r
            }
            Err(RunError::Interrupted(sig)) => {
                stop.store(true, Ordering::SeqCst);
                *interrupted.lock().unwrap_or_else(|e| e.into_inner()) = Some(sig);
                continue;
            }
            Err(e) => not_run(
                &cell,
                &key,
                &format!("not run: {}", first_line(&e.to_string())),
            ),
        };
        // A different outcome before, with the same inputs: the cell is flaky; say so.
        if let Some(earlier) = before.get(&cell.id()).filter(|b| b.key == key) {
            result.earlier = earlier.earlier.clone();
            if earlier.outcome != result.outcome && earlier.outcome != Outcome::NotRun {
                result.earlier.push(summary_line(earlier));
            }
        }
        if result.outcome != Outcome::NotRun {
            let _ = std::fs::create_dir_all(&opts.cache);
            let _ = std::fs::write(
                opts.cache.join(format!("{key}.json")),
                serde_json::to_string_pretty(&result).unwrap_or_default(),
            );
        }
        let mut guard = shared.lock().unwrap_or_else(|e| e.into_inner());
        guard.1 += 1;
        progress(format!(
            "[{}/{total}] {}: {} ({:.1} s)",
            guard.1,
            cell.id(),
            summary_line(&result),
            result.seconds
        ));
        guard.0.insert(cell.id(), result);
        write_table(&opts.out, &table_of(&guard.0))?;
    }
    let (results, ran) = shared.into_inner().unwrap_or_else(|e| e.into_inner());
    let table = table_of(&results);
    write_table(&opts.out, &table)?;
    Ok(Outcomes {
        table,
        ran,
        cached: cached_count,
        interrupted: interrupted.into_inner().unwrap_or_else(|e| e.into_inner()),
    })
}

/// Writes the Markdown, HTML and JSON of `table` into `out`.
pub fn write_table(out: &Path, table: &Table) -> Result<(), CompatError> {
    std::fs::create_dir_all(out).map_err(io(format!("creating {}", out.display())))?;
    let [md, html, json] = table_paths(out, &table.name);
    for (path, text) in [
        (md, table.markdown()),
        (html, table.html()),
        (json, table.json()),
    ] {
        std::fs::write(&path, text).map_err(io(format!("writing {}", path.display())))?;
    }
    Ok(())
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").trim().to_string()
}

fn not_run(cell: &Cell, key: &str, why: &str) -> CellResult {
    CellResult {
        cell: cell.id(),
        topology: cell.topology.clone(),
        from: cell.from,
        to: cell.to,
        direction: cell.direction,
        outcome: Outcome::NotRun,
        phase: None,
        message: Some(why.to_string()),
        key: key.to_string(),
        seconds: 0.0,
        run: None,
        details: None,
        harness: crate::report::harness_version(),
        earlier: Vec::new(),
    }
}

/// `passed`, `failed at PHASE: ...`: one line.
pub fn summary_line(r: &CellResult) -> String {
    match r.outcome {
        Outcome::Passed => "passed".to_string(),
        Outcome::Failed | Outcome::Refused => format!(
            "{} at {}: {}",
            if r.outcome == Outcome::Failed {
                "failed"
            } else {
                "refused by Mesos"
            },
            r.phase.as_deref().unwrap_or("?"),
            r.message.as_deref().unwrap_or("")
        ),
        Outcome::NotRun => r.message.clone().unwrap_or_else(|| "not run".into()),
    }
}

/// The marker of an action that failed because a Mesos process exited while starting
/// (`run::actions`): the refusal, in Mesos's own words, follows it.
const EXITED_WHILE_STARTING: &str = "while starting; its last output: ";

/// The cell's result from its run: passed, or the first failure in one line (a refusal when
/// a Mesos process exited while starting, quoting its last output).
pub fn from_report(cell: &Cell, key: &str, report: &RunReport, folder: &Path) -> CellResult {
    let mut r = not_run(cell, key, "");
    r.seconds = (report.seconds * 10.0).round() / 10.0;
    r.run = Some(folder.display().to_string());
    r.harness = report.harness.clone();
    r.message = None;
    if report.passed() {
        r.outcome = Outcome::Passed;
        return r;
    }
    r.outcome = Outcome::Failed;
    match report.phases.iter().find(|p| p.failed()) {
        Some(phase) => {
            r.phase = Some(phase.name.clone());
            let f = phase.failures().into_iter().next();
            if let Some(f) = f {
                let detail = f
                    .details
                    .iter()
                    .find(|(k, _)| *k != "logs")
                    .map(|(k, v)| format!("{k}: {}", v.replace('\n', " ")))
                    .unwrap_or_default();
                match detail.split_once(EXITED_WHILE_STARTING) {
                    Some((_, said)) if f.code == "run::action_failed" => {
                        r.outcome = Outcome::Refused;
                        r.message = Some(format!("{}: {}", f.what, said.trim()));
                    }
                    _ => r.message = Some(format!("{}; {detail}", f.what)),
                }
            }
        }
        None => {
            r.phase = Some("(aborted)".to_string());
            r.message = report.aborted.clone();
        }
    }
    if r.phase.as_deref() == Some("(aborted)") {
        // An action failed and the run stopped: name the phase it was leading to.
        let failed = report
            .phases
            .last()
            .and_then(|p| {
                p.actions
                    .iter()
                    .find(|a| a.status == crate::report::Status::Failed)
            })
            .map(|a| a.number);
        if let Some(phase) = failed.and_then(|n| phase_after(report, n)) {
            r.phase = Some(phase);
        }
    }
    r
}

/// The phase the plan of `report` reaches after action `number`.
fn phase_after(report: &RunReport, number: usize) -> Option<String> {
    use crate::plan::Entry;
    let scenario = crate::scenario::load::parse_and_validate(&report.file, &report.source).ok()?;
    let plan = crate::plan::plan_with(&scenario, report.seed);
    plan.entries
        .iter()
        .skip_while(|e| !matches!(e, Entry::Action(a) if a.number == number))
        .find_map(|e| match e {
            Entry::Phase(p) => Some(p.name.clone()),
            Entry::Action(_) => None,
        })
}

/// A failed cell's run summary, copied beside the table (the run folder is on the machine
/// that ran it; the summary travels with the table).
fn details_page(
    opts: &CompatOptions,
    compat: &Compat,
    cell: &Cell,
    report: &RunReport,
    r: &CellResult,
) -> Result<Option<String>, CompatError> {
    if !matches!(r.outcome, Outcome::Failed | Outcome::Refused) {
        return Ok(None);
    }
    let folder = opts
        .run
        .out_root
        .join(format!("{}-{}", report.scenario, report.run_id));
    let Ok(summary) = std::fs::read_to_string(folder.join("summary.md")) else {
        return Ok(None);
    };
    let relative = format!(
        "{}/{}-{}.md",
        compat.name,
        cell.topology,
        pair_name(cell.from, cell.to)
    );
    let path = opts.out.join(&relative);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
    }
    let page = format!(
        "Cell `{}`, declared at {}; its generated scenario: `{}`.\n\n{summary}",
        cell.id(),
        super::expand::origin(compat, cell),
        scenario_path(&opts.work, cell).display()
    );
    std::fs::write(&path, page).map_err(io(format!("writing {}", path.display())))?;
    Ok(Some(relative))
}
