//! Snapshot files of a scenario folder: where each lives, comparing one with insta, and the
//! trial that finds snapshots no scenario has. Layout and review: docs/snapshots.md.

use std::path::{Path, PathBuf};

use libtest_mimic::Trial;

use super::{Listed, ScenarioFile, Scenarios};
use crate::domain::Role;
use crate::plan::plan;
use crate::snapshot::phase_folder;

/// `<snapshots>/plans/<dir>`: the plan snapshot of each file of that folder.
pub(super) fn plan_dir(s: &Scenarios, file: &ScenarioFile) -> PathBuf {
    s.snapshots.join("plans").join(&file.dir)
}

/// `<snapshots>/runs/<dir>/<stem>`: one folder per phase, one snapshot per node.
pub(super) fn run_dir(s: &Scenarios, file: &ScenarioFile) -> PathBuf {
    s.snapshots.join("runs").join(&file.dir).join(&file.stem)
}

/// `<snapshots>/drift/<dir>`: the API drift report of each file of that folder.
pub(super) fn drift_dir(s: &Scenarios, file: &ScenarioFile) -> PathBuf {
    s.snapshots.join("drift").join(&file.dir)
}

/// The settings of every snapshot of `file`: stored in `dir` under the name given, headed
/// by the scenario file and `description`.
fn settings(file: &ScenarioFile, dir: PathBuf, description: String) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(dir);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_input_file(&file.shown);
    settings.set_description(description);
    settings
}

/// The plan snapshot assertion (raises, like any insta assertion in a test).
pub(super) fn assert_plan(s: &Scenarios, file: &ScenarioFile, text: String) {
    let description = format!("upgrade-harness plan {}", file.shown);
    settings(file, plan_dir(s, file), description)
        .bind(|| insta::assert_snapshot!(file.stem.as_str(), text));
}

/// One insta assertion; a mismatch is returned (so that every snapshot of a run is
/// compared, and written as `.snap.new` locally), not raised, as the snapshot's path and
/// the diff from the committed snapshot to this run's text.
pub(super) fn assert_snapshot(
    s: &Scenarios,
    file: &ScenarioFile,
    dir: PathBuf,
    name: &str,
    description: String,
    text: String,
) -> Result<(), (String, String)> {
    let seen = text.clone();
    let settings = settings(file, dir.clone(), description);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        settings.bind(|| insta::assert_snapshot!(name, text));
    }));
    outcome.map_err(|_| {
        let shown = dir
            .strip_prefix(&s.root)
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

/// Every snapshot belongs to a scenario file, and no pending `.snap.new` is left behind:
/// deleting or renaming a scenario must delete or rename its snapshots. Plan snapshots: one
/// per file. Run snapshots: one per phase of the plan and Mesos node (the leading master,
/// which may be any master, and the agents) of each scenario that runs here and is
/// snapshot; drift: one per such scenario. The expected set comes from the plans, so this
/// needs no Docker.
pub(super) fn orphans_trial(s: &Scenarios, listed: &[Listed]) -> Trial {
    let mut expected: Vec<PathBuf> = listed
        .iter()
        .map(|l| plan_dir(s, &l.file).join(format!("{}.snap", l.file.stem)))
        .collect();
    for l in listed {
        let Some(scenario) = &l.scenario else {
            continue;
        };
        if l.ignored.is_some() || scenario.expect_failure.is_some() || !(s.snapshot_runs)(&l.file) {
            continue;
        }
        let p = plan(scenario);
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
                    run_dir(s, &l.file)
                        .join(phase_folder(&phase))
                        .join(format!("{node}.snap")),
                );
            }
        }
        expected.push(drift_dir(s, &l.file).join(format!("{}.snap", l.file.stem)));
    }
    let root = s.root.clone();
    let folder = s.snapshots.clone();
    Trial::test("plan::no_orphaned_snapshots", move || {
        let mut found = Vec::new();
        for dir in ["plans", "runs", "drift"] {
            collect(&folder.join(dir), &mut found);
        }
        let mut problems: Vec<String> = found
            .iter()
            .filter(|p| !expected.contains(p))
            .map(|p| {
                let shown = p.strip_prefix(&root).unwrap_or(p).display().to_string();
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

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}
