//! The walk through a plan: each action, and at each phase the logs, the verdicts and the
//! observations, recorded for the report.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use crate::mesos::scheduler::Framework;
use crate::observation::Observations;
use crate::plan::{Entry, PhaseScope, Plan};
use crate::report::{ActionRecord, PhaseRecord, PhaseTiming, Place, Progress, Status, VerdictKind};
use crate::scenario::locate;
use crate::scenario::model::Scenario;

use super::cluster::Cluster;
use super::{probe, workload};

/// Why a must-fail scenario's run stops at its first failed phase.
pub(crate) const MUST_FAIL_STOP: &str =
    "stopped at the first failed phase (a must-fail scenario is judged by its first failure)";

/// The state of one run while it performs the plan.
pub(super) struct Runner<'a> {
    pub(super) scenario: &'a Scenario,
    /// The scenario file and its text: failures point into it.
    pub(super) file: PathBuf,
    pub(super) source: String,
    pub(super) plan: &'a Plan,
    pub(super) cluster: Cluster,
    pub(super) framework: Option<Framework>,
    /// The scenario's own frameworks, once started (`run::frameworks`).
    pub(super) frameworks: Vec<super::frameworks::UserFramework>,
    /// The libmesos-linked framework built for each version frameworks name: version -> file.
    pub(super) libmesos_schedulers: BTreeMap<String, PathBuf>,
    /// Agent hostname -> the ID it registered with at the start (must never change).
    pub(super) agent_ids: BTreeMap<String, String>,
    pub(super) folder: PathBuf,
    pub(super) progress: Progress,
    /// Node -> (start failed, output) for starts that were expected to fail, this phase.
    pub(super) start_outcomes: BTreeMap<String, (bool, String)>,
    /// Nodes whose process is down on purpose (a start that had to fail).
    pub(super) down_by_design: Vec<String>,
    /// What the nodes answered at each phase (`crate::run::probe`).
    pub(super) observations: Observations,
    /// The workload's tasks and what the runner saw of their processes.
    pub(super) work: workload::WorkloadRun,
}

impl Runner<'_> {
    /// Performs every entry of the plan; returns the phases and, if it stopped early, why.
    pub(super) async fn perform(&mut self, image: &str) -> (Vec<PhaseRecord>, Option<String>) {
        let mut phases = Vec::new();
        let mut actions: Vec<ActionRecord> = Vec::new();
        let mut phase_started = Instant::now();
        for entry in &self.plan.entries {
            match entry {
                Entry::Action(action) => {
                    let t = Instant::now();
                    let started_unix = crate::report::unix_now();
                    let mut what = action.describe(self.plan.node_model);
                    let (status, reason) = match self.act(action, image).await {
                        Ok(Outcome::Done) => (Status::Passed, None),
                        Ok(Outcome::DoneAs(really)) => {
                            what = really;
                            (Status::Passed, None)
                        }
                        Ok(Outcome::NoOp(why)) => (Status::NoOp, Some(why)),
                        Ok(Outcome::Skipped(why)) => (Status::Skipped, Some(why)),
                        Err(why) => (Status::Failed, Some(why.to_string())),
                    };
                    let failed = status == Status::Failed;
                    actions.push(ActionRecord {
                        number: action.number,
                        what,
                        status,
                        reason,
                        at: self.action_place(action),
                        seconds: t.elapsed().as_secs_f64(),
                        started_unix,
                    });
                    if failed {
                        let why = actions.last().and_then(|a| a.reason.clone());
                        // The progress line points at this phase's logs: write them.
                        self.collect_logs("(aborted)", phases.len()).await;
                        let record = self
                            .phase_record(
                                "(aborted)",
                                std::mem::take(&mut actions),
                                Vec::new(),
                                phase_started,
                            )
                            .await;
                        self.progress.phase(&record);
                        phases.push(record);
                        return (
                            phases,
                            why.map(|w| format!("action {} failed: {w}", action.number)),
                        );
                    }
                }
                Entry::Phase(phase) => {
                    let t = Instant::now();
                    let logs = self.collect_logs(&phase.name, phases.len()).await;
                    let logs_took = t.elapsed().as_secs_f64();
                    let t = Instant::now();
                    let mut verdicts = self.judge(&phase.name, &logs).await;
                    let judge_took = t.elapsed().as_secs_f64();
                    // An invariant that fails at a phase points at the step that led there.
                    let step_at = match &phase.scope {
                        PhaseScope::Start => self.place_of_from(),
                        PhaseScope::Node { step, .. } | PhaseScope::Step(step) => {
                            self.step_place(*step)
                        }
                    };
                    // (A framework's invariants point at its declaration.)
                    for v in verdicts
                        .iter_mut()
                        .filter(|v| v.kind == VerdictKind::Invariant)
                    {
                        v.at = v.at.take().or_else(|| step_at.clone());
                    }
                    let count = self.plan.phases().len();
                    let t = Instant::now();
                    if let Some(why) = self.settle_resources(&phase.name).await {
                        self.progress.note(&why, t.elapsed());
                    }
                    probe::record(
                        &mut self.observations,
                        &self.cluster,
                        self.scenario,
                        &phase.name,
                        phases.len(),
                        count,
                    )
                    .await;
                    let timing = PhaseTiming {
                        logs: logs_took,
                        judge: judge_took,
                        probe: t.elapsed().as_secs_f64(),
                    };
                    let mut record = self
                        .phase_record(
                            &phase.name,
                            std::mem::take(&mut actions),
                            verdicts,
                            phase_started,
                        )
                        .await;
                    record.timing = timing;
                    self.progress.phase(&record);
                    let failed = record.failed();
                    phases.push(record);
                    // A must-fail scenario is judged by its first failure: what follows it
                    // would only cost time.
                    if failed && self.scenario.expect_failure.is_some() {
                        return (phases, Some(MUST_FAIL_STOP.to_string()));
                    }
                    self.start_outcomes.clear();
                    phase_started = Instant::now();
                }
            }
        }
        let number = self.plan.entries.len() + 1;
        if let Some(mut record) = self.kill_workload(number).await {
            // The end of the workload the scenario declared.
            let at = self.top_level_place("workload");
            for v in &mut record.verdicts {
                v.at = v.at.take().or_else(|| at.clone());
            }
            for a in &mut record.actions {
                a.at = a.at.take().or_else(|| at.clone());
            }
            let failed = record.verdicts.iter().any(|v| v.status == Status::Failed);
            self.progress.phase(&record);
            phases.push(record);
            if failed {
                return (
                    phases,
                    Some("killing the workload at the end failed".to_string()),
                );
            }
        }
        (phases, None)
    }

    pub(super) async fn phase_record(
        &self,
        name: &str,
        actions: Vec<ActionRecord>,
        verdicts: Vec<crate::report::VerdictRecord>,
        started: Instant,
    ) -> PhaseRecord {
        PhaseRecord {
            name: name.to_string(),
            actions,
            verdicts,
            versions: self
                .cluster
                .nodes
                .iter()
                .map(|(n, s)| (n.clone(), s.version))
                .collect(),
            seconds: started.elapsed().as_secs_f64(),
            timing: PhaseTiming::default(),
            logs: self.phase_dir(name),
        }
    }

    pub(super) fn phase_dir(&self, phase: &str) -> PathBuf {
        self.folder
            .join("logs")
            .join(phase.replace(['/', '#'], "_"))
    }

    /// Saves each node's output since the previous phase; returns it by node.
    pub(super) async fn collect_logs(
        &self,
        phase: &str,
        _index: usize,
    ) -> BTreeMap<String, String> {
        let dir = self.phase_dir(phase);
        let _ = std::fs::create_dir_all(&dir);
        // One read per node (a `docker exec`), all at once. ZooKeeper's output is kept with
        // the phase too, though checks read Mesos logs only.
        let names: Vec<&String> = self
            .cluster
            .nodes
            .keys()
            .chain(self.cluster.zookeepers.keys())
            .chain(self.cluster.framework_nodes.iter())
            .collect();
        let texts =
            futures_util::future::join_all(names.iter().map(|n| self.cluster.new_output(n))).await;
        let mut out = BTreeMap::new();
        for (name, text) in names.into_iter().zip(texts) {
            let _ = std::fs::write(dir.join(format!("{name}.log")), &text);
            if self.cluster.nodes.contains_key(name) {
                out.insert(name.clone(), text);
            }
        }
        out
    }
}

impl Runner<'_> {
    /// Where step `index` is written.
    pub(super) fn step_place(&self, index: usize) -> Option<Place> {
        self.place(location(&self.scenario.steps.get(index)?.referenced)?)
    }

    /// Where an action was asked for: its step, or for the actions that start the cluster,
    /// the `topology` (nodes) or the `workload` (the test framework and its tasks).
    fn action_place(&self, action: &crate::plan::Action) -> Option<Place> {
        match (&action.step, &action.kind) {
            (Some(step), _) => self.step_place(step.index),
            (None, crate::plan::ActionKind::StartWorkload { .. }) => {
                self.top_level_place("workload")
            }
            (None, crate::plan::ActionKind::StartFramework { index, .. }) => self
                .scenario
                .frameworks
                .get(*index)
                .and_then(|f| location(&f.referenced))
                .and_then(|l| self.place(l)),
            (None, _) => self.top_level_place("topology"),
        }
    }

    /// Where a top-level key of the scenario is written (its value).
    fn top_level_place(&self, key: &str) -> Option<Place> {
        self.place(locate::top_level_value(&self.source, key)?)
    }

    /// Where `from` is written: the phase `start` is the cluster at that version.
    fn place_of_from(&self) -> Option<Place> {
        self.place(location(&self.scenario.from.referenced)?)
    }

    fn place(&self, (line, column): (usize, usize)) -> Option<Place> {
        Some(Place {
            file: self.file.clone(),
            line,
            column,
        })
    }
}

/// 1-based line and column of a location serde-saphyr recorded (`None` when unknown).
impl Runner<'_> {
    /// Where `field` (its deepest part written) of item `index` of a scenario list (`checks`,
    /// `frameworks`) is in the scenario file; the item's own place when the field is not
    /// written. Runtime failures point there.
    pub(super) fn place_in<T>(
        &self,
        list: &[serde_saphyr::Spanned<T>],
        index: usize,
        field: &[&str],
    ) -> Option<Place> {
        let start = location(&list.get(index)?.referenced)?;
        let end = list.get(index + 1).and_then(|x| location(&x.referenced));
        let (line, column) = (1..=field.len())
            .rev()
            .find_map(|n| locate::field_value(&self.source, start, end, &field[..n]))
            .unwrap_or(start);
        Some(Place {
            file: self.file.clone(),
            line,
            column,
        })
    }
}

pub(super) fn location(l: &serde_saphyr::Location) -> Option<(usize, usize)> {
    (l.line() > 0).then(|| (l.line() as usize, l.column() as usize))
}

/// What an action came to.
pub(super) enum Outcome {
    Done,
    /// Done, but not quite as the plan describes it (the report shows this instead).
    DoneAs(String),
    NoOp(String),
    Skipped(String),
}
