//! The end of a run's workload: every task killed, every executor gone.

use std::time::{Duration, Instant};

use crate::check::Verdict;
use crate::mesos::task_state::TaskState;
use crate::report::{ActionRecord, PhaseRecord, Status, VerdictKind, VerdictRecord};
use crate::run::runner::Runner;

/// How long a KILL of every task may take.
const KILL_WITHIN: Duration = Duration::from_secs(30);

impl Runner<'_> {
    /// At the end: KILL every task; each must end TASK_KILLED and its executor exit.
    pub(in crate::run) async fn kill_workload(&mut self, number: usize) -> Option<PhaseRecord> {
        let fw = self.framework.as_ref()?;
        let tasks = self.work.workload.tasks();
        if tasks.is_empty() {
            return None;
        }
        let phase_started = Instant::now();
        let mut problems = Vec::new();
        let mut killed = Vec::new();
        for (id, t) in &tasks {
            if self.work.ended_by_design.contains(id) || t.first_bad().is_some() {
                continue;
            }
            let Some(agent) = &t.agent_id else { continue };
            self.work.workload.mark_killed(id);
            if let Err(e) = fw.kill(id, agent).await {
                problems.push(format!("KILL {id}: {e}"));
            }
            killed.push(id.clone());
        }
        let started = Instant::now();
        loop {
            let tasks = self.work.workload.tasks();
            let waiting: Vec<String> = killed
                .iter()
                .filter(|id| tasks[*id].task_state() != Some(TaskState::Killed))
                .map(|id| format!("{id}: {}", tasks[id].state().unwrap_or("-")))
                .collect();
            if waiting.is_empty() {
                break;
            }
            if started.elapsed() > KILL_WITHIN {
                problems.push(format!(
                    "not TASK_KILLED within {KILL_WITHIN:?}: {}",
                    waiting.join(", ")
                ));
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // The executor (the task's parent) must exit once its task is killed and acknowledged.
        for id in &killed {
            let Some(f) = self.work.facts.get(id) else {
                continue;
            };
            let started = Instant::now();
            loop {
                match self.proc_stat(&f.node, f.ppid).await {
                    Err(_) => break,
                    Ok(_) if started.elapsed() > Duration::from_secs(10) => {
                        problems.push(format!(
                            "{id}: executor pid {} in {} still running 10s after TASK_KILLED",
                            f.ppid, f.node
                        ));
                        break;
                    }
                    Ok(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        }
        let passed = problems.is_empty();
        let took = started.elapsed().as_secs_f64();
        let verdict = VerdictRecord {
            kind: VerdictKind::Invariant,
            name: "tasks_killed".to_string(),
            node: "-".to_string(),
            at: None,
            status: if passed {
                Status::Passed
            } else {
                Status::Failed
            },
            verdict: Verdict {
                passed,
                expected: "a KILL of every task ends it TASK_KILLED and its executor exits"
                    .to_string(),
                seen: if passed {
                    format!(
                        "{} killed in {took:.2}s; their executors exited",
                        killed.join(", ")
                    )
                } else {
                    problems.join("; ")
                },
            },
        };
        let action = ActionRecord {
            number,
            what: "kill every workload task".to_string(),
            status: Status::Passed,
            reason: None,
            at: None,
            seconds: phase_started.elapsed().as_secs_f64(),
            started_unix: crate::report::unix_now() - phase_started.elapsed().as_secs_f64(),
        };
        Some(
            self.phase_record("finish", vec![action], vec![verdict], phase_started)
                .await,
        )
    }
}
