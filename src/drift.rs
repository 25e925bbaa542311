//! The API drift report: what the real binaries changed between the first phase of a run
//! (the `from` version) and the last one (the `to` version), per node, in the categories of
//! the upgrade notes (added / changed / deprecated / removed), and how that compares with
//! the changes the scenario's checks document.
//!
//! Pure: observations in, report out. Written as `drift.md` and `drift.json` into the run
//! folder and snapshot per scenario (`snapshots/drift/`). Format: docs/snapshots.md.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::domain::{Role, Version};
use crate::observation::{EndpointStatus, NodeObservation, Observations};
use crate::redact::Redactor;
use crate::scenario::model::Scenario;
use crate::snapshot::{metric_names, Render};

/// What kind of thing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An endpoint `/help` lists (and its GET status).
    Endpoint,
    /// A name in `/metrics/snapshot`.
    Metric,
    /// A flag in the node's `/flags`.
    Flag,
    /// A field path of the node's state document (`/slaves/*/hostname`).
    StateField,
    /// The version the node reports in `/version`.
    Version,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Endpoint => "endpoint",
            Kind::Metric => "metric",
            Kind::Flag => "flag",
            Kind::StateField => "state field",
            Kind::Version => "version",
        }
    }
}

/// One observed change.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Change {
    /// What changed.
    pub kind: Kind,
    /// Its name (path, metric, flag, field path).
    pub name: String,
    /// Before (status, value), if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// After.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// The changes seen on one node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeDrift {
    /// Node name.
    pub node: String,
    /// `master` or `agent`.
    pub role: Role,
    /// Version at the first phase.
    pub from_version: Version,
    /// Version at the last phase.
    pub to_version: Version,
    /// Endpoints, metrics, flags, state fields that appeared.
    pub added: Vec<Change>,
    /// Endpoint statuses and flag values that changed.
    pub changed: Vec<Change>,
    /// Endpoints whose `/help` text newly says they are deprecated.
    pub deprecated: Vec<Change>,
    /// What vanished.
    pub removed: Vec<Change>,
    /// Other agents whose changes are identical to this node's.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub same_on: Vec<String>,
}

impl NodeDrift {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.changed.is_empty()
            && self.deprecated.is_empty()
            && self.removed.is_empty()
    }

    /// Whether a check's `on:` reaches this node (or one of the agents folded into it).
    fn targeted_by(&self, on: &crate::scenario::model::Target) -> bool {
        use crate::scenario::model::Target;
        match on {
            Target::Master => self.role == Role::Master,
            Target::Agents => self.role == Role::Agent,
            Target::Node(name) => self.node == *name || self.same_on.contains(name),
        }
    }

    fn all(&self) -> impl Iterator<Item = &Change> {
        self.added
            .iter()
            .chain(&self.changed)
            .chain(&self.deprecated)
            .chain(&self.removed)
    }
}

/// A documented change (a check's `documents:`) and whether it was observed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Documented {
    /// The check's `documents:` text.
    pub documents: String,
    /// What the check looks at (`endpoint /master/observe`, `flag work_dir`, ...).
    pub subject: String,
    /// The observed changes of that subject (empty: documented but not observed here).
    pub observed: Vec<String>,
    /// Where the documented version (the text before `:`) lies: `before` the range (the
    /// change is older: it must hold unchanged), `in` it, `after` it, or `unknown`.
    pub range: &'static str,
}

/// The drift report of one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Drift {
    /// Scenario name.
    pub scenario: String,
    /// First phase compared.
    pub from_phase: String,
    /// Last phase compared.
    pub to_phase: String,
    /// Per node (agents identical to an earlier agent are folded into it: `same_on`).
    pub nodes: Vec<NodeDrift>,
    /// Documented changes and whether this run observed them.
    pub documented: Vec<Documented>,
    /// Observed changes no check documents (`<node>: <kind> <name>`).
    pub undocumented: Vec<String>,
}

/// The field paths of a document with array elements generalized: `/slaves/*/hostname`.
pub fn field_paths(v: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    generic(String::new(), v, &mut out);
    out
}

fn generic(path: String, v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                generic(format!("{path}/{k}"), child, out);
            }
            if map.is_empty() && !path.is_empty() {
                out.insert(path);
            }
        }
        Value::Array(items) if items.iter().any(Value::is_object) => {
            for item in items {
                generic(format!("{path}/*"), item, out);
            }
        }
        _ => {
            out.insert(if path.is_empty() {
                "/".to_string()
            } else {
                path
            });
        }
    }
}

fn state_doc(n: &NodeObservation) -> Option<&Value> {
    n.bodies
        .iter()
        .find(|(p, _)| p.ends_with("/state"))
        .and_then(|(_, a)| a.json.as_ref())
}

fn flags_doc(n: &NodeObservation) -> BTreeMap<String, String> {
    n.bodies
        .iter()
        .find(|(p, _)| p.ends_with("/flags"))
        .and_then(|(_, a)| a.json.as_ref())
        .and_then(|j| j.get("flags"))
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_string),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The changes on one node between two observations of it.
pub fn node_drift(r: &Redactor, from: &NodeObservation, to: &NodeObservation) -> NodeDrift {
    let mut d = NodeDrift {
        node: from.node.clone(),
        role: from.role,
        from_version: from.version,
        to_version: to.version,
        added: Vec::new(),
        changed: Vec::new(),
        deprecated: Vec::new(),
        removed: Vec::new(),
        same_on: Vec::new(),
    };
    // Endpoints (only when both ends were discovered).
    if let (Some(a), Some(b)) = (&from.endpoints, &to.endpoints) {
        let status = |e: &EndpointStatus| match (&e.status, &e.skipped, &e.error) {
            (Some(s), _, _) => s.to_string(),
            (None, Some(_), _) => "skipped".to_string(),
            (None, None, Some(err)) => format!("error: {}", r.text(err)),
            _ => "?".to_string(),
        };
        let before: BTreeMap<&str, _> = a.iter().map(|e| (e.path.as_str(), e)).collect();
        let after: BTreeMap<&str, _> = b.iter().map(|e| (e.path.as_str(), e)).collect();
        for (p, e) in &after {
            match before.get(p) {
                None => d
                    .added
                    .push(change(Kind::Endpoint, p, None, Some(status(e)))),
                Some(old) => {
                    if status(old) != status(e) {
                        d.changed.push(change(
                            Kind::Endpoint,
                            p,
                            Some(status(old)),
                            Some(status(e)),
                        ));
                    }
                    if e.deprecated && !old.deprecated {
                        d.deprecated.push(change(Kind::Endpoint, p, None, None));
                    }
                }
            }
        }
        for (p, e) in &before {
            if !after.contains_key(p) {
                d.removed
                    .push(change(Kind::Endpoint, p, Some(status(e)), None));
            }
        }
    }
    // Version.
    let reported = |n: &NodeObservation| {
        n.bodies
            .get("/version")
            .and_then(|a| a.json.as_ref())
            .and_then(|j| j.get("version"))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    if let (Some(a), Some(b)) = (reported(from), reported(to)) {
        if a != b {
            d.changed
                .push(change(Kind::Version, "/version", Some(a), Some(b)));
        }
    }
    // Metrics (without windowed timer statistics: see `snapshot::metric_names`).
    if let (Some(a), Some(b)) = (&from.metrics, &to.metrics) {
        let a = metric_names(r, a);
        let b = metric_names(r, b);
        d.added.extend(
            b.difference(&a)
                .map(|m| change(Kind::Metric, m, None, None)),
        );
        d.removed.extend(
            a.difference(&b)
                .map(|m| change(Kind::Metric, m, None, None)),
        );
    }
    // Flags: the harness passes the same flags to both versions, so a changed value is a
    // changed default (or a scenario override).
    let (fa, fb) = (flags_doc(from), flags_doc(to));
    if !fa.is_empty() && !fb.is_empty() {
        for (k, v) in &fb {
            match fa.get(k) {
                None => d.added.push(change(Kind::Flag, k, None, Some(r.text(v)))),
                Some(old) if old != v => {
                    d.changed
                        .push(change(Kind::Flag, k, Some(r.text(old)), Some(r.text(v))))
                }
                _ => {}
            }
        }
        for (k, v) in &fa {
            if !fb.contains_key(k) {
                d.removed.push(change(Kind::Flag, k, Some(r.text(v)), None));
            }
        }
    }
    // State field paths (the state's own copy of the flags is left to the flags).
    if let (Some(a), Some(b)) = (state_doc(from), state_doc(to)) {
        let keep = |p: &String| !p.starts_with("/flags/");
        let pa: BTreeSet<String> = field_paths(&r.value(a)).into_iter().filter(keep).collect();
        let pb: BTreeSet<String> = field_paths(&r.value(b)).into_iter().filter(keep).collect();
        d.added.extend(
            pb.difference(&pa)
                .map(|p| change(Kind::StateField, p, None, None)),
        );
        d.removed.extend(
            pa.difference(&pb)
                .map(|p| change(Kind::StateField, p, None, None)),
        );
    }
    for list in [
        &mut d.added,
        &mut d.changed,
        &mut d.deprecated,
        &mut d.removed,
    ] {
        list.sort();
    }
    d
}

fn change(kind: Kind, name: &str, from: Option<String>, to: Option<String>) -> Change {
    Change {
        kind,
        name: name.to_string(),
        from,
        to,
    }
}

/// The drift between the first and the last phase of a run, and the documented changes.
pub fn drift(scenario: &Scenario, obs: &Observations) -> Drift {
    let r = obs.redactor();
    let mut out = Drift {
        scenario: scenario.name.value.clone(),
        ..Drift::default()
    };
    let (Some(first), Some(last)) = (obs.phases.first(), obs.phases.last()) else {
        return out;
    };
    out.from_phase = first.phase.clone();
    out.to_phase = last.phase.clone();
    for to in &last.nodes {
        // Masters are probed at the leader only, and with ZooKeeper the leader changes when
        // the old one is upgraded (last): the leader at the end is compared with the leader
        // at the start.
        let from = first.nodes.iter().find(|n| n.node == to.node).or_else(|| {
            let leader_then = first.nodes.iter().find(|n| n.role == Role::Master);
            leader_then.filter(|_| to.role == Role::Master)
        });
        let Some(from) = from else {
            continue;
        };
        if from.down.is_some() || to.down.is_some() {
            continue;
        }
        let mut d = node_drift(&r, from, to);
        if from.node != to.node {
            // Not a change between versions: the two leaders' own names (`--hostname`).
            d.changed.retain(|c| {
                c.from.as_deref() != Some(from.node.as_str())
                    || c.to.as_deref() != Some(to.node.as_str())
            });
            d.node = format!("{} (leader; {} led at the start)", to.node, from.node);
        }
        let same = out.nodes.iter_mut().find(|o| {
            o.role == d.role
                && o.from_version == d.from_version
                && o.to_version == d.to_version
                && o.added == d.added
                && o.changed == d.changed
                && o.deprecated == d.deprecated
                && o.removed == d.removed
        });
        match same {
            Some(o) => o.same_on.push(d.node),
            None => out.nodes.push(d),
        }
    }
    // Documented changes: each check's subject against the observed changes.
    let mut subjects: BTreeSet<(Kind, String)> = BTreeSet::new();
    let mut documented: BTreeSet<Documented> = BTreeSet::new();
    for c in &scenario.checks {
        let c = &c.value;
        let Some(doc) = c.documents.clone() else {
            continue;
        };
        for (kind, name) in subjects_of(c) {
            let observed: Vec<String> = out
                .nodes
                .iter()
                .filter(|n| n.targeted_by(&c.on.value))
                .flat_map(|n| n.all().map(move |ch| (n, ch)))
                .filter(|(_, ch)| ch.kind == kind && matches_subject(kind, &ch.name, &name))
                .map(|(n, ch)| format!("{}: {}", n.node, describe(ch)))
                .collect();
            subjects.insert((kind, name.clone()));
            documented.insert(Documented {
                range: range_of(&doc, &scenario.from.value, &scenario.to.value),
                documents: doc.clone(),
                subject: format!("{} {name}", kind.as_str()),
                observed,
            });
        }
    }
    out.documented = documented.into_iter().collect();
    for n in &out.nodes {
        for ch in n.all() {
            if !subjects
                .iter()
                .any(|(k, s)| *k == ch.kind && matches_subject(*k, &ch.name, s))
            {
                out.undocumented
                    .push(format!("{}: {}", n.node, describe(ch)));
            }
        }
    }
    out
}

/// Where the version a `documents:` text starts with (`1.0: ...`, `0.26 (notes): ...`)
/// lies relative to `from` -> `to`, compared by series (`1.10.0` is series 1.10).
fn range_of(documents: &str, from: &str, to: &str) -> &'static str {
    let series = |v: &str| -> Option<(u32, u32)> {
        let mut parts = v.trim().split('.');
        Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
    };
    let head = documents.split(':').next().unwrap_or_default();
    let head = head.split_whitespace().next().unwrap_or_default();
    match (series(head), series(from), series(to)) {
        (Some(d), Some(f), _) if d <= f => "before",
        (Some(d), Some(_), Some(t)) if d <= t => "in",
        (Some(_), Some(_), Some(_)) => "after",
        _ => "unknown",
    }
}

/// What a check looks at, as drift kinds and names.
fn subjects_of(c: &crate::scenario::model::Check) -> Vec<(Kind, String)> {
    let mut out = Vec::new();
    if let Some(s) = &c.status {
        if let Some(p) = s.get.as_ref().or(s.post.as_ref()) {
            out.push((Kind::Endpoint, p.value.clone()));
        }
    }
    if let Some(j) = &c.json {
        if j.get.value == "/version" {
            out.push((Kind::Version, "/version".to_string()));
        } else if j.get.value.ends_with("/state") {
            out.push((Kind::StateField, j.field.clone()));
        } else {
            out.push((Kind::Endpoint, j.get.value.clone()));
        }
    }
    for m in [&c.metric_present, &c.metric_absent].into_iter().flatten() {
        out.push((Kind::Metric, m.clone()));
    }
    if let Some(f) = &c.flag {
        out.push((Kind::Flag, f.name.clone()));
    }
    out
}

/// Whether an observed change's name is the subject a check names (state fields: the
/// check's JSON pointer with array indexes generalized; endpoints: the path without query).
fn matches_subject(kind: Kind, observed: &str, subject: &str) -> bool {
    match kind {
        Kind::StateField => {
            let generic: Vec<&str> = subject
                .split('/')
                .map(|s| if s.parse::<usize>().is_ok() { "*" } else { s })
                .collect();
            let generic = generic.join("/");
            observed == generic || observed.starts_with(&format!("{generic}/"))
        }
        Kind::Endpoint => observed == subject.split('?').next().unwrap_or(subject),
        _ => observed == subject,
    }
}

fn describe(c: &Change) -> String {
    let values = match (&c.from, &c.to) {
        (Some(a), Some(b)) => format!(" ({a} -> {b})"),
        (Some(a), None) => format!(" (was {a})"),
        (None, Some(b)) => format!(" ({b})"),
        (None, None) => String::new(),
    };
    format!("{} {}{values}", c.kind.as_str(), c.name)
}

impl Drift {
    /// Whether no node changed.
    pub fn is_empty(&self) -> bool {
        self.nodes.iter().all(NodeDrift::is_empty)
    }

    /// The report as Markdown.
    pub fn markdown(&self) -> String {
        let mut s = format!(
            "# API drift: {}\n\nFrom phase `{}` to phase `{}`, observed on the real binaries.\n",
            self.scenario, self.from_phase, self.to_phase
        );
        for n in &self.nodes {
            let others = if n.same_on.is_empty() {
                String::new()
            } else {
                format!(" (same on {})", n.same_on.join(", "))
            };
            s.push_str(&format!(
                "\n## {} ({}, {} -> {}){others}\n",
                n.node, n.role, n.from_version, n.to_version
            ));
            if n.is_empty() {
                s.push_str("\nNo change.\n");
                continue;
            }
            for (title, list) in [
                ("Added", &n.added),
                ("Changed", &n.changed),
                ("Deprecated", &n.deprecated),
                ("Removed", &n.removed),
            ] {
                if list.is_empty() {
                    continue;
                }
                s.push_str(&format!("\n### {title} ({})\n\n", list.len()));
                for c in list {
                    s.push_str(&format!("- {}\n", describe(c)));
                }
            }
        }
        s.push_str("\n## Documented changes\n\n");
        if self.documented.is_empty() {
            s.push_str("No check documents a change.\n");
        }
        for d in &self.documented {
            if d.observed.is_empty() {
                let why = match d.range {
                    "before" => "older than this range: holds unchanged",
                    "in" => "in this range, but no change seen",
                    "after" => "newer than this range",
                    _ => "version not given",
                };
                s.push_str(&format!(
                    "- documented, not observed ({why}): \"{}\" ({})\n",
                    d.documents, d.subject
                ));
            } else {
                s.push_str(&format!(
                    "- documented and observed: \"{}\" ({}): {}\n",
                    d.documents,
                    d.subject,
                    d.observed.join("; ")
                ));
            }
        }
        s.push_str(&format!(
            "\n## Observed, documented by no check ({})\n\n",
            self.undocumented.len()
        ));
        for u in &self.undocumented {
            s.push_str(&format!("- {u}\n"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;
    use crate::observation::{Answer, PhaseObservation};
    use crate::snapshot::flatten;
    use serde_json::json;

    fn master(
        version: &str,
        endpoints: &[(&str, u16)],
        metrics: &[&str],
        flags: Value,
        state: Value,
    ) -> NodeObservation {
        NodeObservation {
            endpoints: Some(
                endpoints
                    .iter()
                    .map(|(p, s)| EndpointStatus {
                        path: p.to_string(),
                        status: Some(*s),
                        ..EndpointStatus::default()
                    })
                    .collect(),
            ),
            bodies: BTreeMap::from([
                (
                    "/master/flags".to_string(),
                    Answer {
                        status: Some(200),
                        json: Some(json!({ "flags": flags })),
                        ..Answer::default()
                    },
                ),
                (
                    "/master/state".to_string(),
                    Answer {
                        status: Some(200),
                        json: Some(state),
                        ..Answer::default()
                    },
                ),
            ]),
            metrics: Some(metrics.iter().map(|m| m.to_string()).collect()),
            ..NodeObservation::new("master-1", Role::Master, version.parse().unwrap())
        }
    }

    fn observations(a: NodeObservation, b: NodeObservation) -> Observations {
        Observations {
            phases: vec![
                PhaseObservation {
                    phase: "start".into(),
                    nodes: vec![a],
                    ..PhaseObservation::default()
                },
                PhaseObservation {
                    phase: "upgrade_masters".into(),
                    nodes: vec![b],
                    ..PhaseObservation::default()
                },
            ],
            ..Observations::default()
        }
    }

    fn scenario() -> Scenario {
        let yaml = "format: 1\nname: t\nfrom: 1.10.0\nto: 1.11.0\ndistribution: local\ntopology: { masters: 1, agents: 1 }\norder: { deviates: { reason: test } }\nsteps: [upgrade_masters]\nchecks:\n  - after: start\n    status: { get: /master/observe, code: 404 }\n    documents: \"1.0: /observe deleted\"\n  - after: start\n    flag: { name: registry_strict }\n    documents: \"1.0: registry_strict\"\n";
        crate::scenario::load::parse_and_validate(std::path::Path::new("t.yaml"), yaml)
            .expect("valid scenario")
    }

    #[test]
    fn same_version_on_both_sides_gives_an_empty_report() {
        let m = master(
            "1.11.0",
            &[("/master/state", 200)],
            &["master/elected"],
            json!({"a": "1"}),
            json!({"id": "x", "slaves": [{"id": "a"}]}),
        );
        let d = drift(&scenario(), &observations(m.clone(), m));
        assert!(d.is_empty());
        assert!(d.undocumented.is_empty());
        assert!(d.documented.iter().all(|x| x.observed.is_empty()));
    }

    #[test]
    fn with_a_new_leader_the_leaders_are_compared() {
        let old = master(
            "1.10.0",
            &[],
            &[],
            json!({"a": "1", "hostname": "master-1"}),
            json!({"id": "x"}),
        );
        let mut new = master(
            "1.11.0",
            &[],
            &[],
            json!({"a": "1", "b": "2", "hostname": "master-2"}),
            json!({"id": "x"}),
        );
        new.node = "master-2".into();
        let d = drift(&scenario(), &observations(old, new));
        assert_eq!(d.nodes.len(), 1);
        assert_eq!(
            d.nodes[0].node,
            "master-2 (leader; master-1 led at the start)"
        );
        assert_eq!(d.nodes[0].from_version, "1.10.0");
        assert_eq!(d.nodes[0].to_version, "1.11.0");
        assert!(d.markdown().contains("flag b (2)"), "{}", d.markdown());
        assert!(!d.markdown().contains("hostname"), "{}", d.markdown());
    }

    #[test]
    fn documented_versions_are_placed_in_the_range() {
        assert_eq!(
            range_of("1.0: /observe deleted", "1.10.0", "1.11.0"),
            "before"
        );
        assert_eq!(range_of("1.11.0: new master", "1.10.0", "1.11.0"), "in");
        assert_eq!(
            range_of("0.26 (mesos-facts.md): /version", "0.25.0", "0.26.0"),
            "in"
        );
        assert_eq!(
            range_of("1.x (zookeeper.md): elected", "1.10.0", "1.11.0"),
            "unknown"
        );
    }

    #[test]
    fn changes_land_in_the_notes_categories() {
        let a = master(
            "1.10.0",
            &[
                ("/master/state", 200),
                ("/master/observe", 200),
                ("/master/roles", 200),
            ],
            &["master/elected", "master/old"],
            json!({"registry_strict": "false", "gone": "1"}),
            json!({"slaves": [{"id": "a", "hostname": "agent-1"}]}),
        );
        let b = master(
            "1.11.0",
            &[
                ("/master/state", 200),
                ("/master/roles", 503),
                ("/master/new", 200),
            ],
            &["master/elected", "master/new"],
            json!({"registry_strict": "true", "fresh": "x"}),
            json!({"slaves": [{"id": "a", "hostname": "agent-1", "drain_info": {}}]}),
        );
        let d = drift(&scenario(), &observations(a, b));
        insta::assert_snapshot!(d.markdown());
    }

    #[test]
    fn flatten_names_elements_by_label() {
        let v = json!({"slaves": [{"id": "b", "x": 1}, {"id": "a"}], "caps": ["X"], "e": {}});
        assert_eq!(
            flatten(&v),
            vec![
                ("/caps".to_string(), "[\"X\"]".to_string()),
                ("/e".to_string(), "{}".to_string()),
                ("/slaves/b/id".to_string(), "\"b\"".to_string()),
                ("/slaves/b/x".to_string(), "1".to_string()),
                ("/slaves/a/id".to_string(), "\"a\"".to_string()),
            ]
        );
        assert!(field_paths(&v).contains("/slaves/*/x"));
    }
}
