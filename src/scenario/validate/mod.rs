//! Validation of a parsed scenario: everything the types cannot say. Pure; collects every
//! problem instead of stopping at the first.
//!
//! [`validate()`] and the consts live here; each check lives with its kind: top-level fields,
//! versions and topology (`top_level.rs`), steps, their order and phases (`steps.rs`), checks
//! and probes (`checks.rs`). Warnings about valid files are in [`super::warnings`].

mod checks;
mod frameworks;
mod images;
mod modules;
mod steps;
mod top_level;

use std::collections::BTreeSet;

use serde_saphyr::Spanned;

use crate::scenario::diagnostic::{Diagnostics, Problem, SourceFile};
use crate::scenario::model::Scenario;

/// The only format version.
pub const FORMAT: u32 = 1;

/// Upper bounds on the topology: a test cluster on one machine, not a data centre. They also
/// keep a typo (`agents: 20000`) from becoming a plan with twenty thousand containers.
pub const MAX_MASTERS: u32 = 7;
/// See [`MAX_MASTERS`].
pub const MAX_AGENTS: u32 = 50;
/// See [`MAX_MASTERS`].
pub const MAX_ZOOKEEPER: u32 = 7;

/// Checks `scenario` (parsed from `file`) and adds every problem to `out`.
pub fn validate(scenario: &Scenario, file: &SourceFile, out: &mut Diagnostics) {
    let mut v = Validator { file, out };
    v.format(scenario);
    v.name(&scenario.name, "name", "scenario::bad_name");
    let versions = v.versions(scenario);
    v.images(scenario);
    let topology_ok = v.topology(&scenario.topology);
    v.steps(scenario);
    v.timeouts(&scenario.timeouts);
    if let Some((from, to)) = versions {
        v.order(scenario, from, to);
    }
    let phases = if topology_ok {
        Some(v.phases(scenario))
    } else {
        None
    };
    let nodes = if topology_ok {
        Some(scenario.topology.node_names())
    } else {
        None
    };
    for (i, check) in scenario.checks.iter().enumerate() {
        v.check(i, check, phases.as_deref(), nodes.as_deref());
    }
    if let Some(expect) = &scenario.expect_failure {
        v.expect_failure(
            expect,
            phases.as_deref(),
            &scenario.invariants,
            !scenario.frameworks.is_empty(),
        );
    }
    let mut probe_names = BTreeSet::new();
    for (i, probe) in scenario.probes.iter().enumerate() {
        v.probe(i, probe, nodes.as_deref(), &mut probe_names);
    }
    for (i, module) in scenario.modules.iter().enumerate() {
        v.module(i, module, scenario);
    }
    let mut framework_names = BTreeSet::new();
    for (i, fw) in scenario.frameworks.iter().enumerate() {
        v.framework(i, fw, &mut framework_names, scenario);
    }
}

impl Validator<'_> {
    /// A must-fail scenario names a phase of its plan and what fails there.
    fn expect_failure(
        &mut self,
        e: &Spanned<crate::scenario::model::ExpectFailure>,
        phases: Option<&[String]>,
        invariants: &[crate::scenario::model::Invariant],
        frameworks: bool,
    ) {
        let f = &e.value;
        if let Some(phases) = phases {
            if !phases.contains(&f.phase) {
                let p = self
                    .at(
                        e,
                        "scenario::expect_failure",
                        "expect_failure.phase",
                        format!("no phase `{}`", f.phase),
                    )
                    .label("expected failure here")
                    .help(format!("phases: {}", phases.join(", ")));
                self.out.push(p);
            }
        }
        let mut valid: Vec<&str> = invariants.iter().map(|i| i.name()).collect();
        if frameworks {
            valid.extend(frameworks::FRAMEWORK_VERDICTS);
        }
        valid.extend(["check", "action"]);
        if !valid.contains(&f.by.as_str()) {
            let p = self
                .at(
                    e,
                    "scenario::expect_failure",
                    "expect_failure.by",
                    format!(
                        "`by: {}` is not an invariant of this scenario, `check` or `action`",
                        f.by
                    ),
                )
                .label("expected failure here")
                .help(format!("one of: {}", valid.join(", ")));
            self.out.push(p);
        }
        if f.contains.trim().is_empty() {
            let p = self
                .at(e, "scenario::expect_failure", "expect_failure.contains", "`contains` is empty")
                .label("expected failure here")
                .help("quote the words the failure must say (a must-fail test that accepts any failure proves little)");
            self.out.push(p);
        }
    }
}

struct Validator<'a> {
    file: &'a SourceFile,
    out: &'a mut Diagnostics,
}

impl Validator<'_> {
    fn at<T>(
        &self,
        value: &Spanned<T>,
        code: &'static str,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Problem {
        Problem::at(
            self.file,
            self.file.span_of(&value.referenced),
            code,
            field,
            message,
        )
    }
}
