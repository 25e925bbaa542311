//! Hand-built reports for the renderers' tests: one run that passed, one that failed at a
//! check, an invariant and an action (like `tests/fixtures/failing/three-failures.yaml`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{
    ActionRecord, BuildRecord, PhaseRecord, Place, RunReport, Status, VerdictKind, VerdictRecord,
};
use crate::check::Verdict;
use crate::domain::Version;

/// The scenario text the failed report's places point into.
pub const SOURCE: &str = "\
format: 1
name: failing-three-ways
from: 1.10.0
to: 1.11.0
distribution: local
topology: { masters: 1, agents: 1 }
steps:
  - upgrade_masters
  - upgrade_agents
  - restart_masters_with_flag: { flags: { registry_fetch_timeout: \"not-a-duration\" } }
checks:
  - after: start
    status: { get: /master/observe, code: 200 }
";

const FILE: &str = "tests/fixtures/failing/three-failures.yaml";

fn place(line: usize, column: usize) -> Option<Place> {
    Some(Place {
        file: PathBuf::from(FILE),
        line,
        column,
    })
}

fn action(number: usize, what: &str, status: Status, reason: Option<&str>) -> ActionRecord {
    ActionRecord {
        number,
        what: what.to_string(),
        status,
        reason: reason.map(str::to_string),
        at: None,
        seconds: 1.25,
        started_unix: 0.0,
    }
}

fn verdict(kind: VerdictKind, name: &str, node: &str, status: Status, seen: &str) -> VerdictRecord {
    VerdictRecord {
        kind,
        name: name.to_string(),
        node: node.to_string(),
        at: None,
        status,
        verdict: Verdict {
            passed: status == Status::Passed,
            expected: format!("{name} holds"),
            seen: seen.to_string(),
        },
    }
}

fn phase(
    name: &str,
    actions: Vec<ActionRecord>,
    verdicts: Vec<VerdictRecord>,
    seconds: f64,
) -> PhaseRecord {
    PhaseRecord {
        name: name.to_string(),
        actions,
        verdicts,
        versions: BTreeMap::from([("master-1".to_string(), Version::new(1, 10, 0))]),
        seconds,
        timing: Default::default(),
        logs: PathBuf::from("out/failing-three-ways-0123456789ab/logs")
            .join(name.replace('/', "_")),
    }
}

fn report(scenario: &str, file: &str, phases: Vec<PhaseRecord>) -> RunReport {
    RunReport {
        scenario: scenario.to_string(),
        file: PathBuf::from(file),
        run_id: "0123456789ab".to_string(),
        from: Version::new(1, 10, 0),
        to: Version::new(1, 11, 0),
        phases,
        aborted: None,
        seconds: 42.5,
        observations: Default::default(),
        cleanup: None,
        source: SOURCE.to_string(),
        reach: None,
        harness: "upgrade-harness 0.1.0 (git v0.1.0-3-gabcdef0)".to_string(),
        builds: vec![
            BuildRecord {
                build: "mesos 1.10.0".to_string(),
                hash: "a".repeat(64),
            },
            BuildRecord {
                build: "mesos 1.11.0".to_string(),
                hash: "b".repeat(64),
            },
        ],
        image: "sha256:cafe".to_string(),
        plan: "plan failing-three-ways: Mesos 1.10.0 -> 1.11.0\n...\n".to_string(),
        seed: None,
        expected_failure: None,
    }
}

/// A run where everything held; one check was skipped and one action had nothing to do.
pub fn passed() -> RunReport {
    let inv = |name, status| {
        verdict(
            VerdictKind::Invariant,
            name,
            "master-1",
            status,
            "as expected",
        )
    };
    report(
        "local-1.10.0-to-1.11.0",
        "scenarios/local/1.10.0-to-1.11.0.yaml",
        vec![
            phase(
                "start",
                vec![action(1, "start node master-1", Status::Passed, None)],
                vec![
                    inv("leader_elected", Status::Passed),
                    inv("agents_registered", Status::Passed),
                    verdict(
                        VerdictKind::Check,
                        "metric master/uptime_secs present",
                        "master-1",
                        Status::Skipped,
                        "not probed here: no metrics endpoint",
                    ),
                ],
                8.25,
            ),
            phase(
                "rebuild_modules",
                vec![action(
                    2,
                    "rebuild modules",
                    Status::NoOp,
                    Some("the scenario has no modules"),
                )],
                vec![inv("leader_elected", Status::Passed)],
                0.5,
            ),
            phase(
                "upgrade_masters/master-1",
                vec![action(
                    3,
                    "master-1: 1.10.0 -> 1.11.0",
                    Status::Passed,
                    None,
                )],
                vec![inv("leader_elected", Status::Passed)],
                12.0,
            ),
        ],
    )
}

/// A run that failed: a wrong check at `start` (at its `code:`), an invariant after the
/// agent step, then an action that ended the run.
pub fn failed() -> RunReport {
    let mut wrong_check = verdict(
        VerdictKind::Check,
        "GET /master/observe answers 200",
        "master-1",
        Status::Failed,
        "404 Not Found",
    );
    wrong_check.at = place(13, 43);
    wrong_check.verdict.expected = "GET /master/observe answers 200".to_string();
    let mut lost = verdict(
        VerdictKind::Invariant,
        "tasks_running",
        "agents",
        Status::Failed,
        "task 1 TASK_LOST",
    );
    lost.at = place(9, 5);
    let mut restart = action(
        7,
        "master-1: restart mesos-master 1.11.0 with --registry_fetch_timeout=not-a-duration",
        Status::Failed,
        Some("mesos-master exited while starting (code 1)"),
    );
    restart.at = place(10, 5);
    let ok = |name| {
        verdict(
            VerdictKind::Invariant,
            name,
            "master-1",
            Status::Passed,
            "ok",
        )
    };
    let mut r = report(
        "failing-three-ways",
        FILE,
        vec![
            phase(
                "start",
                vec![action(1, "start node master-1", Status::Passed, None)],
                vec![ok("leader_elected"), wrong_check],
                8.25,
            ),
            phase(
                "upgrade_agents/agent-1",
                vec![action(5, "agent-1: 1.10.0 -> 1.11.0", Status::Passed, None)],
                vec![ok("leader_elected"), lost],
                11.5,
            ),
            phase("(aborted)", vec![restart], Vec::new(), 3.0),
        ],
    );
    r.aborted = Some("action 7 failed: mesos-master exited while starting (code 1)".to_string());
    r
}
