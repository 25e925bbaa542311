//! The changes on one node between two observations of it.

use crate::mesos::endpoints;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::observation::{EndpointStatus, NodeObservation};
use crate::redact::Redactor;
use crate::snapshot::metric_names;

use super::{Change, Kind, NodeDrift};

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
        .get(endpoints::state_path(n.role)?)
        .and_then(|a| a.json.as_ref())
}

fn flags_doc(n: &NodeObservation) -> BTreeMap<String, String> {
    endpoints::flags_path(n.role)
        .and_then(|path| n.bodies.get(path))
        .and_then(|a| a.json.as_ref())
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
            .get(endpoints::VERSION)
            .and_then(|a| a.json.as_ref())
            .and_then(|j| j.get("version"))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    if let (Some(a), Some(b)) = (reported(from), reported(to)) {
        if a != b {
            d.changed
                .push(change(Kind::Version, endpoints::VERSION, Some(a), Some(b)));
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
