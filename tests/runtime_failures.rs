//! Runtime failures point into the scenario file like load errors (issue 11): the binary runs
//! `tests/fixtures/failing/three-failures.yaml` for real; it must exit 1 and print a wrong
//! check (caret on its `code:`), a failed invariant (caret on the step whose phase failed)
//! and a failed action (caret on the step) as file:line:column diagnostics, and keep those
//! places in `result.json`; its `junit.xml` has a failed case pointing at the check, and its
//! failure bundle sits beside the run folder with what it must hold (issue 12). What it
//! prints is snapshot-tested. Needs Docker: skipped with the
//! reason without it, failed with `CI=true`. In the cluster cap of `src/testing/clusters.rs`;
//! a signal to the test is passed on to the run, which removes its cluster.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::clusters;
use upgrade_harness::docker::Engine;

const FIXTURE: &str = "tests/fixtures/failing/three-failures.yaml";

fn docker_unreachable() -> Option<String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    rt.block_on(Engine::connect()).err().map(|e| e.to_string())
}

/// A run of the failing fixture through the binary, in a cluster slot.
struct Started {
    slot: clusters::Slot,
    /// The run's `--out` folder (removed when dropped).
    out: tempfile::TempDir,
    stderr_path: std::path::PathBuf,
    child: std::process::Child,
}

/// Starts `upgrade-harness run FIXTURE --out <temp>` (no colours, stderr into a file) once a
/// cluster slot is free; `None` after reporting the skip when Docker is unreachable.
fn start_run() -> Option<Started> {
    let slot =
        clusters::slot().unwrap_or_else(|s| clusters::interrupted(s, "interrupted before start"));
    if let Some(why) = docker_unreachable() {
        common::skip(format!("Docker unreachable: {why}"));
        return None;
    }
    let out = tempfile::tempdir().expect("a temporary folder");
    let stderr_path = out.path().join("stderr.txt");
    let child = Command::new(env!("CARGO_BIN_EXE_upgrade-harness"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", FIXTURE, "--out"])
        .arg(out.path())
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).expect("a stderr file"))
        .spawn()
        .expect("the binary starts");
    Some(Started {
        slot,
        out,
        stderr_path,
        child,
    })
}

#[test]
fn check_invariant_and_action_failures_point_at_their_fields() {
    let Some(Started {
        slot,
        out,
        stderr_path,
        mut child,
    }) = start_run()
    else {
        return;
    };
    // Waits for the run, passing a signal on: the run removes its cluster and exits 130/143.
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the run") {
            break status;
        }
        if let Some(signal) = clusters::stopping() {
            // SAFETY: kill(2) on our own child's pid.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            let _ = child.wait();
            drop(slot);
            clusters::interrupted(signal, "interrupted; the run was removed");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    drop(slot);
    let stderr = std::fs::read_to_string(&stderr_path).expect("the run's stderr");
    assert_eq!(status.code(), Some(1), "a failed run exits 1:\n{stderr}");

    // result.json keeps the places: the check's `code:`, the invariant's and the action's step.
    let folder = std::fs::read_dir(out.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.is_dir())
        .expect("the run folder");
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("result.json")).unwrap())
            .unwrap();
    let failed = |kind: &str| -> Vec<serde_json::Value> {
        result["phases"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| p[kind].as_array().unwrap().clone())
            .filter(|v| v["status"] == "failed")
            .collect()
    };
    let verdicts = failed("verdicts");
    let place = |v: &serde_json::Value| (v["at"]["line"].as_u64(), v["at"]["column"].as_u64());
    let check = verdicts
        .iter()
        .find(|v| v["kind"] == "check")
        .expect("the wrong check fails");
    assert_eq!(place(check), (Some(22), Some(43)), "caret on `code: 200`");
    assert_eq!(check["at"]["file"], FIXTURE);
    let invariant = verdicts
        .iter()
        .find(|v| v["kind"] == "invariant" && v["name"] == "tasks_running")
        .expect("tasks_running fails once the agent restarts without checkpointing");
    assert_eq!(
        place(invariant),
        (Some(18), Some(5)),
        "the upgrade_agents step"
    );
    let action = failed("actions")
        .into_iter()
        .next()
        .expect("the master restart with a refused flag fails");
    assert_eq!(place(&action), (Some(19), Some(5)));
    assert!(
        result["aborted"].is_string(),
        "the failed action ends the run early"
    );
    // What ran: the harness and the hash of every build.
    assert!(
        result["harness"]
            .as_str()
            .is_some_and(|h| h.starts_with("upgrade-harness ")),
        "{}",
        result["harness"]
    );
    let builds: Vec<(&str, &str)> = result["builds"]
        .as_array()
        .expect("builds in result.json")
        .iter()
        .map(|b| (b["build"].as_str().unwrap(), b["hash"].as_str().unwrap()))
        .collect();
    assert_eq!(
        builds.iter().map(|b| b.0).collect::<Vec<_>>(),
        ["mesos 1.10.0", "mesos 1.11.0"]
    );
    assert!(
        builds
            .iter()
            .all(|b| b.1.len() == 64 && b.1.chars().all(|c| c.is_ascii_hexdigit())),
        "{builds:?}"
    );

    // JUnit: a test case per phase; the wrong check's case fails with its place.
    let xml = std::fs::read_to_string(folder.join("junit.xml")).expect("junit.xml");
    let junit = quick_junit::Report::deserialize_from_str(&xml).expect("valid JUnit");
    let suite = &junit.test_suites[0];
    assert_eq!(suite.name.as_str(), "failing-three-ways");
    assert_eq!(
        suite.tests,
        result["phases"].as_array().unwrap().len(),
        "a case per phase"
    );
    let messages: Vec<&str> = suite
        .test_cases
        .iter()
        .filter_map(|c| match &c.status {
            quick_junit::TestCaseStatus::NonSuccess { message, .. } => {
                message.as_ref().map(|m| m.as_str())
            }
            _ => None,
        })
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains(&format!("{FIXTURE}:22:43"))),
        "no failed case points at the check's `code:`: {messages:?}"
    );
    assert!(folder.join("summary.md").is_file(), "summary.md");

    // The failure bundle beside the run folder, with everything needed elsewhere.
    let name = folder.file_name().unwrap().to_string_lossy().into_owned();
    let bundle = out.path().join(format!("{name}.tar.gz"));
    let members = bundle_members(&bundle);
    for expected in [
        "plan.txt",
        "result.json",
        "observations.json",
        "drift.md",
        "drift.json",
        "junit.xml",
        "summary.md",
        "REPRODUCE",
        "scenario/three-failures.yaml",
        "logs/start/master-1.log",
        "logs/start/agent-1.log",
        "logs/(aborted)/master-1.log",
    ] {
        assert!(
            members.contains_key(&format!("{name}/{expected}")),
            "{expected} missing from the bundle: {:?}",
            members.keys().collect::<Vec<_>>()
        );
    }
    assert!(
        members
            .keys()
            .any(|m| m.starts_with(&format!("{name}/snapshots/start/"))),
        "the run's snapshot texts: {:?}",
        members.keys().collect::<Vec<_>>()
    );
    assert_eq!(
        members[&format!("{name}/REPRODUCE")].lines().next(),
        Some(format!("upgrade-harness run {FIXTURE}").as_str())
    );

    // What the user sees: the diagnostics and the verdict line.
    // Progress lines (`ok   start  8.3s ...`, `     images ready  5.0s`) carry timings.
    let progress = progress_lines(&stderr);
    let shown: String = stderr
        .lines()
        .filter(|l| !progress.contains(l))
        .map(|l| format!("{l}\n"))
        .collect();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots/runtime-failures");
    settings.set_prepend_module_to_snapshot(false);
    settings.add_filter(
        r"failing-three-ways-[0-9a-f]{12}",
        "failing-three-ways-[run-id]",
    );
    settings.add_filter(r"/tmp/\.tmp\w+", "[out]");
    // What was seen and the process's output carry times, pids and IDs (and wrap with them).
    settings.add_filter(r"(?s)(seen: +).*?\n(\s*logs:)", "$1[seen]\n$2");
    settings.add_filter(r"(?s)(error: +).*?\n(\s*logs:)", "$1[error]\n$2");
    settings.add_filter(r"(?m)^(run aborted: action \d+ failed: ).*$", "$1[error]");
    settings.add_filter(r"FAILED in \d+\.\ds", "FAILED in [seconds]");
    settings.bind(|| insta::assert_snapshot!("three-failures", shown));
}

/// The members of a `.tar.gz` and their text.
fn bundle_members(path: &Path) -> std::collections::BTreeMap<String, String> {
    use std::io::Read;
    let file = std::fs::File::open(path)
        .unwrap_or_else(|e| panic!("the failure bundle {}: {e}", path.display()));
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    archive
        .entries()
        .expect("a tar.gz")
        .map(|e| {
            let mut e = e.expect("a member");
            let name = e.path().unwrap().display().to_string();
            let mut bytes = Vec::new();
            e.read_to_end(&mut bytes).unwrap();
            (name, String::from_utf8_lossy(&bytes).into_owned())
        })
        .collect()
}

/// The progress lines of a run's stderr: a phase (`ok  `/`FAIL` and a duration) or a setup
/// note (five spaces, a word, a duration).
fn progress_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| {
            let timed = l.split_whitespace().any(|w| {
                w.strip_suffix('s')
                    .is_some_and(|n| n.contains('.') && n.parse::<f64>().is_ok())
            });
            let phase = l.starts_with("ok   ") || l.starts_with("FAIL ");
            let note = l.starts_with("     ") && !l[5..].starts_with(' ');
            timed && (phase || note)
        })
        .collect()
}

/// Ctrl-C during a run: exit 130 (SIGTERM: 143), after removing every container and the
/// network of the run (found by its label).
#[test]
fn an_interrupted_run_exits_130_and_leaves_nothing() {
    let Some(Started {
        slot,
        out,
        stderr_path,
        mut child,
    }) = start_run()
    else {
        return;
    };
    // Interrupt once the cluster is up (its first phase judged), with a deadline.
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    let mut seen = String::new();
    while !seen.lines().any(|l| l.contains(" start ")) {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run ended before its first phase ({status}):\n{seen}");
        }
        if std::time::Instant::now() > deadline || clusters::stopping().is_some() {
            // SAFETY: kill(2) on our own child's pid.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            let _ = child.wait();
            panic!("no first phase within 180 s; last seen:\n{seen}");
        }
        std::thread::sleep(Duration::from_millis(200));
        seen = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    }
    let run_id = std::fs::read_dir(out.path())
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .find_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.rsplit_once('-').map(|(_, id)| id.to_string())
        })
        .expect("the run folder names the run id");
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().expect("the run ends");
    drop(slot);
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    assert_eq!(status.code(), Some(130), "Ctrl-C is exit 130:\n{stderr}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let engine = rt.block_on(Engine::connect()).expect("Docker");
    let left = rt.block_on(common::containers_of_run(&engine, &run_id));
    assert!(
        left.is_empty(),
        "run {run_id} left {} containers after Ctrl-C",
        left.len()
    );
}
