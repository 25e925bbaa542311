//! The protobuf API a build carries. Protobuf registers every compiled `.proto` file at load
//! time from its serialized `FileDescriptorProto`, so each `libmesos.so` holds them all
//! (`/work/shared/mesos-facts.md`, "The protobuf API inside libmesos"). They are found by
//! their first field (the file name), cut where their top-level fields end, and decoded with
//! `prost-types`: no Mesos source is needed, and each version's API (messages, fields, enums,
//! the v1 operator calls) comes from its own binary.
//!
//! The drift report compares two of them (`crate::drift::protos`); the v1 calls to probe are
//! read from here too ([`read_only_calls`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use prost::Message as _;
use prost_types::{DescriptorProto, EnumDescriptorProto, FileDescriptorProto};
use serde::{Deserialize, Serialize};

use crate::domain::Role;

/// Version of what [`ProtoApi`] holds: bump it when extraction changes, so that cached
/// extractions of older harnesses are not compared with newer ones.
pub const EXTRACT_FORMAT: u32 = 1;

/// Where the public API's files are.
pub const PUBLIC: &str = "mesos/";

/// The protobuf API of one build: every message (nested ones included) and enum, by full
/// name without the leading dot (`mesos.v1.master.Call`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtoApi {
    /// The `.proto` files (`mesos/v1/master/master.proto`).
    pub files: BTreeSet<String>,
    /// Messages by full name.
    pub messages: BTreeMap<String, Message>,
    /// Enums by full name (`mesos.TaskState`, `mesos.v1.master.Call.Type`).
    pub enums: BTreeMap<String, Enum>,
}

/// One message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The file that declares it.
    pub file: String,
    /// Whether its options mark it deprecated.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deprecated: bool,
    /// Its fields by name.
    pub fields: BTreeMap<String, Field>,
}

/// One field of a message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// Its number on the wire.
    pub number: i32,
    /// `optional`, `required` or `repeated`.
    pub label: String,
    /// A scalar type (`string`, `uint64`) or the full name of a message or enum.
    pub kind: String,
    /// Its declared default, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Whether its options mark it deprecated.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deprecated: bool,
}

/// One enum.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enum {
    /// The file that declares it.
    pub file: String,
    /// Whether its options mark it deprecated.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deprecated: bool,
    /// Its values by name.
    pub values: BTreeMap<String, EnumValue>,
}

/// One value of an enum.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnumValue {
    /// Its number.
    pub number: i32,
    /// Whether its options mark it deprecated.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deprecated: bool,
}

/// How big an API is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// `.proto` files.
    pub files: usize,
    /// Messages, nested ones included.
    pub messages: usize,
    /// Fields of all messages.
    pub fields: usize,
    /// Enums, nested ones included.
    pub enums: usize,
    /// Values of all enums.
    pub enum_values: usize,
}

impl ProtoApi {
    /// How many files, messages, fields, enums and enum values it has.
    pub fn counts(&self) -> Counts {
        Counts {
            files: self.files.len(),
            messages: self.messages.len(),
            fields: self.messages.values().map(|m| m.fields.len()).sum(),
            enums: self.enums.len(),
            enum_values: self.enums.values().map(|e| e.values.len()).sum(),
        }
    }
}

/// The serialized file descriptors in a binary, each once (the longest copy of a name wins).
pub fn descriptors(bytes: &[u8]) -> Vec<FileDescriptorProto> {
    let mut found: BTreeMap<String, (usize, FileDescriptorProto)> = BTreeMap::new();
    let mut i = 0;
    while let Some(off) = bytes[i..].iter().position(|&b| b == 0x0a) {
        let start = i + off;
        i = start + 1;
        let Some(name) = file_name_at(bytes, start) else {
            continue;
        };
        let end = descriptor_end(bytes, start);
        // A name alone is a string that looks like one, not a descriptor.
        if end <= start + 2 + name.len() {
            continue;
        }
        let Ok(file) = FileDescriptorProto::decode(&bytes[start..end]) else {
            continue;
        };
        if file.name() != name {
            continue;
        }
        let len = end - start;
        if found.get(name).is_none_or(|(l, _)| *l < len) {
            found.insert(name.to_string(), (len, file));
        }
    }
    found.into_values().map(|(_, f)| f).collect()
}

/// The file name of a descriptor starting at `at` (tag of field 1, a one-byte length, a
/// printable name ending in `.proto`), if one starts there.
fn file_name_at(bytes: &[u8], at: usize) -> Option<&str> {
    let len = *bytes.get(at + 1)? as usize;
    if !(7..128).contains(&len) {
        return None;
    }
    let name = bytes.get(at + 2..at + 2 + len)?;
    if !name.ends_with(b".proto") || !name.iter().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    std::str::from_utf8(name).ok()
}

/// Where the descriptor starting at `start` ends: after the last top-level field of a
/// `FileDescriptorProto` (numbers 1-14, wire types 0 and 2, in ascending order as protobuf
/// writes them; a second field 1 is the next file).
fn descriptor_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start;
    let mut last = 0;
    loop {
        let Some((tag, n)) = varint(&bytes[i..]) else {
            return i;
        };
        let (number, wire) = (tag >> 3, tag & 7);
        if !(1..=14).contains(&number) || number < last || (number == last && number == 1) {
            return i;
        }
        let body = i + n;
        let next = match wire {
            0 => varint(&bytes[body..]).map(|(_, m)| body + m),
            2 => varint(&bytes[body..]).and_then(|(len, m)| {
                let end = (body + m).checked_add(usize::try_from(len).ok()?)?;
                (end <= bytes.len()).then_some(end)
            }),
            _ => None,
        };
        match next {
            Some(next) => {
                last = number;
                i = next;
            }
            None => return i,
        }
    }
}

fn varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, b) in bytes.iter().take(10).enumerate() {
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

/// The public API the descriptors declare: the files under `mesos/` (what Mesos installs as
/// `include/mesos/`: the framework, operator and module APIs, unversioned and v1). The others
/// are the processes' own wire messages (`messages/`, `master/registry.proto`, `slave/...`)
/// and protobuf's `google/protobuf/descriptor.proto`: not an API anyone programs against.
pub fn api(files: &[FileDescriptorProto]) -> ProtoApi {
    let mut out = ProtoApi::default();
    for f in files.iter().filter(|f| f.name().starts_with(PUBLIC)) {
        out.files.insert(f.name().to_string());
        let scope = f.package().to_string();
        for m in &f.message_type {
            message(f.name(), &scope, m, &mut out);
        }
        for e in &f.enum_type {
            enumeration(f.name(), &scope, e, &mut out);
        }
    }
    out
}

fn full(scope: &str, name: &str) -> String {
    if scope.is_empty() {
        name.to_string()
    } else {
        format!("{scope}.{name}")
    }
}

fn message(file: &str, scope: &str, m: &DescriptorProto, out: &mut ProtoApi) {
    let name = full(scope, m.name());
    let fields = m
        .field
        .iter()
        .map(|f| {
            let kind = match f.type_name() {
                "" => f
                    .r#type()
                    .as_str_name()
                    .trim_start_matches("TYPE_")
                    .to_ascii_lowercase(),
                t => t.trim_start_matches('.').to_string(),
            };
            let field = Field {
                number: f.number(),
                label: f
                    .label()
                    .as_str_name()
                    .trim_start_matches("LABEL_")
                    .to_ascii_lowercase(),
                kind,
                default: f.default_value.clone(),
                deprecated: f.options.as_ref().is_some_and(|o| o.deprecated()),
            };
            (f.name().to_string(), field)
        })
        .collect();
    for nested in &m.nested_type {
        message(file, &name, nested, out);
    }
    for e in &m.enum_type {
        enumeration(file, &name, e, out);
    }
    out.messages.insert(
        name,
        Message {
            file: file.to_string(),
            deprecated: m.options.as_ref().is_some_and(|o| o.deprecated()),
            fields,
        },
    );
}

fn enumeration(file: &str, scope: &str, e: &EnumDescriptorProto, out: &mut ProtoApi) {
    let values = e
        .value
        .iter()
        .map(|v| {
            let value = EnumValue {
                number: v.number(),
                deprecated: v.options.as_ref().is_some_and(|o| o.deprecated()),
            };
            (v.name().to_string(), value)
        })
        .collect();
    out.enums.insert(
        full(scope, e.name()),
        Enum {
            file: file.to_string(),
            deprecated: e.options.as_ref().is_some_and(|o| o.deprecated()),
            values,
        },
    );
}

/// The enum of the v1 operator API's call types on a node of `role` (ZooKeeper has none).
pub fn call_enum(role: Role) -> Option<&'static str> {
    match role {
        Role::Master => Some("mesos.v1.master.Call.Type"),
        Role::Agent => Some("mesos.v1.agent.Call.Type"),
        Role::ZooKeeper => None,
    }
}

/// The v1 operator calls that only read (`GET_*`) a version knows on a node of `role`, in
/// the order of their numbers, from that version's own descriptors.
pub fn read_only_calls(api: &ProtoApi, role: Role) -> Vec<String> {
    let mut calls: Vec<(i32, &String)> = api
        .enums
        .get(call_enum(role).unwrap_or_default())
        .into_iter()
        .flat_map(|e| e.values.iter())
        .filter(|(name, _)| name.starts_with("GET_"))
        .map(|(name, v)| (v.number, name))
        .collect();
    calls.sort();
    calls.into_iter().map(|(_, n)| n.clone()).collect()
}

/// The JSON body of the v1 call `call` on a node of `role`: `{"type": "GET_FLAGS"}`, with an
/// empty `"get_metrics": {}` when the version's `Call` message has a field for the call's
/// parameters (a call whose parameters are all optional still needs the message: 1.8
/// answers `GET_METRICS` without it with 400 "Expecting 'get_metrics' to be present").
pub fn call_body(api: &ProtoApi, role: Role, call: &str) -> String {
    let field = call.to_ascii_lowercase();
    let message = call_enum(role).and_then(|e| e.strip_suffix(".Type"));
    let has = message
        .and_then(|m| api.messages.get(m))
        .is_some_and(|m| m.fields.contains_key(&field));
    if has {
        format!("{{\"type\": \"{call}\", \"{field}\": {{}}}}")
    } else {
        format!("{{\"type\": \"{call}\"}}")
    }
}

/// `libmesos.so` of a build's root filesystem (`<rootfs>/opt/mesos/<version>/libmesos.so`).
pub fn libmesos(rootfs: &Path, launcher_dir_in_image: &str) -> PathBuf {
    rootfs
        .join(launcher_dir_in_image.trim_start_matches('/'))
        .join("libmesos.so")
}

/// The API in a `libmesos.so`.
pub fn read(libmesos: &Path) -> Result<ProtoApi, String> {
    let bytes =
        std::fs::read(libmesos).map_err(|e| format!("reading {}: {e}", libmesos.display()))?;
    let files = descriptors(&bytes);
    if files.is_empty() {
        return Err(format!(
            "{}: no serialized .proto descriptor found",
            libmesos.display()
        ));
    }
    Ok(api(&files))
}

/// The API in a `libmesos.so`, cached in `cache` (a JSON file named for the build's hash and
/// [`EXTRACT_FORMAT`]): reading a 40 MB library once per build is enough.
pub fn read_cached(libmesos: &Path, cache: &Path) -> Result<ProtoApi, String> {
    if let Ok(bytes) = std::fs::read(cache) {
        if let Ok(api) = serde_json::from_slice::<ProtoApi>(&bytes) {
            return Ok(api);
        }
    }
    let api = read(libmesos)?;
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(cache.parent().unwrap_or(Path::new(".")))?;
        let tmp = cache.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, serde_json::to_vec(&api).unwrap_or_default())?;
        std::fs::rename(&tmp, cache)
    };
    write().map_err(|e| format!("caching {}: {e}", cache.display()))?;
    Ok(api)
}

#[cfg(test)]
mod tests;

/// The public protobuf API of the project's build of `version`, read from its `libmesos.so`
/// once and cached per build hash in `<cache>/protos/`.
pub fn of_build(version: &str, opts: &crate::images::BuildOptions) -> Result<ProtoApi, String> {
    let build = crate::images::build_version(version, opts).map_err(|e| e.to_string())?;
    let cache = opts.cache_dir.join("protos").join(format!(
        "{version}-{}-extract{}.json",
        &build.hash[..16],
        EXTRACT_FORMAT
    ));
    let lib = libmesos(&build.rootfs, &build.launcher_dir_in_image);
    read_cached(&lib, &cache).map_err(|e| format!("the protobuf API of {version}: {e}"))
}
