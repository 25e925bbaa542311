//! `summary.md` of a run, for a CI's job summary (GitHub's `$GITHUB_STEP_SUMMARY`, a GitLab
//! artifact): the verdict in one line, a table of phases and their verdicts, the failures
//! as the command line prints them (plain), what was skipped, and a link to the drift report.

use super::{PhaseRecord, RunReport, Status};

/// The Markdown summary of a run.
pub fn render(report: &RunReport) -> String {
    let mut md = String::new();
    let failed_phases = report.phases.iter().filter(|p| p.failed()).count();
    let verdict = if report.passed() {
        "passed".to_string()
    } else if failed_phases > 0 {
        format!(
            "FAILED at {failed_phases} of {} phases",
            report.phases.len()
        )
    } else {
        "FAILED (aborted)".to_string()
    };
    md.push_str(&format!(
        "## `{}`: {verdict}\n\nMesos {} -> {}, {} phases in {:.1}s; scenario `{}`, run `{}`, {}.\n\n",
        report.scenario,
        report.from,
        report.to,
        report.phases.len(),
        report.seconds,
        report.file.display(),
        report.run_id,
        report.harness,
    ));
    if let Some(seed) = report.seed {
        md.push_str(&format!(
            "Randomized with seed {seed}: `upgrade-harness run {} --seed {seed}` replays it.\n\n",
            report.file.display()
        ));
    }
    if let Some(e) = &report.expected_failure {
        md.push_str(&format!(
            "Must-fail scenario: expected the first failure at `{}` by {} saying \"{}\": {}.\n\n",
            e.expected.phase,
            e.expected.by,
            inline(&e.expected.contains),
            if e.caught {
                "caught as expected"
            } else {
                "NOT caught as expected"
            }
        ));
    }
    md.push_str("| phase | result | verdicts passed | failed | skipped | seconds |\n");
    md.push_str("|---|---|---:|---:|---:|---:|\n");
    for p in &report.phases {
        let (passed, failed, skipped) = p.verdict_counts();
        md.push_str(&format!(
            "| `{}` | {} | {passed} | {failed} | {skipped} | {:.1} |\n",
            p.name.replace('|', "\\|"),
            result(p),
            p.seconds
        ));
    }
    let failures = report.failures();
    if !failures.is_empty() {
        md.push_str("\n### Failures\n\n");
        md.push_str(&fenced(&failures.join("\n")));
    }
    let skipped = report.skipped();
    if !skipped.is_empty() {
        md.push_str("\n### Skipped (never counted as passed)\n\n");
        for line in skipped {
            md.push_str(&format!("- {}\n", inline(&line)));
        }
    }
    md.push_str(
        "\nAPI drift between the first and the last phase: [drift.md](drift.md). \
         Logs of each node per phase: `logs/`.\n",
    );
    md
}

/// `passed`, `**FAILED**` (with what failed: an action, verdicts), or `skipped`.
fn result(p: &PhaseRecord) -> String {
    if p.failed() {
        let action = p.actions.iter().any(|a| a.status == Status::Failed);
        return if action {
            "**FAILED** (action)".to_string()
        } else {
            "**FAILED**".to_string()
        };
    }
    let all = p.actions.len() + p.verdicts.len();
    let skipped = p
        .actions
        .iter()
        .filter(|a| a.status == Status::Skipped)
        .count()
        + p.verdict_counts().2;
    if all > 0 && skipped == all {
        "skipped".to_string()
    } else {
        "passed".to_string()
    }
}

/// A fenced code block that no backtick run in `text` can close early.
fn fenced(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}text\n{}\n{fence}\n", text.trim_end())
}

/// Free text in a list item: no HTML, no emphasis by accident.
fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '<' | '>' | '[' | ']' | '|') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_fixture;
    use super::*;

    #[test]
    fn a_failed_run_says_where_and_shows_the_failures_plain() {
        let report = test_fixture::failed();
        let md = render(&report);
        insta::assert_snapshot!("summary_failed", md);
        // The failures are the command line's text, without colours.
        for f in report.failures() {
            assert!(md.contains(f.trim_end()), "missing:\n{f}");
        }
        assert!(!md.contains('\u{1b}'), "no escape codes");
    }

    #[test]
    fn a_passed_run_has_a_row_per_phase_and_lists_the_skips() {
        let report = test_fixture::passed();
        let md = render(&report);
        insta::assert_snapshot!("summary_passed", md);
        let rows = md.lines().filter(|l| l.starts_with("| `")).count();
        assert_eq!(rows, report.phases.len());
        assert!(!md.contains("### Failures"));
    }

    #[test]
    fn code_blocks_survive_backticks_in_the_text() {
        let block = fenced("a ``` b");
        assert!(block.starts_with("````text\n"), "{block}");
        assert!(block.ends_with("\n````\n"), "{block}");
        assert_eq!(inline("a_b <c>"), "a\\_b \\<c\\>");
    }
}
