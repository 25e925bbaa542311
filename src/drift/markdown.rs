//! The drift report as Markdown (`drift.md`): a summary first, then per node the changes
//! with families folded (`families`), each marked documented (with the note) or
//! undocumented, what was not compared and why, and the notes of the range.

use std::collections::BTreeMap;

use super::families::{fold, Family};
use super::protos::ProtoDrift;
use super::{Drift, NodeDrift};

/// The protobuf section: the size of the API at both ends, then its changes folded.
fn protobuf(p: &ProtoDrift) -> String {
    let (a, b) = (&p.from_counts, &p.to_counts);
    let mut s = String::from("\n## Protobuf API (the `.proto` descriptors in libmesos)\n\n");
    s.push_str(&format!(
        "The public `.proto` files (`mesos/...`) each build registers: files {} -> {}, \
         messages {} -> {}, fields {} -> {}, enums {} -> {}, enum values {} -> {}. A message or \
         enum that appeared or vanished is one line; values of \
         `mesos.v1.{{master,agent}}.Call.Type` are the v1 operator calls.\n",
        a.files,
        b.files,
        a.messages,
        b.messages,
        a.fields,
        b.fields,
        a.enums,
        b.enums,
        a.enum_values,
        b.enum_values
    ));
    if p.is_empty() {
        s.push_str("\nNo change.\n");
    }
    for (name, list) in [
        ("Added", &p.added),
        ("Changed", &p.changed),
        ("Deprecated", &p.deprecated),
        ("Removed", &p.removed),
    ] {
        if list.is_empty() {
            continue;
        }
        s.push_str(&format!("\n### {name} ({})\n\n", list.len()));
        for f in fold(list) {
            s.push_str(&line(&f));
        }
    }
    s
}

/// One line of a change family.
fn line(f: &Family) -> String {
    let name = if f.count > 1 {
        format!("`{}` ({} names)", f.pattern, f.count)
    } else {
        format!("`{}`", f.pattern)
    };
    let values = match (&f.from, &f.to) {
        (Some(a), Some(b)) => format!(" ({a} -> {b})"),
        (Some(a), None) => format!(" (was {a})"),
        (None, Some(b)) => format!(" ({b})"),
        (None, None) => String::new(),
    };
    let mark = match &f.documented {
        Some(n) => format!("documented: {n}"),
        None => match &f.earlier {
            Some(e) => format!("**undocumented** (an earlier note names it: {e})"),
            None => "**undocumented**".to_string(),
        },
    };
    format!("- {} {name}{values}: {mark}\n", f.kind.as_str())
}

fn title(n: &NodeDrift) -> String {
    let others = if n.same_on.is_empty() {
        String::new()
    } else {
        format!(" (same on {})", n.same_on.join(", "))
    };
    format!(
        "{} ({}, {} -> {}){others}",
        n.node, n.role, n.from_version, n.to_version
    )
}

impl Drift {
    /// The report as Markdown.
    pub fn markdown(&self) -> String {
        let mut s = format!("# API drift: {}\n\n", self.scenario);
        let range = match (self.from_version, self.to_version) {
            (Some(a), Some(b)) => format!(" for {a} -> {b}"),
            _ => String::new(),
        };
        s.push_str(&format!(
            "From phase `{}` to phase `{}`, observed on the real binaries; each change \
             checked against the upgrade notes{range} (`notes/upgrade-notes.yaml`).\n",
            self.from_phase, self.to_phase
        ));
        s.push_str(&self.summary());
        for n in &self.nodes {
            s.push_str(&format!("\n## {}\n", title(n)));
            if n.is_empty() {
                s.push_str("\nNo change.\n");
            }
            for (name, list) in [
                ("Added", &n.added),
                ("Changed", &n.changed),
                ("Deprecated", &n.deprecated),
                ("Removed", &n.removed),
            ] {
                if list.is_empty() {
                    continue;
                }
                s.push_str(&format!("\n### {name} ({})\n\n", list.len()));
                for f in fold(list) {
                    s.push_str(&line(&f));
                }
            }
            if !n.not_compared.is_empty() {
                s.push_str("\n### Not compared (not a version change)\n\n");
                for x in &n.not_compared {
                    s.push_str(&format!("- `{}`: {}\n", x.name, x.why));
                }
            }
        }
        if let Some(p) = &self.protobuf {
            s.push_str(&protobuf(p));
        }
        s.push_str("\n## Upgrade notes of the range\n\n");
        let mut notes: Vec<_> = self.notes.iter().collect();
        notes.sort_by_key(|n| {
            let series = crate::domain::Series::named_in(n.version.trim_end_matches(".x"));
            (series, n.observed, &n.anchor, &n.element)
        });
        if self.notes.is_empty() {
            s.push_str(
                "No note in this range (a patch upgrade within one series, or 1.11, which has \
                 no notes).\n",
            );
        }
        for n in notes {
            let head = format!("{} {} #{}: {}", n.version, n.change, n.anchor, n.element);
            match &n.why {
                None => s.push_str(&format!("- observed: {head}\n")),
                Some(why) => s.push_str(&format!("- not observed: {head} ({why})\n")),
            }
        }
        s
    }

    /// The summary table and counts.
    fn summary(&self) -> String {
        let mut s = String::from(
            "\n## Summary\n\n| node | added | changed | deprecated | removed | documented | undocumented |\n|---|---|---|---|---|---|---|\n",
        );
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        if let Some(p) = &self.protobuf {
            let documented = p.all().filter(|(_, c)| c.documented.is_some()).count();
            let total = p.all().count();
            s.push_str(&format!(
                "| protobuf API (libmesos) | {} | {} | {} | {} | {documented} | {} |\n",
                p.added.len(),
                p.changed.len(),
                p.deprecated.len(),
                p.removed.len(),
                total - documented
            ));
            for (_, c) in p.all() {
                *kinds.entry(c.kind.as_str()).or_default() += 1;
            }
        }
        for n in &self.nodes {
            let documented = n.all().filter(|(_, c)| c.documented.is_some()).count();
            let total = n.all().count();
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} | {documented} | {} |\n",
                title(n),
                n.added.len(),
                n.changed.len(),
                n.deprecated.len(),
                n.removed.len(),
                total - documented
            ));
            for (_, c) in n.all() {
                *kinds.entry(c.kind.as_str()).or_default() += 1;
            }
        }
        if !kinds.is_empty() {
            let by: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
            s.push_str(&format!("\nBy kind: {}.\n", by.join(", ")));
        }
        let observed = self.notes.iter().filter(|n| n.observed).count();
        s.push_str(&format!(
            "\nNotes of the range: {}; observed {observed}, not observed {}.\n",
            self.notes.len(),
            self.notes.len() - observed
        ));
        s
    }
}
