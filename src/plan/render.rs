//! The plan in words: the listing `upgrade-harness plan` prints (snapshot-tested) and the
//! action descriptions the run report shows.

use std::collections::BTreeMap;
use std::fmt;

use super::build::{node_step, NodeEffect};
use super::model::{Action, ActionKind, Entry, Fault, NodeImage, NodeModel, Plan};
use crate::domain::{
    Distribution, FaultTarget, MasterStop, Mistake, Role, StepKind, TasksAfterFault, Version,
};
use crate::mesos::distribution::{local_image, process_name};
use crate::scenario::model::Order;

impl Plan {
    fn masters(&self) -> usize {
        self.nodes.iter().filter(|n| n.role == Role::Master).count()
    }
}

/// `with --a=b, without --c`: how a (re)start changes flags.
fn flag_list(set: &BTreeMap<String, String>, unset: &[String]) -> String {
    let mut parts: Vec<String> = set.iter().map(|(k, v)| format!("--{k}={v}")).collect();
    if !parts.is_empty() {
        parts[0] = format!("with {}", parts[0]);
    }
    parts.extend(unset.iter().map(|k| format!("without --{k}")));
    parts.join(", ")
}

impl Action {
    /// The action in words, as the plan listing and the run report both show it.
    pub fn describe(&self, model: NodeModel) -> String {
        let node = self.node.as_deref().unwrap_or("");
        let role = self.role.unwrap_or(Role::Agent);
        let running = self.running.as_ref();
        let proc_at = |v: Version| format!("{} {}", process_name(role, v), v);
        let restart_text = || -> String {
            let r = running.expect("restarts track the running version");
            let NodeModel::ProcessInHost = model;
            let mut text = if r.changes() {
                format!(
                    "{node}: restart: process {} replaced by the installed {} in node {node}",
                    proc_at(r.before),
                    r.after
                )
            } else {
                format!("{node}: restart {} in node {node}", proc_at(r.after))
            };
            let flags = flag_list(&self.flags_set, &self.flags_unset);
            if !flags.is_empty() {
                text.push_str(&format!(" {flags}"));
            }
            text
        };
        let mut text = self.describe_kind(model, &restart_text, &proc_at);
        if let Some(m) = self.mistake {
            text.push_str(&format!(
                "; MISTAKE while it is down: {}",
                match m {
                    Mistake::WipeWorkDir => "its work_dir is wiped",
                    Mistake::DeleteRegistry => "its registry (replicated log) is deleted",
                    Mistake::KillExecutors => "its tasks' executors are SIGKILLed",
                    Mistake::KillFrameworks => "the scenario's frameworks are SIGKILLed",
                }
            ));
        }
        text
    }

    fn describe_kind(
        &self,
        model: NodeModel,
        restart_text: &dyn Fn() -> String,
        proc_at: &dyn Fn(Version) -> String,
    ) -> String {
        let node = self.node.as_deref().unwrap_or("");
        let running = self.running.as_ref();
        let installed = self.installed.as_ref();
        match &self.kind {
            ActionKind::Fault(fault) => describe_fault(fault, running, proc_at),
            ActionKind::Pause { seconds } => {
                format!("pause {seconds} s before the next action (drawn from the seed)")
            }
            ActionKind::StartNode => match running {
                None => format!("start node {node} (zookeeper)"),
                Some(r) => format!("start node {node}: {}", proc_at(r.after)),
            },
            ActionKind::StartWorkload { tasks, checkpoint } => format!(
                "start the test framework (scheduler and executor builds {}) and {tasks} long-running task{} (framework checkpointing {})",
                running.map_or(String::new(), |r| r.after.to_string()),
                if *tasks == 1 { "" } else { "s" },
                if *checkpoint { "on" } else { "off" }
            ),
            ActionKind::StartFramework { name, .. } => format!(
                "start framework {name} in its container fw-{name} and wait until it is healthy"
            ),
            ActionKind::ReplaceProcess => {
                let r = running.expect("replacements track the running version");
                let NodeModel::ProcessInHost = model;
                let mut text = format!(
                    "{node}: process {} replaced by {} in node {node}",
                    proc_at(r.before),
                    r.after
                );
                if !r.changes() {
                    text.push_str(" (already at that version: a restart)");
                }
                let flags = flag_list(&self.flags_set, &self.flags_unset);
                if !flags.is_empty() {
                    text.push_str(&format!(" {flags}"));
                }
                text
            }
            ActionKind::InstallBinaries => {
                let i = installed.expect("installs track the installed version");
                let r = running.expect("installs track the running version");
                let NodeModel::ProcessInHost = model;
                let what = format!("build {}", i.after);
                format!(
                    "{node}: install {} binaries ({what}); still runs {} until its next restart",
                    i.after,
                    proc_at(r.after)
                )
            }
            ActionKind::RestartProcess => restart_text(),
            ActionKind::RestartWithFlags => restart_text(),
            ActionKind::ReconfigureCgroupsMounts => format!(
                "{node}: reconfigure cgroups to one mountpoint per controller (nothing restarts; takes effect at the reboot)"
            ),
            ActionKind::RebootNode => {
                let r = running.expect("reboots track the running version");
                let mut text = format!(
                    "reboot host {node}: everything on it dies, the disk is kept; {} comes back",
                    proc_at(r.after)
                );
                if r.changes() {
                    text.push_str(&format!(" (was {}: installed binaries take effect)", r.before));
                }
                text
            }
            ActionKind::SchedulerUpgrade => {
                let i = installed.expect("scheduler upgrades track the linked version");
                format!(
                    "relink the test framework's scheduler: {} -> {} (runs from its next restart)",
                    i.before, i.after
                )
            }
            ActionKind::SetFrameworkCheckpoint => {
                "set FrameworkInfo.checkpoint in the scheduler (takes effect when it restarts)"
                    .to_string()
            }
            ActionKind::SchedulerFailover => {
                let r = running.expect("failovers track the running version");
                if r.changes() {
                    format!(
                        "restart the scheduler: re-subscribe with the same framework ID, now running {} (was {})",
                        r.after, r.before
                    )
                } else {
                    format!(
                        "restart the scheduler: re-subscribe with the same framework ID, still running {}",
                        r.after
                    )
                }
            }
            ActionKind::ExecutorUpgrade => {
                let i = installed.expect("executor upgrades track the build");
                format!(
                    "upgrade the executors: new executors use the {} build (was {}); running ones are left alone",
                    i.after, i.before
                )
            }
            ActionKind::RebuildModules { modules } => {
                format!("rebuild modules {} for the new version", modules.join(", "))
            }
            ActionKind::NoOp { reason } => format!("no-op: {reason}"),
        }
    }
}

fn describe_fault(
    fault: &Fault,
    running: Option<&super::model::VersionChange>,
    proc_at: &dyn Fn(Version) -> String,
) -> String {
    let target = match &fault.target {
        FaultTarget::Master => "the leading master".to_string(),
        FaultTarget::Agents => "every agent".to_string(),
        t => t.name().to_string(),
    };
    let s = fault.seconds;
    let tasks = match fault.expect.tasks {
        TasksAfterFault::Running => "tasks keep running",
        TasksAfterFault::Lost => "its tasks are reported lost",
    };
    let back = format!(
        "; expected back within {} s (leader, agents with their IDs, framework), {tasks}",
        fault.expect.within
    );
    match fault.kind {
        StepKind::KillNode => {
            let comes_back = match running {
                Some(r) if r.changes() => format!("{} comes back (was {})", proc_at(r.after), r.before),
                Some(r) => format!("{} comes back", proc_at(r.after)),
                None => "it comes back at the same version".to_string(),
            };
            format!("FAULT: SIGKILL the Mesos process of {target}; {comes_back}{back}")
        }
        StepKind::PauseNode => format!(
            "FAULT: freeze {target} (docker pause) for {s} s, then thaw it{back}"
        ),
        StepKind::PartitionNode => format!(
            "FAULT: cut {target} off the run network for {s} s, then reconnect it (same address){back}"
        ),
        StepKind::RestartZookeeper => {
            format!("FAULT: restart the ZooKeeper server (SIGKILL, then start it again){back}")
        }
        StepKind::RestartFramework => format!(
            "FAULT: the test framework drops its connection without a goodbye and subscribes again with its framework ID{back}"
        ),
        other => format!("FAULT: {other}"),
    }
}

fn step_header(
    kind: StepKind,
    masters: usize,
    stop: MasterStop,
    model: NodeModel,
) -> Option<String> {
    let masters_order = match (masters > 1, stop) {
        (false, _) => "one master",
        (true, MasterStop::Crash) => "masters one at a time, non-leaders first, leader last: order decided at run time; each stopped like a crash (SIGTERM: a new leader once its ZooKeeper session expires)",
        (true, MasterStop::Graceful) => "masters one at a time, non-leaders first, leader last: order decided at run time; each stopped gracefully (terminated, then its ZooKeeper candidacy withdrawn)",
    };
    Some(match node_step(kind)? {
        (Role::Master, NodeEffect::Install | NodeEffect::Reconfigure) => {
            "on every master".to_string()
        }
        (Role::Master, _) => masters_order.to_string(),
        (_, NodeEffect::Install | NodeEffect::Reconfigure) => "on every agent".to_string(),
        (_, NodeEffect::Reboot) => "agents one at a time".to_string(),
        (_, _) => {
            let NodeModel::ProcessInHost = model;
            "agents one at a time; they recover from their work dir".to_string()
        }
    })
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "plan {}: Mesos {} -> {}",
            self.scenario, self.from, self.to
        )?;
        match self.distribution {
            Distribution::Local => writeln!(
                f,
                "distribution: local (each node is a long-lived host holding the builds it needs; an upgrade replaces the Mesos process inside it)"
            )?,
            Distribution::Upstream => writeln!(
                f,
                "distribution: upstream (each version's Mesos programs and libraries taken from its images into a long-lived host; an upgrade replaces the Mesos process inside it)"
            )?,
        }
        match &self.order {
            Order::Documented => writeln!(f, "order: documented (the numbered steps of the upgrade notes)")?,
            Order::Inferred => writeln!(
                f,
                "order: inferred (the notes give no steps for this path; the six-step order of 0.22+)"
            )?,
            Order::Deviates { reason } => writeln!(f, "order: deviates from the notes: {reason}")?,
        }
        if let Some(seed) = self.seed {
            writeln!(f, "seed: {seed} (`--seed {seed}` replays this plan)")?;
            if self.variations.is_empty() {
                writeln!(f, "  the seed changed nothing")?;
            }
            for v in &self.variations {
                writeln!(f, "  {v}")?;
            }
        }
        writeln!(f, "nodes:")?;
        for n in &self.nodes {
            let image = match &n.image {
                NodeImage::Image(i) => format!("image {i}"),
                NodeImage::Host { builds } => format!(
                    "host with builds {}{} at /opt/mesos/<version>",
                    builds
                        .iter()
                        .map(|v| match self.distribution {
                            Distribution::Local => local_image(*v),
                            Distribution::Upstream => v.to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join(" + "),
                    match self.distribution {
                        Distribution::Local => "",
                        Distribution::Upstream => " from the images below",
                    }
                ),
            };
            let version = n.version.map(|v| format!(" {v}")).unwrap_or_default();
            writeln!(
                f,
                "  {:<9} {:<9}{:<8} {image}",
                n.name,
                n.role.as_str(),
                version
            )?;
        }
        if self.distribution == Distribution::Upstream {
            writeln!(f, "images (the first that has a role's program gives it):")?;
            for (v, refs) in &self.images {
                let refs = if refs.is_empty() {
                    "none named".to_string()
                } else {
                    refs.join(", ")
                };
                writeln!(f, "  {:<9} {refs}", v.to_string())?;
            }
        }
        for m in &self.setup_mistakes {
            match m {
                crate::domain::SetupMistake::RemoveMesosExecutor => writeln!(
                    f,
                    "MISTAKE at setup: every agent node is created without /opt/mesos/<version>/mesos-executor"
                )?,
                crate::domain::SetupMistake::StaleModuleBuild => writeln!(
                    f,
                    "MISTAKE at setup: rebuild_modules leaves the {} module builds in place",
                    self.from
                )?,
            }
        }
        writeln!(f)?;
        writeln!(f, "start")?;
        let mut current_step: Option<usize> = None;
        for e in &self.entries {
            match e {
                Entry::Action(a) => {
                    if a.step.is_none() && matches!(a.kind, ActionKind::Fault(_)) {
                        current_step = None;
                        writeln!(f)?;
                        writeln!(f, "between steps, drawn from the seed:")?;
                    }
                    if let Some(st) = &a.step {
                        if current_step != Some(st.index) {
                            current_step = Some(st.index);
                            writeln!(f)?;
                            let line = if st.line > 0 {
                                format!(", line {}", st.line)
                            } else {
                                String::new()
                            };
                            write!(f, "step {}{line}: {}", st.index + 1, st.kind.name())?;
                            if st.phase != st.kind.name() {
                                write!(f, " (phase `{}`)", st.phase)?;
                            }
                            if let Some(h) = step_header(
                                st.kind,
                                self.masters(),
                                self.master_stop,
                                self.node_model,
                            ) {
                                write!(f, ": {h}")?;
                            }
                            writeln!(f)?;
                            if let Some(note) = &a.note {
                                writeln!(f, "       note: {note}")?;
                            }
                        }
                    }
                    writeln!(f, "  {:>3}. {}", a.number, a.describe(self.node_model))?;
                }
                Entry::Phase(p) => match p.checks {
                    0 => writeln!(f, "       -> phase `{}`", p.name)?,
                    1 => writeln!(f, "       -> phase `{}` (1 check)", p.name)?,
                    n => writeln!(f, "       -> phase `{}` ({n} checks)", p.name)?,
                },
            }
        }
        writeln!(f)?;
        let finals = self.final_versions();
        let behind: Vec<String> = finals
            .iter()
            .filter(|(_, v)| **v != self.to)
            .map(|(n, v)| format!("{n} runs {v}"))
            .collect();
        if behind.is_empty() {
            write!(f, "end: every Mesos node runs {}", self.to)?;
        } else {
            write!(
                f,
                "end: not every node runs {}: {}",
                self.to,
                behind.join(", ")
            )?;
        }
        writeln!(f)
    }
}
