//! The failure bundle: one `<scenario>-<run id>.tar.gz` beside the run folder of a failed
//! run, holding everything needed to understand it elsewhere (a CI artifact): the run
//! folder as it is (`plan.txt`, `result.json` with the harness version and the build hashes,
//! `observations.json`, `drift.*`, `junit.xml`, `summary.md`, every node's log per phase
//! under `logs/`, and `snapshot-diffs.txt` when a scenario test wrote one), plus the
//! scenario file as run, the run's normalized snapshot texts and `REPRODUCE`.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;

use super::{overview, RunReport};
use crate::snapshot::Render;

/// Where the bundle of the run folder `folder` goes: beside it, `<folder name>.tar.gz`.
pub fn bundle_path(folder: &Path) -> PathBuf {
    let name = folder
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".to_string());
    folder.with_file_name(format!("{name}.tar.gz"))
}

/// Writes the bundle of `report`'s run folder (`folder`) and returns its path. Members are
/// under `<folder name>/`, in a stable order. Written to a temporary name first, so that a
/// bundle that exists is whole.
pub fn write_bundle(folder: &Path, report: &RunReport) -> io::Result<PathBuf> {
    let path = bundle_path(folder);
    let prefix = PathBuf::from(
        folder
            .file_name()
            .ok_or_else(|| io::Error::other(format!("{} has no name", folder.display())))?,
    );
    let tmp = path.with_extension("gz.tmp");
    let result = (|| {
        let gz = GzEncoder::new(File::create(&tmp)?, Compression::default());
        let mut tar = tar::Builder::new(gz);
        tar.follow_symlinks(false);
        let mut files = Vec::new();
        walk(folder, &mut files)?;
        for file in &files {
            let relative = file.strip_prefix(folder).map_err(io::Error::other)?;
            tar.append_path_with_name(file, prefix.join(relative))?;
        }
        let scenario_name = report.file.file_name().map_or_else(
            || "scenario.yaml".into(),
            |n| n.to_string_lossy().into_owned(),
        );
        add(&mut tar, &prefix.join("REPRODUCE"), &reproduce(report))?;
        add(
            &mut tar,
            &prefix.join("scenario").join(scenario_name),
            &report.source,
        )?;
        for (phase, node, text) in report.observations.snapshots() {
            add(
                &mut tar,
                &prefix
                    .join("snapshots")
                    .join(phase)
                    .join(format!("{node}.txt")),
                &text,
            )?;
        }
        tar.into_inner()?.finish()?.flush()
    })();
    match result.and_then(|()| std::fs::rename(&tmp, &path)) {
        Ok(()) => Ok(path),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Every file under `dir`, sorted, depth first.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<io::Result<_>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// A generated member (mode 644, the time of writing).
fn add<W: Write>(tar: &mut tar::Builder<W>, name: &Path, text: &str) -> io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(text.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    );
    header.set_cksum();
    tar.append_data(&mut header, name, text.as_bytes())
}

/// `REPRODUCE`: the one-line local command first, then what ran.
pub(super) fn reproduce(report: &RunReport) -> String {
    let file = overview::repository_path(&report.file);
    let seed = report
        .seed
        .map(|s| format!(" --seed {s}"))
        .unwrap_or_default();
    let mut text = format!("upgrade-harness run {}{seed}\n\n", file.display());
    text.push_str(&format!(
        "Run it from the folder the path is relative to (the repository's root for the \
         project's scenarios); the file as run is scenario/{} in this bundle.\n",
        report
            .file
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    ));
    if let Some(test) = overview::scenario_test_name(&report.file) {
        text.push_str(&format!(
            "As a scenario test: cargo nextest run -E 'test(={test})'\n"
        ));
    }
    text.push_str(&format!(
        "\nscenario:   {} (Mesos {} -> {}), run {}\nverdict:    {}\nharness:    {}\nnode image: {}\nbuilds (content hash of each build's inputs):\n",
        report.scenario,
        report.from,
        report.to,
        report.run_id,
        if report.passed() { "passed" } else { "FAILED" },
        report.harness,
        report.image
    ));
    for b in &report.builds {
        text.push_str(&format!("  {:<14} {}\n", b.build, b.hash));
    }
    if let Some(why) = &report.aborted {
        text.push_str(&format!("aborted:    {why}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::super::test_fixture;
    use super::*;

    /// Member names and contents of a bundle.
    fn members(path: &Path) -> Vec<(String, String)> {
        let gz = flate2::read::GzDecoder::new(File::open(path).unwrap());
        let mut archive = tar::Archive::new(gz);
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let name = e.path().unwrap().display().to_string();
                let mut text = String::new();
                e.read_to_string(&mut text).unwrap();
                (name, text)
            })
            .collect()
    }

    #[test]
    fn the_bundle_holds_the_run_folder_the_scenario_and_how_to_reproduce() {
        let out = tempfile::tempdir().unwrap();
        let report = test_fixture::failed();
        let folder = out.path().join(report.folder_name());
        std::fs::create_dir_all(folder.join("logs/start")).unwrap();
        std::fs::write(folder.join("logs/start/master-1.log"), "I0101 started\n").unwrap();
        std::fs::write(folder.join("result.json"), "{}\n").unwrap();
        std::fs::write(folder.join("plan.txt"), &report.plan).unwrap();

        let path = write_bundle(&folder, &report).unwrap();
        assert_eq!(
            path,
            out.path().join("failing-three-ways-0123456789ab.tar.gz")
        );
        let members = members(&path);
        let names: Vec<&str> = members.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "failing-three-ways-0123456789ab/logs/start/master-1.log",
                "failing-three-ways-0123456789ab/plan.txt",
                "failing-three-ways-0123456789ab/result.json",
                "failing-three-ways-0123456789ab/REPRODUCE",
                "failing-three-ways-0123456789ab/scenario/three-failures.yaml",
            ]
        );
        let text = |name: &str| &members.iter().find(|(n, _)| n.ends_with(name)).unwrap().1;
        assert_eq!(text("master-1.log"), "I0101 started\n");
        assert_eq!(text("three-failures.yaml"), test_fixture::SOURCE);
        let reproduce = text("REPRODUCE");
        assert_eq!(
            reproduce.lines().next(),
            Some("upgrade-harness run tests/fixtures/failing/three-failures.yaml")
        );
        insta::assert_snapshot!("reproduce_failed", reproduce);
        // Nothing is left of the temporary file.
        let left: Vec<_> = std::fs::read_dir(out.path()).unwrap().flatten().collect();
        assert_eq!(left.len(), 2, "the folder and the bundle: {left:?}");
    }

    #[test]
    fn a_scenario_of_the_project_is_reproduced_by_its_test_name_too() {
        let mut report = test_fixture::failed();
        report.file =
            PathBuf::from("/home/ci/upgrade-harness/scenarios/local/1.4.3-to-1.11.0.yaml");
        let text = reproduce(&report);
        assert!(
            text.starts_with("upgrade-harness run scenarios/local/1.4.3-to-1.11.0.yaml\n"),
            "{text}"
        );
        assert!(
            text.contains("cargo nextest run -E 'test(=run::local::1_4_3-to-1_11_0)'"),
            "{text}"
        );
    }

    #[test]
    fn the_bundle_sits_beside_its_folder_whatever_dots_the_name_has() {
        assert_eq!(
            bundle_path(Path::new("out/local-1.10.0-to-1.11.0-6b16885290ab")),
            Path::new("out/local-1.10.0-to-1.11.0-6b16885290ab.tar.gz")
        );
    }
}
