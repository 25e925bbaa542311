//! `upgrade-harness certify` on the fixture manifest (`module-fixtures/certify.yaml`, issue
//! 14) as tests (libtest-mimic, `harness = false`): `certify::<name>::<path>`
//! (`certify::fixture-touch::1_10_0-to-1_11_0`) certifies one path for real: its versions
//! alone (a real master and agent of each version's build), the path rolling in Docker with
//! the module loaded throughout, every bad fixture on each version, and the stale `from`
//! build left in place through the upgrade. Each entry's outcome is checked against the
//! class and loader text that the fixture must get (`../shared/modules.md`), worked out
//! here from the fixture, not taken from the report; and the pre-flight must agree with
//! every outcome. CI runs the first path; the others are ignored with the reason unless
//! `UPGRADE_HARNESS_CERTIFY=all` (each path costs about a minute).
//!
//! A run's clusters run one at a time, each holding one of the machine-wide cluster slots
//! (`run::slots`) while it exists.

mod common;

use std::path::PathBuf;

use common::clusters;
use libtest_mimic::{Arguments, Completion, Failed, Trial};
use upgrade_harness::certify::{self, manifest::path_name, Certification, Class, EntryKind};
use upgrade_harness::domain::Version;
use upgrade_harness::run::RunOptions;

/// `all`: every path is a real trial, not only the first.
const ALL_ENV: &str = "UPGRADE_HARNESS_CERTIFY";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The class and a piece of the loader's text that an entry of the fixture manifest must
/// get, from what the entry tries.
fn must(id: &str, from: Version, to: Version) -> Option<(Class, String)> {
    let works = [path_name(from, to), from.to_string(), to.to_string()];
    if works.iter().any(|w| w == id) {
        return Some((Class::Works, String::new()));
    }
    if id == format!("stale-from-build {}", path_name(from, to)) {
        return Some((
            Class::RejectedAtLoad,
            format!("Minimum supported mesos version for 'Anonymous' is {to}, but module is compiled with version {from}"),
        ));
    }
    let (control, on) = id.split_once(" on ")?;
    let text = match control {
        "wrong-version" => format!("Mesos has version {on}, but module is compiled with version"),
        "wrong-api" => "Module API version mismatch. Mesos has: 2, library requires: 1".into(),
        "unknown-kind" => "Unknown module kind: Anonymus".into(),
        "incompatible" => "has determined to be incompatible".into(),
        "create-null" => {
            return Some((
                Class::CreateFailed,
                "Failed to create anonymous module named 'org_upgrade_harness_touch'".into(),
            ))
        }
        _ => return None,
    };
    Some((Class::RejectedAtLoad, text))
}

fn path_trial(c: &Certification, from: Version, to: Version, ignore: Option<String>) -> Trial {
    let name = format!(
        "certify::{}::{}",
        c.name,
        path_name(from, to).replace('.', "_")
    );
    if let Some(reason) = ignore {
        return Trial::ignorable_test(name, move || {
            // nextest runs one test per process and shows a runtime "ignored" as a pass: fail there.
            if std::env::var_os("NEXTEST").is_some() {
                Err(format!("not run here: {reason}").into())
            } else {
                Ok(Completion::ignored_with(reason))
            }
        })
        .with_ignored_flag(true);
    }
    let c = c.clone();
    Trial::ignorable_test(name, move || {
        let pair = path_name(from, to);
        // No slot of its own: the path's clusters each take one of the machine-wide slots
        // (`run::slots`) as `certify` starts them; holding one here too deadlocked a cap of 1.
        let base = root()
            .join("target/upgrade-harness/certify-test")
            .join(&pair);
        let cache = tempfile::tempdir().map_err(|e| format!("a temporary folder: {e}"))?;
        let run = RunOptions {
            out_root: root().join("target/upgrade-harness"),
            progress: false,
            ..RunOptions::default()
        };
        let opts = certify::CertifyOptions {
            out: base.join("report"),
            work: base.join("work"),
            // A fresh cache: the paths run now, whatever ran before.
            cache: cache.path().to_path_buf(),
            run,
            jobs: 1,
            only: Some(
                regex::Regex::new(&format!("^{}$", regex::escape(&pair)))
                    .map_err(|e| e.to_string())?,
            ),
            fresh: true,
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| Failed::from(format!("tokio runtime: {e}")))?;
        if let Err(e) = rt.block_on(upgrade_harness::docker::Engine::connect()) {
            if std::env::var("CI").as_deref() != Ok("true") {
                return Ok(Completion::ignored_with(format!("Docker unreachable: {e}")));
            }
            return Err(e.to_string().into());
        }
        let progress = |line: String| eprintln!("{line}");
        let command = format!("cargo nextest run --test certify -E 'test(/{pair}/)'");
        let done = match rt.block_on(clusters::until_stopped(certify::certify(
            &c, &opts, command, &progress,
        ))) {
            Ok(Ok(done)) => done,
            Ok(Err(e)) => return Err(e.to_string().into()),
            Err(signal) => {
                rt.shutdown_background();
                return Err(format!("interrupted by {}", clusters::name(signal)).into());
            }
        };
        let cert = done.certificate;
        let mut wrong = Vec::new();
        let mut kinds = Vec::new();
        for e in &cert.entries {
            kinds.push(e.kind);
            let Some((class, text)) = must(&e.id, from, to) else {
                wrong.push(format!("{}: not an entry this manifest makes", e.id));
                continue;
            };
            if e.outcome != class || !e.detail.contains(&text) {
                wrong.push(format!(
                    "{}: must be {class} ({text}); got {}: {}",
                    e.id, e.outcome, e.detail
                ));
            }
            if e.agrees != Some(true) {
                wrong.push(format!(
                    "{}: the pre-flight predicted `{}`, the outcome is {}: {}",
                    e.id,
                    e.predicted.as_deref().unwrap_or("-"),
                    e.outcome,
                    e.detail
                ));
            }
        }
        // Both versions alone, the path, 5 bad fixtures on both versions, the stale build.
        let count = |k: EntryKind| kinds.iter().filter(|x| **x == k).count();
        if (
            count(EntryKind::Version),
            count(EntryKind::Path),
            count(EntryKind::Control),
        ) != (2, 1, 11)
        {
            wrong.push(format!(
                "entries: {} versions, {} paths, {} controls (must be 2, 1, 11)",
                count(EntryKind::Version),
                count(EntryKind::Path),
                count(EntryKind::Control)
            ));
        }
        if wrong.is_empty() {
            Ok(Completion::Completed)
        } else {
            Err(format!(
                "{}\nreport: {}",
                wrong.join("\n"),
                opts.out.join(format!("{}.md", c.name)).display()
            )
            .into())
        }
    })
}

fn main() {
    let args = Arguments::from_args();
    let all = std::env::var(ALL_ENV).as_deref() == Ok("all");
    let file = root().join("module-fixtures/certify.yaml");
    let c = match certify::load(&file) {
        Ok(c) => c,
        Err(d) => {
            eprintln!("{}", d.render_plain(100));
            std::process::exit(2);
        }
    };
    let mut trials = Vec::new();
    for (i, &(from, to)) in c.paths.iter().enumerate() {
        let ignore = (i > 0 && !all).then(|| {
            format!(
                "CI certifies the first path of {}; {ALL_ENV}=all runs this one",
                c.name
            )
        });
        trials.push(path_trial(&c, from, to, ignore));
    }
    if !args.list {
        clusters::stop_on_signals(clusters::OnSignal::MainExits);
    }
    let conclusion = libtest_mimic::run(&args, trials);
    if let Some(signal) = clusters::stopping() {
        std::process::exit(clusters::finish(signal));
    }
    conclusion.exit();
}
