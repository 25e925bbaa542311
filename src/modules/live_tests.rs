//! Every fixture module against the real loader of Mesos 1.11.0, in a master (local mode) and
//! an agent run from the version's build on 127.0.0.1 (no Docker, as `images::live_tests`),
//! side by side with the static pre-flight's prediction. Needs the downloaded tarball (the
//! build is made or reused); without it the test says it is skipped (fails with `CI=true`).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::domain::Version;
use crate::images::test_skip::skip;
use crate::images::{build_version, BuildOptions, VersionBuild};
use crate::mesos::modules::{LoadedModule, ModuleOutcome};
use crate::modules::preflight::{self, agrees};
use crate::modules::{build_fixture, Fixture, FIXTURE_MODULE_NAME};

/// How long a node that loads a module may take to prove it (or to stop).
const WITHIN: Duration = Duration::from_secs(30);

fn build_or_skip(version: &str, opts: &BuildOptions) -> Option<VersionBuild> {
    let tarball = opts.cache_dir.join(format!(
        "downloads/mesos.scheduler-{version}.linux-x86_64.tar.gz"
    ));
    if !tarball.is_file() {
        skip(&format!(
            "no downloaded tarball of Mesos {version} in {}: `upgrade-harness images build {version}` downloads it",
            opts.cache_dir.display()
        ));
        return None;
    }
    Some(build_version(version, opts).unwrap())
}

/// Starts `mode` with `module` listed and waits for its fate: an exit, or the proof file.
fn outcome(build: &VersionBuild, mode: &str, library: &Path, dir: &Path) -> ModuleOutcome {
    let proof = dir.join("proof");
    let module = LoadedModule {
        name: FIXTURE_MODULE_NAME.to_string(),
        file: library.display().to_string(),
        parameters: vec![("file".to_string(), proof.display().to_string())],
        hook: false,
    };
    crate::modules::local::outcome(build, mode, &module, &proof, dir, WITHIN).unwrap()
}

/// The class each fixture must get from its own version's loader.
fn expected_class(fixture: Fixture) -> &'static str {
    match fixture {
        Fixture::Touch => "works",
        Fixture::CreateNull => "create failed",
        _ => "rejected at load",
    }
}

#[test]
fn every_fixture_meets_the_real_loader_of_1_11_0() {
    let opts = BuildOptions::default();
    let Some(build) = build_or_skip("1.11.0", &opts) else {
        return;
    };
    let running: Version = "1.11.0".parse().unwrap();
    let stale_version: Version = "1.10.0".parse().unwrap();
    let libmesos_path = build
        .rootfs
        .join(build.launcher_dir_in_image.trim_start_matches('/'))
        .join("libmesos.so");
    let libmesos: HashSet<String> = preflight::exported_symbols(&libmesos_path).unwrap();
    let dirs = [
        Path::new("/usr/lib/x86_64-linux-gnu"),
        Path::new("/lib/x86_64-linux-gnu"),
    ];
    let tmp = tempfile::tempdir().unwrap();
    // (what, the class it must get, the library).
    let mut cases: Vec<(String, &str, PathBuf)> = Fixture::ALL
        .into_iter()
        .map(|f| {
            let built = build_fixture(f, running, &opts.cache_dir, "g++").unwrap();
            (
                format!("{f} ({running} build)"),
                expected_class(f),
                built.library,
            )
        })
        .collect();
    let stale = build_fixture(Fixture::Touch, stale_version, &opts.cache_dir, "g++").unwrap();
    cases.push((
        format!("touch ({stale_version} build: stale)"),
        "rejected at load",
        stale.library,
    ));
    let mut table = Vec::new();
    let mut wrong = Vec::new();
    for (label, expected, library) in &cases {
        let module = preflight::read_module(library, FIXTURE_MODULE_NAME).unwrap();
        let unresolved = preflight::unresolved_symbols(&module, &libmesos, &dirs);
        let file = library.display().to_string();
        let predicted =
            preflight::predict(&file, FIXTURE_MODULE_NAME, &module, &unresolved, running);
        for mode in ["master", "agent"] {
            let dir = tmp.path().join(format!("{}-{mode}", table.len()));
            let real = outcome(&build, mode, library, &dir);
            let line = format!(
                "{mode:<6} {label:<32} predicted: {predicted} | real: {}: {:?}",
                real.class(),
                real
            );
            if real.class() != *expected || !agrees(&predicted, &real) {
                wrong.push(line.clone());
            }
            table.push(line);
        }
    }
    eprintln!("{}", table.join("\n"));
    assert!(
        wrong.is_empty(),
        "outcomes that are not the expected class or disagree with the pre-flight:\n{}",
        wrong.join("\n")
    );
}
