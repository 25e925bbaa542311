//! Decoding the events of the scheduler stream (pure; unit-tested).

use serde_json::Value;

use super::types::{Offer, TaskUpdate};

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

#[cfg(test)]
mod tests {
    use super::*;

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
