use prost::Message as _;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{
    DescriptorProto, EnumDescriptorProto, EnumValueDescriptorProto, EnumValueOptions,
    FieldDescriptorProto, FieldOptions, FileDescriptorProto,
};

use super::*;

fn field(name: &str, number: i32, ty: Type, type_name: Option<&str>) -> FieldDescriptorProto {
    FieldDescriptorProto {
        name: Some(name.into()),
        number: Some(number),
        label: Some(Label::Optional as i32),
        r#type: Some(ty as i32),
        type_name: type_name.map(str::to_string),
        ..Default::default()
    }
}

fn value(name: &str, number: i32) -> EnumValueDescriptorProto {
    EnumValueDescriptorProto {
        name: Some(name.into()),
        number: Some(number),
        ..Default::default()
    }
}

/// A small `mesos/v1/master/master.proto`: a `Call` with a nested `Type` enum, and a
/// deprecated field with a default.
fn master_proto() -> FileDescriptorProto {
    let mut deprecated = field("limit", 3, Type::Uint32, None);
    deprecated.default_value = Some("10".into());
    deprecated.options = Some(FieldOptions {
        deprecated: Some(true),
        ..Default::default()
    });
    FileDescriptorProto {
        name: Some("mesos/v1/master/master.proto".into()),
        package: Some("mesos.v1.master".into()),
        dependency: vec!["mesos/v1/mesos.proto".into()],
        message_type: vec![DescriptorProto {
            name: Some("Call".into()),
            field: vec![
                field("type", 1, Type::Enum, Some(".mesos.v1.master.Call.Type")),
                field(
                    "get_metrics",
                    2,
                    Type::Message,
                    Some(".mesos.v1.master.Call.GetMetrics"),
                ),
                deprecated,
            ],
            nested_type: vec![DescriptorProto {
                name: Some("GetMetrics".into()),
                field: vec![field(
                    "timeout",
                    1,
                    Type::Message,
                    Some(".mesos.v1.DurationInfo"),
                )],
                ..Default::default()
            }],
            enum_type: vec![EnumDescriptorProto {
                name: Some("Type".into()),
                value: vec![
                    value("UNKNOWN", 0),
                    value("GET_HEALTH", 1),
                    value("TEARDOWN", 3),
                    value("GET_FLAGS", 2),
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
        syntax: Some("proto2".into()),
        ..Default::default()
    }
}

fn agent_proto() -> FileDescriptorProto {
    let mut gone = value("GET_STATE", 2);
    gone.options = Some(EnumValueOptions {
        deprecated: Some(true),
        ..Default::default()
    });
    FileDescriptorProto {
        name: Some("mesos/v1/agent/agent.proto".into()),
        package: Some("mesos.v1.agent".into()),
        message_type: vec![DescriptorProto {
            name: Some("Call".into()),
            enum_type: vec![EnumDescriptorProto {
                name: Some("Type".into()),
                value: vec![value("UNKNOWN", 0), value("GET_HEALTH", 1), gone],
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// Two descriptors as a linker lays them out: among other bytes, one right after the other,
/// a stray `0x0a` and a file name that is no descriptor in between.
fn binary() -> Vec<u8> {
    let mut b = vec![0u8, 1, 2, 0x0a, 0x05, b'h', b'e', b'l', b'l', b'o', 0, 0];
    b.extend(master_proto().encode_to_vec());
    b.extend(agent_proto().encode_to_vec());
    b.extend([0u8, 0x0a, 9]);
    b.extend(b"x/y.proto\xff\xff\xff");
    b.extend([0u8; 8]);
    b
}

#[test]
fn descriptors_are_found_cut_and_decoded_from_the_bytes_of_a_binary() {
    let files = descriptors(&binary());
    let names: Vec<&str> = files.iter().map(|f| f.name()).collect();
    assert_eq!(
        names,
        ["mesos/v1/agent/agent.proto", "mesos/v1/master/master.proto"]
    );
    // Each decoded exactly as written: the neighbour was not read into it.
    assert_eq!(files[1], master_proto());
    assert_eq!(files[0], agent_proto());
}

#[test]
fn the_api_holds_nested_messages_and_enums_with_every_field_attribute() {
    let api = api(&descriptors(&binary()));
    let c = api.counts();
    assert_eq!(
        (c.files, c.messages, c.fields, c.enums, c.enum_values),
        (2, 3, 4, 2, 7)
    );
    let call = &api.messages["mesos.v1.master.Call"];
    assert_eq!(call.file, "mesos/v1/master/master.proto");
    assert_eq!(
        call.fields["limit"],
        Field {
            number: 3,
            label: "optional".into(),
            kind: "uint32".into(),
            default: Some("10".into()),
            deprecated: true,
        }
    );
    assert_eq!(call.fields["type"].kind, "mesos.v1.master.Call.Type");
    assert!(api.messages.contains_key("mesos.v1.master.Call.GetMetrics"));
    assert!(
        api.enums["mesos.v1.agent.Call.Type"].values["GET_STATE"].deprecated,
        "enum value options are read"
    );
}

#[test]
fn the_read_only_calls_come_from_the_call_type_enum_in_number_order() {
    let api = api(&descriptors(&binary()));
    assert_eq!(
        read_only_calls(&api, Role::Master),
        ["GET_HEALTH", "GET_FLAGS"]
    );
    assert_eq!(
        read_only_calls(&api, Role::Agent),
        ["GET_HEALTH", "GET_STATE"]
    );
}

#[test]
fn a_call_body_carries_its_parameters_message_when_the_call_has_one() {
    let api = api(&descriptors(&binary()));
    assert_eq!(
        call_body(&api, Role::Master, "GET_METRICS"),
        r#"{"type": "GET_METRICS", "get_metrics": {}}"#
    );
    assert_eq!(
        call_body(&api, Role::Master, "GET_HEALTH"),
        r#"{"type": "GET_HEALTH"}"#
    );
}

#[test]
fn an_extraction_is_cached_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("libmesos.so");
    std::fs::write(&lib, binary()).unwrap();
    let cache = dir.path().join("cache/protos.json");
    let first = read_cached(&lib, &cache).unwrap();
    assert!(cache.is_file());
    // The cache answers without the library.
    std::fs::remove_file(&lib).unwrap();
    assert_eq!(read_cached(&lib, &cache).unwrap(), first);
    let err = read(&dir.path().join("cache/protos.json")).unwrap_err();
    assert!(err.contains("no serialized .proto descriptor"), "{err}");
}

/// The measured facts (`/work/shared/mesos-facts.md`): files, messages, fields of 1.4.3,
/// 1.7.3, 1.8.0 and 1.11.0, on the cached builds.
#[test]
fn the_counts_of_the_real_builds_match_the_measured_facts() {
    let opts = crate::images::BuildOptions::default();
    let facts = [
        ("1.4.3", (32, 626, 2153)),
        ("1.7.3", (33, 737, 2515)),
        ("1.8.0", (35, 768, 2588)),
        ("1.11.0", (34, 836, 2781)),
    ];
    let mut ran = 0;
    for (version, expected) in facts {
        let Some(build) = crate::images::cached_build(version, &opts) else {
            crate::images::test_skip::skip(&format!(
                "no cached build of {version} in {}",
                opts.cache_dir.display()
            ));
            continue;
        };
        let api = read(&libmesos(&build.rootfs, &build.launcher_dir_in_image)).unwrap();
        let c = api.counts();
        assert_eq!((c.files, c.messages, c.fields), expected, "{version}");
        let calls = read_only_calls(&api, Role::Master);
        assert!(
            calls.contains(&"GET_HEALTH".to_string()),
            "{version}: {calls:?}"
        );
        assert!(!read_only_calls(&api, Role::Agent).is_empty(), "{version}");
        ran += 1;
    }
    eprintln!("{ran} builds read");
}
