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

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::{mpsc, Notify};
use tokio::time::Instant;

use super::client::MesosClient;
use super::recordio::RecordIoDecoder;

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

#[derive(Debug, Default)]
struct State {
    events: Vec<RecordedEvent>,
    framework_id: Option<String>,
    master: Option<String>,
    subscriptions: u32,
    stopped: Option<String>,
}

struct Shared {
    state: Mutex<State>,
    changed: Notify,
    started: Instant,
}

impl Shared {
    fn record(&self, master: Option<&str>, event: FrameworkEvent) {
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

enum Control {
    Failover {
        masters: Option<Vec<String>>,
    },
    Teardown {
        reply: tokio::sync::oneshot::Sender<Result<(), String>>,
    },
    /// Any other call (KILL, RECONCILE, ...); the driver fills in `framework_id`.
    Call {
        name: String,
        body: Value,
        reply: tokio::sync::oneshot::Sender<Result<(), String>>,
    },
}

/// A running test framework.
pub struct Framework {
    shared: Arc<Shared>,
    control: mpsc::UnboundedSender<Control>,
    task: tokio::task::JoinHandle<()>,
    opts: FrameworkOptions,
}

impl Drop for Framework {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Framework {
    /// Subscribes a framework that declines every offer. `masters` are base URLs
    /// (`http://10.0.0.2:5050`); with several, the leader is found by trying each.
    pub async fn subscribe(
        client: MesosClient,
        masters: Vec<String>,
        opts: FrameworkOptions,
    ) -> Result<Framework, FrameworkError> {
        Self::subscribe_with(client, masters, opts, DeclineAll).await
    }

    /// Subscribes with an offer handler (the hook for launching tasks).
    pub async fn subscribe_with(
        client: MesosClient,
        masters: Vec<String>,
        opts: FrameworkOptions,
        handler: impl OfferHandler,
    ) -> Result<Framework, FrameworkError> {
        if masters.is_empty() {
            return Err(FrameworkError::NotSubscribed {
                name: opts.name.clone(),
                after: Duration::ZERO,
                last: "no master URL given".to_string(),
            });
        }
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Notify::new(),
            started: Instant::now(),
        });
        let (tx, rx) = mpsc::unbounded_channel();
        let driver = Driver {
            client,
            masters,
            opts: opts.clone(),
            shared: shared.clone(),
            control: rx,
            handler: Mutex::new(Box::new(handler)),
            framework_id: opts.framework_id.clone(),
        };
        let task = tokio::spawn(driver.run());
        let fw = Framework {
            shared,
            control: tx,
            task,
            opts,
        };
        let deadline = fw.opts.subscribe_timeout;
        fw.wait_until(deadline, |st| st.subscriptions >= 1)
            .await
            .map_err(|last| FrameworkError::NotSubscribed {
                name: fw.opts.name.clone(),
                after: deadline,
                last,
            })?;
        Ok(fw)
    }

    /// The framework ID the master assigned (or the one resumed).
    pub fn id(&self) -> String {
        self.shared
            .state
            .lock()
            .unwrap()
            .framework_id
            .clone()
            .unwrap_or_default()
    }

    /// Base URL of the master of the current subscription.
    pub fn master(&self) -> Option<String> {
        self.shared.state.lock().unwrap().master.clone()
    }

    /// How many times the framework got SUBSCRIBED (1 + re-subscriptions).
    pub fn subscriptions(&self) -> u32 {
        self.shared.state.lock().unwrap().subscriptions
    }

    /// Every event so far.
    pub fn events(&self) -> Vec<RecordedEvent> {
        self.shared.state.lock().unwrap().events.clone()
    }

    /// Scheduler failover: drop the stream and re-SUBSCRIBE with the same framework ID (to
    /// `masters` if given), and wait for the master to accept it.
    pub async fn failover(&self, masters: Option<Vec<String>>) -> Result<(), FrameworkError> {
        let before = self.subscriptions();
        if self.control.send(Control::Failover { masters }).is_err() {
            return Err(self.stopped_error());
        }
        self.wait_resubscribed(before).await
    }

    /// Waits until the framework has subscribed more than `before` times (after a master
    /// restart the driver re-subscribes by itself).
    pub async fn wait_resubscribed(&self, before: u32) -> Result<(), FrameworkError> {
        let after = self.opts.resubscribe_timeout;
        self.wait_until(after, |st| st.subscriptions > before)
            .await
            .map_err(|last| FrameworkError::NotResubscribed {
                id: self.id(),
                after,
                last,
            })
    }

    /// Waits until the event record satisfies `cond`; `what` names the expectation.
    pub async fn wait_for(
        &self,
        what: &str,
        after: Duration,
        cond: impl Fn(&[RecordedEvent]) -> bool,
    ) -> Result<(), FrameworkError> {
        self.wait_until(after, |st| cond(&st.events))
            .await
            .map_err(|last| FrameworkError::Timeout {
                id: self.id(),
                what: what.to_string(),
                after,
                last,
            })
    }

    /// Waits for at least `n` offers in total after event index `from`.
    pub async fn wait_offers(
        &self,
        from: usize,
        n: usize,
        after: Duration,
    ) -> Result<(), FrameworkError> {
        self.wait_for(&format!("{n} offer(s)"), after, |evs| {
            evs.iter()
                .skip(from)
                .map(|e| match &e.event {
                    FrameworkEvent::Offers { offers } => offers.len(),
                    _ => 0,
                })
                .sum::<usize>()
                >= n
        })
        .await
    }

    /// TEARDOWN: the master removes the framework (and kills its tasks).
    pub async fn teardown(self) -> Result<(), FrameworkError> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        if self.control.send(Control::Teardown { reply }).is_err() {
            return Err(self.stopped_error());
        }
        let id = self.id();
        match tokio::time::timeout(Duration::from_secs(10), rx).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(reason))) => Err(FrameworkError::Teardown { id, reason }),
            Ok(Err(_)) => Err(FrameworkError::Teardown {
                id,
                reason: "driver stopped".into(),
            }),
            Err(_) => Err(FrameworkError::Teardown {
                id,
                reason: "no answer within 10s".into(),
            }),
        }
    }

    /// Makes a call on the current subscription (`body` without `framework_id`: the driver
    /// adds it). Fails when not subscribed or the master does not answer 202.
    pub async fn call(&self, name: &str, body: Value) -> Result<(), FrameworkError> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        let control = Control::Call {
            name: name.to_string(),
            body,
            reply,
        };
        if self.control.send(control).is_err() {
            return Err(self.stopped_error());
        }
        let id = self.id();
        let failed = |reason: String| FrameworkError::Timeout {
            id: id.clone(),
            what: format!("an answer to {name}"),
            after: CALL_TIMEOUT,
            last: reason,
        };
        match tokio::time::timeout(CALL_TIMEOUT * 2, rx).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(reason))) => Err(failed(reason)),
            Ok(Err(_)) => Err(failed("driver stopped".into())),
            Err(_) => Err(failed("no answer".into())),
        }
    }

    /// KILL one task.
    pub async fn kill(&self, task_id: &str, agent_id: &str) -> Result<(), FrameworkError> {
        let body = json!({"type": "KILL", "kill": {"task_id": {"value": task_id}, "agent_id": {"value": agent_id}}});
        self.call("KILL", body).await
    }

    /// RECONCILE these (task, agent) pairs; the answers arrive as updates.
    pub async fn reconcile(&self, tasks: &[(String, String)]) -> Result<(), FrameworkError> {
        let tasks: Vec<Value> = tasks
            .iter()
            .map(|(t, a)| json!({"task_id": {"value": t}, "agent_id": {"value": a}}))
            .collect();
        self.call(
            "RECONCILE",
            json!({"type": "RECONCILE", "reconcile": {"tasks": tasks}}),
        )
        .await
    }

    /// Stops the scheduler without TEARDOWN (the scheduler process "dies"); the framework
    /// stays registered for its failover timeout. Returns the framework ID for a successor.
    pub fn abandon(self) -> String {
        self.id()
    }

    fn stopped_error(&self) -> FrameworkError {
        let reason = self.shared.state.lock().unwrap().stopped.clone();
        FrameworkError::Stopped {
            id: self.id(),
            reason: reason.unwrap_or_else(|| "driver ended".into()),
        }
    }

    async fn wait_until(
        &self,
        after: Duration,
        cond: impl Fn(&State) -> bool,
    ) -> Result<(), String> {
        let deadline = Instant::now() + after;
        loop {
            let notified = self.shared.changed.notified();
            {
                let st = self.shared.state.lock().unwrap();
                if cond(&st) {
                    return Ok(());
                }
                if let Some(reason) = &st.stopped {
                    return Err(format!("driver stopped: {reason}; {}", describe_last(&st)));
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let st = self.shared.state.lock().unwrap();
                if cond(&st) {
                    return Ok(());
                }
                return Err(describe_last(&st));
            }
        }
    }
}

fn describe_last(st: &State) -> String {
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

// ---------------------------------------------------------------------------------------------
// Wire format (pure; unit-tested)

/// The SUBSCRIBE call.
pub fn subscribe_call(opts: &FrameworkOptions, framework_id: Option<&str>) -> Value {
    let mut info = json!({
        "user": opts.user,
        "name": opts.name,
        "checkpoint": opts.checkpoint,
        "failover_timeout": opts.failover_timeout.as_secs_f64(),
    });
    let mut call = json!({ "type": "SUBSCRIBE", "subscribe": {} });
    if let Some(id) = framework_id {
        info["id"] = json!({ "value": id });
        call["framework_id"] = json!({ "value": id });
    }
    call["subscribe"]["framework_info"] = info;
    call
}

fn decline_call(framework_id: &str, offer_ids: &[String], refuse: Duration) -> Value {
    json!({
        "framework_id": { "value": framework_id },
        "type": "DECLINE",
        "decline": {
            "offer_ids": offer_ids.iter().map(|id| json!({ "value": id })).collect::<Vec<_>>(),
            "filters": { "refuse_seconds": refuse.as_secs_f64() },
        },
    })
}

fn accept_call(
    framework_id: &str,
    offer_id: &str,
    operations: &[Value],
    refuse: Duration,
) -> Value {
    json!({
        "framework_id": { "value": framework_id },
        "type": "ACCEPT",
        "accept": {
            "offer_ids": [{ "value": offer_id }],
            "operations": operations,
            "filters": { "refuse_seconds": refuse.as_secs_f64() },
        },
    })
}

fn acknowledge_call(framework_id: &str, agent_id: &str, task_id: &str, uuid: &str) -> Value {
    json!({
        "framework_id": { "value": framework_id },
        "type": "ACKNOWLEDGE",
        "acknowledge": {
            "agent_id": { "value": agent_id },
            "task_id": { "value": task_id },
            "uuid": uuid,
        },
    })
}

fn teardown_call(framework_id: &str) -> Value {
    json!({ "framework_id": { "value": framework_id }, "type": "TEARDOWN" })
}

/// An event from the stream, decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    Subscribed {
        framework_id: String,
        heartbeat_interval_secs: f64,
    },
    Offers(Vec<Offer>),
    Rescind {
        offer_id: String,
    },
    Update(TaskUpdate),
    Heartbeat,
    Failure {
        agent_id: Option<String>,
        executor_id: Option<String>,
    },
    Error {
        message: String,
    },
    Other {
        kind: String,
    },
}

fn value_of(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for key in path {
        cur = cur.get(key)?;
    }
    cur.as_str().map(str::to_string)
}

/// Decodes one RecordIO record of the scheduler stream.
pub fn parse_event(record: &[u8]) -> Result<Incoming, String> {
    let v: Value = serde_json::from_slice(record).map_err(|e| format!("event is not JSON: {e}"))?;
    let kind = v
        .get("type")
        .and_then(Value::as_str)
        .ok_or("event without `type`")?;
    Ok(match kind {
        "SUBSCRIBED" => Incoming::Subscribed {
            framework_id: value_of(&v, &["subscribed", "framework_id", "value"])
                .ok_or("SUBSCRIBED without framework_id")?,
            heartbeat_interval_secs: v["subscribed"]["heartbeat_interval_seconds"]
                .as_f64()
                .unwrap_or(15.0),
        },
        "OFFERS" => Incoming::Offers(
            v["offers"]["offers"]
                .as_array()
                .map(|offers| {
                    offers
                        .iter()
                        .map(|o| Offer {
                            id: value_of(o, &["id", "value"]).unwrap_or_default(),
                            agent_id: value_of(o, &["agent_id", "value"]).unwrap_or_default(),
                            hostname: value_of(o, &["hostname"]).unwrap_or_default(),
                            raw: o.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        ),
        "RESCIND" => Incoming::Rescind {
            offer_id: value_of(&v, &["rescind", "offer_id", "value"]).unwrap_or_default(),
        },
        "UPDATE" => {
            let s = &v["update"]["status"];
            Incoming::Update(TaskUpdate {
                task_id: value_of(s, &["task_id", "value"]).unwrap_or_default(),
                state: value_of(s, &["state"]).unwrap_or_default(),
                agent_id: value_of(s, &["agent_id", "value"]),
                reason: value_of(s, &["reason"]),
                message: value_of(s, &["message"]),
                uuid: value_of(s, &["uuid"]),
            })
        }
        "HEARTBEAT" => Incoming::Heartbeat,
        "FAILURE" => Incoming::Failure {
            agent_id: value_of(&v, &["failure", "agent_id", "value"]),
            executor_id: value_of(&v, &["failure", "executor_id", "value"]),
        },
        "ERROR" => Incoming::Error {
            message: value_of(&v, &["error", "message"]).unwrap_or_default(),
        },
        other => Incoming::Other {
            kind: other.to_string(),
        },
    })
}

// ---------------------------------------------------------------------------------------------
// The driver task

struct Driver {
    client: MesosClient,
    masters: Vec<String>,
    opts: FrameworkOptions,
    shared: Arc<Shared>,
    control: mpsc::UnboundedReceiver<Control>,
    // A mutex only to make the driver Sync (its futures hold `&self` across awaits); the
    // driver is the only user and never holds the lock across an await.
    handler: Mutex<Box<dyn OfferHandler>>,
    framework_id: Option<String>,
}

/// A live subscription.
struct Session {
    master: String,
    stream_id: String,
}

enum Ended {
    /// Re-subscribe (stream lost or failover requested).
    Resubscribe,
    /// Stop the driver.
    Stop,
}

const CALL_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

impl Driver {
    async fn run(mut self) {
        let mut deadline = Instant::now() + self.opts.subscribe_timeout;
        loop {
            let Some((session, resp)) = self.connect(deadline).await else {
                return;
            };
            match self.serve(&session, resp).await {
                Ended::Stop => return,
                Ended::Resubscribe => deadline = Instant::now() + self.opts.resubscribe_timeout,
            }
        }
    }

    /// Tries the masters in turn with backoff until one answers SUBSCRIBE with 200.
    async fn connect(&mut self, deadline: Instant) -> Option<(Session, reqwest::Response)> {
        let mut backoff = Duration::from_millis(100);
        let mut next = 0usize;
        loop {
            let master = self.masters[next % self.masters.len().max(1)].clone();
            next += 1;
            match self.try_subscribe(&master).await {
                Ok((stream_id, resp)) => return Some((Session { master, stream_id }, resp)),
                Err(reason) => {
                    self.shared.record(
                        Some(&master),
                        FrameworkEvent::SubscribeFailed {
                            reason: reason.clone(),
                        },
                    );
                    if Instant::now() >= deadline {
                        self.shared.record(
                            Some(&master),
                            FrameworkEvent::GaveUp {
                                reason: format!("no master accepted SUBSCRIBE before the deadline; last: {reason}"),
                            },
                        );
                        return None;
                    }
                }
            }
            // Try the next candidate right away; back off once all were tried.
            if !next.is_multiple_of(self.masters.len().max(1)) {
                continue;
            }
            let pause = backoff.min(deadline.saturating_duration_since(Instant::now()));
            backoff = (backoff * 2).min(MAX_BACKOFF);
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                ctrl = self.control.recv() => match ctrl {
                    Some(Control::Failover { masters }) => {
                        if let Some(m) = masters { self.masters = m; next = 0; }
                        self.shared.record(None, FrameworkEvent::FailoverRequested);
                    }
                    Some(Control::Teardown { reply }) => {
                        let _ = reply.send(Err("not subscribed".into()));
                        return None;
                    }
                    Some(Control::Call { reply, .. }) => {
                        let _ = reply.send(Err("not subscribed (re-subscribing)".into()));
                    }
                    None => return None,
                },
            }
        }
    }

    async fn try_subscribe(&self, master: &str) -> Result<(String, reqwest::Response), String> {
        let url = format!("{}/api/v1/scheduler", master.trim_end_matches('/'));
        let body = subscribe_call(&self.opts, self.framework_id.as_deref()).to_string();
        let req = self
            .client
            .http()
            .post(&url)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .body(body);
        // Bound only the response head: the body is the endless event stream.
        let resp = match tokio::time::timeout(self.client.request_timeout(), req.send()).await {
            Err(_) => {
                return Err(format!(
                    "no response within {:?}",
                    self.client.request_timeout()
                ))
            }
            Ok(Err(e)) => return Err(format!("connection failed: {e}")),
            Ok(Ok(r)) => r,
        };
        let status = resp.status().as_u16();
        if status != 200 {
            let location = resp
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(|l| format!(" (Location: {l})"))
                .unwrap_or_default();
            let text = tokio::time::timeout(Duration::from_secs(1), resp.text())
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default();
            let text: String = text.trim().chars().take(200).collect();
            return Err(format!(
                "HTTP {status}{location}{}",
                if text.is_empty() {
                    String::new()
                } else {
                    format!(": {text}")
                }
            ));
        }
        let stream_id = resp
            .headers()
            .get("mesos-stream-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or("HTTP 200 without a Mesos-Stream-Id header")?;
        Ok((stream_id, resp))
    }

    /// Reads the stream until it ends, a failover is requested, or the framework stops.
    async fn serve(&mut self, session: &Session, resp: reqwest::Response) -> Ended {
        let mut stream = resp.bytes_stream();
        let mut decoder = RecordIoDecoder::new();
        let mut heartbeat = Duration::from_secs(15);
        let mut last_seen = Instant::now();
        let m = Some(session.master.as_str());
        loop {
            let silence = last_seen + heartbeat * 2 + Duration::from_secs(1);
            tokio::select! {
                chunk = stream.next() => match chunk {
                    Some(Ok(bytes)) => {
                        last_seen = Instant::now();
                        let records = match decoder.feed(&bytes) {
                            Ok(r) => r,
                            Err(e) => {
                                self.shared.record(m, FrameworkEvent::StreamEnded { reason: e.to_string() });
                                return Ended::Resubscribe;
                            }
                        };
                        for record in records {
                            match parse_event(&record) {
                                Ok(ev) => {
                                    if let Incoming::Subscribed { heartbeat_interval_secs, .. } = &ev {
                                        heartbeat = Duration::from_secs_f64(heartbeat_interval_secs.max(1.0));
                                    }
                                    self.handle(session, ev).await;
                                }
                                Err(e) => self.shared.record(m, FrameworkEvent::Other { kind: format!("undecodable event: {e}") }),
                            }
                        }
                    }
                    Some(Err(e)) => {
                        self.shared.record(m, FrameworkEvent::StreamEnded { reason: format!("read error: {e}") });
                        return Ended::Resubscribe;
                    }
                    None => {
                        self.shared.record(m, FrameworkEvent::StreamEnded { reason: "closed by the master".into() });
                        return Ended::Resubscribe;
                    }
                },
                _ = tokio::time::sleep_until(silence) => {
                    self.shared.record(m, FrameworkEvent::StreamEnded {
                        reason: format!("no event for {:?} (heartbeat interval {heartbeat:?})", last_seen.elapsed()),
                    });
                    return Ended::Resubscribe;
                }
                ctrl = self.control.recv() => match ctrl {
                    Some(Control::Failover { masters }) => {
                        if let Some(ms) = masters { self.masters = ms; }
                        self.shared.record(m, FrameworkEvent::FailoverRequested);
                        return Ended::Resubscribe;
                    }
                    Some(Control::Teardown { reply }) => {
                        let id = self.framework_id.clone().unwrap_or_default();
                        let result = self.call(session, "TEARDOWN", teardown_call(&id)).await;
                        if result.is_ok() {
                            self.shared.record(m, FrameworkEvent::TornDown);
                        }
                        let _ = reply.send(result);
                        return Ended::Stop;
                    }
                    Some(Control::Call { name, mut body, reply }) => {
                        body["framework_id"] = json!({ "value": self.framework_id.clone().unwrap_or_default() });
                        let result = self.call(session, &name, body).await;
                        if let Err(reason) = &result {
                            self.shared.record(m, FrameworkEvent::CallFailed { call: name, reason: reason.clone() });
                        }
                        let _ = reply.send(result);
                    }
                    None => return Ended::Stop,
                },
            }
        }
    }

    async fn handle(&mut self, session: &Session, ev: Incoming) {
        let m = Some(session.master.as_str());
        match ev {
            Incoming::Subscribed {
                framework_id,
                heartbeat_interval_secs,
            } => {
                self.framework_id = Some(framework_id.clone());
                self.shared.record(
                    m,
                    FrameworkEvent::Subscribed {
                        framework_id,
                        heartbeat_interval_secs,
                    },
                );
            }
            Incoming::Offers(offers) => {
                let summary = offers
                    .iter()
                    .map(|o| OfferSummary {
                        id: o.id.clone(),
                        agent_id: o.agent_id.clone(),
                        hostname: o.hostname.clone(),
                    })
                    .collect();
                self.shared
                    .record(m, FrameworkEvent::Offers { offers: summary });
                let id = self.framework_id.clone().unwrap_or_default();
                let mut declined = Vec::new();
                for offer in &offers {
                    let action = self.handler.lock().unwrap().on_offer(offer);
                    match action {
                        OfferAction::Decline => declined.push(offer.id.clone()),
                        OfferAction::Accept { operations } => {
                            let call =
                                accept_call(&id, &offer.id, &operations, self.opts.decline_refuse);
                            if let Err(reason) = self.call(session, "ACCEPT", call).await {
                                self.shared.record(
                                    m,
                                    FrameworkEvent::CallFailed {
                                        call: "ACCEPT".into(),
                                        reason,
                                    },
                                );
                            }
                        }
                    }
                }
                if !declined.is_empty() {
                    let call = decline_call(&id, &declined, self.opts.decline_refuse);
                    if let Err(reason) = self.call(session, "DECLINE", call).await {
                        self.shared.record(
                            m,
                            FrameworkEvent::CallFailed {
                                call: "DECLINE".into(),
                                reason,
                            },
                        );
                    }
                }
            }
            Incoming::Update(update) => {
                self.handler.lock().unwrap().on_update(&update);
                self.shared.record(
                    m,
                    FrameworkEvent::Update {
                        update: update.clone(),
                    },
                );
                if let (Some(uuid), Some(agent)) = (&update.uuid, &update.agent_id) {
                    let id = self.framework_id.clone().unwrap_or_default();
                    let call = acknowledge_call(&id, agent, &update.task_id, uuid);
                    if let Err(reason) = self.call(session, "ACKNOWLEDGE", call).await {
                        self.shared.record(
                            m,
                            FrameworkEvent::CallFailed {
                                call: "ACKNOWLEDGE".into(),
                                reason,
                            },
                        );
                    }
                }
            }
            Incoming::Rescind { offer_id } => {
                self.shared.record(m, FrameworkEvent::Rescind { offer_id })
            }
            Incoming::Heartbeat => self.shared.record(m, FrameworkEvent::Heartbeat),
            Incoming::Failure {
                agent_id,
                executor_id,
            } => self.shared.record(
                m,
                FrameworkEvent::Failure {
                    agent_id,
                    executor_id,
                },
            ),
            Incoming::Error { message } => self.shared.record(m, FrameworkEvent::Error { message }),
            Incoming::Other { kind } => self.shared.record(m, FrameworkEvent::Other { kind }),
        }
    }

    /// A call on the current subscription; Mesos answers 202 Accepted.
    async fn call(&self, session: &Session, name: &str, body: Value) -> Result<(), String> {
        let url = format!("{}/api/v1/scheduler", session.master.trim_end_matches('/'));
        let req = self
            .client
            .http()
            .post(&url)
            .timeout(CALL_TIMEOUT)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .header("Mesos-Stream-Id", &session.stream_id)
            .body(body.to_string());
        let resp = req.send().await.map_err(|e| format!("{name}: {e}"))?;
        let status = resp.status().as_u16();
        if status == 202 || status == 200 {
            Ok(())
        } else {
            let text = resp.text().await.unwrap_or_default();
            Err(format!(
                "HTTP {status}: {}",
                text.trim().chars().take(200).collect::<String>()
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribe_call_first_time_and_resubscribe() {
        let opts = FrameworkOptions::default();
        let first = subscribe_call(&opts, None);
        assert_eq!(
            first,
            json!({"type":"SUBSCRIBE","subscribe":{"framework_info":{
                "user":"root","name":"upgrade-harness","checkpoint":true,"failover_timeout":3600.0}}})
        );
        let again = subscribe_call(&opts, Some("F-1"));
        assert_eq!(again["framework_id"]["value"], "F-1");
        assert_eq!(again["subscribe"]["framework_info"]["id"]["value"], "F-1");
    }

    #[test]
    fn calls_have_the_documented_shape() {
        let d = decline_call("F", &["O1".into()], Duration::from_secs(1));
        assert_eq!(d["decline"]["offer_ids"][0]["value"], "O1");
        assert_eq!(d["decline"]["filters"]["refuse_seconds"], 1.0);
        let a = acknowledge_call("F", "S0", "T1", "dXVpZA==");
        assert_eq!(a["acknowledge"]["uuid"], "dXVpZA==");
        assert_eq!(a["acknowledge"]["agent_id"]["value"], "S0");
        assert_eq!(
            teardown_call("F"),
            json!({"framework_id":{"value":"F"},"type":"TEARDOWN"})
        );
    }

    #[test]
    fn events_decode() {
        let sub = br#"{"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":"F-1"},"heartbeat_interval_seconds":15}}"#;
        assert_eq!(
            parse_event(sub).unwrap(),
            Incoming::Subscribed {
                framework_id: "F-1".into(),
                heartbeat_interval_secs: 15.0
            }
        );
        let offers = br#"{"type":"OFFERS","offers":{"offers":[{"id":{"value":"O1"},"framework_id":{"value":"F-1"},"agent_id":{"value":"S0"},"hostname":"agent-1","resources":[]}]}}"#;
        let Incoming::Offers(o) = parse_event(offers).unwrap() else {
            panic!()
        };
        assert_eq!(
            (
                o[0].id.as_str(),
                o[0].agent_id.as_str(),
                o[0].hostname.as_str()
            ),
            ("O1", "S0", "agent-1")
        );
        let update = br#"{"type":"UPDATE","update":{"status":{"task_id":{"value":"T1"},"state":"TASK_RUNNING","agent_id":{"value":"S0"},"uuid":"dXVpZA==","source":"SOURCE_EXECUTOR"}}}"#;
        let Incoming::Update(u) = parse_event(update).unwrap() else {
            panic!()
        };
        assert_eq!(u.uuid.as_deref(), Some("dXVpZA=="));
        assert_eq!(u.state, "TASK_RUNNING");
        assert_eq!(
            parse_event(br#"{"type":"HEARTBEAT"}"#).unwrap(),
            Incoming::Heartbeat
        );
        assert_eq!(
            parse_event(br#"{"type":"ERROR","error":{"message":"Framework has been removed"}}"#)
                .unwrap(),
            Incoming::Error {
                message: "Framework has been removed".into()
            }
        );
        assert_eq!(
            parse_event(br#"{"type":"UPDATE_OPERATION_STATUS"}"#).unwrap(),
            Incoming::Other {
                kind: "UPDATE_OPERATION_STATUS".into()
            }
        );
        assert!(parse_event(b"{}").is_err());
        assert!(parse_event(br#"{"type":"SUBSCRIBED","subscribed":{}}"#).is_err());
    }
}

/// The driver against a fake master on 127.0.0.1: HTTP chunking, calls and their stream ID,
/// re-subscription after silence and after 503, several masters.
#[cfg(test)]
mod fake_master_tests {
    use super::*;
    use crate::mesos::recordio::encode;
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    /// What the fake does with the n-th SUBSCRIBE (the last entry repeats).
    #[derive(Clone)]
    enum OnSubscribe {
        Status(u16),
        /// 200, these records split into 7-byte HTTP chunks, then silence.
        Stream(Vec<Value>),
    }

    #[derive(Default)]
    struct Seen {
        subscribes: Vec<Value>,
        /// (Mesos-Stream-Id header, call)
        calls: Vec<(Option<String>, Value)>,
    }

    async fn fake_master(script: Vec<OnSubscribe>) -> (String, Arc<Mutex<Seen>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (seen2, script, count) = (
            seen.clone(),
            Arc::new(script),
            Arc::new(AtomicUsize::new(0)),
        );
        tokio::spawn(async move {
            loop {
                let (sock, _) = listener.accept().await.unwrap();
                tokio::spawn(serve(sock, seen2.clone(), script.clone(), count.clone()));
            }
        });
        (url, seen)
    }

    async fn read_request(sock: &mut TcpStream) -> Option<(BTreeMap<String, String>, Vec<u8>)> {
        let mut buf = Vec::new();
        let mut tmp = [0u8; 4096];
        let end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            let n = sock.read(&mut tmp).await.ok().filter(|n| *n > 0)?;
            buf.extend_from_slice(&tmp[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_string();
        let headers: BTreeMap<String, String> = head
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = buf[end + 4..].to_vec();
        while body.len() < len {
            let n = sock.read(&mut tmp).await.ok().filter(|n| *n > 0)?;
            body.extend_from_slice(&tmp[..n]);
        }
        Some((headers, body))
    }

    async fn serve(
        mut sock: TcpStream,
        seen: Arc<Mutex<Seen>>,
        script: Arc<Vec<OnSubscribe>>,
        count: Arc<AtomicUsize>,
    ) {
        while let Some((headers, body)) = read_request(&mut sock).await {
            let call: Value = serde_json::from_slice(&body).unwrap();
            if call["type"] != "SUBSCRIBE" {
                seen.lock()
                    .unwrap()
                    .calls
                    .push((headers.get("mesos-stream-id").cloned(), call));
                let _ = sock
                    .write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
                    .await;
                continue;
            }
            seen.lock().unwrap().subscribes.push(call);
            let i = count.fetch_add(1, Ordering::SeqCst);
            match script[i.min(script.len() - 1)].clone() {
                OnSubscribe::Status(code) => {
                    let resp = format!("HTTP/1.1 {code} Nope\r\nLocation: //elsewhere:5050\r\nContent-Length: 0\r\n\r\n");
                    let _ = sock.write_all(resp.as_bytes()).await;
                }
                OnSubscribe::Stream(records) => {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nMesos-Stream-Id: stream-{i}\r\nTransfer-Encoding: chunked\r\n\r\n"
                    );
                    let _ = sock.write_all(head.as_bytes()).await;
                    let bytes: Vec<u8> = records
                        .iter()
                        .flat_map(|r| encode(r.to_string().as_bytes()))
                        .collect();
                    for chunk in bytes.chunks(7) {
                        let mut out = format!("{:x}\r\n", chunk.len()).into_bytes();
                        out.extend_from_slice(chunk);
                        out.extend_from_slice(b"\r\n");
                        let _ = sock.write_all(&out).await;
                        let _ = sock.flush().await;
                    }
                    // Silence until the client goes away.
                    let mut one = [0u8; 1];
                    let _ = sock.read(&mut one).await;
                    return;
                }
            }
        }
    }

    fn subscribed(hb: u32) -> Value {
        json!({"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":"F-1"},"heartbeat_interval_seconds":hb}})
    }

    fn quick() -> FrameworkOptions {
        FrameworkOptions {
            subscribe_timeout: Duration::from_secs(5),
            resubscribe_timeout: Duration::from_secs(10),
            ..FrameworkOptions::default()
        }
    }

    async fn calls_of(
        seen: &Arc<Mutex<Seen>>,
        kind: &str,
        n: usize,
    ) -> Vec<(Option<String>, Value)> {
        for _ in 0..100 {
            let calls: Vec<_> = seen
                .lock()
                .unwrap()
                .calls
                .iter()
                .filter(|(_, c)| c["type"] == kind)
                .cloned()
                .collect();
            if calls.len() >= n {
                return calls;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("fewer than {n} {kind} calls");
    }

    #[tokio::test]
    async fn declines_offers_and_acknowledges_updates_over_split_chunks() {
        let (url, seen) = fake_master(vec![OnSubscribe::Stream(vec![
            subscribed(15),
            json!({"type":"OFFERS","offers":{"offers":[
                {"id":{"value":"O1"},"agent_id":{"value":"S0"},"hostname":"agent-1"},
                {"id":{"value":"O2"},"agent_id":{"value":"S1"},"hostname":"agent-2"}]}}),
            json!({"type":"UPDATE","update":{"status":{"task_id":{"value":"T1"},"state":"TASK_RUNNING","agent_id":{"value":"S0"},"uuid":"dXVpZA=="}}}),
            json!({"type":"HEARTBEAT"}),
        ])])
        .await;
        let fw = Framework::subscribe(MesosClient::new().unwrap(), vec![url.clone()], quick())
            .await
            .unwrap();
        assert_eq!(fw.id(), "F-1");
        assert_eq!(fw.master().as_deref(), Some(url.as_str()));
        fw.wait_offers(0, 2, Duration::from_secs(5)).await.unwrap();
        let declines = calls_of(&seen, "DECLINE", 1).await;
        assert_eq!(declines[0].0.as_deref(), Some("stream-0"));
        assert_eq!(declines[0].1["framework_id"]["value"], "F-1");
        assert_eq!(
            declines[0].1["decline"]["offer_ids"],
            json!([{"value":"O1"},{"value":"O2"}])
        );
        let acks = calls_of(&seen, "ACKNOWLEDGE", 1).await;
        assert_eq!(acks[0].1["acknowledge"]["uuid"], "dXVpZA==");
        fw.wait_for("a heartbeat", Duration::from_secs(5), |evs| {
            evs.iter().any(|e| e.event == FrameworkEvent::Heartbeat)
        })
        .await
        .unwrap();
        fw.teardown().await.unwrap();
        assert_eq!(
            calls_of(&seen, "TEARDOWN", 1).await[0].0.as_deref(),
            Some("stream-0")
        );
    }

    #[tokio::test]
    async fn resubscribes_with_the_same_id_after_503_and_silence() {
        let (url, seen) = fake_master(vec![
            OnSubscribe::Status(503),
            OnSubscribe::Stream(vec![subscribed(1)]),
            OnSubscribe::Status(503),
            OnSubscribe::Stream(vec![subscribed(1)]),
        ])
        .await;
        let fw = Framework::subscribe(MesosClient::new().unwrap(), vec![url], quick())
            .await
            .unwrap();
        // Heartbeat interval 1 s and nothing after SUBSCRIBED: dead after ~3 s.
        fw.wait_resubscribed(1).await.unwrap();
        let events = fw.events();
        let ended = events.iter().find_map(|e| match &e.event {
            FrameworkEvent::StreamEnded { reason } => Some(reason.clone()),
            _ => None,
        });
        assert!(ended.unwrap().starts_with("no event for"));
        let failures = events
            .iter()
            .filter(|e| matches!(&e.event, FrameworkEvent::SubscribeFailed { reason } if reason.starts_with("HTTP 503")))
            .count();
        assert_eq!(failures, 2);
        let subs = seen.lock().unwrap().subscribes.clone();
        assert_eq!(subs[0].get("framework_id"), None);
        for s in &subs[2..4] {
            assert_eq!(s["framework_id"]["value"], "F-1");
            assert_eq!(s["subscribe"]["framework_info"]["id"]["value"], "F-1");
        }
    }

    #[tokio::test]
    async fn failover_moves_to_the_given_master_and_redirects_are_skipped() {
        let (a, _) = fake_master(vec![OnSubscribe::Status(307)]).await;
        let (b, _) = fake_master(vec![OnSubscribe::Stream(vec![subscribed(15)])]).await;
        let (c, c_seen) = fake_master(vec![OnSubscribe::Stream(vec![subscribed(15)])]).await;
        let fw = Framework::subscribe(MesosClient::new().unwrap(), vec![a, b.clone()], quick())
            .await
            .unwrap();
        assert_eq!(fw.master(), Some(b));
        let first = fw.events();
        assert!(first.iter().any(|e| matches!(&e.event, FrameworkEvent::SubscribeFailed { reason } if reason == "HTTP 307 (Location: //elsewhere:5050)")));
        fw.failover(Some(vec![c.clone()])).await.unwrap();
        assert_eq!(fw.master(), Some(c));
        assert_eq!(fw.subscriptions(), 2);
        assert_eq!(
            c_seen.lock().unwrap().subscribes[0]["framework_id"]["value"],
            "F-1"
        );
    }

    #[tokio::test]
    async fn gives_up_with_what_it_last_saw() {
        let (url, _) = fake_master(vec![OnSubscribe::Status(503)]).await;
        let opts = FrameworkOptions {
            subscribe_timeout: Duration::from_millis(500),
            ..quick()
        };
        let err = Framework::subscribe(MesosClient::new().unwrap(), vec![url], opts)
            .await
            .err()
            .unwrap();
        let msg = err.to_string();
        assert!(
            msg.starts_with("framework `upgrade-harness` not subscribed within 500ms;"),
            "{msg}"
        );
        assert!(msg.contains("HTTP 503"), "{msg}");
    }
}
