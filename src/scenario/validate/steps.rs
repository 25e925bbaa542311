//! Steps: their options, their order against the upgrade notes, and their phase names.

use std::collections::BTreeMap;

use super::Validator;
use crate::mesos::procedures::{describe, procedure, Procedure, SIX_STEPS};
use crate::mesos::versions::Version;
use crate::scenario::diagnostic::Problem;
use crate::scenario::model::{
    FaultTarget, Mistake, Order, RestartAs, Role, Scenario, Step, StepKind,
};
use crate::scenario::phases::{node_phases, step_phases, START};

impl Validator<'_> {
    pub(super) fn steps(&mut self, s: &Scenario) {
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
            self.fault_options(s, i, step);
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

    /// The options of fault steps (`target`, `seconds`, `restart_as`, `expect`) only on
    /// fault steps, `mistake` only on steps that restart nodes of its role.
    fn fault_options(&mut self, s: &Scenario, i: usize, step: &serde_saphyr::Spanned<Step>) {
        let Step { kind, options: o } = &step.value;
        let field = format!("steps[{i}]");
        let problem = |v: &mut Self, code, what: &str, message: String, help: String| {
            let p = v
                .at(step, code, format!("{field}.{what}"), message)
                .label("in this step")
                .help(help);
            v.out.push(p);
        };
        let fault_only = [
            ("target", o.target.is_some()),
            ("seconds", o.seconds.is_some()),
            ("restart_as", o.restart_as.is_some()),
            ("expect", o.expect.is_some()),
        ];
        for (name, given) in fault_only {
            if given && !kind.is_fault() {
                problem(self, "scenario::fault_option", name, format!("`{name}` is an option of fault steps, not of `{kind}`"), "fault steps: kill_node, pause_node, partition_node, restart_zookeeper, restart_framework".to_string());
            }
        }
        if kind.is_fault() && !kind.targets_a_node() && o.target.is_some() {
            problem(
                self,
                "scenario::fault_option",
                "target",
                format!("`{kind}` takes no `target`"),
                "only kill_node, pause_node and partition_node hit a node".to_string(),
            );
        }
        if o.seconds.is_some()
            && kind.is_fault()
            && !matches!(kind, StepKind::PauseNode | StepKind::PartitionNode)
        {
            problem(
                self,
                "scenario::fault_option",
                "seconds",
                format!("`{kind}` takes no `seconds`"),
                "only pause_node and partition_node last a while".to_string(),
            );
        }
        if o.seconds == Some(0) {
            problem(
                self,
                "scenario::fault_option",
                "seconds",
                "`seconds: 0`".to_string(),
                "a pause or partition lasts at least 1 s".to_string(),
            );
        }
        if o.restart_as.is_some() && kind.is_fault() && *kind != StepKind::KillNode {
            problem(
                self,
                "scenario::fault_option",
                "restart_as",
                format!("`{kind}` takes no `restart_as`"),
                "only kill_node starts a process again".to_string(),
            );
        }
        let masters = s.topology.masters.value;
        let agents = s.topology.agents.value;
        if let Some(FaultTarget::Node(n)) = &o.target {
            let exists = s.topology.node_names().contains(n);
            if !exists {
                problem(
                    self,
                    "scenario::fault_target",
                    "target",
                    format!("no node `{n}` in this topology"),
                    format!("nodes: master-1..master-{masters}, agent-1..agent-{agents}"),
                );
            }
        }
        let named = matches!(&o.target, Some(FaultTarget::Node(_)))
            || (masters == 1 && matches!(o.target, None | Some(FaultTarget::Master)));
        if o.restart_as.is_some_and(|r| r != RestartAs::Same) && !named {
            problem(self, "scenario::fault_target", "restart_as", "`restart_as` another version needs one named node".to_string(), "name the node (`target: master-2`): the plan must know which node runs which version".to_string());
        }
        if *kind == StepKind::RestartZookeeper && s.topology.zookeeper_count() == 0 {
            problem(
                self,
                "scenario::fault_target",
                "restart_zookeeper",
                "`restart_zookeeper` without ZooKeeper".to_string(),
                "set `topology.zookeeper: 1`".to_string(),
            );
        }
        if *kind == StepKind::RestartFramework && s.workload.tasks == 0 {
            problem(
                self,
                "scenario::fault_target",
                "restart_framework",
                "`restart_framework` without a workload".to_string(),
                "set `workload.tasks` (the test framework runs with a workload)".to_string(),
            );
        }
        if let Some(m) = o.mistake {
            let role = kind.one_node_at_a_time();
            let wants = match m {
                Mistake::DeleteRegistry => Role::Master,
                Mistake::WipeWorkDir | Mistake::KillExecutors => Role::Agent,
                // Either role: the frameworks run beside the cluster.
                Mistake::KillFrameworks => role.unwrap_or(Role::Agent),
            };
            if m == Mistake::KillFrameworks && s.frameworks.is_empty() {
                problem(
                    self,
                    "scenario::mistake",
                    "mistake",
                    "`mistake: kill_frameworks` in a scenario without `frameworks`".to_string(),
                    "declare the frameworks to kill under `frameworks:`".to_string(),
                );
            } else if role != Some(wants) || kind.is_fault() {
                problem(self, "scenario::mistake", "mistake", format!("`mistake: {}` needs a step that restarts {}s one at a time, not `{kind}`", m.name(), wants.as_str()), "for agents: upgrade_agents, restart_agents(_with_flag), reboot_agents; for masters: upgrade_masters, restart_masters(_with_flag)".to_string());
            }
        }
    }

    pub(super) fn order(&mut self, s: &Scenario, from: Version, to: Version) {
        if s.steps.is_empty() {
            return; // reported by `steps`
        }
        // Faults are not steps of any procedure: the order is that of the other steps.
        let without_faults;
        let s = if s.steps.iter().any(|st| st.value.kind.is_fault()) {
            let mut only = s.clone();
            only.steps.retain(|st| !st.value.kind.is_fault());
            without_faults = only;
            &without_faults
        } else {
            s
        };
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
        kinds: &[StepKind],
        variants: &[&[StepKind]],
        message: &str,
        deviates_help: &str,
    ) {
        let common = |v: &[StepKind]| kinds.iter().zip(v).take_while(|(a, b)| a == b).count();
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

    pub(super) fn phases(&mut self, s: &Scenario) -> Vec<String> {
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
}

fn alternatives(variants: &[&[StepKind]]) -> String {
    variants
        .iter()
        .map(|v| describe(v))
        .collect::<Vec<_>>()
        .join("; or: ")
}
