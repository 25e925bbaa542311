//! Validation of a parsed scenario: everything the types cannot say. Pure; collects every
//! problem instead of stopping at the first.

use std::collections::{BTreeMap, BTreeSet};

use serde_saphyr::Spanned;

use super::diagnostic::{Diagnostics, Problem, SourceFile};
use super::load::{closest, with_suggestion};
use super::model::{
    Check, FlagExpectation, JsonExpectation, Order, Probe, Scenario, StatusCheck, Step, Target,
    Topology,
};
use super::phases::{node_phases, step_phases, START};
use crate::mesos::procedures::{describe, procedure, Procedure, SIX_STEPS};
use crate::mesos::versions::{self, Version};

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
    let topology_ok = v.topology(&scenario.topology);
    v.steps(scenario);
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
    let mut probe_names = BTreeSet::new();
    for (i, probe) in scenario.probes.iter().enumerate() {
        v.probe(i, probe, nodes.as_deref(), &mut probe_names);
    }
    for (i, module) in scenario.modules.iter().enumerate() {
        if let Target::Node(node) = &module.value.role {
            let span = v.file.span_of(&module.referenced);
            v.out.push(
                Problem::at(
                    v.file,
                    span,
                    "scenario::bad_module_role",
                    format!("modules[{i}].role"),
                    format!(
                        "`modules[{i}].role` names node `{node}`; modules are loaded by a role"
                    ),
                )
                .label("this module")
                .help("`role: master` or `role: agents`"),
            );
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

    fn format(&mut self, s: &Scenario) {
        if s.format.value != FORMAT {
            let p = self
                .at(
                    &s.format,
                    "scenario::bad_format",
                    "format",
                    format!("unsupported `format: {}`", s.format.value),
                )
                .label("unknown format version")
                .help(format!(
                    "this upgrade-harness reads `format: {FORMAT}` only"
                ));
            self.out.push(p);
        }
    }

    /// Names used in file and snapshot names: lowercase letters, digits, `-`, `_`, `.`.
    fn name(&mut self, name: &Spanned<String>, field: &str, code: &'static str) {
        let n = &name.value;
        let ok = !n.is_empty()
            && n.len() <= 80
            && n.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && n.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')
            });
        if !ok {
            let p = self
                .at(name, code, field, format!("invalid `{field}`: {n:?}"))
                .label("not a valid name")
                .help(
                    "use 1-80 lowercase letters, digits, `-`, `_` and `.`, starting with a letter or digit \
                     (it becomes part of test and snapshot names)",
                );
            self.out.push(p);
        }
    }

    fn version(&mut self, value: &Spanned<String>, field: &str, s: &Scenario) -> Option<Version> {
        let distribution = s.distribution.value;
        let dist_name = match distribution {
            super::model::Distribution::Local => "local",
            super::model::Distribution::Upstream => "upstream",
        };
        match value.value.parse::<Version>() {
            Err(e) => {
                let p = self
                    .at(
                        value,
                        "scenario::bad_version",
                        field,
                        format!("invalid `{field}`: {e}"),
                    )
                    .label("not a version")
                    .help(format!(
                        "versions of distribution `{dist_name}`: {}",
                        versions::known_list(distribution)
                    ));
                self.out.push(p);
                None
            }
            Ok(v) if !versions::is_known(distribution, v) => {
                let p = self
                    .at(
                        value,
                        "scenario::unknown_version",
                        field,
                        format!("`{field}: {v}` is not a version of distribution `{dist_name}`"),
                    )
                    .label(format!("unknown to `{dist_name}`"))
                    .help(format!(
                        "versions of distribution `{dist_name}`: {}",
                        versions::known_list(distribution)
                    ));
                self.out.push(p);
                Some(v)
            }
            Ok(v) => Some(v),
        }
    }

    fn versions(&mut self, s: &Scenario) -> Option<(Version, Version)> {
        let from = self.version(&s.from, "from", s);
        let to = self.version(&s.to, "to", s);
        let (from, to) = (from?, to?);
        if from == to {
            let p = self
                .at(
                    &s.to,
                    "scenario::same_version",
                    "to",
                    format!("`to` is `from` ({to}): nothing to upgrade"),
                )
                .label("same as `from`")
                .help("choose a `to` newer than `from` (or older, with `downgrade: true`)");
            self.out.push(p);
            return None;
        }
        if to < from && !s.downgrade {
            let p = self
                .at(
                    &s.to,
                    "scenario::undeclared_downgrade",
                    "to",
                    format!("`to` ({to}) is older than `from` ({from})"),
                )
                .label("older than `from`")
                .help("swap `from` and `to`, or add `downgrade: true` if this tests a downgrade");
            self.out.push(p);
        }
        if to > from && s.downgrade {
            let p = self
                .at(
                    &s.to,
                    "scenario::not_a_downgrade",
                    "downgrade",
                    format!("`downgrade: true`, but `to` ({to}) is newer than `from` ({from})"),
                )
                .label("newer than `from`")
                .help("remove `downgrade: true`, or swap `from` and `to`");
            self.out.push(p);
        }
        Some((from, to))
    }

    /// Checks the topology; returns whether node names can be listed (no count over its maximum).
    fn topology(&mut self, t: &Topology) -> bool {
        for (value, field, max, what) in [
            (&t.masters, "topology.masters", MAX_MASTERS, "master"),
            (&t.agents, "topology.agents", MAX_AGENTS, "agent"),
        ] {
            if value.value == 0 {
                let p = self
                    .at(
                        value,
                        "scenario::bad_count",
                        field,
                        format!("`{field}` is 0"),
                    )
                    .label("must be at least 1")
                    .help(format!("a cluster needs 1 to {max} {what}s"));
                self.out.push(p);
            } else if value.value > max {
                let p = self
                    .at(
                        value,
                        "scenario::bad_count",
                        field,
                        format!("`{field}` is {}, more than {max}", value.value),
                    )
                    .label(format!("at most {max}"))
                    .help(format!("a test cluster has 1 to {max} {what}s"));
                self.out.push(p);
            }
        }
        if let Some(zk) = &t.zookeeper {
            if zk.value > MAX_ZOOKEEPER {
                let p = self
                    .at(
                        zk,
                        "scenario::bad_count",
                        "topology.zookeeper",
                        format!(
                            "`topology.zookeeper` is {}, more than {MAX_ZOOKEEPER}",
                            zk.value
                        ),
                    )
                    .label(format!("at most {MAX_ZOOKEEPER}"))
                    .help(format!(
                        "use 0 (standalone master) to {MAX_ZOOKEEPER} ZooKeeper servers; `run` builds 0 or 1 (ensembles are not built yet)"
                    ));
                self.out.push(p);
            }
        }
        if t.masters.value > 1 && t.zookeeper_count() == 0 {
            let (span, field) = match &t.zookeeper {
                Some(zk) => (self.file.span_of(&zk.referenced), "topology.zookeeper"),
                None => (self.file.span_of(&t.masters.referenced), "topology.masters"),
            };
            self.out.push(
                Problem::at(
                    self.file,
                    span,
                    "scenario::masters_without_zookeeper",
                    field,
                    format!("{} masters without ZooKeeper", t.masters.value),
                )
                .label("several masters need ZooKeeper")
                .help("add `zookeeper: 1` to `topology` (the one ZooKeeper node `run` builds), or use `masters: 1`: masters elect a leader through ZooKeeper"),
            );
        }
        t.masters.value <= MAX_MASTERS
            && t.agents.value <= MAX_AGENTS
            && t.zookeeper_count() <= MAX_ZOOKEEPER
    }

    fn steps(&mut self, s: &Scenario) {
        if s.steps.is_empty() {
            let line = self
                .file
                .text()
                .lines()
                .position(|l| l.starts_with("steps:"));
            let span = line.and_then(|i| self.file.span_at(i + 1, 1));
            self.out.push(
                Problem::at(self.file, span, "scenario::no_steps", "steps", "`steps` is empty")
                    .label("no steps")
                    .help("list the upgrade steps in the order they are performed, e.g. `- upgrade_masters`"),
            );
        }
        for (i, step) in s.steps.iter().enumerate() {
            let field = format!("steps[{i}]");
            let Step { kind, options } = &step.value;
            if kind.takes_flags() && options.flags.is_empty() && options.unset_flags.is_empty() {
                let p = self
                    .at(step, "scenario::flags_missing", &field, format!("`{kind}` without `flags` or `unset_flags`"))
                    .label("changes no flag")
                    .help(format!("write `- {kind}: {{ flags: {{ name: value }} }}` (flag names without `--`), or use `{}`", kind.name().trim_end_matches("_with_flag")));
                self.out.push(p);
            }
            let restarts = kind.one_node_at_a_time().is_some();
            if !restarts && (!options.flags.is_empty() || !options.unset_flags.is_empty()) {
                let p = self
                    .at(step, "scenario::flags_unused", &field, format!("`{kind}` starts no Mesos process, so its `flags` would be ignored"))
                    .label("flags here")
                    .help("flags apply to steps that (re)start masters or agents: upgrade_masters, restart_masters(_with_flag), upgrade_agents, restart_agents(_with_flag), reboot_agents");
                self.out.push(p);
            }
            let names = options.flags.keys().chain(options.unset_flags.iter());
            for name in names {
                if name.is_empty()
                    || name.starts_with('-')
                    || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    let p = self
                        .at(step, "scenario::bad_flag_name", format!("{field}.flags"), format!("invalid flag name {name:?} in `{kind}`"))
                        .label("in this step")
                        .help("write flag names as Mesos lists them in /flags, without `--` (e.g. `checkpoint`, `work_dir`)");
                    self.out.push(p);
                }
            }
            if let Some(phase) = &options.phase {
                let ok = !phase.is_empty()
                    && phase != START
                    && phase.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')
                    });
                if !ok {
                    let p = self
                        .at(step, "scenario::bad_phase_name", format!("{field}.phase"), format!("invalid phase name {phase:?}"))
                        .label("in this step")
                        .help("phase names use lowercase letters, digits, `-`, `_`, `.`; `start` is taken");
                    self.out.push(p);
                }
            }
        }
    }

    fn order(&mut self, s: &Scenario, from: Version, to: Version) {
        if s.steps.is_empty() {
            return; // reported by `steps`
        }
        let kinds: Vec<_> = s.steps.iter().map(|st| st.value.kind).collect();
        let proc = procedure(from, to);
        let path = format!("{} -> {}", from.series(), to.series());
        let deviates_help = "or declare `order: { deviates: { reason: \"...\" } }` and say why";
        match (&s.order.value, &proc) {
            (Order::Documented, Procedure::Documented { path, variants }) => {
                if !variants.contains(&kinds.as_slice()) {
                    self.order_mismatch(
                        s,
                        &kinds,
                        variants,
                        &format!("the steps do not follow the documented order for {path}"),
                        deviates_help,
                    );
                }
            }
            (Order::Documented, Procedure::Inferred) => {
                let p = self
                    .at(&s.order, "scenario::not_documented", "order", format!("`order: documented`, but the upgrade notes give no numbered steps for {path}"))
                    .label("nothing documented to follow")
                    .help(format!("use `order: inferred` with the six-step order of 0.22+ ({})", describe(SIX_STEPS)));
                self.out.push(p);
            }
            (Order::Inferred, Procedure::Documented { path, variants }) => {
                let p = self
                    .at(&s.order, "scenario::documented_exists", "order", format!("`order: inferred`, but the upgrade notes document the steps for {path}"))
                    .label("documented, not inferred")
                    .help(format!("use `order: documented` with the documented order: {}", alternatives(variants)));
                self.out.push(p);
            }
            (Order::Inferred, Procedure::Inferred) => {
                if kinds.as_slice() != SIX_STEPS {
                    self.order_mismatch(
                        s,
                        &kinds,
                        &[SIX_STEPS],
                        &format!("the steps do not follow the inferred six-step order for {path}"),
                        deviates_help,
                    );
                }
            }
            (Order::Documented | Order::Inferred, Procedure::None { why }) => {
                let p = self
                    .at(&s.order, "scenario::no_procedure", "order", format!("no documented or inferred order for {from} -> {to}: {why}"))
                    .label("cannot be checked against the notes")
                    .help("declare `order: { deviates: { reason: \"...\" } }` and say why these steps are right");
                self.out.push(p);
            }
            (Order::Deviates { reason }, _) => {
                if reason.trim().is_empty() {
                    let p = self
                        .at(
                            &s.order,
                            "scenario::empty_reason",
                            "order.deviates.reason",
                            "`order: deviates` without a reason",
                        )
                        .label("empty reason")
                        .help("say why the steps differ from the upgrade notes");
                    self.out.push(p);
                }
                let follows = match &proc {
                    Procedure::Documented { variants, .. } => variants.contains(&kinds.as_slice()),
                    Procedure::Inferred => kinds.as_slice() == SIX_STEPS,
                    Procedure::None { .. } => false,
                };
                if follows {
                    let which = if matches!(proc, Procedure::Inferred) {
                        "inferred"
                    } else {
                        "documented"
                    };
                    let p = self
                        .at(&s.order, "scenario::does_not_deviate", "order", format!("`order: deviates`, but the steps follow the {which} order for {path}"))
                        .label("does not deviate")
                        .help(format!("write `order: {which}`"));
                    self.out.push(p);
                }
            }
        }
    }

    /// Points at the first step that differs from the closest expected order.
    fn order_mismatch(
        &mut self,
        s: &Scenario,
        kinds: &[super::model::StepKind],
        variants: &[&[super::model::StepKind]],
        message: &str,
        deviates_help: &str,
    ) {
        let common =
            |v: &[super::model::StepKind]| kinds.iter().zip(v).take_while(|(a, b)| a == b).count();
        let best = variants
            .iter()
            .max_by_key(|v| common(v))
            .copied()
            .unwrap_or(&[]);
        let i = common(best);
        let (span, field, label) = match (s.steps.get(i), best.get(i)) {
            (Some(step), Some(expected)) => (
                self.file.span_of(&step.referenced),
                format!("steps[{i}]"),
                format!("expected `{expected}` here"),
            ),
            (Some(step), None) => (
                self.file.span_of(&step.referenced),
                format!("steps[{i}]"),
                "the documented order ends before this step".to_string(),
            ),
            (None, Some(expected)) => (
                self.file.span_of(&s.order.referenced),
                "steps".to_string(),
                format!("steps end before `{expected}`"),
            ),
            (None, None) => (
                self.file.span_of(&s.order.referenced),
                "steps".to_string(),
                String::new(),
            ),
        };
        self.out.push(
            Problem::at(self.file, span, "scenario::order_mismatch", field, message)
                .label(label)
                .help(format!(
                    "expected: {}; {deviates_help}",
                    alternatives(variants)
                )),
        );
    }

    fn phases(&mut self, s: &Scenario) -> Vec<String> {
        let steps: Vec<Step> = s.steps.iter().map(|st| st.value.clone()).collect();
        let names = step_phases(&steps);
        let mut all = vec![START.to_string()];
        let mut first_at: BTreeMap<String, usize> = BTreeMap::new();
        for (i, (step, phase)) in s.steps.iter().zip(&names).enumerate() {
            if let Some(prev) = first_at.get(phase) {
                let p = self
                    .at(
                        step,
                        "scenario::duplicate_phase",
                        format!("steps[{i}].phase"),
                        format!("phase `{phase}` is also the phase of `steps[{prev}]`"),
                    )
                    .label("same phase name")
                    .help("give one of the steps another `phase:` name");
                self.out.push(p);
            } else {
                first_at.insert(phase.clone(), i);
            }
            all.extend(node_phases(step.value.kind, phase, &s.topology));
            all.push(phase.clone());
        }
        all
    }

    fn target(&mut self, on: &Spanned<Target>, field: String, nodes: Option<&[String]>) {
        if let (Target::Node(node), Some(nodes)) = (&on.value, nodes) {
            if !nodes.contains(node) {
                let mut refs = vec!["master", "agents"];
                refs.extend(nodes.iter().map(String::as_str));
                let p = self
                    .at(
                        on,
                        "scenario::unknown_node",
                        field.clone(),
                        format!("`{field}` names node `{node}`, which the topology does not have"),
                    )
                    .label("no such node")
                    .help(with_suggestion(
                        node,
                        &refs,
                        "valid targets (the leading master, every agent, or one node)",
                    ));
                self.out.push(p);
            }
        }
    }

    fn path(&mut self, path: &Spanned<String>, field: String) {
        if !path.value.starts_with('/') {
            let p = self
                .at(
                    path,
                    "scenario::bad_path",
                    field.clone(),
                    format!(
                        "`{field}` is {:?}, not an absolute endpoint path",
                        path.value
                    ),
                )
                .label("must start with `/`")
                .help(format!(
                    "write `/{}` (paths are relative to the node, e.g. `/master/state`)",
                    path.value.trim_start_matches("./")
                ));
            self.out.push(p);
        }
    }

    fn check(
        &mut self,
        i: usize,
        check: &Spanned<Check>,
        phases: Option<&[String]>,
        nodes: Option<&[String]>,
    ) {
        let field = format!("checks[{i}]");
        let c = &check.value;
        let kinds: Vec<&str> = [
            ("status", c.status.is_some()),
            ("json", c.json.is_some()),
            ("metric_present", c.metric_present.is_some()),
            ("metric_absent", c.metric_absent.is_some()),
            ("flag", c.flag.is_some()),
            ("log_line", c.log_line.is_some()),
            ("fails_to_start", c.fails_to_start.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect();
        let all_kinds = "`status`, `json`, `metric_present`, `metric_absent`, `flag`, `log_line`, `fails_to_start`";
        match kinds.len() {
            1 => {}
            0 => {
                let p = self
                    .at(
                        check,
                        "scenario::check_kind",
                        &field,
                        format!("`{field}` checks nothing"),
                    )
                    .label("no check kind")
                    .help(format!("give exactly one of {all_kinds}"));
                self.out.push(p);
            }
            _ => {
                let p = self
                    .at(
                        check,
                        "scenario::check_kind",
                        &field,
                        format!(
                            "`{field}` has {} check kinds: {}",
                            kinds.len(),
                            kinds.join(", ")
                        ),
                    )
                    .label("one check, several kinds")
                    .help(format!(
                        "give exactly one of {all_kinds} per check; split it into {} checks",
                        kinds.len()
                    ));
                self.out.push(p);
            }
        }
        if let Some(phases) = phases {
            if !phases.contains(&c.after.value) {
                let refs: Vec<&str> = phases.iter().map(String::as_str).collect();
                let list = refs.join(", ");
                let help = match closest(&c.after.value, &refs) {
                    Some(best) => format!("did you mean `{best}`? phases of this scenario: {list}"),
                    None => format!("phases of this scenario: {list}"),
                };
                let p = self
                    .at(
                        &c.after,
                        "scenario::unknown_phase",
                        format!("{field}.after"),
                        format!(
                            "`{field}.after` names phase `{}`, which this scenario does not have",
                            c.after.value
                        ),
                    )
                    .label("no such phase")
                    .help(help);
                self.out.push(p);
            }
        }
        self.target(&c.on, format!("{field}.on"), nodes);
        if let Some(status) = &c.status {
            self.status(status, check, format!("{field}.status"));
        }
        if let Some(json) = &c.json {
            self.path(&json.get, format!("{field}.json.get"));
            if !(json.field.is_empty() || json.field.starts_with('/')) {
                let p = self
                    .at(
                        check,
                        "scenario::bad_pointer",
                        format!("{field}.json.field"),
                        format!(
                            "`{field}.json.field` is {:?}, not a JSON pointer",
                            json.field
                        ),
                    )
                    .label("in this check")
                    .help(format!(
                        "a JSON pointer starts with `/`, e.g. `/{}`",
                        json.field.replace('.', "/")
                    ));
                self.out.push(p);
            }
            let equals = json.expect.value == JsonExpectation::Equals;
            self.expect_value(
                equals,
                json.value.is_some(),
                check,
                &json.expect,
                format!("{field}.json"),
            );
        }
        if let Some(flag) = &c.flag {
            if flag.name.is_empty() || flag.name.starts_with('-') {
                let p = self
                    .at(
                        check,
                        "scenario::bad_flag_name",
                        format!("{field}.flag.name"),
                        format!("invalid flag name {:?}", flag.name),
                    )
                    .label("in this check")
                    .help("write the flag name as /flags lists it, without `--`");
                self.out.push(p);
            }
            let equals = flag.expect.value == FlagExpectation::Equals;
            self.expect_value(
                equals,
                flag.value.is_some(),
                check,
                &flag.expect,
                format!("{field}.flag"),
            );
        }
        for (name, metric) in [
            ("metric_present", &c.metric_present),
            ("metric_absent", &c.metric_absent),
        ] {
            if metric
                .as_deref()
                .is_some_and(|m| m.trim().is_empty() || m.starts_with('/'))
            {
                let p = self
                    .at(check, "scenario::bad_metric", format!("{field}.{name}"), format!("`{field}.{name}` is not a metric name"))
                    .label("in this check")
                    .help("write the metric name as /metrics/snapshot lists it, e.g. `master/slaves_active`");
                self.out.push(p);
            }
        }
    }

    fn expect_value<E>(
        &mut self,
        equals: bool,
        has_value: bool,
        check: &Spanned<Check>,
        expect: &Spanned<E>,
        field: String,
    ) {
        let span = self
            .file
            .span_of(&expect.referenced)
            .or_else(|| self.file.span_of(&check.referenced));
        if equals && !has_value {
            self.out.push(
                Problem::at(
                    self.file,
                    span,
                    "scenario::equals_without_value",
                    format!("{field}.value"),
                    format!("`{field}` expects `equals` but gives no `value`"),
                )
                .label("equals what?")
                .help("add `value: ...`, or expect `exists`/`present` or `absent`"),
            );
        } else if !equals && has_value {
            self.out.push(
                Problem::at(
                    self.file,
                    span,
                    "scenario::value_without_equals",
                    format!("{field}.value"),
                    format!("`{field}` gives a `value` but does not expect `equals`"),
                )
                .label("value is ignored")
                .help("add `expect: equals`, or remove `value`"),
            );
        }
    }

    fn status(&mut self, status: &StatusCheck, check: &Spanned<Check>, field: String) {
        match (&status.get, &status.post) {
            (Some(path), None) => self.path(path, format!("{field}.get")),
            (None, Some(path)) => self.path(path, format!("{field}.post")),
            (Some(_), Some(_)) | (None, None) => {
                let p = self
                    .at(
                        check,
                        "scenario::request",
                        field.clone(),
                        format!("`{field}` needs exactly one of `get` and `post`"),
                    )
                    .label("in this check")
                    .help("e.g. `status: { get: /master/state, code: 200 }`");
                self.out.push(p);
            }
        }
        if status.post.is_none() && (status.body.is_some() || status.content_type.is_some()) {
            let p = self
                .at(
                    check,
                    "scenario::body_without_post",
                    format!("{field}.body"),
                    format!("`{field}` has a body but is not a POST"),
                )
                .label("in this check")
                .help("use `post:` for requests with a body");
            self.out.push(p);
        }
        if !(100..=599).contains(&status.code.value) {
            let p = self
                .at(
                    &status.code,
                    "scenario::bad_status",
                    format!("{field}.code"),
                    format!(
                        "`{field}.code` is {}, not an HTTP status code",
                        status.code.value
                    ),
                )
                .label("not in 100-599")
                .help("HTTP status codes are 100-599, e.g. 200, 202, 307, 404");
            self.out.push(p);
        }
    }

    fn probe(
        &mut self,
        i: usize,
        probe: &Spanned<Probe>,
        nodes: Option<&[String]>,
        names: &mut BTreeSet<String>,
    ) {
        let field = format!("probes[{i}]");
        let p = &probe.value;
        let name_ok = !p.name.value.is_empty()
            && p.name
                .value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'));
        if !name_ok {
            let pr = self
                .at(&p.name, "scenario::bad_name", format!("{field}.name"), format!("invalid `{field}.name`: {:?}", p.name.value))
                .label("not a valid probe name")
                .help("use lowercase letters, digits, `-` and `_` (it becomes part of snapshot names)");
            self.out.push(pr);
        } else if !names.insert(p.name.value.clone()) {
            let pr = self
                .at(
                    &p.name,
                    "scenario::duplicate_probe",
                    format!("{field}.name"),
                    format!("probe name `{}` is used twice", p.name.value),
                )
                .label("second probe with this name")
                .help("probe names name snapshots; make them unique");
            self.out.push(pr);
        }
        self.target(&p.on, format!("{field}.on"), nodes);
        match (&p.get, &p.post) {
            (Some(path), None) => self.path(path, format!("{field}.get")),
            (None, Some(path)) => self.path(path, format!("{field}.post")),
            _ => {
                let pr = self
                    .at(
                        probe,
                        "scenario::request",
                        field.clone(),
                        format!("`{field}` needs exactly one of `get` and `post`"),
                    )
                    .label("in this probe")
                    .help("e.g. `{ name: master-state, get: /master/state }`");
                self.out.push(pr);
            }
        }
        if p.post.is_none() && p.body.is_some() {
            let pr = self
                .at(
                    probe,
                    "scenario::body_without_post",
                    format!("{field}.body"),
                    format!("`{field}` has a body but is not a POST"),
                )
                .label("in this probe")
                .help("use `post:` for requests with a body");
            self.out.push(pr);
        }
    }
}

fn alternatives(variants: &[&[super::model::StepKind]]) -> String {
    variants
        .iter()
        .map(|v| describe(v))
        .collect::<Vec<_>>()
        .join("; or: ")
}
