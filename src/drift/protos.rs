//! The protobuf API of two builds compared (`crate::mesos::protos`): messages, fields (number,
//! label, type, default, deprecation), enums and their values, the v1 operator calls
//! (`mesos.v1.master.Call.Type`, `mesos.v1.agent.Call.Type`) included. A message or enum that
//! appeared or vanished is one change: its fields, values and nested types are not listed
//! again.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::mesos::protos::{Counts, Field, ProtoApi};

use super::node::change;
use super::{Change, Kind};

/// The protobuf API's changes between two builds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProtoDrift {
    /// The size of the API at `from`.
    pub from_counts: Counts,
    /// The size of the API at `to`.
    pub to_counts: Counts,
    /// Messages, fields, enums and enum values that appeared.
    pub added: Vec<Change>,
    /// Fields whose number, label, type or default changed; enum values whose number changed;
    /// deprecations lifted.
    pub changed: Vec<Change>,
    /// What the options newly mark deprecated.
    pub deprecated: Vec<Change>,
    /// What vanished.
    pub removed: Vec<Change>,
    /// Every element at each end (for why a note was not observed).
    #[serde(skip)]
    pub present: [BTreeSet<(Kind, String)>; 2],
}

impl ProtoDrift {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.changed.is_empty()
            && self.deprecated.is_empty()
            && self.removed.is_empty()
    }

    /// Every change with its category.
    pub fn all(&self) -> impl Iterator<Item = (&'static str, &Change)> {
        let tag = |t: &'static str| move |c| (t, c);
        self.added
            .iter()
            .map(tag("added"))
            .chain(self.changed.iter().map(tag("changed")))
            .chain(self.deprecated.iter().map(tag("deprecated")))
            .chain(self.removed.iter().map(tag("removed")))
    }

    pub(super) fn all_mut(&mut self) -> impl Iterator<Item = (&'static str, &mut Change)> {
        let tag = |t: &'static str| move |c| (t, c);
        self.added
            .iter_mut()
            .map(tag("added"))
            .chain(self.changed.iter_mut().map(tag("changed")))
            .chain(self.deprecated.iter_mut().map(tag("deprecated")))
            .chain(self.removed.iter_mut().map(tag("removed")))
    }
}

/// A field as the report writes it: `#3 optional string`, `#2 required uint32 = 10`.
fn signature(f: &Field) -> String {
    let default = f
        .default
        .as_deref()
        .map(|d| format!(" = {d}"))
        .unwrap_or_default();
    format!("#{} {} {}{default}", f.number, f.label, f.kind)
}

/// `1 field`, `3 fields`.
fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The scope a name is declared in (`mesos.v1.master.Call` for `...Call.Type`).
fn parent(name: &str) -> &str {
    name.rsplit_once('.').map_or("", |(p, _)| p)
}

/// Whether `name` lies inside one of `scopes` (a message that appeared or vanished whole).
fn inside(name: &str, scopes: &BTreeSet<&String>) -> bool {
    let mut p = parent(name);
    while !p.is_empty() {
        if scopes.contains(&p.to_string()) {
            return true;
        }
        p = parent(p);
    }
    false
}

/// The changes from `a` to `b`.
pub fn compare(a: &ProtoApi, b: &ProtoApi) -> ProtoDrift {
    let mut d = ProtoDrift {
        from_counts: a.counts(),
        to_counts: b.counts(),
        present: [presence(a), presence(b)],
        ..ProtoDrift::default()
    };
    let only = |x: &ProtoApi, y: &ProtoApi| -> BTreeSet<String> {
        x.messages
            .keys()
            .filter(|k| !y.messages.contains_key(*k))
            .cloned()
            .collect()
    };
    let (new, gone) = (only(b, a), only(a, b));
    let (new_ref, gone_ref): (BTreeSet<&String>, BTreeSet<&String>) =
        (new.iter().collect(), gone.iter().collect());
    for name in &new {
        if !inside(name, &new_ref) {
            let n = b.messages[name].fields.len();
            d.added.push(change(
                Kind::ProtoMessage,
                name,
                None,
                Some(count(n, "field")),
            ));
        }
    }
    for name in &gone {
        if !inside(name, &gone_ref) {
            let n = a.messages[name].fields.len();
            d.removed.push(change(
                Kind::ProtoMessage,
                name,
                Some(count(n, "field")),
                None,
            ));
        }
    }
    for (name, mb) in &b.messages {
        let Some(ma) = a.messages.get(name) else {
            continue;
        };
        deprecation(
            Kind::ProtoMessage,
            name,
            ma.deprecated,
            mb.deprecated,
            &mut d,
        );
        fields(name, &ma.fields, &mb.fields, &mut d);
    }
    for (name, eb) in &b.enums {
        let Some(ea) = a.enums.get(name) else {
            if !inside(name, &new_ref) {
                let n = eb.values.len();
                d.added
                    .push(change(Kind::ProtoEnum, name, None, Some(count(n, "value"))));
            }
            continue;
        };
        deprecation(Kind::ProtoEnum, name, ea.deprecated, eb.deprecated, &mut d);
        for (v, vb) in &eb.values {
            let full = format!("{name}.{v}");
            match ea.values.get(v) {
                None => d.added.push(change(Kind::ProtoValue, &full, None, None)),
                Some(va) => {
                    if va.number != vb.number {
                        d.changed.push(change(
                            Kind::ProtoValue,
                            &full,
                            Some(format!("= {}", va.number)),
                            Some(format!("= {}", vb.number)),
                        ));
                    }
                    deprecation(
                        Kind::ProtoValue,
                        &full,
                        va.deprecated,
                        vb.deprecated,
                        &mut d,
                    );
                }
            }
        }
        for v in ea.values.keys().filter(|v| !eb.values.contains_key(*v)) {
            d.removed
                .push(change(Kind::ProtoValue, &format!("{name}.{v}"), None, None));
        }
    }
    for (name, ea) in &a.enums {
        if !b.enums.contains_key(name) && !inside(name, &gone_ref) {
            let n = ea.values.len();
            d.removed
                .push(change(Kind::ProtoEnum, name, Some(count(n, "value")), None));
        }
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

fn fields(
    message: &str,
    a: &BTreeMap<String, Field>,
    b: &BTreeMap<String, Field>,
    d: &mut ProtoDrift,
) {
    for (f, fb) in b {
        let full = format!("{message}.{f}");
        match a.get(f) {
            None => d
                .added
                .push(change(Kind::ProtoField, &full, None, Some(signature(fb)))),
            Some(fa) => {
                if signature(fa) != signature(fb) {
                    d.changed.push(change(
                        Kind::ProtoField,
                        &full,
                        Some(signature(fa)),
                        Some(signature(fb)),
                    ));
                }
                deprecation(Kind::ProtoField, &full, fa.deprecated, fb.deprecated, d);
            }
        }
    }
    for (f, fa) in a {
        if !b.contains_key(f) {
            d.removed.push(change(
                Kind::ProtoField,
                &format!("{message}.{f}"),
                Some(signature(fa)),
                None,
            ));
        }
    }
}

/// A deprecation that appeared (deprecated) or was lifted (changed).
fn deprecation(kind: Kind, name: &str, was: bool, is: bool, d: &mut ProtoDrift) {
    match (was, is) {
        (false, true) => d.deprecated.push(change(kind, name, None, None)),
        (true, false) => d.changed.push(change(
            kind,
            name,
            Some("deprecated".into()),
            Some("not deprecated".into()),
        )),
        _ => {}
    }
}

fn presence(api: &ProtoApi) -> BTreeSet<(Kind, String)> {
    let mut out = BTreeSet::new();
    for (name, m) in &api.messages {
        out.insert((Kind::ProtoMessage, name.clone()));
        for f in m.fields.keys() {
            out.insert((Kind::ProtoField, format!("{name}.{f}")));
        }
    }
    for (name, e) in &api.enums {
        out.insert((Kind::ProtoEnum, name.clone()));
        for v in e.values.keys() {
            out.insert((Kind::ProtoValue, format!("{name}.{v}")));
        }
    }
    out
}

/// The names a catalogue `proto:` element may give a protobuf change: without the package
/// `mesos.` or `mesos.v1.` (the notes write `TaskStatus.limitation`, `scheduler.Call.type`),
/// and for an enum value also without its enum's name, as C++ scopes it
/// (`scheduler.Call.SUPPRESS` for `mesos.scheduler.Call.Type.SUPPRESS`).
pub(super) fn note_names(kind: Kind, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for prefix in ["mesos.v1.", "mesos."] {
        if let Some(rest) = name.strip_prefix(prefix) {
            out.push(rest.to_string());
            if kind == Kind::ProtoValue {
                if let Some((scope, value)) = rest.rsplit_once('.') {
                    let outer = parent(scope);
                    out.push(if outer.is_empty() {
                        value.to_string()
                    } else {
                        format!("{outer}.{value}")
                    });
                }
            }
            break;
        }
    }
    out
}

/// The v1 operator call a protobuf change is, if it is one (`GET_CONTAINERS` for a value of
/// `mesos.v1.master.Call.Type` or `mesos.v1.agent.Call.Type`).
pub(super) fn v1_call(kind: Kind, name: &str) -> Option<&str> {
    if kind != Kind::ProtoValue {
        return None;
    }
    ["mesos.v1.master.Call.Type.", "mesos.v1.agent.Call.Type."]
        .iter()
        .find_map(|p| name.strip_prefix(p))
}
