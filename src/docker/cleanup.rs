//! Removing what runs leave behind, and stopping cleanly on a signal.
//!
//! Rules (see `docs/runtime.md`): only objects carrying the
//! `upgrade-harness.run` label are ever removed; a run's own objects go at
//! its end; leftovers of other runs go only when their owner ran on this
//! host and that process is gone.

use std::collections::{BTreeMap, HashMap};

use bollard::query_parameters::{
    ListContainersOptions, ListNetworksOptions, RemoveContainerOptions,
};

use super::engine::Engine;
use super::error::{api, Error, Result};
use super::labels::{liveness, Liveness, KEEP_LABEL, RUN_LABEL};

/// What a removal removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Removed {
    /// Names of the removed containers.
    pub containers: Vec<String>,
    /// Names of the removed networks.
    pub networks: Vec<String>,
}

/// What a sweep did, run by run.
#[derive(Debug, Default)]
pub struct SweepReport {
    /// Dead runs whose objects were removed.
    pub removed: BTreeMap<String, Removed>,
    /// Runs left alone because their owner is alive.
    pub alive: Vec<String>,
    /// Runs left alone because they were made with `keep`.
    pub kept: Vec<String>,
    /// Runs left alone because their owner cannot be judged from here.
    pub unknown: Vec<(String, String)>,
    /// Dead runs that could not be (fully) removed; the next sweep retries.
    pub failed: Vec<(String, Error)>,
}

impl std::fmt::Display for SweepReport {
    /// One line for the progress output, e.g. "removed 2 leftover runs
    /// (3 containers, 2 networks); left 1 live, 1 kept, 0 unknown".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let containers: usize = self.removed.values().map(|r| r.containers.len()).sum();
        let networks: usize = self.removed.values().map(|r| r.networks.len()).sum();
        write!(
            f,
            "removed {} leftover runs ({containers} containers, {networks} networks); left {} live, {} kept, {} unknown",
            self.removed.len(),
            self.alive.len(),
            self.kept.len(),
            self.unknown.len()
        )?;
        for (run, err) in &self.failed {
            write!(f, "; could not remove run {run}: {err}")?;
        }
        Ok(())
    }
}

/// A run found on the engine, judged from its labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSummary {
    /// The run id.
    pub id: String,
    /// What its owner labels say, seen from here.
    pub liveness: Liveness,
    /// Made with `keep`.
    pub kept: bool,
    /// The labels of one of its objects (all carry the same owner labels).
    pub labels: HashMap<String, String>,
}

fn label_filter(value: String) -> Option<HashMap<String, Vec<String>>> {
    Some(HashMap::from([("label".to_string(), vec![value])]))
}

/// Removes every container (forced, with anonymous volumes) and network
/// labelled with `run_id`.
pub async fn remove_run(engine: &Engine, run_id: &str) -> Result<Removed> {
    let docker = engine.client();
    let filter = format!("{RUN_LABEL}={run_id}");
    let mut removed = Removed::default();
    let containers = docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: label_filter(filter.clone()),
            ..Default::default()
        }))
        .await
        .map_err(api(format!("list containers of run {run_id}")))?;
    for c in containers {
        let Some(id) = c.id else { continue };
        let options = RemoveContainerOptions {
            force: true,
            v: true,
            ..Default::default()
        };
        match docker.remove_container(&id, Some(options)).await {
            Ok(())
            | Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => {}
            Err(e) => return Err(api(format!("remove container {id} of run {run_id}"))(e)),
        }
        removed.containers.push(first_name(c.names).unwrap_or(id));
    }
    let networks = docker
        .list_networks(Some(ListNetworksOptions {
            filters: label_filter(filter),
        }))
        .await
        .map_err(api(format!("list networks of run {run_id}")))?;
    for n in networks {
        let Some(id) = n.id else { continue };
        match docker.remove_network(&id).await {
            Ok(())
            | Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => {}
            Err(e) => return Err(api(format!("remove network {id} of run {run_id}"))(e)),
        }
        removed.networks.push(n.name.unwrap_or(id));
    }
    Ok(removed)
}

fn first_name(names: Option<Vec<String>>) -> Option<String> {
    names?
        .into_iter()
        .next()
        .map(|n| n.trim_start_matches('/').to_string())
}

/// Every run that has objects on the engine (for a `clean`-style command).
pub async fn list_runs(engine: &Engine) -> Result<Vec<RunSummary>> {
    Ok(labelled_runs(engine)
        .await?
        .into_iter()
        .map(|(id, labels)| RunSummary {
            id,
            liveness: liveness(&labels),
            kept: labels.get(KEEP_LABEL).is_some_and(|v| v == "true"),
            labels,
        })
        .collect())
}

/// Removes the leftovers of dead runs (see the module rules). Meant to be
/// called once at start, before creating a run. Only listing can fail it: a
/// run that resists removal is reported in `failed` and the sweep goes on.
pub async fn sweep(engine: &Engine) -> Result<SweepReport> {
    let mut report = SweepReport::default();
    for run in list_runs(engine).await? {
        match run.liveness {
            Liveness::Dead if run.kept => report.kept.push(run.id),
            Liveness::Dead => match remove_run(engine, &run.id).await {
                Ok(removed) => {
                    report.removed.insert(run.id, removed);
                }
                Err(e) => report.failed.push((run.id, e)),
            },
            Liveness::Alive => report.alive.push(run.id),
            Liveness::Unknown(why) => report.unknown.push((run.id, why)),
        }
    }
    Ok(report)
}

/// Every run id found on a container or network, with that object's labels.
async fn labelled_runs(engine: &Engine) -> Result<BTreeMap<String, HashMap<String, String>>> {
    let docker = engine.client();
    let mut runs = BTreeMap::new();
    let containers = docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: label_filter(RUN_LABEL.to_string()),
            ..Default::default()
        }))
        .await
        .map_err(api("list labelled containers"))?;
    let networks = docker
        .list_networks(Some(ListNetworksOptions {
            filters: label_filter(RUN_LABEL.to_string()),
        }))
        .await
        .map_err(api("list labelled networks"))?;
    let label_sets = containers
        .into_iter()
        .filter_map(|c| c.labels)
        .chain(networks.into_iter().filter_map(|n| n.labels));
    for labels in label_sets {
        if let Some(run) = labels.get(RUN_LABEL).filter(|r| !r.is_empty()) {
            runs.entry(run.clone()).or_insert(labels);
        }
    }
    Ok(runs)
}

/// The signal that asked the harness to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShutdownSignal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM.
    Terminate,
}

/// Resolves on the first Ctrl-C or SIGTERM.
pub async fn shutdown_signal() -> ShutdownSignal {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return ShutdownSignal::Interrupt;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => ShutdownSignal::Interrupt,
        _ = term.recv() => ShutdownSignal::Terminate,
    }
}

/// Runs `work` unless a shutdown signal comes first. On a signal `work` is
/// dropped (which drops whatever `Run` it owns, removing it) and the signal
/// is returned: clean up any run you hold, then exit with
/// [`ShutdownSignal::exit_code`].
pub async fn until_shutdown<F: std::future::Future>(work: F) -> Result<F::Output, ShutdownSignal> {
    tokio::select! {
        out = work => Ok(out),
        sig = shutdown_signal() => Err(sig),
    }
}
