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
