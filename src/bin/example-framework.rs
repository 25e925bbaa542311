//! An example framework that is not the harness's own: a plain blocking program (std only,
//! no async runtime, no code of the harness) speaking the v1 scheduler and executor HTTP
//! APIs, the way a framework project would write one. `scenarios/frameworks/` runs it
//! through real upgrades as a user framework (`frameworks:` in the scenario format).
//!
//! - `example-framework` (scheduler): subscribes with checkpointing and a failover timeout,
//!   keeps its framework ID in `$FRAMEWORK_STATE_DIR/framework_id` and re-subscribes with it
//!   after a restart or a master failover (trying every master of `$MESOS_MASTERS`, following
//!   the non-leaders' redirects); launches the tasks named in `$TASKS` (`a,b`, or `a@agent-1`
//!   for a task on the agent of that hostname), one per offer, as `<name>-1` (never relaunched),
//!   each on its own executor (this binary as `$FRAMEWORK_EXECUTOR executor`), labelled
//!   `owner=example-framework`, remembered in `$FRAMEWORK_STATE_DIR/tasks`; serves
//!   `GET /health` on `$HEALTH_PORT` (default 8080): 200 while subscribed, else 503.
//! - `example-framework executor`: subscribes to its agent, reports its task TASK_RUNNING,
//!   and re-subscribes (with what is unacknowledged) when the agent restarts.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let result = if mode == "executor" {
        executor()
    } else {
        scheduler()
    };
    if let Err(e) = result {
        eprintln!("example-framework: {e}");
        std::process::exit(1);
    }
}

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

fn log(text: &str) {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    println!("[{t:.3}] {text}");
    let _ = io::stdout().flush();
}

// ---------------------------------------------------------------- HTTP/1.1, blocking

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Box<dyn Read>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(mut self) -> String {
        let mut s = String::new();
        let _ = self.body.read_to_string(&mut s);
        s
    }
}

fn post(
    addr: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &Value,
    read_timeout: Duration,
) -> io::Result<Response> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(read_timeout))?;
    let body = body.to_string();
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(&body);
    stream.write_all(req.as_bytes())?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other(format!("bad status line {line:?}")))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let length: Option<u64> = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok());
    let body: Box<dyn Read> = if chunked {
        Box::new(Chunked {
            inner: reader,
            left: 0,
            after_chunk: false,
            done: false,
        })
    } else {
        Box::new(reader.take(length.unwrap_or(0)))
    };
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// A chunked transfer-encoded body.
struct Chunked<R: BufRead> {
    inner: R,
    left: usize,
    after_chunk: bool,
    done: bool,
}

impl<R: BufRead> Read for Chunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let mut line = String::new();
            if self.after_chunk {
                self.inner.read_line(&mut line)?;
                line.clear();
            }
            if self.inner.read_line(&mut line)? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "stream closed",
                ));
            }
            let size = line.trim().split(';').next().unwrap_or("");
            let size = usize::from_str_radix(size, 16)
                .map_err(|_| io::Error::other(format!("bad chunk size {line:?}")))?;
            if size == 0 {
                self.done = true;
                return Ok(0);
            }
            self.left = size;
            self.after_chunk = true;
        }
        let n = buf.len().min(self.left);
        let n = self.inner.read(&mut buf[..n])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "stream closed",
            ));
        }
        self.left -= n;
        Ok(n)
    }
}

/// The next RecordIO record of a stream (`<length>\n<json>`).
fn record(r: &mut dyn Read) -> io::Result<Value> {
    let mut len = Vec::new();
    let mut b = [0u8; 1];
    loop {
        r.read_exact(&mut b)?;
        if b[0] == b'\n' {
            break;
        }
        len.push(b[0]);
    }
    let len: usize = String::from_utf8_lossy(&len)
        .trim()
        .parse()
        .map_err(|_| io::Error::other("bad RecordIO length"))?;
    let mut data = vec![0u8; len];
    r.read_exact(&mut data)?;
    serde_json::from_slice(&data).map_err(io::Error::other)
}

/// `//host:port/...` or `http://host:port/...` -> `host:port`.
fn location_host(location: &str) -> Option<String> {
    let rest = location
        .trim_start_matches("http://")
        .trim_start_matches("//");
    rest.split('/').next().map(str::to_string)
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn unique() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos()
}

/// A random-enough version 4 UUID, base64 (a protobuf `bytes` field in JSON): agents refuse
/// an UUID of unknown version ("Not a valid UUID").
fn uuid() -> String {
    let n = unique() ^ (u128::from(std::process::id()) << 64);
    let mut b = n.to_le_bytes();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    base64(&b)
}

// ---------------------------------------------------------------- scheduler

struct Scheduler {
    name: String,
    state_dir: String,
    executor: String,
    wanted: Vec<String>,
    /// Task name -> task ID, launched (kept in the state dir).
    launched: BTreeMap<String, String>,
    framework_id: Option<String>,
    subscribed: Arc<Mutex<Option<String>>>,
}

fn scheduler() -> Result<(), String> {
    let masters: Vec<String> = env("MESOS_MASTERS", "")
        .split(',')
        .filter(|m| !m.is_empty())
        .map(str::to_string)
        .collect();
    if masters.is_empty() {
        return Err("MESOS_MASTERS is empty".into());
    }
    let state_dir = env("FRAMEWORK_STATE_DIR", "/tmp/example-framework");
    let _ = std::fs::create_dir_all(&state_dir);
    let framework_id = std::fs::read_to_string(format!("{state_dir}/framework_id"))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let launched = std::fs::read_to_string(format!("{state_dir}/tasks"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(n, i)| (n.to_string(), i.to_string()))
        .collect();
    let subscribed = Arc::new(Mutex::new(None));
    let port = env("HEALTH_PORT", "8080");
    let health = TcpListener::bind(format!("0.0.0.0:{port}"))
        .map_err(|e| format!("listening on :{port}: {e}"))?;
    let seen = subscribed.clone();
    std::thread::spawn(move || serve_health(health, seen));
    let mut s = Scheduler {
        name: env("FRAMEWORK_NAME", "example-framework"),
        executor: env("FRAMEWORK_EXECUTOR", ""),
        wanted: env("TASKS", "")
            .split(',')
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
        state_dir,
        launched,
        framework_id,
        subscribed,
    };
    log(&format!(
        "example-framework {} starting: masters {masters:?}, framework ID {:?}, tasks {:?} (launched {:?})",
        s.name, s.framework_id, s.wanted, s.launched
    ));
    let mut leader: Option<String> = None;
    loop {
        let mut candidates: Vec<String> = leader.take().into_iter().collect();
        candidates.extend(masters.iter().cloned());
        for m in candidates {
            match s.session(&m) {
                Ok(()) => log(&format!("{m}: the subscription ended")),
                Err(Redirect(to)) => {
                    log(&format!("{m}: not the leader, redirected to {to}"));
                    leader = Some(to);
                    break;
                }
                Err(Failed(e)) => log(&format!("{m}: {e}")),
            }
            *s.subscribed.lock().unwrap() = None;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

enum SessionEnd {
    Redirect(String),
    Failed(String),
}
use SessionEnd::{Failed, Redirect};

impl Scheduler {
    /// One subscription to `master`, until its stream ends.
    fn session(&mut self, master: &str) -> Result<(), SessionEnd> {
        let mut info = json!({
            "user": "root",
            "name": self.name,
            "checkpoint": true,
            "failover_timeout": 3600.0,
        });
        let mut call = json!({"type": "SUBSCRIBE", "subscribe": {}});
        if let Some(id) = &self.framework_id {
            info["id"] = json!({"value": id});
            call["framework_id"] = json!({"value": id});
        }
        call["subscribe"]["framework_info"] = info;
        let mut r = post(
            master,
            "/api/v1/scheduler",
            &[],
            &call,
            // Heartbeats come every 15 s: a silent master is gone.
            Duration::from_secs(45),
        )
        .map_err(|e| Failed(format!("SUBSCRIBE: {e}")))?;
        if r.status == 307 {
            let to = r.header("location").and_then(location_host);
            return Err(match to {
                Some(to) if to != master => Redirect(to),
                _ => Failed("307 without another leader".into()),
            });
        }
        if r.status != 200 {
            let status = r.status;
            return Err(Failed(format!("SUBSCRIBE answered {status}: {}", r.text())));
        }
        let stream_id = r
            .header("mesos-stream-id")
            .ok_or_else(|| Failed("no Mesos-Stream-Id".into()))?
            .to_string();
        loop {
            let event = record(&mut r.body).map_err(|e| Failed(format!("event stream: {e}")))?;
            match event["type"].as_str().unwrap_or("") {
                "SUBSCRIBED" => {
                    let id = event["subscribed"]["framework_id"]["value"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    log(&format!("subscribed as {id} at {master}"));
                    let _ = std::fs::write(format!("{}/framework_id", self.state_dir), &id);
                    self.framework_id = Some(id.clone());
                    *self.subscribed.lock().unwrap() = Some(id);
                }
                "OFFERS" => {
                    for offer in event["offers"]["offers"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                    {
                        self.offer(master, &stream_id, &offer);
                    }
                }
                "UPDATE" => {
                    let st = &event["update"]["status"];
                    log(&format!(
                        "task {} {} {}",
                        st["task_id"]["value"].as_str().unwrap_or("?"),
                        st["state"].as_str().unwrap_or("?"),
                        st["message"].as_str().unwrap_or("")
                    ));
                    if let Some(uuid) = st["uuid"].as_str() {
                        let ack = json!({
                            "framework_id": {"value": self.framework_id},
                            "type": "ACKNOWLEDGE",
                            "acknowledge": {
                                "agent_id": st["agent_id"],
                                "task_id": st["task_id"],
                                "uuid": uuid,
                            },
                        });
                        self.call(master, &stream_id, &ack);
                    }
                }
                "ERROR" => {
                    return Err(Failed(format!(
                        "ERROR event: {}",
                        event["error"]["message"]
                    )));
                }
                _ => {}
            }
        }
    }

    /// Launches the next task not launched yet on this offer, or declines it.
    fn offer(&mut self, master: &str, stream_id: &str, offer: &Value) {
        let fid = self.framework_id.clone().unwrap_or_default();
        let scalar = |name: &str| -> f64 {
            offer["resources"]
                .as_array()
                .map(|rs| {
                    rs.iter()
                        .filter(|r| r["name"] == name)
                        .filter_map(|r| r["scalar"]["value"].as_f64())
                        .sum()
                })
                .unwrap_or(0.0)
        };
        let hostname = offer["hostname"].as_str().unwrap_or_default();
        let next = self
            .wanted
            .iter()
            .filter_map(|t| match t.split_once('@') {
                Some((name, host)) => (host == hostname).then_some(name),
                None => Some(t.as_str()),
            })
            .find(|t| !self.launched.contains_key(*t))
            .map(str::to_string);
        let fits = scalar("cpus") >= 0.2 && scalar("mem") >= 64.0;
        let offer_id = offer["id"].clone();
        let (Some(name), true) = (next, fits) else {
            let decline = json!({
                "framework_id": {"value": fid},
                "type": "DECLINE",
                "decline": {"offer_ids": [offer_id], "filters": {"refuse_seconds": 5.0}},
            });
            self.call(master, stream_id, &decline);
            return;
        };
        // Its first launch (this framework never launches a task again: a lost one stays lost,
        // for the harness's `framework_tasks` to see).
        let id = format!("{name}-1");
        let resources = json!([
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
            {"name": "mem", "type": "SCALAR", "scalar": {"value": 32}},
        ]);
        let task = json!({
            "name": name,
            "task_id": {"value": id},
            "agent_id": offer["agent_id"],
            "resources": resources,
            "labels": {"labels": [{"key": "owner", "value": "example-framework"}]},
            "executor": {
                "executor_id": {"value": format!("exec-{id}")},
                "framework_id": {"value": fid},
                "type": "CUSTOM",
                "name": "example-framework executor",
                "command": {
                    "shell": false,
                    "value": self.executor,
                    "arguments": ["example-framework", "executor"],
                },
                "resources": resources,
            },
        });
        let accept = json!({
            "framework_id": {"value": fid},
            "type": "ACCEPT",
            "accept": {
                "offer_ids": [offer_id],
                "operations": [{"type": "LAUNCH", "launch": {"task_infos": [task]}}],
                "filters": {"refuse_seconds": 1.0},
            },
        });
        if self.call(master, stream_id, &accept) {
            log(&format!(
                "launching task {name} as {id} on agent {}",
                offer["agent_id"]["value"]
            ));
            self.launched.insert(name, id);
            let lines: String = self
                .launched
                .iter()
                .map(|(n, i)| format!("{n} {i}\n"))
                .collect();
            let _ = std::fs::write(format!("{}/tasks", self.state_dir), lines);
        }
    }

    fn call(&self, master: &str, stream_id: &str, call: &Value) -> bool {
        let kind = call["type"].as_str().unwrap_or("?").to_string();
        match post(
            master,
            "/api/v1/scheduler",
            &[("Mesos-Stream-Id", stream_id)],
            call,
            Duration::from_secs(10),
        ) {
            Ok(r) if r.status == 202 => true,
            Ok(r) => {
                let status = r.status;
                log(&format!("{kind}: answered {status}: {}", r.text()));
                false
            }
            Err(e) => {
                log(&format!("{kind}: {e}"));
                false
            }
        }
    }
}

/// `GET /health`: 200 with the framework ID while subscribed, else 503.
fn serve_health(listener: TcpListener, subscribed: Arc<Mutex<Option<String>>>) {
    for conn in listener.incoming().flatten() {
        let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
        let mut reader = BufReader::new(&conn);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                break;
            }
        }
        let id = subscribed.lock().unwrap().clone();
        let (status, body) = match (line.starts_with("GET /health"), id) {
            (false, _) => ("404 Not Found", "not found\n".to_string()),
            (true, Some(id)) => ("200 OK", format!("subscribed {id}\n")),
            (true, None) => ("503 Service Unavailable", "not subscribed\n".to_string()),
        };
        let _ = (&conn).write_all(
            format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        );
    }
}

// ---------------------------------------------------------------- executor

fn executor() -> Result<(), String> {
    let agent = env("MESOS_AGENT_ENDPOINT", "");
    let fid = env("MESOS_FRAMEWORK_ID", "");
    let eid = env("MESOS_EXECUTOR_ID", "");
    if agent.is_empty() {
        return Err("MESOS_AGENT_ENDPOINT is not set (run by a Mesos agent only)".into());
    }
    let mut task: Option<Value> = None;
    // The update sent last and not acknowledged yet.
    let mut unacked: Option<Value> = None;
    let mut lost_since: Option<Instant> = None;
    loop {
        let mut subscribe = json!({
            "type": "SUBSCRIBE",
            "framework_id": {"value": fid},
            "executor_id": {"value": eid},
            "subscribe": {"unacknowledged_tasks": [], "unacknowledged_updates": []},
        });
        if let (Some(u), Some(t)) = (&unacked, &task) {
            subscribe["subscribe"]["unacknowledged_updates"] = json!([u]);
            subscribe["subscribe"]["unacknowledged_tasks"] = json!([t]);
        }
        let session = post(
            &agent,
            "/api/v1/executor",
            &[],
            &subscribe,
            Duration::from_secs(3600),
        );
        let mut r = match session {
            Ok(r) if r.status == 200 => r,
            Ok(r) => {
                let status = r.status;
                log(&format!("SUBSCRIBE answered {status}: {}", r.text()));
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
            Err(e) => {
                let since = *lost_since.get_or_insert_with(Instant::now);
                if since.elapsed() > Duration::from_secs(900) {
                    return Err(format!("agent gone for 15 minutes: {e}"));
                }
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        if let Some(since) = lost_since.take() {
            log(&format!(
                "re-subscribed {:.2}s after losing the agent",
                since.elapsed().as_secs_f64()
            ));
        }
        loop {
            let event = match record(&mut r.body) {
                Ok(e) => e,
                Err(e) => {
                    log(&format!("agent stream ended: {e}"));
                    lost_since = Some(Instant::now());
                    break;
                }
            };
            match event["type"].as_str().unwrap_or("") {
                "SUBSCRIBED" => log("subscribed to the agent"),
                "LAUNCH" => {
                    let t = event["launch"]["task"].clone();
                    log(&format!("launching task {}", t["task_id"]["value"]));
                    let update = status_update(&fid, &eid, &t, "TASK_RUNNING");
                    task = Some(t);
                    unacked = Some(update.clone());
                    send_update(&agent, &fid, &eid, &update);
                }
                "ACKNOWLEDGED" => {
                    let uuid = event["acknowledged"]["uuid"].as_str().unwrap_or("");
                    if unacked
                        .as_ref()
                        .is_some_and(|u| u["status"]["uuid"] == uuid)
                    {
                        unacked = None;
                    }
                }
                "KILL" => {
                    if let Some(t) = &task {
                        let update = status_update(&fid, &eid, t, "TASK_KILLED");
                        send_update(&agent, &fid, &eid, &update);
                    }
                    std::thread::sleep(Duration::from_secs(1));
                    return Ok(());
                }
                "SHUTDOWN" => return Ok(()),
                _ => {}
            }
        }
    }
}

fn status_update(fid: &str, eid: &str, task: &Value, state: &str) -> Value {
    json!({
        "status": {
            "task_id": task["task_id"],
            "state": state,
            "source": "SOURCE_EXECUTOR",
            "executor_id": {"value": eid},
            "uuid": uuid(),
        },
        "framework_id": {"value": fid},
    })
}

fn send_update(agent: &str, fid: &str, eid: &str, update: &Value) {
    let call = json!({
        "type": "UPDATE",
        "framework_id": {"value": fid},
        "executor_id": {"value": eid},
        "update": {"status": update["status"]},
    });
    match post(
        agent,
        "/api/v1/executor",
        &[],
        &call,
        Duration::from_secs(10),
    ) {
        Ok(r) if r.status == 202 => {}
        Ok(r) => {
            let status = r.status;
            log(&format!("UPDATE answered {status}: {}", r.text()));
        }
        Err(e) => log(&format!("UPDATE: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_of_known_bytes() {
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(b"M"), "TQ==");
    }

    #[test]
    fn chunked_recordio_is_read_across_chunks() {
        // `7\n` then `{"a":1` then `}`: one 7-byte record across three chunks.
        let body = "2\r\n7\n\r\n6\r\n{\"a\":1\r\n1\r\n}\r\n0\r\n\r\n";
        let mut c = Chunked {
            inner: BufReader::new(body.as_bytes()),
            left: 0,
            after_chunk: false,
            done: false,
        };
        assert_eq!(record(&mut c).unwrap(), json!({"a": 1}));
        let mut rest = Vec::new();
        c.read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty());
    }

    #[test]
    fn redirect_locations() {
        assert_eq!(
            location_host("//master-2:5050/master/api/v1/scheduler").as_deref(),
            Some("master-2:5050")
        );
    }
}
