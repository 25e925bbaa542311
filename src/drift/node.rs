//! The changes on one node between two observations of it, comparing like with like: values
//! the harness sets with the version in them are normalized (`redact::harness_version`),
//! fields that come from what happened to the cluster (`mesos::endpoints::PHASE_EFFECTS`)
//! and fields of workload collections empty at one end are listed as not compared.

use crate::mesos::endpoints;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::observation::{Answer, EndpointStatus, NodeObservation};
use crate::redact::{harness_version, Redactor};
use crate::snapshot::metric_names;

use super::{Change, Kind, NodeDrift, NotCompared};

/// The field paths of a document with array elements generalized: `/slaves/*/hostname`.
pub fn field_paths(v: &Value) -> BTreeSet<String> {
    shape(v).fields
}

/// What a document's field paths are, and which arrays of objects had elements (whose
/// fields can then be compared).
#[derive(Default)]
struct Shape {
    fields: BTreeSet<String>,
    /// Generalized paths of arrays with at least one object element.
    full: BTreeSet<String>,
}

fn shape(v: &Value) -> Shape {
    let mut out = Shape::default();
    generic(String::new(), v, &mut out);
    out
}

fn generic(path: String, v: &Value, out: &mut Shape) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                generic(format!("{path}/{k}"), child, out);
            }
            if map.is_empty() && !path.is_empty() {
                out.fields.insert(path);
            }
        }
        Value::Array(items) if items.iter().any(Value::is_object) => {
            // The array itself is a field whether it is empty or not: an empty list that
            // filled up is not a removed field.
            out.fields.insert(path.clone());
            out.full.insert(path.clone());
            for item in items {
                generic(format!("{path}/*"), item, out);
            }
        }
        _ => {
            out.fields.insert(if path.is_empty() {
                "/".to_string()
            } else {
                path
            });
        }
    }
}

/// The arrays a field path lies in (`/a/*/b/*/c` -> `/a`, `/a/*/b`).
fn arrays_of(path: &str) -> Vec<&str> {
    path.match_indices("/*")
        .filter(|(i, _)| path[i + 2..].is_empty() || path[i + 2..].starts_with('/'))
        .map(|(i, _)| &path[..i])
        .collect()
}

fn state_doc(n: &NodeObservation) -> Option<&Value> {
    n.bodies
        .get(endpoints::state_path(n.role)?)
        .and_then(|a| a.json.as_ref())
}

fn flags_doc(n: &NodeObservation) -> BTreeMap<String, String> {
    let version = n.version.to_string();
    endpoints::flags_path(n.role)
        .and_then(|path| n.bodies.get(path))
        .and_then(|a| a.json.as_ref())
        .and_then(|j| j.get("flags"))
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                    (k.clone(), harness_version(&text, &version))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A node's observation with every body, metric name and error normalized by `r` (a
/// cluster's IDs and addresses), for comparing with a node of another cluster.
pub(super) fn redacted(r: &Redactor, n: &NodeObservation) -> NodeObservation {
    let mut out = n.clone();
    for a in out.bodies.values_mut() {
        if let Some(j) = &a.json {
            a.json = Some(r.value(j));
        }
    }
    if let Some(m) = &n.metrics {
        out.metrics = Some(metric_names(r, m).into_iter().collect());
    }
    for e in out.endpoints.iter_mut().flatten() {
        e.error = e.error.as_deref().map(|t| r.text(t));
    }
    for p in &mut out.probes {
        if let Some(j) = &p.answer.json {
            p.answer.json = Some(r.value(j));
        }
    }
    out
}

/// The v1 operator calls a node was asked (probes named by `super::v1_probe_name`), by call.
fn v1_answers(n: &NodeObservation) -> BTreeMap<String, &Answer> {
    n.probes
        .iter()
        .filter(|p| p.request == "POST /api/v1")
        .filter_map(|p| Some((super::v1_probe_call(&p.name)?, &p.answer)))
        .collect()
}

fn answer_status(r: &Redactor, a: &Answer) -> String {
    match (&a.status, &a.error) {
        (Some(s), _) => s.to_string(),
        (None, Some(e)) => format!("error: {}", r.text(e)),
        (None, None) => "?".to_string(),
    }
}

/// The v1 calls (only where both ends were asked): calls the version knows, their status,
/// the field paths of their answers (like with like, as for the state document).
fn v1_changes(r: &Redactor, from: &NodeObservation, to: &NodeObservation, d: &mut NodeDrift) {
    let (a, b) = (v1_answers(from), v1_answers(to));
    if a.is_empty() || b.is_empty() {
        return;
    }
    for (call, ans) in &b {
        let Some(old) = a.get(call) else {
            d.added.push(change(
                Kind::V1Call,
                call,
                None,
                Some(answer_status(r, ans)),
            ));
            continue;
        };
        let (sa, sb) = (answer_status(r, old), answer_status(r, ans));
        if sa != sb {
            d.changed
                .push(change(Kind::V1Call, call, Some(sa), Some(sb)));
        }
        if let (Some(ja), Some(jb)) = (&old.json, &ans.json) {
            v1_fields(call, &r.value(ja), &r.value(jb), d);
        }
    }
    for (call, ans) in &a {
        if !b.contains_key(call) {
            d.removed.push(change(
                Kind::V1Call,
                call,
                Some(answer_status(r, ans)),
                None,
            ));
        }
    }
}

/// The field paths of one call's two answers.
fn v1_fields(call: &str, a: &Value, b: &Value, d: &mut NodeDrift) {
    let (sa, sb) = (shape(a), shape(b));
    let one_side = sb
        .fields
        .difference(&sa.fields)
        .map(|p| (p, true))
        .chain(sa.fields.difference(&sb.fields).map(|p| (p, false)));
    for (p, added) in one_side {
        if let Some((pattern, why)) = endpoints::BUILD_PROVENANCE
            .iter()
            .find(|(f, _)| crate::mesos::notes::matches(f, p))
        {
            d.not_compared.push(NotCompared {
                name: format!("{call} {pattern}"),
                why: why.to_string(),
            });
            continue;
        }
        // A field inside a list that was empty at one end: the workload decides.
        if let Some(list) = arrays_of(p)
            .into_iter()
            .find(|l| !(sa.full.contains(*l) && sb.full.contains(*l)))
        {
            let end = if sa.full.contains(list) {
                "the end"
            } else {
                "the start"
            };
            d.not_compared.push(NotCompared {
                name: format!("{call} {list}/*"),
                why: format!("empty at {end} (workload): its elements' fields cannot be compared"),
            });
            continue;
        }
        let c = change(Kind::V1Field, &format!("{call} {p}"), None, None);
        if added {
            d.added.push(c);
        } else {
            d.removed.push(c);
        }
    }
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
        not_compared: Vec::new(),
        same_on: Vec::new(),
        present: [presence(r, from), presence(r, to)],
    };
    endpoint_changes(r, from, to, &mut d);
    // Metrics (without windowed timer statistics: see `snapshot::metric_names`).
    if let (Some(a), Some(b)) = (&from.metrics, &to.metrics) {
        let a = metric_names(r, a);
        let b = metric_names(r, b);
        for (m, added) in b
            .difference(&a)
            .map(|m| (m, true))
            .chain(a.difference(&b).map(|m| (m, false)))
        {
            let event = endpoints::EVENT_METRICS
                .iter()
                .find(|(p, _)| crate::mesos::notes::matches(p, m));
            match event {
                Some((p, why)) => d.not_compared.push(NotCompared {
                    name: p.to_string(),
                    why: why.to_string(),
                }),
                None if added => d.added.push(change(Kind::Metric, m, None, None)),
                None => d.removed.push(change(Kind::Metric, m, None, None)),
            }
        }
    }
    // Flags: the harness passes the same flags to both versions (paths with the version in
    // them normalized), so a changed value is a changed default (or a scenario override).
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
    if let (Some(a), Some(b)) = (state_doc(from), state_doc(to)) {
        state_changes(&r.value(a), &r.value(b), &mut d);
    }
    format_changes(from, to, &mut d);
    v1_changes(r, from, to, &mut d);
    for list in [
        &mut d.added,
        &mut d.changed,
        &mut d.deprecated,
        &mut d.removed,
    ] {
        list.sort();
    }
    d.not_compared.sort();
    d.not_compared.dedup();
    d
}

/// How each body recorded at both ends was serialized: a trait both ends show that differs is
/// a change (`/master/state slash`). Observations without formats (older ones) compare
/// nothing.
fn format_changes(from: &NodeObservation, to: &NodeObservation, d: &mut NodeDrift) {
    for (path, a) in &from.bodies {
        let (Some(fa), Some(fb)) = (
            a.format.as_ref(),
            to.bodies.get(path).and_then(|b| b.format.as_ref()),
        ) else {
            continue;
        };
        // A trait seen at one end only is content, not format (no `/` in one body says
        // nothing about how it would be escaped): compared where both ends show it.
        for (t, va) in &fa.0 {
            if let Some(vb) = fb.0.get(t) {
                if va != vb {
                    d.changed.push(change(
                        Kind::Format,
                        &format!("{path} {t}"),
                        Some(va.clone()),
                        Some(vb.clone()),
                    ));
                }
            }
        }
    }
}

/// Every element of one observation, for telling "already there" from "never there".
fn presence(r: &Redactor, n: &NodeObservation) -> BTreeSet<(Kind, String)> {
    let mut out = BTreeSet::new();
    for e in n.endpoints.iter().flatten() {
        out.insert((Kind::Endpoint, e.path.clone()));
    }
    for m in n
        .metrics
        .as_deref()
        .map(|m| metric_names(r, m))
        .unwrap_or_default()
    {
        out.insert((Kind::Metric, m));
    }
    for f in flags_doc(n).into_keys() {
        out.insert((Kind::Flag, f));
    }
    for (call, a) in v1_answers(n) {
        if let Some(j) = &a.json {
            for p in field_paths(&r.value(j)) {
                out.insert((Kind::V1Field, format!("{call} {p}")));
            }
        }
        out.insert((Kind::V1Call, call));
    }
    if let Some(state) = state_doc(n) {
        let v = r.value(state);
        for p in field_paths(&v) {
            out.insert((Kind::StateField, p));
        }
        for path in endpoints::API_VALUES {
            for m in values_at(&v, path) {
                out.insert((Kind::StateValue, format!("{path} = {m}")));
            }
        }
    }
    out
}

/// Endpoints (only when both ends were discovered): added, removed, status, deprecation.
fn endpoint_changes(r: &Redactor, from: &NodeObservation, to: &NodeObservation, d: &mut NodeDrift) {
    let (Some(a), Some(b)) = (&from.endpoints, &to.endpoints) else {
        return;
    };
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

/// State field paths (like with like) and the values that describe the API.
fn state_changes(a: &Value, b: &Value, d: &mut NodeDrift) {
    // The state's own copy of the flags is left to the flags document.
    let keep = |p: &String| !p.starts_with("/flags/");
    let (sa, sb) = (shape(a), shape(b));
    let pa: BTreeSet<&String> = sa.fields.iter().filter(|p| keep(p)).collect();
    let pb: BTreeSet<&String> = sb.fields.iter().filter(|p| keep(p)).collect();
    let mut one_side = |p: &String, added: bool| {
        if let Some((_, why)) = endpoints::PHASE_EFFECTS.iter().find(|(f, _)| f == p) {
            d.not_compared.push(NotCompared {
                name: p.clone(),
                why: why.to_string(),
            });
            return;
        }
        // A field inside a list that was empty at one end: the workload, not the version,
        // decides whether it is seen.
        if let Some(list) = arrays_of(p)
            .into_iter()
            .find(|l| !(sa.full.contains(*l) && sb.full.contains(*l)))
        {
            let end = if sa.full.contains(list) {
                "the end"
            } else {
                "the start"
            };
            d.not_compared.push(NotCompared {
                name: format!("{list}/*"),
                why: format!("empty at {end} (workload): its elements' fields cannot be compared"),
            });
            return;
        }
        let c = change(Kind::StateField, p, None, None);
        if added {
            d.added.push(c);
        } else {
            d.removed.push(c);
        }
    };
    for p in pb.difference(&pa) {
        one_side(p, true);
    }
    for p in pa.difference(&pb) {
        one_side(p, false);
    }
    // API values: each member of an enumeration that appeared or vanished.
    for path in endpoints::API_VALUES {
        let (va, vb) = (values_at(a, path), values_at(b, path));
        if va.is_empty() || vb.is_empty() {
            continue;
        }
        for m in vb.difference(&va) {
            d.added
                .push(change(Kind::StateValue, path, None, Some(m.clone())));
        }
        for m in va.difference(&vb) {
            d.removed
                .push(change(Kind::StateValue, path, Some(m.clone()), None));
        }
    }
}

/// The distinct values at a generalized path (`/slaves/*/capabilities`): array values as
/// their members (an enumeration's order is not the API).
fn values_at(v: &Value, path: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    collect(v, &parts, &mut out);
    out
}

fn collect(v: &Value, parts: &[&str], out: &mut BTreeSet<String>) {
    match parts.split_first() {
        None => match v {
            Value::Array(items) => out.extend(items.iter().map(scalar)),
            other => {
                out.insert(scalar(other));
            }
        },
        Some((&"*", rest)) => {
            for item in v.as_array().into_iter().flatten() {
                collect(item, rest, out);
            }
        }
        Some((key, rest)) => {
            if let Some(child) = v.get(*key) {
                collect(child, rest, out);
            }
        }
    }
}

fn scalar(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

pub(super) fn change(kind: Kind, name: &str, from: Option<String>, to: Option<String>) -> Change {
    Change {
        kind,
        name: name.to_string(),
        from,
        to,
        documented: None,
        earlier: None,
    }
}
