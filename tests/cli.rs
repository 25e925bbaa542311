//! The binary's surface: subcommands, exit codes (0 ok, 1 a check failed, 2 invalid input,
//! 3 infrastructure), that `check` reports every problem of every file, and that a reader
//! closing stdout early is no panic.

mod common;

use std::process::{Command, Output, Stdio};

fn harness(args: &[&str]) -> Output {
    harness_with(args, &[])
}

fn harness_with(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_upgrade-harness"))
        .args(args)
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs")
}

/// A Docker engine that is certainly not there.
const NO_DOCKER: (&str, &str) = ("DOCKER_HOST", "unix:///nonexistent/docker.sock");

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

#[test]
fn an_invalid_scenario_is_exit_2_with_file_and_line() {
    for command in ["plan", "run"] {
        let out = harness_with(
            &[command, "tests/fixtures/bad/zero-agents.yaml"],
            &[NO_DOCKER],
        );
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command}: {stderr}");
        assert!(
            stderr.contains("tests/fixtures/bad/zero-agents.yaml:7:33"),
            "{command}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{command}: {}", text(&out.stdout));
    }
}

#[test]
fn a_missing_scenario_file_is_exit_2() {
    for command in ["plan", "run"] {
        let out = harness_with(&[command, "tests/fixtures/no-such-file.yaml"], &[NO_DOCKER]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command}: {stderr}");
        assert!(
            stderr.contains("cannot read tests/fixtures/no-such-file.yaml"),
            "{command}: {stderr}"
        );
    }
}

#[test]
fn running_an_upstream_scenario_without_images_is_exit_2_with_the_reason() {
    // Checked before Docker is asked: the same answer with or without an engine.
    let out = harness_with(
        &["run", "scenarios/seed/0.11.0-to-0.12.0.yaml"],
        &[NO_DOCKER],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot run here: no image is named for Mesos 0.11.0, 0.12.0 ("),
        "{stderr}"
    );
}

/// A way to reach nodes that does not exist is invalid input, said before Docker is asked,
/// naming the variable, its value and the valid values (issue 12, item 6).
#[test]
fn an_unknown_reach_mode_is_exit_2_naming_the_valid_ones() {
    let out = harness_with(
        &["run", "scenarios/local/1.10.0-to-1.11.0.yaml"],
        &[NO_DOCKER, ("UPGRADE_HARNESS_REACH", "tunnel")],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "error: UPGRADE_HARNESS_REACH: `tunnel` is not a way to reach nodes (valid: direct, \
         published); unset it to let the run decide"
    );
}

/// Docker unreachable: exit 3 and one sentence that names the address and the way out.
#[test]
fn docker_unreachable_is_exit_3_in_one_sentence() {
    let commands: [&[&str]; 4] = [
        &["run", "scenarios/local/1.10.0-to-1.11.0.yaml"],
        &["images", "build", "1.11.0"],
        &["clean"],
        &["clean", "nosuchrun"],
    ];
    for args in commands {
        let out = harness_with(args, &[NO_DOCKER]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{args:?}: not one line:\n{stderr}");
        assert!(
            lines[0].starts_with(
                "error: cannot reach the Docker engine at unix:///nonexistent/docker.sock"
            ) && lines[0].ends_with("start Docker or set DOCKER_HOST"),
            "{args:?}: {stderr}"
        );
    }
}

/// `certify`: an invalid manifest is exit 2 with every problem's place, before Docker; an
/// unreachable engine is exit 3 in one sentence; its schema is the committed one.
#[test]
fn certify_exit_codes_and_schema() {
    let out = harness_with(
        &["certify", "tests/fixtures/certify/bad-path.yaml"],
        &[NO_DOCKER],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("tests/fixtures/certify/bad-path.yaml:12:5")
            && stderr.contains("`1.12.0` is not a known local Mesos build")
            && stderr.contains("tests/fixtures/certify/bad-path.yaml:10:20")
            && stderr.contains("`tuch` is not a fixture module"),
        "{stderr}"
    );
    let out = harness_with(&["certify", "module-fixtures/certify.yaml"], &[NO_DOCKER]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.starts_with("error: cannot reach the Docker engine") && stderr.lines().count() == 1,
        "{stderr}"
    );
    let out = harness(&["schema", "--certify"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        std::fs::read_to_string("module-fixtures/certify.schema.json").unwrap()
    );
}

/// A version the project cannot build is invalid input, said before any work (here before
/// Docker is even asked), with the versions it can build.
#[test]
fn an_unknown_version_is_exit_2_naming_the_known_ones() {
    let out = harness_with(&["images", "build", "1.11.0", "9.9.9"], &[NO_DOCKER]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("error: unknown Mesos version 9.9.9; the known versions are 1.4.3, "),
        "{stderr}"
    );
    for known in upgrade_harness::images::known_versions() {
        assert!(stderr.contains(known), "{known} not named: {stderr}");
    }
}

#[test]
fn diff_of_an_unknown_version_is_exit_2_naming_the_local_builds() {
    let out = harness_with(&["diff", "1.8.0", "9.9.9"], &[NO_DOCKER]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("error: 9.9.9 is no local build; known: 1.4.3 "),
        "{stderr}"
    );
    let out = harness_with(&["diff", "1.8.0"], &[NO_DOCKER]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

/// Needs Docker: the runs that exist are asked of the engine.
#[test]
fn cleaning_an_unknown_run_is_exit_2_naming_the_runs() {
    let out = harness(&["clean", "nosuchrun"]);
    let stderr = text(&out.stderr);
    if out.status.code() == Some(3) && stderr.contains("cannot reach the Docker engine") {
        common::skip(format!("Docker unreachable: {}", stderr.trim()));
        return;
    }
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("error: no run nosuchrun on the Docker engine at "),
        "{stderr}"
    );
    assert!(
        stderr.contains("; the runs there: ") || stderr.contains(": there are no runs"),
        "{stderr}"
    );
    assert!(
        !text(&out.stdout).contains("removed"),
        "{}",
        text(&out.stdout)
    );
}

/// `upgrade-harness plan FILE | head -1`: the reader goes away before the output is written.
/// The read end is closed before the binary starts, so every write meets a broken pipe.
#[test]
fn a_closed_stdout_is_no_panic() {
    let commands: [&[&str]; 4] = [
        &["plan", "scenarios/local-ha/1.10.0-to-1.11.0.yaml"],
        &["list", "scenarios"],
        &["schema"],
        &["check", "tests/fixtures/good"],
    ];
    for args in commands {
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_upgrade-harness"))
            .args(args)
            .env("NO_COLOR", "1")
            .env("RUST_BACKTRACE", "0")
            .stdout(Stdio::from(writer))
            .stderr(Stdio::piped())
            .output()
            .expect("the binary runs");
        let stderr = text(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("failed printing"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}

#[test]
fn plan_of_a_valid_file_is_exit_0_on_stdout_only() {
    let out = harness(&["plan", "scenarios/local-ha/1.10.0-to-1.11.0.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("plan local-ha-1.10.0-to-1.11.0: Mesos 1.10.0 -> 1.11.0"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(text(&out.stderr), "");
}

#[test]
fn check_says_which_valid_scenarios_run_here() {
    let out = harness(&["check", "tests/fixtures/runnable"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert!(
        lines[0].starts_with(
            "tests/fixtures/runnable/skips.yaml: runs here: yes; `run` would not perform: \
             line 13, step 3 install_agent_binaries: no-op: "
        ),
        "{stdout}"
    );
    for named in [
        "line 14, step 4 reconfigure_agent_cgroups_mounts: skipped: ",
        "line 17, step 7 set_framework_checkpoint: skipped: ",
    ] {
        assert!(lines[0].contains(named), "{named} missing in {stdout}");
    }
    assert_eq!(
        lines[1],
        "tests/fixtures/runnable/upstream.yaml: runs here: no: no image is named for Mesos 1.10.0, 1.11.0 (no public one is known: name one under `images:` or pass `run --image VERSION=REF`)"
    );
    assert!(
        lines[2].starts_with(
            "tests/fixtures/runnable/zookeeper-ensemble.yaml: runs here: no: the topology has 3 ZooKeeper nodes"
        ),
        "{stdout}"
    );
    assert_eq!(lines[3], "3 scenarios valid");
}

#[test]
fn check_prints_warnings_and_keeps_exit_0() {
    let out = harness(&["check", "tests/fixtures/warnings"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    for code in [
        "scenario::per_master_check",
        "scenario::skips_series",
        "scenario::reread_value",
    ] {
        assert!(stderr.contains(code), "{code} missing in\n{stderr}");
    }
    assert!(text(&out.stdout).ends_with("4 scenarios valid\n"));
}

#[test]
fn plan_header_says_whether_it_runs_here() {
    let out = harness(&["plan", "tests/fixtures/runnable/skips.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "plan skips: Mesos 1.10.0 -> 1.11.0");
    assert_eq!(lines[1], "runs here: yes; `run` would not perform:");
    assert!(
        lines[2].starts_with("  line 13, step 3 install_agent_binaries: no-op: "),
        "{stdout}"
    );
    assert!(
        lines[4].starts_with("  line 17, step 7 set_framework_checkpoint: skipped: "),
        "{stdout}"
    );
    assert!(lines[5].starts_with("distribution: local"), "{stdout}");

    let out = harness(&["plan", "tests/fixtures/good/minimal.yaml"]);
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().nth(1), Some("runs here: yes"), "{stdout}");
    let out = harness(&["plan", "tests/fixtures/runnable/upstream.yaml"]);
    let stdout = text(&out.stdout);
    assert_eq!(
        stdout.lines().nth(1),
        Some("runs here: no: no image is named for Mesos 1.10.0, 1.11.0 (no public one is known: name one under `images:` or pass `run --image VERSION=REF`)"),
        "{stdout}"
    );
}

#[test]
fn list_has_a_runs_here_column() {
    let out = harness(&["list", "tests/fixtures/runnable"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    let column = |l: &str| l.find("runs here: ");
    assert!(
        lines
            .iter()
            .all(|l| column(l).is_some() && column(l) == column(lines[0])),
        "{stdout}"
    );
    assert!(lines[0].ends_with("runs here: yes, skips step 3 install_agent_binaries, step 4 reconfigure_agent_cgroups_mounts, step 7 set_framework_checkpoint"), "{stdout}");
    assert!(
        lines[1].ends_with("runs here: no: no image is named for Mesos 1.10.0, 1.11.0 (no public one is known: name one under `images:` or pass `run --image VERSION=REF`)"),
        "{stdout}"
    );
    assert!(
        text(&out.stderr).is_empty(),
        "list shows no warnings: {}",
        text(&out.stderr)
    );
}

/// The scenarios under `scenarios/` that `run` can run here and come from the local
/// distribution, found and judged without the `matrix` command: `(path, loaded scenario)`.
fn runnable_local_scenarios() -> Vec<(String, upgrade_harness::scenario::Scenario)> {
    let files = upgrade_harness::cli::scenario_files(&["scenarios".into()]).unwrap();
    files
        .into_iter()
        .filter_map(|path| {
            let s = upgrade_harness::scenario::load(&path).unwrap();
            let runs = upgrade_harness::runnable::runnability(&s, &upgrade_harness::plan::plan(&s))
                .runs_here
                .is_ok();
            (runs && s.distribution.value == upgrade_harness::domain::Distribution::Local)
                .then(|| (path.display().to_string(), s))
        })
        .collect()
}

#[test]
fn matrix_lists_every_runnable_local_scenario_as_github_json() {
    let out = harness(&["matrix", "--distribution", "local", "--runnable", "yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(
        stdout.lines().count(),
        1,
        "one line for $GITHUB_OUTPUT: {stdout}"
    );
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("valid JSON");
    let include = json["include"].as_array().expect("an include list");
    let expected = runnable_local_scenarios();
    assert!(!expected.is_empty());
    let listed: Vec<&str> = include
        .iter()
        .map(|e| e["scenario"].as_str().unwrap())
        .collect();
    let paths: Vec<&str> = expected.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        listed, paths,
        "every runnable local scenario, in path order"
    );
    for (entry, (path, s)) in include.iter().zip(&expected) {
        let relative = path.strip_prefix("scenarios/").unwrap();
        let name = upgrade_harness::scenario::TestName::of(relative);
        assert_eq!(entry["test"], name.run().as_str(), "{entry}");
        assert_eq!(
            entry["name"],
            relative.strip_suffix(".yaml").unwrap(),
            "{entry}"
        );
        assert_eq!(entry["from"], s.from.value.as_str(), "{entry}");
        assert_eq!(entry["to"], s.to.value.as_str(), "{entry}");
        assert_eq!(entry["runs_here"], true, "{entry}");
        assert_eq!(
            entry["command"],
            format!("upgrade-harness run {path}").as_str(),
            "{entry}"
        );
    }
}

#[test]
fn matrix_names_are_the_scenario_tests_run_trials() {
    let out = harness(&["matrix", "--format", "names"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let names: Vec<String> = text(&out.stdout).lines().map(String::from).collect();
    let files = upgrade_harness::cli::scenario_files(&["scenarios".into()]).unwrap();
    let expected: Vec<String> = files
        .iter()
        .map(|p| {
            let relative = p.strip_prefix("scenarios").unwrap().to_string_lossy();
            upgrade_harness::scenario::TestName::of(relative.trim_start_matches('/')).run()
        })
        .collect();
    assert_eq!(names, expected);
    // tests/partitions.rs compares them with the trials the scenario binary really lists.
}

#[test]
fn matrix_for_gitlab_is_yaml_with_one_scenario_variable() {
    let out = harness(&[
        "matrix",
        "--format",
        "gitlab",
        "--folder",
        "local",
        "--touching",
        "1.11.0",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Job {
        parallel: Parallel,
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Parallel {
        matrix: Vec<std::collections::BTreeMap<String, Vec<String>>>,
    }
    let job: Job = serde_saphyr::from_str(&stdout).expect("valid YAML");
    let mut expected: Vec<String> = runnable_local_scenarios()
        .into_iter()
        .filter(|(p, s)| {
            p.starts_with("scenarios/local/")
                && (s.from.value == "1.11.0" || s.to.value == "1.11.0")
        })
        .map(|(p, _)| p)
        .collect();
    expected.sort();
    assert!(!expected.is_empty());
    assert_eq!(job.parallel.matrix.len(), 1, "{stdout}");
    assert_eq!(job.parallel.matrix[0]["SCENARIO"], expected, "{stdout}");
}

#[test]
fn matrix_refuses_bad_filters_and_invalid_scenarios_with_exit_2() {
    for (args, says) in [
        (&["--range", "1.11.0"][..], "is not a range FROM..TO"),
        (&["--range", "1.11.0..1.7.0"], "is empty"),
        (&["--range", "1.7..1.11.0"], "`1.7` is not a version"),
        (&["--touching", "latest"], "`latest` is not a version"),
        (&["--name", "("], "regex parse error"),
        (&["--runnable", "maybe"], "possible values: yes, no"),
    ] {
        let out = harness(&[&["matrix"][..], args].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains(says),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    let out = harness(&["matrix", "tests/fixtures/good", "tests/fixtures/bad"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stdout.is_empty(),
        "no partial matrix: {}",
        text(&out.stdout)
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("tests/fixtures/bad/"),
        "problems shown like check: {stderr}"
    );
    assert!(
        stderr.contains("invalid scenario files: no matrix printed"),
        "{stderr}"
    );
}

#[test]
fn report_writes_the_overview_of_the_run_folders_or_names_the_missing_folder() {
    let dir = tempfile::tempdir().unwrap();
    let run = |folder: &str, file: &str, status: &str| {
        let path = dir.path().join(folder);
        std::fs::create_dir_all(&path).unwrap();
        let result = format!(
            r#"{{"scenario": "s", "file": "{file}", "run_id": "6b16915efbb0", "from": "1.10.0",
                "to": "1.11.0", "seconds": 24.5, "harness": "upgrade-harness 0.1.0", "builds": [],
                "image": "i", "phases": [{{"name": "start", "actions": [],
                "verdicts": [{{"kind": "check", "name": "c", "node": "master-1", "status": "{status}",
                "verdict": {{"passed": false, "expected": "e", "seen": "s"}}}}],
                "versions": {{}}, "seconds": 5.5, "logs": "logs/start"}}]}}"#
        );
        std::fs::write(path.join("result.json"), result).unwrap();
    };
    run(
        "a-6b16915efbb0",
        "/ci/scenarios/local/1.4.3-to-1.11.0.yaml",
        "failed",
    );
    run(
        "b-6b16915efbb1",
        "scenarios/local/1.10.0-to-1.11.0.yaml",
        "passed",
    );
    let out = harness(&["report", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(": 1 passed, 1 failed; wrote "),
        "{}",
        text(&out.stdout)
    );
    let md = std::fs::read_to_string(dir.path().join("overview.md")).unwrap();
    assert!(
        md.contains("cargo nextest run --profile ci -E 'test(=run::local::1_4_3-to-1_11_0)'"),
        "{md}"
    );
    assert!(dir.path().join("overview.html").is_file());

    let missing = dir.path().join("nothing-here");
    let out = harness(&["report", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).starts_with("error: no folder "),
        "{}",
        text(&out.stderr)
    );
}

/// `plan --seed N` (issue 17): the same seed prints the same plan, with the seed and what it
/// varied under the header; no seed prints the file's plan.
#[test]
fn plan_with_a_seed_is_the_same_plan_for_the_same_seed() {
    let file = "scenarios/local/1.10.0-to-1.11.0.yaml";
    let a = harness(&["plan", file, "--seed", "42"]);
    let b = harness(&["plan", file, "--seed", "42"]);
    let plain = harness(&["plan", file]);
    assert_eq!(a.status.code(), Some(0), "{}", text(&a.stderr));
    assert_eq!(text(&a.stdout), text(&b.stdout));
    assert!(text(&a.stdout).contains("seed: 42 (`--seed 42` replays this plan)"));
    assert!(!text(&plain.stdout).contains("seed:"));
    let other = harness(&["plan", file, "--seed", "43"]);
    assert_ne!(text(&a.stdout), text(&other.stdout));
    let both = harness(&["run", file, "--seed", "1", "--random"]);
    assert_eq!(both.status.code(), Some(2), "{}", text(&both.stderr));
}
