//! The `mesos-containerizer` stand-in as an agent runs it, without an agent: the pipe
//! handshake, the environment, the working directory and the status file.

use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

/// The multi-call binary: started as `mesos-containerizer` / `upgrade-harness-executor` it is
/// that helper (as in node images, where those names are symlinks to it).
const HARNESS: &str = env!("CARGO_BIN_EXE_upgrade-harness");

/// A close-on-exec pipe (tests run in parallel: no other test's child may inherit it); only
/// the containerizer's child gets both ends, as from the agent (see `start`).
fn pipe() -> (i32, i32) {
    let mut fds = [0i32; 2];
    // SAFETY: pipe2(2) into a local array.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    (fds[0], fds[1])
}

struct Launch {
    dir: tempfile::TempDir,
    child: std::process::Child,
    write_end: i32,
}

/// Starts `mesos-containerizer launch` with `launch_info`, as the agent does (fds 0-2 are the
/// sandbox files there; piped here).
fn start(launch_info: Value) -> Launch {
    let dir = tempfile::tempdir().unwrap();
    let runtime = dir.path().join("containers/c1");
    std::fs::create_dir_all(&runtime).unwrap();
    let (r, w) = pipe();
    let mut cmd = Command::new(HARNESS);
    cmd.arg0("mesos-containerizer");
    // SAFETY: only fcntl between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            // The agent forks from a libprocess thread that blocks SIGTERM: so do we.
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGTERM);
            libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            for fd in [r, w] {
                if libc::fcntl(fd, libc::F_SETFD, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let child = cmd
        .arg("launch")
        .env_clear()
        .env("AGENT_ONLY", "must not reach the command")
        .env("MESOS_CONTAINERIZER_LAUNCH_INFO", launch_info.to_string())
        .env("MESOS_CONTAINERIZER_PIPE_READ", r.to_string())
        .env("MESOS_CONTAINERIZER_PIPE_WRITE", w.to_string())
        .env("MESOS_CONTAINERIZER_RUNTIME_DIRECTORY", &runtime)
        .env("MESOS_CONTAINERIZER_UNSHARE_NAMESPACE_MNT", "false")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // SAFETY: the parent keeps only the write end, like the agent.
    unsafe { libc::close(r) };
    Launch {
        dir,
        child,
        write_end: w,
    }
}

impl Launch {
    fn handshake(&self) {
        // SAFETY: one byte to our own pipe.
        // (-1 with EPIPE when the helper already refused to launch.)
        unsafe { libc::write(self.write_end, b"x".as_ptr().cast(), 1) };
        unsafe { libc::close(self.write_end) };
    }

    fn agent_dies(&self) {
        // SAFETY: closing our own fd.
        unsafe { libc::close(self.write_end) };
    }

    fn finish(mut self) -> (i32, String, String, String) {
        let mut out = String::new();
        let mut err = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let code = self.child.wait().unwrap().code().unwrap_or(-1);
        let status = std::fs::read_to_string(self.dir.path().join("containers/c1/status"))
            .unwrap_or_default();
        (code, status, out, err)
    }
}

fn command(value: &str, args: &[&str]) -> Value {
    json!({"shell": false, "value": value, "arguments": args})
}

#[test]
fn agent_gone_before_the_handshake_gives_status_256_and_exit_1() {
    let l = start(json!({"command": command("/bin/true", &["true"])}));
    l.agent_dies();
    let (code, status, _, err) = l.finish();
    assert_eq!((code, status.as_str()), (1, "256"), "{err}");
    assert!(err.contains("the agent closed the pipe"), "{err}");
}

#[test]
fn writes_the_raw_wait_status_of_the_command() {
    // exit code 3 -> wait status 768 (shell: true needs sh, which the host has).
    let l = start(json!({"command": {"shell": true, "value": "exit 3"}}));
    l.handshake();
    let (code, status, _, err) = l.finish();
    assert_eq!((code, status.as_str()), (0, "768"), "{err}");
    let raw: i32 = status.parse().unwrap();
    assert_eq!(std::process::ExitStatus::from_raw(raw).code(), Some(3));
}

#[test]
fn environment_only_from_launch_info_and_working_directory_created() {
    let sandbox = tempfile::tempdir().unwrap();
    let wd = sandbox.path().join("runs/latest");
    let l = start(json!({
        "command": command("/bin/sh", &["sh", "-c", "pwd; env | sort"]),
        "environment": {"variables": [
            {"name": "MESOS_SANDBOX", "type": "VALUE", "value": "/sb"},
            {"name": "MESOS_AGENT_ENDPOINT", "value": "10.0.0.3:5051"}]},
        "working_directory": wd,
    }));
    l.handshake();
    let (code, status, out, err) = l.finish();
    assert_eq!((code, status.as_str()), (0, "0"), "{err}");
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some(wd.to_str().unwrap()));
    let env: Vec<&str> = lines
        .filter(|l| !l.starts_with("PWD=") && !l.starts_with("SHLVL=") && !l.starts_with("_="))
        .collect();
    assert_eq!(
        env,
        [
            "MESOS_AGENT_ENDPOINT=10.0.0.3:5051",
            "MESOS_SANDBOX=/sb",
            &format!(
                "PATH={}",
                upgrade_harness::task_helpers::containerizer::DEFAULT_PATH
            ),
        ]
    );
}

#[test]
fn status_file_is_0600_and_signals_reach_the_command() {
    let l = start(json!({"command": command("/bin/sleep", &["sleep", "30"])}));
    l.handshake();
    std::thread::sleep(std::time::Duration::from_millis(300));
    use std::os::unix::fs::PermissionsExt;
    let file = l.dir.path().join("containers/c1/status");
    assert_eq!(
        std::fs::metadata(file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // SAFETY: signalling our own child.
    unsafe { libc::kill(l.child.id() as i32, libc::SIGTERM) };
    let (code, status, _, err) = l.finish();
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        status,
        libc::SIGTERM.to_string(),
        "the command died of the forwarded SIGTERM"
    );
}

#[test]
fn unsupported_launch_info_is_refused_with_status_256() {
    let l = start(
        json!({"command": command("/bin/true", &["true"]), "rlimits": {"rlimits": [{"type": "RLMT_NOFILE"}]}}),
    );
    l.handshake();
    let (code, status, _, err) = l.finish();
    assert_eq!((code, status.as_str()), (1, "256"));
    assert!(
        err.contains("launch info field `rlimits` is not supported"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// The executor against a fake agent on 127.0.0.1.

mod fake_agent {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use serde_json::Value;

    #[derive(Default)]
    pub struct Seen {
        pub calls: Vec<Value>,
        /// The stream of the latest SUBSCRIBE.
        pub stream: Option<TcpStream>,
    }

    /// Accepts connections: SUBSCRIBE gets a chunked 200 (kept for `send`), anything else 202.
    pub fn start() -> (String, Arc<Mutex<Seen>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let seen2 = seen.clone();
        std::thread::spawn(move || {
            for sock in listener.incoming() {
                let Ok(mut sock) = sock else { continue };
                let mut r = BufReader::new(sock.try_clone().unwrap());
                let mut len = 0usize;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    if line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0u8; len];
                r.read_exact(&mut body).unwrap();
                let call: Value = serde_json::from_slice(&body).unwrap();
                let mut st = seen2.lock().unwrap();
                if call["type"] == "SUBSCRIBE" {
                    sock.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
                        .unwrap();
                    st.stream = Some(sock);
                } else {
                    sock.write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
                        .unwrap();
                }
                st.calls.push(call);
            }
        });
        (addr, seen)
    }

    /// Sends events on the current stream (RecordIO in HTTP chunks).
    pub fn send(seen: &Arc<Mutex<Seen>>, events: &[Value]) {
        let mut st = seen.lock().unwrap();
        let s = st.stream.as_mut().expect("subscribed");
        for e in events {
            let rec = e.to_string();
            let data = format!("{}\n{rec}", rec.len());
            s.write_all(format!("{:x}\r\n{data}\r\n", data.len()).as_bytes())
                .unwrap();
        }
    }

    /// Closes the stream: the agent went away.
    pub fn close(seen: &Arc<Mutex<Seen>>) {
        if let Some(s) = seen.lock().unwrap().stream.take() {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }

    /// Waits for the `n`-th call (1-based) satisfying `pred`.
    pub fn wait_call(seen: &Arc<Mutex<Seen>>, n: usize, pred: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let found: Vec<Value> = seen
                .lock()
                .unwrap()
                .calls
                .iter()
                .filter(|c| pred(c))
                .cloned()
                .collect();
            if found.len() >= n {
                return found[n - 1].clone();
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "call #{n} not seen; calls: {:?}",
                seen.lock().unwrap().calls
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn executor_launches_resubscribes_with_unacknowledged_updates_and_kills() {
    use std::time::{Duration, Instant};
    let (addr, seen) = fake_agent::start();
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("stderr");
    let mut exe = Command::new(HARNESS)
        .arg0("upgrade-harness-executor")
        .args(["--build", "test-build"])
        .env("MESOS_AGENT_ENDPOINT", &addr)
        .env("MESOS_FRAMEWORK_ID", "F")
        .env("MESOS_EXECUTOR_ID", "E")
        .env("MESOS_CHECKPOINT", "1")
        .env("MESOS_RECOVERY_TIMEOUT", "10secs")
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let is = |kind: &'static str| move |c: &Value| c["type"] == kind;
    let state = |s: &'static str| {
        move |c: &Value| c["type"] == "UPDATE" && c["update"]["status"]["state"] == s
    };

    let sub = fake_agent::wait_call(&seen, 1, is("SUBSCRIBE"));
    assert_eq!(sub["executor_id"]["value"], "E");
    let task = json!({"name": "t", "task_id": {"value": "T1"}, "agent_id": {"value": "S0"}, "resources": []});
    fake_agent::send(
        &seen,
        &[
            json!({"type": "SUBSCRIBED", "subscribed": {"agent_info": {"id": {"value": "S0"}, "hostname": "a"}}}),
            json!({"type": "LAUNCH", "launch": {"task": task}}),
        ],
    );
    let running = fake_agent::wait_call(&seen, 1, state("TASK_RUNNING"));
    let status = &running["update"]["status"];
    let message = status["message"].as_str().unwrap();
    let build = upgrade_harness::mesos::workload::parse_running_message(message).unwrap();
    let log_now = std::fs::read_to_string(&log_path).unwrap();
    let pid = upgrade_harness::task_helpers::executor::launched_pid(&log_now, "T1").unwrap();
    assert_eq!(build, "test-build");
    assert!(
        std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "the task is a live process"
    );
    let uuid = status["uuid"].as_str().unwrap().to_string();

    // The agent restarts: the executor re-subscribes with its unacknowledged update and task.
    fake_agent::close(&seen);
    let again = fake_agent::wait_call(&seen, 2, is("SUBSCRIBE"));
    assert_eq!(
        again["subscribe"]["unacknowledged_updates"][0]["status"]["uuid"],
        uuid.as_str()
    );
    assert_eq!(
        again["subscribe"]["unacknowledged_tasks"][0]["task_id"]["value"],
        "T1"
    );
    fake_agent::send(
        &seen,
        &[
            json!({"type": "SUBSCRIBED", "subscribed": {"agent_info": {"id": {"value": "S0"}, "hostname": "a"}}}),
            json!({"type": "ACKNOWLEDGED", "acknowledged": {"task_id": {"value": "T1"}, "uuid": uuid}}),
            json!({"type": "KILL", "kill": {"task_id": {"value": "T1"}}}),
        ],
    );
    let killed = fake_agent::wait_call(&seen, 1, state("TASK_KILLED"));
    let uuid2 = killed["update"]["status"]["uuid"].clone();
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}/stat")).exists() || {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            stat.contains(") Z ")
        }
    );
    fake_agent::send(
        &seen,
        &[
            json!({"type": "ACKNOWLEDGED", "acknowledged": {"task_id": {"value": "T1"}, "uuid": uuid2}}),
        ],
    );
    let start = Instant::now();
    let code = loop {
        if let Some(s) = exe.try_wait().unwrap() {
            break s.code();
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the executor did not exit after its last acknowledgement"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains(": re-subscribed (agent S0)"), "{log}");
}
