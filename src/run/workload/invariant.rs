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
        // Each task is read from its node on its own (a process and an executor log each):
        // concurrently, so a phase waits for the slowest task, not for their sum.
        let states =
            futures_util::future::join_all(tasks.iter().map(|(id, t)| self.task_now(id, t))).await;
        let mut lost = Vec::new();
        let mut wrong = Vec::new();
        let mut fine = Vec::new();
        for state in states {
            match state {
                TaskNow::Lost(s) => lost.push(s),
                TaskNow::Wrong(s) => wrong.push(s),
                TaskNow::Fine(s) => fine.push(s),
            }
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

    /// One task as it is now.
    async fn task_now(&self, id: &str, t: &crate::mesos::workload::TaskRecord) -> TaskNow {
        if self.work.ended_by_design.contains(id) {
            // A reboot kills every process: the task must be seen to end.
            return match t.first_bad() {
                Some(end) => TaskNow::Fine(format!(
                    "{id}: ended with its rebooted agent ({}, expected)",
                    end.0
                )),
                None => TaskNow::Wrong(format!(
                    "{id}: its agent {} rebooted, yet no update ended it (last: {})",
                    t.spec.hostname,
                    t.state().unwrap_or("no update")
                )),
            };
        }
        if let Some(bad) = t.first_bad() {
            return TaskNow::Lost(format!(
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
        }
        if t.task_state() != Some(TaskState::Running) {
            return TaskNow::Wrong(format!("{id}: {}", t.state().unwrap_or("no update")));
        }
        let Some(f) = self.work.facts.get(id) else {
            return TaskNow::Wrong(format!("{id}: process never recorded"));
        };
        let restarts = self.work.restarts.get(&f.node).copied().unwrap_or(0) - f.restarts_at_launch;
        // The process and the executor's log are read at once (one `docker exec` each).
        let resubscriptions = async {
            match (&f.sandbox, restarts > 0) {
                (Some(sandbox), true) => Some(self.resubscriptions(&f.node, sandbox).await),
                _ => None,
            }
        };
        let (stat, resubscriptions) = tokio::join!(self.proc_stat(&f.node, f.pid), resubscriptions);
        match stat {
            Ok((ppid, start)) if ppid == f.ppid && start == f.start_time => {}
            Ok((ppid, start)) => {
                return TaskNow::Wrong(format!(
                    "{id}: pid {} in {} is another process now (parent {ppid}, start {start}; was {}, {})",
                    f.pid, f.node, f.ppid, f.start_time
                ));
            }
            Err(e) => {
                return TaskNow::Wrong(format!("{id}: {e}"));
            }
        }
        let mut resub = String::new();
        if restarts > 0 {
            let Some(read) = resubscriptions else {
                return TaskNow::Wrong(format!("{id}: executor sandbox unknown"));
            };
            match read {
                Ok((n, _)) if n < restarts => {
                    return TaskNow::Wrong(format!("{id}: executor re-subscribed {n} time(s) after {restarts} agent restart(s)"));
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
                    return TaskNow::Wrong(format!("{id}: reading the executor log: {e}"));
                }
            }
        }
        TaskNow::Fine(format!(
            "{id} on {} pid {} (build {}){resub}",
            f.node,
            f.pid,
            t.reported_build.as_deref().unwrap_or("?")
        ))
    }
}

/// One task's state at a phase, for the `TasksRunning` invariant.
enum TaskNow {
    /// Reported LOST/FAILED/... by Mesos.
    Lost(String),
    /// Not as launched (another state, another process, an executor that did not re-subscribe).
    Wrong(String),
    /// As launched; what was seen.
    Fine(String),
}
