//! The commands that need Docker: `run`, `images build`, `clean`. Each maps its errors to
//! the exit codes of [`crate::ExitCode`].

use std::collections::BTreeMap;
use std::path::Path;

use crate::cli::ExitCode;
use crate::docker;
use crate::images::{self, BuildOptions};
use crate::run::{self, RunError, RunOptions};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime can be built")
}

/// `upgrade-harness run FILE`.
pub fn run(file: &Path, keep: bool, out: &Path) -> ExitCode {
    let opts = RunOptions {
        keep,
        out_root: out.to_path_buf(),
        ..RunOptions::default()
    };
    match runtime().block_on(run::run_file(file, &opts)) {
        Ok(report) => {
            for line in report.skipped() {
                eprintln!("skipped: {line}");
            }
            let failures = report.render_failures(&miette::GraphicalReportHandler::new());
            for f in &failures {
                eprint!("{f}");
            }
            let verdict = if failures.is_empty() {
                "passed"
            } else {
                "FAILED"
            };
            eprintln!(
                "{}: {verdict} in {:.1}s ({} phases); results in {}",
                report.scenario,
                report.seconds,
                report.phases.len(),
                out.join(format!("{}-{}", report.scenario, report.run_id))
                    .display()
            );
            if failures.is_empty() {
                ExitCode::Ok
            } else {
                ExitCode::CheckFailed
            }
        }
        Err(RunError::Invalid(d)) => {
            eprint!("{}", d.render_with(&miette::GraphicalReportHandler::new()));
            ExitCode::InvalidInput
        }
        Err(e @ RunError::NotRunnable(_)) => {
            eprintln!("{e}");
            ExitCode::InvalidInput
        }
        Err(e @ RunError::Interrupted(signal)) => {
            eprintln!("{e}");
            match signal {
                docker::ShutdownSignal::Interrupt => ExitCode::Interrupted,
                docker::ShutdownSignal::Terminate => ExitCode::Terminated,
            }
        }
        Err(e @ RunError::Infrastructure(_)) => {
            eprintln!("error: {e}");
            ExitCode::Infrastructure
        }
    }
}

/// `upgrade-harness images build [VERSION...]`.
pub fn images_build(versions: &[String]) -> ExitCode {
    let versions: Vec<String> = if versions.is_empty() {
        images::known_versions()
            .iter()
            .map(|v| v.to_string())
            .collect()
    } else {
        versions.to_vec()
    };
    let opts = BuildOptions::default();
    let rt = runtime();
    let engine = match rt.block_on(docker::Engine::connect()) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::Infrastructure;
        }
    };
    for v in &versions {
        let t = std::time::Instant::now();
        let build = match images::build_version(v, &opts) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("error: {v}: {e}");
                return ExitCode::Infrastructure;
            }
        };
        let spec = docker::ImageSpec {
            repository: format!("upgrade-harness/mesos-{v}"),
            roots: vec![build.rootfs.clone()],
            labels: BTreeMap::from([("upgrade-harness.version".to_string(), v.clone())]),
            entrypoint: vec![build.launcher_path_in_image.clone()],
            cmd: vec!["master".to_string()],
            env: vec![
                "MESOS_WORK_DIR=/var/lib/mesos".to_string(),
                "MESOS_LAUNCHER=posix".to_string(),
                "MESOS_SYSTEMD_ENABLE_SUPPORT=false".to_string(),
                "MESOS_ISOLATION=posix/cpu,posix/mem".to_string(),
            ],
            ..docker::ImageSpec::default()
        };
        let image = match rt.block_on(docker::build_image(&engine, &spec)) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("error: image of {v}: {e}");
                return ExitCode::Infrastructure;
            }
        };
        let tag = format!("upgrade-harness/mesos:{v}");
        if let Err(e) = rt.block_on(tag_image(&engine, &image.reference, &tag)) {
            eprintln!("error: tagging {tag}: {e}");
            return ExitCode::Infrastructure;
        }
        println!(
            "{v}: {} ({}; build {}) {:.1}s",
            tag,
            image.reference,
            if build.reused { "reused" } else { "built" },
            t.elapsed().as_secs_f64()
        );
    }
    ExitCode::Ok
}

async fn tag_image(engine: &docker::Engine, reference: &str, tag: &str) -> Result<(), String> {
    let (repo, version) = tag.split_once(':').unwrap_or((tag, "latest"));
    engine
        .client()
        .tag_image(
            reference,
            Some(bollard::query_parameters::TagImageOptions {
                repo: Some(repo.to_string()),
                tag: Some(version.to_string()),
            }),
        )
        .await
        .map_err(|e| e.to_string())
}

/// `upgrade-harness clean [RUN_ID]`.
pub fn clean(run_id: Option<&str>) -> ExitCode {
    let rt = runtime();
    let result = rt.block_on(async {
        let engine = docker::Engine::connect().await?;
        match run_id {
            Some(id) => docker::remove_run(&engine, id).await.map(|r| {
                format!(
                    "removed run {id}: containers [{}], networks [{}]",
                    r.containers.join(", "),
                    r.networks.join(", ")
                )
            }),
            None => docker::sweep(&engine).await.map(|r| r.to_string()),
        }
    });
    match result {
        Ok(text) => {
            println!("{text}");
            ExitCode::Ok
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::Infrastructure
        }
    }
}
