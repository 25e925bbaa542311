//! The API drift report: what the real binaries changed between the first phase of a run
//! (the `from` version) and the last one (the `to` version), per node, in the categories of
//! the upgrade notes (added / changed / deprecated / removed), and how that compares with
//! the changes the scenario's checks document.
//!
//! Pure: observations in, report out. Written as `drift.md` and `drift.json` into the run
//! folder and snapshot per scenario (`snapshots/drift/`). Format: docs/snapshots.md.
//!
//! One file per job: `node` (the changes on one node between two observations), `documented`
//! (the checks' `documents:` against the observed changes), `markdown` (the report as text);
//! here the report's types and [`drift`], which folds the nodes together.

mod documented;
mod markdown;
mod node;
#[cfg(test)]
mod tests;

pub use node::{field_paths, node_drift};

use serde::Serialize;

use crate::domain::{Role, Version};
use crate::observation::Observations;
use crate::scenario::model::Scenario;
use crate::snapshot::Render;

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

fn describe(c: &Change) -> String {
    let values = match (&c.from, &c.to) {
        (Some(a), Some(b)) => format!(" ({a} -> {b})"),
        (Some(a), None) => format!(" (was {a})"),
        (None, Some(b)) => format!(" ({b})"),
        (None, None) => String::new(),
    };
    format!("{} {}{values}", c.kind.as_str(), c.name)
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
    documented::document(scenario, &mut out);
    out
}

impl Drift {
    /// Whether no node changed.
    pub fn is_empty(&self) -> bool {
        self.nodes.iter().all(NodeDrift::is_empty)
    }
}
