//! Live test of the `mesos` module against real Mesos processes on 127.0.0.1 (no Docker):
//! a master and an agent from the project's builds, the readiness waits, and the test
//! framework through a scheduler failover, a master restart and an agent restart.
//!
//! Needs the builds in `$UPGRADE_HARNESS_CACHE` or `$HOME/.cache/upgrade-harness`
//! (`builds/<v>-<hash>`, made by `upgrade-harness images build`, which `.ci/run` runs first);
//! without them it prints `skipped <test>: <reason>` and passes, with `CI=true` it fails.
//! `UPGRADE_HARNESS_LIVE_FROM` (default 1.11.0) is the version started first;
//! `UPGRADE_HARNESS_LIVE_TO` (default: the same) the one the master, then the agent, are
//! restarted with: with two versions this is a rolling upgrade, master first.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use upgrade_harness::mesos::client::{base_url, MesosClient};
use upgrade_harness::mesos::readiness::{self, ExpectedAgent, MesosNode};
use upgrade_harness::mesos::roles::{
    self, AgentConfig, MasterConfig, MasterLocation, NodeAddress, ProcessSpec, Role, Tuning,
};
use upgrade_harness::mesos::scheduler::{Framework, FrameworkEvent, FrameworkOptions};

fn cache_dir() -> PathBuf {
    std::env::var_os("UPGRADE_HARNESS_CACHE")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/upgrade-harness"))
        })
        .expect("HOME or UPGRADE_HARNESS_CACHE")
}

/// `<cache>/builds/<version>-<hash>/rootfs/opt/mesos/<version>`, the newest one.
fn build_dir(version: &str) -> Option<PathBuf> {
    let builds = cache_dir().join("builds");
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(&builds)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("{version}-"))
        })
        .map(|e| e.path().join("rootfs/opt/mesos").join(version))
        .filter(|d| d.join("mesos-launcher").is_file())
        .filter_map(|d| {
            Some((
                d.join("mesos-launcher").metadata().ok()?.modified().ok()?,
                d,
            ))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, d)| d)
}

/// Free-ish ports: derived from the pid so that parallel runs do not collide with each other
/// or with a master on 5050.
fn ports() -> (u16, u16) {
    let base = 20000 + (std::process::id() % 2000) as u16 * 2;
    (base, base + 1)
}

struct Proc {
    child: tokio::process::Child,
    log: PathBuf,
}

impl Proc {
    async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status();
        }
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }

    fn tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        // Skip the per-request lines libprocess logs for every GET.
        let lines: Vec<&str> = text.lines().filter(|l| !l.contains("http.cpp")).collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

/// Runs a spec on the host: the in-image paths become the build's paths, and the node's
/// fixed ports and dirs become this test's.
fn start(spec: &ProcessSpec, build: &Path, port: u16, dir: &Path, name: &str) -> Proc {
    let log = dir.join(format!("{name}.log"));
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .unwrap();
    let mut cmd = tokio::process::Command::new(build.join("mesos-launcher"));
    cmd.args(&spec.argv[1..]);
    cmd.env_clear().env("PATH", "/usr/bin:/bin");
    for (k, v) in &spec.env {
        cmd.env(k, v);
    }
    cmd.env("LIBPROCESS_PORT", port.to_string())
        .env("MESOS_PORT", port.to_string());
    cmd.stdout(Stdio::from(out.try_clone().unwrap()))
        .stderr(Stdio::from(out))
        .kill_on_drop(true);
    Proc {
        child: cmd.spawn().expect("start launcher"),
        log,
    }
}

fn master_spec(version: &str, dir: &Path) -> ProcessSpec {
    let mut spec = roles::master_process(&MasterConfig {
        version: version.parse().expect("a version"),
        node: NodeAddress {
            hostname: "master-1".into(),
            ip: "127.0.0.1".into(),
        },
        ha: None,
        tuning: tuning(),
    })
    .unwrap();
    let set = BTreeMap::from([(
        "work_dir".to_string(),
        dir.join("master").display().to_string(),
    )]);
    spec.apply_flags(&set, &[]).unwrap();
    spec
}

fn agent_spec(version: &str, build: &Path, dir: &Path, master_port: u16) -> ProcessSpec {
    let mut spec = roles::agent_process(&AgentConfig {
        version: version.parse().expect("a version"),
        node: NodeAddress {
            hostname: "agent-1".into(),
            ip: "127.0.0.1".into(),
        },
        master: MasterLocation::Standalone {
            host: "127.0.0.1".into(),
            port: master_port,
        },
        resources: roles::DEFAULT_AGENT_RESOURCES.into(),
        tuning: tuning(),
    })
    .unwrap();
    let set = BTreeMap::from([
        (
            "work_dir".to_string(),
            dir.join("agent").display().to_string(),
        ),
        (
            "runtime_dir".to_string(),
            dir.join("run").display().to_string(),
        ),
        ("launcher_dir".to_string(), build.display().to_string()),
    ]);
    spec.apply_flags(&set, &[]).unwrap();
    spec
}

/// The default tuning, or `UPGRADE_HARNESS_LIVE_PING_MS` / `UPGRADE_HARNESS_LIVE_PINGS` to
/// measure another trade-off.
fn tuning() -> Tuning {
    let mut t = Tuning::default();
    if let Some(ms) = std::env::var("UPGRADE_HARNESS_LIVE_PING_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        t.agent_ping_timeout = Duration::from_millis(ms);
    }
    if let Some(n) = std::env::var("UPGRADE_HARNESS_LIVE_PINGS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        t.max_agent_ping_timeouts = n;
    }
    t
}

fn secs(d: Duration) -> String {
    format!("{:.2}s", d.as_secs_f64())
}

#[tokio::test]
async fn master_agent_framework_failover_and_restarts() {
    let from = std::env::var("UPGRADE_HARNESS_LIVE_FROM").unwrap_or_else(|_| "1.11.0".into());
    let to = std::env::var("UPGRADE_HARNESS_LIVE_TO").unwrap_or_else(|_| from.clone());
    let (Some(from_build), Some(to_build)) = (build_dir(&from), build_dir(&to)) else {
        let versions = if from == to {
            from
        } else {
            format!("{from} {to}")
        };
        return common::skip(format!(
            "no build of {versions} under {}: `upgrade-harness images build {versions}` makes it",
            cache_dir().display()
        ));
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (mport, aport) = ports();
    let client = MesosClient::new().unwrap();
    let master_t = |v: &str| MesosNode {
        name: "master-1".into(),
        version: v.parse().expect("a version"),
        base_url: base_url("127.0.0.1", mport),
    };
    let agent_t = |v: &str| MesosNode {
        name: "agent-1".into(),
        version: v.parse().expect("a version"),
        base_url: base_url("127.0.0.1", aport),
    };
    let mut timings: Vec<(String, Duration)> = Vec::new();

    // Master and agent of `from`.
    let t = Instant::now();
    let mut master = start(&master_spec(&from, dir), &from_build, mport, dir, "master");
    readiness::wait_master_elected(&client, &master_t(&from), Duration::from_secs(30))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", master.tail()));
    timings.push(("master start -> elected".into(), t.elapsed()));

    let flags = client
        .flags(&master_t(&from).base_url, Role::Master)
        .await
        .unwrap();
    // Mesos ignores unknown MESOS_* variables: every flag the role sets must show up.
    let role_flags = master_spec(&from, dir).flags();
    assert_eq!(
        readiness::unapplied_flags(&flags, &role_flags),
        Vec::<String>::new()
    );
    let t = tuning();
    assert_eq!(
        flags.get("agent_ping_timeout").map(String::as_str),
        Some(roles::mesos_duration(t.agent_ping_timeout).as_str()),
        "{flags:?}"
    );
    assert_eq!(
        flags.get("max_agent_ping_timeouts"),
        Some(&t.max_agent_ping_timeouts.to_string())
    );
    let leader = client
        .leader_location(&master_t(&from).base_url)
        .await
        .unwrap();
    assert_eq!(leader, Some(format!("master-1:{mport}")));
    let help = client.help(&master_t(&from).base_url).await.unwrap();
    assert!(help.endpoint_paths().contains(&"/master/state".to_string()));
    assert_eq!(
        client
            .version(&master_t(&from).base_url)
            .await
            .unwrap()
            .version,
        from
    );

    let t = Instant::now();
    let mut agent = start(
        &agent_spec(&from, &from_build, dir, mport),
        &from_build,
        aport,
        dir,
        "agent",
    );
    let expected = [ExpectedAgent {
        hostname: "agent-1".into(),
        id: None,
    }];
    let ids = readiness::wait_agents_active(
        &client,
        &master_t(&from),
        &expected,
        Duration::from_secs(30),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", agent.tail()));
    let agent_id = ids["agent-1"].clone();
    readiness::wait_agent_registered(
        &client,
        &agent_t(&from),
        Some(&agent_id),
        Duration::from_secs(10),
    )
    .await
    .unwrap();
    timings.push(("agent start -> active".into(), t.elapsed()));
    let aflags = client
        .flags(&agent_t(&from).base_url, Role::Agent)
        .await
        .unwrap();
    let role_flags = agent_spec(&from, &from_build, dir, mport).flags();
    assert_eq!(
        readiness::unapplied_flags(&aflags, &role_flags),
        Vec::<String>::new()
    );
    assert_eq!(
        aflags
            .get("registration_backoff_factor")
            .map(String::as_str),
        Some("100ms")
    );

    // Framework: subscribe, offers.
    let t = Instant::now();
    let masters = vec![master_t(&from).base_url];
    let fw = Framework::subscribe(client.clone(), masters, FrameworkOptions::default())
        .await
        .unwrap();
    let fw_id = fw.id();
    assert!(!fw_id.is_empty());
    timings.push(("framework subscribe".into(), t.elapsed()));
    fw.wait_offers(0, 1, Duration::from_secs(15)).await.unwrap();
    timings.push(("framework subscribe -> first offer".into(), t.elapsed()));

    // Scheduler failover: same framework ID, still active on the master.
    let t = Instant::now();
    fw.failover(None).await.unwrap();
    assert_eq!(fw.id(), fw_id);
    assert_eq!(fw.subscriptions(), 2);
    readiness::wait_framework_active(&client, &master_t(&from), &fw_id, Duration::from_secs(10))
        .await
        .unwrap();
    timings.push(("framework failover -> active".into(), t.elapsed()));
    let n = fw.events().len();
    fw.wait_offers(n, 1, Duration::from_secs(15)).await.unwrap();

    // Master restart (with `to`): agent re-registers with its ID, framework re-subscribes.
    let before = fw.subscriptions();
    let t = Instant::now();
    master.stop().await;
    // A flag Mesos does not know, passed as MESOS_*: ignored, not fatal (see unapplied_flags).
    let mut restarted = master_spec(&to, dir);
    let bogus = BTreeMap::from([("no_such_flag".to_string(), "1".to_string())]);
    restarted.apply_flags(&bogus, &[]).unwrap();
    master = start(&restarted, &to_build, mport, dir, "master");
    readiness::wait_master_elected(&client, &master_t(&to), Duration::from_secs(30))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", master.tail()));
    timings.push(("master restart -> elected".into(), t.elapsed()));
    fw.wait_resubscribed(before)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", master.tail()));
    assert_eq!(fw.id(), fw_id);
    timings.push((
        "master restart -> framework re-subscribed".into(),
        t.elapsed(),
    ));
    let agents = BTreeMap::from([("agent-1".to_string(), agent_id.clone())]);
    let bound = tuning().agent_reregistration_bound();
    readiness::wait_agents_reregistered_after_master(&client, &master_t(&to), &agents, bound)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}\n{}", master.tail(), agent.tail()));
    timings.push(("master restart -> agent re-registered".into(), t.elapsed()));
    readiness::wait_framework_active(&client, &master_t(&to), &fw_id, Duration::from_secs(10))
        .await
        .unwrap();
    let state = client.master_state(&master_t(&to).base_url).await.unwrap();
    assert_eq!(state.version, to);
    let running = client
        .flags(&master_t(&to).base_url, Role::Master)
        .await
        .unwrap();
    assert_eq!(
        readiness::unapplied_flags(&running, &bogus),
        ["no_such_flag"]
    );

    // Agent restart (with `to`): same agent ID, counted as a re-registration.
    let baseline = readiness::registration_baseline(&client, &master_t(&to))
        .await
        .unwrap();
    let t = Instant::now();
    agent.stop().await;
    let down = Instant::now();
    agent = start(
        &agent_spec(&to, &to_build, dir, mport),
        &to_build,
        aport,
        dir,
        "agent",
    );
    readiness::wait_agent_reregistered(
        &client,
        &master_t(&to),
        &agent_t(&to),
        &agent_id,
        baseline,
        Duration::from_secs(20),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}\nagent:\n{}\nmaster:\n{}", agent.tail(), master.tail()));
    timings.push((
        "agent restart -> re-registered (same ID)".into(),
        t.elapsed(),
    ));
    timings.push(("agent down (stop -> re-registered)".into(), down.elapsed()));
    let own = client.agent_state(&agent_t(&to).base_url).await.unwrap();
    assert_eq!(own.version, to);

    // No new registration along the way, and the framework saw its stream end exactly once
    // (the master restart) besides the failover.
    let metrics = client
        .metrics_snapshot(&master_t(&to).base_url)
        .await
        .unwrap();
    assert_eq!(
        metrics.get("master/slave_registrations"),
        Some(0.0),
        "agent registered anew"
    );
    let kinds: BTreeSet<&str> = fw
        .events()
        .iter()
        .map(|e| match e.event {
            FrameworkEvent::Subscribed { .. } => "subscribed",
            FrameworkEvent::StreamEnded { .. } => "stream_ended",
            FrameworkEvent::Offers { .. } => "offers",
            _ => "other",
        })
        .collect::<Vec<_>>()
        .into_iter()
        .collect();
    assert!(kinds.contains("stream_ended"));

    fw.teardown().await.unwrap();
    let state = client.master_state(&master_t(&to).base_url).await.unwrap();
    assert!(
        state.framework(&fw_id).is_none(),
        "framework still listed after TEARDOWN"
    );
    assert!(state.completed_frameworks.iter().any(|f| f.id == fw_id));

    agent.stop().await;
    master.stop().await;
    let t = tuning();
    eprintln!(
        "live {from} -> {to} (agent_ping_timeout {} x {}):",
        roles::mesos_duration(t.agent_ping_timeout),
        t.max_agent_ping_timeouts
    );
    for (what, d) in &timings {
        eprintln!("  {what:<45} {}", secs(*d));
    }
}
