//! `upgrade-harness diff` for real: the atlas of every consecutive pair of the local builds
//! (`snapshots/atlas/local.snap`, and `snapshots/atlas/local.html` from it), and two fresh
//! clusters of the same build, whose drift report must be empty (no false drift).
//!
//! Each build's cluster is observed once and cached per build hash (`diff::PROBE_FORMAT`):
//! the first run starts one cluster per version (about 15 s each on two shared cores), later
//! runs only compare. Docker unreachable: skipped with the reason (a failure with `CI=true`).

mod common;

use upgrade_harness::cli::diff::{self, DiffOptions};
use upgrade_harness::docker;
use upgrade_harness::drift::atlas;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Whether Docker answers; else the test is skipped (failed with `CI=true`).
async fn docker_up() -> bool {
    match docker::Engine::connect().await {
        Ok(_) => true,
        Err(e) => {
            common::skip(format!("Docker unreachable: {e}"));
            false
        }
    }
}

fn options() -> DiffOptions {
    DiffOptions {
        runs: root().join("target/upgrade-harness/diff"),
        ..DiffOptions::default()
    }
}

#[test]
fn atlas_of_the_local_builds() {
    runtime().block_on(async {
        if !docker_up().await {
            return;
        }
        let reports = diff::all_pairs(&options())
            .await
            .expect("every build observed");
        let first = reports.first().and_then(|d| d.from_version).expect("pairs");
        let last = reports.last().and_then(|d| d.to_version).expect("pairs");
        let title = format!("Mesos API atlas: local builds {first} .. {last}");
        let md = atlas::markdown(&title, &reports);
        // Identical builds on both sides of a pair report nothing at all.
        for d in &reports {
            if d.is_empty() {
                assert!(d.notes.iter().all(|n| !n.observed), "{}", d.markdown());
            }
        }
        let html_path = root().join("snapshots/atlas/local.html");
        let html = atlas::html(&title, &md);
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(root().join("snapshots/atlas"));
        settings.set_prepend_module_to_snapshot(false);
        settings.set_description(
            "upgrade-harness diff --all: every consecutive pair of the local builds",
        );
        settings.bind(|| insta::assert_snapshot!("local", md));
        // The HTML page is made from the reviewed Markdown: kept in step with it.
        let committed = std::fs::read_to_string(&html_path).unwrap_or_default();
        if committed != html {
            if std::env::var("INSTA_UPDATE").as_deref() == Ok("always") {
                std::fs::write(&html_path, &html).expect("writes the atlas page");
            } else {
                panic!(
                    "{} is stale: rerun with INSTA_UPDATE=always",
                    html_path.display()
                );
            }
        }
    });
}

#[test]
fn two_fresh_clusters_of_one_build_report_no_drift() {
    runtime().block_on(async {
        if !docker_up().await {
            return;
        }
        let opts = DiffOptions {
            fresh: true,
            ..options()
        };
        let v = "1.8.0".parse().unwrap();
        let d = diff::diff(v, v, &opts)
            .await
            .expect("two clusters observed");
        assert!(d.is_empty(), "{}", d.markdown());
        assert!(
            d.nodes.iter().all(|n| n.not_compared.is_empty()),
            "{}",
            d.markdown()
        );
        assert_eq!(
            d.nodes.len(),
            2,
            "a master and an agent compared: {}",
            d.markdown()
        );
    });
}
