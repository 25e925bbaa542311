//! Each observed change against the upgrade notes of the version range (documented, with
//! the note, or undocumented), and each note of the range with an element the harness can
//! observe against the observed changes (observed, or not and why). By element only.

use std::collections::BTreeSet;

use crate::mesos::notes::{self, Element, Note};

use super::{Change, Drift, Kind, NoteCheck};

/// Fills `documented` on every change and `d.notes`.
pub(super) fn classify(d: &mut Drift) {
    let (Some(from), Some(to)) = (d.from_version, d.to_version) else {
        return;
    };
    let (from, to) = if from <= to { (from, to) } else { (to, from) };
    let in_range: Vec<&Note> = notes::catalogue()
        .notes
        .iter()
        .filter(|n| n.in_range(from, to))
        .collect();
    let earlier: Vec<&Note> = notes::catalogue()
        .notes
        .iter()
        .filter(|n| n.series().is_some_and(|s| s <= from.series()))
        .collect();
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    let changes = d
        .nodes
        .iter_mut()
        .flat_map(|n| n.all_mut())
        .chain(d.protobuf.iter_mut().flat_map(|p| p.all_mut()));
    for (category, c) in changes {
        let matching = |n: &&&Note| {
            n.letters_allow(category) && n.elements.iter().any(|e| element_matches(e, c))
        };
        if let Some(n) = in_range.iter().find(matching) {
            c.documented = Some(n.reference());
            // Every element of the note the change shows (a message that appeared whole
            // shows each of its fields the note names).
            for e in n.elements.iter().filter(|e| element_matches(e, c)) {
                seen.insert((n.anchor.clone(), e.describe()));
            }
        } else {
            c.earlier = earlier
                .iter()
                .find(|n| n.elements.iter().any(|e| element_matches(e, c)))
                .map(|n| n.reference());
        }
    }
    let mut checks = BTreeSet::new();
    for n in in_range {
        // A change with nothing to observe from outside, and why the harness cannot show it.
        if n.elements.is_empty() {
            if let Some(needs) = &n.needs {
                checks.insert(NoteCheck {
                    version: n.version.clone(),
                    change: n.change.clone(),
                    anchor: n.anchor.clone(),
                    element: "behaviour".to_string(),
                    observed: false,
                    why: Some(format!("needs {needs}")),
                });
            }
        }
        for e in &n.elements {
            let observed = seen.contains(&(n.anchor.clone(), e.describe()));
            // With the builds' descriptors read, protobuf elements and v1 calls are seen.
            let unseen = match e {
                Element::Proto(_) | Element::V1Call(_) if d.protobuf.is_some() => None,
                _ => e.unobserved_kind(),
            };
            let why = (!observed).then(|| {
                unseen
                    .map(str::to_string)
                    .or_else(|| n.needs.as_ref().map(|x| format!("needs {x}")))
                    .unwrap_or_else(|| presence(d, e))
            });
            checks.insert(NoteCheck {
                version: n.version.clone(),
                change: n.change.clone(),
                anchor: n.anchor.clone(),
                element: e.describe(),
                observed,
                why,
            });
        }
    }
    d.notes = checks.into_iter().collect();
}

/// Why an element the harness can see did not change: it was there at both ends, or at
/// neither (on the nodes observed).
fn presence(d: &Drift, e: &Element) -> String {
    let at = |end: usize| {
        let present = d
            .nodes
            .iter()
            .map(|n| &n.present[end])
            .chain(d.protobuf.iter().map(|p| &p.present[end]));
        present.into_iter().any(|set| {
            set.iter().any(|(kind, name)| {
                let c = super::node::change(*kind, name, None, None);
                match (e, kind) {
                    (Element::StateValue(v), Kind::StateValue) => v == name,
                    // Every element is in the set: exactly, not as part of its message.
                    (Element::Proto(p), k) if k.is_proto() => {
                        super::protos::note_names(*k, name).contains(p)
                    }
                    _ => element_matches(e, &c),
                }
            })
        })
    };
    let (from, to) = (
        d.from_version.map(|v| v.to_string()).unwrap_or_default(),
        d.to_version.map(|v| v.to_string()).unwrap_or_default(),
    );
    match (at(0), at(1)) {
        (true, true) => format!("present at both ends: already in {from}"),
        (false, false) => format!("absent at both ends: not in the {from} and {to} builds"),
        (true, false) => format!("gone in {to}, against the note's letters"),
        (false, true) => format!("new in {to}, against the note's letters"),
    }
}

/// Whether an observed change is the element a note names.
fn element_matches(e: &Element, c: &Change) -> bool {
    match (e, c.kind) {
        (Element::Flag(f), Kind::Flag) => notes::matches(f, &c.name),
        (Element::Endpoint(p), Kind::Endpoint) => notes::matches(p, &c.name),
        (Element::Metric(m), Kind::Metric) => notes::matches(m, &c.name),
        (Element::StateField(p), Kind::StateField) => notes::matches(p, &c.name),
        (Element::Serialization(t), Kind::Format) => c
            .name
            .rsplit_once(' ')
            .is_some_and(|(_, trait_)| trait_ == t),
        (Element::StateValue(v), Kind::StateValue) => {
            let member = c.to.as_deref().or(c.from.as_deref()).unwrap_or_default();
            v.split_once(" = ")
                .is_some_and(|(p, m)| notes::matches(p, &c.name) && m == member)
        }
        // A message or enum that appeared or vanished whole carries what is inside it.
        (Element::Proto(p), k) if k.is_proto() => super::protos::note_names(k, &c.name)
            .iter()
            .any(|n| n == p || p.starts_with(&format!("{n}."))),
        (Element::V1Call(call), Kind::V1Call) => &c.name == call,
        (Element::V1Call(call), k) => super::protos::v1_call(k, &c.name) == Some(call.as_str()),
        _ => false,
    }
}
