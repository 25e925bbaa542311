//! What users of the test framework see: its options, offers and the hook that answers them,
//! task updates, the recorded events, and its errors.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::mesos::task_state::TaskState;

/// How the framework presents itself and how patient it is.
#[derive(Debug, Clone)]
pub struct FrameworkOptions {
    pub user: String,
    pub name: String,
    /// `FrameworkInfo.checkpoint`: needed for tasks to survive agent restarts.
    pub checkpoint: bool,
    /// `FrameworkInfo.failover_timeout`: how long the master keeps the framework (and its
    /// tasks) while no scheduler is connected. Must exceed every master or scheduler restart.
    pub failover_timeout: Duration,
    /// Resume an existing framework (a new scheduler process taking over: `upgrade_schedulers`).
    pub framework_id: Option<String>,
    /// Deadline for the first SUBSCRIBED.
    pub subscribe_timeout: Duration,
    /// Deadline for a re-SUBSCRIBED after the stream ended or a failover was requested.
    pub resubscribe_timeout: Duration,
    /// `refuse_seconds` of the DECLINE filter: offers come back that soon.
    pub decline_refuse: Duration,
}

impl Default for FrameworkOptions {
    fn default() -> Self {
        FrameworkOptions {
            user: "root".to_string(),
            name: "upgrade-harness".to_string(),
            checkpoint: true,
            failover_timeout: Duration::from_secs(3600),
            framework_id: None,
            subscribe_timeout: Duration::from_secs(30),
            resubscribe_timeout: Duration::from_secs(120),
            decline_refuse: Duration::from_secs(1),
        }
    }
}

/// An offer as the handler sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Offer {
    pub id: String,
    pub agent_id: String,
    pub hostname: String,
    /// The offer as Mesos sent it (resources, attributes, ...).
    pub raw: Value,
}

/// What to do with an offer.
#[derive(Debug, Clone, PartialEq)]
pub enum OfferAction {
    /// DECLINE with the short refuse filter.
    Decline,
    /// ACCEPT with these v1 `Offer.Operation`s (e.g. a LAUNCH).
    Accept { operations: Vec<Value> },
}

/// The hook for task launching: decides per offer, and sees every status update.
pub trait OfferHandler: Send + 'static {
    fn on_offer(&mut self, offer: &Offer) -> OfferAction;
    fn on_update(&mut self, _update: &TaskUpdate) {}
}

/// Declines everything (a framework that holds no tasks).
#[derive(Debug, Default, Clone, Copy)]
pub struct DeclineAll;

impl OfferHandler for DeclineAll {
    fn on_offer(&mut self, _offer: &Offer) -> OfferAction {
        OfferAction::Decline
    }
}

/// A task status update.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskUpdate {
    pub task_id: String,
    pub state: String,
    pub agent_id: Option<String>,
    pub reason: Option<String>,
    pub message: Option<String>,
    /// Present when the update must be acknowledged.
    pub uuid: Option<String>,
}

impl TaskUpdate {
    /// The state, typed; `None` for a name Mesos does not define.
    pub fn task_state(&self) -> Option<TaskState> {
        self.state.parse().ok()
    }
}

/// Something the framework saw or did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum FrameworkEvent {
    /// The master accepted a SUBSCRIBE.
    Subscribed {
        framework_id: String,
        heartbeat_interval_secs: f64,
    },
    /// A SUBSCRIBE attempt failed (not leading, not recovered, unreachable).
    SubscribeFailed {
        reason: String,
    },
    Offers {
        offers: Vec<OfferSummary>,
    },
    Rescind {
        offer_id: String,
    },
    Update {
        update: TaskUpdate,
    },
    Heartbeat,
    Failure {
        agent_id: Option<String>,
        executor_id: Option<String>,
    },
    /// The master sent ERROR (e.g. the framework was removed).
    Error {
        message: String,
    },
    /// Any other event type (MESSAGE, INVERSE_OFFERS, UPDATE_OPERATION_STATUS, ...).
    Other {
        kind: String,
    },
    /// The subscription stream ended (master stopped, connection lost, no heartbeat).
    StreamEnded {
        reason: String,
    },
    FailoverRequested,
    /// A call (DECLINE, ACCEPT, ACKNOWLEDGE, TEARDOWN) was not accepted.
    CallFailed {
        call: String,
        reason: String,
    },
    /// Re-subscribing did not succeed before the deadline; the driver stopped.
    GaveUp {
        reason: String,
    },
    TornDown,
}

/// An offer in the event record (the raw offer is kept out of it: it is large).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfferSummary {
    pub id: String,
    pub agent_id: String,
    pub hostname: String,
}

/// An event with when (since the framework started) and from which master.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordedEvent {
    pub at_ms: u64,
    pub master: Option<String>,
    pub event: FrameworkEvent,
}

/// Errors of the test framework; each says what was expected and what was last seen.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FrameworkError {
    #[error("framework `{name}` not subscribed within {after:?}; {last}")]
    NotSubscribed {
        name: String,
        after: Duration,
        last: String,
    },
    #[error("framework {id} did not re-subscribe within {after:?}; {last}")]
    NotResubscribed {
        id: String,
        after: Duration,
        last: String,
    },
    #[error("framework {id}: {what} not seen within {after:?}; {last}")]
    Timeout {
        id: String,
        what: String,
        after: Duration,
        last: String,
    },
    #[error("framework {id} is no longer running: {reason}")]
    Stopped { id: String, reason: String },
    #[error("framework {id}: TEARDOWN failed: {reason}")]
    Teardown { id: String, reason: String },
}
