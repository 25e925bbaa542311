//! Must-fail scenarios (issue 17): did the harness catch the known-bad upgrade exactly
//! where the scenario says (`expect_failure`: phase, invariant/check/action, words)? Pure.

use serde::Serialize;

use super::{RunReport, Status, VerdictKind};
use crate::domain::ExpectFailure;
use crate::plan::{Entry, Plan};

/// The verdict on a must-fail run: caught as expected, or why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpectedOutcome {
    /// What the scenario expected.
    pub expected: ExpectFailure,
    /// Whether the first failure is that one.
    pub caught: bool,
    /// The first failure seen (phase, by, text), or that the run passed.
    pub seen: String,
}

/// One failure of a run: the phase it counts at, what failed, what it said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenFailure {
    pub phase: String,
    /// An invariant name, `check` or `action`.
    pub by: String,
    pub text: String,
}

/// The failures at the first phase that has any. A failed action counts at the phase its
/// action leads to in the plan (the run records it under `(aborted)`).
pub fn first_failures(report: &RunReport, plan: &Plan) -> Vec<SeenFailure> {
    for p in &report.phases {
        let mut out = Vec::new();
        for a in p.actions.iter().filter(|a| a.status == Status::Failed) {
            out.push(SeenFailure {
                phase: phase_after_action(plan, a.number).unwrap_or_else(|| p.name.clone()),
                by: "action".to_string(),
                text: format!("{}: {}", a.what, a.reason.clone().unwrap_or_default()),
            });
        }
        for v in p.verdicts.iter().filter(|v| v.status == Status::Failed) {
            out.push(SeenFailure {
                phase: p.name.clone(),
                by: match v.kind {
                    VerdictKind::Invariant => v.name.clone(),
                    VerdictKind::Check => "check".to_string(),
                },
                text: format!(
                    "{} on {}: expected {}; seen {}",
                    v.name, v.node, v.verdict.expected, v.verdict.seen
                ),
            });
        }
        if !out.is_empty() {
            return out;
        }
    }
    Vec::new()
}

/// The name of the first phase after action `number` in the plan.
fn phase_after_action(plan: &Plan, number: usize) -> Option<String> {
    let at = plan
        .entries
        .iter()
        .position(|e| matches!(e, Entry::Action(a) if a.number == number))?;
    plan.entries[at..].iter().find_map(|e| match e {
        Entry::Phase(p) => Some(p.name.clone()),
        Entry::Action(_) => None,
    })
}

/// Judges a must-fail run: caught only when the first failing phase is the expected one
/// and one of its failures is by the expected invariant, check or action, saying the
/// expected words.
pub fn judge(report: &RunReport, plan: &Plan, expected: &ExpectFailure) -> ExpectedOutcome {
    let seen = first_failures(report, plan);
    let caught = seen.iter().any(|f| {
        f.phase == expected.phase && f.by == expected.by && f.text.contains(&expected.contains)
    });
    let seen_text = if seen.is_empty() {
        match &report.aborted {
            Some(why) => format!("no failure recorded; the run stopped: {why}"),
            None => "the run passed: the bad upgrade was not caught".to_string(),
        }
    } else {
        seen.iter()
            .map(|f| format!("at `{}` by {}: {}", f.phase, f.by, f.text))
            .collect::<Vec<_>>()
            .join("\n")
    };
    ExpectedOutcome {
        expected: expected.clone(),
        caught,
        seen: seen_text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_fixture;

    fn plan() -> Plan {
        let yaml = "format: 1\nname: t\nfrom: 1.10.0\nto: 1.11.0\ndistribution: local\n\
            topology: { masters: 1, agents: 1 }\norder: inferred\nsteps:\n  - upgrade_masters\n  - upgrade_agents\n";
        crate::plan::plan(&serde_saphyr::from_str(yaml).unwrap())
    }

    fn expect(phase: &str, by: &str, contains: &str) -> ExpectFailure {
        ExpectFailure {
            phase: phase.into(),
            by: by.into(),
            contains: contains.into(),
        }
    }

    #[test]
    fn caught_only_at_the_first_failure_by_what_and_with_the_words_expected() {
        let r = test_fixture::failed();
        let p = plan();
        assert!(judge(&r, &p, &expect("start", "check", "404 Not Found")).caught);
        // A later failure is not the first one.
        let later = judge(
            &r,
            &p,
            &expect("upgrade_agents/agent-1", "tasks_running", "TASK_LOST"),
        );
        assert!(!later.caught);
        assert!(later.seen.contains("at `start` by check"), "{}", later.seen);
        // The right phase, but the wrong kind or the wrong words.
        assert!(!judge(&r, &p, &expect("start", "leader_elected", "404")).caught);
        assert!(!judge(&r, &p, &expect("start", "check", "500")).caught);
    }

    #[test]
    fn a_run_that_passed_is_not_caught() {
        let r = test_fixture::passed();
        let out = judge(&r, &plan(), &expect("start", "check", "x"));
        assert!(!out.caught);
        assert!(out.seen.contains("the run passed"), "{}", out.seen);
    }

    #[test]
    fn a_failed_action_counts_at_the_phase_it_leads_to() {
        let mut r = test_fixture::failed();
        // Only the action fails: the run stopped at action 4 (agent-1 upgrade; 1-3: two starts, the master).
        r.phases.retain(|p| p.name == "(aborted)");
        r.phases[0].actions[0].number = 4;
        let out = judge(
            &r,
            &plan(),
            &expect("upgrade_agents/agent-1", "action", "exited while starting"),
        );
        assert!(out.caught, "{}", out.seen);
    }
}
