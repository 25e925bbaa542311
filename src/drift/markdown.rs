//! The drift report as Markdown (`drift.md`).

use super::{describe, Drift};

impl Drift {
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
