//! The HTTP client for Mesos endpoints: typed, minimal views of the JSON documents the
//! harness reasons about, and raw requests (status, headers, body) for probes and checks.
//!
//! Redirects are never followed: a non-leading master answers `/master/state` with 307 and a
//! `Location` naming the leader, and that answer is itself an observation.
//!
//! The typed views are deliberately tolerant (unknown fields ignored, missing ones defaulted):
//! they describe what 1.4-1.11 masters send, and a field a version lacks must not make the
//! whole document unreadable. Raw bodies go to snapshots, typed views to readiness.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Deserialize;

use super::roles::Role;

/// Default per-request timeout: every endpoint used answers in milliseconds when healthy.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// An HTTP client for Mesos masters and agents.
#[derive(Debug, Clone)]
pub struct MesosClient {
    http: reqwest::Client,
    request_timeout: Duration,
    /// Requests sent, by `host:port`, shared by every clone: the proof of where the
    /// harness's requests went (the run report's `reach.requests`).
    sent: Arc<Mutex<BTreeMap<String, u64>>>,
}

/// A response as it came: for probes, checks and snapshots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawResponse {
    pub status: u16,
    /// Header names lowercase, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    /// First value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy), for error messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Errors talking to a Mesos endpoint; each names the URL.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("GET/POST {url} timed out after {after:?}")]
    Timeout { url: String, after: Duration },
    #[error("could not reach {url}: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{url} answered {status}{}", location.as_ref().map(|l| format!(" (Location: {l})")).unwrap_or_default())]
    Status {
        url: String,
        status: u16,
        location: Option<String>,
        body: String,
    },
    #[error("{url} returned a document that is not the expected JSON: {source}")]
    Json {
        url: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("could not build the HTTP client: {0}")]
    Build(#[source] reqwest::Error),
    /// Asked a node something only Mesos processes serve.
    #[error("{what}")]
    NotMesos { what: String },
}

impl ClientError {
    /// Short description for "last seen" in wait errors.
    pub fn brief(&self) -> String {
        match self {
            ClientError::Timeout { after, .. } => format!("timed out after {after:?}"),
            ClientError::Unreachable { .. } => "connection failed".to_string(),
            ClientError::Status {
                status, location, ..
            } => match location {
                Some(l) => format!("HTTP {status} (Location: {l})"),
                None => format!("HTTP {status}"),
            },
            ClientError::Json { source, .. } => format!("unexpected JSON ({source})"),
            ClientError::Build(e) => format!("client error ({e})"),
            ClientError::NotMesos { what } => what.clone(),
        }
    }
}

impl MesosClient {
    /// A client with the default timeouts.
    pub fn new() -> Result<Self, ClientError> {
        Self::with_timeouts(DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT)
    }

    /// A client with explicit connect and per-request timeouts. Streams (the scheduler API)
    /// are not bound by the request timeout.
    pub fn with_timeouts(connect: Duration, request: Duration) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(connect)
            .build()
            .map_err(ClientError::Build)?;
        Ok(MesosClient {
            http,
            request_timeout: request,
            sent: Arc::default(),
        })
    }

    /// A request on the underlying reqwest client (no redirects, no proxy, no total
    /// timeout), counted by address: every request of the harness goes through here.
    pub fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        let address = reqwest::Url::parse(url)
            .ok()
            .and_then(|u| Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?)))
            .unwrap_or_else(|| url.to_string());
        *self
            .sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(address)
            .or_default() += 1;
        self.http.request(method, url)
    }

    /// How many requests went to each `host:port` so far, by this client and its clones.
    pub fn requests_by_address(&self) -> BTreeMap<String, u64> {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// `GET base + path`, any status.
    pub async fn get(&self, base: &str, path: &str) -> Result<RawResponse, ClientError> {
        let url = join(base, path);
        let req = self
            .request(reqwest::Method::GET, &url)
            .timeout(self.request_timeout);
        self.send(url, req).await
    }

    /// `POST base + path` with a body and content type, any status.
    pub async fn post(
        &self,
        base: &str,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<RawResponse, ClientError> {
        let url = join(base, path);
        let req = self
            .request(reqwest::Method::POST, &url)
            .timeout(self.request_timeout)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body);
        self.send(url, req).await
    }

    async fn send(
        &self,
        url: String,
        req: reqwest::RequestBuilder,
    ) -> Result<RawResponse, ClientError> {
        let map = |e: reqwest::Error, url: &str| {
            if e.is_timeout() {
                ClientError::Timeout {
                    url: url.to_string(),
                    after: self.request_timeout,
                }
            } else {
                ClientError::Unreachable {
                    url: url.to_string(),
                    source: e,
                }
            }
        };
        let resp = req.send().await.map_err(|e| map(e, &url))?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = resp.bytes().await.map_err(|e| map(e, &url))?.to_vec();
        Ok(RawResponse {
            status,
            headers,
            body,
        })
    }

    /// `GET` a JSON document that must answer 200.
    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        base: &str,
        path: &str,
    ) -> Result<T, ClientError> {
        let raw = self.get(base, path).await?;
        let url = join(base, path);
        if raw.status != 200 {
            return Err(ClientError::Status {
                url,
                status: raw.status,
                location: raw.header("location").map(str::to_string),
                body: truncate(&raw.text(), 300),
            });
        }
        serde_json::from_slice(&raw.body).map_err(|source| ClientError::Json { url, source })
    }

    /// `/master/state` (307 from a non-leading master becomes [`ClientError::Status`]).
    pub async fn master_state(&self, base: &str) -> Result<MasterState, ClientError> {
        self.get_json(base, "/master/state").await
    }

    /// The leader as this master knows it: `/master/redirect` answers 307 with
    /// `Location: //<leader hostname>:<port>` (leader or not; seen on 1.4.3 and 1.11.0).
    /// Returns `host:port`, or `None` when the answer has no usable `Location` (no leader yet).
    pub async fn leader_location(&self, base: &str) -> Result<Option<String>, ClientError> {
        let raw = self.get(base, "/master/redirect").await?;
        Ok(raw.header("location").and_then(redirect_host_port))
    }

    /// `/slave(1)/state` of an agent.
    pub async fn agent_state(&self, base: &str) -> Result<AgentState, ClientError> {
        self.get_json(base, "/slave(1)/state").await
    }

    /// `/metrics/snapshot`: metric name -> value.
    pub async fn metrics_snapshot(&self, base: &str) -> Result<Metrics, ClientError> {
        let raw: BTreeMap<String, serde_json::Value> =
            self.get_json(base, "/metrics/snapshot").await?;
        Ok(Metrics::from_json(raw))
    }

    /// `/master/flags` or `/slave(1)/flags`: flag name -> value as the process loaded it.
    pub async fn flags(
        &self,
        base: &str,
        role: Role,
    ) -> Result<BTreeMap<String, String>, ClientError> {
        let path = super::endpoints::flags_path(role).ok_or_else(|| ClientError::NotMesos {
            what: format!("a {role} node has no Mesos flags"),
        })?;
        let doc: FlagsDoc = self.get_json(base, path).await?;
        Ok(doc.flags)
    }

    /// `/version`.
    pub async fn version(&self, base: &str) -> Result<VersionInfo, ClientError> {
        self.get_json(base, "/version").await
    }

    /// `/help?format=json`: the endpoints this process actually serves.
    pub async fn help(&self, base: &str) -> Result<HelpIndex, ClientError> {
        self.get_json(base, "/help?format=json").await
    }
}

fn join(base: &str, path: &str) -> String {
    format!("{}{}", base.trim_end_matches('/'), path)
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

/// `host:port` from a redirect `Location` (`//master-1:5050`, `//master-1:5050/master/state`,
/// `http://master-1:5050/...`).
pub fn redirect_host_port(location: &str) -> Option<String> {
    let rest = location
        .strip_prefix("//")
        .or_else(|| location.strip_prefix("http://"))?;
    let host_port = rest.split('/').next()?;
    (!host_port.is_empty()).then(|| host_port.to_string())
}

/// The base URL of a Mesos process: `http://host:port`.
pub fn base_url(host: &str, port: u16) -> String {
    format!("http://{host}:{port}")
}

/// `/master/state`, the parts the harness reasons about.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct MasterState {
    pub version: String,
    /// This master's ID.
    pub id: String,
    /// `master@ip:port` of this master.
    pub pid: String,
    pub hostname: String,
    /// `master@ip:port` of the leader (absent while none is elected).
    pub leader: Option<String>,
    pub leader_info: Option<serde_json::Value>,
    pub activated_slaves: f64,
    pub deactivated_slaves: f64,
    /// Agents (the key was never renamed).
    pub slaves: Vec<AgentSummary>,
    pub frameworks: Vec<FrameworkSummary>,
    pub completed_frameworks: Vec<FrameworkSummary>,
    /// Gone in recent versions; kept for older masters.
    pub unregistered_frameworks: Vec<String>,
}

impl MasterState {
    /// Agents currently active.
    pub fn active_agents(&self) -> impl Iterator<Item = &AgentSummary> {
        self.slaves.iter().filter(|a| a.active)
    }

    /// An agent by ID.
    pub fn agent(&self, id: &str) -> Option<&AgentSummary> {
        self.slaves.iter().find(|a| a.id == id)
    }

    /// A (non-completed) framework by ID.
    pub fn framework(&self, id: &str) -> Option<&FrameworkSummary> {
        self.frameworks.iter().find(|f| f.id == id)
    }

    /// One line per agent, for error messages: `agent-1=<id> (active)`.
    pub fn describe_agents(&self) -> String {
        if self.slaves.is_empty() {
            return "no agents".to_string();
        }
        let parts: Vec<String> = self
            .slaves
            .iter()
            .map(|a| {
                format!(
                    "{}={} ({})",
                    a.hostname,
                    a.id,
                    if a.active { "active" } else { "inactive" }
                )
            })
            .collect();
        format!("agents [{}]", parts.join(", "))
    }

    /// For error messages: `frameworks [<id> (active), ...]`.
    pub fn describe_frameworks(&self) -> String {
        let parts: Vec<String> = self
            .frameworks
            .iter()
            .map(|f| {
                format!(
                    "{} {} ({})",
                    f.name,
                    f.id,
                    if f.active { "active" } else { "inactive" }
                )
            })
            .collect();
        format!("frameworks [{}]", parts.join(", "))
    }
}

/// An agent in `/master/state`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct AgentSummary {
    pub id: String,
    pub hostname: String,
    pub pid: String,
    pub active: bool,
    /// Agent version (1.0+ masters report it).
    pub version: Option<String>,
}

/// A framework in `/master/state`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct FrameworkSummary {
    pub id: String,
    pub name: String,
    pub active: bool,
    /// Whether the scheduler is connected (1.0+).
    pub connected: Option<bool>,
    pub failover_timeout: Option<f64>,
    pub checkpoint: Option<bool>,
    pub tasks: Vec<serde_json::Value>,
}

/// `/slave(1)/state`, the parts the harness reasons about.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct AgentState {
    pub version: String,
    /// Agent ID; empty until the agent has registered once (or recovered its ID).
    pub id: String,
    pub hostname: String,
    /// Hostname of the master the agent currently follows (absent while none is detected).
    pub master_hostname: Option<String>,
    pub frameworks: Vec<serde_json::Value>,
    pub completed_frameworks: Vec<serde_json::Value>,
}

impl AgentState {
    /// The agent ID, if it has one.
    pub fn agent_id(&self) -> Option<&str> {
        Some(self.id.as_str()).filter(|s| !s.is_empty())
    }
}

/// `/metrics/snapshot`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics(pub BTreeMap<String, f64>);

impl Metrics {
    /// Keeps numeric values (all of them in 1.x); anything else is dropped.
    pub fn from_json(raw: BTreeMap<String, serde_json::Value>) -> Self {
        Metrics(
            raw.into_iter()
                .filter_map(|(k, v)| v.as_f64().map(|f| (k, f)))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<f64> {
        self.0.get(name).copied()
    }

    /// `name=value` or `name absent`, for error messages.
    pub fn describe(&self, name: &str) -> String {
        match self.get(name) {
            Some(v) => format!("{name}={v}"),
            None => format!("{name} absent"),
        }
    }
}

#[derive(Debug, Deserialize)]
struct FlagsDoc {
    #[serde(default)]
    flags: BTreeMap<String, String>,
}

/// `/version`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct VersionInfo {
    pub version: String,
    pub git_sha: Option<String>,
    pub git_tag: Option<String>,
    pub build_date: Option<String>,
}

/// `/help?format=json`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct HelpIndex {
    pub processes: Vec<HelpProcess>,
}

/// One libprocess process in `/help`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct HelpProcess {
    pub id: String,
    pub endpoints: Vec<HelpEndpoint>,
}

/// One endpoint in `/help`; `name` is relative to its process (`/state`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct HelpEndpoint {
    pub name: String,
    pub text: String,
}

impl HelpIndex {
    /// Every endpoint as a full path (`/master/state`; a process's root route `/` becomes
    /// `/version`), sorted.
    pub fn endpoint_paths(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .processes
            .iter()
            .flat_map(|p| {
                p.endpoints.iter().map(move |e| match e.name.as_str() {
                    "/" | "" => format!("/{}", p.id),
                    name => format!("/{}{}", p.id, name),
                })
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

impl fmt::Display for RawResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {} ({} bytes)", self.status, self.body.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_request_is_counted_by_address_across_clones() {
        let client =
            MesosClient::with_timeouts(Duration::from_millis(300), Duration::from_millis(300))
                .unwrap();
        let clone = client.clone();
        // Nothing listens on port 1: the request fails, and was still sent there.
        let _ = client.get("http://127.0.0.1:1", "/master/state").await;
        let _ = clone
            .post("http://127.0.0.1:1/", "/api/v1/scheduler", "x", vec![])
            .await;
        let _ = clone.request(reqwest::Method::GET, "http://[::1]:2/x");
        assert_eq!(
            client.requests_by_address(),
            BTreeMap::from([("127.0.0.1:1".to_string(), 2), ("[::1]:2".to_string(), 1)])
        );
    }

    // Hand-written from the documented shapes; small on purpose.
    const MASTER_STATE: &str = r#"{
      "version": "1.11.0", "id": "m-1", "pid": "master@10.0.0.2:5050", "hostname": "master-1",
      "activated_slaves": 1, "deactivated_slaves": 1,
      "leader": "master@10.0.0.2:5050", "leader_info": {"hostname": "master-1", "port": 5050},
      "slaves": [
        {"id": "S0", "hostname": "agent-1", "pid": "slave(1)@10.0.0.3:5051", "active": true, "version": "1.11.0", "resources": {"cpus": 2}},
        {"id": "S1", "hostname": "agent-2", "pid": "slave(1)@10.0.0.4:5051", "active": false}
      ],
      "frameworks": [{"id": "F0", "name": "upgrade-harness", "active": true, "connected": true, "checkpoint": true, "failover_timeout": 3600, "tasks": []}],
      "completed_frameworks": [],
      "orphan_tasks": [],
      "unregistered_frameworks": []
    }"#;

    #[test]
    fn master_state_parses_and_describes() {
        let s: MasterState = serde_json::from_str(MASTER_STATE).unwrap();
        assert_eq!(s.leader.as_deref(), Some("master@10.0.0.2:5050"));
        assert_eq!(
            s.active_agents().map(|a| a.id.as_str()).collect::<Vec<_>>(),
            ["S0"]
        );
        assert_eq!(s.agent("S1").unwrap().version, None);
        assert_eq!(s.framework("F0").unwrap().connected, Some(true));
        assert_eq!(
            s.describe_agents(),
            "agents [agent-1=S0 (active), agent-2=S1 (inactive)]"
        );
    }

    #[test]
    fn master_state_without_leader_or_agents() {
        let s: MasterState = serde_json::from_str(r#"{"version":"1.4.3","slaves":[]}"#).unwrap();
        assert_eq!(s.leader, None);
        assert_eq!(s.describe_agents(), "no agents");
    }

    #[test]
    fn agent_state_registered_or_not() {
        let s: AgentState = serde_json::from_str(
            r#"{"version":"1.4.3","id":"S0","hostname":"agent-1","master_hostname":"master-1","frameworks":[]}"#,
        )
        .unwrap();
        assert_eq!(s.agent_id(), Some("S0"));
        let s: AgentState = serde_json::from_str(r#"{"version":"1.4.3","id":""}"#).unwrap();
        assert_eq!(s.agent_id(), None);
        assert_eq!(s.master_hostname, None);
    }

    #[test]
    fn metrics_keep_numbers() {
        let raw: BTreeMap<String, serde_json::Value> = serde_json::from_str(
            r#"{"master/elected": 1.0, "master/slaves_active": 2, "master/uptime_secs": 12.5}"#,
        )
        .unwrap();
        let m = Metrics::from_json(raw);
        assert_eq!(m.get("master/elected"), Some(1.0));
        assert_eq!(m.describe("master/slaves_active"), "master/slaves_active=2");
        assert_eq!(
            m.describe("registrar/log/recovered"),
            "registrar/log/recovered absent"
        );
    }

    #[test]
    fn help_lists_full_paths() {
        let h: HelpIndex = serde_json::from_str(
            r#"{"processes":[
              {"id":"master","endpoints":[{"name":"/state","text":"..."},{"name":"/flags","text":"..."}]},
              {"id":"version","endpoints":[{"name":"/","text":"..."}]}
            ]}"#,
        )
        .unwrap();
        assert_eq!(
            h.endpoint_paths(),
            ["/master/flags", "/master/state", "/version"]
        );
    }

    #[test]
    fn flags_and_version_parse() {
        let f: FlagsDoc =
            serde_json::from_str(r#"{"flags":{"work_dir":"/var/lib/mesos/master","port":"5050"}}"#)
                .unwrap();
        assert_eq!(f.flags["port"], "5050");
        let v: VersionInfo = serde_json::from_str(
            r#"{"build_date":"2020-11-24","build_time":1.6e9,"build_user":"x","git_sha":"abc","git_tag":"1.11.0","version":"1.11.0"}"#,
        )
        .unwrap();
        assert_eq!(v.version, "1.11.0");
    }

    #[test]
    fn redirect_locations() {
        assert_eq!(
            redirect_host_port("//master-1:5050").as_deref(),
            Some("master-1:5050")
        );
        assert_eq!(
            redirect_host_port("//master-2:5050/master/state").as_deref(),
            Some("master-2:5050")
        );
        assert_eq!(redirect_host_port("http://m:1/x").as_deref(), Some("m:1"));
        assert_eq!(redirect_host_port("//"), None);
        assert_eq!(redirect_host_port("/relative"), None);
    }

    #[test]
    fn status_error_names_location() {
        let e = ClientError::Status {
            url: "http://10.0.0.3:5050/master/state".into(),
            status: 307,
            location: Some("//master-1:5050/master/state".into()),
            body: String::new(),
        };
        assert_eq!(
            e.to_string(),
            "http://10.0.0.3:5050/master/state answered 307 (Location: //master-1:5050/master/state)"
        );
        assert_eq!(
            e.brief(),
            "HTTP 307 (Location: //master-1:5050/master/state)"
        );
    }
}
