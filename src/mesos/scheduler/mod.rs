//! The test framework: a scheduler on the v1 HTTP API (`POST /api/v1/scheduler`), run as a
//! tokio task, recording every event for checks.
//!
//! One driver task owns the subscription stream and makes every call; the [`Framework`]
//! handle talks to it over a channel and reads a shared event record. The driver:
//! - SUBSCRIBEs (trying the candidate masters in turn: a non-leader answers 307, a master
//!   still recovering 503), keeps the `Mesos-Stream-Id` for its calls;
//! - DECLINEs offers with a short refuse filter unless an [`OfferHandler`] accepts them (the
//!   hook for task launching), ACKNOWLEDGEs updates that carry a uuid;
//! - treats the stream as dead when it ends or when nothing (not even a HEARTBEAT) arrived for
//!   twice the heartbeat interval, then re-SUBSCRIBEs with the same framework ID, with
//!   backoff, until a deadline; past it the framework records that it gave up;
//! - on [`Framework::failover`] drops the stream and re-SUBSCRIBEs with the same framework ID:
//!   to the master that is a scheduler failover.
//!
//! Files: `types` (what users of the framework see), `framework` (the handle), `record`
//! (the event record both sides share), `driver` (the task that owns the stream), `calls`
//! and `events` (the wire format, pure), `fake_master` (the driver against a fake master).

mod calls;
mod driver;
mod events;
#[cfg(test)]
mod fake_master;
mod framework;
mod record;
mod types;

pub use calls::subscribe_call;
pub use events::{parse_event, Incoming};
pub use framework::Framework;
pub use types::{
    DeclineAll, FrameworkError, FrameworkEvent, FrameworkOptions, Offer, OfferAction, OfferHandler,
    OfferSummary, RecordedEvent, TaskUpdate,
};
