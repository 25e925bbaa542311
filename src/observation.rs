//! What the cluster answered at every phase, as plain data: the leaf that probing
//! (`crate::run::probe`) fills, and snapshot rendering (`crate::snapshot`), the drift report
//! (`crate::drift`) and the run folder (`crate::report`) read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::{Role, Version};

/// Everything observed in one run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Observations {
    /// The run id (redacted to `[run-id]`).
    pub run_id: String,
    /// Node name -> address on the run network (redacted to `[ip:<node>]`).
    pub addresses: BTreeMap<String, String>,
    /// One entry per phase, in order.
    pub phases: Vec<PhaseObservation>,
}

/// What the nodes answered at one phase.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PhaseObservation {
    /// Phase name, as checks name it in `after:`.
    pub phase: String,
    /// Whether endpoints were discovered and probed at this phase.
    pub discovered: bool,
    /// Leading master first, then the agents by name.
    pub nodes: Vec<NodeObservation>,
    /// Wall time the probes took at this phase, milliseconds.
    pub millis: u64,
}

/// What one node answered at one phase.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeObservation {
    /// Node name.
    pub node: String,
    /// `master` or `agent`.
    pub role: Role,
    /// The Mesos version the runner started there.
    pub version: Version,
    /// Why the node was not probed (its process is down), if it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub down: Option<String>,
    /// Every endpoint `/help` lists, when discovered at this phase.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<Vec<EndpointStatus>>,
    /// Path -> answer, for the recorded bodies.
    pub bodies: BTreeMap<String, Answer>,
    /// Names in `/metrics/snapshot`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Vec<String>>,
    /// The scenario's `probes:` that reach this node.
    pub probes: Vec<ProbeAnswer>,
    /// What went wrong while probing (a node that stopped answering, and after what).
    pub findings: Vec<String>,
    /// Wall time, milliseconds.
    pub millis: u64,
}

/// One endpoint of `/help` and what a GET answered.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct EndpointStatus {
    /// Full path (`/master/state`).
    pub path: String,
    /// Status of the GET.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why it was not requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// Why no status came back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Whether its `/help` text calls it deprecated.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deprecated: bool,
}

/// An answer as it came (JSON if it parsed, else text).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Answer {
    /// HTTP status, `None` when the request failed.
    pub status: Option<u16>,
    /// The body, if JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json: Option<Value>,
    /// The body, if not JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Why there is no answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How the body was serialized (`crate::mesos::format`), when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<crate::mesos::format::Format>,
}

/// The answer to one of the scenario's `probes:`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProbeAnswer {
    /// The probe's name.
    pub name: String,
    /// `GET /path` or `POST /path`.
    pub request: String,
    /// Whether the body goes into snapshots (else only the status).
    pub snapshot: bool,
    /// What came back.
    pub answer: Answer,
}

impl NodeObservation {
    /// A node's observation before anything was asked.
    pub fn new(node: &str, role: Role, version: Version) -> NodeObservation {
        NodeObservation {
            node: node.to_string(),
            role,
            version,
            down: None,
            endpoints: None,
            bodies: BTreeMap::new(),
            metrics: None,
            probes: Vec::new(),
            findings: Vec::new(),
            millis: 0,
        }
    }
}

impl Observations {
    /// Total probe time, milliseconds.
    pub fn millis(&self) -> u64 {
        self.phases.iter().map(|p| p.millis).sum()
    }
}
