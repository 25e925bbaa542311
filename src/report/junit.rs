//! `junit.xml` of a run: the scenario is a test suite and each phase a test case, so that a
//! CI shows which step of an upgrade broke. A failed case says what failed (check,
//! invariant or action), expected and seen, the scenario's `file:line:column` and the
//! phase's log folder. Written with `quick-junit` (the crate nextest writes its JUnit with).

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::{PhaseRecord, RunReport, Status};

/// The JUnit report of a run.
pub fn junit(report: &RunReport) -> Report {
    let mut suite = TestSuite::new(report.scenario.as_str());
    suite.set_time(seconds(report.seconds));
    suite.add_properties([
        Property::new("file", report.file.display().to_string()),
        Property::new("from", report.from.to_string()),
        Property::new("to", report.to.to_string()),
        Property::new("run_id", report.run_id.as_str()),
        Property::new("harness", report.harness.as_str()),
    ]);
    for phase in &report.phases {
        suite.add_test_case(case(report, phase));
    }
    // A run that stopped without a failed phase (an infrastructure problem) still fails.
    if let Some(why) = &report.aborted {
        if !report.phases.iter().any(PhaseRecord::failed) {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_message(format!("run aborted: {why}"));
            let mut case = TestCase::new("(run)", status);
            case.set_classname(report.scenario.as_str());
            suite.add_test_case(case);
        }
    }
    let mut err = Vec::new();
    if let Some(why) = &report.aborted {
        err.push(format!("run aborted: {why}"));
    }
    if let Some(why) = &report.cleanup {
        err.push(format!("after the verdict: {why}"));
    }
    if !err.is_empty() {
        suite.set_system_err(err.join("\n"));
    }
    let mut junit = Report::new("upgrade-harness");
    junit.set_time(seconds(report.seconds));
    junit.add_test_suite(suite);
    junit
}

/// The XML text (`junit.xml`).
pub fn render(report: &RunReport) -> String {
    // Serializing plain strings into a Vec cannot fail; the fallback keeps this infallible.
    junit(report)
        .to_string()
        .unwrap_or_else(|e| format!("<!-- the JUnit report could not be written: {e} -->\n"))
}

/// One phase as a test case: failed with its failures, skipped when nothing in it was done
/// (every action and verdict skipped), passed otherwise. The output lists every item.
fn case(report: &RunReport, phase: &PhaseRecord) -> TestCase {
    let failures = phase.failures();
    let status = if let Some(first) = failures.first() {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        let more = match failures.len() {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        status
            .set_message(format!("{}{more}", first.one_line()))
            .set_type(first.code)
            .set_description(report.phase_failures(phase).join("\n"));
        status
    } else if all_skipped(phase) {
        let mut status = TestCaseStatus::skipped();
        status.set_message(skip_reasons(phase));
        status
    } else {
        TestCaseStatus::success()
    };
    let mut case = TestCase::new(phase.name.as_str(), status);
    case.set_classname(report.scenario.as_str())
        .set_time(seconds(phase.seconds))
        .set_system_out(items(phase))
        .add_property(Property::new("logs", phase.logs.display().to_string()));
    case
}

/// Whether the phase had something and all of it was skipped.
fn all_skipped(phase: &PhaseRecord) -> bool {
    let statuses: Vec<Status> = phase
        .actions
        .iter()
        .map(|a| a.status)
        .chain(phase.verdicts.iter().map(|v| v.status))
        .collect();
    !statuses.is_empty() && statuses.iter().all(|s| *s == Status::Skipped)
}

fn skip_reasons(phase: &PhaseRecord) -> String {
    let mut reasons: Vec<String> = phase
        .actions
        .iter()
        .filter_map(|a| a.reason.clone())
        .chain(phase.verdicts.iter().map(|v| v.verdict.seen.clone()))
        .collect();
    reasons.dedup();
    reasons.join("; ")
}

/// Every action and verdict of the phase, one line each with its outcome.
fn items(phase: &PhaseRecord) -> String {
    let word = |s: Status| match s {
        Status::Passed => "passed ",
        Status::Failed => "FAILED ",
        Status::Skipped => "skipped",
        Status::NoOp => "no-op  ",
    };
    let mut lines = Vec::new();
    for a in &phase.actions {
        let why = a
            .reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        lines.push(format!(
            "{} action {}: {}{why}",
            word(a.status),
            a.number,
            a.what
        ));
    }
    for v in &phase.verdicts {
        lines.push(format!(
            "{} {} {} on {}: {}",
            word(v.status),
            v.kind,
            v.name,
            v.node,
            v.verdict.seen
        ));
    }
    lines.push(format!("logs: {}", phase.logs.display()));
    lines.join("\n") + "\n"
}

/// Seconds as a duration; a negative or absurd value (never measured so) is zero.
fn seconds(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::super::test_fixture;
    use super::*;

    #[test]
    fn a_failed_phase_is_a_failed_case_with_the_place_expected_seen_and_logs() {
        let xml = render(&test_fixture::failed());
        insta::assert_snapshot!("junit_failed", xml);
        // Read back with the same crate: what a CI's JUnit reader sees.
        let back = Report::deserialize_from_str(&xml).expect("valid JUnit XML");
        let suite = &back.test_suites[0];
        assert_eq!(suite.name.as_str(), "failing-three-ways");
        assert_eq!((suite.tests, suite.failures), (3, 3));
        let start = &suite.test_cases[0];
        assert_eq!(start.name.as_str(), "start");
        let TestCaseStatus::NonSuccess { message, .. } = &start.status else {
            panic!("start failed: {:?}", start.status)
        };
        let message = message.as_ref().unwrap().as_str();
        assert!(
            message.contains("tests/fixtures/failing/three-failures.yaml:13:43"),
            "{message}"
        );
        assert!(
            message.contains("expected: GET /master/observe answers 200"),
            "{message}"
        );
        assert!(message.contains("seen: 404 Not Found"), "{message}");
    }

    #[test]
    fn a_passed_run_has_a_passing_case_per_phase_and_skips_nothing_done() {
        let report = test_fixture::passed();
        let xml = render(&report);
        insta::assert_snapshot!("junit_passed", xml);
        let back = Report::deserialize_from_str(&xml).expect("valid JUnit XML");
        let suite = &back.test_suites[0];
        assert_eq!(suite.tests, report.phases.len());
        assert_eq!((suite.failures, suite.errors), (0, 0));
    }

    #[test]
    fn a_phase_where_everything_was_skipped_is_a_skipped_case() {
        let mut report = test_fixture::passed();
        for v in &mut report.phases[0].verdicts {
            v.status = Status::Skipped;
        }
        for a in &mut report.phases[0].actions {
            a.status = Status::Skipped;
            a.reason = Some("upstream images cannot be pulled".into());
        }
        let back = Report::deserialize_from_str(&render(&report)).unwrap();
        let case = &back.test_suites[0].test_cases[0];
        let TestCaseStatus::Skipped { message, .. } = &case.status else {
            panic!("{:?}", case.status)
        };
        assert!(message
            .as_ref()
            .unwrap()
            .as_str()
            .starts_with("upstream images cannot be pulled"));
    }

    #[test]
    fn an_aborted_run_without_a_failed_phase_still_fails() {
        let mut report = test_fixture::passed();
        report.aborted = Some("Docker went away".into());
        let back = Report::deserialize_from_str(&render(&report)).unwrap();
        let suite = &back.test_suites[0];
        assert_eq!(suite.errors, 1);
        assert_eq!(suite.test_cases.last().unwrap().name.as_str(), "(run)");
    }
}
