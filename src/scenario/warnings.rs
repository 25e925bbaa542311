//! Warnings about a valid scenario: it runs, but probably not as its author meant. They
//! render like errors (with `!` instead of `x`) and leave the exit code alone.

use serde_saphyr::Spanned;

use super::diagnostic::{Diagnostics, Problem, SourceFile};
use super::model::{Order, Scenario, Step, StepKind};
use super::phases::step_phases;
use crate::mesos::versions::{next_series, Version};

/// Adds every warning about `scenario` (valid, parsed from `file`) to `out`.
pub fn warnings(scenario: &Scenario, file: &SourceFile, out: &mut Diagnostics) {
    per_master_checks(scenario, file, out);
    skipped_series(scenario, file, out);
    for (i, check) in scenario.checks.iter().enumerate() {
        if let Some(value) = check.value.json.as_ref().and_then(|j| j.value.as_ref()) {
            reread_value(value, &format!("checks[{i}].json.value"), file, out);
        }
    }
}

/// With several masters the runner picks which master each turn of a version-changing master
/// step replaces (non-leaders first, the leader last), so a check after one master's turn
/// does not see the master the plan names upgraded.
fn per_master_checks(s: &Scenario, file: &SourceFile, out: &mut Diagnostics) {
    let masters = s.topology.masters.value;
    if masters < 2 {
        return;
    }
    let steps: Vec<Step> = s.steps.iter().map(|st| st.value.clone()).collect();
    // Masters run what is installed until `install_master_binaries`; the restart after it
    // changes their version (and is reordered like an upgrade).
    let mut installed_ahead = false;
    let mut reordered: Vec<(String, StepKind)> = Vec::new();
    for (step, phase) in steps.iter().zip(step_phases(&steps)) {
        match step.kind {
            StepKind::InstallMasterBinaries => installed_ahead = true,
            StepKind::UpgradeMasters => {
                installed_ahead = false;
                reordered.push((phase, step.kind));
            }
            StepKind::RestartMasters | StepKind::RestartMastersWithFlag if installed_ahead => {
                installed_ahead = false;
                reordered.push((phase, step.kind));
            }
            _ => {}
        }
    }
    for (i, check) in s.checks.iter().enumerate() {
        let after = &check.value.after;
        let Some((phase, node)) = after.value.split_once('/') else {
            continue;
        };
        let Some((_, kind)) = reordered.iter().find(|(p, _)| p == phase) else {
            continue;
        };
        out.push(
            Problem::at(
                file,
                file.span_of(&after.referenced),
                "scenario::per_master_check",
                format!("checks[{i}].after"),
                format!(
                    "`checks[{i}].after` is the phase after {node}'s turn in `{kind}`, but with {masters} masters the runner picks which master each turn replaces"
                ),
            )
            .label("the master replaced by this turn is chosen at run time")
            .help(format!(
                "the runner takes non-leaders first and the leader last, whatever the plan's names; \
                 check after the whole step (`after: {phase}`), when every master runs the new version"
            ))
            .warning(),
        );
    }
}

/// The upgrade notes describe each upgrade from the next lower series ("Upgrading from 1.7.x
/// to 1.8.x"); an inferred order across several series follows no section of them.
fn skipped_series(s: &Scenario, file: &SourceFile, out: &mut Diagnostics) {
    if s.order.value != Order::Inferred {
        return;
    }
    let (Ok(from), Ok(to)) = (
        s.from.value.parse::<Version>(),
        s.to.value.parse::<Version>(),
    ) else {
        return;
    };
    let (first, last) = (from.series(), to.series());
    let mut between = Vec::new();
    let mut series = next_series(first);
    while let Some(x) = series.filter(|x| *x < last) {
        between.push(x);
        series = next_series(x);
    }
    if between.is_empty() || to <= from {
        return;
    }
    let names: Vec<String> = between.iter().map(|x| x.to_string()).collect();
    let skips = match names.as_slice() {
        [one] => format!("the {one} series"),
        many => format!("{} series ({})", many.len(), many.join(", ")),
    };
    out.push(
        Problem::at(
            file,
            file.span_of(&s.to.referenced),
            "scenario::skips_series",
            "to",
            format!("{first} -> {last} skips {skips}: the upgrade notes describe one series at a time"),
        )
        .label(format!("{last} is {} series past {first}", between.len() + 1))
        .help(format!(
            "the notes have one section per series (\"Upgrading from {first}.x to {}.x\", ...) and none for a jump; \
             a scenario to {}.x follows them. A skip-version test is valid: this only says the notes do not cover it",
            between[0], between[0]
        ))
        .warning(),
    );
}

/// A plain scalar that YAML reads as a number or boolean spelled differently from what was
/// written (`1.10` is the number 1.1): compared with a string it can never match.
fn reread_value(
    value: &Spanned<serde_json::Value>,
    field: &str,
    file: &SourceFile,
    out: &mut Diagnostics,
) {
    let what = match &value.value {
        serde_json::Value::Number(_) => "the number",
        serde_json::Value::Bool(_) => "the boolean",
        _ => return,
    };
    let Some(span) = file.span_of(&value.referenced) else {
        return;
    };
    let written = &file.text()[span.offset()..span.offset() + span.len()];
    let read = value.value.to_string();
    if written == read {
        return;
    }
    out.push(
        Problem::at(file, Some(span), "scenario::reread_value", field, format!(
            "`{field}` is written `{written}`, which YAML reads as {what} {read}"
        ))
        .label(format!("read as {read}"))
        .help(format!(
            "a string such as a version never equals {what} {read}: to compare the text, quote it (`value: \"{written}\"`); \
             to compare {what}, write `{read}`"
        ))
        .warning(),
    );
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::load::parse_and_validate_with_warnings;

    /// Code, field, position.
    type Seen = (&'static str, String, Option<(usize, usize)>);

    fn warnings(yaml: &str) -> Vec<Seen> {
        let loaded = parse_and_validate_with_warnings(Path::new("t.yaml"), yaml)
            .unwrap_or_else(|d| panic!("valid:\n{}", d.render_plain(100)));
        loaded
            .warnings
            .problems
            .iter()
            .map(|p| (p.code, p.field.clone(), p.position))
            .collect()
    }

    const SIX: &str = "order: inferred\nsteps: [rebuild_modules, upgrade_masters, upgrade_agents, upgrade_schedulers, restart_schedulers, upgrade_executors]\n";

    fn scenario(from: &str, topology: &str, checks: &str) -> String {
        format!("format: 1\nname: t\nfrom: {from}\nto: 1.11.0\ndistribution: local\ntopology: {topology}\n{SIX}checks:\n{checks}")
    }

    #[test]
    fn a_check_after_one_ha_master_turn_is_warned_about() {
        let checks = "  - { after: upgrade_masters/master-2, on: master-2, metric_present: master/elected }\n  - { after: upgrade_masters, on: master-2, metric_present: master/elected }\n";
        let ha = scenario("1.10.0", "{ zookeeper: 1, masters: 3, agents: 1 }", checks);
        assert_eq!(
            warnings(&ha),
            [(
                "scenario::per_master_check",
                "checks[0].after".to_string(),
                Some((10, 14))
            )]
        );
        let one = scenario(
            "1.10.0",
            "{ masters: 1, agents: 1 }",
            &checks.replace("master-2", "master-1"),
        );
        assert_eq!(warnings(&one), []);
    }

    #[test]
    fn restarts_warn_only_when_they_change_the_version() {
        let base = "format: 1\nname: t\nfrom: 0.14.0\nto: 0.15.0\ndistribution: upstream\ntopology: { zookeeper: 1, masters: 2, agents: 1 }\norder: { deviates: { reason: r } }\n";
        let checks =
            "checks:\n  - { after: restart_masters/master-1, metric_present: master/elected }\n";
        let plain = format!("{base}steps: [restart_masters, upgrade_agents]\n{checks}");
        assert_eq!(warnings(&plain), []);
        let installed = format!(
            "{base}steps: [install_master_binaries, restart_masters, upgrade_agents]\n{checks}"
        );
        assert_eq!(warnings(&installed).len(), 1);
    }

    #[test]
    fn an_inferred_path_across_series_is_warned_about() {
        let check = "  - { after: start, metric_present: master/elected }\n";
        let w = warnings(&scenario("1.8.1", "{ masters: 1, agents: 1 }", check));
        assert_eq!(
            w,
            [("scenario::skips_series", "to".to_string(), Some((4, 5)))]
        );
        assert_eq!(
            warnings(&scenario("1.10.0", "{ masters: 1, agents: 1 }", check)),
            []
        );
    }

    #[test]
    fn values_that_yaml_rereads_are_warned_about() {
        let check = |value: &str| {
            format!("  - {{ after: start, json: {{ get: /version, field: /version, expect: equals, value: {value} }} }}\n")
        };
        let with = |value: &str| {
            warnings(&scenario(
                "1.10.0",
                "{ masters: 1, agents: 1 }",
                &check(value),
            ))
        };
        for reread in ["1.10", "yes", "010", "True", "1e3"] {
            assert_eq!(
                with(reread),
                [(
                    "scenario::reread_value",
                    "checks[0].json.value".to_string(),
                    Some((10, 84))
                )],
                "{reread}"
            );
        }
        for kept in ["\"1.10\"", "1.1", "true", "200", "1.10.0", "'yes'"] {
            assert_eq!(with(kept), [], "{kept}");
        }
    }
}
