//! The changes the scenario's checks document (`documents:`) against the changes observed.

use crate::domain::{Series, Version};
use crate::mesos::endpoints;
use std::collections::BTreeSet;

use crate::scenario::model::Scenario;

use super::{describe, Documented, Drift, Kind};

/// Fills `out.documented` (each check's subject against the observed changes) and
/// `out.undocumented` (observed changes no check's subject names).
pub(super) fn document(scenario: &Scenario, out: &mut Drift) {
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
                range: range_of(&doc, scenario.from_version(), scenario.to_version()),
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
}

/// Where the version a `documents:` text starts with (`1.0: ...`, `0.26 (notes): ...`)
/// lies relative to `from` -> `to`, compared by series (`1.10.0` is series 1.10).
pub(super) fn range_of(documents: &str, from: Version, to: Version) -> &'static str {
    let head = documents.split(':').next().unwrap_or_default();
    let head = head.split_whitespace().next().unwrap_or_default();
    match Series::named_in(head) {
        Some(d) if d <= from.series() => "before",
        Some(d) if d <= to.series() => "in",
        Some(_) => "after",
        None => "unknown",
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
        if j.get.value == endpoints::VERSION {
            out.push((Kind::Version, endpoints::VERSION.to_string()));
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
