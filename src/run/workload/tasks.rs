//! The test framework and the workload's tasks: subscribing, launching, waiting for
//! TASK_RUNNING and recording each task's process.

use std::time::{Duration, Instant};

use crate::domain::Version;
use crate::mesos::readiness;
use crate::mesos::scheduler::{Framework, FrameworkOptions};
use crate::mesos::task_state::TaskState;
use crate::mesos::workload::TaskSpec;
use crate::run::actions::MASTER_READY;
use crate::run::runner::{Outcome, Runner};
use crate::run::StepError;

use super::{executor_path, ProcessFacts};

/// How long launched tasks may take to report TASK_RUNNING.
const LAUNCH_WITHIN: Duration = Duration::from_secs(60);

impl Runner<'_> {
    /// Subscribes the test framework and launches the workload's tasks with the `from` build.
    pub(in crate::run) async fn start_workload(
        &mut self,
        tasks: u32,
        checkpoint: bool,
    ) -> Result<Outcome, StepError> {
        // Every master, the leader first: after a leader change the framework finds the
        // new one (a non-leader answers 307 and the next is tried).
        let masters = self
            .cluster
            .masters()
            .iter()
            .map(|m| self.cluster.target(m).map(|t| t.base_url))
            .collect::<Result<Vec<_>, _>>()?;
        let fw = Framework::subscribe_with(
            self.cluster.client.clone(),
            masters,
            FrameworkOptions {
                checkpoint,
                ..FrameworkOptions::default()
            },
            self.work.workload.handler(),
        )
        .await
        .map_err(|e| format!("test framework did not subscribe: {e}"))?;
        let leader = self.cluster.target(&self.cluster.masters()[0])?;
        readiness::wait_framework_active(&self.cluster.client, &leader, &fw.id(), MASTER_READY)
            .await
            .map_err(StepError::from)?;
        self.framework = Some(fw);
        if tasks == 0 {
            return Ok(Outcome::Done);
        }
        let from = self.plan.from;
        self.launch_tasks(from, tasks).await?;
        Ok(Outcome::Done)
    }

    /// `upgrade_executors`: new tasks with the `to` build; the old ones keep running.
    pub(in crate::run) async fn upgrade_executors(&mut self) -> Result<Outcome, StepError> {
        let to = self.plan.to;
        let n = self.scenario.workload.tasks;
        let launched = self.launch_tasks(to, n).await?;
        // Executors are per task: "upgrading" one means new tasks on the new build.
        let _ = launched;
        Ok(Outcome::Done)
    }

    /// Launches `n` tasks with executor build `build`, spread over the agents that are up;
    /// waits for TASK_RUNNING and records their processes.
    async fn launch_tasks(&mut self, build: Version, n: u32) -> Result<String, StepError> {
        let agents: Vec<String> = self
            .cluster
            .agents()
            .into_iter()
            .filter(|a| !self.down_by_design.contains(a))
            .collect();
        if agents.is_empty() {
            return Err("no agent is up to run tasks".into());
        }
        let specs: Vec<TaskSpec> = (0..n as usize)
            .map(|i| {
                self.work.next_task += 1;
                TaskSpec {
                    task_id: format!("task-{}", self.work.next_task),
                    hostname: agents[i % agents.len()].clone(),
                    executor_path: executor_path(build),
                    build: build.to_string(),
                }
            })
            .collect();
        let ids: Vec<String> = specs.iter().map(|s| s.task_id.clone()).collect();
        self.work.workload.add(specs);
        let fw = self
            .framework
            .as_ref()
            .ok_or("no test framework is running")?;
        // Offers the framework declined come back only after their filter and the next
        // allocation round: ask for them now. A failed REVIVE only costs that wait.
        let _ = fw.revive().await;
        let started = Instant::now();
        loop {
            let tasks = self.work.workload.tasks();
            let mut waiting = Vec::new();
            for id in &ids {
                let t = &tasks[id];
                if let Some(bad) = t.first_bad() {
                    return Err(format!(
                        "task {id} on {} went {} ({}): {}",
                        t.spec.hostname,
                        bad.0,
                        bad.1.clone().unwrap_or_default(),
                        bad.2.clone().unwrap_or_default()
                    )
                    .into());
                }
                if t.task_state() != Some(TaskState::Running) {
                    waiting.push(format!("{id}: {}", t.state().unwrap_or("not launched")));
                }
            }
            if waiting.is_empty() {
                break;
            }
            if started.elapsed() > LAUNCH_WITHIN {
                let last: Vec<String> = fw
                    .events()
                    .iter()
                    .rev()
                    .take(5)
                    .map(|e| format!("{:?}", e.event))
                    .collect();
                return Err(format!(
                    "tasks not TASK_RUNNING within {LAUNCH_WITHIN:?}: {}; last framework events: {}",
                    waiting.join(", "),
                    last.join("; ")
                ).into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let tasks = self.work.workload.tasks();
        let mut out = Vec::new();
        for id in &ids {
            let t = &tasks[id];
            let node = t.spec.hostname.clone();
            let sandbox = self.executor_sandbox(&node, id).await?;
            let pid = self.task_pid(&node, &sandbox, id).await?;
            let (ppid, start_time) = self.proc_stat(&node, pid).await?;
            let sandbox = Some(sandbox);
            self.work.facts.insert(
                id.clone(),
                ProcessFacts {
                    node: node.clone(),
                    pid,
                    ppid,
                    start_time,
                    restarts_at_launch: self.work.restarts.get(&node).copied().unwrap_or(0),
                    sandbox,
                },
            );
            out.push(format!(
                "{id} on {node} (pid {pid}, executor pid {ppid}, build {build})"
            ));
        }
        Ok(out.join(", "))
    }
}
