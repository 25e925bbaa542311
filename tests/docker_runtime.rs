//! The Docker layer against a real engine.
//!
//! Without a reachable engine (or without gcc) each test prints
//! `skipped <test>: <reason>` (past libtest's capture) and returns; with
//! `CI=true` it fails instead, so CI can never go green without having run
//! them.

mod common;
use common::skip;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use bollard::models::ContainerCreateBody;
use bollard::query_parameters::{
    CreateContainerOptions, InspectContainerOptions, ListContainersOptions, ListNetworksOptions,
    RemoveContainerOptions,
};
use upgrade_harness::docker::{
    self, build_image, node_init, Engine, Error, ImageFile, ImageSpec, NodeSpec, ProcessStatus,
    Run, RunSettings, OWNER_HOST_LABEL, OWNER_PID_LABEL, RUN_LABEL,
};

const TIMEOUT: Duration = Duration::from_secs(10);

/// The engine, node-init and the test image, or None after reporting a skip.
async fn setup() -> Option<(Engine, PathBuf, String)> {
    let engine = match Engine::connect().await {
        Ok(e) => e,
        Err(e) => {
            skip(format!("Docker unreachable: {e}"));
            return None;
        }
    };
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("node-init");
    let binary = match node_init::build(&out) {
        Ok(b) => b,
        Err(e @ Error::CompilerMissing { .. }) => {
            skip(format!("no compiler for node-init: {e}"));
            return None;
        }
        Err(e) => panic!("{e}"),
    };
    let spec = ImageSpec {
        repository: "upgrade-harness/runtime-test".into(),
        files: vec![ImageFile {
            source: binary.clone(),
            dest: "/node-init".into(),
            mode: 0o755,
        }],
        labels: BTreeMap::from([("upgrade-harness.purpose".into(), "tests".into())]),
        entrypoint: vec!["/node-init".into()],
        cmd: vec!["init".into()],
        ..Default::default()
    };
    let image = build_image(&engine, &spec)
        .await
        .expect("build the test image");
    let again = build_image(&engine, &spec)
        .await
        .expect("find the test image");
    assert_eq!(again.reference, image.reference);
    assert!(!again.built, "an unchanged input must not rebuild");
    // Builds of earlier node-init sources are no longer needed.
    docker::remove_stale_images(&engine, &spec.repository, &image.reference)
        .await
        .expect("remove stale test images");
    Some((engine, binary, image.reference))
}

fn node(name: &str, image: &str) -> NodeSpec {
    NodeSpec {
        name: name.into(),
        image: image.into(),
        env: vec!["NODE_ROLE=test".into()],
        ..Default::default()
    }
}

#[tokio::test]
async fn unreachable_engine_is_one_clear_sentence() {
    for host in ["unix:///nonexistent/docker.sock", "tcp://127.0.0.1:1"] {
        let err = Engine::connect_to(host).await.unwrap_err();
        assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("cannot reach the Docker engine at {host}: ")),
            "{text}"
        );
        assert!(
            text.ends_with("; start Docker or set DOCKER_HOST"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn nodes_processes_restart_and_cleanup() {
    let Some((engine, binary, image)) = setup().await else {
        return;
    };
    let t0 = Instant::now();
    let run = Run::create(&engine, RunSettings::new(&binary))
        .await
        .unwrap();
    let (a, b) = tokio::join!(
        run.create_node(node("node-a", &image)),
        run.create_node(node("node-b", &image))
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_ne!(a.ip, b.ip);
    assert!(run.subnet().starts_with("172."), "{}", run.subnet());

    // Identity: hostname and alias are the node name, the address is fixed.
    let docker = engine.client();
    let inspect = docker
        .inspect_container(&a.container_id, None::<InspectContainerOptions>)
        .await
        .unwrap();
    assert_eq!(
        inspect.config.as_ref().unwrap().hostname.as_deref(),
        Some("node-a")
    );
    let endpoint = &inspect.network_settings.unwrap().networks.unwrap()[run.network_name()];
    assert_eq!(
        endpoint.ip_address.as_deref(),
        Some(a.ip.to_string().as_str())
    );
    assert!(endpoint
        .aliases
        .as_ref()
        .unwrap()
        .contains(&"node-a".to_string()));

    // The harness can route to node addresses on a local engine: a closed
    // port answers "refused" at once instead of timing out.
    if engine.routes_to_containers() {
        let addr = run.node_address("node-a", 1).await.unwrap();
        let err =
            tokio::time::timeout(Duration::from_secs(3), tokio::net::TcpStream::connect(addr))
                .await
                .expect("node address routable")
                .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    }

    // exec: output and exit codes, including a missing binary.
    let out = run
        .exec("node-b", &["/node-init", "status", "nothing"])
        .await
        .unwrap();
    assert_eq!((out.code, out.stdout_text().as_str()), (0, "absent\n"));
    let missing = run.exec("node-b", &["/no/such/binary"]).await.unwrap();
    assert_ne!(missing.code, 0);

    // A supervised process: start, refuse a second start, signal, exit status, log.
    let pid = run
        .start_process(
            "node-a",
            "sleeper",
            &["/node-init", "sleep"],
            &["EXTRA=1".into()],
        )
        .await
        .unwrap();
    assert_eq!(
        run.process_status("node-a", "sleeper").await.unwrap(),
        ProcessStatus::Running { pid }
    );
    let again = run
        .start_process("node-a", "sleeper", &["/node-init", "sleep"], &[])
        .await
        .unwrap_err();
    assert!(again.to_string().contains("already running"), "{again}");
    let err = run
        .wait_process_exit("node-a", "sleeper", Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("last seen: running as pid {pid}")),
        "{err}"
    );
    run.signal_process("node-a", "sleeper", "TERM")
        .await
        .unwrap();
    let status = run
        .wait_process_exit("node-a", "sleeper", TIMEOUT)
        .await
        .unwrap();
    assert_eq!(status.signal(), Some(15), "{status}");
    let log = run.process_log("node-a", "sleeper", 0).await.unwrap();
    let expected = format!("node-init sleep: pid {pid}\n");
    assert_eq!(String::from_utf8_lossy(&log), expected);
    let tail = run.process_log("node-a", "sleeper", 10).await.unwrap();
    assert_eq!(tail, expected.as_bytes()[10..]);
    let first = run.new_output("node-a", "sleeper").await.unwrap();
    assert_eq!(first, expected.as_bytes());
    assert!(run
        .new_output("node-a", "sleeper")
        .await
        .unwrap()
        .is_empty());

    // Exit codes come back raw (768 = exit code 3); a restart under the same name works.
    run.start_process("node-a", "sleeper", &["/node-init", "sleep", "0", "3"], &[])
        .await
        .unwrap();
    let status = run
        .wait_process_exit("node-a", "sleeper", TIMEOUT)
        .await
        .unwrap();
    assert_eq!((status.0, status.exit_code()), (768, Some(3)));
    let second = String::from_utf8(run.new_output("node-a", "sleeper").await.unwrap()).unwrap();
    assert!(
        second.starts_with("node-init sleep: pid ") && second.lines().count() == 1,
        "{second:?}"
    );
    let console = run.node_console("node-a").await.unwrap();
    assert!(console.contains("node-init: up as pid 1"), "{console}");
    assert!(
        console.contains(&format!("sleeper (pid {pid}) ended with wait status 15")),
        "{console}"
    );

    // The process leads its own group: a group signal reaches it.
    run.start_process("node-a", "grouped", &["/node-init", "sleep"], &[])
        .await
        .unwrap();
    run.signal_process_group("node-a", "grouped", "INT")
        .await
        .unwrap();
    let st = run
        .wait_process_exit("node-a", "grouped", TIMEOUT)
        .await
        .unwrap();
    assert_eq!(st.signal(), Some(2));

    // stop_process: TERM first; KILL when TERM is ignored.
    run.start_process("node-a", "polite", &["/node-init", "sleep"], &[])
        .await
        .unwrap();
    let st = run
        .stop_process("node-a", "polite", Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(st.signal(), Some(15));
    run.start_process(
        "node-a",
        "stubborn",
        &["/node-init", "sleep", "--ignore-term"],
        &[],
    )
    .await
    .unwrap();
    let st = run
        .stop_process("node-a", "stubborn", Duration::from_millis(300))
        .await
        .unwrap();
    assert_eq!(st.signal(), Some(9));

    // A host reboot: processes die, /run is fresh, the filesystem (logs) stays.
    run.start_process("node-a", "survivor", &["/node-init", "sleep"], &[])
        .await
        .unwrap();
    run.write_file("node-a", "/var/lib/work/state", b"checkpoint", 0o600)
        .await
        .unwrap();
    run.write_file("node-a", "/var/run/app/pid", b"41", 0o644)
        .await
        .unwrap();
    run.restart_node("node-a").await.unwrap();
    let kept = run
        .read_file("node-a", "/var/lib/work/state")
        .await
        .unwrap();
    assert_eq!(kept, b"checkpoint");
    assert!(
        run.read_file("node-a", "/var/run/app/pid").await.is_err(),
        "/var/run is /run, a tmpfs: emptied by a reboot"
    );
    assert_eq!(
        run.process_status("node-a", "survivor").await.unwrap(),
        ProcessStatus::Absent
    );
    let log = run.process_log("node-a", "sleeper", 0).await.unwrap();
    assert!(String::from_utf8_lossy(&log).starts_with(&expected));
    assert_eq!(run.node_ip("node-a").unwrap(), a.ip);
    let never = run
        .wait_process_exit("node-a", "survivor", TIMEOUT)
        .await
        .unwrap_err();
    assert!(matches!(never, Error::NoExitStatus { .. }), "{never}");
    let signal_gone = run
        .signal_process("node-a", "survivor", "KILL")
        .await
        .unwrap_err();
    assert!(
        signal_gone.to_string().contains("not running"),
        "{signal_gone}"
    );

    // Labels on everything, then cleanup leaves nothing of this run.
    let filter = HashMap::from([(
        "label".to_string(),
        vec![format!("{RUN_LABEL}={}", run.id())],
    )]);
    let containers = docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(filter.clone()),
            ..Default::default()
        }))
        .await
        .unwrap();
    assert_eq!(containers.len(), 2);
    let networks = docker
        .list_networks(Some(ListNetworksOptions {
            filters: Some(filter.clone()),
        }))
        .await
        .unwrap();
    assert_eq!(networks.len(), 1);
    let pid_text = std::process::id().to_string();
    for labels in containers
        .iter()
        .filter_map(|c| c.labels.as_ref())
        .chain(networks.iter().filter_map(|n| n.labels.as_ref()))
    {
        assert_eq!(labels.get(OWNER_PID_LABEL), Some(&pid_text));
        assert!(labels.contains_key(OWNER_HOST_LABEL));
    }
    let removed = run.cleanup().await.unwrap();
    assert_eq!((removed.containers.len(), removed.networks.len()), (2, 1));
    let left = docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(filter.clone()),
            ..Default::default()
        }))
        .await
        .unwrap();
    let left_nets = docker
        .list_networks(Some(ListNetworksOptions {
            filters: Some(filter),
        }))
        .await
        .unwrap();
    assert!(left.is_empty() && left_nets.is_empty());
    eprintln!("nodes_processes_restart_and_cleanup: {:?}", t0.elapsed());
}

/// Creates a stopped container with the given labels.
async fn bare_container(
    engine: &Engine,
    image: &str,
    name: &str,
    labels: HashMap<String, String>,
) -> String {
    engine
        .client()
        .create_container(
            Some(CreateContainerOptions {
                name: Some(name.into()),
                ..Default::default()
            }),
            ContainerCreateBody {
                image: Some(image.into()),
                labels: Some(labels),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn sweep_removes_dead_runs_only() {
    let Some((engine, _binary, image)) = setup().await else {
        return;
    };
    let t0 = Instant::now();
    let me = docker::Owner::current();
    let tag = docker::new_run_id();
    let owned = |run: &str, pid: &str, host: &str| {
        let mut l = me.labels();
        l.insert(RUN_LABEL.into(), run.into());
        l.insert(OWNER_PID_LABEL.into(), pid.into());
        l.insert(OWNER_HOST_LABEL.into(), host.into());
        l
    };
    let dead_run = format!("dead{tag}");
    let kept_run = format!("kept{tag}");
    let live_run = format!("live{tag}");
    let foreign_run = format!("foreign{tag}");
    // pid 4194304 is above the kernel's pid_max: certainly not running.
    let dead = bare_container(
        &engine,
        &image,
        &format!("uh-test-dead-{tag}"),
        owned(&dead_run, "4194304", &me.host),
    )
    .await;
    let live = bare_container(
        &engine,
        &image,
        &format!("uh-test-live-{tag}"),
        owned(&live_run, &me.pid.to_string(), &me.host),
    )
    .await;
    let foreign = bare_container(
        &engine,
        &image,
        &format!("uh-test-foreign-{tag}"),
        owned(&foreign_run, "4194304", "some-other-host"),
    )
    .await;
    let mut kept_labels = owned(&kept_run, "4194304", &me.host);
    kept_labels.insert(docker::KEEP_LABEL.into(), "true".into());
    let kept = bare_container(&engine, &image, &format!("uh-test-kept-{tag}"), kept_labels).await;
    let plain = bare_container(
        &engine,
        &image,
        &format!("uh-test-unlabelled-{tag}"),
        HashMap::new(),
    )
    .await;

    let report = docker::sweep(&engine).await.unwrap();
    assert!(report.removed.contains_key(&dead_run), "{report:?}");
    assert!(report.alive.contains(&live_run), "{report:?}");
    assert!(report.kept.contains(&kept_run), "{report:?}");
    assert!(report.failed.is_empty(), "{report:?}");
    assert!(report.to_string().starts_with("removed "), "{report}");
    assert!(
        report.unknown.iter().any(|(r, _)| r == &foreign_run),
        "{report:?}"
    );

    let docker = engine.client();
    let exists = |id: String| async move {
        docker
            .inspect_container(&id, None::<InspectContainerOptions>)
            .await
            .is_ok()
    };
    assert!(!exists(dead).await, "the dead run's container must be gone");
    for id in [live, foreign, kept, plain] {
        assert!(exists(id.clone()).await, "sweep removed {id}");
        let force = RemoveContainerOptions {
            force: true,
            ..Default::default()
        };
        docker.remove_container(&id, Some(force)).await.unwrap();
    }
    eprintln!("sweep_removes_dead_runs_only: {:?}", t0.elapsed());
}

#[tokio::test]
async fn dropping_a_run_removes_it() {
    let Some((engine, binary, image)) = setup().await else {
        return;
    };
    let run = Run::create(&engine, RunSettings::new(&binary))
        .await
        .unwrap();
    run.create_node(node("dropped", &image)).await.unwrap();
    let id = run.id().to_string();
    drop(run);
    let left = common::containers_of_run(&engine, &id).await;
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn images_from_directories_keep_modes_and_symlinks() {
    let Some((engine, binary, _)) = setup().await else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let bin = root.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::fs::copy(&binary, bin.join("tool")).unwrap();
    std::fs::set_permissions(
        bin.join("tool"),
        std::os::unix::fs::PermissionsExt::from_mode(0o750),
    )
    .unwrap();
    std::os::unix::fs::symlink("tool", bin.join("alias")).unwrap();
    std::fs::create_dir(root.path().join("etc")).unwrap();
    std::fs::write(root.path().join("etc/secret"), "s3cret").unwrap();
    std::fs::set_permissions(
        root.path().join("etc/secret"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    // Larger than one 1 MiB chunk of the streamed context.
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    std::fs::write(root.path().join("etc/big"), &big).unwrap();
    // A nonce label: this image is really built on every run.
    let spec = ImageSpec {
        repository: "upgrade-harness/runtime-test-dirs".into(),
        roots: vec![root.path().to_path_buf()],
        labels: BTreeMap::from([("upgrade-harness.test-nonce".into(), docker::new_run_id())]),
        ..Default::default()
    };
    let image = build_image(&engine, &spec).await.unwrap();
    assert!(image.built);
    docker::remove_stale_images(&engine, &spec.repository, &image.reference)
        .await
        .unwrap();

    // Bind published ports on every interface, as for a remote engine:
    // node_address must then answer with the engine's machine.
    let options = RunSettings {
        publish_ip: Some(std::net::Ipv4Addr::UNSPECIFIED),
        ..RunSettings::new(&binary)
    };
    let run = Run::create(&engine, options).await.unwrap();
    let mut spec = node("dirs", &image.reference);
    spec.publish = vec![8080];
    run.create_node(spec).await.unwrap();
    let out = run
        .exec("dirs", &["/bin/alias", "status", "x"])
        .await
        .unwrap();
    assert_eq!(
        (out.code, out.stdout_text().as_str()),
        (0, "absent\n"),
        "{}",
        out.stderr_text()
    );

    // The archive API shows what COPY made of the inputs.
    let node = run.node("dirs").unwrap();
    let tar_bytes: Vec<u8> = engine
        .client()
        .download_from_container(
            &node.container_id,
            Some(bollard::query_parameters::DownloadFromContainerOptions {
                path: "/bin".into(),
            }),
        )
        .map(|chunk| chunk.unwrap().to_vec())
        .concat()
        .await;
    let mut modes = BTreeMap::new();
    for entry in tar::Archive::new(tar_bytes.as_slice()).entries().unwrap() {
        let entry = entry.unwrap();
        let header = entry.header();
        let link = header.link_name().unwrap().map(|l| l.display().to_string());
        modes.insert(
            entry.path().unwrap().display().to_string(),
            (header.mode().unwrap() & 0o7777, link),
        );
    }
    assert_eq!(modes["bin/tool"], (0o750, None), "{modes:?}");
    assert_eq!(modes["bin/alias"].1.as_deref(), Some("tool"), "{modes:?}");

    // Files in and out without a shell in the image.
    run.copy_to_node("dirs", root.path(), "/opt/copy")
        .await
        .unwrap();
    let out = run
        .exec("dirs", &["/opt/copy/bin/alias", "status", "x"])
        .await
        .unwrap();
    assert_eq!(out.code, 0, "{}", out.stderr_text());
    let secret = run.read_file("dirs", "/opt/copy/etc/secret").await.unwrap();
    assert_eq!(secret, b"s3cret");
    run.copy_to_node("dirs", &root.path().join("etc/secret"), "/srv/one")
        .await
        .unwrap();
    let single = run
        .read_file_archive("dirs", "/srv/one/secret")
        .await
        .unwrap();
    assert_eq!(single, b"s3cret");
    let from_image = run.read_file("dirs", "/etc/big").await.unwrap();
    assert!(
        from_image == big,
        "the 3 MB file came through the build intact"
    );
    run.remove_path("dirs", "/opt/copy").await.unwrap();
    assert!(run.read_file("dirs", "/opt/copy/etc/secret").await.is_err());
    run.remove_path("dirs", "/opt/copy").await.unwrap();

    // A published port is reached at the engine's machine (here: loopback).
    let addr = run.node_address("dirs", 8080).await.unwrap();
    if engine.is_local() {
        assert!(addr.ip().is_loopback() && addr.port() != 8080, "{addr}");
    }
    run.cleanup().await.unwrap();

    // Build failures carry the engine's message.
    let broken = ImageSpec {
        repository: "upgrade-harness/runtime-test-broken".into(),
        env: vec!["=no-name".into()],
        ..Default::default()
    };
    let err = build_image(&engine, &broken).await.unwrap_err();
    assert!(matches!(err, Error::Build { .. }), "{err}");
    eprintln!("build error reads: {err}");
}

#[tokio::test]
async fn sigterm_interrupts_work_with_its_exit_code() {
    let work = tokio::spawn(docker::until_shutdown(std::future::pending::<()>()));
    // Let the handler be installed before the signal arrives.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let status = std::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    let outcome = tokio::time::timeout(Duration::from_secs(5), work)
        .await
        .expect("the signal ends the wait")
        .unwrap();
    assert_eq!(outcome, Err(docker::ShutdownSignal::Terminate));
    assert_eq!(
        upgrade_harness::ExitCode::of_signal(docker::ShutdownSignal::Terminate) as i32,
        143
    );
}

#[tokio::test]
async fn kept_runs_outlive_their_run_value() {
    let Some((engine, binary, image)) = setup().await else {
        return;
    };
    let options = RunSettings {
        keep: true,
        ..RunSettings::new(&binary)
    };
    let run = Run::create(&engine, options).await.unwrap();
    run.create_node(node("kept", &image)).await.unwrap();
    let id = run.id().to_string();
    assert_eq!(run.finish().await.unwrap(), None);
    drop(run);
    let left = common::containers_of_run(&engine, &id).await;
    assert_eq!(left.len(), 1);
    let labels = left[0].labels.as_ref().unwrap();
    assert_eq!(
        labels.get(docker::KEEP_LABEL).map(String::as_str),
        Some("true")
    );
    let removed = docker::remove_run(&engine, &id).await.unwrap();
    assert_eq!((removed.containers.len(), removed.networks.len()), (1, 1));
}
