//! Running a scenario for real: a cluster in containers at `from`, every action of the plan
//! in order, and after every phase the invariants and the scenario's checks.
//!
//! The one place where the Docker layer, the Mesos module, plans and checks meet. Design
//! notes: `docs/design.md`.

pub mod cluster;
mod judge;
mod workload;

pub use workload::TaskFaults;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::docker::{self, ImageSpec};
use crate::images::{self, BuildOptions};
use crate::mesos::client::MesosClient;
use crate::mesos::readiness::{self, ExpectedAgent};
use crate::mesos::scheduler::Framework;
use crate::plan::{self, ActionKind, Entry, NodeImage, NodeRole, Plan};
use crate::report::{ActionRecord, PhaseRecord, Progress, RunReport, Status};
use crate::scenario::{self, model::Distribution, model::MasterStop, model::Scenario};

use cluster::Cluster;

/// How long a master may take to lead after its process starts.
const MASTER_READY: Duration = Duration::from_secs(60);
/// How long agents may take to (re-)register after their process starts.
const AGENT_READY: Duration = Duration::from_secs(60);
/// How long a start that must fail may take to exit.
const FAILING_START: Duration = Duration::from_secs(20);

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Leave the cluster up when the run fails, and print how to reach it.
    pub keep: bool,
    /// Where run folders go (`target/upgrade-harness`).
    pub out_root: PathBuf,
    /// Where Mesos builds are cached.
    pub build: BuildOptions,
    /// Print one line per phase on stderr.
    pub progress: bool,
    /// Faults injected into the workload (regression tests of issue 6).
    pub task_faults: TaskFaults,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            keep: false,
            out_root: PathBuf::from("target/upgrade-harness"),
            build: BuildOptions::default(),
            progress: true,
            task_faults: TaskFaults::default(),
        }
    }
}

/// Why a run could not give a verdict.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The scenario file is invalid (exit 2).
    #[error("{}", .0.render_plain(100))]
    Invalid(scenario::diagnostic::Diagnostics),
    /// The scenario cannot run on this machine (reported as skipped, never passed).
    #[error("cannot run here: {0}")]
    NotRunnable(String),
    /// Docker unreachable, an image build failed, a node could not be created (exit 3).
    #[error("{0}")]
    Infrastructure(String),
    /// Ctrl-C or SIGTERM; everything created was removed.
    #[error("interrupted by {0:?}; the run's containers and network were removed")]
    Interrupted(docker::ShutdownSignal),
}

/// Why a scenario cannot run here, if it cannot (pure: used by the test harness too).
pub fn not_runnable_reason(s: &Scenario) -> Option<String> {
    if s.distribution.value == Distribution::Upstream {
        return Some("upstream images cannot be pulled on this machine".to_string());
    }
    let zookeepers = s.topology.zookeeper.as_ref().map_or(0, |z| z.value);
    if s.topology.masters.value > 1 || zookeepers > 0 {
        if zookeepers != 1 {
            return Some(format!(
                "{} masters need exactly one ZooKeeper node here (the topology has {zookeepers}); ZooKeeper ensembles are not built yet (issue 7)",
                s.topology.masters.value
            ));
        }
        let unsupported: Vec<&str> = [s.from.value.as_str(), s.to.value.as_str()]
            .into_iter()
            .filter(|v| images::versions_with_ha_masters().iter().all(|h| h != v))
            .collect();
        if !unsupported.is_empty() {
            return Some(format!(
                "highly available masters are built for Mesos {} only, not {} (issue 7, docs/zookeeper.md)",
                images::versions_with_ha_masters().join(", "),
                unsupported.join(", ")
            ));
        }
    }
    None
}

/// Loads, plans and runs the scenario at `path`. The report says what passed, failed and
/// was skipped; `Err` only when no verdict is possible.
pub async fn run_file(path: &Path, opts: &RunOptions) -> Result<RunReport, RunError> {
    let scenario = scenario::load::load(path).map_err(RunError::Invalid)?;
    if let Some(why) = not_runnable_reason(&scenario) {
        return Err(RunError::NotRunnable(why));
    }
    let plan = plan::plan(&scenario);
    let progress = Progress::new(opts.progress);

    // Docker first: an unreachable engine is one sentence, before minutes of builds.
    let engine = docker::Engine::connect()
        .await
        .map_err(|e| RunError::Infrastructure(e.to_string()))?;
    let t = Instant::now();
    let image = prepare_images(&engine, &plan, opts).await?;
    progress.note("images ready", t.elapsed());

    // What dead runs left behind goes first; live and kept runs are never touched.
    docker::sweep(&engine)
        .await
        .map_err(|e| RunError::Infrastructure(e.to_string()))?;
    let node_init = docker::node_init::build(&opts.build.cache_dir.join("node-init"))
        .map_err(|e| RunError::Infrastructure(e.to_string()))?;
    let mut run_opts = docker::RunOptions::new(node_init);
    // A kept run is labelled so that sweeps spare it; it is removed below unless it failed.
    run_opts.keep = opts.keep;
    let run = docker::Run::create(&engine, run_opts)
        .await
        .map_err(|e| RunError::Infrastructure(e.to_string()))?;
    let run_id = run.id().to_string();
    let folder = opts
        .out_root
        .join(format!("{}-{}", scenario.name.value, run_id));
    std::fs::create_dir_all(&folder)
        .map_err(|e| RunError::Infrastructure(format!("creating {}: {e}", folder.display())))?;

    let client = MesosClient::new().map_err(|e| RunError::Infrastructure(e.to_string()))?;
    let mut cluster = Cluster::with_masters(run, client, scenario.topology.masters.value as usize);
    cluster.graceful_master_stop = scenario.topology.master_stop == MasterStop::Graceful;
    let mut runner = Runner {
        scenario: &scenario,
        plan: &plan,
        cluster,
        framework: None,
        agent_ids: BTreeMap::new(),
        folder: folder.clone(),
        progress,
        start_outcomes: BTreeMap::new(),
        down_by_design: Vec::new(),
        observations: crate::observe::Observations::default(),
        work: workload::WorkloadRun::new(opts.task_faults.clone()),
    };
    let started = Instant::now();
    let work = runner.perform(&image);
    let outcome = docker::until_shutdown(work).await;
    let (phases, aborted) = match outcome {
        Ok(result) => result,
        Err(signal) => {
            let _ = runner.cluster.run.cleanup().await;
            return Err(RunError::Interrupted(signal));
        }
    };
    let report = RunReport {
        scenario: scenario.name.value.clone(),
        file: path.to_path_buf(),
        run_id: run_id.clone(),
        from: scenario.from.value.clone(),
        to: scenario.to.value.clone(),
        phases,
        aborted,
        seconds: started.elapsed().as_secs_f64(),
        observations: std::mem::take(&mut runner.observations),
    };
    report
        .write(&folder)
        .map_err(|e| RunError::Infrastructure(format!("writing the result: {e}")))?;
    crate::observe::write_run_folder(&folder, &scenario, &report.observations)
        .map_err(|e| RunError::Infrastructure(format!("writing the observations: {e}")))?;
    if let Some(fw) = runner.framework.take() {
        let _ = fw.teardown().await;
    }
    if opts.keep && !report.passed() {
        eprintln!(
            "keeping the cluster of run {run_id} (network {}, subnet {}): remove it with `upgrade-harness clean {run_id}`",
            runner.cluster.run.network_name(),
            runner.cluster.run.subnet()
        );
        for name in runner.cluster.nodes.keys() {
            if let Ok(t) = runner.cluster.target(name) {
                eprintln!("  {name}: {}", t.base_url);
            }
        }
    } else {
        runner
            .cluster
            .run
            .cleanup()
            .await
            .map_err(|e| RunError::Infrastructure(format!("cleaning up run {run_id}: {e}")))?;
    }
    Ok(report)
}

/// Builds (or finds) every version the plan needs and the node image holding them (also used
/// by tests that build a cluster without a whole run, e.g. `tests/ha_quorum.rs`).
pub async fn prepare_images(
    engine: &docker::Engine,
    plan: &Plan,
    opts: &RunOptions,
) -> Result<String, RunError> {
    let mut versions: Vec<String> = Vec::new();
    for node in &plan.nodes {
        if let NodeImage::Host { builds } = &node.image {
            for v in builds {
                if !versions.contains(v) {
                    versions.push(v.clone());
                }
            }
        }
    }
    let build_opts = opts.build.clone();
    let builds = tokio::task::spawn_blocking(move || {
        versions
            .iter()
            .map(|v| images::build_version(v, &build_opts))
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    .map_err(|e| RunError::Infrastructure(format!("build task failed: {e}")))?
    .map_err(|e| RunError::Infrastructure(format!("image build failed: {e}")))?;
    let versions: Vec<String> = builds.iter().map(|b| b.version.clone()).collect();
    let executor_builds = [plan.from.clone(), plan.to.clone()];
    let (harness, links) = workload::task_helper_files(
        &versions,
        &executor_builds,
        &opts.build.cache_dir.join("task-helpers"),
    )
    .map_err(RunError::Infrastructure)?;
    let spec = ImageSpec {
        repository: "upgrade-harness/node".to_string(),
        roots: zookeeper_root(plan, opts)
            .await?
            .into_iter()
            .chain(builds.iter().map(|b| b.rootfs.clone()))
            .collect(),
        files: vec![harness],
        links,
        labels: BTreeMap::from([(
            "upgrade-harness.versions".to_string(),
            builds
                .iter()
                .map(|b| b.version.as_str())
                .collect::<Vec<_>>()
                .join(","),
        )]),
        ..ImageSpec::default()
    };
    let image = docker::build_image(engine, &spec)
        .await
        .map_err(|e| RunError::Infrastructure(format!("image build failed: {e}")))?;
    Ok(image.reference)
}

/// The ZooKeeper root filesystem, when the plan has ZooKeeper nodes (merged into the node
/// image: every node can run it, only ZooKeeper nodes do).
async fn zookeeper_root(plan: &Plan, opts: &RunOptions) -> Result<Option<PathBuf>, RunError> {
    if !plan.nodes.iter().any(|n| n.role == NodeRole::Zookeeper) {
        return Ok(None);
    }
    let build_opts = opts.build.clone();
    let build = tokio::task::spawn_blocking(move || images::build_zookeeper(&build_opts))
        .await
        .map_err(|e| RunError::Infrastructure(format!("build task failed: {e}")))?
        .map_err(|e| RunError::Infrastructure(format!("ZooKeeper build failed: {e}")))?;
    Ok(Some(build.rootfs))
}

/// The state of one run while it performs the plan.
struct Runner<'a> {
    scenario: &'a Scenario,
    plan: &'a Plan,
    cluster: Cluster,
    framework: Option<Framework>,
    /// Agent hostname -> the ID it registered with at the start (must never change).
    agent_ids: BTreeMap<String, String>,
    folder: PathBuf,
    progress: Progress,
    /// Node -> (start failed, output) for starts that were expected to fail, this phase.
    start_outcomes: BTreeMap<String, (bool, String)>,
    /// Nodes whose process is down on purpose (a start that had to fail).
    down_by_design: Vec<String>,
    /// What the nodes answered at each phase (`crate::observe`).
    observations: crate::observe::Observations,
    /// The workload's tasks and what the runner saw of their processes.
    work: workload::WorkloadRun,
}

impl Runner<'_> {
    /// Performs every entry of the plan; returns the phases and, if it stopped early, why.
    async fn perform(&mut self, image: &str) -> (Vec<PhaseRecord>, Option<String>) {
        let mut phases = Vec::new();
        let mut actions: Vec<ActionRecord> = Vec::new();
        let mut phase_started = Instant::now();
        for entry in &self.plan.entries {
            match entry {
                Entry::Action(action) => {
                    let t = Instant::now();
                    let mut what = describe_action(action);
                    let (status, reason) = match self.act(action, image).await {
                        Ok(Outcome::Done) => (Status::Passed, None),
                        Ok(Outcome::DoneAs(really)) => {
                            what = really;
                            (Status::Passed, None)
                        }
                        Ok(Outcome::NoOp(why)) => (Status::NoOp, Some(why)),
                        Ok(Outcome::Skipped(why)) => (Status::Skipped, Some(why)),
                        Err(why) => (Status::Failed, Some(why)),
                    };
                    let failed = status == Status::Failed;
                    actions.push(ActionRecord {
                        number: action.number,
                        what,
                        status,
                        reason,
                        seconds: t.elapsed().as_secs_f64(),
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
                    let logs = self.collect_logs(&phase.name, phases.len()).await;
                    let verdicts = self.judge(&phase.name, &logs).await;
                    let count = self.plan.phases().len();
                    crate::observe::record(
                        &mut self.observations,
                        &self.cluster,
                        self.scenario,
                        &phase.name,
                        phases.len(),
                        count,
                    )
                    .await;
                    let record = self
                        .phase_record(
                            &phase.name,
                            std::mem::take(&mut actions),
                            verdicts,
                            phase_started,
                        )
                        .await;
                    self.progress.phase(&record);
                    phases.push(record);
                    self.start_outcomes.clear();
                    phase_started = Instant::now();
                }
            }
        }
        let number = self.plan.entries.len() + 1;
        if let Some(record) = self.kill_workload(number).await {
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

    async fn phase_record(
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
                .map(|(n, s)| (n.clone(), s.version.clone()))
                .collect(),
            seconds: started.elapsed().as_secs_f64(),
            logs: self.phase_dir(name),
        }
    }

    fn phase_dir(&self, phase: &str) -> PathBuf {
        self.folder
            .join("logs")
            .join(phase.replace(['/', '#'], "_"))
    }

    /// Saves each node's output since the previous phase; returns it by node.
    async fn collect_logs(&self, phase: &str, _index: usize) -> BTreeMap<String, String> {
        let dir = self.phase_dir(phase);
        let _ = std::fs::create_dir_all(&dir);
        let mut out = BTreeMap::new();
        for name in self.cluster.nodes.keys() {
            let text = self.cluster.new_output(name).await;
            let _ = std::fs::write(dir.join(format!("{name}.log")), &text);
            out.insert(name.clone(), text);
        }
        // ZooKeeper's output is kept with the phase, though checks read Mesos logs only.
        for name in self.cluster.zookeepers.keys() {
            let text = self.cluster.new_output(name).await;
            let _ = std::fs::write(dir.join(format!("{name}.log")), &text);
        }
        out
    }

    /// Performs one action of the plan.
    async fn act(&mut self, action: &plan::Action, image: &str) -> Result<Outcome, String> {
        let node = action.node.clone().unwrap_or_default();
        let overrides = action.overrides.clone().unwrap_or_default();
        match &action.kind {
            ActionKind::StartNode => {
                let role = action.role.ok_or("start action without a role")?;
                if role == NodeRole::Zookeeper {
                    let took = self.cluster.create_zookeeper(&node, image).await?;
                    self.progress.note(&format!("{node}: ZooKeeper answers imok"), took);
                    return Ok(Outcome::Done);
                }
                let version = action
                    .running
                    .as_ref()
                    .map(|v| v.after.clone())
                    .ok_or("start action without a version")?;
                self.cluster.create_node(&node, role, image, &version).await?;
                self.after_node_created(&node).await?;
                self.cluster.start_mesos(&node, &version, &overrides).await?;
                self.wait_ready_after_start(&node, role).await?;
                Ok(Outcome::Done)
            }
            ActionKind::StartWorkload { tasks, checkpoint } => self.start_workload(*tasks, *checkpoint).await,
            ActionKind::ReplaceProcess | ActionKind::RestartProcess | ActionKind::RestartWithFlags => {
                let version = action
                    .running
                    .as_ref()
                    .map(|v| v.after.clone())
                    .ok_or("restart action without a version")?;
                // With ZooKeeper the run picks the master (non-leaders first): the report
                // says which one this action replaced.
                let replaced = self.ha_master_in_turn(action, &node, &version);
                let led = self.cluster.is_ha() && self.cluster.leader.as_deref() == Some(&replaced);
                let really = (replaced != node || led).then(|| {
                    let turn = if led { "the leader, last" } else { "a non-leader" };
                    format!(
                        "{} (plan's turn of {node}; {turn})",
                        describe_action(action).replacen(&node, &replaced, 1)
                    )
                });
                self.restart(action, &replaced, &version, &overrides, false)
                    .await
                    .map_err(|e| match &really {
                        Some(really) => format!("{really}: {e}"),
                        None => e,
                    })?;
                Ok(really.map_or(Outcome::Done, Outcome::DoneAs))
            }
            ActionKind::RebootNode => {
                let version = action
                    .running
                    .as_ref()
                    .map(|v| v.after.clone())
                    .ok_or("reboot action without a version")?;
                self.restart(action, &node, &version, &overrides, true).await
            }
            ActionKind::InstallBinaries => Ok(Outcome::NoOp(format!(
                "every node holds the builds of all the scenario's versions; {node} runs the new one from its next restart"
            ))),
            ActionKind::ReconfigureCgroupsMounts => Ok(Outcome::Skipped(
                "the project's nodes run with posix isolation; cgroups mounts cannot be reconfigured in them".to_string(),
            )),
            ActionKind::SchedulerUpgrade | ActionKind::SchedulerFailover => {
                let fw = self.framework.as_ref().ok_or("no test framework is running")?;
                let id = fw.id();
                let before = fw.subscriptions();
                fw.failover(None)
                    .await
                    .map_err(|e| format!("framework failover: {e}"))?;
                fw.wait_resubscribed(before)
                    .await
                    .map_err(|e| format!("framework {id} did not re-subscribe: {e}"))?;
                if fw.id() != id {
                    return Err(format!("framework re-subscribed as {} instead of {id}", fw.id()));
                }
                let leader = self.cluster.target(&self.cluster.masters()[0])?;
                readiness::wait_framework_active(&self.cluster.client, &leader, &id, MASTER_READY)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(Outcome::Done)
            }
            ActionKind::SetFrameworkCheckpoint => Ok(Outcome::Skipped(
                "the test framework always subscribes with its configured checkpoint setting".to_string(),
            )),
            ActionKind::ExecutorUpgrade => self.upgrade_executors().await,
            ActionKind::RebuildModules { modules } => Ok(Outcome::Skipped(format!(
                "vendor modules ({}) cannot be built yet",
                modules.join(", ")
            ))),
            ActionKind::NoOp { reason } => Ok(Outcome::NoOp(reason.clone())),
        }
    }

    /// Stops (or reboots) a node's Mesos process and starts `version` in its place, then
    /// waits until the cluster has it back with its identity.
    async fn restart(
        &mut self,
        action: &plan::Action,
        node: &str,
        version: &str,
        overrides: &plan::FlagOverrides,
        reboot: bool,
    ) -> Result<Outcome, String> {
        let role = action.role.ok_or("restart action without a role")?;
        let baseline = match role {
            NodeRole::Agent => {
                let leader = self.cluster.target(&self.cluster.masters()[0])?;
                Some(
                    readiness::registration_baseline(&self.cluster.client, &leader)
                        .await
                        .map_err(|e| format!("reading registration metrics: {e}"))?,
                )
            }
            _ => None,
        };
        let stopping = Instant::now();
        if reboot {
            self.cluster.reboot(node).await?;
        } else {
            self.cluster.stop_mesos(node).await?;
        }
        if role == NodeRole::Master
            && self.cluster.is_ha()
            && self.cluster.leader.as_deref() == Some(node)
        {
            self.await_failover(node, stopping).await?;
        }
        self.note_agent_restart(node, reboot);
        self.while_agent_down(node).await?;
        self.cluster.start_mesos(node, version, overrides).await?;
        self.down_by_design.retain(|n| n != node);
        if self.start_must_fail(action, node) {
            let exited = self.cluster.exited_within(node, FAILING_START).await?;
            let output = self
                .cluster
                .run
                .process_log(node, cluster::PROCESS, 0)
                .await
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            self.start_outcomes
                .insert(node.to_string(), (exited, output));
            if exited {
                self.down_by_design.push(node.to_string());
                return Ok(Outcome::Done);
            }
        }
        match role {
            NodeRole::Master if self.cluster.is_ha() => self.wait_ha_master_back(node).await?,
            NodeRole::Master => {
                let target = self.cluster.target(node)?;
                readiness::wait_master_elected(&self.cluster.client, &target, MASTER_READY)
                    .await
                    .map_err(|e| e.to_string())?;
                let within =
                    self.cluster.tuning.agent_reregistration_bound() + Duration::from_secs(10);
                let ids = self.up_agent_ids();
                if let Err(e) = readiness::wait_agents_reregistered_after_master(
                    &self.cluster.client,
                    &target,
                    &ids,
                    within,
                )
                .await
                {
                    return Err(format!("{e}{}", self.master_refusals(node).await));
                }
            }
            NodeRole::Agent => {
                let leader = self.cluster.target(&self.cluster.masters()[0])?;
                let agent = self.cluster.target(node)?;
                let id = self
                    .agent_ids
                    .get(node)
                    .cloned()
                    .ok_or_else(|| format!("{node} never registered"))?;
                readiness::wait_agent_reregistered(
                    &self.cluster.client,
                    &leader,
                    &agent,
                    &id,
                    baseline.expect("agents have a baseline"),
                    AGENT_READY,
                )
                .await
                .map_err(|e| e.to_string())?;
            }
            NodeRole::Zookeeper => {}
        }
        Ok(Outcome::Done)
    }

    /// Why the master refused re-registrations, from its log (`; the master logged: ...`),
    /// or nothing. Names the 1.4 `mesos-executor` bug ("Task has an invalid ExecutorID").
    pub(super) async fn master_refusals(&self, master: &str) -> String {
        let Ok(log) = self
            .cluster
            .run
            .process_log(master, cluster::PROCESS, 0)
            .await
        else {
            return String::new();
        };
        let log = String::from_utf8_lossy(&log);
        let lines: Vec<String> = readiness::refusal_lines(&log);
        if lines.is_empty() {
            return String::new();
        }
        format!("; the master logged: {}", lines.join(" | "))
    }

    /// Whether a `fails_to_start` check at this action's phases targets `node`.
    fn start_must_fail(&self, action: &plan::Action, node: &str) -> bool {
        let Some(step) = &action.step else {
            return false;
        };
        let node_phase = format!("{}/{node}", step.phase);
        let role = self.cluster.nodes.get(node).map(|n| n.role);
        self.scenario.checks.iter().any(|c| {
            let c = &c.value;
            c.fails_to_start.is_some()
                && (c.after.value == node_phase || c.after.value == step.phase)
                && judge::targets(&c.on.value, node, role)
        })
    }

    /// Agent IDs of the agents that should be up.
    fn up_agent_ids(&self) -> BTreeMap<String, String> {
        self.agent_ids
            .iter()
            .filter(|(n, _)| !self.down_by_design.contains(n))
            .map(|(n, id)| (n.clone(), id.clone()))
            .collect()
    }

    /// After a node's first start: a master leads; an agent registers (its ID is kept).
    async fn wait_ready_after_start(&mut self, node: &str, role: NodeRole) -> Result<(), String> {
        match role {
            NodeRole::Master if self.cluster.is_ha() => {
                // A master cannot recover the registry before a quorum of them runs: until
                // the last one started, each must only answer; then exactly one leads.
                self.wait_answers(node).await?;
                if self.cluster.masters().len() >= self.cluster.planned_masters {
                    self.cluster.elect(MASTER_READY).await?;
                }
                Ok(())
            }
            NodeRole::Master => {
                let target = self.cluster.target(node)?;
                readiness::wait_master_elected(&self.cluster.client, &target, MASTER_READY)
                    .await
                    .map_err(|e| e.to_string())
            }
            NodeRole::Agent => {
                let leader = self.cluster.target(&self.cluster.masters()[0])?;
                let ids = readiness::wait_agents_active(
                    &self.cluster.client,
                    &leader,
                    &[ExpectedAgent {
                        hostname: node.to_string(),
                        id: None,
                    }],
                    AGENT_READY,
                )
                .await
                .map_err(|e| e.to_string())?;
                let id = ids
                    .get(node)
                    .cloned()
                    .ok_or_else(|| format!("{node} is active but has no ID in /master/state"))?;
                self.agent_ids.insert(node.to_string(), id);
                Ok(())
            }
            NodeRole::Zookeeper => Ok(()),
        }
    }

    /// With ZooKeeper, which master an upgrade action replaces: the plan names masters in
    /// order, the run takes them non-leaders first and the leader last. Restarts without a
    /// version change keep the plan's node.
    fn ha_master_in_turn(&self, action: &plan::Action, node: &str, version: &str) -> String {
        let changes = action.running.as_ref().is_some_and(|v| v.changes());
        if !self.cluster.is_ha() || action.role != Some(NodeRole::Master) || !changes {
            return node.to_string();
        }
        let pending: Vec<String> = self
            .cluster
            .masters()
            .into_iter()
            .filter(|m| {
                self.cluster
                    .nodes
                    .get(m)
                    .is_some_and(|n| n.version != version)
            })
            .collect();
        let leader = self.cluster.leader.clone();
        pending
            .iter()
            .find(|m| Some(*m) != leader.as_ref())
            .or(pending.first())
            .cloned()
            .unwrap_or_else(|| node.to_string())
    }

    /// Waits until `node` answers `/metrics/snapshot`.
    async fn wait_answers(&self, node: &str) -> Result<(), String> {
        let target = self.cluster.target(node)?;
        let client = &self.cluster.client;
        readiness::poll_until(MASTER_READY, || async {
            client
                .metrics_snapshot(&target.base_url)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|seen| format!("{} does not answer /metrics/snapshot: {seen}", target.name))
    }

    /// The leader `old` was stopped at `since`: waits until another master leads, records
    /// the failover time, and waits until the agents re-registered with the new leader.
    async fn await_failover(&mut self, old: &str, since: Instant) -> Result<(), String> {
        let new = self.cluster.elect(MASTER_READY).await?;
        let took = since.elapsed();
        self.cluster
            .failovers
            .push((old.to_string(), new.clone(), took.as_secs_f64()));
        self.progress
            .note(&format!("leader {old} stopped: {new} leads"), took);
        let line = format!("{old} -> {new} {:.3}s\n", took.as_secs_f64());
        let path = self.folder.join("failovers.txt");
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        text.push_str(&line);
        let _ = std::fs::write(&path, text);
        let target = self.cluster.target(&new)?;
        let within = self.cluster.tuning.agent_reregistration_bound() + Duration::from_secs(10);
        let ids = self.up_agent_ids();
        readiness::wait_agents_reregistered_after_master(
            &self.cluster.client,
            &target,
            &ids,
            within,
        )
        .await
        .map_err(|e| e.to_string())
    }

    /// An HA master came back (possibly at another version): it answers, exactly one
    /// master leads, and every agent is active there with its ID.
    async fn wait_ha_master_back(&mut self, node: &str) -> Result<(), String> {
        self.wait_answers(node).await?;
        let leader = self.cluster.elect(MASTER_READY).await?;
        let target = self.cluster.target(&leader)?;
        let expected: Vec<ExpectedAgent> = self
            .up_agent_ids()
            .into_iter()
            .map(|(hostname, id)| ExpectedAgent {
                hostname,
                id: Some(id),
            })
            .collect();
        readiness::wait_agents_active(&self.cluster.client, &target, &expected, AGENT_READY)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// What an action came to.
enum Outcome {
    Done,
    /// Done, but not quite as the plan describes it (the report shows this instead).
    DoneAs(String),
    NoOp(String),
    Skipped(String),
}

/// One line for an action in reports.
fn describe_action(a: &plan::Action) -> String {
    let node = a.node.as_deref().unwrap_or("cluster");
    let versions = a
        .running
        .as_ref()
        .map(|v| {
            if v.changes() {
                format!(" {} -> {}", v.before, v.after)
            } else {
                format!(" at {}", v.after)
            }
        })
        .unwrap_or_default();
    let what = match &a.kind {
        ActionKind::StartNode => "start",
        ActionKind::StartWorkload { .. } => "start workload",
        ActionKind::ReplaceProcess => "replace Mesos process",
        ActionKind::InstallBinaries => "install binaries",
        ActionKind::RestartProcess => "restart Mesos process",
        ActionKind::RestartWithFlags => "restart Mesos process with flags",
        ActionKind::ReconfigureCgroupsMounts => "reconfigure cgroups mounts",
        ActionKind::RebootNode => "reboot",
        ActionKind::SchedulerUpgrade => "upgrade scheduler",
        ActionKind::SetFrameworkCheckpoint => "set framework checkpoint",
        ActionKind::SchedulerFailover => "restart scheduler",
        ActionKind::ExecutorUpgrade => "upgrade executors",
        ActionKind::RebuildModules { .. } => "rebuild modules",
        ActionKind::NoOp { .. } => "no-op",
    };
    format!("{what} {node}{versions}")
}
