//! `examples/framework-project/` is a separate crate, as a framework project would have, that
//! depends on the harness by path and runs its own `scenarios/` folder through
//! `upgrade_harness::testing` (docs/your-project.md). These tests build and run it as a user
//! would: `cargo test` lists the trials its folder gives and passes their plans; `cargo nextest
//! run` passes the plans; and its `run::` trial passes a real upgrade in Docker with the
//! snapshots committed in the example. It is built into this repository's target folder (same
//! profile: the dependencies are shared, only the two crates compile); the real run is made by
//! a copy of its test binary in a folder of its own, where no `upgrade-harness` binary is
//! beside it, so the test binary itself must be the node image's task helpers.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output};

use upgrade_harness::testing::Scenarios;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn example() -> PathBuf {
    root().join("examples/framework-project")
}

/// `cargo <args>` on the example crate, as a user runs it: the example's own target folder,
/// offline (its lock file pins the harness's dependency versions, already fetched), nothing
/// inherited from the test runner running this test, and insta never writing a snapshot.
fn cargo(args: &[&str]) -> Output {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    // Options go in the environment: after `--` they would be the test binary's arguments.
    as_a_user_runs_it(Command::new(cargo).args(args))
        .env("CARGO_NET_OFFLINE", "true")
        .env("CARGO_TARGET_DIR", root().join("target"))
        .output()
        .expect("cargo runs")
}

/// In the example's folder, with nothing inherited from the test runner running this test
/// (its nextest variables, a forced helper binary) and insta never writing a snapshot.
fn as_a_user_runs_it(cmd: &mut Command) -> &mut Command {
    cmd.current_dir(example())
        .env("INSTA_UPDATE", "no")
        .env_remove("INSTA_WORKSPACE_ROOT")
        .env_remove("UPGRADE_HARNESS_HELPERS");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("NEXTEST") {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// The command's output for a failure message (its last 60 lines of each stream).
fn shown(out: &Output) -> String {
    let tail = |bytes: &[u8]| {
        let text = String::from_utf8_lossy(bytes);
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    };
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        tail(&out.stdout),
        tail(&out.stderr)
    )
}

/// The counts of libtest's summary line (`test result: ok. 2 passed; 0 failed; 1 ignored; ...`).
fn summary(out: &Output) -> Option<(u64, u64, u64)> {
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().rev().find(|l| l.starts_with("test result:"))?;
    let count = |what: &str| {
        line.split(';')
            .find(|part| part.trim_end().ends_with(what))
            .and_then(|part| part.split_whitespace().rev().nth(1)?.parse().ok())
    };
    Some((count("passed")?, count("failed")?, count("ignored")?))
}

/// The trial names the example's folder must give, from its files (as `upgrade-harness
/// matrix` names them).
fn expected_trials() -> BTreeSet<String> {
    let files = Scenarios::new(example())
        .files()
        .expect("the example has scenario files");
    let mut names: BTreeSet<String> = files
        .iter()
        .flat_map(|f| [f.name.plan(), f.name.run()])
        .collect();
    names.insert("plan::no_orphaned_snapshots".to_string());
    names
}

#[test]
fn cargo_test_lists_the_projects_own_trials_and_passes_their_plans() {
    let expected = expected_trials();
    assert!(
        expected.contains("run::rolling::1_10_0-to-1_11_0")
            && expected.contains("plan::rolling::1_10_0-to-1_11_0"),
        "{expected:?}"
    );
    let out = cargo(&["test", "--test", "upgrades", "--", "--list"]);
    assert!(out.status.success(), "{}", shown(&out));
    let listed: BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .map(str::to_string)
        .collect();
    assert_eq!(listed, expected, "{}", shown(&out));

    let out = cargo(&["test", "--test", "upgrades", "--", "plan::"]);
    assert!(out.status.success(), "{}", shown(&out));
    let plans = expected.iter().filter(|n| n.starts_with("plan::")).count() as u64;
    assert_eq!(summary(&out), Some((plans, 0, 0)), "{}", shown(&out));
}

#[test]
fn cargo_nextest_runs_the_projects_plans() {
    let probe = Command::new("cargo")
        .args(["nextest", "--version"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        common::skip("cargo-nextest is not installed (cargo install cargo-nextest)".to_string());
        return;
    }
    let out = cargo(&["nextest", "run", "--no-fail-fast", "-E", "test(/^plan::/)"]);
    assert!(out.status.success(), "{}", shown(&out));
    let plans = expected_trials()
        .iter()
        .filter(|n| n.starts_with("plan::"))
        .count();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let wanted = format!("{plans} tests run: {plans} passed");
    assert!(stderr.contains(&wanted), "no `{wanted}`:\n{}", shown(&out));
}

/// The example's test binary, built (`cargo test --no-run`).
fn test_binary() -> PathBuf {
    let out = cargo(&[
        "test",
        "--test",
        "upgrades",
        "--no-run",
        "--message-format=json",
    ]);
    assert!(out.status.success(), "{}", shown(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m.pointer("/target/name").and_then(|n| n.as_str()) == Some("upgrades"))
        .find_map(|m| m.get("executable")?.as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("cargo named no `upgrades` executable:\n{}", shown(&out)))
}

#[test]
fn the_projects_test_binary_runs_its_upgrade_in_a_real_cluster_as_its_own_helpers() {
    // A copy under a name of its own, alone in its folder: no `upgrade-harness` beside it.
    let alone = tempfile::tempdir().unwrap();
    let name = "framework-project-upgrades";
    let copy = alone.path().join(name);
    std::fs::copy(test_binary(), &copy).unwrap();
    let started = std::time::SystemTime::now();
    let out =
        as_a_user_runs_it(Command::new(&copy).args(["--exact", "run::rolling::1_10_0-to-1_11_0"]))
            .output()
            .expect("the example's test binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.success() && stdout.contains("Docker unreachable") {
        common::skip(format!("the example's run was ignored:\n{}", shown(&out)));
        return;
    }
    assert!(out.status.success(), "{}", shown(&out));
    assert_eq!(summary(&out), Some((1, 0, 0)), "{}", shown(&out));
    // The node image got this binary as its helpers: its stripped copy, named after it, was
    // made or used for this run (the harness marks a reused copy as used).
    let cache = upgrade_harness::images::BuildOptions::default()
        .cache_dir
        .join("task-helpers");
    let used: Vec<PathBuf> = std::fs::read_dir(&cache)
        .map(|d| d.flatten().map(|e| e.path()).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("{name}-")))
                && p.metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|m| m >= started)
        })
        .collect();
    assert!(
        !used.is_empty(),
        "no stripped copy of {name} in {} was made or used by the run",
        cache.display()
    );
}

#[test]
fn the_docs_show_the_examples_test_file_and_manifest() {
    let docs = std::fs::read_to_string(root().join("docs/your-project.md")).unwrap();
    let test = std::fs::read_to_string(example().join("tests/upgrades.rs")).unwrap();
    let main = &test[test.find("fn main()").expect("the example has a main")..];
    assert!(
        docs.contains(main.trim_end()),
        "docs/your-project.md does not show the example's main:\n{main}"
    );
    let manifest = std::fs::read_to_string(example().join("Cargo.toml")).unwrap();
    for line in [
        "[[test]]",
        "name = \"upgrades\"",
        "path = \"tests/upgrades.rs\"",
        "harness = false",
    ] {
        assert!(
            manifest.contains(line),
            "the example's Cargo.toml lacks {line}"
        );
        assert!(docs.contains(line), "docs/your-project.md lacks {line}");
    }
}
