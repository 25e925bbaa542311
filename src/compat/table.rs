//! The table: each cell's result, and its renderings (Markdown first, HTML from it, JSON for
//! machines), with the shortest path of passing steps where a direct pair fails. Pure: the
//! same results give the same bytes.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};

use super::declaration::{Compat, Direction};
use crate::domain::Version;

/// What happened to a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every phase passed: every invariant and check held.
    Passed,
    /// An invariant, a check or an action failed at `phase`.
    Failed,
    /// A Mesos process refused to start at `phase` (its own message is the `message`).
    Refused,
    /// Not run (not runnable here, the infrastructure failed, interrupted): never cached.
    NotRun,
}

/// The result of one cell, as the JSON keeps it (and as the cache reads it back).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellResult {
    /// `single/1.4.3-to-1.11.0`.
    pub cell: String,
    /// Topology name.
    pub topology: String,
    /// From.
    pub from: Version,
    /// To.
    pub to: Version,
    /// Upgrade or downgrade.
    pub direction: Direction,
    /// What happened.
    pub outcome: Outcome,
    /// The first phase that failed (`upgrade_agents/agent-1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// One line: what failed, or Mesos's refusal, or why it did not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The cache key: the generated scenario, both builds' hashes, the harness version.
    pub key: String,
    /// The run's wall time, seconds.
    pub seconds: f64,
    /// The run folder (on the machine that ran it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// The failure page beside the table (the run's summary), relative to the table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// The harness that ran it (`upgrade-harness 0.1.0 (git ...)`).
    pub harness: String,
    /// Earlier attempts of the same key whose outcome differed (a flaky cell), one line
    /// each, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier: Vec<String>,
}

/// The whole table as `<name>.json` holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// The declaration's name.
    pub name: String,
    /// The declaration file.
    pub declaration: String,
    /// Its description.
    pub description: String,
    /// Versions, oldest first.
    pub versions: Vec<Version>,
    /// Topologies in file order, each with its shape in words.
    pub topologies: Vec<(String, String)>,
    /// The command that produced it (and reproduces it from the cache).
    pub command: String,
    /// Every cell, in declaration order.
    pub cells: Vec<CellResult>,
}

impl Table {
    /// An empty table for `compat`.
    pub fn new(compat: &Compat, command: String) -> Table {
        Table {
            name: compat.name.clone(),
            declaration: compat.file.display().to_string(),
            description: compat.description.clone(),
            versions: compat.versions.clone(),
            topologies: compat
                .topologies
                .iter()
                .map(|t| {
                    let agents = match t.agents {
                        1 => "one agent".to_string(),
                        n => format!("{n} agents"),
                    };
                    let shape = if t.masters == 1 {
                        format!("one master, {agents}")
                    } else {
                        format!("{} masters electing through ZooKeeper, {agents}", t.masters)
                    };
                    (t.name.clone(), shape)
                })
                .collect(),
            command,
            cells: Vec::new(),
        }
    }

    /// The JSON, pretty, with a final newline.
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// The Markdown page.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let (first, last) = (self.versions.first(), self.versions.last());
        s.push_str(&format!("# Compatibility table `{}`", self.name));
        if let (Some(a), Some(b)) = (first, last) {
            s.push_str(&format!(": Mesos {a} .. {b}"));
        }
        s.push_str("\n\n");
        if !self.description.is_empty() {
            s.push_str(&self.description);
            s.push_str("\n\n");
        }
        for (topology, shape) in &self.topologies {
            let cells: Vec<&CellResult> = self.cells_of(topology).collect();
            let minutes: f64 = (0.0 + cells.iter().map(|c| c.seconds).sum::<f64>()) / 60.0;
            s.push_str(&format!(
                "- **{topology}** ({shape}): {}; the runs took {minutes:.0} min in all, one after the other\n",
                counts(&cells)
            ));
        }
        s.push_str(&format!(
            "\nMade by `{}` from `{}`; rerun it to reproduce this page from the cached results \
             (a cell reruns only when its scenario, one of its two Mesos builds or the harness \
             version changed).\n",
            self.command, self.declaration
        ));
        s.push_str(
            "\nRows are the version a cluster runs, columns the version it goes to. `ok`: every \
             invariant and check held at every phase (same agent IDs, framework and tasks); \
             `F1`: failed, see failure 1 below; `R1`: a Mesos process refused to start; `-`: \
             not run; empty: not a pair of this topology.\n",
        );
        for (topology, shape) in &self.topologies {
            self.topology_section(&mut s, topology, shape);
        }
        s
    }

    fn cells_of<'a>(&'a self, topology: &'a str) -> impl Iterator<Item = &'a CellResult> + 'a {
        self.cells.iter().filter(move |c| c.topology == topology)
    }

    fn topology_section(&self, s: &mut String, topology: &str, shape: &str) {
        let cells: BTreeMap<(Version, Version), &CellResult> = self
            .cells_of(topology)
            .map(|c| ((c.from, c.to), c))
            .collect();
        if cells.is_empty() {
            return;
        }
        s.push_str(&format!("\n## {topology}: {shape}\n\n"));
        // Only the versions this topology touches, in order.
        let used: BTreeSet<Version> = cells.keys().flat_map(|(a, b)| [*a, *b]).collect();
        let used: Vec<Version> = self
            .versions
            .iter()
            .copied()
            .filter(|v| used.contains(v))
            .collect();
        let problems: Vec<&CellResult> = cells
            .values()
            .copied()
            .filter(|c| matches!(c.outcome, Outcome::Failed | Outcome::Refused))
            .collect();
        let number = |c: &CellResult| {
            problems
                .iter()
                .position(|p| p.cell == c.cell)
                .map(|i| i + 1)
        };
        s.push_str("| from \\ to |");
        for v in &used {
            s.push_str(&format!(" {v} |"));
        }
        s.push_str("\n|---|");
        for _ in &used {
            s.push_str("---|");
        }
        s.push('\n');
        for a in &used {
            s.push_str(&format!("| **{a}** |"));
            for b in &used {
                let mark = match cells.get(&(*a, *b)) {
                    _ if a == b => "·".to_string(),
                    None => String::new(),
                    Some(c) => match c.outcome {
                        Outcome::Passed if c.earlier.is_empty() => "ok".to_string(),
                        Outcome::Passed => "ok*".to_string(),
                        Outcome::Failed => format!("F{}", number(c).unwrap_or(0)),
                        Outcome::Refused => format!("R{}", number(c).unwrap_or(0)),
                        Outcome::NotRun => "-".to_string(),
                    },
                };
                s.push_str(&format!(" {mark} |"));
            }
            s.push('\n');
        }
        let flaky: Vec<&CellResult> = cells
            .values()
            .copied()
            .filter(|c| c.outcome == Outcome::Passed && !c.earlier.is_empty())
            .collect();
        if !flaky.is_empty() {
            s.push_str(
                "\n`ok*`: passed, after an earlier attempt with the same inputs did not:\n\n",
            );
            for c in flaky {
                s.push_str(&format!(
                    "- {} -> {}: {}\n",
                    c.from,
                    c.to,
                    c.earlier.join("; ")
                ));
            }
        }
        if !problems.is_empty() {
            s.push_str(&format!("\n### Failures and refusals ({topology})\n\n"));
            for (i, c) in problems.iter().enumerate() {
                let what = if c.outcome == Outcome::Refused {
                    "refused"
                } else {
                    "failed"
                };
                s.push_str(&format!(
                    "{}. **{} -> {}** {what} at `{}`: {}",
                    i + 1,
                    c.from,
                    c.to,
                    c.phase.as_deref().unwrap_or("?"),
                    c.message.as_deref().unwrap_or("no message recorded")
                ));
                if let Some(d) = &c.details {
                    s.push_str(&format!(" ([run summary]({d}))"));
                }
                s.push('\n');
            }
            s.push_str(&format!(
                "\n### Shortest paths of passing steps ({topology})\n\n"
            ));
            s.push_str("Where the direct pair does not pass: the fewest passing steps of this table between the two versions, in the same direction.\n\n");
            for c in &problems {
                let path = shortest_path(&cells, c.from, c.to);
                s.push_str(&format!(
                    "- {} -> {}: {}\n",
                    c.from,
                    c.to,
                    match path {
                        Some(p) => p
                            .iter()
                            .map(Version::to_string)
                            .collect::<Vec<_>>()
                            .join(" -> "),
                        None => "no path of passing steps in this table".to_string(),
                    }
                ));
            }
        }
        let not_run: Vec<&CellResult> = cells
            .values()
            .copied()
            .filter(|c| c.outcome == Outcome::NotRun)
            .collect();
        if !not_run.is_empty() {
            s.push_str(&format!("\n### Not run ({topology})\n\n"));
            // One line per distinct reason, with the pairs it concerns folded.
            let mut by_reason: BTreeMap<&str, Vec<String>> = BTreeMap::new();
            for c in not_run {
                by_reason
                    .entry(c.message.as_deref().unwrap_or("no reason recorded"))
                    .or_default()
                    .push(format!("{} -> {}", c.from, c.to));
            }
            for (reason, pairs) in by_reason {
                s.push_str(&format!(
                    "- {} pair(s): {reason} ({})\n",
                    pairs.len(),
                    fold(&pairs)
                ));
            }
        }
    }

    /// The HTML page (the Markdown, rendered).
    pub fn html(&self) -> String {
        crate::drift::atlas::html(
            &format!("Compatibility table {}", self.name),
            &self.markdown(),
        )
    }
}

/// `N pairs: a passed, b failed, c refused, d not run` (zero counts left out).
fn counts(cells: &[&CellResult]) -> String {
    let n = |o: Outcome| cells.iter().filter(|c| c.outcome == o).count();
    let mut parts = vec![format!("{} passed", n(Outcome::Passed))];
    for (o, word) in [
        (Outcome::Failed, "failed"),
        (Outcome::Refused, "refused by Mesos"),
        (Outcome::NotRun, "not run"),
    ] {
        if n(o) > 0 {
            parts.push(format!("{} {word}", n(o)));
        }
    }
    format!("{} pairs: {}", cells.len(), parts.join(", "))
}

/// At most 6 names, then how many more.
fn fold(names: &[String]) -> String {
    if names.len() <= 6 {
        names.join(", ")
    } else {
        format!("{}, and {} more", names[..5].join(", "), names.len() - 5)
    }
}

/// The fewest passing cells from `from` to `to`, every step in the direction of the pair
/// (breadth first; among equally short paths the one through the older versions, so that the
/// answer is stable). `None` when there is none.
pub fn shortest_path(
    cells: &BTreeMap<(Version, Version), &CellResult>,
    from: Version,
    to: Version,
) -> Option<Vec<Version>> {
    let up = from < to;
    let mut previous: BTreeMap<Version, Version> = BTreeMap::new();
    let mut queue = VecDeque::from([from]);
    let mut seen = BTreeSet::from([from]);
    while let Some(at) = queue.pop_front() {
        if at == to {
            let mut path = vec![to];
            while let Some(p) = previous.get(path.last().expect("not empty")) {
                path.push(*p);
            }
            path.reverse();
            return Some(path);
        }
        // BTreeMap order: next versions oldest first.
        for ((a, b), c) in cells.iter() {
            if *a == at
                && c.outcome == Outcome::Passed
                && (*b > at) == up
                && (if up { *b <= to } else { *b >= to })
                && seen.insert(*b)
            {
                previous.insert(*b, at);
                queue.push_back(*b);
            }
        }
    }
    None
}
