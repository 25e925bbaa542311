//! Several masters stopped at once (issue 7's negative test): does a quorum remain, and who
//! leads.

use std::time::Duration;

use super::*;

/// What became of the masters after several were stopped at once
/// ([`Cluster::stop_masters_at_once`]; issue 7).
#[derive(Debug, Clone, PartialEq)]
pub enum QuorumOutcome {
    /// A quorum still runs and one master leads.
    Kept {
        /// The leading master.
        leader: String,
    },
    /// Fewer masters than the quorum run and none led until the deadline: the expected
    /// outcome of losing the quorum.
    Lost {
        /// Masters whose process still runs.
        running: Vec<String>,
        /// How many masters the topology has.
        masters: usize,
        /// The replicated log's quorum (a majority of `masters`).
        quorum: usize,
        /// How long no master led.
        waited: Duration,
        /// What the last probe saw, per running master.
        last_seen: String,
    },
    /// Fewer masters than the quorum run, yet one claims to lead: a split brain, never
    /// acceptable.
    MinorityLeads {
        /// The master that claims to lead.
        leader: String,
        /// Masters whose process still runs.
        running: Vec<String>,
        /// The replicated log's quorum.
        quorum: usize,
        /// What the probe saw.
        seen: String,
    },
}

impl std::fmt::Display for QuorumOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QuorumOutcome::Kept { leader } => write!(f, "quorum kept: {leader} leads"),
            QuorumOutcome::Lost {
                running,
                masters,
                quorum,
                waited,
                last_seen,
            } => write!(
                f,
                "lost quorum: {} of {masters} masters running, quorum {quorum}; no leader within {:.0}s; last seen: {last_seen}",
                running.len(),
                waited.as_secs_f64()
            ),
            QuorumOutcome::MinorityLeads {
                leader,
                running,
                quorum,
                seen,
            } => write!(
                f,
                "{leader} leads with {} master(s) running, below the quorum {quorum}; seen: {seen}",
                running.len()
            ),
        }
    }
}

impl Cluster {
    /// The replicated log's quorum: a majority of the topology's masters.
    pub fn quorum(&self) -> usize {
        self.planned_masters / 2 + 1
    }

    /// Stops the Mesos process of every master in `names` at the same time (SIGTERM to all,
    /// then SIGKILL after the grace period), then says what became of the others within
    /// `within` (never longer: a probe that hangs is cut at the deadline).
    ///
    /// With a quorum left, waits for a single leader ([`Cluster::elect`]). Without one,
    /// watches the remaining masters for the whole of `within`: none may lead, i.e. be
    /// elected *and* have recovered its registry ([`readiness::leads`]; a master elected in ZooKeeper
    /// without a quorum of log replicas shows `master/elected=1` while its recovery hangs):
    /// [`QuorumOutcome::Lost`]; one that does is [`QuorumOutcome::MinorityLeads`].
    /// A remaining master whose process exits meanwhile is reported in `last_seen`.
    /// `Err` only when a stop or a status query fails.
    pub async fn stop_masters_at_once(
        &mut self,
        names: &[String],
        within: Duration,
    ) -> Result<QuorumOutcome, StepError> {
        for name in names {
            if self.node(name)?.role != Role::Master {
                return Err(format!("{name} is not a master").into());
            }
        }
        let stops = names
            .iter()
            .map(|name| self.run.stop_process(name, PROCESS, STOP_GRACE));
        let results = futures_util::future::join_all(stops).await;
        for (name, result) in names.iter().zip(results) {
            result.context(|| format!("stopping Mesos in {name}"))?;
            if let Some(n) = self.nodes.get_mut(name) {
                n.pid = None;
            }
        }
        if self.leader.as_ref().is_some_and(|l| names.contains(l)) {
            self.leader = None;
        }
        let running = self.running_masters();
        let quorum = self.quorum();
        if running.len() >= quorum {
            let leader = self.elect(within).await?;
            return Ok(QuorumOutcome::Kept { leader });
        }
        let started = Instant::now();
        let this = &*self;
        let watched = readiness::poll_until(within, || async {
            let mut seen = Vec::new();
            for name in &running {
                let status = this
                    .run
                    .process_status(name, PROCESS)
                    .await
                    .map_err(|e| format!("{name}: status unknown ({e})"))?;
                if !matches!(status, ProcessStatus::Running { .. }) {
                    seen.push(format!("{name} {status}"));
                    continue;
                }
                let target = this.target(name).map_err(|e| e.to_string())?;
                match this.client.metrics_snapshot(&target.base_url).await {
                    Ok(m) => match readiness::leadership(&m) {
                        Ok(leads) => return Ok((name.clone(), format!("{name} {leads}"))),
                        Err(not) => seen.push(format!("{name} {not}")),
                    },
                    Err(e) => seen.push(format!("{name} /metrics/snapshot: {}", e.brief())),
                }
            }
            Err(seen.join(", "))
        })
        .await;
        Ok(match watched {
            Ok((leader, seen)) => QuorumOutcome::MinorityLeads {
                leader,
                running,
                quorum,
                seen,
            },
            Err(last_seen) => QuorumOutcome::Lost {
                running,
                masters: self.planned_masters,
                quorum,
                waited: started.elapsed(),
                last_seen,
            },
        })
    }
}
