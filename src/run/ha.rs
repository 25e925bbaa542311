//! Masters with ZooKeeper: which master an upgrade replaces (non-leaders first, the leader
//! last), failovers, and waiting until a master is back.

use std::time::{Duration, Instant};

use crate::domain::{Role, Version};
use crate::mesos::readiness;
use crate::plan;

use super::actions::{AGENT_READY, MASTER_READY};
use super::runner::Runner;
use super::StepError;

impl Runner<'_> {
    /// With ZooKeeper, which master an upgrade action replaces: the plan names masters in
    /// order, the run takes them non-leaders first and the leader last. Restarts without a
    /// version change keep the plan's node.
    pub(super) fn ha_master_in_turn(
        &self,
        action: &plan::Action,
        node: &str,
        version: Version,
    ) -> String {
        let changes = action.running.as_ref().is_some_and(|v| v.changes());
        if !self.cluster.is_ha() || action.role != Some(Role::Master) || !changes {
            return node.to_string();
        }
        let pending: Vec<String> = self
            .cluster
            .masters()
            .into_iter()
            .filter(|m| {
                self.cluster
                    .nodes
                    .get(m)
                    .is_some_and(|n| n.version != version)
            })
            .collect();
        let leader = self.cluster.leader.clone();
        // The plan's node when it is a pending non-leader (a seed may have reordered them),
        // else the first pending non-leader, the leader last.
        if pending.iter().any(|m| m == node) && leader.as_deref() != Some(node) {
            return node.to_string();
        }
        pending
            .iter()
            .find(|m| Some(*m) != leader.as_ref())
            .or(pending.first())
            .cloned()
            .unwrap_or_else(|| node.to_string())
    }

    /// Waits until `node` answers `/metrics/snapshot`.
    pub(super) async fn wait_answers(&self, node: &str) -> Result<(), StepError> {
        let target = self.cluster.target(node)?;
        let client = &self.cluster.client;
        readiness::poll_until(MASTER_READY, || async {
            client
                .metrics_snapshot(&target.base_url)
                .await
                .map(|_| ())
                .map_err(|e| e.brief())
        })
        .await
        .map_err(|seen| {
            StepError::Cluster(format!(
                "{} does not answer /metrics/snapshot within {MASTER_READY:?}: {seen}",
                target.name
            ))
        })
    }

    /// The leader `old` was stopped at `since`: waits until another master leads, records
    /// the failover time, and waits until the agents re-registered with the new leader.
    pub(super) async fn await_failover(
        &mut self,
        old: &str,
        since: Instant,
    ) -> Result<(), StepError> {
        let new = self.cluster.elect(MASTER_READY).await?;
        let took = since.elapsed();
        self.cluster
            .failovers
            .push((old.to_string(), new.clone(), took.as_secs_f64()));
        self.progress
            .note(&format!("leader {old} stopped: {new} leads"), took);
        let line = format!("{old} -> {new} {:.3}s\n", took.as_secs_f64());
        let path = self.folder.join("failovers.txt");
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        text.push_str(&line);
        let _ = std::fs::write(&path, text);
        let target = self.cluster.target(&new)?;
        let within = self.cluster.tuning.agent_reregistration_bound() + Duration::from_secs(10);
        let ids = self.up_agent_ids();
        readiness::wait_agents_reregistered_after_master(
            &self.cluster.client,
            &target,
            &ids,
            within,
        )
        .await
        .map_err(StepError::from)
    }

    /// An HA master came back (possibly at another version): it answers, exactly one
    /// master leads, and every agent is active there with its ID.
    pub(super) async fn wait_ha_master_back(&mut self, node: &str) -> Result<(), StepError> {
        self.wait_answers(node).await?;
        let leader = self.cluster.elect(MASTER_READY).await?;
        let target = self.cluster.target(&leader)?;
        let expected = self.expected_agents();
        readiness::wait_agents_active(&self.cluster.client, &target, &expected, AGENT_READY)
            .await
            .map(|_| ())
            .map_err(StepError::from)
    }
}
