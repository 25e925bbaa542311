//! The binary's surface: subcommands, exit codes, and that `check` reports every problem of
//! every file.

use std::process::{Command, Output};

fn harness(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_upgrade-harness"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn check_reports_every_file_and_exits_2() {
    let out = harness(&["check", "tests/fixtures/bad", "tests/fixtures/good"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    let bad: Vec<_> = std::fs::read_dir("tests/fixtures/bad")
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    for file in &bad {
        assert!(
            stderr.contains(&file.display().to_string()),
            "{} not reported:\n{stderr}",
            file.display()
        );
    }
    let n = bad.len();
    assert!(
        stderr.contains(&format!("{n} of {} scenario files invalid", n + 3)),
        "{stderr}"
    );
}

#[test]
fn check_accepts_valid_files_with_exit_0() {
    let out = harness(&[
        "check",
        "tests/fixtures/good/minimal.yaml",
        "tests/fixtures/good/crlf.yaml",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "2 scenarios valid\n");
}

#[test]
fn check_of_a_missing_path_is_invalid_input() {
    let out = harness(&["check", "tests/fixtures/no-such-dir"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("does not exist"));
}

#[test]
fn schema_prints_the_committed_schema() {
    let out = harness(&["schema"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        std::fs::read_to_string("scenarios/schema.json").unwrap()
    );
}

#[test]
fn list_aligns_one_scenario_per_line() {
    let out = harness(&["list", "tests/fixtures/good"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    let column = |l: &str| l.find("1.10.0 -> 1.11.0");
    assert!(
        lines
            .iter()
            .all(|l| column(l).is_some() && column(l) == column(lines[0])),
        "{stdout}"
    );
}

#[test]
fn plan_prints_a_plan_or_rejects_the_file() {
    let out = harness(&["plan", "tests/fixtures/good/minimal.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("upgrade_agents/agent-2"));
    let out = harness(&["plan", "tests/fixtures/bad/zero-agents.yaml"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn unknown_subcommand_is_invalid_input() {
    assert_eq!(harness(&["frobnicate"]).status.code(), Some(2));
}
