//! The ZooKeeper build for real ([`super::zookeeper`]): from the machine's Debian packages, run
//! on 127.0.0.1 and in a node. Where the packages or Docker are missing they say they are
//! skipped, and fail with `CI=true` ([`super::test_skip`]).

use std::fs;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::error::ImagesError;
use super::zookeeper::{
    build_zookeeper, server_argv, wait_ready, zoo_cfg, ZooKeeperBuild, CLIENT_PORT, DATA_DIR,
    INSTALL_DIR,
};
use super::BuildOptions;
use crate::docker;

/// Builds (or reuses) the rootfs from the machine's Debian packages and runs the
/// server from it on 127.0.0.1 (outside any container), then asks `ruok`.
#[tokio::test]
async fn builds_and_answers_imok() {
    let opts = BuildOptions::default();
    let Some(build) = build_or_skip(opts).await else {
        return;
    };
    let root = &build.rootfs;
    let data = tempfile::tempdir().unwrap();
    let cfg = data.path().join("zoo.cfg");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let text = zoo_cfg()
        .replace(
            &format!("dataDir={DATA_DIR}"),
            &format!("dataDir={}", data.path().display()),
        )
        .replace(
            &format!("clientPort={CLIENT_PORT}"),
            &format!("clientPort={port}"),
        )
        .replace("clientPortAddress=0.0.0.0", "clientPortAddress=127.0.0.1");
    fs::write(&cfg, text).unwrap();
    let mut argv = server_argv();
    let n = argv.len();
    argv[n - 1] = cfg.display().to_string();
    let local = |a: &String| {
        a.replace(
            INSTALL_DIR,
            &root.join("opt/zookeeper").display().to_string(),
        )
    };
    let mut child = tokio::process::Command::new(local(&argv[0]))
        .args(argv[1..].iter().map(local))
        .kill_on_drop(true)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let took = wait_ready(addr, Duration::from_secs(30)).await;
    let _ = child.kill().await;
    took.unwrap();
}

/// The ZooKeeper build, or None after reporting the skip when its Debian packages are
/// not installed (`ci/install-deps.sh` installs them).
async fn build_or_skip(opts: BuildOptions) -> Option<ZooKeeperBuild> {
    match tokio::task::spawn_blocking(move || build_zookeeper(&opts))
        .await
        .unwrap()
    {
        Ok(build) => Some(build),
        Err(e @ (ImagesError::ToolMissing { .. } | ImagesError::LibraryMissing { .. })) => {
            crate::images::test_skip::skip(&e.to_string());
            None
        }
        Err(e) => panic!("{e}"),
    }
}

/// The ZooKeeper rootfs in a real node (a `FROM scratch` image, node-init as
/// PID 1): the server starts from [`server_argv`] and answers `imok`.
#[tokio::test]
async fn answers_imok_in_a_node() {
    let opts = BuildOptions::default();
    let cache = opts.cache_dir.clone();
    let engine = match docker::Engine::connect().await {
        Ok(engine) => engine,
        Err(e) => return crate::images::test_skip::skip(&e.to_string()),
    };
    let Some(build) = build_or_skip(opts).await else {
        return;
    };
    let image = docker::build_image(
        &engine,
        &docker::ImageSpec {
            repository: "upgrade-harness/zookeeper".into(),
            roots: vec![build.rootfs.clone()],
            ..docker::ImageSpec::default()
        },
    )
    .await
    .unwrap();
    let node_init = docker::node_init::build(&cache.join("node-init")).unwrap();
    let run = docker::Run::create(&engine, docker::RunSettings::new(node_init))
        .await
        .unwrap();
    let result = async {
        run.create_node(docker::NodeSpec {
            name: "zk-1".into(),
            image: image.reference.clone(),
            ..docker::NodeSpec::default()
        })
        .await
        .map_err(|e| e.to_string())?;
        let argv = server_argv();
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let started = Instant::now();
        run.start_process("zk-1", "zookeeper", &argv, &[])
            .await
            .map_err(|e| e.to_string())?;
        let addr = run
            .node_address("zk-1", CLIENT_PORT)
            .await
            .map_err(|e| e.to_string())?;
        let ready = wait_ready(addr, Duration::from_secs(60)).await;
        let log = run
            .process_log("zk-1", "zookeeper", 0)
            .await
            .unwrap_or_default();
        ready.map_err(|e| format!("{e}\n{}", String::from_utf8_lossy(&log)))?;
        eprintln!(
            "zookeeper in a node: imok {:?} after start",
            started.elapsed()
        );
        Ok::<_, String>(())
    }
    .await;
    run.cleanup().await.unwrap();
    result.unwrap();
}
