//! A running cluster: the Docker run, and which Mesos process of which version runs in
//! which node. The glue between the Docker layer (which knows no Mesos) and the Mesos
//! module (which knows no Docker).

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use crate::docker::{self, NodeSpec, ProcessStatus, Reach};
use crate::domain::{Role, Version};
use crate::images::zookeeper;
use crate::mesos::client::MesosClient;
use crate::mesos::endpoints;
use crate::mesos::readiness;
use crate::mesos::readiness::MesosNode;
use crate::mesos::roles::{
    self, AgentConfig, HaSettings, MasterConfig, MasterLocation, NodeAddress, Tuning,
};
use crate::plan::FlagOverrides;

use super::{Context, StepError};

mod quorum;
mod reach;

pub use quorum::QuorumOutcome;
pub use reach::{forced_reach, ReachDecision, REACH_ENV};

/// Name of the Mesos process inside every node (one per node, as on a real host).
pub const PROCESS: &str = "mesos";

/// Name of the ZooKeeper server process inside a ZooKeeper node.
pub const ZOOKEEPER_PROCESS: &str = "zookeeper";

/// Name of a user framework's process inside its container (`frameworks:`).
pub const FRAMEWORK_PROCESS: &str = "framework";

/// How long a ZooKeeper server may take to answer `imok` after its start.
const ZOOKEEPER_READY: Duration = Duration::from_secs(60);

/// How long SIGTERM gets before SIGKILL when a Mesos process is stopped.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// One Mesos node as the runner tracks it.
#[derive(Debug, Clone)]
pub struct NodeState {
    /// Master or agent.
    pub role: Role,
    /// Version of the running (or last started) process.
    pub version: Version,
    /// Address on the run network (where other nodes reach it).
    pub ip: String,
    /// Where the harness reaches its Mesos port: `ip:port`, or the published port.
    pub reached_at: SocketAddr,
    /// Pid of the Mesos process started last, `None` while it is down.
    pub pid: Option<u32>,
}

/// A ZooKeeper node of the cluster.
#[derive(Debug, Clone)]
pub struct ZooKeeperNode {
    /// Its address on the run's network.
    pub ip: String,
    /// Where the harness reaches its client port.
    pub reached_at: SocketAddr,
    /// The pid its server started with (watched like a Mesos process's).
    pub pid: u32,
}

/// The cluster of one run.
pub struct Cluster {
    /// The Docker run (network and nodes).
    pub run: docker::Run,
    /// HTTP client for every Mesos endpoint.
    pub client: MesosClient,
    /// Timing flags shared by masters and agents.
    pub tuning: Tuning,
    /// Mesos nodes by name.
    pub nodes: BTreeMap<String, NodeState>,
    /// ZooKeeper nodes by name (HA masters; not Mesos nodes).
    pub zookeepers: BTreeMap<String, ZooKeeperNode>,
    /// How many masters the topology has: with ZooKeeper, the replicated log's quorum is
    /// a majority of them.
    pub planned_masters: usize,
    /// The master that leads, as last seen by [`Cluster::elect`] (HA only).
    pub leader: Option<String>,
    /// Seconds from stopping a leading master until another one led, per leader change.
    pub failovers: Vec<(String, String, f64)>,
    /// HA masters stop gracefully (SIGUSR1 to the launcher: the master terminates, then
    /// withdraws its ZooKeeper candidacy) instead of like a killed `mesos-master` (SIGTERM).
    pub graceful_master_stop: bool,
    /// The way to reach nodes the run must use, and who said so.
    forced_reach: Option<(Reach, String)>,
    /// How the harness reaches nodes, once the first node exists.
    reach: Option<ReachDecision>,
    /// Whether the runner has told the user about [`Cluster::reach`].
    reach_noted: bool,
    /// Every address the harness was given for each node, in order (a published port
    /// changes when its node reboots).
    reached: BTreeMap<String, Vec<SocketAddr>>,
    /// The scenario's vendor modules, with the builds installed in each node.
    pub modules: Vec<super::modules::RunModule>,
    /// The containers of the scenario's own frameworks (`fw-<name>`): not Mesos nodes, their
    /// output is kept per phase all the same.
    pub framework_nodes: std::collections::BTreeSet<String>,
}

impl Cluster {
    /// A cluster on `run`, with no nodes yet.
    pub fn new(run: docker::Run, client: MesosClient) -> Cluster {
        Cluster {
            run,
            client,
            tuning: Tuning::default(),
            nodes: BTreeMap::new(),
            zookeepers: BTreeMap::new(),
            planned_masters: 1,
            leader: None,
            failovers: Vec::new(),
            graceful_master_stop: false,
            forced_reach: None,
            reach: None,
            reach_noted: false,
            reached: BTreeMap::new(),
            modules: Vec::new(),
            framework_nodes: Default::default(),
        }
    }

    /// A cluster on `run` whose topology has `masters` masters (the quorum with ZooKeeper).
    pub fn with_masters(run: docker::Run, client: MesosClient, masters: usize) -> Cluster {
        Cluster {
            planned_masters: masters.max(1),
            ..Cluster::new(run, client)
        }
    }

    /// Creates the node (a host container) for a Mesos master or agent.
    pub async fn create_node(
        &mut self,
        name: &str,
        role: Role,
        image: &str,
        version: Version,
    ) -> Result<(), StepError> {
        let role = match role {
            Role::Master | Role::Agent => role,
            other => {
                return Err(format!(
                    "{name}: {} nodes are not supported by this runner yet",
                    other.as_str()
                )
                .into())
            }
        };
        let (ip, reached_at) = self
            .create_reached_node(name, image, roles::port(role))
            .await?;
        self.nodes.insert(
            name.to_string(),
            NodeState {
                role,
                version,
                ip: ip.to_string(),
                reached_at,
                pid: None,
            },
        );
        Ok(())
    }

    /// Creates the nodes (host containers) of several Mesos masters and agents at once, so
    /// that a cluster's start does not wait for one container after the other. Nodes that
    /// already exist are left alone.
    pub async fn create_nodes(
        &mut self,
        nodes: &[(String, Role, Version)],
        image: &str,
    ) -> Result<(), StepError> {
        let todo: Vec<&(String, Role, Version)> = nodes
            .iter()
            .filter(|(name, role, _)| {
                !self.nodes.contains_key(name) && matches!(role, Role::Master | Role::Agent)
            })
            .collect();
        let ports: Vec<(String, u16)> = todo
            .iter()
            .map(|(name, role, _)| (name.clone(), roles::port(*role)))
            .collect();
        let created = self.create_reached_nodes(&ports, image).await?;
        for ((name, role, version), (ip, reached_at)) in todo.into_iter().zip(created) {
            self.nodes.insert(
                name.clone(),
                NodeState {
                    role: *role,
                    version: *version,
                    ip: ip.to_string(),
                    reached_at,
                    pid: None,
                },
            );
        }
        Ok(())
    }

    fn node(&self, name: &str) -> Result<&NodeState, StepError> {
        self.nodes
            .get(name)
            .ok_or_else(|| format!("no node named {name}").into())
    }

    /// Names of the master nodes, the leading one first (with ZooKeeper, the leader last
    /// seen by [`Cluster::elect`]; standalone, the only master).
    pub fn masters(&self) -> Vec<String> {
        let mut masters = self.with_role(Role::Master);
        if let Some(leader) = &self.leader {
            if let Some(i) = masters.iter().position(|m| m == leader) {
                let l = masters.remove(i);
                masters.insert(0, l);
            }
        }
        masters
    }

    /// Whether masters elect their leader through ZooKeeper.
    pub fn is_ha(&self) -> bool {
        !self.zookeepers.is_empty()
    }

    /// The masters' `--zk` URL naming every ZooKeeper server of the run.
    pub fn zk_url(&self) -> String {
        endpoints::zk_url(self.zookeepers.values().map(|z| z.ip.as_str()))
    }

    /// Creates a ZooKeeper node, starts its server and waits for `imok`.
    pub async fn create_zookeeper(
        &mut self,
        name: &str,
        image: &str,
    ) -> Result<Duration, StepError> {
        let (ip, addr) = self
            .create_reached_node(name, image, zookeeper::CLIENT_PORT)
            .await?;
        let argv = zookeeper::server_argv();
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let pid = self
            .run
            .start_process(name, ZOOKEEPER_PROCESS, &argv, &[])
            .await
            .context(|| format!("starting ZooKeeper in {name}"))?;
        let ready = zookeeper::wait_ready(addr, ZOOKEEPER_READY).await;
        if let Err(e) = ready {
            let log = self
                .run
                .process_log(name, ZOOKEEPER_PROCESS, 0)
                .await
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            return Err(format!("{e}; its output ends: {}", tail_lines(&log, 10)).into());
        }
        self.zookeepers.insert(
            name.to_string(),
            ZooKeeperNode {
                ip: ip.to_string(),
                reached_at: addr,
                pid,
            },
        );
        Ok(ready.unwrap_or_default())
    }

    /// Masters whose process runs.
    pub fn running_masters(&self) -> Vec<String> {
        self.with_role(Role::Master)
            .into_iter()
            .filter(|m| self.nodes.get(m).is_some_and(|n| n.pid.is_some()))
            .collect()
    }

    /// Waits until exactly one of the running masters has `master/elected` = 1 (every
    /// running master answering) and remembers it as the leader.
    pub async fn elect(&mut self, within: Duration) -> Result<String, StepError> {
        let names = self.running_masters();
        let targets = names
            .iter()
            .map(|n| self.target(n))
            .collect::<Result<Vec<_>, _>>()?;
        let i = readiness::wait_leader(&self.client, &targets, within)
            .await
            .map_err(StepError::from)?;
        self.leader = Some(names[i].clone());
        Ok(names[i].clone())
    }

    /// Names of the agent nodes.
    pub fn agents(&self) -> Vec<String> {
        self.with_role(Role::Agent)
    }

    fn with_role(&self, role: Role) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|(_, n)| n.role == role)
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// The readiness target of a node (its running version and URL).
    pub fn target(&self, name: &str) -> Result<MesosNode, StepError> {
        let n = self.node(name)?;
        Ok(MesosNode {
            name: name.to_string(),
            version: n.version,
            base_url: format!("http://{}", n.reached_at),
        })
    }

    /// Where agents find the master (standalone: the first master's hostname; HA: ZooKeeper).
    fn master_location(&self) -> MasterLocation {
        if self.is_ha() {
            return MasterLocation::ZooKeeper { url: self.zk_url() };
        }
        MasterLocation::Standalone {
            host: self.masters().first().cloned().unwrap_or_default(),
            port: roles::MASTER_PORT,
        }
    }

    /// Starts the Mesos process of `version` in `name`, with the scenario's flag overrides.
    pub async fn start_mesos(
        &mut self,
        name: &str,
        version: Version,
        overrides: &FlagOverrides,
    ) -> Result<u32, StepError> {
        let n = self.node(name)?.clone();
        let address = NodeAddress {
            hostname: name.to_string(),
            ip: n.ip.clone(),
        };
        let spec = match n.role {
            Role::Master => roles::master_process(&MasterConfig {
                version,
                node: address,
                ha: self.is_ha().then(|| HaSettings {
                    zk_url: self.zk_url(),
                    quorum: (self.planned_masters / 2 + 1) as u32,
                }),
                tuning: self.tuning.clone(),
            }),
            Role::Agent => roles::agent_process(&AgentConfig {
                version,
                node: address,
                master: self.master_location(),
                resources: roles::DEFAULT_AGENT_RESOURCES.to_string(),
                tuning: self.tuning.clone(),
            }),
            Role::ZooKeeper => {
                return Err(format!("{name} is a ZooKeeper node: it runs no Mesos process").into())
            }
        };
        let mut spec = spec.context(|| name.to_string())?;
        let unset: Vec<String> = overrides.unset.iter().cloned().collect();
        spec.apply_flags(&overrides.set, &unset)
            .context(|| name.to_string())?;
        // The modules it loads: the build of the version it runs, once installed. Their
        // proof files go first, so that only this start's modules can write them.
        let loaded: Vec<_> = self
            .modules
            .iter()
            .filter_map(|m| Some((m.loaded(name, n.role, version)?, m.proof_file.clone())))
            .collect();
        for (_, proof) in &loaded {
            self.run
                .remove_path(name, proof)
                .await
                .context(|| format!("removing the module proof {proof} in {name}"))?;
        }
        let loaded: Vec<_> = loaded.into_iter().map(|(m, _)| m).collect();
        spec.env.extend(crate::mesos::modules::module_env(&loaded));
        let argv: Vec<&str> = spec.argv.iter().map(String::as_str).collect();
        let env: Vec<String> = spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let pid = self
            .run
            .start_process(name, PROCESS, &argv, &env)
            .await
            .context(|| format!("starting Mesos {version} in {name}"))?;
        let node = self.nodes.get_mut(name).expect("node exists");
        node.version = version;
        node.pid = Some(pid);
        Ok(pid)
    }

    /// Stops the Mesos process in `name` (SIGTERM, then SIGKILL after a grace period).
    pub async fn stop_mesos(&mut self, name: &str) -> Result<(), StepError> {
        let ha_master = self.is_ha() && self.node(name)?.role == Role::Master;
        let signal = if ha_master && self.graceful_master_stop {
            "USR1"
        } else {
            "TERM"
        };
        self.run
            .stop_process_with(name, PROCESS, signal, STOP_GRACE)
            .await
            .context(|| format!("stopping Mesos in {name}"))?;
        if let Some(n) = self.nodes.get_mut(name) {
            n.pid = None;
        }
        Ok(())
    }

    /// Reboots the node's host: everything in it dies; the disk stays. An agent sees it as
    /// a reboot: new boot ID, empty runtime dir (`roles::AGENT_BOOT_ID_FILE`).
    pub async fn reboot(&mut self, name: &str) -> Result<(), StepError> {
        self.run
            .restart_node(name)
            .await
            .context(|| format!("rebooting {name}"))?;
        // A published port is drawn again when its node restarts.
        let n = self.node(name)?.clone();
        let ip: Ipv4Addr =
            n.ip.parse()
                .map_err(|_| format!("{name}: address {} is not IPv4", n.ip))?;
        let reached_at = self.reach_port(name, ip, roles::port(n.role)).await?;
        if let Some(n) = self.nodes.get_mut(name) {
            n.reached_at = reached_at;
        }
        if n.role == Role::Agent {
            let boot_id = format!(
                "{:032x}\n",
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_nanos()
            );
            let file = roles::AGENT_BOOT_ID_FILE;
            self.run
                .write_file(name, file, boot_id.as_bytes(), 0o644)
                .await
                .context(|| format!("writing a new boot ID to {file} in {name}"))?;
            self.run
                .remove_path(name, roles::AGENT_RUNTIME_DIR)
                .await
                .context(|| format!("emptying {} in {name}", roles::AGENT_RUNTIME_DIR))?;
        }
        if let Some(n) = self.nodes.get_mut(name) {
            n.pid = None;
        }
        Ok(())
    }

    /// Waits until the process in `name` exits (a start that must fail), up to `within`.
    /// Returns whether it exited.
    pub async fn exited_within(&mut self, name: &str, within: Duration) -> Result<bool, StepError> {
        let started = Instant::now();
        loop {
            let status = self
                .run
                .process_status(name, PROCESS)
                .await
                .context(|| format!("status of Mesos in {name}"))?;
            match status {
                ProcessStatus::Running { .. } if started.elapsed() < within => {
                    tokio::time::sleep(Duration::from_millis(200)).await
                }
                ProcessStatus::Running { .. } => return Ok(false),
                _ => {
                    if let Some(n) = self.nodes.get_mut(name) {
                        n.pid = None;
                    }
                    return Ok(true);
                }
            }
        }
    }

    /// Everything `name`'s current Mesos process printed (empty when it cannot be read).
    pub async fn process_output(&self, name: &str) -> String {
        self.run
            .process_log(name, PROCESS, 0)
            .await
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// Returns (as a description of its status) once `name`'s Mesos process no longer runs;
    /// never while it does. Meant to race a readiness wait, which holds the deadline.
    pub async fn until_exited(&self, name: &str) -> String {
        loop {
            match self.run.process_status(name, PROCESS).await {
                Ok(ProcessStatus::Running { .. }) => {}
                Ok(other) => return other.to_string(),
                // The node itself is gone or unreachable: the readiness wait will say so.
                Err(_) => std::future::pending::<()>().await,
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Whether each node's Mesos process (and each ZooKeeper server) is still the one started last (no restart loop,
    /// no crash): `Err` names the first node where it is not.
    pub async fn processes_stable(&self) -> Result<String, StepError> {
        let mesos = self.nodes.iter().filter_map(|(name, n)| {
            let what = format!("Mesos {}", n.version);
            n.pid.map(|pid| (name, PROCESS, what, pid))
        });
        let zookeeper = self
            .zookeepers
            .iter()
            .map(|(name, z)| (name, ZOOKEEPER_PROCESS, "ZooKeeper".to_string(), z.pid));
        // One `docker exec` per node, all at once.
        let processes: Vec<_> = mesos.chain(zookeeper).collect();
        let statuses = futures_util::future::join_all(
            processes
                .iter()
                .map(|(name, process, _, _)| self.run.process_status(name, process)),
        )
        .await;
        let mut seen = Vec::new();
        for ((name, _, what, pid), status) in processes.iter().zip(statuses) {
            let status = status.context(|| format!("status of {what} in {name}"))?;
            match status {
                ProcessStatus::Running { pid: now } if now == *pid => {
                    seen.push(format!("{name} pid {pid}"))
                }
                other => {
                    return Err(format!("{name}: {what} started as pid {pid}, now {other}").into())
                }
            }
        }
        Ok(seen.join(", "))
    }

    /// The output of node `name`'s main process (Mesos, or a ZooKeeper server) since the
    /// previous call.
    pub async fn new_output(&self, name: &str) -> String {
        let process = if self.zookeepers.contains_key(name) {
            ZOOKEEPER_PROCESS
        } else if self.framework_nodes.contains(name) {
            FRAMEWORK_PROCESS
        } else {
            PROCESS
        };
        match self.run.new_output(name, process).await {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) => format!("(no output: {e})\n"),
        }
    }
}

/// The last `n` lines of a process's output, on one line.
fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}
