//! The `upstream` distribution end to end without pulling anything (issue 18): images laid
//! out like third-party Mesos images are built here from the project's own builds
//! (`tests/common/third_party.rs`) and tagged like registry images; a real HA upgrade
//! 1.7.3 -> 1.11.0 (`tests/fixtures/images/1.7.3-to-1.11.0.yaml`, the cluster, steps and
//! checks of `scenarios/local-ha/1.7.3-to-1.11.0.yaml`) runs with each version's Mesos taken
//! from them, and must observe exactly the local scenario's committed snapshots and drift.
//! A reference that is neither present nor pullable must stop a run with exit 3 and an error
//! naming it. Needs Docker: skipped with the reason without it, failed with `CI=true`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{clusters, third_party};
use upgrade_harness::docker::Engine;
use upgrade_harness::run::{self, RunOptions};
use upgrade_harness::snapshot::Render;

const FIXTURE: &str = "tests/fixtures/images/1.7.3-to-1.11.0.yaml";
/// The local scenario whose snapshots the run must reproduce.
const LOCAL_DIR: &str = "local-ha";
const LOCAL_STEM: &str = "1_7_3-to-1_11_0";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// The body of a committed insta snapshot (after its `---` header).
fn snapshot_body(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let body = text
        .strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
        .map_or(text.clone(), |(_, b)| b.to_string());
    Some(body.trim_end().to_string())
}

#[test]
fn a_real_upgrade_through_images_matches_the_local_snapshots() {
    let _slot =
        clusters::slot().unwrap_or_else(|s| clusters::interrupted(s, "interrupted before start"));
    let rt = runtime();
    let engine = match rt.block_on(Engine::connect()) {
        Ok(e) => e,
        Err(e) => return common::skip(format!("Docker unreachable: {e}")),
    };
    let outcome = rt.block_on(async {
        // Leftovers of a killed earlier run of this test.
        third_party::remove_test_images(&engine).await?;
        let mut refs = Vec::new();
        for v in ["1.7.3", "1.11.0"] {
            refs.push(third_party::build_test_image(&engine, v).await?);
        }
        let opts = RunOptions {
            out_root: root().join("target/upgrade-harness"),
            progress: false,
            ..RunOptions::default()
        };
        let report = run::run_file(&root().join(FIXTURE), &opts)
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>((refs, report))
    });
    let removed = rt.block_on(third_party::remove_test_images(&engine));
    let (refs, report) = outcome.unwrap_or_else(|e| panic!("{e}"));
    let removed = removed.unwrap_or_else(|e| panic!("removing the test images: {e}"));
    assert!(!removed.is_empty(), "the test images were removed");
    assert!(report.passed(), "{}", report.failures().join("\n"));
    for r in &refs {
        assert!(
            report
                .builds
                .iter()
                .any(|b| b.build.contains(&format!("from {r}@sha256:"))),
            "the report names the image {r} and its ID: {:?}",
            report.builds
        );
    }

    let mut differ = Vec::new();
    let mut compared = 0;
    let snapshots = root()
        .join("snapshots/runs")
        .join(LOCAL_DIR)
        .join(LOCAL_STEM);
    for (phase, node, text) in report.observations.snapshots() {
        let path = snapshots.join(&phase).join(format!("{node}.snap"));
        match snapshot_body(&path) {
            Some(committed) if committed == text.trim_end() => compared += 1,
            Some(committed) => differ.push(format!(
                "{}:\n{}",
                path.display(),
                similar::TextDiff::from_lines(committed.as_str(), text.trim_end())
                    .unified_diff()
                    .header("local", "images")
            )),
            None => differ.push(format!("{}: no such local snapshot", path.display())),
        }
    }
    // The drift report differs only in the scenario's name on its first line.
    let scenario = upgrade_harness::scenario::load(&root().join(FIXTURE)).expect("loads");
    // The same builds' protobuf APIs as the local run's report compares.
    let build = upgrade_harness::images::BuildOptions::default();
    let api = |v: String| upgrade_harness::mesos::protos::of_build(&v, &build).expect("readable");
    let apis = (
        api(scenario.from_version().to_string()),
        api(scenario.to_version().to_string()),
    );
    let drift =
        upgrade_harness::drift::drift(&scenario, &report.observations, Some((&apis.0, &apis.1)))
            .markdown()
            .replace("images-1.7.3-to-1.11.0", "local-ha-1.7.3-to-1.11.0");
    let drift_path = root()
        .join("snapshots/drift")
        .join(LOCAL_DIR)
        .join(format!("{LOCAL_STEM}.snap"));
    if snapshot_body(&drift_path).as_deref() != Some(drift.trim_end()) {
        differ.push(format!(
            "{}: the drift report differs",
            drift_path.display()
        ));
    }
    assert!(
        differ.is_empty(),
        "{} of {} snapshots equal; differing:\n{}",
        compared,
        compared + differ.len(),
        differ.join("\n")
    );
    assert!(compared > 30, "only {compared} snapshots compared");
}

#[test]
fn a_missing_image_stops_the_run_with_exit_3_naming_it() {
    let rt = runtime();
    if let Err(e) = rt.block_on(Engine::connect()) {
        return common::skip(format!("Docker unreachable: {e}"));
    }
    let out = tempfile::tempdir().expect("a temporary folder");
    let missing = "upgrade-harness-test.invalid/absent:0";
    let run = Command::new(env!("CARGO_BIN_EXE_upgrade-harness"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "run",
            FIXTURE,
            "--image",
            &format!("1.7.3={missing}"),
            "--out",
        ])
        .arg(out.path())
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: image {missing} is not present on this Docker engine and cannot be pulled: "
        )),
        "{stderr}"
    );
}
