//! What each kind of action does to the cluster, and the waits that tell it is done.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::docker::Reach;
use crate::domain::{Role, Version};
use crate::mesos::readiness::{self, ExpectedAgent};
use crate::plan::{self, ActionKind};
use crate::runnable::{self, SkipKind};

use super::judge;
use super::runner::{Outcome, Runner};
use super::{Context, StepError};

/// How long a master may take to lead after its process starts.
pub(super) const MASTER_READY: Duration = Duration::from_secs(60);
/// How long agents may take to (re-)register after their process starts.
pub(super) const AGENT_READY: Duration = Duration::from_secs(60);
/// How long a start that must fail may take to exit.
const FAILING_START: Duration = Duration::from_secs(20);

impl Runner<'_> {
    /// One progress line, once per run, saying how the harness reaches the nodes (decided
    /// when the first node was created).
    fn note_reach(&mut self) {
        if let Some(r) = self.cluster.reach_news() {
            let how = match r.mode {
                Reach::Direct => "directly",
                Reach::Published => "through published ports",
            };
            self.progress
                .note(&format!("nodes reached {how} ({})", r.why), r.took);
        }
    }

    /// Performs one action of the plan.
    pub(super) async fn act(
        &mut self,
        action: &plan::Action,
        image: &str,
    ) -> Result<Outcome, StepError> {
        let node = action.node.clone().unwrap_or_default();
        let overrides = action.overrides.clone().unwrap_or_default();
        match &action.kind {
            ActionKind::StartNode => {
                let role = action.role.ok_or("start action without a role")?;
                if role == Role::ZooKeeper {
                    let created = self.cluster.create_zookeeper(&node, image).await;
                    self.note_reach();
                    let took = created?;
                    self.progress
                        .note(&format!("{node}: ZooKeeper answers imok"), took);
                    return Ok(Outcome::Done);
                }
                let version = action
                    .running
                    .as_ref()
                    .map(|v| v.after)
                    .ok_or("start action without a version")?;
                if !self.cluster.nodes.contains_key(&node) {
                    // Every Mesos node the start creates, at once (containers only: each
                    // node's Mesos process still starts in its own action, in plan order).
                    let created = self
                        .cluster
                        .create_nodes(&self.nodes_to_start(), image)
                        .await;
                    self.note_reach();
                    created?;
                }
                self.after_node_created(&node).await?;
                self.install_module_builds(&node, version).await?;
                self.cluster.start_mesos(&node, version, &overrides).await?;
                self.wait_ready_after_start(&node, role).await?;
                self.prove_modules(&node).await?;
                Ok(Outcome::Done)
            }
            ActionKind::StartWorkload { tasks, checkpoint } => {
                self.start_workload(*tasks, *checkpoint).await
            }
            ActionKind::ReplaceProcess
            | ActionKind::RestartProcess
            | ActionKind::RestartWithFlags => {
                let version = action
                    .running
                    .as_ref()
                    .map(|v| v.after)
                    .ok_or("restart action without a version")?;
                // With ZooKeeper the run picks the master (non-leaders first): the report
                // says which one this action replaced.
                let replaced = self.ha_master_in_turn(action, &node, version);
                let led = self.cluster.is_ha() && self.cluster.leader.as_deref() == Some(&replaced);
                let really = (replaced != node || led).then(|| {
                    let turn = if led {
                        "the leader, last"
                    } else {
                        "a non-leader"
                    };
                    format!(
                        "{} (plan's turn of {node}; {turn})",
                        action
                            .describe(self.plan.node_model)
                            .replace(&node, &replaced)
                    )
                });
                let restarted = self
                    .restart(action, &replaced, version, &overrides, false)
                    .await;
                if let (Err(e), Some(really)) = (&restarted, &really) {
                    return Err(StepError::Cluster(format!("{really}: {e}")));
                }
                restarted?;
                Ok(really.map_or(Outcome::Done, Outcome::DoneAs))
            }
            ActionKind::RebootNode => {
                let version = action
                    .running
                    .as_ref()
                    .map(|v| v.after)
                    .ok_or("reboot action without a version")?;
                self.restart(action, &node, version, &overrides, true).await
            }
            ActionKind::StartFramework { index, .. } => self.start_framework(*index, image).await,
            ActionKind::SchedulerUpgrade | ActionKind::SchedulerFailover
                if self.framework.is_none() =>
            {
                // Only the scenario's own frameworks run.
                let upgrade = matches!(action.kind, ActionKind::SchedulerUpgrade);
                let done = self.restart_frameworks(upgrade).await?;
                Ok(Outcome::DoneAs(format!(
                    "restart the scenario's frameworks{}: {done}",
                    if upgrade {
                        " (with their upgrade_to programs)"
                    } else {
                        ""
                    }
                )))
            }
            ActionKind::SchedulerUpgrade | ActionKind::SchedulerFailover => {
                let fw = self
                    .framework
                    .as_ref()
                    .ok_or("no test framework is running")?;
                let id = fw.id();
                let before = fw.subscriptions();
                fw.failover(None)
                    .await
                    .context(|| "framework failover".to_string())?;
                fw.wait_resubscribed(before)
                    .await
                    .context(|| format!("framework {id} did not re-subscribe"))?;
                if fw.id() != id {
                    return Err(
                        format!("framework re-subscribed as {} instead of {id}", fw.id()).into(),
                    );
                }
                let leader = self.cluster.target(&self.cluster.masters()[0])?;
                readiness::wait_framework_active(&self.cluster.client, &leader, &id, MASTER_READY)
                    .await
                    .map_err(StepError::from)?;
                if self.frameworks.is_empty() {
                    return Ok(Outcome::Done);
                }
                let upgrade = matches!(action.kind, ActionKind::SchedulerUpgrade);
                let done = self.restart_frameworks(upgrade).await?;
                Ok(Outcome::DoneAs(format!(
                    "{}; the scenario's frameworks: {done}",
                    action.describe(self.plan.node_model)
                )))
            }
            ActionKind::ExecutorUpgrade => self.upgrade_executors().await,
            ActionKind::Fault(fault) => self.fault(action, fault).await,
            ActionKind::Pause { seconds } => {
                tokio::time::sleep(Duration::from_secs(u64::from(*seconds))).await;
                Ok(Outcome::Done)
            }
            // What this runner leaves out is decided once, where `check`/`plan`/`list`
            // read it too.
            ActionKind::RebuildModules { .. } => self.rebuild_modules().await,
            kind @ (ActionKind::InstallBinaries
            | ActionKind::ReconfigureCgroupsMounts
            | ActionKind::SetFrameworkCheckpoint) => Ok(match runnable::action_skip(kind) {
                Some((SkipKind::Skipped, why)) => Outcome::Skipped(why),
                Some((SkipKind::NoOp, why)) => Outcome::NoOp(why),
                None => Outcome::Done,
            }),
            ActionKind::NoOp { reason } => Ok(Outcome::NoOp(reason.clone())),
        }
    }

    /// The Mesos nodes the plan's start actions create, with their role and first version.
    fn nodes_to_start(&self) -> Vec<(String, Role, Version)> {
        self.plan
            .entries
            .iter()
            .filter_map(|e| match e {
                plan::Entry::Action(a) if matches!(a.kind, ActionKind::StartNode) => {
                    Some((a.node.clone()?, a.role?, a.running.as_ref()?.after))
                }
                _ => None,
            })
            .collect()
    }

    /// Stops (or reboots) a node's Mesos process and starts `version` in its place, then
    /// waits until the cluster has it back with its identity.
    pub(super) async fn restart(
        &mut self,
        action: &plan::Action,
        node: &str,
        version: Version,
        overrides: &plan::FlagOverrides,
        reboot: bool,
    ) -> Result<Outcome, StepError> {
        let role = action.role.ok_or("restart action without a role")?;
        let baseline = match role {
            Role::Agent => {
                let leader = self.cluster.target(&self.cluster.masters()[0])?;
                Some(
                    readiness::registration_baseline(&self.cluster.client, &leader)
                        .await
                        .context(|| "reading registration metrics".to_string())?,
                )
            }
            _ => None,
        };
        let stopping = Instant::now();
        if reboot {
            self.cluster.reboot(node).await?;
        } else {
            self.cluster.stop_mesos(node).await?;
        }
        if role == Role::Master
            && self.cluster.is_ha()
            && self.cluster.leader.as_deref() == Some(node)
        {
            self.await_failover(node, stopping).await?;
        }
        self.note_agent_restart(node, reboot);
        self.while_agent_down(node).await?;
        self.mistake_while_down(action, node).await?;
        self.cluster.start_mesos(node, version, overrides).await?;
        self.down_by_design.retain(|n| n != node);
        if self.start_must_fail(action, node) {
            let exited = self.cluster.exited_within(node, FAILING_START).await?;
            let output = self.cluster.process_output(node).await;
            self.start_outcomes
                .insert(node.to_string(), (exited, output));
            if exited {
                self.down_by_design.push(node.to_string());
                return Ok(Outcome::Done);
            }
        }
        match role {
            Role::Master if self.cluster.is_ha() => self.wait_ha_master_back(node).await?,
            Role::Master => {
                let target = self.cluster.target(node)?;
                let elected =
                    readiness::wait_master_elected(&self.cluster.client, &target, MASTER_READY);
                self.unless_exits(node, version, elected).await?;
                let within =
                    self.cluster.tuning.agent_reregistration_bound() + Duration::from_secs(10);
                let ids = self.up_agent_ids();
                // Raced with an exit too: a master may lead, then exit while it recovers the
                // registry (one that needs capabilities it lacks, after a downgrade).
                let back = readiness::wait_agents_reregistered_after_master(
                    &self.cluster.client,
                    &target,
                    &ids,
                    within,
                );
                if let Err(e) = self.unless_exits(node, version, back).await {
                    return Err(format!("{e}{}", self.master_refusals(node).await).into());
                }
            }
            Role::Agent => {
                let leader = self.cluster.target(&self.cluster.masters()[0])?;
                let agent = self.cluster.target(node)?;
                let id = self
                    .agent_ids
                    .get(node)
                    .cloned()
                    .ok_or_else(|| format!("{node} never registered"))?;
                let back = readiness::wait_agent_reregistered(
                    &self.cluster.client,
                    &leader,
                    &agent,
                    &id,
                    baseline.expect("agents have a baseline"),
                    AGENT_READY,
                );
                self.unless_exits(node, version, back).await?;
            }
            Role::ZooKeeper => {}
        }
        self.prove_modules(node).await?;
        Ok(Outcome::Done)
    }

    /// Waits for `ready`, unless `node`'s Mesos process exits first: a process that died
    /// while starting (a flag it refuses, a missing library) fails the action at once with
    /// its last output lines, instead of at the readiness deadline.
    pub(super) async fn unless_exits<T, E: Into<StepError>>(
        &self,
        node: &str,
        version: Version,
        ready: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, StepError> {
        tokio::select! {
            r = ready => r.map_err(Into::into),
            status = self.cluster.until_exited(node) => {
                let output = self.cluster.process_output(node).await;
                Err(StepError::Cluster(format!(
                    "Mesos {version} in {node} {status} while starting; its last output: {}",
                    crate::mesos::glog::exit_quote(&output, 3)
                )))
            }
        }
    }

    /// Why the master refused re-registrations, from its log (`; the master logged: ...`),
    /// or nothing. Names the 1.4 `mesos-executor` bug ("Task has an invalid ExecutorID").
    pub(super) async fn master_refusals(&self, master: &str) -> String {
        let log = self.cluster.process_output(master).await;
        let lines: Vec<String> = readiness::refusal_lines(&log);
        if lines.is_empty() {
            return String::new();
        }
        format!("; the master logged: {}", lines.join(" | "))
    }

    /// Whether a `fails_to_start` check at this action's phases targets `node`.
    pub(super) fn start_must_fail(&self, action: &plan::Action, node: &str) -> bool {
        let Some(step) = &action.step else {
            return false;
        };
        let node_phase = format!("{}/{node}", step.phase);
        let role = self.cluster.nodes.get(node).map(|n| n.role);
        self.scenario.checks.iter().any(|c| {
            let c = &c.value;
            c.fails_to_start.is_some()
                && (c.after.value == node_phase || c.after.value == step.phase)
                && judge::targets(&c.on.value, node, role)
        })
    }

    /// The agents that should be up, each with the ID it registered with at the start.
    pub(super) fn expected_agents(&self) -> Vec<ExpectedAgent> {
        self.up_agent_ids()
            .into_iter()
            .map(|(hostname, id)| ExpectedAgent {
                hostname,
                id: Some(id),
            })
            .collect()
    }

    /// Agent IDs of the agents that should be up.
    pub(super) fn up_agent_ids(&self) -> BTreeMap<String, String> {
        self.agent_ids
            .iter()
            .filter(|(n, _)| !self.down_by_design.contains(n))
            .map(|(n, id)| (n.clone(), id.clone()))
            .collect()
    }

    /// After a node's first start: a master leads; an agent registers (its ID is kept).
    pub(super) async fn wait_ready_after_start(
        &mut self,
        node: &str,
        role: Role,
    ) -> Result<(), StepError> {
        match role {
            Role::Master if self.cluster.is_ha() => {
                // A master cannot recover the registry before a quorum of them runs: until
                // the last one started, each must only answer; then exactly one leads.
                self.wait_answers(node).await?;
                // Every master node exists from the first start on (created at once): count
                // those whose Mesos process runs.
                if self.cluster.running_masters().len() >= self.cluster.planned_masters {
                    self.cluster.elect(MASTER_READY).await?;
                }
                Ok(())
            }
            // Raced with the process's exit: a node stopped at its start (by a module the
            // loader refuses, say) fails at once, with its own last lines.
            Role::Master => {
                let target = self.cluster.target(node)?;
                let elected =
                    readiness::wait_master_elected(&self.cluster.client, &target, MASTER_READY);
                self.unless_exits(node, target.version, elected).await
            }
            Role::Agent => {
                let leader = self.cluster.target(&self.cluster.masters()[0])?;
                let version = self.cluster.target(node)?.version;
                let expected = [ExpectedAgent {
                    hostname: node.to_string(),
                    id: None,
                }];
                let active = readiness::wait_agents_active(
                    &self.cluster.client,
                    &leader,
                    &expected,
                    AGENT_READY,
                );
                let ids = self.unless_exits(node, version, active).await?;
                let id = ids
                    .get(node)
                    .cloned()
                    .ok_or_else(|| format!("{node} is active but has no ID in /master/state"))?;
                self.agent_ids.insert(node.to_string(), id);
                Ok(())
            }
            Role::ZooKeeper => Ok(()),
        }
    }
}
