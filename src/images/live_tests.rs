//! Runs real Mesos from the cached builds of 1.4.3 and 1.11.0 (`.ci/run` makes them; without
//! them the test says it is skipped, and fails with `CI=true`), on 127.0.0.1: master + agent
//! 1.4.3, agent restart (same ID), master -> 1.11.0 (agent re-registers, same ID), agent ->
//! 1.11.0 (same ID). No chroot: the launcher's `$ORIGIN` rpath finds
//! everything in the build dir, the system libraries are the host's.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::build::cached_build;
use super::test_skip::skip;
use super::{BuildOptions, VersionBuild};

pub(crate) struct Proc {
    pub(crate) child: Child,
    pub(crate) name: String,
}

impl Proc {
    /// SIGTERM, then the exit status (the launcher exits 0 on SIGTERM).
    pub(crate) fn stop(mut self) -> i32 {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let status = self.child.wait().expect("wait");
        status.code().unwrap_or(-1)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            eprintln!("killing {}", self.name);
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn launcher_dir(build: &VersionBuild) -> PathBuf {
    build
        .rootfs
        .join(build.launcher_dir_in_image.trim_start_matches('/'))
}

pub(crate) fn start(
    build: &VersionBuild,
    mode: &str,
    port: u16,
    env: &[(&str, String)],
    logs: &Path,
) -> Proc {
    let dir = launcher_dir(build);
    let log =
        std::fs::File::create(logs.join(format!("{mode}-{}-{port}.log", build.version))).unwrap();
    let mut cmd = Command::new(dir.join("mesos-launcher"));
    cmd.arg(mode)
        .env_clear()
        .envs(crate::images::host_process_env(&dir, port))
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log));
    for (k, v) in env {
        cmd.env(k, v);
    }
    Proc {
        child: cmd.spawn().expect("spawn launcher"),
        name: format!("{mode} {}", build.version),
    }
}

pub(crate) fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let addr = format!("127.0.0.1:{port}").parse().ok()?;
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut out = String::new();
        let mut rest = body;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).ok()?;
            if n == 0 || after.len() < n {
                break;
            }
            out.push_str(&after[..n]);
            rest = after[n..].trim_start_matches("\r\n");
        }
        out
    } else {
        body.to_string()
    };
    Some((status, body))
}

/// (master version, [(agent id, agent version, active)]).
#[allow(clippy::type_complexity)] // a one-off test helper; a type alias would not read better
fn state(port: u16) -> Option<(String, Vec<(String, String, bool)>)> {
    let (status, body) = get(port, "/master/state")?;
    if status != 200 {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(&body).ok()?;
    let agents = v["slaves"]
        .as_array()?
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap_or("").to_string(),
                s["version"].as_str().unwrap_or("").to_string(),
                s["active"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    Some((v["version"].as_str()?.to_string(), agents))
}

/// Waits until the master runs `master` and one agent of version `agent` is
/// active (with `id`, if given); returns the agent ID and the time it took.
fn wait_for(port: u16, master: &str, agent: &str, id: Option<&str>) -> (String, Duration) {
    let started = Instant::now();
    let deadline = Duration::from_secs(30);
    let mut last = None;
    while started.elapsed() < deadline {
        if let Some((m, agents)) = state(port) {
            if m == master {
                if let Some(a) = agents
                    .iter()
                    .find(|a| a.1 == agent && a.2 && id.is_none_or(|id| a.0 == id))
                {
                    return (a.0.clone(), started.elapsed());
                }
            }
            last = Some((m, agents));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("master {master} with an active agent {agent} (id {id:?}) not seen after {deadline:?}; last /master/state: {last:?}");
}

#[test]
fn live_upgrade_1_4_3_to_1_11_0() {
    let opts = BuildOptions::default();
    let (Some(old), Some(new)) = (cached_build("1.4.3", &opts), cached_build("1.11.0", &opts))
    else {
        return skip(&format!(
            "no cached builds of 1.4.3 and 1.11.0 in {}: `upgrade-harness images build 1.4.3 1.11.0` makes them",
            opts.cache_dir.display()
        ));
    };
    let tmp = tempfile::tempdir().unwrap();
    let (master_dir, agent_dir, runtime_dir) = (
        tmp.path().join("master"),
        tmp.path().join("agent"),
        tmp.path().join("run"),
    );
    let (mp, ap) = (free_port(), free_port());
    let master_env = vec![
        ("MESOS_WORK_DIR", master_dir.display().to_string()),
        ("MESOS_AGENT_PING_TIMEOUT", "1secs".to_string()),
        ("MESOS_MAX_AGENT_PING_TIMEOUTS", "3".to_string()),
    ];
    let agent_env = vec![
        ("MESOS_WORK_DIR", agent_dir.display().to_string()),
        ("MESOS_RUNTIME_DIR", runtime_dir.display().to_string()),
        ("MESOS_MASTER", format!("127.0.0.1:{mp}")),
    ];

    let master = start(&old, "master", mp, &master_env, tmp.path());
    let agent = start(&old, "agent", ap, &agent_env, tmp.path());
    let (id, took) = wait_for(mp, "1.4.3", "1.4.3", None);
    eprintln!("1.4.3 agent {id} active after {took:?}");

    assert_eq!(agent.stop(), 0);
    let agent = start(&old, "agent", ap, &agent_env, tmp.path());
    let (_, took) = wait_for(mp, "1.4.3", "1.4.3", Some(&id));
    eprintln!("restarted 1.4.3 agent re-registered after {took:?}");

    assert_eq!(master.stop(), 0);
    let master = start(&new, "master", mp, &master_env, tmp.path());
    let (_, took) = wait_for(mp, "1.11.0", "1.4.3", Some(&id));
    eprintln!("1.4.3 agent re-registered with the 1.11.0 master after {took:?}");

    assert_eq!(agent.stop(), 0);
    let agent = start(&new, "agent", ap, &agent_env, tmp.path());
    let (_, took) = wait_for(mp, "1.11.0", "1.11.0", Some(&id));
    eprintln!("agent upgraded to 1.11.0 with the same ID after {took:?}");

    assert_eq!(get(mp, "/version").map(|(s, _)| s), Some(200));
    assert_eq!(agent.stop(), 0);
    assert_eq!(master.stop(), 0);
}
