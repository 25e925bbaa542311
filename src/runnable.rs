//! Whether `run` can run a valid scenario on this machine, and what it would skip.
//!
//! Valid is not the same as runnable: the format describes upgrades the runner cannot make
//! here (versions without an image, ZooKeeper ensembles, vendor modules). Whether an
//! `upstream` scenario's images are present or can be pulled takes Docker: `run` finds out. `check`, `plan` and `list`
//! say so up front from this one pure function, and `run` refuses with the same reason,
//! instead of the user finding out minutes into a run.

use std::fmt;

use crate::images;
use crate::plan::{ActionKind, Plan};
use crate::scenario::model::{Distribution, Scenario};

/// What `run` would make of a valid scenario here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runnability {
    /// `Ok` when `run` can run it here; otherwise why not (every reason, joined by `; `).
    pub runs_here: Result<(), String>,
    /// The steps and declarations `run` would skip or perform as no-ops, in file order.
    /// Empty when the scenario cannot run here: then nothing of it runs.
    pub skipped: Vec<Skip>,
}

/// One step or declaration of the scenario that `run` does not perform as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    /// The step (`step 4 reconfigure_agent_cgroups_mounts`) or declaration (`modules[0] x`).
    pub what: String,
    /// Line in the scenario file (1-based), when known.
    pub line: Option<u64>,
    /// Whether it is skipped (reported as such) or done as a no-op.
    pub kind: SkipKind,
    /// Why.
    pub reason: String,
}

/// How `run` reports a step it does not perform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipKind {
    /// Not performed; the run's report says `skipped` with the reason.
    Skipped,
    /// Nothing to do in the project's node model; the report says `no-op`.
    NoOp,
}

impl fmt::Display for SkipKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SkipKind::Skipped => "skipped",
            SkipKind::NoOp => "no-op",
        })
    }
}

impl fmt::Display for Skip {
    /// `line 14, step 4 reconfigure_agent_cgroups_mounts: skipped: <reason>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}, ")?;
        }
        write!(f, "{}: {}: {}", self.what, self.kind, self.reason)
    }
}

impl Runnability {
    /// `runs here: yes` or `runs here: no: <reason>`.
    pub fn verdict(&self) -> String {
        match &self.runs_here {
            Ok(()) => "runs here: yes".to_string(),
            Err(why) => format!("runs here: no: {why}"),
        }
    }

    /// The verdict and every skip on one line (for `check`).
    pub fn one_line(&self) -> String {
        let mut text = self.verdict();
        if !self.skipped.is_empty() {
            let skips: Vec<String> = self.skipped.iter().map(Skip::to_string).collect();
            text.push_str(&format!("; `run` would not perform: {}", skips.join("; ")));
        }
        text
    }

    /// Whether `check` has something to say: the scenario cannot run, or has skips.
    pub fn is_notable(&self) -> bool {
        self.runs_here.is_err() || !self.skipped.is_empty()
    }
}

/// Why a step's action is not performed by `run`, if it is not (the reasons `run` reports).
pub fn action_skip(kind: &ActionKind) -> Option<(SkipKind, String)> {
    match kind {
        ActionKind::ReconfigureCgroupsMounts => Some((
            SkipKind::Skipped,
            "the project's nodes run with posix isolation; cgroups mounts cannot be reconfigured in them".to_string(),
        )),
        ActionKind::SetFrameworkCheckpoint => Some((
            SkipKind::Skipped,
            "the test framework always subscribes with its configured checkpoint setting"
                .to_string(),
        )),
        ActionKind::InstallBinaries => Some((
            SkipKind::NoOp,
            "every node holds the builds of all the scenario's versions; each runs the new one from its next restart".to_string(),
        )),
        // A plan-level no-op (no modules declared, no workload) is the scenario's own
        // content, not something `run` leaves out.
        _ => None,
    }
}

/// Whether and how `run` can run `scenario` (already validated) with `plan` here. Pure.
pub fn runnability(scenario: &Scenario, plan: &Plan) -> Runnability {
    let reasons = refusals(scenario);
    if !reasons.is_empty() {
        return Runnability {
            runs_here: Err(reasons.join("; ")),
            skipped: Vec::new(),
        };
    }
    let mut skipped: Vec<Skip> = Vec::new();
    let mut seen_steps = Vec::new();
    for action in plan.actions() {
        let (Some(step), Some((kind, reason))) = (&action.step, action_skip(&action.kind)) else {
            continue;
        };
        if seen_steps.contains(&step.index) {
            continue;
        }
        seen_steps.push(step.index);
        skipped.push(Skip {
            what: format!("step {} {}", step.index + 1, step.kind),
            line: (step.line > 0).then_some(step.line),
            kind,
            reason,
        });
    }
    skipped.sort_by_key(|s| s.line.unwrap_or(0));
    Runnability {
        runs_here: Ok(()),
        skipped,
    }
}

/// Why `run` refuses the scenario here (empty when it does not).
fn refusals(s: &Scenario) -> Vec<String> {
    let mut reasons = Vec::new();
    let upstream = s.distribution.value == Distribution::Upstream;
    if upstream {
        // Whether the images are present or can be pulled is known only by asking Docker
        // (`run` does, and says which reference failed); a version without any image named
        // cannot run anywhere.
        let mut without: Vec<String> = Vec::new();
        for v in [s.from_version(), s.to_version()] {
            let named = s.images.get(&v.to_string());
            if named.is_none_or(|r| r.value.is_empty()) && !without.contains(&v.to_string()) {
                without.push(v.to_string());
            }
        }
        if !without.is_empty() {
            reasons.push(format!(
                "no image is named for Mesos {} (no public one is known: name one under `images:` or pass `run --image VERSION=REF`)",
                without.join(", ")
            ));
        }
    }
    let zookeepers = s.topology.zookeeper_count();
    let masters = s.topology.masters.value;
    if zookeepers > 1 {
        reasons.push(format!(
            "the topology has {zookeepers} ZooKeeper nodes; `run` builds exactly one (ZooKeeper ensembles are not built yet, issue 7)"
        ));
    }
    if masters > 1 && zookeepers == 0 {
        // Invalid, and reported by validation; said here too so that no caller runs it.
        reasons.push(format!(
            "{masters} masters need a ZooKeeper node to elect a leader"
        ));
    }
    // Builds taken from images are real `mesos-master` programs: HA is theirs.
    if !upstream && (masters > 1 || zookeepers > 0) {
        let ha = images::versions_with_ha_masters();
        let unsupported: Vec<String> = [s.from_version(), s.to_version()]
            .into_iter()
            .filter(|v| !ha.iter().any(|h| v == h))
            .map(|v| v.to_string())
            .collect();
        if !unsupported.is_empty() {
            reasons.push(format!(
                "highly available masters are built for Mesos {} only, not {} (issue 7, docs/zookeeper.md)",
                ha.join(", "),
                unsupported.join(", ")
            ));
        }
    }
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::plan;

    fn scenario(yaml: &str) -> Scenario {
        serde_saphyr::from_str::<Scenario>(yaml).expect("test scenario parses")
    }

    fn runnability_of(yaml: &str) -> Runnability {
        let s = scenario(yaml);
        runnability(&s, &plan(&s))
    }

    const SIX: &str = "order: inferred\nsteps: [rebuild_modules, upgrade_masters, upgrade_agents, upgrade_schedulers, restart_schedulers, upgrade_executors]\n";

    fn local(topology: &str) -> String {
        format!("format: 1\nname: t\nfrom: 1.10.0\nto: 1.11.0\ndistribution: local\ntopology: {topology}\nworkload: {{ tasks: 1 }}\n{SIX}")
    }

    #[test]
    fn a_plain_local_scenario_runs_without_skips() {
        let r = runnability_of(&local("{ masters: 1, agents: 2 }"));
        assert_eq!(r.runs_here, Ok(()));
        assert_eq!(
            r.skipped,
            Vec::new(),
            "rebuild_modules without modules is not a skip"
        );
        assert_eq!(r.one_line(), "runs here: yes");
        assert!(!r.is_notable());
    }

    #[test]
    fn upstream_without_images_and_ensembles_are_refused_with_every_reason() {
        let ensemble = local("{ zookeeper: 3, masters: 3, agents: 1 }");
        let upstream = ensemble.replace("distribution: local", "distribution: upstream");
        let r = runnability_of(&upstream);
        let why = r.runs_here.unwrap_err();
        assert!(
            why.starts_with("no image is named for Mesos 1.10.0, 1.11.0 (no public one is known:"),
            "{why}"
        );
        assert!(why.contains("the topology has 3 ZooKeeper nodes"), "{why}");
        assert!(r.skipped.is_empty());
        let named = local("{ zookeeper: 1, masters: 3, agents: 1 }").replace(
            "distribution: local",
            "distribution: upstream\nimages: { 1.10.0: [a:1], 1.11.0: [b:1] }",
        );
        assert_eq!(
            runnability_of(&named).runs_here,
            Ok(()),
            "HA is the images' own"
        );
        let old = ensemble
            .replace("from: 1.10.0", "from: 1.4.3")
            .replace("to: 1.11.0", "to: 1.12.0");
        let why = runnability_of(&old).runs_here.unwrap_err();
        assert!(
            why.starts_with("the topology has 3 ZooKeeper nodes; `run` builds exactly one"),
            "{why}"
        );
        assert!(
            why.ends_with("only, not 1.12.0 (issue 7, docs/zookeeper.md)"),
            "{why}"
        );
    }

    #[test]
    fn one_zookeeper_runs_for_ha_versions_only() {
        let r = runnability_of(&local("{ zookeeper: 1, masters: 3, agents: 1 }"));
        assert_eq!(r.runs_here, Ok(()));
        let yaml =
            local("{ zookeeper: 1, masters: 1, agents: 1 }").replace("from: 1.10.0", "from: 1.3.0");
        let why = runnability_of(&yaml).runs_here.unwrap_err();
        assert!(
            why.starts_with("highly available masters are built for Mesos 1.4.3,"),
            "{why}"
        );
        assert!(why.contains("only, not 1.3.0 ("), "{why}");
    }

    #[test]
    fn skipped_steps_are_named_with_their_lines_and_modules_run() {
        let yaml = "format: 1\nname: t\nfrom: 1.10.0\nto: 1.11.0\ndistribution: local\n\
            topology: { masters: 1, agents: 2 }\nworkload: { tasks: 1 }\n\
            order: { deviates: { reason: r } }\nsteps:\n\
            \x20 - rebuild_modules\n\
            \x20 - install_agent_binaries\n\
            \x20 - reconfigure_agent_cgroups_mounts\n\
            \x20 - reboot_agents\n\
            \x20 - set_framework_checkpoint\n\
            \x20 - restart_schedulers\n\
            modules:\n\
            \x20 - { name: org_upgrade_harness_touch, kind: Anonymous, roles: [agents], fixture: touch, proof: { file: /tmp/p } }\n";
        let r = runnability_of(yaml);
        assert_eq!(r.runs_here, Ok(()));
        let lines: Vec<String> = r.skipped.iter().map(Skip::to_string).collect();
        assert_eq!(
            lines,
            [
                "line 11, step 2 install_agent_binaries: no-op: every node holds the builds of all the scenario's versions; each runs the new one from its next restart",
                "line 12, step 3 reconfigure_agent_cgroups_mounts: skipped: the project's nodes run with posix isolation; cgroups mounts cannot be reconfigured in them",
                "line 14, step 5 set_framework_checkpoint: skipped: the test framework always subscribes with its configured checkpoint setting",
            ]
        );
        assert!(r.is_notable());
        assert!(r.one_line().starts_with(
            "runs here: yes; `run` would not perform: line 11, step 2 install_agent_binaries: no-op:"
        ));
    }
}
