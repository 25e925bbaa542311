//! The commands that need Docker: `run`, `images build`, `clean`. Each maps its errors to
//! the exit codes of [`ExitCode`].

use std::collections::BTreeMap;
use std::path::Path;

use super::exit::CommandError;
use super::{note, out, ExitCode};
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
pub fn run(file: &Path, keep: bool, out: &Path, images: &[String], seed: Option<u64>) -> ExitCode {
    let images = match crate::image_builds::parse_overrides(&images.join(";")) {
        Ok(images) => images,
        Err(e) => {
            note!("error: --image {e}");
            return ExitCode::InvalidInput;
        }
    };
    if let Some(seed) = seed {
        note!(
            "seed: {seed} (replay: upgrade-harness run {} --seed {seed})",
            file.display()
        );
    }
    let opts = RunOptions {
        keep,
        out_root: out.to_path_buf(),
        images,
        seed,
        ..RunOptions::default()
    };
    match runtime().block_on(run::run_file(file, &opts)) {
        Ok(report) => {
            for line in report.skipped() {
                note!("skipped: {line}");
            }
            let failures = report.render_failures(&miette::GraphicalReportHandler::new());
            for f in &failures {
                note!("{f}");
            }
            let verdict = match &report.expected_failure {
                Some(e) if e.caught => format!(
                    "caught as expected (at `{}` by {})",
                    e.expected.phase, e.expected.by
                ),
                Some(e) => format!(
                    "NOT caught as expected (expected at `{}` by {} saying {:?}; seen: {})",
                    e.expected.phase, e.expected.by, e.expected.contains, e.seen
                ),
                None if report.passed() => "passed".to_string(),
                None => "FAILED".to_string(),
            };
            let folder = out.join(report.folder_name());
            // A failed run's bundle is what to attach to a bug report or a CI artifact.
            let bundle = if report.passed() {
                String::new()
            } else {
                format!(
                    "; failure bundle {}",
                    crate::report::bundle_path(&folder).display()
                )
            };
            note!(
                "{}: {verdict} in {:.1}s ({} phases); results in {}{bundle}",
                report.scenario,
                report.seconds,
                report.phases.len(),
                folder.display()
            );
            ExitCode::of_report(&report)
        }
        Err(e) => {
            match &e {
                RunError::Invalid(d) => {
                    let text = d.render_with(&miette::GraphicalReportHandler::new());
                    note!("{}", text.trim_end());
                }
                RunError::Infrastructure(_) | RunError::Setting(_) => note!("error: {e}"),
                RunError::NotRunnable(_) | RunError::Interrupted(_) => note!("{e}"),
            }
            ExitCode::of_run_error(&e)
        }
    }
}

/// `upgrade-harness images build [VERSION...]`.
pub fn images_build(versions: &[String]) -> ExitCode {
    match build_images(versions) {
        Ok(code) => code,
        Err(e) => {
            note!("error: {e}");
            e.exit_code()
        }
    }
}

fn build_images(versions: &[String]) -> Result<ExitCode, CommandError> {
    if let Some(why) = unknown_versions(versions) {
        return Err(CommandError::Invalid(why));
    }
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
    let engine = rt.block_on(docker::Engine::connect())?;
    for v in &versions {
        let t = std::time::Instant::now();
        let build = images::build_version(v, &opts)?;
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
        let image = rt.block_on(docker::build_image(&engine, &spec))?;
        let tag = format!("upgrade-harness/mesos:{v}");
        rt.block_on(tag_image(&engine, &image.reference, &tag))?;
        let line = format!(
            "{v}: {} ({}; build {}) {:.1}s\n",
            tag,
            image.reference,
            if build.reused { "reused" } else { "built" },
            t.elapsed().as_secs_f64()
        );
        if let Err(code) = out(&line) {
            return Ok(code);
        }
    }
    Ok(ExitCode::Ok)
}

/// The versions asked for that the project cannot build, said with the ones it can: checked
/// before any work, because a typo is invalid input, not an infrastructure failure.
fn unknown_versions(asked: &[String]) -> Option<String> {
    let known = images::known_versions();
    let unknown: Vec<&str> = asked
        .iter()
        .map(String::as_str)
        .filter(|v| !known.contains(v))
        .collect();
    match unknown.as_slice() {
        [] => None,
        [one] => Some(format!(
            "unknown Mesos version {one}; the known versions are {}",
            known.join(", ")
        )),
        many => Some(format!(
            "unknown Mesos versions {}; the known versions are {}",
            many.join(", "),
            known.join(", ")
        )),
    }
}

async fn tag_image(engine: &docker::Engine, reference: &str, tag: &str) -> docker::Result<()> {
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
        .map_err(|source| docker::Error::Api {
            action: format!("tag {reference} as {tag}"),
            source,
        })
}

/// `upgrade-harness clean [RUN_ID]`.
pub fn clean(run_id: Option<&str>) -> ExitCode {
    let rt = runtime();
    let result = rt.block_on(async {
        let engine = docker::Engine::connect().await?;
        let Some(id) = run_id else {
            return docker::sweep(&engine).await.map(|r| Ok(r.to_string()));
        };
        // Removing by label finds nothing for a mistyped id: say so instead of "removed".
        let runs = docker::list_runs(&engine).await?;
        if !runs.iter().any(|r| r.id == id) {
            return Ok(Err(unknown_run(id, engine.host(), &runs)));
        }
        docker::remove_run(&engine, id).await.map(|r| {
            Ok(format!(
                "removed run {id}: containers [{}], networks [{}]",
                r.containers.join(", "),
                r.networks.join(", ")
            ))
        })
    });
    match result
        .map_err(CommandError::from)
        .and_then(|r| r.map_err(CommandError::Invalid))
    {
        Ok(text) => out(&format!("{text}\n")).err().unwrap_or(ExitCode::Ok),
        Err(e) => {
            note!("error: {e}");
            e.exit_code()
        }
    }
}

/// "no run X": with the runs that do exist on the engine, so that the right id can be picked.
fn unknown_run(id: &str, host: &str, runs: &[docker::RunSummary]) -> String {
    if runs.is_empty() {
        return format!(
            "no run {id} on the Docker engine at {host}: there are no runs (no container or network carries the {} label)",
            docker::RUN_LABEL
        );
    }
    let listed: Vec<String> = runs
        .iter()
        .map(|r| {
            let owner = match &r.liveness {
                docker::Liveness::Alive => "owner running",
                docker::Liveness::Dead => "owner gone",
                docker::Liveness::Unknown(_) => "owner unknown",
            };
            let kept = if r.kept { ", kept" } else { "" };
            format!("{} ({owner}{kept})", r.id)
        })
        .collect();
    format!(
        "no run {id} on the Docker engine at {host}; the runs there: {}",
        listed.join(", ")
    )
}

/// `upgrade-harness diff FROM TO` and `diff --all`.
pub fn diff(
    pair: Option<(&str, &str)>,
    all: bool,
    json: bool,
    out: &Path,
    fresh: bool,
) -> ExitCode {
    use super::diff::{self, DiffOptions};
    let opts = DiffOptions {
        fresh,
        ..DiffOptions::default()
    };
    let parse = |s: &str| -> Result<crate::domain::Version, String> {
        let v: crate::domain::Version = s.parse().map_err(|e| format!("{s}: {e}"))?;
        if crate::mesos::versions::is_known(crate::scenario::model::Distribution::Local, v) {
            Ok(v)
        } else {
            Err(format!(
                "{v} is no local build; known: {}",
                crate::mesos::versions::known(crate::scenario::model::Distribution::Local)
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" ")
            ))
        }
    };
    if all {
        return match runtime().block_on(diff::all_pairs(&opts)) {
            Ok(reports) => {
                let title = atlas_title(&reports);
                let md = crate::drift::atlas::markdown(&title, &reports);
                let write = || -> std::io::Result<()> {
                    std::fs::create_dir_all(out)?;
                    std::fs::write(out.join("atlas.md"), &md)?;
                    std::fs::write(
                        out.join("atlas.html"),
                        crate::drift::atlas::html(&title, &md),
                    )?;
                    std::fs::write(
                        out.join("atlas.json"),
                        serde_json::to_string_pretty(&reports).unwrap_or_default(),
                    )
                };
                match write() {
                    Ok(()) => {
                        note!("atlas of {} pairs in {}", reports.len(), out.display());
                        ExitCode::Ok
                    }
                    Err(e) => {
                        note!("error: writing the atlas into {}: {e}", out.display());
                        ExitCode::Infrastructure
                    }
                }
            }
            Err(e) => {
                note!("error: {e}");
                ExitCode::Infrastructure
            }
        };
    }
    let Some((from, to)) = pair else {
        note!("error: give FROM and TO, or --all");
        return ExitCode::InvalidInput;
    };
    let (from, to) = match (parse(from), parse(to)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            note!("error: {e}");
            return ExitCode::InvalidInput;
        }
    };
    match runtime().block_on(diff::diff(from, to, &opts)) {
        Ok(d) => out_text(&if json { d.json() + "\n" } else { d.markdown() }),
        Err(e) => {
            note!("error: {e}");
            ExitCode::Infrastructure
        }
    }
}

/// `Mesos API atlas: local builds 1.4.3 .. 1.11.0`.
pub fn atlas_title(reports: &[crate::drift::Drift]) -> String {
    let first = reports.first().and_then(|d| d.from_version);
    let last = reports.last().and_then(|d| d.to_version);
    match (first, last) {
        (Some(a), Some(b)) => format!("Mesos API atlas: local builds {a} .. {b}"),
        _ => "Mesos API atlas".to_string(),
    }
}

fn out_text(text: &str) -> ExitCode {
    out(text).err().unwrap_or(ExitCode::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(id: &str, liveness: docker::Liveness, kept: bool) -> docker::RunSummary {
        docker::RunSummary {
            id: id.to_string(),
            liveness,
            kept,
            labels: Default::default(),
        }
    }

    #[test]
    fn an_unknown_run_is_told_with_the_runs_that_exist() {
        let runs = [
            summary("67a1b2c3d4", docker::Liveness::Alive, false),
            summary("67a1b2ffff", docker::Liveness::Dead, true),
        ];
        assert_eq!(
            unknown_run("nosuchrun", "unix:///d.sock", &runs),
            "no run nosuchrun on the Docker engine at unix:///d.sock; the runs there: \
             67a1b2c3d4 (owner running), 67a1b2ffff (owner gone, kept)"
        );
        let none = unknown_run("nosuchrun", "unix:///d.sock", &[]);
        assert!(none.contains("there are no runs"), "{none}");
        assert!(none.contains(docker::RUN_LABEL), "{none}");
    }

    #[test]
    fn unknown_versions_are_named_with_the_known_ones() {
        assert_eq!(unknown_versions(&[]), None);
        assert_eq!(unknown_versions(&["1.11.0".to_string()]), None);
        let why = unknown_versions(&["1.11.0".into(), "9.9.9".into()]).unwrap();
        assert!(why.starts_with("unknown Mesos version 9.9.9;"), "{why}");
        for known in images::known_versions() {
            assert!(why.contains(known), "{known} missing: {why}");
        }
        let why = unknown_versions(&["9.9.9".into(), "1.2".into()]).unwrap();
        assert!(
            why.starts_with("unknown Mesos versions 9.9.9, 1.2;"),
            "{why}"
        );
    }
}
