//! The compatibility tables (`compat/*.yaml`, issue 19) as tests (libtest-mimic,
//! `harness = false`):
//! - `compat::<topology>::<pair>` (`compat::single::1_5_2-to-1_10_0`): one cell's generated
//!   scenario run for real in Docker. Its expected outcome is the committed table's
//!   (`docs/compat/<name>.json`): a cell the table says passed must pass, one it says failed or
//!   was refused must fail the same way at the same phase (a change either way is news). CI
//!   runs the declaration's `ci:` cells; the others are ignored with the reason unless
//!   `UPGRADE_HARNESS_COMPAT=all`.
//! - `compat-table::<name>`: no Docker: the declaration loads, every cell's scenario loads
//!   and plans, the committed table has exactly the declaration's cells, and its Markdown and
//!   HTML are what its JSON renders to, byte for byte. Cells whose cache key changed (a new
//!   build, a changed expansion) are counted on stderr: `upgrade-harness compat run` reruns
//!   them.
//!
//! Runs go through `upgrade_harness::testing::Scenarios::run_once`: one of the machine-wide
//! cluster slots, signals and "Docker unreachable" handled as for the scenario trials.

mod common;

use std::path::{Path, PathBuf};

use common::clusters;
use libtest_mimic::{Arguments, Completion, Failed, Trial};
use upgrade_harness::compat::{self, run::from_report, CellResult, Compat, Outcome, Table};
use upgrade_harness::run;
use upgrade_harness::testing::Scenarios;

/// `all`: every cell is a real trial, not only the declaration's `ci:` ones.
const ALL_ENV: &str = "UPGRADE_HARNESS_COMPAT";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn declarations() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("compat"))
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// The declaration, named as `upgrade-harness compat run` is given it from the crate root
/// (`compat/<name>.yaml`): the generated scenarios name their declaration in their first
/// line, so the cache keys and the committed table's keys agree only then.
fn load(path: &Path) -> Result<Compat, upgrade_harness::scenario::Diagnostics> {
    let mut c = compat::load(path)?;
    if let Ok(relative) = path.strip_prefix(root()) {
        c.file = relative.to_path_buf();
    }
    Ok(c)
}

/// The committed table of a declaration, if there is one.
fn committed(c: &Compat) -> Option<Table> {
    let text = std::fs::read_to_string(root().join("docs/compat").join(format!("{}.json", c.name)))
        .ok()?;
    serde_json::from_str(&text).ok()
}

fn table_trial(path: &Path) -> Trial {
    let path = path.to_path_buf();
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Trial::test(format!("compat-table::{name}"), move || {
        let c = load(&path).map_err(|d| d.render_plain(100))?;
        let cells = compat::cells(&c);
        for cell in &cells {
            let text = compat::scenario_text(&c, cell);
            let s =
                upgrade_harness::scenario::load::parse_and_validate(Path::new(&cell.id()), &text)
                    .map_err(|d| {
                    format!(
                        "{}: the generated scenario is invalid:\n{}",
                        cell.id(),
                        d.render_plain(100)
                    )
                })?;
            let plan = upgrade_harness::plan::plan(&s);
            if let Some(why) = run::not_runnable_reason(&s) {
                return Err(format!("{}: cannot run here: {why}\n{plan}", cell.id()).into());
            }
        }
        let Some(table) = committed(&c) else {
            return Err(format!("no committed table docs/compat/{}.json: run `upgrade-harness compat run {} --out docs/compat`", c.name, path.display()).into());
        };
        let ids: Vec<String> = cells.iter().map(|x| x.id()).collect();
        let committed_ids: Vec<String> = table.cells.iter().map(|x| x.cell.clone()).collect();
        if ids != committed_ids {
            return Err(format!(
                "docs/compat/{}.json has other cells than {} declares ({} vs {}): rerun `{}`",
                c.name,
                path.display(),
                committed_ids.len(),
                ids.len(),
                table.command
            )
            .into());
        }
        for (ext, rendered) in [("md", table.markdown()), ("html", table.html())] {
            let file = root().join("docs/compat").join(format!("{}.{ext}", c.name));
            let on_disk =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            if on_disk != rendered {
                return Err(format!(
                    "{} is not what its JSON renders to: rerun `{}`",
                    file.display(),
                    table.command
                )
                .into());
            }
        }
        let stale = cells
            .iter()
            .zip(&table.cells)
            .filter(|(cell, r)| compat::run::key(cell, &compat::scenario_text(&c, cell)) != r.key)
            .count();
        if stale > 0 {
            eprintln!("compat-table::{name}: {stale} of {} cells were made with other builds or another expansion; `{}` reruns them", cells.len(), table.command);
        }
        Ok(())
    })
}

/// Whether `seen` is the outcome the committed table expects for the cell.
fn judge(
    expected: Option<&CellResult>,
    seen: &CellResult,
    report: &upgrade_harness::report::RunReport,
) -> Result<(), Failed> {
    let (want, want_phase) = match expected {
        Some(e) if e.outcome != Outcome::NotRun => (e.outcome, e.phase.clone()),
        _ => (Outcome::Passed, None),
    };
    if seen.outcome == want && (want == Outcome::Passed || seen.phase == want_phase) {
        return Ok(());
    }
    let said = |o: Outcome, phase: &Option<String>| match o {
        Outcome::Passed => "passed".to_string(),
        other => format!("{other:?} at {}", phase.as_deref().unwrap_or("?")).to_lowercase(),
    };
    Err(format!(
        "the committed table says {}; this run {}: {}\n{}",
        said(want, &want_phase),
        said(seen.outcome, &seen.phase),
        seen.message.as_deref().unwrap_or(""),
        report.failures().join("\n")
    )
    .into())
}

fn cell_trial(
    c: &Compat,
    cell: &compat::Cell,
    expected: Option<CellResult>,
    ignore: Option<String>,
) -> Trial {
    let text = compat::scenario_text(c, cell);
    let origin = compat::origin(c, cell);
    let path = root()
        .join("target/upgrade-harness/compat-scenarios")
        .join(&c.name)
        .join(&cell.topology)
        .join(format!("{}-to-{}.yaml", cell.from, cell.to));
    if let Some(reason) = ignore {
        return Trial::ignorable_test(cell.test_name(), move || {
            // nextest runs one test per process and shows a runtime "ignored" as a pass: fail there.
            if std::env::var_os("NEXTEST").is_some() {
                Err(format!("not run here: {reason}").into())
            } else {
                Ok(Completion::ignored_with(reason))
            }
        })
        .with_ignored_flag(true);
    }
    let cell = cell.clone();
    Trial::ignorable_test(cell.test_name(), move || {
        std::fs::create_dir_all(path.parent().expect("a folder"))
            .and_then(|()| std::fs::write(&path, &text))
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
        // The same slot, signal and "Docker unreachable" handling as the scenario trials.
        let scenarios = Scenarios::new(root());
        let opts = scenarios.run_options(None);
        let report = match scenarios.run_once(&path, opts)? {
            Ok(report) => report,
            Err(skipped) => return Ok(skipped),
        };
        let folder = scenarios.run_folders().join(report.folder_name());
        let seen = from_report(&cell, "", &report, &folder);
        judge(expected.as_ref(), &seen, &report)
            .map(|()| Completion::Completed)
            .map_err(|e| {
                let why = e.message().map_or(String::new(), |m| m.to_string());
                Failed::from(format!("{origin}: cell {}: {why}", cell.id()))
            })
    })
}

fn main() {
    let args = Arguments::from_args();
    let all = std::env::var(ALL_ENV).as_deref() == Ok("all");
    let mut trials = Vec::new();
    for path in declarations() {
        trials.push(table_trial(&path));
        let Ok(c) = load(&path) else { continue };
        let table = committed(&c);
        for cell in compat::cells(&c) {
            let expected = table
                .as_ref()
                .and_then(|t| t.cells.iter().find(|r| r.cell == cell.id()).cloned());
            let ignore = (!cell.ci && !all)
                .then(|| format!("not in {}'s ci sample; {ALL_ENV}=all runs it", c.name));
            trials.push(cell_trial(&c, &cell, expected, ignore));
        }
    }
    if !args.list {
        clusters::stop_on_signals(clusters::OnSignal::MainExits);
    }
    let conclusion = libtest_mimic::run(&args, trials);
    if let Some(signal) = clusters::stopping() {
        std::process::exit(clusters::finish(signal));
    }
    conclusion.exit();
}
