//! A run: one private network and the nodes on it.
//!
//! A node is a long-lived container playing a host: fixed address, hostname
//! and network alias equal to its name, node-init as PID 1, `/run` on a
//! tmpfs (cleared at every boot, like a real host) and the rest of its
//! filesystem kept across restarts. Processes are started, signalled and
//! watched inside it through `docker exec` of node-init, because Docker can
//! only signal a container's PID 1.

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bollard::models::{
    ContainerCreateBody, EndpointIpamConfig, EndpointSettings, HostConfig, NetworkingConfig,
    PortBinding, RestartPolicy, RestartPolicyNameEnum,
};
use bollard::query_parameters::{
    CreateContainerOptions, LogsOptions, RestartContainerOptions, StartContainerOptions,
    StopContainerOptions, UploadToContainerOptions,
};

use futures_util::StreamExt;

use super::engine::Engine;
use super::error::{api, Error, Result};
use super::labels::{self, Owner, KEEP_LABEL, NODE_LABEL, RUN_LABEL};
use super::network::{self, RunNetwork};
use super::node_init::PATH_IN_NODE;

mod faults;

/// How long PID 1 gets to stop a node before Docker kills it; node-init
/// itself gives processes 3 s after SIGTERM, then SIGKILLs them.
const STOP_TIMEOUT_SECS: i32 = 10;

/// How long a booting node may take until node-init is set up.
const READY_TIMEOUT: Duration = Duration::from_secs(15);

/// How a run is set up.
#[derive(Clone, Debug)]
pub struct RunSettings {
    /// The static node-init binary (see [`super::node_init::build`]).
    pub node_init: PathBuf,
    /// Leave containers and network behind when the run ends (for
    /// debugging; `--keep`). They are labelled `upgrade-harness.keep` so
    /// that sweeps spare them too; [`Run::cleanup`] or
    /// [`super::remove_run`] still remove them when asked.
    pub keep: bool,
    /// Host address published ports bind to. Default: 127.0.0.1 for a
    /// local engine, 0.0.0.0 for a remote one (reached at the engine's
    /// host name, see [`Run::node_address`]).
    pub publish_ip: Option<Ipv4Addr>,
    /// Where the run's /24 is chosen from.
    pub subnet_range: (Ipv4Addr, u8),
}

impl RunSettings {
    /// Defaults: cleanup on drop, subnets from 172.28.0.0/14.
    pub fn new(node_init: impl Into<PathBuf>) -> RunSettings {
        RunSettings {
            node_init: node_init.into(),
            keep: false,
            publish_ip: None,
            subnet_range: network::DEFAULT_RANGE,
        }
    }
}

/// What a node is made of.
#[derive(Clone, Debug, Default)]
pub struct NodeSpec {
    /// Node name: hostname, network alias, part of the container name.
    /// Lowercase letters, digits and '-', at most 40 characters.
    pub name: String,
    /// Image reference (any image: node-init is uploaded into the container).
    pub image: String,
    /// Environment of the node, inherited by every process, `KEY=VALUE`.
    pub env: Vec<String>,
    /// TCP ports to publish on 127.0.0.1 ephemeral host ports, for engines
    /// whose container addresses the harness cannot route to.
    pub publish: Vec<u16>,
    /// Extra labels (the run's labels are always added).
    pub labels: BTreeMap<String, String>,
}

/// A created node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeInfo {
    /// Node name.
    pub name: String,
    /// Container name, `uh-<run id>-<node>`.
    pub container_name: String,
    /// Engine id of the container.
    pub container_id: String,
    /// Fixed address on the run network; stable across restarts.
    pub ip: Ipv4Addr,
}

/// A run: its id, its network and its nodes. Dropping it removes everything
/// it created (unless `keep`), so a failing test or an early `?` cleans up.
#[derive(Debug)]
pub struct Run {
    engine: Engine,
    id: String,
    owner: Owner,
    network: RunNetwork,
    node_init: Vec<u8>,
    keep: bool,
    publish_ip: Ipv4Addr,
    nodes: Mutex<BTreeMap<String, NodeInfo>>,
    /// How far [`Run::new_output`] has read each (node, process) log.
    log_offsets: Mutex<HashMap<(String, String), u64>>,
    cleaned: AtomicBool,
}

impl Run {
    /// Creates a run: a fresh id and its private network.
    pub async fn create(engine: &Engine, options: RunSettings) -> Result<Run> {
        let node_init = std::fs::read(&options.node_init).map_err(|source| Error::Io {
            path: options.node_init.clone(),
            source,
        })?;
        let owner = Owner::current();
        let (id, network) = create_network(engine, &owner, &options).await?;
        Ok(Run {
            engine: engine.clone(),
            id,
            owner,
            network,
            node_init,
            keep: options.keep,
            publish_ip: options.publish_ip.unwrap_or(if engine.is_local() {
                Ipv4Addr::LOCALHOST
            } else {
                Ipv4Addr::UNSPECIFIED
            }),
            nodes: Mutex::new(BTreeMap::new()),
            log_offsets: Mutex::new(HashMap::new()),
            cleaned: AtomicBool::new(false),
        })
    }

    /// The run id, as in the `upgrade-harness.run` label.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The engine this run lives on.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Name of the run's network (`uh-<run id>`).
    pub fn network_name(&self) -> &str {
        &self.network.name
    }

    /// The run's subnet, `x.y.z.0/24`.
    pub fn subnet(&self) -> String {
        self.network.cidr()
    }

    /// Labels every object of this run carries.
    pub fn labels(&self) -> HashMap<String, String> {
        run_labels(&self.owner, &self.id, self.keep)
    }

    /// Creates and starts a node; returns once node-init runs as PID 1.
    pub async fn create_node(&self, spec: NodeSpec) -> Result<NodeInfo> {
        validate_node_name(&spec.name)?;
        let ip = self.reserve_ip(&spec.name)?;
        let container_name = format!("uh-{}-{}", self.id, spec.name);
        let created = self
            .engine
            .client()
            .create_container(
                Some(CreateContainerOptions {
                    name: Some(container_name.clone()),
                    ..Default::default()
                }),
                self.container_body(&spec, ip),
            )
            .await
            .map_err(api(format!(
                "create container {container_name} from {}",
                spec.image
            )));
        let created = match created {
            Ok(c) => c,
            Err(e) => {
                self.nodes.lock().unwrap().remove(&spec.name);
                return Err(e);
            }
        };
        let info = NodeInfo {
            name: spec.name.clone(),
            container_name: container_name.clone(),
            container_id: created.id,
            ip,
        };
        self.nodes
            .lock()
            .unwrap()
            .insert(spec.name.clone(), info.clone());
        self.upload_node_init(&container_name).await?;
        self.engine
            .client()
            .start_container(&container_name, None::<StartContainerOptions>)
            .await
            .map_err(api(format!("start container {container_name}")))?;
        self.wait_ready(&spec.name).await?;
        Ok(info)
    }

    /// Waits until PID 1 has set up this boot (`/var/run`, `/run/node`):
    /// a process started before that could race with the setup.
    async fn wait_ready(&self, node: &str) -> Result<()> {
        let started = Instant::now();
        loop {
            let out = self.exec(node, &[PATH_IN_NODE, "ready"]).await?;
            if out.code == 0 {
                return Ok(());
            }
            if started.elapsed() > READY_TIMEOUT {
                return Err(Error::Timeout {
                    node: node.to_string(),
                    what: "node-init to set up the node".into(),
                    waited: started.elapsed(),
                    last_seen: format!(
                        "`node-init ready` exit code {}: {}",
                        out.code,
                        out.stderr_text()
                    ),
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Claims the next free host address (.2, .3, ...) for `name`.
    fn reserve_ip(&self, name: &str) -> Result<Ipv4Addr> {
        let mut nodes = self.nodes.lock().unwrap();
        if nodes.contains_key(name) {
            return Err(Error::Invalid(format!(
                "create node {name}: run {} already has a node of that name",
                self.id
            )));
        }
        let used: Vec<Ipv4Addr> = nodes.values().map(|n| n.ip).collect();
        let ip = (2..=254u8)
            .map(|n| self.network.host(n))
            .find(|ip| !used.contains(ip))
            .ok_or_else(|| Error::Invalid(format!("create node {name}: subnet full")))?;
        // Placeholder until the container exists, so concurrent creations
        // do not pick the same address.
        nodes.insert(
            name.to_string(),
            NodeInfo {
                name: name.to_string(),
                container_name: String::new(),
                container_id: String::new(),
                ip,
            },
        );
        Ok(ip)
    }

    fn container_body(&self, spec: &NodeSpec, ip: Ipv4Addr) -> ContainerCreateBody {
        // The run's labels last: a caller's label must not hide the run id.
        let mut labels: HashMap<String, String> = spec.labels.clone().into_iter().collect();
        labels.extend(self.labels());
        labels.insert(NODE_LABEL.into(), spec.name.clone());
        let ports: Vec<String> = spec.publish.iter().map(|p| format!("{p}/tcp")).collect();
        let bindings = ports
            .iter()
            .map(|p| {
                let binding = PortBinding {
                    host_ip: Some(self.publish_ip.to_string()),
                    host_port: Some(String::new()),
                };
                (p.clone(), Some(vec![binding]))
            })
            .collect();
        let endpoint = EndpointSettings {
            ipam_config: Some(EndpointIpamConfig {
                ipv4_address: Some(ip.to_string()),
                ..Default::default()
            }),
            aliases: Some(vec![spec.name.clone()]),
            ..Default::default()
        };
        ContainerCreateBody {
            image: Some(spec.image.clone()),
            hostname: Some(spec.name.clone()),
            env: Some(spec.env.clone()),
            entrypoint: Some(vec![PATH_IN_NODE.into(), "init".into()]),
            cmd: Some(vec![]),
            labels: Some(labels),
            exposed_ports: (!ports.is_empty()).then_some(ports),
            stop_timeout: Some(STOP_TIMEOUT_SECS as i64),
            host_config: Some(HostConfig {
                network_mode: Some(self.network.name.clone()),
                port_bindings: Some(bindings),
                tmpfs: Some(HashMap::from([("/run".into(), "rw,exec,mode=755".into())])),
                restart_policy: Some(RestartPolicy {
                    name: Some(RestartPolicyNameEnum::NO),
                    ..Default::default()
                }),
                init: Some(false),
                ..Default::default()
            }),
            networking_config: Some(NetworkingConfig {
                endpoints_config: Some(HashMap::from([(self.network.name.clone(), endpoint)])),
            }),
            ..Default::default()
        }
    }

    /// Puts node-init into the (created, not started) container through the
    /// archive API: works on remote engines and with any image.
    async fn upload_node_init(&self, container: &str) -> Result<()> {
        let mut tar = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(self.node_init.len() as u64);
        header.set_mode(0o755);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        let name = PATH_IN_NODE.trim_start_matches('/');
        let archive = tar
            .append_data(&mut header, name, self.node_init.as_slice())
            .and_then(|_| tar.into_inner())
            .map_err(|source| Error::Io {
                path: PathBuf::from(PATH_IN_NODE),
                source,
            })?;
        self.engine
            .client()
            .upload_to_container(
                container,
                Some(UploadToContainerOptions {
                    path: "/".into(),
                    ..Default::default()
                }),
                bollard::body_full(archive.into()),
            )
            .await
            .map_err(api(format!("upload node-init into {container}")))
    }

    /// The node called `name`.
    pub fn node(&self, name: &str) -> Result<NodeInfo> {
        self.nodes
            .lock()
            .unwrap()
            .get(name)
            .filter(|n| !n.container_id.is_empty())
            .cloned()
            .ok_or_else(|| Error::UnknownNode {
                run: self.id.clone(),
                node: name.to_string(),
            })
    }

    /// All nodes, by name.
    pub fn nodes(&self) -> Vec<NodeInfo> {
        let nodes = self.nodes.lock().unwrap();
        nodes
            .values()
            .filter(|n| !n.container_id.is_empty())
            .cloned()
            .collect()
    }

    /// The node's fixed address on the run network. Other nodes reach it
    /// there (or by name); the harness reaches it directly only when
    /// [`Engine::routes_to_containers`].
    pub fn node_ip(&self, name: &str) -> Result<Ipv4Addr> {
        Ok(self.node(name)?.ip)
    }

    /// Where the harness should connect to `port` of a node: the published
    /// 127.0.0.1 port when the port was published, else `ip:port`.
    /// Published ports change when the node restarts: ask again afterwards.
    pub async fn node_address(&self, name: &str, port: u16) -> Result<SocketAddr> {
        match self.published_port(name, port).await? {
            Some(addr) => Ok(addr),
            None => Ok(SocketAddr::from((self.node_ip(name)?, port))),
        }
    }

    /// The host address a published port is mapped to, if it is published.
    pub async fn published_port(&self, name: &str, port: u16) -> Result<Option<SocketAddr>> {
        let node = self.node(name)?;
        let inspect = self
            .engine
            .client()
            .inspect_container(&node.container_id, None)
            .await
            .map_err(api(format!("inspect container {}", node.container_name)))?;
        let binding = inspect
            .network_settings
            .and_then(|s| s.ports)
            .and_then(|mut p| p.remove(&format!("{port}/tcp")))
            .flatten()
            .and_then(|b| b.into_iter().next());
        let Some((ip, port)) = binding.and_then(|b| {
            let ip: Ipv4Addr = b.host_ip.as_deref().unwrap_or("127.0.0.1").parse().ok()?;
            Some((ip, b.host_port.as_deref()?.parse::<u16>().ok()?))
        }) else {
            return Ok(None);
        };
        if !ip.is_unspecified() {
            return Ok(Some(SocketAddr::from((ip, port))));
        }
        // Bound on every interface of the engine's machine: reach it there.
        let host = self.engine.machine().unwrap_or("127.0.0.1").to_string();
        let mut addrs = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|source| Error::Io {
                path: PathBuf::from(&host),
                source,
            })?;
        Ok(addrs.next())
    }

    /// Reboots the node: every process in it dies, `/run` is emptied, the
    /// rest of the filesystem and the address stay.
    pub async fn restart_node(&self, node: &str) -> Result<()> {
        let info = self.node(node)?;
        self.engine
            .client()
            .restart_container(
                &info.container_id,
                Some(RestartContainerOptions {
                    t: Some(STOP_TIMEOUT_SECS),
                    ..Default::default()
                }),
            )
            .await
            .map_err(api(format!("restart container {}", info.container_name)))?;
        self.wait_ready(node).await
    }

    /// Shuts the node down (SIGTERM to everything, then SIGKILL); it keeps
    /// its filesystem and address until [`Run::start_node`].
    pub async fn stop_node(&self, node: &str) -> Result<()> {
        let info = self.node(node)?;
        self.engine
            .client()
            .stop_container(
                &info.container_id,
                Some(StopContainerOptions {
                    t: Some(STOP_TIMEOUT_SECS),
                    ..Default::default()
                }),
            )
            .await
            .map_err(api(format!("stop container {}", info.container_name)))
    }

    /// Boots a stopped node again.
    pub async fn start_node(&self, node: &str) -> Result<()> {
        let info = self.node(node)?;
        self.engine
            .client()
            .start_container(&info.container_id, None::<StartContainerOptions>)
            .await
            .map_err(api(format!("start container {}", info.container_name)))?;
        self.wait_ready(node).await
    }

    /// The node's console: PID 1's output (node-init reports boots,
    /// supervised exits and shutdowns there), for failure reports.
    pub async fn node_console(&self, node: &str) -> Result<String> {
        let info = self.node(node)?;
        let options = LogsOptions {
            stdout: true,
            stderr: true,
            ..Default::default()
        };
        let mut out = Vec::new();
        let mut logs = self.engine.client().logs(&info.container_id, Some(options));
        while let Some(chunk) = logs.next().await {
            let chunk = chunk.map_err(api(format!("read the console of node {node}")))?;
            out.extend_from_slice(&chunk.into_bytes());
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// What the process `name` wrote since the previous call (the whole log
    /// on the first): the per-step output. Logs survive node restarts, so
    /// the cursor stays valid across them.
    pub async fn new_output(&self, node: &str, name: &str) -> Result<Vec<u8>> {
        let key = (node.to_string(), name.to_string());
        let from = *self.log_offsets.lock().unwrap().get(&key).unwrap_or(&0);
        let bytes = self.process_log(node, name, from).await?;
        *self.log_offsets.lock().unwrap().entry(key).or_insert(0) = from + bytes.len() as u64;
        Ok(bytes)
    }

    /// Removes every container and the network of this run (by label, so
    /// nodes whose creation failed halfway go too).
    pub async fn cleanup(&self) -> Result<super::cleanup::Removed> {
        let removed = super::cleanup::remove_run(&self.engine, &self.id).await?;
        self.cleaned.store(true, Ordering::SeqCst);
        Ok(removed)
    }

    /// Whether this run leaves its objects behind when it ends.
    pub fn keeps(&self) -> bool {
        self.keep
    }

    /// Ends the run the way `--keep` says: removes everything unless kept.
    pub async fn finish(&self) -> Result<Option<super::cleanup::Removed>> {
        if self.keep {
            return Ok(None);
        }
        self.cleanup().await.map(Some)
    }
}

impl Drop for Run {
    /// The safety net for early returns and panics: removes the run's
    /// objects unless it was cleaned up already or `keep` is set. Async work
    /// cannot run in `drop`, so a helper thread with its own runtime and its
    /// own connection does it and is waited for.
    fn drop(&mut self) {
        if self.keep || self.cleaned.load(Ordering::SeqCst) {
            return;
        }
        let host = self.engine.host().to_string();
        let id = self.id.clone();
        let joined = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let engine = Engine::connect_to(&host).await.ok()?;
                super::cleanup::remove_run(&engine, &id).await.ok()
            })
        })
        .join();
        if !matches!(joined, Ok(Some(_))) {
            let _ = writeln!(
                std::io::stderr().lock(),
                "upgrade-harness: could not remove run {}; `upgrade-harness` removes it at its next start",
                self.id
            );
        }
    }
}

/// A fresh run id and its network; a new id when the name is taken (two
/// runs in the same second drew the same 16 random bits).
async fn create_network(
    engine: &Engine,
    owner: &Owner,
    options: &RunSettings,
) -> Result<(String, RunNetwork)> {
    let mut attempt = 0;
    loop {
        let id = labels::new_run_id();
        let labels = run_labels(owner, &id, options.keep);
        let seed = u64::from_str_radix(&id[id.len() - 4..], 16).unwrap_or(0) ^ owner.pid as u64;
        let name = format!("uh-{id}");
        match network::create_run_network(engine, &name, labels, options.subnet_range, seed).await {
            Err(Error::Api {
                source:
                    bollard::errors::Error::DockerResponseServerError {
                        status_code: 409, ..
                    },
                ..
            }) if attempt < 3 => attempt += 1,
            other => return other.map(|network| (id, network)),
        }
    }
}

/// The labels of every object of a run.
fn run_labels(owner: &Owner, id: &str, keep: bool) -> HashMap<String, String> {
    let mut l = owner.labels();
    l.insert(RUN_LABEL.into(), id.to_string());
    if keep {
        l.insert(KEEP_LABEL.into(), "true".into());
    }
    l
}

/// Node names become hostnames, DNS aliases and container name parts.
fn validate_node_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "create node {name:?}: a node name is 1-40 of [a-z0-9-], not starting or ending with '-'"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The runner spawns work on tokio: a run and its futures must be Send.
    #[allow(dead_code)]
    fn futures_are_send(run: &Run) {
        fn send<T: Send + Sync>(_: &T) {}
        fn send_future<T: Send>(_: T) {}
        send(run);
        send_future(run.create_node(NodeSpec::default()));
        send_future(run.exec("a", &[]));
        send_future(run.start_process("a", "p", &[], &[]));
        send_future(run.wait_process_exit("a", "p", Duration::ZERO));
        send_future(run.process_log("a", "p", 0));
        send_future(run.restart_node("a"));
        send_future(run.cleanup());
    }

    #[test]
    fn node_names_are_dns_labels() {
        assert!(validate_node_name("master-1").is_ok());
        assert!(validate_node_name("Agent").is_err());
        assert!(validate_node_name("-a").is_err());
        assert!(validate_node_name("a_b").is_err());
        assert!(validate_node_name("").is_err());
    }
}
