//! The event record the driver writes and the [`Framework`](super::Framework) handle reads,
//! and how its last events are described in errors.

use std::sync::Mutex;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::types::{FrameworkEvent, RecordedEvent};

#[derive(Debug, Default)]
pub(super) struct State {
    pub(super) events: Vec<RecordedEvent>,
    pub(super) framework_id: Option<String>,
    pub(super) master: Option<String>,
    pub(super) subscriptions: u32,
    pub(super) stopped: Option<String>,
}

pub(super) struct Shared {
    pub(super) state: Mutex<State>,
    pub(super) changed: Notify,
    pub(super) started: Instant,
}

impl Shared {
    pub(super) fn record(&self, master: Option<&str>, event: FrameworkEvent) {
        let mut st = self.state.lock().unwrap();
        if let FrameworkEvent::Subscribed { framework_id, .. } = &event {
            st.framework_id = Some(framework_id.clone());
            st.master = master.map(str::to_string);
            st.subscriptions += 1;
        }
        if let FrameworkEvent::GaveUp { reason } = &event {
            st.stopped = Some(reason.clone());
        }
        if let FrameworkEvent::TornDown = &event {
            st.stopped = Some("torn down".to_string());
        }
        st.events.push(RecordedEvent {
            at_ms: self.started.elapsed().as_millis() as u64,
            master: master.map(str::to_string),
            event,
        });
        drop(st);
        self.changed.notify_waiters();
    }
}

pub(super) fn describe_last(st: &State) -> String {
    let last: Vec<String> = st
        .events
        .iter()
        .rev()
        .filter(|e| !matches!(e.event, FrameworkEvent::Heartbeat))
        .take(3)
        .map(|e| {
            let m = e.master.as_deref().unwrap_or("-");
            format!("{m}: {}", brief(&e.event))
        })
        .collect();
    if last.is_empty() {
        "no events yet".to_string()
    } else {
        format!("last events (newest first): {}", last.join("; "))
    }
}

fn brief(e: &FrameworkEvent) -> String {
    match e {
        FrameworkEvent::Subscribed { framework_id, .. } => format!("SUBSCRIBED {framework_id}"),
        FrameworkEvent::SubscribeFailed { reason } => format!("SUBSCRIBE failed: {reason}"),
        FrameworkEvent::Offers { offers } => format!("{} offer(s)", offers.len()),
        FrameworkEvent::Rescind { offer_id } => format!("RESCIND {offer_id}"),
        FrameworkEvent::Update { update } => format!("UPDATE {} {}", update.task_id, update.state),
        FrameworkEvent::Heartbeat => "HEARTBEAT".into(),
        FrameworkEvent::Failure { .. } => "FAILURE".into(),
        FrameworkEvent::Error { message } => format!("ERROR {message}"),
        FrameworkEvent::Other { kind } => kind.clone(),
        FrameworkEvent::StreamEnded { reason } => format!("stream ended: {reason}"),
        FrameworkEvent::FailoverRequested => "failover requested".into(),
        FrameworkEvent::CallFailed { call, reason } => format!("{call} failed: {reason}"),
        FrameworkEvent::GaveUp { reason } => format!("gave up: {reason}"),
        FrameworkEvent::TornDown => "torn down".into(),
    }
}
