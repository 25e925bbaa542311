//! Probing at every phase: what each node of the cluster answers, recorded raw into
//! [`Observations`] (rendered later by `crate::snapshot`, compared by `crate::drift`).
//!
//! At each phase, for the leading master and each agent:
//! - the bodies of `/version` and the node's `state` and `flags` documents,
//! - the names of `/metrics/snapshot`,
//! - the scenario's own `probes:`,
//! - at the first and the last phase only ([`discover_at`]): every endpoint `/help` lists,
//!   with the status of a `GET` (those that change state or start work are skipped, with the
//!   reason). Both ends are what the drift report compares; discovering at every phase
//!   would add ~40 requests per node per phase for endpoints whose status never changes
//!   between two phases of one version (docs/snapshots.md has the measurements).
//!
//! A node that stops answering while it is probed is a finding (the endpoint is named),
//! never a reason to stop the run. Checks never see these observations: they fetch their
//! own answers. Design notes: docs/snapshots.md.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use serde_json::Value;

use crate::domain::Role;
use crate::mesos::client::{ClientError, MesosClient, RawResponse};
use crate::mesos::endpoints::{self, METRICS};
use crate::observation::{
    Answer, EndpointStatus, NodeObservation, Observations, PhaseObservation, ProbeAnswer,
};
use crate::scenario::model::{Scenario, Target};

use super::cluster::{self, Cluster};

/// Whether endpoints are discovered at the phase `index` of `count`.
pub fn discover_at(index: usize, count: usize) -> bool {
    index == 0 || index + 1 == count
}

/// Probes the cluster at the phase `index` of `count` and records it in `obs` (the runner's
/// one call per phase).
pub async fn record(
    obs: &mut Observations,
    cluster: &Cluster,
    scenario: &Scenario,
    phase: &str,
    index: usize,
    count: usize,
) {
    for (name, n) in &cluster.nodes {
        obs.addresses.insert(name.clone(), n.ip.clone());
    }
    obs.run_id = cluster.run.id().to_string();
    let p = observe_phase(cluster, scenario, phase, discover_at(index, count)).await;
    obs.phases.push(p);
}

/// Probes the cluster at `phase`; `discover` also probes every endpoint `/help` lists.
pub async fn observe_phase(
    cluster: &Cluster,
    scenario: &Scenario,
    phase: &str,
    discover: bool,
) -> PhaseObservation {
    let started = Instant::now();
    let mut names: Vec<String> = cluster.masters().into_iter().take(1).collect();
    names.extend(cluster.agents());
    // Nodes are probed at the same time (each node's own requests one after the other, so
    // that a crash is attributed to one endpoint): the phase waits for the slowest node.
    let nodes = futures_util::future::join_all(
        names
            .iter()
            // The names come from the cluster's own node list.
            .filter_map(|name| Some((name, cluster.nodes.get(name)?.clone())))
            .map(|(name, state)| observe_node(cluster, scenario, name, state, discover)),
    )
    .await;
    PhaseObservation {
        phase: phase.to_string(),
        discovered: discover,
        nodes,
        millis: started.elapsed().as_millis() as u64,
    }
}

async fn observe_node(
    cluster: &Cluster,
    scenario: &Scenario,
    name: &str,
    state: cluster::NodeState,
    discover: bool,
) -> NodeObservation {
    let started = Instant::now();
    let (role, version, pid) = (state.role, state.version, state.pid);
    let mut obs = NodeObservation::new(name, role, version);
    let Some(pid) = pid else {
        obs.down = Some("its Mesos process is down (by design at this phase)".to_string());
        return obs;
    };
    let target = match cluster.target(name) {
        Ok(t) => t,
        Err(e) => {
            obs.down = Some(e.to_string());
            return obs;
        }
    };
    let client = &cluster.client;
    let base = target.base_url.as_str();
    let mut last = String::new();
    // Answers of the discovery that are also recorded below: asked once per phase (the
    // master's `/metrics/snapshot` alone can take half a second).
    let mut seen: BTreeMap<String, RawResponse> = BTreeMap::new();

    if discover {
        match client.help(base).await {
            Ok(help) => {
                let deprecated: BTreeSet<String> = help
                    .processes
                    .iter()
                    .flat_map(|p| {
                        p.endpoints
                            .iter()
                            .filter(|e| e.text.to_lowercase().contains("deprecated"))
                            .map(move |e| match e.name.as_str() {
                                "/" | "" => format!("/{}", p.id),
                                n => format!("/{}{n}", p.id),
                            })
                    })
                    .collect();
                let texts: BTreeMap<String, String> = help
                    .processes
                    .iter()
                    .flat_map(|p| {
                        p.endpoints.iter().map(move |e| match e.name.as_str() {
                            "/" | "" => (format!("/{}", p.id), e.text.clone()),
                            n => (format!("/{}{n}", p.id), e.text.clone()),
                        })
                    })
                    .collect();
                let mut table = Vec::new();
                for path in help.endpoint_paths() {
                    let mut e = EndpointStatus {
                        deprecated: deprecated.contains(&path),
                        path: path.clone(),
                        ..EndpointStatus::default()
                    };
                    if let Some(why) = endpoints::probe_skip_reason(
                        &path,
                        role,
                        version,
                        texts.get(&path).map(String::as_str),
                    ) {
                        e.skipped = Some(why.to_string());
                    } else {
                        last = path.clone();
                        match client.get(base, &path).await {
                            Ok(r) => {
                                e.status = Some(r.status);
                                if path == METRICS
                                    || endpoints::recorded_bodies(role).contains(&path.as_str())
                                {
                                    seen.insert(path.clone(), r);
                                }
                            }
                            Err(err) => {
                                e.error = Some(err.brief());
                                if stopped_answering(client, base, &err).await {
                                    obs.findings.push(format!(
                                        "{name} stopped answering after GET {path} ({}); its other endpoints were not probed",
                                        err.brief()
                                    ));
                                    table.push(e);
                                    break;
                                }
                            }
                        }
                    }
                    table.push(e);
                }
                obs.endpoints = Some(table);
            }
            Err(e) => obs
                .findings
                .push(format!("GET /help?format=json: {}", e.brief())),
        }
    }

    if obs.findings.is_empty() {
        for path in endpoints::recorded_bodies(role) {
            let reply = match seen.remove(*path) {
                Some(r) => Ok(r),
                None => client.get(base, path).await,
            };
            obs.bodies.insert(path.to_string(), answer(reply));
        }
        last = "the bodies and /metrics/snapshot".to_string();
        let metrics = match seen.remove(METRICS) {
            Some(r) => Ok(r),
            None => client.get(base, METRICS).await,
        };
        match metrics.map(|r| {
            (
                r.status,
                serde_json::from_slice::<BTreeMap<String, Value>>(&r.body),
            )
        }) {
            Ok((200, Ok(m))) => obs.metrics = Some(m.into_keys().collect()),
            Ok((status, _)) => obs.findings.push(format!(
                "GET {METRICS}: HTTP {status}, not a metrics document"
            )),
            Err(e) => obs.findings.push(format!("GET {METRICS}: {}", e.brief())),
        }
        for p in &scenario.probes {
            let p = &p.value;
            if !reaches(&p.on.value, name, role) {
                continue;
            }
            let (request, reply) = match (&p.get, &p.post) {
                (_, Some(post)) => (
                    format!("POST {}", post.value),
                    client
                        .post(
                            base,
                            &post.value,
                            "application/json",
                            p.body.clone().unwrap_or_default().into_bytes(),
                        )
                        .await,
                ),
                (Some(get), None) => (
                    format!("GET {}", get.value),
                    client.get(base, &get.value).await,
                ),
                (None, None) => continue,
            };
            last = request.clone();
            obs.probes.push(ProbeAnswer {
                name: p.name.value.clone(),
                request,
                snapshot: p.snapshot,
                answer: answer(reply),
            });
        }
    }

    // A probe must never have killed the node: if its process changed, say after what.
    // Asked where it can happen (discovery, a failed request); otherwise the runner's
    // `no_restart_loop` invariant sees it at the next phase.
    let suspicious =
        discover || !obs.findings.is_empty() || obs.bodies.values().any(|a| a.status.is_none());
    if !suspicious {
        obs.millis = started.elapsed().as_millis() as u64;
        return obs;
    }
    if let Ok(status) = cluster.run.process_status(name, cluster::PROCESS).await {
        match status {
            crate::docker::ProcessStatus::Running { pid: now } if now == pid => {}
            other => obs.findings.push(format!(
                "{name}: Mesos {version} (pid {pid}) is {other} after probing; last request: {last}"
            )),
        }
    }
    obs.millis = started.elapsed().as_millis() as u64;
    obs
}

/// After a failed request: whether the node no longer answers at all.
async fn stopped_answering(client: &MesosClient, base: &str, err: &ClientError) -> bool {
    matches!(
        err,
        ClientError::Timeout { .. } | ClientError::Unreachable { .. }
    ) && client.get(base, endpoints::VERSION).await.is_err()
}

fn reaches(on: &Target, node: &str, role: Role) -> bool {
    match on {
        Target::Master => role == Role::Master,
        Target::Agents => role == Role::Agent,
        Target::Node(n) => n == node,
    }
}

fn answer(r: Result<RawResponse, ClientError>) -> Answer {
    match r {
        Ok(r) => match serde_json::from_slice::<Value>(&r.body) {
            Ok(json) => Answer {
                status: Some(r.status),
                json: Some(json),
                format: Some(crate::mesos::format::fingerprint(&r)),
                ..Answer::default()
            },
            Err(_) => Answer {
                status: Some(r.status),
                text: Some(r.text()),
                format: Some(crate::mesos::format::fingerprint(&r)),
                ..Answer::default()
            },
        },
        Err(e) => Answer {
            error: Some(e.brief()),
            ..Answer::default()
        },
    }
}
