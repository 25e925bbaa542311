//! Snapshot rendering: a run's observations as normalized text, one snapshot per phase
//! and node (the first phase in full, later ones as the changes since the previous one),
//! stable between runs (every normalization goes through [`crate::redact`]).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::mesos::endpoints;
use crate::observation::{Answer, NodeObservation, Observations};
use crate::redact::{label, Redactor};

/// A phase name as a folder name: `upgrade_agents/agent-1` -> `upgrade_agents.agent-1`,
/// `restart_masters_with_flag#2` -> `restart_masters_with_flag~2`.
pub fn phase_folder(phase: &str) -> String {
    phase.replace('/', ".").replace('#', "~")
}

/// One section of a rendered node observation: a title and its lines.
pub type Section = (String, Vec<String>);

/// Snapshot rendering of a run's observations.
pub trait Render {
    /// The redactor for this run: node addresses, the run id, and every ID seen in a state.
    fn redactor(&self) -> Redactor;
    /// Every (phase folder, node, snapshot text), in phase order.
    fn snapshots(&self) -> Vec<(String, String, String)>;
}

impl Render for Observations {
    /// The redactor for this run: node addresses, the run id, and every ID seen in a state.
    fn redactor(&self) -> Redactor {
        let mut r = Redactor::new();
        for (node, ip) in &self.addresses {
            r.node(node, ip);
        }
        r.run_id(&self.run_id);
        for phase in &self.phases {
            for n in &phase.nodes {
                for (path, a) in &n.bodies {
                    let Some(json) = &a.json else { continue };
                    if path == endpoints::MASTER_STATE {
                        r.learn_master_state(&n.node, json);
                    } else if path == endpoints::AGENT_STATE {
                        r.learn_agent_state(&n.node, json);
                    }
                }
            }
        }
        r
    }

    /// Every (phase folder, node, snapshot text), in phase order: the first phase in full,
    /// later ones as the changes since the previous phase.
    fn snapshots(&self) -> Vec<(String, String, String)> {
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
        lines.extend(flatten(&v).into_iter().map(|(p, v)| format!("{p} = {v}")));
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

/// JSON as `(path, compact value)` leaves. Array elements of arrays of objects are named by
/// their label (`id`, `name`, ...) when labels are unique, else by index; arrays of scalars and
/// empty containers are one leaf.
pub fn flatten(v: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    walk(String::new(), v, &mut out);
    out
}

fn walk(path: String, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) if !map.is_empty() => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for k in keys {
                walk(format!("{path}/{k}"), &map[k], out);
            }
        }
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_object) => {
            let labels: Vec<Option<String>> = items.iter().map(label).collect();
            let unique = labels.iter().all(Option::is_some)
                && labels.iter().collect::<BTreeSet<_>>().len() == labels.len();
            for (i, item) in items.iter().enumerate() {
                let name = if unique {
                    labels[i].clone().unwrap_or_default()
                } else {
                    i.to_string()
                };
                walk(format!("{path}/{name}"), item, out);
            }
        }
        other => out.push((
            if path.is_empty() {
                "/".to_string()
            } else {
                path
            },
            other.to_string(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;
    use crate::observation::PhaseObservation;
    use serde_json::json;

    fn node(version: &str, state: Value, metrics: &[&str]) -> NodeObservation {
        NodeObservation {
            bodies: BTreeMap::from([(
                "/slave(1)/state".to_string(),
                Answer {
                    status: Some(200),
                    json: Some(state),
                    ..Answer::default()
                },
            )]),
            metrics: Some(metrics.iter().map(|m| m.to_string()).collect()),
            ..NodeObservation::new("agent-1", Role::Agent, version.parse().unwrap())
        }
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
