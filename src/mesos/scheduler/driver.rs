//! The driver task: owns the subscription stream, makes every call, and records what it sees.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::calls::{accept_call, acknowledge_call, decline_call, subscribe_call, teardown_call};
use super::events::{parse_event, Incoming};
use super::framework::Control;
use super::record::Shared;
use super::types::{FrameworkEvent, FrameworkOptions, OfferAction, OfferHandler, OfferSummary};
use crate::mesos::client::MesosClient;
use crate::mesos::recordio::RecordIoDecoder;

pub(super) struct Driver {
    pub(super) client: MesosClient,
    pub(super) masters: Vec<String>,
    pub(super) opts: FrameworkOptions,
    pub(super) shared: Arc<Shared>,
    pub(super) control: mpsc::UnboundedReceiver<Control>,
    // A mutex only to make the driver Sync (its futures hold `&self` across awaits); the
    // driver is the only user and never holds the lock across an await.
    pub(super) handler: Mutex<Box<dyn OfferHandler>>,
    pub(super) framework_id: Option<String>,
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

pub(super) const CALL_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

impl Driver {
    pub(super) async fn run(mut self) {
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
            .request(reqwest::Method::POST, &url)
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
            .request(reqwest::Method::POST, &url)
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
