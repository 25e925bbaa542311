//! Normalization of what the harness observes, so that two runs of the same scenario give
//! the same bytes: every value that differs between runs becomes a named placeholder.
//!
//! The one module that owns redaction (docs/snapshots.md lists the placeholders). Checks
//! never see its output: they judge the raw answers they fetch themselves.
//!
//! | what | placeholder |
//! |---|---|
//! | agent ID of a known node | `[agent-id:agent-1]` |
//! | framework ID | `[framework-id:<framework name>]` |
//! | master ID | `[master-id:master-1]` |
//! | any other UUID | `[uuid]` |
//! | node address | `[ip:master-1]`; unknown addresses `[ip]` |
//! | ports other than 5050/5051 after an address | `[port]` |
//! | container hostnames (`uh-<run>-agent-1.uh-<run>`) | the node name (`agent-1`) |
//! | run id | `[run-id]` |
//! | `*_time`, `timestamp`, `*_timestamp` numbers, date-times in text | `[timestamp]` |
//! | `uptime*` values | `[uptime]` |
//! | numeric `pid` | `[pid]` |
//! | `build_date`, `build_time` | `[build-date]`, `[build-time]` |
//! | `git_sha`, 40-hex strings | `[git-sha]` |
//! | versions (only when asked: [`Redactor::redact_versions`]) | `[version]` |
//! | amounts and ranges under `used_resources`, `offered_resources`, `*_allocated`, and a framework's `resources` | `[amount]` |
//! | `offers`, `inverse_offers` (depend on allocation timing) | `[offers]` |
//! | `ports` inside those allocation maps (listed only while an offer holds them) | dropped |
//! | an agent's own `reserved_resources*` maps (it learns reservations late; the master's stay) | `{}` |
//! | a framework's `reregistered_time` (depends on when the scheduler re-subscribes) | left out |
//!
//! Object keys come out sorted; arrays of objects are sorted by a stable key (`id`, `name`,
//! `hostname`, `role`, then the whole element), since Mesos emits them in hash-map order.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// Ports that are part of the cluster's configuration and stay as they are.
const STABLE_PORTS: [&str; 2] = ["5050", "5051"];

/// Keys of a framework (an object with `failover_timeout`) left out: whether the scheduler
/// has re-subscribed to a restarted master when a phase is probed depends on timing.
const TIMING_KEYS_OF_FRAMEWORKS: [&str; 1] = ["reregistered_time"];

/// Keys whose array-of-object elements are labelled by (in this order) in sorts and paths.
const LABEL_KEYS: [&str; 5] = ["id", "name", "hostname", "role", "key"];

/// Normalizes bodies, metric names and text of one run.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Literal -> placeholder, applied longest literal first.
    literals: BTreeMap<String, String>,
    /// Node address -> node name.
    ips: BTreeMap<String, String>,
    /// Replace version strings (`version`, `git_tag` fields) with `[version]`.
    pub redact_versions: bool,
}

impl Redactor {
    /// A redactor that knows no node yet (generic patterns only).
    pub fn new() -> Redactor {
        Redactor::default()
    }

    /// The node `name` has address `ip`.
    pub fn node(&mut self, name: &str, ip: &str) {
        if !ip.is_empty() {
            self.ips.insert(ip.to_string(), name.to_string());
        }
    }

    /// The run's id: container hostnames `uh-<id>-<node>[.uh-<id>]` become node names.
    pub fn run_id(&mut self, id: &str) {
        if id.is_empty() {
            return;
        }
        for node in self.ips.values().cloned().collect::<Vec<_>>() {
            self.literal(&format!("uh-{id}-{node}.uh-{id}"), &node);
            self.literal(&format!("uh-{id}-{node}"), &node);
        }
        self.literal(&format!("uh-{id}"), "[run-id]");
        self.literal(id, "[run-id]");
    }

    /// An agent ID seen on `node`.
    pub fn agent_id(&mut self, id: &str, node: &str) {
        self.literal(id, &format!("[agent-id:{node}]"));
    }

    /// A framework ID of the framework called `name`.
    pub fn framework_id(&mut self, id: &str, name: &str) {
        let name = if name.is_empty() { "unnamed" } else { name };
        self.literal(id, &format!("[framework-id:{name}]"));
    }

    /// The ID a master process chose (a new one at every start).
    pub fn master_id(&mut self, id: &str, node: &str) {
        self.literal(id, &format!("[master-id:{node}]"));
    }

    /// IDs shorter than this are not replaced as literals: Mesos IDs are UUID-based, and a
    /// short one (`a`, test data) would match inside ordinary words.
    const MIN_ID: usize = 8;

    fn literal(&mut self, from: &str, to: &str) {
        if from.len() >= Self::MIN_ID || from.starts_with("uh-") {
            self.literals
                .entry(from.to_string())
                .or_insert_with(|| to.to_string());
        }
    }

    /// Learns the IDs in a master's `/master/state`: its own ID, agents (by hostname, which
    /// is the node name), frameworks (by name).
    pub fn learn_master_state(&mut self, node: &str, state: &Value) {
        if let Some(id) = state.get("id").and_then(Value::as_str) {
            self.master_id(id, node);
        }
        for key in ["slaves", "recovered_slaves", "unreachable_slaves"] {
            for agent in state
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let (Some(id), Some(host)) = (
                    agent.get("id").and_then(Value::as_str),
                    agent.get("hostname").and_then(Value::as_str),
                ) {
                    let host = self.text(host);
                    self.agent_id(id, &host);
                }
            }
        }
        for key in ["frameworks", "completed_frameworks"] {
            for fw in state
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(id) = fw.get("id").and_then(Value::as_str) {
                    let name = fw.get("name").and_then(Value::as_str).unwrap_or_default();
                    self.framework_id(id, name);
                }
            }
        }
    }

    /// Learns the IDs in an agent's `/slave(1)/state`.
    pub fn learn_agent_state(&mut self, node: &str, state: &Value) {
        if let Some(id) = state.get("id").and_then(Value::as_str) {
            self.agent_id(id, node);
        }
        for key in ["frameworks", "completed_frameworks"] {
            for fw in state
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(id) = fw.get("id").and_then(Value::as_str) {
                    let name = fw.get("name").and_then(Value::as_str).unwrap_or_default();
                    self.framework_id(id, name);
                }
            }
        }
    }

    /// Normalizes a string: known literals, UUIDs, addresses and ports, date-times, git SHAs.
    pub fn text(&self, s: &str) -> String {
        let mut out = s.to_string();
        let mut literals: Vec<(&String, &String)> = self.literals.iter().collect();
        literals.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(b.0)));
        for (from, to) in literals {
            if out.contains(from.as_str()) {
                out = out.replace(from.as_str(), to);
            }
        }
        let out = replace_uuids(&out);
        let out = self.replace_addresses(&out);
        let out = replace_datetimes(&out);
        replace_hex40(&out)
    }

    /// Normalizes a JSON document (see the module table).
    pub fn value(&self, v: &Value) -> Value {
        self.walk(None, v, false)
    }

    fn walk(&self, key: Option<&str>, v: &Value, in_amounts: bool) -> Value {
        if let Some(k) = key {
            if let Some(p) = self.by_key(k, v) {
                return Value::String(p.to_string());
            }
        }
        match v {
            Value::Number(_) | Value::String(_) if in_amounts => {
                Value::String("[amount]".to_string())
            }
            Value::String(s) => Value::String(self.text(s)),
            Value::Object(map) => {
                let amounts = in_amounts || key.is_some_and(is_amount_key);
                // A framework's `resources` are what it was allocated: used plus offered.
                let framework = map.contains_key("failover_timeout");
                let agent_root = map.contains_key("master_hostname");
                let mut entries: Vec<(String, Value)> = map
                    .iter()
                    .filter(|(k, _)| {
                        !(framework && TIMING_KEYS_OF_FRAMEWORKS.contains(&k.as_str()))
                    })
                    // A `ports` range shows in allocation maps only while an offer holding
                    // it is outstanding (cpus, mem, disk, gpus are always listed): timing.
                    .filter(|(k, _)| !(amounts && k.as_str() == "ports"))
                    .map(|(k, v)| {
                        // An agent hears of reservations made on the master asynchronously,
                        // so its own maps fill a phase early or late: they are emptied here
                        // (the master's `slaves/*/reserved_resources` keep them).
                        if agent_root && k.starts_with("reserved_resources") && v.is_object() {
                            return (self.text(k), Value::Object(Map::new()));
                        }
                        let alloc = framework && (k == "resources" || k == "resources_full");
                        (self.text(k), self.walk(Some(k), v, amounts || alloc))
                    })
                    .collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                let mut out = Map::new();
                for (k, v) in entries {
                    out.insert(k, v);
                }
                Value::Object(out)
            }
            Value::Array(items) => {
                let amounts = in_amounts || key.is_some_and(is_amount_key);
                let mut items: Vec<Value> =
                    items.iter().map(|i| self.walk(None, i, amounts)).collect();
                if items.iter().all(Value::is_object) {
                    items.sort_by_cached_key(|i| (label(i).unwrap_or_default(), i.to_string()));
                }
                Value::Array(items)
            }
            other => other.clone(),
        }
    }

    /// A placeholder decided by the key alone, if any.
    fn by_key(&self, key: &str, v: &Value) -> Option<&'static str> {
        let scalar = !v.is_object() && !v.is_array() && !v.is_null();
        match key {
            "build_date" if scalar => Some("[build-date]"),
            "build_time" if scalar => Some("[build-time]"),
            "git_sha" if scalar => Some("[git-sha]"),
            "version" | "git_tag" if scalar && self.redact_versions && v.is_string() => {
                Some("[version]")
            }
            "pid" if v.is_number() => Some("[pid]"),
            "offers" | "inverse_offers" if v.is_array() => Some("[offers]"),
            k if scalar && k.contains("uptime") => Some("[uptime]"),
            k if v.is_number()
                && (k == "timestamp" || k.ends_with("_time") || k.ends_with("_timestamp")) =>
            {
                Some("[timestamp]")
            }
            _ => None,
        }
    }

    fn replace_addresses(&self, s: &str) -> String {
        let b = s.as_bytes();
        let mut out = String::with_capacity(s.len());
        let mut i = 0;
        while i < b.len() {
            let boundary = i == 0 || !(b[i - 1].is_ascii_digit() || b[i - 1] == b'.');
            if boundary && b[i].is_ascii_digit() {
                if let Some(end) = ipv4_end(b, i) {
                    let ip = &s[i..end];
                    match self.ips.get(ip) {
                        Some(node) => out.push_str(&format!("[ip:{node}]")),
                        None => out.push_str("[ip]"),
                    }
                    i = end;
                    if i < b.len() && b[i] == b':' {
                        let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
                        if digits > 0 {
                            let port = &s[i + 1..i + 1 + digits];
                            out.push(':');
                            if STABLE_PORTS.contains(&port) {
                                out.push_str(port);
                            } else {
                                out.push_str("[port]");
                            }
                            i += 1 + digits;
                        }
                    }
                    continue;
                }
            }
            let ch = s[i..].chars().next().expect("in bounds");
            out.push(ch);
            i += ch.len_utf8();
        }
        out
    }
}

/// A value the harness sets itself with the node's version in it (`--launcher_dir
/// /opt/mesos/1.8.1`) with that version as `[version]`: two versions given the same flags by
/// the harness then compare equal, and only a changed default stays a change.
pub fn harness_version(text: &str, version: &str) -> String {
    let needle = format!("/{version}");
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(&needle) {
        let end = i + needle.len();
        let bounded = rest[end..]
            .chars()
            .next()
            .is_none_or(|c| c == '/' || c == ':' || c == ',' || c.is_whitespace());
        out.push_str(&rest[..i]);
        out.push_str(if bounded { "/[version]" } else { &needle });
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Keys under which numbers are amounts that depend on allocation timing.
fn is_amount_key(key: &str) -> bool {
    matches!(
        key,
        "used_resources" | "offered_resources" | "allocated_resources"
    ) || key.ends_with("_allocated")
        || key.starts_with("used_resources")
        || key.starts_with("offered_resources")
}

/// The label of an array element: its first string among `id`, `name`, `hostname`, `role`, `key`.
pub fn label(v: &Value) -> Option<String> {
    LABEL_KEYS
        .iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str).map(str::to_string))
}

/// End of a dotted IPv4 address starting at `i`, if there is one.
fn ipv4_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    for part in 0..4 {
        let digits = b[j..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 || digits > 3 {
            return None;
        }
        j += digits;
        if part < 3 {
            if j >= b.len() || b[j] != b'.' {
                return None;
            }
            j += 1;
        }
    }
    // "1.2.3.4.5" or "1.2.3.45a" are not addresses.
    if j < b.len()
        && (b[j].is_ascii_alphanumeric()
            || (b[j] == b'.' && b.get(j + 1).is_some_and(u8::is_ascii_digit)))
    {
        return None;
    }
    Some(j)
}

fn is_hex(c: u8) -> bool {
    c.is_ascii_digit() || (b'a'..=b'f').contains(&c.to_ascii_lowercase())
}

/// `8-4-4-4-12` hex groups -> `[uuid]`.
fn replace_uuids(s: &str) -> String {
    const GROUPS: [usize; 5] = [8, 4, 4, 4, 12];
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    'outer: while i < b.len() {
        let boundary = i == 0 || !is_hex(b[i - 1]);
        if boundary && is_hex(b[i]) {
            let mut j = i;
            let mut ok = true;
            for (n, len) in GROUPS.iter().enumerate() {
                if j + len > b.len() || !b[j..j + len].iter().all(|c| is_hex(*c)) {
                    ok = false;
                    break;
                }
                j += len;
                if n < 4 {
                    if j >= b.len() || b[j] != b'-' {
                        ok = false;
                        break;
                    }
                    j += 1;
                }
            }
            if ok && (j == b.len() || !is_hex(b[j])) {
                out.push_str("[uuid]");
                i = j;
                continue 'outer;
            }
        }
        let ch = s[i..].chars().next().expect("in bounds");
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// `YYYY-MM-DD[ T]HH:MM:SS[.frac]` -> `[timestamp]`.
fn replace_datetimes(s: &str) -> String {
    const SHAPE: &[u8] = b"dddd-dd-ddxdd:dd:dd";
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if i + SHAPE.len() <= b.len()
            && SHAPE.iter().zip(&b[i..]).all(|(p, c)| match p {
                b'd' => c.is_ascii_digit(),
                b'x' => *c == b' ' || *c == b'T',
                p => p == c,
            })
        {
            let mut j = i + SHAPE.len();
            if j < b.len() && b[j] == b'.' {
                j += 1 + b[j + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            }
            out.push_str("[timestamp]");
            i = j;
            continue;
        }
        let ch = s[i..].chars().next().expect("in bounds");
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// Exactly 40 hex digits (a git SHA) -> `[git-sha]`.
fn replace_hex40(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if (i == 0 || !b[i - 1].is_ascii_alphanumeric()) && is_hex(b[i]) {
            let n = b[i..].iter().take_while(|c| is_hex(**c)).count();
            let after = b.get(i + n);
            if n == 40 && !after.is_some_and(u8::is_ascii_alphanumeric) {
                out.push_str("[git-sha]");
                i += n;
                continue;
            }
        }
        let ch = s[i..].chars().next().expect("in bounds");
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Recorded from a real 1.11.0 master (run of still-1x, 1.4.3 agents), trimmed.
    const MASTER_STATE: &str = r#"{
      "version": "1.11.0", "git_sha": "04bc7ee1984d86fbb0bd782ccc69ce44c13ae4b9", "git_tag": "1.11.0",
      "build_date": "2020-11-24 15:38:37", "build_time": 1606232317.0, "build_user": "ubuntu",
      "start_time": 1795681033.712558, "elected_time": 1795681033.714685,
      "id": "c3124e26-9038-43ff-a35b-a2e821691eb9", "pid": "master@172.30.9.2:5050", "hostname": "master-1",
      "capabilities": ["AGENT_UPDATE", "AGENT_DRAINING", "QUOTA_V2"],
      "leader_info": {"id": "c3124e26-9038-43ff-a35b-a2e821691eb9", "pid": "master@172.30.9.2:5050", "port": 5050, "hostname": "master-1"},
      "slaves": [],
      "recovered_slaves": [
        {"id": "bc1869c7-a758-4c7b-a7ad-c073517efc20-S1", "hostname": "agent-2", "port": 5051, "attributes": {}},
        {"id": "bc1869c7-a758-4c7b-a7ad-c073517efc20-S0", "hostname": "agent-1", "port": 5051, "attributes": {}}
      ],
      "frameworks": [{
        "id": "bc1869c7-a758-4c7b-a7ad-c073517efc20-0000", "name": "upgrade-harness",
        "used_resources": {"disk": 0.0, "mem": 0.0, "gpus": 0.0, "cpus": 0.0},
        "offered_resources": {"disk": 10.0, "mem": 512.0, "gpus": 0.0, "cpus": 1.5},
        "offers": [{"id": "bc1869c7-a758-4c7b-a7ad-c073517efc20-O3"}],
        "registered_time": 1795681031.1, "unregistered_time": 0.0, "reregistered_time": 1795681032.0,
        "failover_timeout": 3600.0, "resources": {"cpus": 1.5, "ports": "[31000-31999]"},
        "pid": "scheduler-5d2d6b7e-8a7c-4c39-9d3e-0b4e8a3f1a22@172.30.9.1:39421"
      }]
    }"#;

    const AGENT_STATE: &str = r#"{
      "version": "1.4.3", "start_time": 1795681029.85043,
      "id": "bc1869c7-a758-4c7b-a7ad-c073517efc20-S0", "pid": "slave(1)@172.30.9.3:5051", "hostname": "agent-1",
      "resources": {"disk": 2048.0, "mem": 1024.0, "gpus": 0.0, "cpus": 2.0, "ports": "[31000-32000]"},
      "unreserved_resources_allocated": {"disk": 0.0, "mem": 0.0, "gpus": 0.0, "cpus": 0.5},
      "master_hostname": "uh-6b07eb03af15-master-1.uh-6b07eb03af15",
      "frameworks": []
    }"#;

    fn redactor() -> Redactor {
        let mut r = Redactor::new();
        r.node("master-1", "172.30.9.2");
        r.node("agent-1", "172.30.9.3");
        r.node("agent-2", "172.30.9.4");
        r.run_id("6b07eb03af15");
        r.learn_master_state("master-1", &serde_json::from_str(MASTER_STATE).unwrap());
        r.learn_agent_state("agent-1", &serde_json::from_str(AGENT_STATE).unwrap());
        r
    }

    #[test]
    fn master_state_gets_named_placeholders() {
        let v = redactor().value(&serde_json::from_str(MASTER_STATE).unwrap());
        insta::assert_json_snapshot!(v, @r###"
        {
          "build_date": "[build-date]",
          "build_time": "[build-time]",
          "build_user": "ubuntu",
          "capabilities": [
            "AGENT_UPDATE",
            "AGENT_DRAINING",
            "QUOTA_V2"
          ],
          "elected_time": "[timestamp]",
          "frameworks": [
            {
              "failover_timeout": 3600.0,
              "id": "[framework-id:upgrade-harness]",
              "name": "upgrade-harness",
              "offered_resources": {
                "cpus": "[amount]",
                "disk": "[amount]",
                "gpus": "[amount]",
                "mem": "[amount]"
              },
              "offers": "[offers]",
              "pid": "scheduler-[uuid]@[ip]:[port]",
              "registered_time": "[timestamp]",
              "resources": {
                "cpus": "[amount]"
              },
              "unregistered_time": "[timestamp]",
              "used_resources": {
                "cpus": "[amount]",
                "disk": "[amount]",
                "gpus": "[amount]",
                "mem": "[amount]"
              }
            }
          ],
          "git_sha": "[git-sha]",
          "git_tag": "1.11.0",
          "hostname": "master-1",
          "id": "[master-id:master-1]",
          "leader_info": {
            "hostname": "master-1",
            "id": "[master-id:master-1]",
            "pid": "master@[ip:master-1]:5050",
            "port": 5050
          },
          "pid": "master@[ip:master-1]:5050",
          "recovered_slaves": [
            {
              "attributes": {},
              "hostname": "agent-1",
              "id": "[agent-id:agent-1]",
              "port": 5051
            },
            {
              "attributes": {},
              "hostname": "agent-2",
              "id": "[agent-id:agent-2]",
              "port": 5051
            }
          ],
          "slaves": [],
          "start_time": "[timestamp]",
          "version": "1.11.0"
        }
        "###);
    }

    #[test]
    fn agent_state_keeps_configuration_and_drops_what_varies() {
        let v = redactor().value(&serde_json::from_str(AGENT_STATE).unwrap());
        assert_eq!(v["id"], json!("[agent-id:agent-1]"));
        assert_eq!(v["master_hostname"], json!("master-1"));
        assert_eq!(v["pid"], json!("slave(1)@[ip:agent-1]:5051"));
        assert_eq!(v["resources"]["cpus"], json!(2.0));
        assert_eq!(v["resources"]["ports"], json!("[31000-32000]"));
        assert_eq!(
            v["unreserved_resources_allocated"]["cpus"],
            json!("[amount]")
        );
        assert_eq!(v["start_time"], json!("[timestamp]"));
    }

    #[test]
    fn two_runs_normalize_to_the_same_document() {
        let second = MASTER_STATE
            .replace(
                "c3124e26-9038-43ff-a35b-a2e821691eb9",
                "0f0f0f0f-1111-2222-3333-444455556666",
            )
            .replace(
                "bc1869c7-a758-4c7b-a7ad-c073517efc20",
                "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
            )
            .replace("1795681033.7", "1795690000.1")
            .replace("172.30.9.", "172.30.44.");
        let mut r2 = Redactor::new();
        r2.node("master-1", "172.30.44.2");
        r2.node("agent-1", "172.30.44.3");
        r2.node("agent-2", "172.30.44.4");
        r2.learn_master_state("master-1", &serde_json::from_str(&second).unwrap());
        let a = redactor().value(&serde_json::from_str(MASTER_STATE).unwrap());
        let b = r2.value(&serde_json::from_str(&second).unwrap());
        assert_eq!(a, b);
    }

    #[test]
    fn arrays_of_objects_are_sorted_by_their_label() {
        let v = Redactor::new().value(&json!([{"name": "b"}, {"name": "a", "x": 1}, {"id": "0"}]));
        assert_eq!(
            v,
            json!([{"id": "0"}, {"name": "a", "x": 1}, {"name": "b"}])
        );
        // Arrays of scalars keep their order.
        assert_eq!(Redactor::new().value(&json!(["b", "a"])), json!(["b", "a"]));
    }

    #[test]
    fn text_patterns() {
        let r = redactor();
        assert_eq!(
            r.text("10.1.2.3:8080 and 172.30.9.2:5050"),
            "[ip]:[port] and [ip:master-1]:5050"
        );
        assert_eq!(r.text("version 1.11.0"), "version 1.11.0");
        assert_eq!(r.text("1.2.3.4.5"), "1.2.3.4.5");
        assert_eq!(
            r.text("at 2020-11-24 15:38:37.123 UTC"),
            "at [timestamp] UTC"
        );
        assert_eq!(
            r.text("sha 04bc7ee1984d86fbb0bd782ccc69ce44c13ae4b9."),
            "sha [git-sha]."
        );
        assert_eq!(
            r.text(
                "master/frameworks/upgrade-harness/bc1869c7-a758-4c7b-a7ad-c073517efc20-0000/calls"
            ),
            "master/frameworks/upgrade-harness/[framework-id:upgrade-harness]/calls"
        );
        assert_eq!(
            r.text("executor 123e4567-e89b-12d3-a456-426614174000"),
            "executor [uuid]"
        );
        assert_eq!(r.text("uh-6b07eb03af15-agent-2.uh-6b07eb03af15"), "agent-2");
    }

    #[test]
    fn versions_only_when_asked() {
        let mut r = Redactor::new();
        let v = json!({"version": "1.11.0", "git_tag": "1.11.0", "pid": 42, "uptime_secs": 3.5});
        assert_eq!(
            r.value(&v),
            json!({"version": "1.11.0", "git_tag": "1.11.0", "pid": "[pid]", "uptime_secs": "[uptime]"})
        );
        r.redact_versions = true;
        assert_eq!(r.value(&v)["version"], json!("[version]"));
    }

    #[test]
    fn harness_paths_lose_their_version_only_as_a_whole_path_component() {
        assert_eq!(
            harness_version("/opt/mesos/1.8.1", "1.8.1"),
            "/opt/mesos/[version]"
        );
        assert_eq!(
            harness_version("/opt/mesos/1.8.1/libexec:/x/1.8.10", "1.8.1"),
            "/opt/mesos/[version]/libexec:/x/1.8.10"
        );
        assert_eq!(harness_version("1.8.1", "1.8.1"), "1.8.1");
    }
}
