//! At every phase: fetch what the invariants and the scenario's checks need, and judge it.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::check::{self, Evidence, Need, Verdict};
use crate::mesos::endpoints::AGENT_REMOVALS;
use crate::mesos::readiness;
use crate::mesos::roles::Role;
use crate::report::{Place, Status, VerdictKind, VerdictRecord};
use crate::scenario::model::{Invariant, Target};

use super::runner::Runner;

/// How long invariants may take to settle after an action (they are waits, not snapshots).
const SETTLE: Duration = Duration::from_secs(20);

/// Whether a check's `on:` reaches `node` (of `role`).
pub fn targets(on: &Target, node: &str, role: Option<Role>) -> bool {
    match on {
        Target::Master => role == Some(Role::Master),
        Target::Agents => role == Some(Role::Agent),
        Target::Node(name) => name == node,
    }
}

impl Runner<'_> {
    /// Invariants, then the checks written for `phase`.
    pub(super) async fn judge(
        &self,
        phase: &str,
        logs: &BTreeMap<String, String>,
    ) -> Vec<VerdictRecord> {
        // Invariants first, all at once (each waits for the cluster to settle; they only
        // read): a phase costs the slowest of them, not their sum. Then the checks in file
        // order, each on its nodes at once: a check may change the cluster (a POST) for the
        // next one to read.
        let invariants = self
            .scenario
            .invariants
            .iter()
            .map(|inv| self.invariant(*inv));
        let (mut out, frameworks) = futures_util::future::join(
            futures_util::future::join_all(invariants),
            self.framework_verdicts(),
        )
        .await;
        out.extend(frameworks);
        for (index, c) in self.scenario.checks.iter().enumerate() {
            if c.value.after.value == phase {
                out.extend(self.check_verdicts(index, logs).await);
            }
        }
        out
    }

    /// The verdicts of check `index`, one per node it is made on.
    async fn check_verdicts(
        &self,
        index: usize,
        logs: &BTreeMap<String, String>,
    ) -> Vec<VerdictRecord> {
        let c = &self.scenario.checks[index].value;
        // `master` is the leader: with ZooKeeper the others answer most master
        // endpoints with a 307 redirect to it.
        let nodes: Vec<String> = match &c.on.value {
            Target::Master => self.cluster.masters().into_iter().take(1).collect(),
            on => self
                .cluster
                .nodes
                .iter()
                .filter(|(name, n)| targets(on, name, Some(n.role)))
                .map(|(name, _)| name.clone())
                .collect(),
        };
        if nodes.is_empty() {
            return vec![record(
                VerdictKind::Check,
                check::describe(c),
                "-",
                self.check_place(index, &["on"]),
                Verdict {
                    passed: false,
                    expected: check::describe(c),
                    seen: format!("no node matches on: {:?}", c.on.value),
                },
            )];
        }
        let need = check::needed(c);
        let evidence =
            futures_util::future::join_all(nodes.iter().map(|n| self.evidence(n, &need, logs)))
                .await;
        nodes
            .iter()
            .zip(evidence)
            .map(|(node, evidence)| {
                let verdict = check::evaluate(c, &evidence);
                let field = check::offending_field(c, &evidence);
                record(
                    VerdictKind::Check,
                    check::describe(c),
                    node,
                    self.check_place(index, field),
                    verdict,
                )
            })
            .collect()
    }

    /// Where check `index` writes `field` (its value), or the check itself.
    fn check_place(&self, index: usize, field: &[&str]) -> Option<Place> {
        self.place_in(&self.scenario.checks, index, field)
    }

    /// Fetches what a check needs from `node`.
    async fn evidence(&self, node: &str, need: &Need, logs: &BTreeMap<String, String>) -> Evidence {
        let client = &self.cluster.client;
        let target = match self.cluster.target(node) {
            Ok(t) => t,
            Err(e) => return Evidence::Unavailable(e.to_string()),
        };
        let base = target.base_url.as_str();
        let role = self
            .cluster
            .nodes
            .get(node)
            .map(|n| n.role)
            .unwrap_or(Role::Master);
        match need {
            Need::Http { method, path, body } => {
                let path = self.substitute(path);
                let answer = match body {
                    Some((body, ctype)) if *method == "POST" => {
                        client
                            .post(base, &path, ctype, self.substitute(body).into_bytes())
                            .await
                    }
                    _ => client.get(base, &path).await,
                };
                match answer {
                    Ok(r) => Evidence::Http {
                        status: r.status,
                        body: r.text(),
                    },
                    Err(e) => Evidence::Unavailable(e.to_string()),
                }
            }
            Need::Metrics => match client.metrics_snapshot(base).await {
                Ok(m) => Evidence::Metrics(m.0.keys().cloned().collect::<BTreeSet<_>>()),
                Err(e) => Evidence::Unavailable(e.to_string()),
            },
            Need::Flags => match client.flags(base, role).await {
                Ok(f) => Evidence::Flags(f),
                Err(e) => Evidence::Unavailable(e.to_string()),
            },
            Need::Log => Evidence::Log(logs.get(node).cloned().unwrap_or_default()),
            Need::StartOutcome => match self.start_outcomes.get(node) {
                Some((failed, output)) => Evidence::Start {
                    failed: *failed,
                    output: output.clone(),
                },
                None => Evidence::Unavailable(format!("{node} was not (re)started in this phase")),
            },
        }
    }

    /// Replaces `${agent-N.id}` with the agent IDs seen at the start.
    fn substitute(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (name, id) in &self.agent_ids {
            out = out.replace(&format!("${{{name}.id}}"), id);
        }
        out
    }

    /// Judges one invariant now.
    async fn invariant(&self, inv: Invariant) -> VerdictRecord {
        let name = inv.name().to_string();
        let client = &self.cluster.client;
        let Some(master) = self.cluster.masters().first().cloned() else {
            return skipped(&name, "no master in this cluster");
        };
        let leader = match self.cluster.target(&master) {
            Ok(t) => t,
            Err(e) => return failed(&name, &master, "a reachable master", e.to_string()),
        };
        match inv {
            Invariant::LeaderElected => {
                if self.down_by_design.contains(&master) {
                    return skipped(
                        &name,
                        "the master is down by design (a start that had to fail)",
                    );
                }
                verdict_of(
                    &name,
                    &master,
                    "exactly one master leads",
                    readiness::wait_master_elected(client, &leader, SETTLE)
                        .await
                        .map(|_| "one master leads".to_string()),
                )
            }
            Invariant::AgentsRegistered => {
                if self.agent_ids.is_empty() {
                    return skipped(&name, "no agent has registered yet");
                }
                let expected = self.expected_agents();
                let want = format!(
                    "{} agents active with their IDs from the start",
                    expected.len()
                );
                let got = readiness::wait_agents_active(client, &leader, &expected, SETTLE)
                    .await
                    .map(|ids| {
                        ids.iter()
                            .map(|(h, id)| format!("{h}={id}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    });
                verdict_of(&name, &master, &want, got)
            }
            Invariant::NoAgentRemoved => {
                // Removed while running, or dropped from the registry at the leader's
                // recovery (a registry loss after a master change).
                // A fault that expects tasks lost (an agent cut off past the ping budget)
                // allows that many removals (`run::faults`).
                let allowed = f64::from(self.work.expected_removals);
                let want = AGENT_REMOVALS
                    .iter()
                    .map(|c| match allowed {
                        0.0 => format!("{c} = 0"),
                        n => format!("{c} <= {n} (agents a fault was expected to remove)"),
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                let seen = client
                    .metrics_snapshot(&leader.base_url)
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|m| {
                        AGENT_REMOVALS
                            .iter()
                            .map(|c| match m.get(c) {
                                Some(v) if v <= allowed => Ok(format!("{c} = {v}")),
                                Some(v) => Err(format!("{c} = {v}")),
                                None => Err(format!("{c} not in /metrics/snapshot")),
                            })
                            .collect::<Result<Vec<_>, _>>()
                            .map(|ok| ok.join(", "))
                    });
                verdict_of(&name, &master, &want, seen)
            }
            Invariant::FrameworkRegistered => {
                if self.framework.is_none()
                    && self.scenario.workload.tasks == 0
                    && !self.scenario.frameworks.is_empty()
                {
                    let mut r = skipped(
                        &name,
                        "no built-in workload: the scenario's own frameworks are judged by framework_id",
                    );
                    r.status = Status::NoOp;
                    return r;
                }
                let Some(fw) = &self.framework else {
                    return skipped(&name, "the test framework has not started yet");
                };
                let id = fw.id();
                verdict_of(
                    &name,
                    &master,
                    &format!("framework {id} active"),
                    readiness::wait_framework_active(client, &leader, &id, SETTLE)
                        .await
                        .map(|_| format!("framework {id} active")),
                )
            }
            Invariant::TasksRunning => {
                if self.scenario.workload.tasks == 0 {
                    let mut r = skipped(&name, "the workload has no tasks");
                    r.status = Status::NoOp;
                    return r;
                }
                let (passed, expected, seen) = self.tasks_running().await;
                record(
                    VerdictKind::Invariant,
                    name.clone(),
                    "agents",
                    None,
                    Verdict {
                        passed,
                        expected,
                        seen,
                    },
                )
            }
            Invariant::NoRestartLoop => {
                let got = self.cluster.processes_stable().await;
                verdict_of(
                    &name,
                    "all",
                    "every Mesos process (and ZooKeeper server) is the one started last",
                    got,
                )
            }
        }
    }
}

fn record(
    kind: VerdictKind,
    name: String,
    node: &str,
    at: Option<Place>,
    verdict: Verdict,
) -> VerdictRecord {
    VerdictRecord {
        kind,
        name,
        node: node.to_string(),
        at,
        status: if verdict.passed {
            Status::Passed
        } else {
            Status::Failed
        },
        verdict,
    }
}

fn verdict_of<E: ToString>(
    name: &str,
    node: &str,
    expected: &str,
    got: Result<String, E>,
) -> VerdictRecord {
    let (passed, seen) = match got {
        Ok(seen) => (true, seen),
        Err(e) => (false, e.to_string()),
    };
    record(
        VerdictKind::Invariant,
        name.to_string(),
        node,
        None,
        Verdict {
            passed,
            expected: expected.to_string(),
            seen,
        },
    )
}

fn failed(name: &str, node: &str, expected: &str, seen: String) -> VerdictRecord {
    record(
        VerdictKind::Invariant,
        name.to_string(),
        node,
        None,
        Verdict {
            passed: false,
            expected: expected.to_string(),
            seen,
        },
    )
}

fn skipped(name: &str, why: &str) -> VerdictRecord {
    VerdictRecord {
        kind: VerdictKind::Invariant,
        name: name.to_string(),
        node: "-".to_string(),
        at: None,
        status: Status::Skipped,
        verdict: Verdict {
            passed: false,
            expected: String::new(),
            seen: why.to_string(),
        },
    }
}

/// How long the agents get to catch up with a reservation a check made through the master.
const RESOURCES_SETTLE: std::time::Duration = std::time::Duration::from_secs(10);

impl Runner<'_> {
    /// After a phase whose checks POSTed (a reservation through the master reaches the agent
    /// asynchronously): waits until every agent's own unreserved resources agree with the
    /// leading master's view, so that the phase's snapshots do not depend on timing. Returns
    /// what was last seen when they still disagree at the deadline (the snapshot then shows
    /// it, and the run says why).
    pub(super) async fn settle_resources(&self, phase: &str) -> Option<String> {
        let posted = self.scenario.checks.iter().any(|c| {
            c.value.after.value == phase
                && c.value.status.as_ref().is_some_and(|s| s.post.is_some())
        });
        if !posted {
            return None;
        }
        let started = std::time::Instant::now();
        loop {
            let last = match self.resources_disagreement().await {
                Ok(None) => return None,
                Ok(Some(why)) | Err(why) => why,
            };
            if started.elapsed() >= RESOURCES_SETTLE {
                return Some(format!(
                    "the agents' resources still differ from the master's after {:?}: {last}",
                    RESOURCES_SETTLE
                ));
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    async fn resources_disagreement(&self) -> Result<Option<String>, String> {
        let get = |node: String, path: &'static str| async move {
            let target = self.cluster.target(&node).map_err(|e| e.to_string())?;
            let r = self
                .cluster
                .client
                .get(&target.base_url, path)
                .await
                .map_err(|e| format!("{node}: {path}: {e}"))?;
            serde_json::from_slice::<serde_json::Value>(&r.body)
                .map_err(|e| format!("{node}: {path}: {e}"))
        };
        let leader = self.cluster.masters().first().cloned().ok_or("no master")?;
        let master = crate::mesos::resources::master_view(
            &get(leader, crate::mesos::endpoints::MASTER_STATE).await?,
        );
        for agent in self.cluster.agents() {
            if self.down_by_design.contains(&agent) {
                continue;
            }
            let state = get(agent, crate::mesos::endpoints::AGENT_STATE).await?;
            if let Some(why) = crate::mesos::resources::disagreement(&state, &master) {
                return Ok(Some(why));
            }
        }
        Ok(None)
    }
}
