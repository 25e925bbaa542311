//! Families of names folded into one line: 81 metrics `master/operations/<kind>/<state>`
//! become `master/operations/{create,destroy,...}/{dropped,error,...}` with their count, so a
//! report lists each member once and a reader sees the shape of the change.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Change, Kind};

/// Changes that differ only in one or more `/`-separated parts of their names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Family {
    /// What changed.
    pub kind: Kind,
    /// The names, with alternatives in braces (`a/{b,c}/d`); a lone name as it is.
    pub pattern: String,
    /// How many changes it stands for.
    pub count: usize,
    /// The members' common value before, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The members' common value after, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The note documenting every member, if one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documented: Option<String>,
    /// An older note naming the same element, for undocumented members.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earlier: Option<String>,
}

/// What separates the parts of a name: `.` in protobuf names, `/` elsewhere.
fn separator(kind: Kind) -> char {
    if kind.is_proto() {
        '.'
    } else {
        '/'
    }
}

/// Folded only from this many members on: two names read as well on two lines.
const MIN_MEMBERS: usize = 3;

type Key = (
    Kind,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The changes as families: changes of one kind with the same values and documentation
/// whose names differ in one part are folded, repeatedly, then sorted by pattern.
pub fn fold(changes: &[Change]) -> Vec<Family> {
    let mut groups: BTreeMap<Key, Vec<(Vec<String>, usize)>> = BTreeMap::new();
    for c in changes {
        let key = (
            c.kind,
            c.from.clone(),
            c.to.clone(),
            c.documented.clone(),
            c.earlier.clone(),
        );
        let parts = c
            .name
            .split(separator(c.kind))
            .map(str::to_string)
            .collect();
        groups.entry(key).or_default().push((parts, 1));
    }
    let mut out = Vec::new();
    for ((kind, from, to, documented, earlier), mut items) in groups {
        while let Some(next) = fold_once(&items) {
            items = next;
        }
        out.extend(items.into_iter().map(|(parts, count)| Family {
            kind,
            pattern: parts.join(&separator(kind).to_string()),
            count,
            from: from.clone(),
            to: to.clone(),
            documented: documented.clone(),
            earlier: earlier.clone(),
        }));
    }
    out.sort_by(|a, b| (a.kind, &a.pattern).cmp(&(b.kind, &b.pattern)));
    out
}

/// One fold at the last position where one is possible, if any.
fn fold_once(items: &[(Vec<String>, usize)]) -> Option<Vec<(Vec<String>, usize)>> {
    let longest = items.iter().map(|(p, _)| p.len()).max().unwrap_or(0);
    for k in (0..longest).rev() {
        // Items of the same length, equal everywhere but at `k`, plain at `k`.
        let mut by_rest: BTreeMap<(usize, Vec<&String>), Vec<usize>> = BTreeMap::new();
        for (i, (parts, _)) in items.iter().enumerate() {
            if parts.len() <= k || parts[k].contains('{') || parts.len() < 2 {
                continue;
            }
            let rest: Vec<&String> = parts
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != k)
                .map(|(_, p)| p)
                .collect();
            // Something named must stay in common (not just a leading `/`).
            if rest.iter().all(|p| p.is_empty()) {
                continue;
            }
            by_rest.entry((parts.len(), rest)).or_default().push(i);
        }
        let Some(members) = by_rest.values().find(|m| m.len() >= MIN_MEMBERS) else {
            continue;
        };
        let mut names: Vec<&str> = members.iter().map(|&i| items[i].0[k].as_str()).collect();
        names.sort_unstable();
        names.dedup();
        let mut folded = items[members[0]].0.clone();
        folded[k] = format!("{{{}}}", names.join(","));
        let count = members.iter().map(|&i| items[i].1).sum();
        let mut out: Vec<(Vec<String>, usize)> = items
            .iter()
            .enumerate()
            .filter(|(i, _)| !members.contains(i))
            .map(|(_, x)| x.clone())
            .collect();
        out.push((folded, count));
        return Some(out);
    }
    None
}
