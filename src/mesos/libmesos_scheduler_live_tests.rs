//! The libmesos-linked scheduler against real Mesos, on 127.0.0.1 from the cached builds
//! (`.ci/run` makes them; without them the tests say they are skipped, and fail with
//! `CI=true`): the facts it is compiled with hold in every cached build, and a 1.7.3 build
//! registered with a 1.11.0 master is relinked (stopped, the 1.11.0 build started) and keeps
//! its framework ID, declining the offers it gets.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{build_scheduler, driver_facts};
use crate::images::live_tests::{free_port, get, start, Proc};
use crate::images::test_skip::skip;
use crate::images::{cached_build, known_versions, BuildOptions, VersionBuild};

#[test]
fn driver_facts_hold_in_every_cached_build() {
    let opts = BuildOptions::default();
    let (builds, missing): (Vec<_>, Vec<_>) = known_versions()
        .into_iter()
        .map(|v| (v, cached_build(v, &opts)))
        .partition(|(_, b)| b.is_some());
    if !missing.is_empty() {
        let missing: Vec<&str> = missing.iter().map(|(v, _)| *v).collect();
        return skip(&format!(
            "no cached builds of {}: `upgrade-harness images build` makes every version",
            missing.join(", ")
        ));
    }
    let builds: Vec<VersionBuild> = builds.into_iter().filter_map(|(_, b)| b).collect();
    for b in &builds {
        let lib = b
            .rootfs
            .join(b.launcher_dir_in_image.trim_start_matches('/'))
            .join("libmesos.so");
        let facts = driver_facts(&lib).unwrap_or_else(|e| panic!("{}: {e}", lib.display()));
        assert!(
            (0x80..=0x200).contains(&facts.offer_size),
            "{}: sizeof(Offer) {}",
            b.version,
            facts.offer_size
        );
    }
}

/// The scheduler build `program` as a process on this host: its libmesos found through
/// `LD_LIBRARY_PATH` (its DT_RPATH names the image's folder).
fn run_scheduler(
    build: &VersionBuild,
    program: &Path,
    master: u16,
    dir: &Path,
    log: &Path,
) -> Proc {
    let opt = build
        .rootfs
        .join(build.launcher_dir_in_image.trim_start_matches('/'));
    let out = std::fs::File::create(log).unwrap();
    let child = Command::new(program)
        .env_clear()
        .env("LD_LIBRARY_PATH", &opt)
        .env("MESOS_MASTER", format!("127.0.0.1:{master}"))
        .env("LIBPROCESS_IP", "127.0.0.1")
        .env("FRAMEWORK_STATE_DIR", dir)
        .stdout(Stdio::from(out.try_clone().unwrap()))
        .stderr(Stdio::from(out))
        .spawn()
        .expect("the scheduler starts");
    Proc {
        child,
        name: format!("libmesos-scheduler {}", build.version),
    }
}

/// Waits until `log` has a line containing `wanted`; returns that line.
fn wait_for_line(log: &Path, wanted: &str) -> String {
    let started = Instant::now();
    let deadline = Duration::from_secs(30);
    let mut text = String::new();
    while started.elapsed() < deadline {
        text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.contains(wanted)) {
            return line.to_string();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "no line with {wanted:?} in {} after {deadline:?}; it says:\n{text}",
        log.display()
    );
}

/// The master's frameworks: (id, name, active).
fn frameworks(port: u16) -> Vec<(String, String, bool)> {
    let Some((200, body)) = get(port, "/master/state") else {
        return Vec::new();
    };
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    v["frameworks"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    (
                        f["id"].as_str().unwrap_or("").to_string(),
                        f["name"].as_str().unwrap_or("").to_string(),
                        f["active"].as_bool().unwrap_or(false),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn relinked_from_1_7_3_to_1_11_0_it_keeps_its_framework_id() {
    let opts = BuildOptions::default();
    let (Some(old), Some(new)) = (cached_build("1.7.3", &opts), cached_build("1.11.0", &opts))
    else {
        return skip(&format!(
            "no cached builds of 1.7.3 and 1.11.0 in {}: `upgrade-harness images build 1.7.3 1.11.0` makes them",
            opts.cache_dir.display()
        ));
    };
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let old_program = build_scheduler(&old, &cache, "g++").unwrap();
    let new_program = build_scheduler(&new, &cache, "g++").unwrap();
    assert!(!old_program.reused && !new_program.reused);
    assert!(build_scheduler(&new, &cache, "g++").unwrap().reused);

    // A 1.11.0 master with one agent in its process: offers to decline.
    let port = free_port();
    let env = vec![
        (
            "MESOS_WORK_DIR",
            tmp.path().join("master").display().to_string(),
        ),
        ("MESOS_NUM_SLAVES", "1".to_string()),
    ];
    let _master = start(&new, "local", port, &env, tmp.path());
    let state = tmp.path().join("state");
    std::fs::create_dir_all(&state).unwrap();

    let log = tmp.path().join("scheduler-1.7.3.log");
    let first = run_scheduler(&old, &old_program.program, port, &state, &log);
    let line = wait_for_line(&log, "registered as framework ");
    let id = line
        .rsplit("registered as framework ")
        .next()
        .unwrap()
        .trim()
        .to_string();
    wait_for_line(&log, "declined offer ");
    assert_eq!(
        frameworks(port),
        vec![(id.clone(), "libmesos-scheduler".to_string(), true)]
    );
    assert_eq!(first.stop(), 0);

    let log = tmp.path().join("scheduler-1.11.0.log");
    let _second = run_scheduler(&new, &new_program.program, port, &state, &log);
    let line = wait_for_line(&log, "registered as framework ");
    assert!(
        line.ends_with(&format!(
            "registered as framework {id} (failover: the same framework ID)"
        )),
        "{line}"
    );
    assert!(line.starts_with("libmesos-scheduler 1.11.0:"), "{line}");
    let started = Instant::now();
    let mut seen = frameworks(port);
    while seen != vec![(id.clone(), "libmesos-scheduler".to_string(), true)]
        && started.elapsed() < Duration::from_secs(10)
    {
        std::thread::sleep(Duration::from_millis(50));
        seen = frameworks(port);
    }
    assert_eq!(seen, vec![(id, "libmesos-scheduler".to_string(), true)]);
}
