//! Unit tests of the drift report.

use std::collections::BTreeMap;

use super::*;

use crate::domain::Role;
use crate::observation::{Answer, EndpointStatus, NodeObservation, PhaseObservation};

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
    let d = drift(&scenario(), &observations(m.clone(), m), None);
    assert!(d.is_empty());
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
    let d = drift(&scenario(), &observations(old, new), None);
    assert_eq!(d.nodes.len(), 1);
    assert_eq!(
        d.nodes[0].node,
        "master-2 (leader; master-1 led at the start)"
    );
    assert_eq!(d.nodes[0].from_version, "1.10.0");
    assert_eq!(d.nodes[0].to_version, "1.11.0");
    assert!(d.markdown().contains("flag `b` (2)"), "{}", d.markdown());
    assert!(!d.markdown().contains("hostname"), "{}", d.markdown());
}

#[test]
fn harness_paths_phase_effects_and_workload_are_not_drift() {
    let a = master(
        "1.10.0",
        &[],
        &[],
        json!({"launcher_dir": "/opt/mesos/1.10.0/libexec"}),
        json!({"slaves": [{"id": "a", "registered_time": 1.0}],
               "frameworks": [{"id": "f", "completed_tasks": []}]}),
    );
    let b = master(
        "1.11.0",
        &[],
        &[],
        json!({"launcher_dir": "/opt/mesos/1.11.0/libexec"}),
        json!({"slaves": [{"id": "a", "registered_time": 1.0, "reregistered_time": 2.0}],
               "frameworks": [{"id": "f", "completed_tasks": [{"id": "t", "state": "TASK_KILLED"}]}]}),
    );
    let d = drift(&scenario(), &observations(a, b), None);
    assert!(d.is_empty(), "{}", d.markdown());
    let not: Vec<&str> = d.nodes[0]
        .not_compared
        .iter()
        .map(|n| n.name.as_str())
        .collect();
    assert_eq!(
        not,
        [
            "/frameworks/*/completed_tasks/*",
            "/slaves/*/reregistered_time"
        ]
    );
}

#[test]
fn api_values_are_compared_by_member() {
    let a = master(
        "1.8.1",
        &[],
        &[],
        json!({}),
        json!({"capabilities": ["A", "B"]}),
    );
    let b = master(
        "1.9.0",
        &[],
        &[],
        json!({}),
        json!({"capabilities": ["B", "A", "C"]}),
    );
    let d = drift(&scenario(), &observations(a, b), None);
    assert_eq!(d.nodes[0].added.len(), 1);
    assert_eq!(d.nodes[0].added[0].to.as_deref(), Some("C"));
}

#[test]
fn families_are_folded_and_listed_once() {
    let names: Vec<String> = ["create", "destroy", "reserve"]
        .iter()
        .flat_map(|k| {
            ["dropped", "error", "total"]
                .iter()
                .map(move |s| format!("master/operations/{k}/{s}"))
        })
        .chain([
            "master/operations/total".to_string(),
            "master/x".to_string(),
        ])
        .collect();
    let changes: Vec<Change> = names
        .iter()
        .map(|n| node::change(Kind::Metric, n, None, None))
        .collect();
    let f = fold(&changes);
    let patterns: Vec<(&str, usize)> = f.iter().map(|f| (f.pattern.as_str(), f.count)).collect();
    assert_eq!(
        patterns,
        [
            ("master/operations/total", 1),
            (
                "master/operations/{create,destroy,reserve}/{dropped,error,total}",
                9
            ),
            ("master/x", 1)
        ]
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
    let d = drift(&scenario(), &observations(a, b), None);
    insta::assert_snapshot!(d.markdown());
    insta::assert_json_snapshot!(d);
}

#[test]
fn changes_are_classified_against_the_notes_of_the_range() {
    let a = master(
        "1.7.3",
        &[("/master/state.json", 200), ("/master/state", 200)],
        &[],
        json!({}),
        json!({}),
    );
    let b = master(
        "1.8.1",
        &[("/master/state", 200)],
        &[],
        json!({}),
        json!({}),
    );
    let mut o = observations(a, b);
    o.phases[1].phase = "end".into();
    let yaml = "format: 1\nname: t\nfrom: 1.7.3\nto: 1.8.1\ndistribution: local\ntopology: { masters: 1, agents: 1 }\norder: { deviates: { reason: test } }\nsteps: [upgrade_masters]\n";
    let s = crate::scenario::load::parse_and_validate(std::path::Path::new("t.yaml"), yaml)
        .expect("valid scenario");
    let d = drift(&s, &o, None);
    let removed = &d.nodes[0].removed[0];
    assert_eq!(removed.name, "/master/state.json");
    // 0.25 deprecated the .json names; no note of 1.8 removes them.
    assert_eq!(removed.documented, None, "{}", d.markdown());
    assert!(d.notes.iter().all(|n| n.version.starts_with("1.8")));
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

/// A small protobuf API: `mesos.TaskStatus` with the given fields, the master's v1 call
/// types, and the given extra messages (empty).
fn proto_api(
    fields: &[(&str, i32, &str, bool)],
    calls: &[&str],
    messages: &[&str],
) -> crate::mesos::protos::ProtoApi {
    use crate::mesos::protos::{Enum, EnumValue, Field, Message, ProtoApi};
    let mut api = ProtoApi::default();
    api.files.insert("mesos/mesos.proto".into());
    let status = Message {
        file: "mesos/mesos.proto".into(),
        deprecated: false,
        fields: fields
            .iter()
            .map(|(n, number, kind, deprecated)| {
                let f = Field {
                    number: *number,
                    label: "optional".into(),
                    kind: kind.to_string(),
                    default: None,
                    deprecated: *deprecated,
                };
                (n.to_string(), f)
            })
            .collect(),
    };
    api.messages.insert("mesos.TaskStatus".into(), status);
    for m in messages {
        api.messages.insert(m.to_string(), Message::default());
    }
    let values = calls
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let v = EnumValue {
                number: i as i32,
                deprecated: false,
            };
            (c.to_string(), v)
        })
        .collect();
    api.enums.insert(
        "mesos.v1.master.Call.Type".into(),
        Enum {
            values,
            ..Enum::default()
        },
    );
    api
}

fn proto_diff(a: &crate::mesos::protos::ProtoApi, b: &crate::mesos::protos::ProtoApi) -> Drift {
    let (from, to) = ("1.4.3".parse().unwrap(), "1.5.2".parse().unwrap());
    let r = Redactor::new();
    diff((&from, &[], &r), (&to, &[], &r), Some((a, b)))
}

#[test]
fn identical_protobuf_apis_report_nothing() {
    let a = proto_api(
        &[("state", 2, "mesos.TaskState", false)],
        &["GET_HEALTH"],
        &[],
    );
    let d = proto_diff(&a, &a);
    assert!(d.is_empty(), "{}", d.markdown());
    assert!(d.markdown().contains("\nNo change.\n"), "{}", d.markdown());
}

#[test]
fn protobuf_changes_are_found_and_classified_against_the_notes() {
    let a = proto_api(
        &[
            ("state", 2, "mesos.TaskState", false),
            ("message", 4, "string", false),
            ("gone", 7, "bytes", false),
        ],
        &["UNKNOWN", "GET_HEALTH"],
        &[],
    );
    let b = proto_api(
        &[
            ("state", 2, "mesos.TaskState", false),
            ("message", 4, "bytes", true),
            ("limitation", 16, "mesos.TaskStatus.Limitation", false),
        ],
        &["UNKNOWN", "GET_HEALTH", "GET_CONTAINERS"],
        &[
            "mesos.TaskStatus.Limitation",
            "mesos.TaskStatus.Limitation.Inner",
        ],
    );
    let d = proto_diff(&a, &b);
    let p = d.protobuf.as_ref().expect("a protobuf section");
    let names = |l: &[Change]| -> Vec<String> { l.iter().map(|c| c.name.clone()).collect() };
    // The nested message that came with its parent is not listed again.
    assert_eq!(
        names(&p.added),
        [
            "mesos.TaskStatus.Limitation",
            "mesos.TaskStatus.limitation",
            "mesos.v1.master.Call.Type.GET_CONTAINERS"
        ]
    );
    assert_eq!(names(&p.changed), ["mesos.TaskStatus.message"]);
    assert_eq!(p.changed[0].from.as_deref(), Some("#4 optional string"));
    assert_eq!(p.changed[0].to.as_deref(), Some("#4 optional bytes"));
    assert_eq!(names(&p.deprecated), ["mesos.TaskStatus.message"]);
    assert_eq!(names(&p.removed), ["mesos.TaskStatus.gone"]);
    // 1.5.x A #1-5-x-task-resource-limitation names `TaskStatus.limitation`; 1.5.x A
    // #1-5-x-get-containers the v1 call GET_CONTAINERS; nothing names the rest.
    let documented = |name: &str| {
        p.all()
            .find(|(_, c)| c.name == name)
            .and_then(|(_, c)| c.documented.clone())
    };
    assert_eq!(
        documented("mesos.TaskStatus.limitation").as_deref(),
        Some("1.5.x A #1-5-x-task-resource-limitation")
    );
    assert_eq!(
        documented("mesos.v1.master.Call.Type.GET_CONTAINERS").as_deref(),
        Some("1.5.x A #1-5-x-get-containers")
    );
    assert_eq!(documented("mesos.TaskStatus.gone"), None);
    let check = |element: &str| {
        d.notes
            .iter()
            .find(|n| n.element == element)
            .unwrap_or_else(|| panic!("{element} in {:?}", d.notes))
    };
    assert!(check("proto TaskStatus.limitation").observed);
    assert!(check("v1 call GET_CONTAINERS").observed);
    let md = d.markdown();
    assert!(
        md.contains("| protobuf API (libmesos) | 3 | 1 | 1 | 1 | 2 | 4 |"),
        "{md}"
    );
    insta::assert_snapshot!(md);
}

#[test]
fn without_the_descriptors_protobuf_notes_say_why_they_are_not_observed() {
    let a = proto_api(&[], &[], &[]);
    let with = proto_diff(&a, &a);
    let from = "1.4.3".parse().unwrap();
    let to = "1.5.2".parse().unwrap();
    let r = Redactor::new();
    let without = diff((&from, &[], &r), (&to, &[], &r), None);
    let why = |d: &Drift| {
        d.notes
            .iter()
            .find(|n| n.element == "proto TaskStatus.limitation")
            .and_then(|n| n.why.clone())
    };
    assert_eq!(
        why(&with).as_deref(),
        Some("absent at both ends: not in the 1.4.3 and 1.5.2 builds")
    );
    assert!(
        why(&without).is_some_and(|w| w.contains("not read")),
        "{without:?}"
    );
}

#[test]
fn protobuf_names_fold_on_dots() {
    let changes: Vec<Change> = ["GET_A", "GET_B", "GET_C"]
        .iter()
        .map(|c| {
            node::change(
                Kind::ProtoValue,
                &format!("mesos.v1.master.Call.Type.{c}"),
                None,
                None,
            )
        })
        .collect();
    let f = fold(&changes);
    assert_eq!(f.len(), 1);
    assert_eq!(
        f[0].pattern,
        "mesos.v1.master.Call.Type.{GET_A,GET_B,GET_C}"
    );
}

fn with_v1(mut n: NodeObservation, calls: &[(&str, u16, Value)]) -> NodeObservation {
    n.probes = calls
        .iter()
        .map(|(call, status, json)| crate::observation::ProbeAnswer {
            name: v1_probe_name(Role::Master, call),
            request: "POST /api/v1".into(),
            snapshot: true,
            answer: Answer {
                status: Some(*status),
                json: Some(json.clone()),
                ..Answer::default()
            },
        })
        .collect();
    n
}

#[test]
fn v1_calls_are_compared_by_status_and_field_paths() {
    let a = with_v1(
        master("1.4.3", &[], &[], json!({}), json!({})),
        &[
            ("GET_HEALTH", 200, json!({"get_health": {"healthy": true}})),
            (
                "GET_AGENTS",
                200,
                json!({"get_agents": {"agents": [{"active": true}]}}),
            ),
            ("GET_TASKS", 200, json!({"get_tasks": {"tasks": []}})),
            ("GET_OLD", 200, json!({})),
            (
                "GET_VERSION",
                200,
                json!({"get_version": {"version_info": {"version": "1.4.3"}}}),
            ),
        ],
    );
    let b = with_v1(
        master("1.5.2", &[], &[], json!({}), json!({})),
        &[
            ("GET_HEALTH", 200, json!({"get_health": {"healthy": true}})),
            (
                "GET_AGENTS",
                200,
                json!({"get_agents": {"agents": [{"active": true, "drain": 1}]}}),
            ),
            (
                "GET_TASKS",
                503,
                json!({"get_tasks": {"tasks": [{"id": "t"}]}}),
            ),
            ("GET_CONTAINERS", 200, json!({"get_containers": {}})),
            (
                "GET_VERSION",
                200,
                json!({"get_version": {"version_info": {"version": "1.5.2", "git_branch": "b"}}}),
            ),
        ],
    );
    let (from, to) = ("1.4.3".parse().unwrap(), "1.5.2".parse().unwrap());
    let r = Redactor::new();
    let d = diff((&from, &[a], &r), (&to, &[b], &r), None);
    let n = &d.nodes[0];
    let show = |l: &[Change]| -> Vec<String> {
        l.iter()
            .map(|c| format!("{} {} {:?} {:?}", c.kind.as_str(), c.name, c.from, c.to))
            .collect()
    };
    assert_eq!(
        show(&n.added),
        [
            "v1 call GET_CONTAINERS None Some(\"200\")",
            "v1 field GET_AGENTS /get_agents/agents/*/drain None None"
        ]
    );
    assert_eq!(
        show(&n.changed),
        ["v1 call GET_TASKS Some(\"200\") Some(\"503\")"]
    );
    assert_eq!(show(&n.removed), ["v1 call GET_OLD Some(\"200\") None"]);
    // The task list was empty at the start: its fields are the workload's, not compared; how
    // the release was built is not the API.
    let not: Vec<&str> = n.not_compared.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(
        not,
        [
            "GET_TASKS /get_tasks/tasks/*",
            "GET_VERSION /get_version/version_info/*"
        ]
    );
    // 1.5.x A #1-5-x-get-containers names the call.
    assert_eq!(
        n.added[0].documented.as_deref(),
        Some("1.5.x A #1-5-x-get-containers")
    );
    assert!(d
        .notes
        .iter()
        .any(|c| c.element == "v1 call GET_CONTAINERS" && c.observed));
    assert_eq!(
        v1_probe_call("v1-agent-get_containers").as_deref(),
        Some("GET_CONTAINERS")
    );
}

#[test]
fn a_message_that_appeared_whole_shows_every_field_a_note_names() {
    let a = proto_api(&[], &[], &[]);
    let b = proto_api(
        &[],
        &[],
        &["mesos.v1.agent.Call.GetContainers", "mesos.v1.agent.Call"],
    );
    let d = proto_diff(&a, &b);
    // `mesos.v1.agent.Call` appeared with `GetContainers` inside it: one line, and 1.5.x A
    // #1-5-x-get-containers names two fields of it.
    let p = d.protobuf.as_ref().unwrap();
    assert_eq!(p.added.len(), 1, "{}", d.markdown());
    for field in ["show_nested", "show_standalone"] {
        let element = format!("proto agent.Call.GetContainers.{field}");
        assert!(
            d.notes.iter().any(|n| n.element == element && n.observed),
            "{element}: {}",
            d.markdown()
        );
    }
}
