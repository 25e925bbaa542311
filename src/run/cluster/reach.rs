//! How the harness reaches a run's nodes: directly at their addresses on the run network, or
//! through published ports (docs/runtime.md), decided once per run.

use super::*;

/// The environment variable that forces how the harness reaches nodes (`direct` or
/// `published`), for CI jobs whose engine the detection would misjudge.
pub const REACH_ENV: &str = "UPGRADE_HARNESS_REACH";

/// How long the first node's address may take to refuse a TCP connect before the run
/// reaches its nodes through published ports: a routed bridge answers in a millisecond.
const ROUTE_PROBE: Duration = Duration::from_secs(2);

/// How the harness reaches the nodes of a run, decided once, at its first node.
#[derive(Debug, Clone, PartialEq)]
pub struct ReachDecision {
    /// Directly or through published ports.
    pub mode: Reach,
    /// Why: forced by whom, what the engine is, or what the first node's address answered.
    pub why: String,
    /// How long deciding took (the probe of the first node's address).
    pub took: Duration,
}

/// The way to reach nodes forced by the run's options (`option`) or else by
/// [`REACH_ENV`]; `None` when the run decides by itself. `Err` names the variable, its
/// value and the valid values.
pub fn forced_reach(option: Option<Reach>) -> Result<Option<(Reach, String)>, String> {
    if let Some(mode) = option {
        return Ok(Some((mode, "the run's options".to_string())));
    }
    match std::env::var(REACH_ENV) {
        Ok(v) if !v.trim().is_empty() => match v.parse::<Reach>() {
            Ok(mode) => Ok(Some((mode, format!("{REACH_ENV}={}", v.trim())))),
            Err(why) => Err(format!(
                "{REACH_ENV}: {why}; unset it to let the run decide"
            )),
        },
        _ => Ok(None),
    }
}

impl Cluster {
    /// Makes the run reach its nodes `mode` (see [`forced_reach`]); `by` says who forced it.
    /// Effective for nodes created afterwards: call it before the first.
    pub fn force_reach(&mut self, mode: Reach, by: &str) {
        self.forced_reach = Some((mode, by.to_string()));
    }

    /// How the harness reaches nodes; `None` before the first node is created.
    pub fn reach(&self) -> Option<&ReachDecision> {
        self.reach.as_ref()
    }

    /// [`Cluster::reach`] the first time it is asked after the decision, then `None`: the
    /// runner's one progress line about it.
    pub fn reach_news(&mut self) -> Option<ReachDecision> {
        if self.reach_noted {
            return None;
        }
        self.reach_noted = self.reach.is_some();
        self.reach.clone()
    }

    /// Every address the harness was given for each node (Mesos and ZooKeeper), in order.
    pub fn reached_addresses(&self) -> &BTreeMap<String, Vec<SocketAddr>> {
        &self.reached
    }

    /// Decides what is known before any node exists: a forced way, or an engine whose
    /// container addresses cannot be routed from here.
    pub(super) fn decide_reach_without_nodes(&mut self) {
        if self.reach.is_some() {
            return;
        }
        let (mode, why) = if let Some((mode, by)) = &self.forced_reach {
            (*mode, format!("forced by {by}"))
        } else if let Some(why) = self.run.engine().not_routed_because() {
            (Reach::Published, why)
        } else {
            return;
        };
        self.reach = Some(ReachDecision {
            mode,
            why,
            took: Duration::ZERO,
        });
    }

    /// Decides by a TCP connect to `port` of the first node, just created: nothing listens
    /// there yet, so only a refusal is the node's own answer.
    pub(super) async fn decide_reach_by(&mut self, ip: Ipv4Addr, port: u16) {
        let addr = SocketAddr::from((ip, port));
        let started = Instant::now();
        let (mode, why) = match docker::refuses_closed_port(addr, ROUTE_PROBE).await {
            Ok(took) => (
                Reach::Direct,
                format!(
                    "{addr} on the run network refused a TCP connect in {:.1} ms: the node's own answer",
                    took.as_secs_f64() * 1000.0
                ),
            ),
            Err(e) => (
                Reach::Published,
                format!("{e}: container addresses are not routed from here"),
            ),
        };
        self.reach = Some(ReachDecision {
            mode,
            why,
            took: started.elapsed(),
        });
    }

    /// Creates a node whose `port` the harness connects to, decides how the run reaches
    /// nodes if this is the first, and returns the node's address on the run network and
    /// where the harness reaches `port`. While undecided the port is published anyway, so
    /// that either outcome works without recreating the node.
    pub(super) async fn create_reached_node(
        &mut self,
        name: &str,
        image: &str,
        port: u16,
    ) -> Result<(Ipv4Addr, SocketAddr), StepError> {
        self.decide_reach_without_nodes();
        let direct = self.reach.as_ref().is_some_and(|r| r.mode == Reach::Direct);
        let info = self
            .run
            .create_node(NodeSpec {
                name: name.to_string(),
                image: image.to_string(),
                publish: if direct { Vec::new() } else { vec![port] },
                ..NodeSpec::default()
            })
            .await
            .context(|| format!("creating node {name}"))?;
        if self.reach.is_none() {
            self.decide_reach_by(info.ip, port).await;
        }
        let addr = self.reach_port(name, info.ip, port).await?;
        Ok((info.ip, addr))
    }

    /// Where the harness reaches `port` of node `name` (at `ip` on the run network) now, as
    /// decided for the run; remembered for the report.
    pub(super) async fn reach_port(
        &mut self,
        name: &str,
        ip: Ipv4Addr,
        port: u16,
    ) -> Result<SocketAddr, StepError> {
        let mode = self.reach.as_ref().map_or(Reach::Direct, |r| r.mode);
        let addr = match mode {
            Reach::Direct => SocketAddr::from((ip, port)),
            Reach::Published => self
                .run
                .published_port(name, port)
                .await
                .context(|| format!("reading the published port {port} of {name}"))?
                .ok_or_else(|| {
                    format!("{name}: port {port} is not published, yet the run reaches nodes through published ports")
                })?,
        };
        let seen = self.reached.entry(name.to_string()).or_default();
        if seen.last() != Some(&addr) {
            seen.push(addr);
        }
        Ok(addr)
    }

    /// Creates several nodes, each with the `port` the harness connects to: the first alone
    /// (it decides how the run reaches nodes when nothing else did), the others at once.
    /// Returns each node's address on the run network and where the harness reaches it.
    pub(super) async fn create_reached_nodes(
        &mut self,
        nodes: &[(String, u16)],
        image: &str,
    ) -> Result<Vec<(Ipv4Addr, SocketAddr)>, StepError> {
        let mut out = Vec::new();
        let mut rest = nodes;
        if self.reach.is_none() {
            if let Some(((name, port), others)) = nodes.split_first() {
                out.push(self.create_reached_node(name, image, *port).await?);
                rest = others;
            }
        }
        self.decide_reach_without_nodes();
        let direct = self.reach.as_ref().is_some_and(|r| r.mode == Reach::Direct);
        let run = &self.run;
        let created = futures_util::future::join_all(rest.iter().map(|(name, port)| {
            run.create_node(NodeSpec {
                name: name.clone(),
                image: image.to_string(),
                publish: if direct { Vec::new() } else { vec![*port] },
                ..NodeSpec::default()
            })
        }))
        .await;
        for ((name, port), info) in rest.iter().zip(created) {
            let info = info.context(|| format!("creating node {name}"))?;
            let addr = self.reach_port(name, info.ip, *port).await?;
            out.push((info.ip, addr));
        }
        Ok(out)
    }
}

impl Cluster {
    /// Creates the container of a user framework (from `image`, any image: node-init is
    /// uploaded) with `ports` reachable by the harness. Returns its address on the run
    /// network and where the harness reaches each port. Meant after the Mesos nodes exist
    /// (they decide how the run reaches nodes).
    pub async fn create_framework_node(
        &mut self,
        name: &str,
        image: &str,
        ports: &[u16],
    ) -> Result<(Ipv4Addr, BTreeMap<u16, SocketAddr>), StepError> {
        self.decide_reach_without_nodes();
        let direct = self.reach.as_ref().is_some_and(|r| r.mode == Reach::Direct);
        let info = self
            .run
            .create_node(NodeSpec {
                name: name.to_string(),
                image: image.to_string(),
                publish: if direct { Vec::new() } else { ports.to_vec() },
                ..NodeSpec::default()
            })
            .await
            .context(|| format!("creating the container {name} from {image}"))?;
        self.framework_nodes.insert(name.to_string());
        let mut reached = BTreeMap::new();
        for port in ports {
            reached.insert(*port, self.reach_port(name, info.ip, *port).await?);
        }
        Ok((info.ip, reached))
    }

    /// Looks up again where the harness reaches Mesos node `name` (a published port may
    /// change when its node was cut off the network and connected again: issue 17's
    /// `partition_node`).
    pub async fn reach_again(&mut self, name: &str) -> Result<(), StepError> {
        let Some(n) = self.nodes.get(name).cloned() else {
            return Ok(());
        };
        let ip: Ipv4Addr =
            n.ip.parse()
                .map_err(|_| format!("{name}: address {} is not IPv4", n.ip))?;
        let reached_at = self
            .reach_port(name, ip, crate::mesos::roles::port(n.role))
            .await?;
        if let Some(n) = self.nodes.get_mut(name) {
            n.reached_at = reached_at;
        }
        Ok(())
    }
}
