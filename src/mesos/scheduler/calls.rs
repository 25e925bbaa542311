//! The calls the framework makes, as v1 scheduler API JSON (pure; unit-tested).

use std::time::Duration;

use serde_json::{json, Value};

use super::types::FrameworkOptions;

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

pub(super) fn decline_call(framework_id: &str, offer_ids: &[String], refuse: Duration) -> Value {
    json!({
        "framework_id": { "value": framework_id },
        "type": "DECLINE",
        "decline": {
            "offer_ids": offer_ids.iter().map(|id| json!({ "value": id })).collect::<Vec<_>>(),
            "filters": { "refuse_seconds": refuse.as_secs_f64() },
        },
    })
}

pub(super) fn accept_call(
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

pub(super) fn acknowledge_call(
    framework_id: &str,
    agent_id: &str,
    task_id: &str,
    uuid: &str,
) -> Value {
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

pub(super) fn teardown_call(framework_id: &str) -> Value {
    json!({ "framework_id": { "value": framework_id }, "type": "TEARDOWN" })
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
}
