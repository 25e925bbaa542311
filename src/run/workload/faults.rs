//! The faults a regression test injects into the workload ([`super::TaskFaults`]).

use crate::run::runner::Runner;
use crate::run::StepError;

use super::{executor_path, ProcessFacts};

impl Runner<'_> {
    /// After a node was created: the `without_mesos_executor_file` fault.
    pub(in crate::run) async fn after_node_created(&mut self, node: &str) -> Result<(), StepError> {
        if !self.work.faults.without_mesos_executor_file
            || !self.cluster.agents().iter().any(|a| a == node)
        {
            return Ok(());
        }
        for v in [&self.plan.from, &self.plan.to] {
            let path = format!("/opt/mesos/{v}/mesos-executor");
            self.cluster
                .run
                .remove_path(node, &path)
                .await
                .map_err(|e| format!("removing {path} in {node}: {e}"))?;
        }
        Ok(())
    }

    /// While an agent's Mesos process is down: the `kill_tasks_while_agent_down` fault.
    pub(in crate::run) async fn while_agent_down(&mut self, node: &str) -> Result<(), StepError> {
        if !self.work.faults.kill_tasks_while_agent_down || self.work.fault_done {
            return Ok(());
        }
        self.work.fault_done = self.kill_tasks_of(node).await?;
        Ok(())
    }

    /// SIGKILLs the processes of the tasks on `node` (task, executor, containerizer);
    /// whether there were any.
    pub(in crate::run) async fn kill_tasks_of(&mut self, node: &str) -> Result<bool, StepError> {
        let victims: Vec<ProcessFacts> = self
            .work
            .facts
            .values()
            .filter(|f| f.node == node)
            .cloned()
            .collect();
        if victims.is_empty() {
            return Ok(false);
        }
        let mut pids = Vec::new();
        for f in &victims {
            pids.push(f.pid.to_string());
            pids.push(f.ppid.to_string());
            if let Ok((containerizer, _)) = self.proc_stat(node, f.ppid).await {
                pids.push(containerizer.to_string());
            }
        }
        let exe = executor_path(self.plan.from);
        let mut argv = vec![exe.as_str(), "kill"];
        argv.extend(pids.iter().map(String::as_str));
        let out = self
            .cluster
            .run
            .exec(node, &argv)
            .await
            .map_err(|e| format!("killing tasks in {node}: {e}"))?;
        if out.code != 0 {
            return Err(format!("killing tasks in {node}: {}", out.stderr_text()).into());
        }
        Ok(true)
    }
}
