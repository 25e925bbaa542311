//! The harness's custom executor on the v1 executor HTTP API
//! (`POST $MESOS_AGENT_ENDPOINT/api/v1/executor`).
//!
//! One blocking thread reads the SUBSCRIBE stream (RecordIO, `mesos::recordio`); each task is a
//! real child process (this same binary in `task` mode, which sleeps until killed) with a
//! waiter thread that reports how it ended. Updates carry a fresh uuid and stay in the
//! unacknowledged set until the agent sends ACKNOWLEDGED.
//!
//! When the stream ends (the agent stopped, e.g. for an upgrade):
//! - with checkpointing, it re-SUBSCRIBEs with its unacknowledged tasks and updates, retrying
//!   every 50 ms doubling to at most 500 ms (or `MESOS_SUBSCRIPTION_BACKOFF_MAX` if smaller)
//!   until `MESOS_RECOVERY_TIMEOUT` has passed. The cap is well below Mesos's own default
//!   (2 s) because the restarted agent waits only `--executor_reregistration_timeout`
//!   (2 s) after its recovery;
//! - without checkpointing, it kills its tasks and exits, as the Mesos executor library does.
//!
//! Every TASK_RUNNING update says which executor build runs the task: `message` =
//! `upgrade-harness-executor <build>: task <id> running` and the label `executor_build`
//! ([`crate::mesos::workload::parse_running_message`]). The task's pid is in the executor's log ([`launched_pid`]).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::{base64, http};
use crate::mesos::recordio::RecordIoDecoder;
use crate::mesos::task_state::TaskState;
use crate::mesos::workload::running_message;

const PATH: &str = "/api/v1/executor";
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_RETRY: Duration = Duration::from_millis(500);

/// What the agent tells the executor through its environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub endpoint: String,
    pub framework_id: String,
    pub executor_id: String,
    pub checkpoint: bool,
    pub recovery_timeout: Duration,
    pub backoff_max: Duration,
    pub shutdown_grace: Duration,
    /// Which executor build this is (`--build`), reported with every TASK_RUNNING.
    pub build: String,
}

impl Config {
    /// Reads the agent's variables; `build` comes from the command line.
    pub fn from_env(vars: &BTreeMap<String, String>, build: &str) -> Result<Config, String> {
        let get = |k: &str| {
            vars.get(k)
                .cloned()
                .ok_or_else(|| format!("{k} is not set (is this run by a Mesos agent?)"))
        };
        let dur = |k: &str, default: Duration| -> Result<Duration, String> {
            match vars.get(k) {
                Some(v) => {
                    parse_duration(v).ok_or_else(|| format!("{k}={v:?} is not a Mesos duration"))
                }
                None => Ok(default),
            }
        };
        Ok(Config {
            endpoint: get("MESOS_AGENT_ENDPOINT")?,
            framework_id: get("MESOS_FRAMEWORK_ID")?,
            executor_id: get("MESOS_EXECUTOR_ID")?,
            checkpoint: vars
                .get("MESOS_CHECKPOINT")
                .is_some_and(|v| v == "1" || v == "true"),
            recovery_timeout: dur("MESOS_RECOVERY_TIMEOUT", Duration::from_secs(15 * 60))?,
            backoff_max: dur("MESOS_SUBSCRIPTION_BACKOFF_MAX", Duration::from_secs(2))?,
            shutdown_grace: dur(
                "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD",
                Duration::from_secs(5),
            )?,
            build: build.to_string(),
        })
    }
}

/// Parses a Mesos duration (`15mins`, `2secs`, `500ms`, `1.5hrs`, ...).
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let secs = match unit {
        "ns" => 1e-9,
        "us" => 1e-6,
        "ms" => 1e-3,
        "secs" => 1.0,
        "mins" => 60.0,
        "hrs" => 3600.0,
        "days" => 86400.0,
        "weeks" => 604800.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(n * secs))
}

/// Logged by the executor between a task's ID and its pid, read back by [`launched_pid`].
const LAUNCHED_AS_PID: &str = " launched as pid ";

/// The pid of `task_id` from the executor's log (its sandbox `stderr`): the last
/// `task <id> launched as pid <pid>` line.
pub fn launched_pid(log: &str, task_id: &str) -> Option<u32> {
    let needle = format!("task {task_id}{LAUNCHED_AS_PID}");
    log.lines().rev().find_map(|l| {
        l.split_once(&needle)
            .and_then(|(_, p)| p.trim().parse().ok())
    })
}

struct TaskEntry {
    info: Value,
    pid: u32,
    /// A KILL or SHUTDOWN asked for it: its end is TASK_KILLED.
    killing: bool,
    /// The terminal state sent, once it ended.
    ended: Option<&'static str>,
}

#[derive(Default)]
struct State {
    tasks: BTreeMap<String, TaskEntry>,
    /// uuid -> the `Call.Update` body.
    unacked: BTreeMap<String, Value>,
    shutting_down: bool,
}

/// The running executor.
pub struct Executor {
    cfg: Config,
    state: Mutex<State>,
    self_exe: PathBuf,
    /// The name this executor was started under: task processes get it as their argv[0],
    /// since `self_exe` is the multi-call `upgrade-harness` binary (`task_helpers::by_argv0`).
    self_argv0: OsString,
}

fn log(msg: &str) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    eprintln!(
        "upgrade-harness-executor [{}.{:03}]: {msg}",
        now.as_secs(),
        now.subsec_millis()
    );
}

fn new_uuid() -> String {
    let mut b = [0u8; 16];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .is_err()
    {
        let n = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        b = (n ^ (u128::from(std::process::id()) << 64)).to_le_bytes();
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    base64::encode(&b)
}

/// The SUBSCRIBE call with what is not acknowledged yet.
pub fn subscribe_call(
    cfg: &Config,
    unacked_tasks: Vec<Value>,
    unacked_updates: Vec<Value>,
) -> Value {
    json!({
        "type": "SUBSCRIBE",
        "framework_id": {"value": cfg.framework_id},
        "executor_id": {"value": cfg.executor_id},
        "subscribe": {"unacknowledged_tasks": unacked_tasks, "unacknowledged_updates": unacked_updates},
    })
}

/// The `Call.Update` body of a status update.
pub fn update_body(
    cfg: &Config,
    task_id: &str,
    state: &str,
    message: &str,
    uuid: &str,
    labels: &[(&str, String)],
) -> Value {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    json!({"status": {
        "task_id": {"value": task_id},
        "executor_id": {"value": cfg.executor_id},
        "state": state,
        "source": "SOURCE_EXECUTOR",
        "uuid": uuid,
        "message": message,
        "timestamp": now,
        "labels": {"labels": labels.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>()},
    }})
}

enum Ended {
    /// The stream ended or could not be opened: try again (or give up, see `run`).
    Lost(String),
    /// SHUTDOWN, or every task ended and was acknowledged.
    Done,
}

impl Executor {
    pub fn new(cfg: Config, self_exe: PathBuf, self_argv0: OsString) -> Arc<Executor> {
        Arc::new(Executor {
            cfg,
            state: Mutex::new(State::default()),
            self_exe,
            self_argv0,
        })
    }

    /// Subscribes and serves until done; returns the process exit code.
    pub fn run(self: &Arc<Self>) -> i32 {
        log(&format!(
            "build {} for executor {} of framework {}, agent {}, checkpoint {}",
            self.cfg.build,
            self.cfg.executor_id,
            self.cfg.framework_id,
            self.cfg.endpoint,
            self.cfg.checkpoint
        ));
        let mut subscribed_once = false;
        let mut lost_at: Option<Instant> = None;
        let mut retry = Duration::from_millis(50);
        loop {
            match self.serve(&mut subscribed_once, &mut lost_at) {
                Ended::Done => {
                    log("done: exiting");
                    return 0;
                }
                Ended::Lost(why) => {
                    let since = *lost_at.get_or_insert_with(Instant::now);
                    if subscribed_once && !self.cfg.checkpoint {
                        log(&format!("lost the agent ({why}); the framework does not checkpoint: killing the tasks and exiting"));
                        self.kill_all(Duration::from_secs(1));
                        return 1;
                    }
                    if since.elapsed() > self.cfg.recovery_timeout {
                        log(&format!("no agent for {:?} (recovery timeout): killing the tasks and exiting; last: {why}", since.elapsed()));
                        self.kill_all(Duration::from_secs(1));
                        return 1;
                    }
                    if retry == Duration::from_millis(50) {
                        log(&format!(
                            "agent connection lost or refused ({why}); re-subscribing"
                        ));
                    }
                    std::thread::sleep(retry);
                    retry = (retry * 2)
                        .min(MAX_RETRY.min(self.cfg.backoff_max.max(Duration::from_millis(50))));
                    continue;
                }
            }
        }
    }

    fn serve(self: &Arc<Self>, subscribed_once: &mut bool, lost_at: &mut Option<Instant>) -> Ended {
        let body = {
            let st = self.state.lock().unwrap();
            let updates: Vec<Value> = st.unacked.values().cloned().collect();
            let tasks: Vec<Value> = st
                .tasks
                .iter()
                .filter(|(id, _)| {
                    st.unacked
                        .values()
                        .any(|u| u["status"]["task_id"]["value"] == id.as_str())
                })
                .map(|(_, t)| t.info.clone())
                .collect();
            subscribe_call(&self.cfg, tasks, updates)
        };
        let (resp, mut stream) = match http::post_stream(
            &self.cfg.endpoint,
            PATH,
            body.to_string().as_bytes(),
            CALL_TIMEOUT,
        ) {
            Ok(x) => x,
            Err(e) => return Ended::Lost(e.to_string()),
        };
        if resp.status != 200 {
            // Not reading the body: a keep-alive answer without a chunked body would block.
            return Ended::Lost(format!(
                "SUBSCRIBE answered HTTP {} (content-length {})",
                resp.status,
                resp.header("content-length").unwrap_or("-")
            ));
        }
        // The stream lives as long as the agent; its end is how a stopped agent shows.
        let _ = stream.get_ref().get_ref().set_read_timeout(None);
        let mut decoder = RecordIoDecoder::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match stream.read(&mut buf) {
                Ok(0) => return Ended::Lost("the agent closed the stream".into()),
                Ok(n) => n,
                Err(e) => return Ended::Lost(format!("reading the stream: {e}")),
            };
            let records = match decoder.feed(&buf[..n]) {
                Ok(r) => r,
                Err(e) => return Ended::Lost(e.to_string()),
            };
            for record in records {
                let Ok(ev) = serde_json::from_slice::<Value>(&record) else {
                    log("undecodable event");
                    continue;
                };
                match ev["type"].as_str().unwrap_or("") {
                    "SUBSCRIBED" => {
                        let again = std::mem::replace(subscribed_once, true);
                        let after = lost_at
                            .take()
                            .map(|t| format!(" {:?} after losing the agent", t.elapsed()))
                            .unwrap_or_default();
                        let unacked = self.state.lock().unwrap().unacked.len();
                        log(&format!(
                            "{} (agent {}){after}; {unacked} unacknowledged update(s) sent",
                            if again { "re-subscribed" } else { "subscribed" },
                            ev["subscribed"]["agent_info"]["id"]["value"]
                                .as_str()
                                .unwrap_or("?")
                        ));
                    }
                    "LAUNCH" => self.launch(ev["launch"]["task"].clone()),
                    "LAUNCH_GROUP" => {
                        log("LAUNCH_GROUP is not supported by this executor; ignored")
                    }
                    "KILL" => {
                        let id = ev["kill"]["task_id"]["value"]
                            .as_str()
                            .unwrap_or("")
                            .to_string();
                        self.kill(&id);
                    }
                    "ACKNOWLEDGED" => {
                        let uuid = ev["acknowledged"]["uuid"]
                            .as_str()
                            .unwrap_or("")
                            .to_string();
                        let mut st = self.state.lock().unwrap();
                        st.unacked.remove(&uuid);
                        let all_ended =
                            !st.tasks.is_empty() && st.tasks.values().all(|t| t.ended.is_some());
                        if all_ended && st.unacked.is_empty() {
                            log("every task ended and its update was acknowledged");
                            return Ended::Done;
                        }
                    }
                    "SHUTDOWN" => {
                        log("SHUTDOWN: killing every task");
                        self.kill_all(self.cfg.shutdown_grace);
                        return Ended::Done;
                    }
                    "HEARTBEAT" => {}
                    "MESSAGE" => {}
                    "ERROR" => log(&format!("ERROR from the agent: {}", ev["error"]["message"])),
                    other => log(&format!("ignoring event {other}")),
                }
            }
        }
    }

    fn launch(self: &Arc<Self>, info: Value) {
        let id = info["task_id"]["value"].as_str().unwrap_or("").to_string();
        let mut cmd = std::process::Command::new(&self.self_exe);
        cmd.args(["task", &id]);
        cmd.arg0(&self.self_argv0);
        // SAFETY: reset_signals only makes async-signal-safe calls.
        unsafe {
            cmd.pre_exec(|| {
                super::containerizer::reset_signals();
                Ok(())
            });
        }
        let child = cmd.spawn();
        let mut child: Child = match child {
            Ok(c) => c,
            Err(e) => {
                log(&format!(
                    "task {id}: cannot start {}: {e}",
                    self.self_exe.display()
                ));
                self.send_update(
                    &id,
                    TaskState::Failed.as_str(),
                    &format!("cannot start the task process: {e}"),
                    &[],
                );
                return;
            }
        };
        let pid = child.id();
        self.state.lock().unwrap().tasks.insert(
            id.clone(),
            TaskEntry {
                info,
                pid,
                killing: false,
                ended: None,
            },
        );
        log(&format!("task {id}{LAUNCHED_AS_PID}{pid}"));
        self.send_update(
            &id,
            TaskState::Running.as_str(),
            &running_message(&self.cfg.build, &id),
            &[("executor_build", self.cfg.build.clone())],
        );
        let me = self.clone();
        std::thread::spawn(move || {
            let status = child.wait();
            let (state, msg) = {
                let st = me.state.lock().unwrap();
                let killing = st.tasks.get(&id).is_some_and(|t| t.killing) || st.shutting_down;
                match status {
                    _ if killing => (TaskState::Killed.as_str(), "killed on request".to_string()),
                    Ok(s) if s.success() => (
                        TaskState::Finished.as_str(),
                        "the task process exited 0".to_string(),
                    ),
                    Ok(s) => (
                        TaskState::Failed.as_str(),
                        format!("the task process ended: {s}"),
                    ),
                    Err(e) => (
                        TaskState::Failed.as_str(),
                        format!("waiting for the task process: {e}"),
                    ),
                }
            };
            if let Some(t) = me.state.lock().unwrap().tasks.get_mut(&id) {
                t.ended = Some(state);
            }
            log(&format!("task {id}: {state} ({msg})"));
            me.send_update(&id, state, &msg, &[]);
        });
    }

    fn kill(&self, id: &str) {
        let pid = {
            let mut st = self.state.lock().unwrap();
            match st.tasks.get_mut(id) {
                Some(t) if t.ended.is_none() => {
                    t.killing = true;
                    Some(t.pid)
                }
                _ => None,
            }
        };
        match pid {
            Some(pid) => {
                log(&format!("KILL task {id}: SIGTERM to pid {pid}"));
                // SAFETY: signalling our own child.
                unsafe { libc::kill(pid as i32, libc::SIGTERM) };
            }
            None => log(&format!("KILL for unknown or ended task {id}")),
        }
    }

    /// SIGTERM to every task, SIGKILL after `grace`, and wait until their updates were sent.
    fn kill_all(&self, grace: Duration) {
        let pids: Vec<u32> = {
            let mut st = self.state.lock().unwrap();
            st.shutting_down = true;
            st.tasks
                .values()
                .filter(|t| t.ended.is_none())
                .map(|t| t.pid)
                .collect()
        };
        for pid in &pids {
            // SAFETY: signalling our own children.
            unsafe { libc::kill(*pid as i32, libc::SIGTERM) };
        }
        if self.all_ended_within(grace) {
            return;
        }
        for pid in &pids {
            // SAFETY: as above.
            unsafe { libc::kill(*pid as i32, libc::SIGKILL) };
        }
        // Their waiter threads record the exits (and send the updates).
        self.all_ended_within(Duration::from_secs(2));
    }

    /// Whether every task's process has ended (its waiter recorded it) within `limit`.
    fn all_ended_within(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            let state = self.state.lock().unwrap();
            if state.tasks.values().all(|t| t.ended.is_some()) {
                return true;
            }
            drop(state);
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends an UPDATE; it stays unacknowledged (and is re-sent with the next SUBSCRIBE)
    /// until ACKNOWLEDGED arrives, so a failed send is not an error.
    fn send_update(&self, task_id: &str, state: &str, message: &str, labels: &[(&str, String)]) {
        let uuid = new_uuid();
        let update = update_body(&self.cfg, task_id, state, message, &uuid, labels);
        self.state
            .lock()
            .unwrap()
            .unacked
            .insert(uuid, update.clone());
        let call = json!({
            "type": "UPDATE",
            "framework_id": {"value": self.cfg.framework_id},
            "executor_id": {"value": self.cfg.executor_id},
            "update": update,
        });
        match http::post(
            &self.cfg.endpoint,
            PATH,
            call.to_string().as_bytes(),
            CALL_TIMEOUT,
        ) {
            Ok(r) if r.status == 202 || r.status == 200 => {}
            Ok(r) => log(&format!(
                "UPDATE {task_id} {state}: HTTP {} {}",
                r.status,
                String::from_utf8_lossy(&r.body).trim()
            )),
            Err(e) => log(&format!(
                "UPDATE {task_id} {state} not sent now ({e}); it goes with the next SUBSCRIBE"
            )),
        }
    }
}

/// The task process: sleeps until a signal ends it.
pub fn task_main() -> i32 {
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

/// The whole program: `args` without argv[0].
pub fn main_with(args: &[String], vars: &BTreeMap<String, String>) -> i32 {
    match args.first().map(String::as_str) {
        Some("task") => return task_main(),
        // Test support: SIGKILL these pids (node images have no `kill`).
        Some("kill") => {
            let mut code = 0;
            for pid in &args[1..] {
                let ok = pid
                    .parse::<i32>()
                    .is_ok_and(|p| p > 1 && unsafe { libc::kill(p, libc::SIGKILL) } == 0);
                if !ok {
                    eprintln!("upgrade-harness-executor: cannot kill {pid}");
                    code = 1;
                }
            }
            return code;
        }
        Some("version") => {
            println!("upgrade-harness-executor {}", env!("CARGO_PKG_VERSION"));
            return 0;
        }
        _ => {}
    }
    let mut build = format!("crate-{}", env!("CARGO_PKG_VERSION"));
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--build" => build = it.next().cloned().unwrap_or_default(),
            other => {
                eprintln!("upgrade-harness-executor: unknown argument {other:?}; usage: upgrade-harness-executor [--build NAME] | task ID | version");
                return 2;
            }
        }
    }
    let cfg = match Config::from_env(vars, &build) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("upgrade-harness-executor: {e}");
            return 2;
        }
    };
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/proc/self/exe"));
    let argv0 = std::env::args_os()
        .next()
        .unwrap_or_else(|| "upgrade-harness-executor".into());
    Executor::new(cfg, exe, argv0).run()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesos::workload::parse_running_message;

    #[test]
    fn mesos_durations() {
        assert_eq!(parse_duration("15mins"), Some(Duration::from_secs(900)));
        assert_eq!(parse_duration("2secs"), Some(Duration::from_secs(2)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5hrs"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("5"), None);
        assert_eq!(parse_duration("5parsecs"), None);
    }

    #[test]
    fn running_message_round_trips() {
        let m = running_message("1.10.0", "task-1");
        assert_eq!(m, "upgrade-harness-executor 1.10.0: task task-1 running");
        assert_eq!(parse_running_message(&m).as_deref(), Some("1.10.0"));
        assert_eq!(
            parse_running_message("Unreachable agent re-reregistered"),
            None
        );
        let log = "upgrade-harness-executor [1.0]: task task-1 launched as pid 35\nupgrade-harness-executor [2.0]: task task-10 launched as pid 99\n";
        assert_eq!(launched_pid(log, "task-1"), Some(35));
        assert_eq!(launched_pid(log, "task-10"), Some(99));
        assert_eq!(launched_pid(log, "task-2"), None);
    }

    fn cfg() -> Config {
        let vars = BTreeMap::from([
            (
                "MESOS_AGENT_ENDPOINT".to_string(),
                "10.0.0.3:5051".to_string(),
            ),
            ("MESOS_FRAMEWORK_ID".to_string(), "F".to_string()),
            ("MESOS_EXECUTOR_ID".to_string(), "E".to_string()),
            ("MESOS_CHECKPOINT".to_string(), "1".to_string()),
            ("MESOS_RECOVERY_TIMEOUT".to_string(), "15mins".to_string()),
        ]);
        Config::from_env(&vars, "1.10.0").unwrap()
    }

    #[test]
    fn config_and_calls() {
        let c = cfg();
        assert!(c.checkpoint);
        assert_eq!(c.recovery_timeout, Duration::from_secs(900));
        assert_eq!(c.backoff_max, Duration::from_secs(2));
        let u = update_body(
            &c,
            "T",
            "TASK_RUNNING",
            "m",
            "dXVpZA==",
            &[("task_pid", "7".into())],
        );
        assert_eq!(u["status"]["uuid"], "dXVpZA==");
        assert_eq!(u["status"]["source"], "SOURCE_EXECUTOR");
        assert_eq!(u["status"]["labels"]["labels"][0]["key"], "task_pid");
        let s = subscribe_call(&c, vec![json!({"name": "t"})], vec![u]);
        assert_eq!(s["executor_id"]["value"], "E");
        assert_eq!(
            s["subscribe"]["unacknowledged_updates"][0]["status"]["task_id"]["value"],
            "T"
        );
        let err = Config::from_env(&BTreeMap::new(), "x").unwrap_err();
        assert!(err.starts_with("MESOS_AGENT_ENDPOINT is not set"), "{err}");
    }

    #[test]
    fn uuids_are_16_random_bytes() {
        let (a, b) = (new_uuid(), new_uuid());
        assert_eq!(a.len(), 24);
        assert_ne!(a, b);
    }
}
