//! The pure stages: manifest errors, the generated path scenarios, classification of a
//! path's cell, and the reports' rendering from a fixed result.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::manifest::{parse, BuildSource, Class};
use super::report::{Certificate, Entry, EntryKind, MesosBuild, ModuleBuild};
use super::run::{classify, paths_table};
use crate::compat::{cells, scenario_text, CellResult, Outcome};
use crate::domain::Version;

const FIXTURE: &str = include_str!("../../module-fixtures/certify.yaml");

fn v(s: &str) -> Version {
    s.parse().unwrap()
}

fn errors(text: &str) -> String {
    parse(Path::new("module-fixtures/x.yaml"), text)
        .err()
        .map(|d| {
            let fields: Vec<&str> = d.problems.iter().map(|p| p.field.as_str()).collect();
            format!("{}\nfields: {}", d.render_plain(200), fields.join(", "))
        })
        .unwrap_or_else(|| "no error".into())
}

#[test]
fn the_fixture_manifest_loads_with_its_paths_versions_and_controls() {
    let c = parse(Path::new("module-fixtures/certify.yaml"), FIXTURE)
        .unwrap_or_else(|d| panic!("{}", d.render_plain(200)));
    assert_eq!(
        c.paths,
        [
            (v("1.10.0"), v("1.11.0")),
            (v("1.7.3"), v("1.11.0")),
            (v("1.4.3"), v("1.5.3"))
        ]
    );
    assert_eq!(
        c.versions,
        ["1.4.3", "1.5.3", "1.7.3", "1.10.0", "1.11.0"].map(v)
    );
    assert_eq!(
        c.builds,
        BuildSource::Fixture(crate::modules::Fixture::Touch)
    );
    assert!(c.stale_from_build);
    let controls: Vec<(&str, Class)> = c
        .controls
        .iter()
        .map(|x| (x.name.as_str(), x.expect))
        .collect();
    assert_eq!(
        controls,
        [
            ("wrong-version", Class::RejectedAtLoad),
            ("wrong-api", Class::RejectedAtLoad),
            ("unknown-kind", Class::RejectedAtLoad),
            ("incompatible", Class::RejectedAtLoad),
            ("create-null", Class::CreateFailed)
        ]
    );
}

#[test]
fn every_pair_of_a_range_is_each_consecutive_known_version() {
    let text = FIXTURE.replace(
        "  - 1.4.3-to-1.5.3\n",
        "  - { every_pair: { from: 1.4.3, to: 1.6.1 } }\n",
    );
    let c = parse(Path::new("x.yaml"), &text).unwrap_or_else(|d| panic!("{}", d.render_plain(200)));
    assert_eq!(
        &c.paths[2..],
        [
            (v("1.4.3"), v("1.5.2")),
            (v("1.5.2"), v("1.5.3")),
            (v("1.5.3"), v("1.6.1"))
        ]
    );
}

#[test]
fn bad_manifests_name_the_place_the_field_and_what_is_valid() {
    let e = errors(&FIXTURE.replace("  - 1.7.3-to-1.11.0\n", "  - 1.7.3-to-1.12.0\n"));
    assert!(
        e.contains("`1.12.0` is not a known local Mesos build")
            && e.contains("x.yaml:20:5")
            && e.contains("paths[1]")
            && e.contains("known: 1.4.3"),
        "{e}"
    );
    let e = errors(&FIXTURE.replace("  - 1.4.3-to-1.5.3\n", "  - 1.5.3-to-1.4.3\n"));
    assert!(e.contains("1.5.3 -> 1.4.3 is not an upgrade"), "{e}");
    let e = errors(&FIXTURE.replace("  - 1.4.3-to-1.5.3\n", "  - 1.4.3..1.5.3\n"));
    assert!(e.contains("`1.4.3..1.5.3` is not FROM-to-TO"), "{e}");
    let e = errors(&FIXTURE.replace("{ fixture: touch }", "{ fixture: tuch }"));
    assert!(
        e.contains("`tuch` is not a fixture module")
            && e.contains("builds.fixture")
            && e.contains("fixtures: touch, wrong-api"),
        "{e}"
    );
    let e = errors(&FIXTURE.replace(
        "{ fixture: touch }",
        "{ fixture: touch, files: { \"1.11.0\": lib.so } }",
    ));
    assert!(
        e.contains("`builds` needs exactly one of `fixture` and `files`"),
        "{e}"
    );
    let e = errors(&FIXTURE.replace(
        "builds: { fixture: touch }",
        "builds: { files: { \"1.11.0\": no/such/lib.so } }",
    ));
    assert!(
        e.contains("no file module-fixtures/no/such/lib.so")
            && e.contains("builds.files.1.11.0")
            && e.contains("no build for 1.4.3, 1.5.3, 1.7.3, 1.10.0"),
        "{e}"
    );
    let e = errors(&FIXTURE.replace(
        "proof: { file: /tmp/org_upgrade_harness_touch.created }",
        "proof: { file: created }",
    ));
    assert!(
        e.contains("`created` is not an absolute path") && e.contains("module.proof.file"),
        "{e}"
    );
    let e = errors(&FIXTURE.replace(
        "fixture: create-null, expect: create_failed",
        "fixture: create-null, expect: works",
    ));
    assert!(
        e.contains("a negative control cannot expect `works`")
            && e.contains("controls.builds[4].expect"),
        "{e}"
    );
    let e = errors(&FIXTURE.replace("expect: create_failed", "expect: crash"));
    assert!(e.contains("crash") && e.contains("rejected_at_load"), "{e}");
    let e = errors(&FIXTURE.replace("tasks: 2", "taks: 2"));
    assert!(e.contains("taks"), "{e}");
    let e = errors(&FIXTURE.replace("{ masters: 1, agents: 2 }", "{ masters: 3, agents: 2 }"));
    assert!(
        e.contains("0 ZooKeeper nodes with 3 masters") && e.contains("topology.zookeeper"),
        "{e}"
    );
    let e = errors(&FIXTURE.replace(
        "name: org_upgrade_harness_touch\n  kind",
        "name: org_example\n  kind",
    ));
    assert!(
        e.contains("the fixture `touch` is the Anonymous module `org_upgrade_harness_touch`"),
        "{e}"
    );
}

#[test]
fn each_path_and_its_stale_control_generate_valid_scenarios_with_the_module() {
    let c = parse(Path::new("module-fixtures/certify.yaml"), FIXTURE).unwrap();
    let files: BTreeMap<Version, (PathBuf, String)> = c
        .versions
        .iter()
        .map(|x| {
            (
                *x,
                (PathBuf::from(format!("/b/{x}.so")), format!("sha-{x}")),
            )
        })
        .collect();
    let table = paths_table(&c, &c.paths, &files);
    let all = cells(&table);
    let ids: Vec<String> = all.iter().map(|x| x.id()).collect();
    assert_eq!(
        ids,
        [
            "rolling/1.10.0-to-1.11.0",
            "rolling/1.7.3-to-1.11.0",
            "rolling/1.4.3-to-1.5.3",
            "stale/1.10.0-to-1.11.0",
            "stale/1.7.3-to-1.11.0",
            "stale/1.4.3-to-1.5.3",
        ]
    );
    for cell in &all {
        let text = scenario_text(&table, cell);
        let s = crate::scenario::load::parse_and_validate(Path::new("gen.yaml"), &text)
            .unwrap_or_else(|d| panic!("{}\n{text}", d.render_plain(200)));
        assert_eq!(s.modules.len(), 1, "{text}");
        assert!(
            text.contains(&format!("sha-{}", cell.from))
                && text.contains(&format!("sha-{}", cell.to)),
            "the builds' hashes are in the text (the cache key): {text}"
        );
        assert_eq!(
            text.contains("mistakes: [stale_module_build]"),
            cell.topology == "stale",
            "{text}"
        );
        assert!(text.contains("  - rebuild_modules\n"), "{text}");
    }
}

fn cell(outcome: Outcome, phase: Option<&str>, message: Option<&str>) -> CellResult {
    CellResult {
        cell: "rolling/1.10.0-to-1.11.0".into(),
        from: v("1.10.0"),
        to: v("1.11.0"),
        topology: "rolling".into(),
        direction: crate::compat::Direction::Upgrade,
        outcome,
        phase: phase.map(str::to_string),
        message: message.map(str::to_string),
        key: String::new(),
        seconds: 1.0,
        run: None,
        details: None,
        harness: String::new(),
        earlier: Vec::new(),
    }
}

#[test]
fn a_paths_cell_is_classified_from_its_failure() {
    assert_eq!(classify(&cell(Outcome::Passed, None, None)).0, Class::Works);
    let refused = "action 6 failed: master-1: process mesos-master 1.10.0 replaced by 1.11.0 in node master-1: I1207 hierarchical.cpp:1075] Removed agent S0 | E1207 local.cpp:237] EXIT with status 1: Error loading modules: Error verifying module 'org_upgrade_harness_touch': Minimum supported mesos version for 'Anonymous' is 1.11.0, but module is compiled with version 1.10.0";
    let (class, outcome) = classify(&cell(
        Outcome::Refused,
        Some("upgrade_masters/master-1"),
        Some(refused),
    ));
    assert_eq!(class, Class::RejectedAtLoad);
    assert_eq!(
        outcome,
        crate::mesos::modules::ModuleOutcome::RejectedAtLoad(
            "Error verifying module 'org_upgrade_harness_touch': Minimum supported mesos version for 'Anonymous' is 1.11.0, but module is compiled with version 1.10.0".into()
        )
    );
    let create = "action 2 failed: agent-1: E1207 local.cpp:345] EXIT with status 1: Failed to create anonymous module named 'org_upgrade_harness_touch'";
    assert_eq!(
        classify(&cell(Outcome::Refused, Some("start"), Some(create))).0,
        Class::CreateFailed
    );
    let no_proof = "action 3 failed; error: modules[0] org_upgrade_harness_touch: loaded by agent-1 (Mesos 1.11.0) from /opt/x.so, but its proof /tmp/x never appeared within 10s; last: no such file";
    assert_eq!(
        classify(&cell(Outcome::Failed, Some("start"), Some(no_proof))).0,
        Class::LoadedNoProof
    );
    assert_eq!(
        classify(&cell(
            Outcome::Failed,
            Some("upgrade_agents"),
            Some("invariant tasks_running failed")
        ))
        .0,
        Class::RunFailed
    );
    assert_eq!(
        classify(&cell(Outcome::NotRun, None, Some("docker unreachable"))).0,
        Class::NotRun
    );
}

/// A fixed result: a version that works, a path that works, a path whose module never
/// proved itself (with the pre-flight disagreeing), a control rejected as it must be.
fn fixed() -> Certificate {
    let entry = |id: &str, kind, expected, outcome, predicted: &str, agrees, detail: &str| Entry {
        id: id.into(),
        kind,
        builds: vec![format!("touch {id}")],
        predicted: Some(predicted.into()),
        expected,
        outcome,
        detail: detail.into(),
        phase: None,
        agrees: Some(agrees),
        seconds: 1.5,
        run: None,
    };
    let mut no_proof = entry(
        "1.7.3-to-1.11.0",
        EntryKind::Path,
        Class::Works,
        Class::LoadedNoProof,
        "loads",
        false,
        "loaded, no proof: its proof /tmp/x never appeared within 10s",
    );
    no_proof.phase = Some("upgrade_agents/agent-2".into());
    no_proof.run = Some("target/upgrade-harness/run-1".into());
    Certificate {
        name: "example".into(),
        description: "An example module.".into(),
        manifest: "module-fixtures/certify.yaml".into(),
        module: "org_example".into(),
        kind: "Anonymous".into(),
        roles: vec!["master".into(), "agents".into()],
        harness: "upgrade-harness 0.1.0".into(),
        date: "2026-12-07 19:00:00 UTC".into(),
        command: "upgrade-harness certify module-fixtures/certify.yaml".into(),
        seconds: 75.0,
        module_builds: vec![ModuleBuild {
            label: "touch 1.11.0".into(),
            version: "1.11.0".into(),
            file: "/cache/touch-1.11.0/lib.so".into(),
            sha256: "ab".repeat(32),
        }],
        mesos_builds: vec![MesosBuild {
            version: "1.11.0".into(),
            build_hash: "cd".repeat(32),
        }],
        entries: vec![
            entry("1.11.0", EntryKind::Version, Class::Works, Class::Works, "loads", true, "master: works (proof: x); agent: works (proof: y)"),
            entry("1.10.0-to-1.11.0", EntryKind::Path, Class::Works, Class::Works, "loads", true, "the proof appeared after every start of every node"),
            no_proof,
            entry(
                "wrong-api on 1.11.0",
                EntryKind::Control,
                Class::RejectedAtLoad,
                Class::RejectedAtLoad,
                "rejected at load: Module API version mismatch. Mesos has: 2, library requires: 1",
                true,
                "master: rejected at load: Error verifying module 'org_example': Module API version mismatch. Mesos has: 2, library requires: 1",
            ),
        ],
    }
}

#[test]
fn markdown_report_of_a_fixed_result() {
    let c = fixed();
    assert!(!c.passed());
    insta::assert_snapshot!("certify_markdown_example", c.markdown());
}

#[test]
fn json_and_junit_reports_carry_every_entry_and_the_provenance() {
    let c = fixed();
    let back: Certificate = serde_json::from_str(&c.json()).unwrap();
    assert_eq!(back, c);
    let xml = c.junit();
    let report = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    assert_eq!(report.tests, 4);
    assert_eq!(report.failures, 1);
    for needle in [
        "path 1.7.3-to-1.11.0",
        "must be works, got loaded, no proof",
        &"ab".repeat(32),
        &"cd".repeat(32),
        "upgrade-harness certify module-fixtures/certify.yaml",
        "2026-12-07 19:00:00 UTC",
    ] {
        assert!(xml.contains(needle), "{needle} not in\n{xml}");
    }
}
