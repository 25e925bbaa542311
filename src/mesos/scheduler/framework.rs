//! The handle on a running test framework: starts the driver, waits on the event record, and
//! passes failover, TEARDOWN and other calls to the driver over a channel.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::{mpsc, Notify};
use tokio::time::Instant;

use super::driver::{Driver, CALL_TIMEOUT};
use super::record::{describe_last, Shared, State};
use super::types::{
    DeclineAll, FrameworkError, FrameworkEvent, FrameworkOptions, OfferHandler, RecordedEvent,
};
use crate::mesos::client::MesosClient;

pub(super) enum Control {
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

    /// Asks for offers now (v1 `REVIVE`, every version 1.0+): clears the filters that
    /// declines left, so tasks just queued do not wait for them to expire and for the
    /// allocator's next periodic round (measured: 1.3-2 s per launch without it).
    pub async fn revive(&self) -> Result<(), FrameworkError> {
        self.call("REVIVE", json!({"type": "REVIVE"})).await
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
