//! Issue 7, negative test: stopping two of three HA masters at once must be reported as a
//! lost quorum at that step, within a deadline, never as a hang.
//!
//! Real Docker, ~30 s each: the HA cluster of `scenarios/local-ha/1.10.0-to-1.11.0.yaml` with
//! 1.11.0 masters, and of `1.4.3-to-1.5.3.yaml` with 1.4.3 masters (the oldest the project
//! builds): its ZooKeeper node and three masters, no agents, built with the runner's own functions
//! (`run::prepare_images`, `Cluster::create_zookeeper`, `create_node`, `start_mesos`,
//! `elect`), then `Cluster::stop_masters_at_once` on the leader and one other master.
//!
//! Without a reachable Docker engine it prints `skipped <test>: <reason>` and passes; with
//! `CI=true` it fails instead.
//!
//! `HA_QUORUM_WATCH_EXIT_SECS=<n>` additionally watches the remaining master for `n` seconds
//! after the verdict and prints whether its process exits by itself (Mesos aborts a master
//! whose registry recovery times out, `--registry_fetch_timeout`, default 1 min).

mod common;
use common::skip;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use upgrade_harness::docker::{self, node_init, Engine, ProcessStatus};
use upgrade_harness::domain::{Role, Version};
use upgrade_harness::mesos::client::MesosClient;
use upgrade_harness::mesos::readiness::{leads, poll_until, REGISTRY_FETCHED};
use upgrade_harness::plan;
use upgrade_harness::run::cluster::{Cluster, QuorumOutcome, PROCESS};
use upgrade_harness::run::StepError;
use upgrade_harness::run::{self, RunOptions};
use upgrade_harness::scenario;

/// How long the remaining master is watched for a leader after the two stops.
const NO_LEADER_WITHIN: Duration = Duration::from_secs(15);
const ELECTION: Duration = Duration::from_secs(60);

fn say(line: String) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

#[test]
fn stopping_two_of_three_masters_at_once_is_a_lost_quorum_not_a_hang() {
    lost_quorum_in("scenarios/local-ha/1.10.0-to-1.11.0.yaml", "1.11.0");
}

/// The same with the oldest masters the project builds (1.4.3).
#[test]
fn stopping_two_of_three_1_4_3_masters_at_once_is_a_lost_quorum_not_a_hang() {
    lost_quorum_in("scenarios/local-ha/1.4.3-to-1.5.3.yaml", "1.4.3");
}

/// The masters of `scenario_file`'s HA cluster, all at `version` (its `from` or `to`), in a
/// cluster slot; after a signal nothing starts and a cluster in flight is removed.
fn lost_quorum_in(scenario_file: &str, version: &str) {
    use common::clusters;
    let slot =
        clusters::slot().unwrap_or_else(|s| clusters::interrupted(s, "interrupted before start"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    if let Err(signal) = rt.block_on(clusters::until_stopped(lost_quorum(scenario_file, version))) {
        drop(slot);
        clusters::interrupted(signal, "interrupted; the cluster was removed");
    }
}

async fn lost_quorum(scenario_file: &str, version: &str) {
    let version: Version = version.parse().expect("a version");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let engine = match Engine::connect().await {
        Ok(e) => e,
        Err(e) => return skip(format!("Docker unreachable: {e}")),
    };
    let file = root.join(scenario_file);
    let scenario = scenario::load::load(&file).expect("the HA scenario is valid");
    assert_eq!(run::not_runnable_reason(&scenario), None);
    let plan = plan::plan(&scenario);
    let opts = RunOptions {
        out_root: root.join("target/upgrade-harness"),
        progress: false,
        ..RunOptions::default()
    };
    let t = Instant::now();
    let image = run::prepare_images(&engine, &plan, &opts)
        .await
        .expect("images for the HA scenario");
    say(format!("images ready in {:.1}s", t.elapsed().as_secs_f64()));
    let node_init = node_init::build(&opts.build.cache_dir.join("node-init")).expect("node-init");
    let run = docker::Run::create(&engine, docker::RunSettings::new(node_init))
        .await
        .expect("a run");
    let run_id = run.id().to_string();
    let masters = scenario.topology.masters.value as usize;
    assert_eq!(masters, 3);
    let mut cluster = Cluster::with_masters(run, MesosClient::new().unwrap(), masters);

    let started = Instant::now();
    assert!([plan.from, plan.to].contains(&version));
    let result = scenario_steps(&mut cluster, &plan, &image, version).await;
    let removed = cluster.run.cleanup().await;
    let took = started.elapsed();

    // Cleanup first: nothing of the run may be left, whatever the verdict.
    removed.expect("cleanup of the run");
    let left = common::containers_of_run(&engine, &run_id).await;
    assert!(left.is_empty(), "containers of run {run_id} left: {left:?}");

    let (outcome, stop_took, remaining) = result.unwrap_or_else(|e| panic!("{e}"));
    say(format!(
        "verdict after {:.1}s: {outcome}",
        stop_took.as_secs_f64()
    ));
    say(format!(
        "run {run_id}: cluster + verdict + cleanup in {:.1}s",
        took.as_secs_f64()
    ));
    match &outcome {
        QuorumOutcome::Lost {
            running,
            masters,
            quorum,
            last_seen,
            ..
        } => {
            assert_eq!(running, std::slice::from_ref(&remaining));
            assert_eq!((*masters, *quorum), (3, 2));
            assert!(last_seen.contains(&remaining), "{last_seen}");
        }
        other => panic!("expected a lost quorum, got: {other}"),
    }
    let text = outcome.to_string();
    assert!(
        text.starts_with(&format!(
            "lost quorum: 1 of 3 masters running, quorum 2; no leader within {}s; last seen: {remaining} ",
            NO_LEADER_WITHIN.as_secs()
        )),
        "{text}"
    );
    // A deadline, not a hang: the verdict came at the deadline (plus the stops' grace).
    assert!(
        stop_took < NO_LEADER_WITHIN + Duration::from_secs(12),
        "{stop_took:?}"
    );
}

/// Builds the cluster like the runner's `start` phase (ZooKeeper, then the masters, then the
/// election), stops the leader and one other master at once; returns the outcome, how long
/// the step took, and the master left running.
async fn scenario_steps(
    cluster: &mut Cluster,
    plan: &plan::Plan,
    image: &str,
    version: Version,
) -> Result<(QuorumOutcome, Duration, String), StepError> {
    for node in &plan.nodes {
        match node.role {
            Role::ZooKeeper => {
                cluster.create_zookeeper(&node.name, image).await?;
            }
            Role::Master => {
                cluster
                    .create_node(&node.name, node.role, image, version)
                    .await?;
                cluster
                    .start_mesos(&node.name, version, &Default::default())
                    .await?;
            }
            _ => {}
        }
    }
    let leader = cluster.elect(ELECTION).await?;
    let order = cluster.masters();
    say(format!(
        "{} masters at {}, leader {leader}",
        order.len(),
        version
    ));
    // The signal the verdict rests on: the leader recovers its registry (shortly after its
    // election: `elect` waits for `master/elected` only), the others never fetch it.
    let url = cluster.target(&order[0])?.base_url;
    let client = &cluster.client;
    poll_until(ELECTION, || async {
        let m = client
            .metrics_snapshot(&url)
            .await
            .map_err(|e| e.to_string())?;
        if leads(&m) {
            Ok(())
        } else {
            Err(format!(
                "{}, {}",
                m.describe("master/elected"),
                m.describe(REGISTRY_FETCHED)
            ))
        }
    })
    .await
    .map_err(|seen| format!("{leader} did not recover its registry: {seen}"))?;
    for name in &order[1..] {
        let m = cluster
            .client
            .metrics_snapshot(&cluster.target(name)?.base_url)
            .await
            .map_err(|e| format!("{name}: {e}"))?;
        if leads(&m) {
            return Err(format!(
                "{name} (not the leader) leads: {}",
                m.describe(REGISTRY_FETCHED)
            )
            .into());
        }
    }
    let stop = vec![order[0].clone(), order[1].clone()];
    let remaining = order[2].clone();
    let t = Instant::now();
    let outcome = cluster
        .stop_masters_at_once(&stop, NO_LEADER_WITHIN)
        .await?;
    let took = t.elapsed();
    say(format!(
        "stopped {} at once; {remaining} left",
        stop.join(" and ")
    ));

    let watch: u64 = std::env::var("HA_QUORUM_WATCH_EXIT_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if watch > 0 {
        let w = Instant::now();
        let since_stop = t;
        loop {
            let status = cluster
                .run
                .process_status(&remaining, PROCESS)
                .await
                .map_err(|e| e.to_string())?;
            if !matches!(status, ProcessStatus::Running { .. }) {
                say(format!(
                    "{remaining}: {status}, {:.1}s after the stops",
                    since_stop.elapsed().as_secs_f64()
                ));
                break;
            }
            if w.elapsed() > Duration::from_secs(watch) {
                say(format!(
                    "{remaining}: still {status} {:.1}s after the stops",
                    since_stop.elapsed().as_secs_f64()
                ));
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let out = cluster.new_output(&remaining).await;
        let tail: Vec<&str> = out.lines().rev().take(15).collect();
        for l in tail.into_iter().rev() {
            say(format!("  {remaining}| {l}"));
        }
    }
    Ok((outcome, took, remaining))
}
