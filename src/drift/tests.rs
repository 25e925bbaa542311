//! Unit tests of the drift report.

use std::collections::BTreeMap;

use super::documented::range_of;
use super::*;

use crate::domain::Role;
use crate::observation::{Answer, EndpointStatus, NodeObservation, PhaseObservation};

fn v(s: &str) -> crate::domain::Version {
    s.parse().unwrap()
}
use crate::snapshot::flatten;
use serde_json::{json, Value};

fn master(
    version: &str,
    endpoints: &[(&str, u16)],
    metrics: &[&str],
    flags: Value,
    state: Value,
) -> NodeObservation {
    NodeObservation {
        endpoints: Some(
            endpoints
                .iter()
                .map(|(p, s)| EndpointStatus {
                    path: p.to_string(),
                    status: Some(*s),
                    ..EndpointStatus::default()
                })
                .collect(),
        ),
        bodies: BTreeMap::from([
            (
                "/master/flags".to_string(),
                Answer {
                    status: Some(200),
                    json: Some(json!({ "flags": flags })),
                    ..Answer::default()
                },
            ),
            (
                "/master/state".to_string(),
                Answer {
                    status: Some(200),
                    json: Some(state),
                    ..Answer::default()
                },
            ),
        ]),
        metrics: Some(metrics.iter().map(|m| m.to_string()).collect()),
        ..NodeObservation::new("master-1", Role::Master, version.parse().unwrap())
    }
}

fn observations(a: NodeObservation, b: NodeObservation) -> Observations {
    Observations {
        phases: vec![
            PhaseObservation {
                phase: "start".into(),
                nodes: vec![a],
                ..PhaseObservation::default()
            },
            PhaseObservation {
                phase: "upgrade_masters".into(),
                nodes: vec![b],
                ..PhaseObservation::default()
            },
        ],
        ..Observations::default()
    }
}

fn scenario() -> Scenario {
    let yaml = "format: 1\nname: t\nfrom: 1.10.0\nto: 1.11.0\ndistribution: local\ntopology: { masters: 1, agents: 1 }\norder: { deviates: { reason: test } }\nsteps: [upgrade_masters]\nchecks:\n  - after: start\n    status: { get: /master/observe, code: 404 }\n    documents: \"1.0: /observe deleted\"\n  - after: start\n    flag: { name: registry_strict }\n    documents: \"1.0: registry_strict\"\n";
    crate::scenario::load::parse_and_validate(std::path::Path::new("t.yaml"), yaml)
        .expect("valid scenario")
}

#[test]
fn same_version_on_both_sides_gives_an_empty_report() {
    let m = master(
        "1.11.0",
        &[("/master/state", 200)],
        &["master/elected"],
        json!({"a": "1"}),
        json!({"id": "x", "slaves": [{"id": "a"}]}),
    );
    let d = drift(&scenario(), &observations(m.clone(), m));
    assert!(d.is_empty());
    assert!(d.undocumented.is_empty());
    assert!(d.documented.iter().all(|x| x.observed.is_empty()));
}

#[test]
fn with_a_new_leader_the_leaders_are_compared() {
    let old = master(
        "1.10.0",
        &[],
        &[],
        json!({"a": "1", "hostname": "master-1"}),
        json!({"id": "x"}),
    );
    let mut new = master(
        "1.11.0",
        &[],
        &[],
        json!({"a": "1", "b": "2", "hostname": "master-2"}),
        json!({"id": "x"}),
    );
    new.node = "master-2".into();
    let d = drift(&scenario(), &observations(old, new));
    assert_eq!(d.nodes.len(), 1);
    assert_eq!(
        d.nodes[0].node,
        "master-2 (leader; master-1 led at the start)"
    );
    assert_eq!(d.nodes[0].from_version, "1.10.0");
    assert_eq!(d.nodes[0].to_version, "1.11.0");
    assert!(d.markdown().contains("flag b (2)"), "{}", d.markdown());
    assert!(!d.markdown().contains("hostname"), "{}", d.markdown());
}

#[test]
fn documented_versions_are_placed_in_the_range() {
    assert_eq!(
        range_of("1.0: /observe deleted", v("1.10.0"), v("1.11.0")),
        "before"
    );
    assert_eq!(
        range_of("1.11.0: new master", v("1.10.0"), v("1.11.0")),
        "in"
    );
    assert_eq!(
        range_of("0.26 (mesos-facts.md): /version", v("0.25.0"), v("0.26.0")),
        "in"
    );
    assert_eq!(
        range_of("1.x (zookeeper.md): elected", v("1.10.0"), v("1.11.0")),
        "unknown"
    );
}

#[test]
fn changes_land_in_the_notes_categories() {
    let a = master(
        "1.10.0",
        &[
            ("/master/state", 200),
            ("/master/observe", 200),
            ("/master/roles", 200),
        ],
        &["master/elected", "master/old"],
        json!({"registry_strict": "false", "gone": "1"}),
        json!({"slaves": [{"id": "a", "hostname": "agent-1"}]}),
    );
    let b = master(
        "1.11.0",
        &[
            ("/master/state", 200),
            ("/master/roles", 503),
            ("/master/new", 200),
        ],
        &["master/elected", "master/new"],
        json!({"registry_strict": "true", "fresh": "x"}),
        json!({"slaves": [{"id": "a", "hostname": "agent-1", "drain_info": {}}]}),
    );
    let d = drift(&scenario(), &observations(a, b));
    insta::assert_snapshot!(d.markdown());
}

#[test]
fn flatten_names_elements_by_label() {
    let v = json!({"slaves": [{"id": "b", "x": 1}, {"id": "a"}], "caps": ["X"], "e": {}});
    assert_eq!(
        flatten(&v),
        vec![
            ("/caps".to_string(), "[\"X\"]".to_string()),
            ("/e".to_string(), "{}".to_string()),
            ("/slaves/b/id".to_string(), "\"b\"".to_string()),
            ("/slaves/b/x".to_string(), "1".to_string()),
            ("/slaves/a/id".to_string(), "\"a\"".to_string()),
        ]
    );
    assert!(field_paths(&v).contains("/slaves/*/x"));
}
