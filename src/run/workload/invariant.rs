//! The `TasksRunning` invariant, and the agent restarts it accounts for.

use std::time::{Duration, Instant};

use crate::mesos::task_state::TaskState;
use crate::run::runner::Runner;

/// How long the invariant waits for tasks to settle after an action.
const SETTLE: Duration = Duration::from_secs(20);

impl Runner<'_> {
    /// Called when an agent's Mesos process is restarted (`reboot`: its node rebooted).
    pub(in crate::run) fn note_agent_restart(&mut self, node: &str, reboot: bool) {
        if !self.cluster.agents().iter().any(|a| a == node) {
            return;
        }
        *self.work.restarts.entry(node.to_string()).or_default() += 1;
        if reboot {
            for (id, f) in &self.work.facts {
                if f.node == node {
                    self.work.ended_by_design.insert(id.clone());
                }
            }
        }
    }

    /// The `TasksRunning` invariant: waits up to SETTLE for every task to be as launched.
    pub(in crate::run) async fn tasks_running(&self) -> (bool, String, String) {
        let expected = "every task TASK_RUNNING with the process it started with, its executor re-subscribed after each agent restart, no task ever LOST/FAILED/GONE/UNREACHABLE/DROPPED".to_string();
        if let Some(fw) = &self.framework {
            let pairs: Vec<(String, String)> = self
                .work
                .workload
                .tasks()
                .values()
                .filter_map(|t| Some((t.spec.task_id.clone(), t.agent_id.clone()?)))
                .collect();
            let _ = fw.reconcile(&pairs).await;
        }
        let started = Instant::now();
        loop {
            let (ok, seen) = self.tasks_now().await;
            if ok || started.elapsed() > SETTLE || seen.starts_with("lost: ") {
                return (ok, expected, seen);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn tasks_now(&self) -> (bool, String) {
        let tasks = self.work.workload.tasks();
        if tasks.is_empty() {
            return (false, "no task was launched".into());
        }
        let mut lost = Vec::new();
        let mut wrong = Vec::new();
        let mut fine = Vec::new();
        for (id, t) in &tasks {
            if self.work.ended_by_design.contains(id) {
                // A reboot kills every process: the task must be seen to end.
                match t.first_bad() {
                    Some(end) => fine.push(format!(
                        "{id}: ended with its rebooted agent ({}, expected)",
                        end.0
                    )),
                    None => wrong.push(format!(
                        "{id}: its agent {} rebooted, yet no update ended it (last: {})",
                        t.spec.hostname,
                        t.state().unwrap_or("no update")
                    )),
                }
                continue;
            }
            if let Some(bad) = t.first_bad() {
                lost.push(format!(
                    "{id} on {} went {}{}{}",
                    t.spec.hostname,
                    bad.0,
                    bad.1
                        .as_deref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default(),
                    bad.2
                        .as_deref()
                        .filter(|m| !m.is_empty())
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default()
                ));
                continue;
            }
            if t.task_state() != Some(TaskState::Running) {
                wrong.push(format!("{id}: {}", t.state().unwrap_or("no update")));
                continue;
            }
            let Some(f) = self.work.facts.get(id) else {
                wrong.push(format!("{id}: process never recorded"));
                continue;
            };
            match self.proc_stat(&f.node, f.pid).await {
                Ok((ppid, start)) if ppid == f.ppid && start == f.start_time => {}
                Ok((ppid, start)) => {
                    wrong.push(format!(
                        "{id}: pid {} in {} is another process now (parent {ppid}, start {start}; was {}, {})",
                        f.pid, f.node, f.ppid, f.start_time
                    ));
                    continue;
                }
                Err(e) => {
                    wrong.push(format!("{id}: {e}"));
                    continue;
                }
            }
            let restarts =
                self.work.restarts.get(&f.node).copied().unwrap_or(0) - f.restarts_at_launch;
            let mut resub = String::new();
            if restarts > 0 {
                let Some(sandbox) = &f.sandbox else {
                    wrong.push(format!("{id}: executor sandbox unknown"));
                    continue;
                };
                match self.resubscriptions(&f.node, sandbox).await {
                    Ok((n, _)) if n < restarts => {
                        wrong.push(format!("{id}: executor re-subscribed {n} time(s) after {restarts} agent restart(s)"));
                        continue;
                    }
                    Ok((n, last)) => {
                        let after = last
                            .split(" after losing the agent")
                            .next()
                            .and_then(|s| s.rsplit(')').next())
                            .unwrap_or("")
                            .trim()
                            .to_string();
                        resub = format!(
                            ", executor re-subscribed {n}x (last {after} after losing the agent)"
                        );
                    }
                    Err(e) => {
                        wrong.push(format!("{id}: reading the executor log: {e}"));
                        continue;
                    }
                }
            }
            fine.push(format!(
                "{id} on {} pid {} (build {}){resub}",
                f.node,
                f.pid,
                t.reported_build.as_deref().unwrap_or("?")
            ));
        }
        if !lost.is_empty() {
            return (false, format!("lost: {}", lost.join("; ")));
        }
        if !wrong.is_empty() {
            return (
                false,
                format!("{}; fine: {}", wrong.join("; "), fine.join("; ")),
            );
        }
        (true, fine.join("; "))
    }
}
