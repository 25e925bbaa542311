//! Fault actions (issue 17): a node's Mesos process SIGKILLed and started again, a node
//! frozen or cut off the network for a while, the ZooKeeper server restarted, the test
//! framework dropping its connection; and the operator mistakes made while a node is down.
//!
//! After a fault the run waits, up to the scenario's `expect.within`, until the cluster is
//! whole again (a master leads, every agent that should be up is active with its ID, the
//! framework is active) and says how long that took: the recovery time the report shows.
//! Mesos masters exit when they lose leadership or their ZooKeeper session and rely on a
//! supervisor to start them again; the run plays that supervisor after a fault and says so.

use std::time::{Duration, Instant};

use crate::domain::{FaultTarget, Mistake, Role, StepKind, TasksAfterFault};
use crate::images::zookeeper;
use crate::mesos::readiness;
use crate::mesos::roles;
use crate::plan::{self, Fault};

use super::cluster::{PROCESS, ZOOKEEPER_PROCESS};
use super::runner::{Outcome, Runner};
use super::{Context, StepError};

/// How long a SIGKILLed process may take to be gone.
const KILL_GRACE: Duration = Duration::from_secs(5);
/// How long one election wait lasts before exited Mesos processes are looked for again.
const SUPERVISE_EVERY: Duration = Duration::from_secs(5);

impl Runner<'_> {
    /// Performs a fault action; `Outcome::DoneAs` says what happened and how long the
    /// cluster took to recover.
    pub(super) async fn fault(
        &mut self,
        action: &plan::Action,
        fault: &Fault,
    ) -> Result<Outcome, StepError> {
        let nodes = self.fault_nodes(fault)?;
        let within = Duration::from_secs(u64::from(fault.expect.within));
        if fault.expect.tasks == TasksAfterFault::Lost {
            // Tasks are lost when the master gives their agent up: it may remove it.
            self.work.expected_removals += nodes
                .iter()
                .filter(|n| self.cluster.agents().contains(n))
                .count() as u32;
            for (id, f) in &self.work.facts {
                if nodes.contains(&f.node) {
                    self.work.ended_by_design.insert(id.clone());
                }
            }
        }
        let started = Instant::now();
        let mut supervised = Vec::new();
        let what = match fault.kind {
            StepKind::KillNode => {
                let node = nodes.first().cloned().ok_or("kill_node: no node to kill")?;
                let version = action
                    .running
                    .as_ref()
                    .map(|r| r.after)
                    .unwrap_or(self.cluster.target(&node)?.version);
                for n in &nodes {
                    self.sigkill(n).await?;
                }
                let mut restart = action.clone();
                restart.role = self.cluster.nodes.get(&node).map(|n| n.role);
                for n in &nodes {
                    restart.node = Some(n.clone());
                    let overrides = action.overrides.clone().unwrap_or_default();
                    self.restart(&restart, n, version, &overrides, false)
                        .await?;
                }
                format!(
                    "SIGKILLed Mesos in {}, started {version} again",
                    nodes.join(", ")
                )
            }
            StepKind::PauseNode => {
                // runc may fail to freeze a node on a loaded host and thaw it again: the
                // freeze is retried, and a retried one said (docs/faults.md).
                let mut retried = Vec::new();
                for n in &nodes {
                    let attempts = self
                        .cluster
                        .run
                        .pause_node(n)
                        .await
                        .context(|| format!("freezing {n}"))?;
                    if attempts > 1 {
                        retried.push(format!("{n} frozen at attempt {attempts}"));
                    }
                }
                tokio::time::sleep(Duration::from_secs(u64::from(fault.seconds))).await;
                for n in &nodes {
                    self.cluster
                        .run
                        .unpause_node(n)
                        .await
                        .context(|| format!("thawing {n}"))?;
                }
                let mut what = format!("froze {} for {} s", nodes.join(", "), fault.seconds);
                if !retried.is_empty() {
                    what.push_str(&format!(
                        " (runc could not freeze at first: {})",
                        retried.join(", ")
                    ));
                }
                what
            }
            StepKind::PartitionNode => {
                let before: Vec<_> = nodes
                    .iter()
                    .filter_map(|n| self.cluster.nodes.get(n).map(|s| (n.clone(), s.reached_at)))
                    .collect();
                for n in &nodes {
                    self.cluster
                        .run
                        .disconnect_node(n)
                        .await
                        .context(|| format!("cutting {n} off the network"))?;
                }
                tokio::time::sleep(Duration::from_secs(u64::from(fault.seconds))).await;
                for n in &nodes {
                    self.cluster
                        .run
                        .reconnect_node(n)
                        .await
                        .context(|| format!("reconnecting {n}"))?;
                    self.cluster.reach_again(n).await?;
                }
                self.follow_moved_masters(&nodes, &before).await?;
                format!(
                    "cut {} off the network for {} s",
                    nodes.join(", "),
                    fault.seconds
                )
            }
            StepKind::RestartZookeeper => {
                self.restart_zookeepers().await?;
                "restarted the ZooKeeper server".to_string()
            }
            StepKind::RestartFramework => {
                let fw = self
                    .framework
                    .as_ref()
                    .ok_or("no test framework is running")?;
                let id = fw.id();
                fw.failover(None).await.context(|| {
                    format!("framework {id}: dropping the connection and subscribing again")
                })?;
                format!("the framework {id} dropped its connection and subscribed again")
            }
            other => return Err(format!("{other} is not a fault").into()),
        };
        // The fault is over: from here the cluster must be whole again. A kill is over at
        // once (the restart is part of the recovery); a freeze or a partition when it ends.
        let over = match fault.kind {
            StepKind::PauseNode | StepKind::PartitionNode => Instant::now(),
            _ => started,
        };
        let recovered = self
            .until_whole(action.number, within, &mut supervised)
            .await;
        let took = over.elapsed();
        let mut text = format!(
            "{}: {what}; whole again {:.1} s after the fault ended ({:.1} s after it began; bound {} s)",
            action.describe(self.plan.node_model),
            took.as_secs_f64(),
            started.elapsed().as_secs_f64(),
            fault.expect.within
        );
        if !supervised.is_empty() {
            text.push_str(&format!(
                "; restarted as a supervisor would: {}",
                supervised.join("; ")
            ));
        }
        self.progress
            .note(&format!("{} recovered", fault.kind), took);
        let line = format!(
            "{}\t{}\t{:.3}\t{}\n",
            fault.kind,
            nodes.join(","),
            took.as_secs_f64(),
            if recovered.is_ok() {
                "recovered"
            } else {
                "not recovered"
            }
        );
        let path = self.folder.join("recoveries.tsv");
        let mut all = std::fs::read_to_string(&path).unwrap_or_default();
        all.push_str(&line);
        let _ = std::fs::write(&path, all);
        recovered.map_err(|e| StepError::Cluster(format!("{text}: not whole again: {e}")))?;
        Ok(Outcome::DoneAs(text))
    }

    /// With published ports, a master connected again may be reached at another port: the
    /// test framework, which holds the masters' addresses, is told the new ones (it
    /// subscribes again, as a scheduler given a new master list would).
    async fn follow_moved_masters(
        &mut self,
        nodes: &[String],
        before: &[(String, std::net::SocketAddr)],
    ) -> Result<(), StepError> {
        let moved = before.iter().any(|(n, addr)| {
            self.cluster
                .nodes
                .get(n)
                .is_some_and(|s| s.role == Role::Master && s.reached_at != *addr)
        });
        let Some(fw) = self.framework.as_ref().filter(|_| moved) else {
            return Ok(());
        };
        let urls = self
            .cluster
            .masters()
            .iter()
            .map(|m| self.cluster.target(m).map(|t| t.base_url))
            .collect::<Result<Vec<_>, _>>()?;
        fw.failover(Some(urls)).await.context(|| {
            format!(
                "the framework following {} to its new address",
                nodes.join(", ")
            )
        })
    }

    /// The nodes a fault hits.
    fn fault_nodes(&self, fault: &Fault) -> Result<Vec<String>, StepError> {
        Ok(match &fault.target {
            _ if !fault.kind.targets_a_node() => Vec::new(),
            FaultTarget::Node(n) => vec![n.clone()],
            FaultTarget::Master | FaultTarget::Random => {
                vec![self
                    .cluster
                    .masters()
                    .first()
                    .cloned()
                    .ok_or("no master to hit")?]
            }
            FaultTarget::Agents => self.cluster.agents(),
        })
    }

    /// SIGKILLs the Mesos process of `node` (the stop of a crash, not of an operator).
    async fn sigkill(&mut self, node: &str) -> Result<(), StepError> {
        self.cluster
            .run
            .stop_process_with(node, PROCESS, "KILL", KILL_GRACE)
            .await
            .context(|| format!("SIGKILL to Mesos in {node}"))?;
        if let Some(n) = self.cluster.nodes.get_mut(node) {
            n.pid = None;
        }
        Ok(())
    }

    /// SIGKILLs every ZooKeeper server and starts it again on its data dir.
    async fn restart_zookeepers(&mut self) -> Result<(), StepError> {
        let names: Vec<String> = self.cluster.zookeepers.keys().cloned().collect();
        if names.is_empty() {
            return Err("restart_zookeeper: the cluster has no ZooKeeper node".into());
        }
        for name in names {
            self.cluster
                .run
                .stop_process_with(&name, ZOOKEEPER_PROCESS, "KILL", KILL_GRACE)
                .await
                .context(|| format!("SIGKILL to ZooKeeper in {name}"))?;
            let argv = zookeeper::server_argv();
            let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
            let pid = self
                .cluster
                .run
                .start_process(&name, ZOOKEEPER_PROCESS, &argv, &[])
                .await
                .context(|| format!("starting ZooKeeper in {name}"))?;
            let addr = self.cluster.zookeepers[&name].reached_at;
            zookeeper::wait_ready(addr, Duration::from_secs(60))
                .await
                .map_err(|e| format!("ZooKeeper in {name} after its restart: {e}"))?;
            if let Some(z) = self.cluster.zookeepers.get_mut(&name) {
                z.pid = pid;
            }
        }
        Ok(())
    }

    /// Starts again every Mesos process that exited on its own (not down by design), naming
    /// it and why it exited in `supervised`.
    async fn restart_exited(
        &mut self,
        number: usize,
        supervised: &mut Vec<String>,
    ) -> Result<(), StepError> {
        let mut exited = Vec::new();
        for (name, n) in &self.cluster.nodes {
            if n.pid.is_none() || self.down_by_design.contains(name) {
                continue;
            }
            if let Ok(crate::docker::ProcessStatus::Running { .. }) =
                self.cluster.run.process_status(name, PROCESS).await
            {
                continue;
            }
            exited.push(name.clone());
        }
        for name in exited {
            let output = self.cluster.process_output(&name).await;
            // Mesos says why it exits on one line ("EXIT with status 1: Lost candidacy...").
            let why = output
                .lines()
                .rev()
                .find(|l| l.contains("EXIT with status"))
                .map(|l| l.trim().to_string())
                .unwrap_or_else(|| crate::check::last_lines(&output, 1));
            let (version, role) = {
                let n = &self.cluster.nodes[&name];
                (n.version, n.role)
            };
            let overrides = self.plan.overrides_before(&name, number);
            self.cluster.start_mesos(&name, version, &overrides).await?;
            if role == Role::Agent {
                self.note_agent_restart(&name, false);
            }
            supervised.push(format!("{name} had exited ({why})"));
        }
        Ok(())
    }

    /// Waits until the cluster is whole: every Mesos process that should run runs (one that
    /// exited is started again, as its supervisor would, and named in `supervised`), a master
    /// leads, every agent is active with its ID, and the framework is active.
    async fn until_whole(
        &mut self,
        number: usize,
        within: Duration,
        supervised: &mut Vec<String>,
    ) -> Result<(), StepError> {
        let deadline = Instant::now() + within;
        let left = || deadline.saturating_duration_since(Instant::now());
        // A master that lost its ZooKeeper session or leadership exits by design, maybe only
        // seconds after the fault (under load, long after it): until the masters elect,
        // every Mesos process that exited is started again, as its supervisor would.
        loop {
            self.restart_exited(number, supervised).await?;
            if !self.cluster.is_ha() {
                break;
            }
            match self.cluster.elect(left().min(SUPERVISE_EVERY)).await {
                Ok(_) => break,
                Err(e) if left().is_zero() => return Err(e),
                Err(_) => continue,
            }
        }
        let leader = self.cluster.target(&self.cluster.masters()[0])?;
        readiness::wait_master_elected(&self.cluster.client, &leader, left())
            .await
            .map_err(StepError::from)?;
        let expected = self.expected_agents();
        readiness::wait_agents_active(&self.cluster.client, &leader, &expected, left())
            .await
            .map_err(StepError::from)?;
        if let Some(fw) = &self.framework {
            readiness::wait_framework_active(&self.cluster.client, &leader, &fw.id(), left())
                .await
                .map_err(StepError::from)?;
        }
        Ok(())
    }

    /// The scenario's mistake for this action, made while `node` is down.
    pub(super) async fn mistake_while_down(
        &mut self,
        action: &plan::Action,
        node: &str,
    ) -> Result<(), StepError> {
        let Some(mistake) = action.mistake else {
            return Ok(());
        };
        let path = match mistake {
            Mistake::WipeWorkDir => roles::AGENT_WORK_DIR,
            Mistake::DeleteRegistry => roles::MASTER_WORK_DIR,
            Mistake::KillExecutors => return self.kill_tasks_of(node).await.map(|_| ()),
            Mistake::KillFrameworks => return self.kill_frameworks().await,
        };
        self.cluster
            .run
            .remove_path(node, path)
            .await
            .context(|| format!("{}: removing {path} in {node}", mistake.name()))?;
        Ok(())
    }
}
