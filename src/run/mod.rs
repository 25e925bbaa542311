//! Running a scenario for real: a cluster in containers at `from`, every action of the plan
//! in order, and after every phase the invariants and the scenario's checks.
//!
//! One file per job: [`run_file`] here (load, plan, prepare, create, perform, report,
//! clean up); `images` (the node image); `runner` (the walk through the plan, logs per
//! phase); `actions` (what each kind of action does to the cluster); `ha` (masters with
//! ZooKeeper); `judge` (invariants and checks at a phase); `probe` (observations at a
//! phase); `workload` (the test framework and its tasks); `frameworks` (the scenario's own
//! frameworks, each in its container, and their invariants); `cluster` (nodes, processes,
//! addresses). Design notes: `docs/design.md`.

mod actions;
pub mod cluster;
mod error;
mod faults;
mod frameworks;
mod ha;
mod images;
mod judge;
pub mod modules;
pub mod probe;
mod runner;
pub mod slots;
mod workload;

pub use error::{Context, InfraError, RunError, StepError};
pub use images::prepare_images;
pub(crate) use workload::this_binary_serves_helpers;
pub use workload::TaskFaults;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::docker;
use crate::images::BuildOptions;
use crate::mesos::client::MesosClient;
use crate::report::{Progress, Reaching, RunReport};
use crate::scenario::{self, model::MasterStop, model::Scenario};

use cluster::Cluster;

/// The repository of the per-scenario node images (`images.rs` builds them).
pub(crate) const NODE_IMAGE: &str = "upgrade-harness/node";
/// How long an unused node image is kept (a removed one is rebuilt in seconds).
const NODE_IMAGE_KEPT_FOR: std::time::Duration = std::time::Duration::from_secs(3600);
use runner::Runner;

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
    /// How the harness reaches node ports, forced; `None`: `UPGRADE_HARNESS_REACH`, else
    /// decided by the run (`docs/runtime.md`, "Reaching node ports from the harness").
    pub reach: Option<docker::Reach>,
    /// `upstream`: images that replace the scenario's for a version (`run --image`); they
    /// also win over `UPGRADE_HARNESS_IMAGES`.
    pub images: BTreeMap<crate::domain::Version, Vec<String>>,
    /// Randomize the plan with this seed (`run --seed N`; `plan::plan_with`).
    pub seed: Option<u64>,
    /// `local`: builds the node image holds beside the plan's (with their executors): runs
    /// of many pairs (`compat`) then share one image instead of building one per pair.
    pub image_versions: Vec<crate::domain::Version>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            keep: false,
            out_root: PathBuf::from("target/upgrade-harness"),
            build: BuildOptions::default(),
            progress: true,
            task_faults: TaskFaults::default(),
            reach: None,
            images: BTreeMap::new(),
            seed: None,
            image_versions: Vec::new(),
        }
    }
}

/// Why a scenario cannot run here, if it cannot (pure: used by the test harness too). The
/// decision is [`crate::runnable::runnability`]'s, which `check`, `plan` and `list` print.
pub fn not_runnable_reason(s: &Scenario) -> Option<String> {
    crate::runnable::runnability(s, &crate::plan::plan(s))
        .runs_here
        .err()
}

/// The workload faults of a run: the options', and the scenario's setup mistakes.
fn task_faults(s: &Scenario, given: &TaskFaults) -> TaskFaults {
    let mut faults = given.clone();
    for m in &s.mistakes {
        match m {
            crate::domain::SetupMistake::RemoveMesosExecutor => {
                faults.without_mesos_executor_file = true
            }
            // Done by `rebuild_modules` (`run::modules`).
            crate::domain::SetupMistake::StaleModuleBuild => {}
        }
    }
    faults
}

/// Loads, plans and runs the scenario at `path`. The report says what passed, failed and
/// was skipped; `Err` only when no verdict is possible.
pub async fn run_file(path: &Path, opts: &RunOptions) -> Result<RunReport, RunError> {
    let mut scenario = scenario::load::load(path).map_err(RunError::Invalid)?;
    images::apply_image_overrides(&mut scenario, opts).map_err(RunError::Setting)?;
    if let Some(why) = not_runnable_reason(&scenario) {
        return Err(RunError::NotRunnable(why));
    }
    let plan = crate::plan::plan_with(&scenario, opts.seed);
    let progress = Progress::new(opts.progress);
    let forced_reach = cluster::forced_reach(opts.reach).map_err(RunError::Setting)?;

    // Docker first: an unreachable engine is one sentence, before minutes of builds.
    let engine = docker::Engine::connect().await.map_err(InfraError::from)?;
    let t = Instant::now();
    let (image, builds) = images::prepare_node_image(&engine, &plan, opts).await?;
    progress.note("images ready", t.elapsed());
    let t = Instant::now();
    let run_modules =
        modules::resolve(&scenario, path, &opts.build.cache_dir).map_err(InfraError::Modules)?;
    if !run_modules.is_empty() {
        progress.note("module builds ready", t.elapsed());
    }
    let t = Instant::now();
    let libmesos_schedulers = frameworks::build_libmesos_schedulers(&scenario, &opts.build)
        .map_err(InfraError::Frameworks)?;
    if !libmesos_schedulers.is_empty() {
        progress.note("libmesos schedulers built", t.elapsed());
    }

    // What dead runs left behind goes first; live and kept runs are never touched.
    docker::sweep(&engine).await.map_err(InfraError::from)?;
    // Node images of other scenarios and older harness builds, unused for an hour.
    docker::remove_images_older_than(&engine, NODE_IMAGE, NODE_IMAGE_KEPT_FOR)
        .await
        .map_err(InfraError::from)?;
    let node_init = docker::node_init::build(&opts.build.cache_dir.join("node-init"))
        .map_err(InfraError::from)?;
    let mut run_opts = docker::RunSettings::new(node_init);
    // A kept run is labelled so that sweeps spare it; it is removed below unless it failed.
    run_opts.keep = opts.keep;
    let run = docker::Run::create(&engine, run_opts)
        .await
        .map_err(InfraError::from)?;
    let run_id = run.id().to_string();
    let folder = opts
        .out_root
        .join(format!("{}-{}", scenario.name.value, run_id));
    std::fs::create_dir_all(&folder).map_err(|source| InfraError::Io {
        what: format!("creating {}", folder.display()),
        source,
    })?;

    let client = MesosClient::new().map_err(InfraError::from)?;
    let mut cluster = Cluster::with_masters(run, client, scenario.topology.masters.value as usize);
    cluster.graceful_master_stop = scenario.topology.master_stop == MasterStop::Graceful;
    cluster.tuning = tuning(&scenario.timeouts);
    cluster.modules = run_modules;
    if let Some((mode, by)) = &forced_reach {
        cluster.force_reach(*mode, by);
    }
    let source = scenario::load::read(path).map_err(RunError::Invalid)?;
    let mut runner = Runner {
        scenario: &scenario,
        file: path.to_path_buf(),
        source,
        plan: &plan,
        cluster,
        framework: None,
        frameworks: Vec::new(),
        libmesos_schedulers,
        agent_ids: BTreeMap::new(),
        folder: folder.clone(),
        progress,
        start_outcomes: BTreeMap::new(),
        down_by_design: Vec::new(),
        observations: Default::default(),
        work: workload::WorkloadRun::new(task_faults(&scenario, &opts.task_faults)),
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
        from: plan.from,
        to: plan.to,
        phases,
        aborted,
        seconds: started.elapsed().as_secs_f64(),
        observations: std::mem::take(&mut runner.observations),
        cleanup: None,
        source: std::mem::take(&mut runner.source),
        reach: None,
        harness: crate::report::harness_version(),
        builds,
        image: image.clone(),
        plan: plan.to_string(),
        seed: opts.seed,
        expected_failure: None,
    };
    let mut report = report;
    if let Some(fw) = runner.framework.take() {
        let _ = fw.teardown().await;
    }
    // After the teardown: its requests count too.
    report.reach = runner.cluster.reach().map(|r| Reaching {
        mode: r.mode,
        why: r.why.clone(),
        addresses: runner
            .cluster
            .reached_addresses()
            .iter()
            .map(|(node, addrs)| (node.clone(), addrs.iter().map(|a| a.to_string()).collect()))
            .collect(),
        requests: runner.cluster.client.requests_by_address(),
    });
    if opts.keep && !report.passed() {
        let _ = writeln!(
                std::io::stderr().lock(),
            "keeping the cluster of run {run_id} (network {}, subnet {}): remove it with `upgrade-harness clean {run_id}`",
            runner.cluster.run.network_name(),
            runner.cluster.run.subnet()
        );
        for name in runner.cluster.nodes.keys() {
            if let Ok(t) = runner.cluster.target(name) {
                let _ = writeln!(std::io::stderr().lock(), "  {name}: {}", t.base_url);
            }
        }
    } else if let Err(e) = runner.cluster.run.cleanup().await {
        // The verdict stands; what could not be removed is reported beside it (a later
        // run's sweep removes it: it is labelled).
        report.cleanup = Some(format!("cleaning up run {run_id}: {e}"));
    }
    if let Some(expected) = &scenario.expect_failure {
        report.expected_failure = Some(crate::report::expected::judge(
            &report,
            &plan,
            &expected.value,
        ));
    }
    // Written last, so that a cleanup problem is in `result.json` too.
    // The builds' protobuf APIs: a build whose API cannot be read leaves the section out of
    // the report, and the run says why.
    let apis = crate::drift::scenario_apis(&scenario, &opts.build).unwrap_or_else(|why| {
        runner.progress.note(
            &format!("no protobuf section in the drift report: {why}"),
            Duration::ZERO,
        );
        None
    });
    let drift = crate::drift::drift(
        &scenario,
        &report.observations,
        apis.as_ref().map(|(a, b)| (a, b)),
    );
    // A failed run also leaves its failure bundle beside the folder.
    report
        .write(&folder, &drift)
        .map_err(|source| InfraError::Io {
            what: format!("writing the run folder {}", folder.display()),
            source,
        })?;
    Ok(report)
}

/// The harness's timing flags with the scenario's `timeouts:` in their place (validation
/// refused any value that does not parse).
pub fn tuning(timeouts: &crate::scenario::model::Timeouts) -> crate::mesos::roles::Tuning {
    use crate::mesos::roles::parse_mesos_duration as parse;
    let mut t = crate::mesos::roles::Tuning::default();
    let d =
        |v: &Option<serde_saphyr::Spanned<String>>| v.as_ref().and_then(|v| parse(&v.value).ok());
    if let Some(v) = d(&timeouts.agent_ping_timeout) {
        t.agent_ping_timeout = v;
    }
    if let Some(n) = &timeouts.max_agent_ping_timeouts {
        t.max_agent_ping_timeouts = n.value;
    }
    if let Some(v) = d(&timeouts.executor_reregistration_timeout) {
        t.executor_reregistration_timeout = v;
    }
    if let Some(v) = d(&timeouts.registration_backoff_factor) {
        t.registration_backoff_factor = v;
    }
    if let Some(v) = d(&timeouts.zk_session_timeout) {
        t.zk_session_timeout = v;
    }
    t
}
