//! The API drift report: what the real binaries changed between two observations of a
//! cluster (the first and the last phase of a run, or the `start` phases of two clusters of
//! `upgrade-harness diff`), per node, in the categories of the upgrade notes (added /
//! changed / deprecated / removed), and how that conforms to the upgrade notes
//! (`notes/upgrade-notes.yaml`, read by `crate::mesos::notes`).
//!
//! Pure: observations in, report out. Written as `drift.md` and `drift.json` into the run
//! folder and snapshot per scenario (`snapshots/drift/`). Format: docs/snapshots.md.
//!
//! One file per job: `node` (the changes on one node between two observations: what is
//! compared like with like, what is not), `conformance` (each change against the notes, each
//! note of the range against the changes), `families` (names folded into
//! `a/{b,c}/{d,e}`), `markdown` (the report as text); here the report's types and the fold
//! of the nodes.

pub mod atlas;
mod conformance;
mod families;
mod markdown;
mod node;
pub mod protos;
#[cfg(test)]
mod tests;

pub use families::fold;
pub use node::{field_paths, node_drift};

use serde::Serialize;

use crate::domain::{Role, Version};
use crate::mesos::protos::ProtoApi;
use crate::observation::{NodeObservation, Observations};
use crate::redact::Redactor;
use crate::scenario::model::Scenario;
use crate::snapshot::Render;

/// What kind of thing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An endpoint `/help` lists (and its GET status).
    Endpoint,
    /// A name in `/metrics/snapshot`.
    Metric,
    /// A flag in the node's `/flags` (with its default value).
    Flag,
    /// A field path of the node's state document (`/slaves/*/hostname`).
    StateField,
    /// The value of a state field that describes the API (`/capabilities`).
    StateValue,
    /// How an answer is serialized (`/master/state slash`: `escaped` -> `plain`).
    Format,
    /// A message of the protobuf API (`mesos.v1.master.Response.GetAgents`).
    ProtoMessage,
    /// A field of a message, with its number, label, type and default.
    ProtoField,
    /// An enum of the protobuf API.
    ProtoEnum,
    /// A value of an enum (`mesos.v1.master.Call.Type.GET_HEALTH`: a v1 call).
    ProtoValue,
    /// A v1 operator call that only reads, made as `POST /api/v1` (with its status).
    V1Call,
    /// A field path of a v1 call's answer (`GET_AGENTS /get_agents/agents/*/active`).
    V1Field,
}

impl Kind {
    /// The kind as the report writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Endpoint => "endpoint",
            Kind::Metric => "metric",
            Kind::Flag => "flag",
            Kind::StateField => "state field",
            Kind::StateValue => "state value",
            Kind::Format => "format",
            Kind::ProtoMessage => "proto message",
            Kind::ProtoField => "proto field",
            Kind::ProtoEnum => "proto enum",
            Kind::ProtoValue => "proto value",
            Kind::V1Call => "v1 call",
            Kind::V1Field => "v1 field",
        }
    }

    /// Whether it is an element of the protobuf API (names separated by `.`, not `/`).
    pub fn is_proto(self) -> bool {
        matches!(
            self,
            Kind::ProtoMessage | Kind::ProtoField | Kind::ProtoEnum | Kind::ProtoValue
        )
    }
}

/// The name of the probe that makes the v1 operator call `call` on a node of `role`
/// (`GET_HEALTH` -> `v1-master-get_health`): `upgrade-harness diff` gives its clusters one
/// per call.
pub fn v1_probe_name(role: Role, call: &str) -> String {
    format!("v1-{role}-{}", call.to_ascii_lowercase())
}

/// The v1 call a probe makes, if it is one of [`v1_probe_name`]'s.
pub fn v1_probe_call(name: &str) -> Option<String> {
    let rest = name.strip_prefix("v1-")?;
    let (_, call) = rest.split_once('-')?;
    Some(call.to_ascii_uppercase())
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
    /// The upgrade note that documents it (`1.8.x R 1-8-x-...`); `None`: undocumented.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documented: Option<String>,
    /// For an undocumented change: an older note that names the same element (a removal of
    /// what an earlier series deprecated), as a hint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earlier: Option<String>,
}

/// The changes seen on one node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeDrift {
    /// Node name.
    pub node: String,
    /// `master` or `agent`.
    pub role: Role,
    /// Version at the first observation.
    pub from_version: Version,
    /// Version at the last observation.
    pub to_version: Version,
    /// Endpoints, metrics, flags, state fields that appeared.
    pub added: Vec<Change>,
    /// Endpoint statuses, flag defaults and API values that changed.
    pub changed: Vec<Change>,
    /// Endpoints whose `/help` text newly says they are deprecated.
    pub deprecated: Vec<Change>,
    /// What vanished.
    pub removed: Vec<Change>,
    /// What was seen at one end only for reasons other than the version (phase effects,
    /// workload collections empty at one end), with the reason: not counted as drift.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_compared: Vec<NotCompared>,
    /// Other agents whose changes are identical to this node's.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub same_on: Vec<String>,
    /// Every element seen at the start and at the end (kind, name; API values as `path =
    /// member`): why a documented change was not observed (already there, or never there).
    #[serde(skip)]
    pub present: [std::collections::BTreeSet<(Kind, String)>; 2],
}

/// Something seen at one end only that is not a version change, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct NotCompared {
    /// The field or collection (`/slaves/*/reregistered_time`, `/completed_tasks`).
    pub name: String,
    /// Why it is not compared.
    pub why: String,
}

impl NodeDrift {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.changed.is_empty()
            && self.deprecated.is_empty()
            && self.removed.is_empty()
    }

    /// Every change with its category (`added`, ...).
    pub fn all(&self) -> impl Iterator<Item = (&'static str, &Change)> {
        let tag = |t: &'static str| move |c| (t, c);
        self.added
            .iter()
            .map(tag("added"))
            .chain(self.changed.iter().map(tag("changed")))
            .chain(self.deprecated.iter().map(tag("deprecated")))
            .chain(self.removed.iter().map(tag("removed")))
    }

    fn all_mut(&mut self) -> impl Iterator<Item = (&'static str, &mut Change)> {
        let tag = |t: &'static str| move |c| (t, c);
        self.added
            .iter_mut()
            .map(tag("added"))
            .chain(self.changed.iter_mut().map(tag("changed")))
            .chain(self.deprecated.iter_mut().map(tag("deprecated")))
            .chain(self.removed.iter_mut().map(tag("removed")))
    }
}

/// A documented change of the version range that something observable should show, and
/// whether it was observed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct NoteCheck {
    /// The notes' version (`1.8.x`).
    pub version: String,
    /// `A`, `C`, `D`, `R` (or a combination).
    pub change: String,
    /// The notes' anchor.
    pub anchor: String,
    /// The element (`flag seccomp_config_dir`).
    pub element: String,
    /// Whether an observed change matched it.
    pub observed: bool,
    /// Why it was not observed (what the default configuration lacks), when not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

/// The drift report between two observations.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Drift {
    /// Scenario name, or `diff <from> <to>`.
    pub scenario: String,
    /// First phase compared.
    pub from_phase: String,
    /// Last phase compared.
    pub to_phase: String,
    /// The version range the notes are read for (`from` exclusive, `to` inclusive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_version: Option<Version>,
    /// See `from_version`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_version: Option<Version>,
    /// Per node (agents identical to an earlier agent are folded into it: `same_on`).
    pub nodes: Vec<NodeDrift>,
    /// The protobuf API of the two builds compared (`upgrade-harness diff`), when read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protobuf: Option<protos::ProtoDrift>,
    /// The notes of the range with an element the harness can observe, and the outcome.
    pub notes: Vec<NoteCheck>,
}

/// The protobuf APIs of a scenario's `from` and `to` builds, for [`drift`] (reading them is
/// I/O: each build's libmesos, cached per build hash). Only the project's own builds
/// (`distribution: local`) have a libmesos to read: `Ok(None)` for the others, whose reports
/// have no protobuf section. `Err` says why a build's API could not be read.
pub fn scenario_apis(
    scenario: &Scenario,
    opts: &crate::images::BuildOptions,
) -> Result<Option<(ProtoApi, ProtoApi)>, String> {
    if scenario.distribution.value != crate::scenario::model::Distribution::Local {
        return Ok(None);
    }
    let read = |v: Version| crate::mesos::protos::of_build(&v.to_string(), opts);
    Ok(Some((
        read(scenario.from_version())?,
        read(scenario.to_version())?,
    )))
}

/// The drift between the first and the last phase of a run and, when given, between the
/// protobuf APIs of its two builds, classified against the notes.
pub fn drift(
    scenario: &Scenario,
    obs: &Observations,
    apis: Option<(&ProtoApi, &ProtoApi)>,
) -> Drift {
    let (Some(first), Some(last)) = (obs.phases.first(), obs.phases.last()) else {
        return Drift {
            scenario: scenario.name.value.clone(),
            ..Drift::default()
        };
    };
    let r = obs.redactor();
    let pairs = pair_nodes(&first.nodes, &last.nodes);
    let mut d = between(
        &scenario.name.value,
        (&first.phase, &last.phase),
        &r,
        &pairs,
    );
    d.from_version = Some(scenario.from_version());
    d.to_version = Some(scenario.to_version());
    d.protobuf = apis.map(|(a, b)| protos::compare(a, b));
    conformance::classify(&mut d);
    d
}

/// The drift between two observations of clusters at `from` and `to` (the `start` phase of
/// one cluster per version: `upgrade-harness diff`) and, when given, between the protobuf
/// APIs of the two builds, classified against the notes.
pub fn diff(
    from: (&Version, &[NodeObservation], &Redactor),
    to: (&Version, &[NodeObservation], &Redactor),
    apis: Option<(&ProtoApi, &ProtoApi)>,
) -> Drift {
    // Each cluster has its own IDs: each side is normalized with its own redactor first.
    let side = |nodes: &[NodeObservation], r: &Redactor| -> Vec<NodeObservation> {
        nodes.iter().map(|n| node::redacted(r, n)).collect()
    };
    let (a, b) = (side(from.1, from.2), side(to.1, to.2));
    let pairs = pair_nodes(&a, &b);
    let mut d = between(
        &format!("diff {} {}", from.0, to.0),
        ("start", "start"),
        &Redactor::new(),
        &pairs,
    );
    d.from_version = Some(*from.0);
    d.to_version = Some(*to.0);
    d.protobuf = apis.map(|(a, b)| protos::compare(a, b));
    conformance::classify(&mut d);
    d
}

/// Each node at the end with the node it is compared with at the start.
fn pair_nodes<'a>(
    first: &'a [NodeObservation],
    last: &'a [NodeObservation],
) -> Vec<(&'a NodeObservation, &'a NodeObservation)> {
    let mut out = Vec::new();
    for to in last {
        // Masters are probed at the leader only, and with ZooKeeper the leader changes when
        // the old one is upgraded (last): the leader at the end is compared with the leader
        // at the start.
        let from = first.iter().find(|n| n.node == to.node).or_else(|| {
            let leader_then = first.iter().find(|n| n.role == Role::Master);
            leader_then.filter(|_| to.role == Role::Master)
        });
        if let Some(from) = from {
            if from.down.is_none() && to.down.is_none() {
                out.push((from, to));
            }
        }
    }
    out
}

fn between(
    name: &str,
    phases: (&str, &str),
    r: &Redactor,
    pairs: &[(&NodeObservation, &NodeObservation)],
) -> Drift {
    let mut out = Drift {
        scenario: name.to_string(),
        from_phase: phases.0.to_string(),
        to_phase: phases.1.to_string(),
        ..Drift::default()
    };
    for (from, to) in pairs {
        let mut d = node_drift(r, from, to);
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
                && o.not_compared == d.not_compared
        });
        match same {
            Some(o) => o.same_on.push(d.node),
            None => out.nodes.push(d),
        }
    }
    out
}

impl Drift {
    /// Whether no node and nothing of the protobuf API changed.
    pub fn is_empty(&self) -> bool {
        self.nodes.iter().all(NodeDrift::is_empty)
            && self.protobuf.as_ref().is_none_or(|p| p.is_empty())
    }

    /// The report as pretty JSON (`drift.json`).
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}
