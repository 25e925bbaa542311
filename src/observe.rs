//! Observations at every phase: what each node of the cluster answers, recorded raw and
//! rendered normalized (through [`crate::redact`]) for snapshots and the drift report.
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
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::drift;
use crate::mesos::client::{ClientError, MesosClient, RawResponse};
use crate::mesos::roles::Role;
use crate::redact::Redactor;
use crate::run::cluster::{self, Cluster};
use crate::scenario::model::{Scenario, Target};

/// Everything observed in one run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Observations {
    /// The run id (redacted to `[run-id]`).
    pub run_id: String,
    /// Node name -> address on the run network (redacted to `[ip:<node>]`).
    pub addresses: BTreeMap<String, String>,
    /// One entry per phase, in order.
    pub phases: Vec<PhaseObservation>,
}

/// What the nodes answered at one phase.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PhaseObservation {
    /// Phase name, as checks name it in `after:`.
    pub phase: String,
    /// Whether endpoints were discovered and probed at this phase.
    pub discovered: bool,
    /// Leading master first, then the agents by name.
    pub nodes: Vec<NodeObservation>,
    /// Wall time the probes took at this phase, milliseconds.
    pub millis: u64,
}

/// What one node answered at one phase.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NodeObservation {
    /// Node name.
    pub node: String,
    /// `master` or `agent`.
    pub role: String,
    /// The Mesos version the runner started there.
    pub version: String,
    /// Why the node was not probed (its process is down), if it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub down: Option<String>,
    /// Every endpoint `/help` lists, when discovered at this phase.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<Vec<EndpointStatus>>,
    /// Path -> answer, for the recorded bodies.
    pub bodies: BTreeMap<String, Answer>,
    /// Names in `/metrics/snapshot`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Vec<String>>,
    /// The scenario's `probes:` that reach this node.
    pub probes: Vec<ProbeAnswer>,
    /// What went wrong while probing (a node that stopped answering, and after what).
    pub findings: Vec<String>,
    /// Wall time, milliseconds.
    pub millis: u64,
}

/// One endpoint of `/help` and what a GET answered.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct EndpointStatus {
    /// Full path (`/master/state`).
    pub path: String,
    /// Status of the GET.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why it was not requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// Why no status came back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Whether its `/help` text calls it deprecated.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deprecated: bool,
}

/// An answer as it came (JSON if it parsed, else text).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Answer {
    /// HTTP status, `None` when the request failed.
    pub status: Option<u16>,
    /// The body, if JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json: Option<Value>,
    /// The body, if not JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Why there is no answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The answer to one of the scenario's `probes:`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProbeAnswer {
    /// The probe's name.
    pub name: String,
    /// `GET /path` or `POST /path`.
    pub request: String,
    /// Whether the body goes into snapshots (else only the status).
    pub snapshot: bool,
    /// What came back.
    pub answer: Answer,
}

/// Why a GET of `path` on a node of `role` running `version` must not be made, if so.
pub fn skip_reason(path: &str, role: Role, version: &str) -> Option<&'static str> {
    let mutating = [
        "/teardown",
        "/machine/up",
        "/machine/down",
        "/reserve",
        "/unreserve",
        "/create-volumes",
        "/destroy-volumes",
        "/quota",
        "/weights",
        "/logging/toggle",
        "/profiler/start",
        "/profiler/stop",
    ];
    if path.contains("/api/v1") {
        return Some("v1 API (calls that subscribe, stream or change state)");
    }
    if path.contains("/maintenance/") {
        return Some("maintenance (schedules change state)");
    }
    if mutating.iter().any(|m| path.ends_with(m)) {
        return Some("changes state or starts work");
    }
    if role == Role::Agent && path.ends_with("/containerizer/debug") && at_least(version, 1, 9) {
        return Some(
            "kills 1.9+ agents of these builds (no PendingFutureTracker; real-mesos.md, Limits)",
        );
    }
    None
}

fn at_least(version: &str, major: u32, minor: u32) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (a, b) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (a, b) >= (major, minor)
}

const METRICS: &str = "/metrics/snapshot";

/// The recorded bodies of a node of `role`.
pub fn body_paths(role: Role) -> [&'static str; 3] {
    match role {
        Role::Master => ["/version", "/master/flags", "/master/state"],
        Role::Agent => ["/version", "/slave(1)/flags", "/slave(1)/state"],
    }
}

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

/// Writes `observations.json`, `drift.md` and `drift.json` into the run folder.
pub fn write_run_folder(
    folder: &Path,
    scenario: &Scenario,
    obs: &Observations,
) -> std::io::Result<()> {
    obs.write(folder)?;
    drift::drift(scenario, obs).write(folder)
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
            .map(|name| observe_node(cluster, scenario, name, discover)),
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
    discover: bool,
) -> NodeObservation {
    let started = Instant::now();
    let state = cluster.nodes.get(name).cloned();
    let (role, version, pid) = match &state {
        Some(s) => (s.role, s.version.clone(), s.pid),
        None => (Role::Master, String::new(), None),
    };
    let mut obs = NodeObservation {
        node: name.to_string(),
        role: role.as_str().to_string(),
        version: version.clone(),
        ..NodeObservation::default()
    };
    let Some(pid) = pid else {
        obs.down = Some("its Mesos process is down (by design at this phase)".to_string());
        return obs;
    };
    let target = match cluster.target(name) {
        Ok(t) => t,
        Err(e) => {
            obs.down = Some(e);
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
                let mut table = Vec::new();
                for path in help.endpoint_paths() {
                    let mut e = EndpointStatus {
                        deprecated: deprecated.contains(&path),
                        path: path.clone(),
                        ..EndpointStatus::default()
                    };
                    if let Some(why) = skip_reason(&path, role, &version) {
                        e.skipped = Some(why.to_string());
                    } else {
                        last = path.clone();
                        match client.get(base, &path).await {
                            Ok(r) => {
                                e.status = Some(r.status);
                                if path == METRICS || body_paths(role).contains(&path.as_str()) {
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
        for path in body_paths(role) {
            let reply = match seen.remove(path) {
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
    ) && client.get(base, "/version").await.is_err()
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
                ..Answer::default()
            },
            Err(_) => Answer {
                status: Some(r.status),
                text: Some(r.text()),
                ..Answer::default()
            },
        },
        Err(e) => Answer {
            error: Some(e.brief()),
            ..Answer::default()
        },
    }
}

/// A phase name as a folder name: `upgrade_agents/agent-1` -> `upgrade_agents.agent-1`,
/// `restart_masters_with_flag#2` -> `restart_masters_with_flag~2`.
pub fn phase_folder(phase: &str) -> String {
    phase.replace('/', ".").replace('#', "~")
}

/// One section of a rendered node observation: a title and its lines.
pub type Section = (String, Vec<String>);

impl Observations {
    /// The redactor for this run: node addresses, the run id, and every ID seen in a state.
    pub fn redactor(&self) -> Redactor {
        let mut r = Redactor::new();
        for (node, ip) in &self.addresses {
            r.node(node, ip);
        }
        r.run_id(&self.run_id);
        for phase in &self.phases {
            for n in &phase.nodes {
                for (path, a) in &n.bodies {
                    let Some(json) = &a.json else { continue };
                    if path == "/master/state" {
                        r.learn_master_state(&n.node, json);
                    } else if path == "/slave(1)/state" {
                        r.learn_agent_state(&n.node, json);
                    }
                }
            }
        }
        r
    }

    /// Total probe time, milliseconds.
    pub fn millis(&self) -> u64 {
        self.phases.iter().map(|p| p.millis).sum()
    }

    /// Every (phase folder, node, snapshot text), in phase order: the first phase in full,
    /// later ones as the changes since the previous phase.
    pub fn snapshots(&self) -> Vec<(String, String, String)> {
        let r = self.redactor();
        let mut previous: BTreeMap<String, (String, Vec<Section>)> = BTreeMap::new();
        let mut last_endpoints: BTreeMap<String, Section> = BTreeMap::new();
        let mut out = Vec::new();
        for phase in &self.phases {
            for n in &phase.nodes {
                let mut sections = sections(&r, n);
                let header = format!(
                    "node {} ({} {}) at phase `{}`",
                    n.node, n.role, n.version, phase.phase
                );
                // Endpoint tables compare with the last phase that discovered them.
                let ep = sections.iter().position(|(t, _)| t == ENDPOINTS);
                let text = match (previous.get(&n.node), &n.down) {
                    (_, Some(why)) => format!("{header}\ndown: {why}\n"),
                    (Some((since, before)), None) => {
                        let mut before = before.clone();
                        before.retain(|(t, _)| t != ENDPOINTS);
                        if let (Some(i), Some(prev)) = (ep, last_endpoints.get(&n.node)) {
                            before.push(prev.clone());
                            let _ = i;
                        }
                        delta(&header, since, &before, &sections)
                    }
                    (None, None) => full(&header, &sections),
                };
                if let Some(i) = ep {
                    last_endpoints.insert(n.node.clone(), sections[i].clone());
                }
                if n.down.is_none() {
                    sections.retain(|(t, _)| t != ENDPOINTS);
                    previous.insert(n.node.clone(), (phase.phase.clone(), sections));
                }
                out.push((phase_folder(&phase.phase), n.node.clone(), text));
            }
        }
        out
    }

    /// Writes `observations.json` (raw) into the run folder.
    pub fn write(&self, folder: &Path) -> std::io::Result<PathBuf> {
        let path = folder.join("observations.json");
        let json = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(&path, json + "\n")?;
        Ok(path)
    }
}

const ENDPOINTS: &str = "endpoints (GET status)";

/// A node observation as normalized sections of `path = value` lines.
pub fn sections(r: &Redactor, n: &NodeObservation) -> Vec<Section> {
    let mut out = Vec::new();
    if let Some(table) = &n.endpoints {
        let lines = table
            .iter()
            .map(|e| {
                let dep = if e.deprecated { " (deprecated)" } else { "" };
                match (&e.status, &e.skipped, &e.error) {
                    (Some(s), _, _) => format!("{s} {}{dep}", e.path),
                    (None, Some(why), _) => format!("skipped {}{dep}: {why}", e.path),
                    (None, None, Some(err)) => format!("error {}{dep}: {}", e.path, r.text(err)),
                    _ => format!("? {}", e.path),
                }
            })
            .collect();
        out.push((ENDPOINTS.to_string(), lines));
    }
    for (path, a) in &n.bodies {
        out.push((path.clone(), answer_lines(r, a)));
    }
    if let Some(m) = &n.metrics {
        out.push((
            "metrics (names)".to_string(),
            metric_names(r, m).into_iter().collect(),
        ));
    }
    for p in &n.probes {
        let title = format!("probe {} ({})", p.name, p.request);
        let lines = if p.snapshot {
            answer_lines(r, &p.answer)
        } else {
            vec![format!("status {}", status_text(&p.answer))]
        };
        out.push((title, lines));
    }
    if !n.findings.is_empty() {
        out.push((
            "findings".to_string(),
            n.findings.iter().map(|f| r.text(f)).collect(),
        ));
    }
    out
}

/// Statistics a windowed timer adds to its name while it has samples in its window.
const TIMER_STATISTICS: [&str; 9] = [
    "count", "min", "max", "p50", "p90", "p95", "p99", "p999", "p9999",
];

/// Metric names, normalized, without the statistics of windowed timers (`<timer>/p50`, ...):
/// those come and go with the samples in the window, not with the version.
pub fn metric_names(r: &Redactor, names: &[String]) -> BTreeSet<String> {
    let all: BTreeSet<String> = names.iter().map(|m| r.text(m)).collect();
    all.iter()
        .filter(|m| match m.rsplit_once('/') {
            Some((base, stat)) => !(TIMER_STATISTICS.contains(&stat) && all.contains(base)),
            None => true,
        })
        .cloned()
        .collect()
}

fn status_text(a: &Answer) -> String {
    match (a.status, &a.error) {
        (Some(s), _) => s.to_string(),
        (None, Some(e)) => format!("no answer: {e}"),
        _ => "no answer".to_string(),
    }
}

/// A body as `path = value` lines (a state's `flags` copy is left to the flags document).
fn answer_lines(r: &Redactor, a: &Answer) -> Vec<String> {
    let mut lines = vec![format!("status {}", status_text(a))];
    if let Some(json) = &a.json {
        let mut v = r.value(json);
        if let Some(map) = v.as_object_mut() {
            if map.contains_key("slaves")
                || map.contains_key("executors")
                || map.contains_key("completed_frameworks")
            {
                map.remove("flags");
            }
        }
        lines.extend(
            drift::flatten(&v)
                .into_iter()
                .map(|(p, v)| format!("{p} = {v}")),
        );
    } else if let Some(text) = &a.text {
        lines.extend(r.text(text).lines().map(str::to_string));
    }
    lines
}

fn full(header: &str, sections: &[Section]) -> String {
    let mut s = format!("{header}\n");
    for (title, lines) in sections {
        s.push_str(&format!("\n## {title}\n"));
        for l in lines {
            s.push_str(l);
            s.push('\n');
        }
    }
    s
}

fn delta(header: &str, since: &str, before: &[Section], after: &[Section]) -> String {
    let mut body = String::new();
    let titles: BTreeSet<&String> = before.iter().chain(after).map(|(t, _)| t).collect();
    let find = |list: &[Section], t: &str| -> Vec<String> {
        list.iter()
            .find(|(x, _)| x == t)
            .map(|(_, l)| l.clone())
            .unwrap_or_default()
    };
    // Sections in the order they are rendered in full.
    let mut ordered: Vec<&String> = after.iter().map(|(t, _)| t).collect();
    ordered.extend(
        titles
            .iter()
            .filter(|t| !after.iter().any(|(x, _)| x == **t)),
    );
    for t in ordered {
        let (b, a) = (find(before, t), find(after, t));
        let bs: BTreeSet<&String> = b.iter().collect();
        let as_: BTreeSet<&String> = a.iter().collect();
        let mut changes: Vec<(String, u8, String)> = Vec::new();
        for l in b.iter().filter(|l| !as_.contains(l)) {
            changes.push((sort_key(l), 0, format!("- {l}")));
        }
        for l in a.iter().filter(|l| !bs.contains(l)) {
            changes.push((sort_key(l), 1, format!("+ {l}")));
        }
        if changes.is_empty() {
            continue;
        }
        changes.sort();
        body.push_str(&format!("\n## {t}\n"));
        for (_, _, l) in changes {
            body.push_str(&l);
            body.push('\n');
        }
    }
    if body.is_empty() {
        format!("{header}\nno change since `{since}`\n")
    } else {
        format!("{header}\nchanges since `{since}`:\n{body}")
    }
}

/// Lines sort by their path, so that `- /x = 1` and `+ /x = 2` stay together.
fn sort_key(line: &str) -> String {
    line.split(" = ").next().unwrap_or(line).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(version: &str, state: Value, metrics: &[&str]) -> NodeObservation {
        NodeObservation {
            node: "agent-1".into(),
            role: "agent".into(),
            version: version.into(),
            bodies: BTreeMap::from([(
                "/slave(1)/state".to_string(),
                Answer {
                    status: Some(200),
                    json: Some(state),
                    ..Answer::default()
                },
            )]),
            metrics: Some(metrics.iter().map(|m| m.to_string()).collect()),
            ..NodeObservation::default()
        }
    }

    #[test]
    fn skips_what_changes_state_and_the_known_crash() {
        assert!(skip_reason("/master/teardown", Role::Master, "1.11.0").is_some());
        assert!(skip_reason("/master/api/v1/scheduler", Role::Master, "1.11.0").is_some());
        assert!(skip_reason("/master/maintenance/status", Role::Master, "1.11.0").is_some());
        assert!(skip_reason("/master/state", Role::Master, "1.11.0").is_none());
        assert!(skip_reason("/slave(1)/containerizer/debug", Role::Agent, "1.9.0").is_some());
        assert!(skip_reason("/slave(1)/containerizer/debug", Role::Agent, "1.8.1").is_none());
        assert!(skip_reason("/profiler/start", Role::Agent, "1.4.3").is_some());
    }

    #[test]
    fn later_phases_show_only_changes() {
        let obs = Observations {
            run_id: "abc123abc123".into(),
            addresses: BTreeMap::from([("agent-1".to_string(), "10.0.0.3".to_string())]),
            phases: vec![
                PhaseObservation {
                    phase: "start".into(),
                    nodes: vec![node(
                        "1.10.0",
                        json!({"id": "bc1869c7-a758-4c7b-a7ad-c073517efc20-S0", "version": "1.10.0", "pid": "slave(1)@10.0.0.3:5051"}),
                        &["a", "b"],
                    )],
                    ..PhaseObservation::default()
                },
                PhaseObservation {
                    phase: "upgrade_agents/agent-1".into(),
                    nodes: vec![node(
                        "1.11.0",
                        json!({"id": "bc1869c7-a758-4c7b-a7ad-c073517efc20-S0", "version": "1.11.0", "pid": "slave(1)@10.0.0.3:5051"}),
                        &["a", "c"],
                    )],
                    ..PhaseObservation::default()
                },
                PhaseObservation {
                    phase: "upgrade_agents".into(),
                    nodes: vec![node(
                        "1.11.0",
                        json!({"id": "bc1869c7-a758-4c7b-a7ad-c073517efc20-S0", "version": "1.11.0", "pid": "slave(1)@10.0.0.3:5051"}),
                        &["a", "c"],
                    )],
                    ..PhaseObservation::default()
                },
            ],
        };
        let snaps = obs.snapshots();
        assert_eq!(snaps[1].0, "upgrade_agents.agent-1");
        insta::assert_snapshot!(snaps.iter().map(|(p, n, t)| format!("=== {p}/{n}\n{t}")).collect::<String>(), @r#"
        === start/agent-1
        node agent-1 (agent 1.10.0) at phase `start`

        ## /slave(1)/state
        status 200
        /id = "[agent-id:agent-1]"
        /pid = "slave(1)@[ip:agent-1]:5051"
        /version = "1.10.0"

        ## metrics (names)
        a
        b
        === upgrade_agents.agent-1/agent-1
        node agent-1 (agent 1.11.0) at phase `upgrade_agents/agent-1`
        changes since `start`:

        ## /slave(1)/state
        - /version = "1.10.0"
        + /version = "1.11.0"

        ## metrics (names)
        - b
        + c
        === upgrade_agents/agent-1
        node agent-1 (agent 1.11.0) at phase `upgrade_agents`
        no change since `upgrade_agents/agent-1`
        "#);
    }
}
