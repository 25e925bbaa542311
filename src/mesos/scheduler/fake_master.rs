//! The driver against a fake master on 127.0.0.1: HTTP chunking, calls and their stream ID,
//! re-subscription after silence and after 503, several masters.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use super::{Framework, FrameworkEvent, FrameworkOptions};
use crate::mesos::client::MesosClient;
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

async fn calls_of(seen: &Arc<Mutex<Seen>>, kind: &str, n: usize) -> Vec<(Option<String>, Value)> {
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
