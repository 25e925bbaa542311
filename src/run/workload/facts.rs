//! What a node says of a task: its executor's sandbox, the task's pid, the process's parent
//! and start time, the executor's re-subscriptions.

use crate::mesos::endpoints;
use crate::run::runner::Runner;
use crate::run::StepError;

/// `(ppid, start time)` from the text of `/proc/<pid>/stat`.
pub fn parse_stat(stat: &str) -> Option<(u32, u64)> {
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state): ppid is field 4, starttime field 22.
    Some((fields.get(1)?.parse().ok()?, fields.get(19)?.parse().ok()?))
}

impl Runner<'_> {
    /// A file of a running node, as text.
    pub(super) async fn read_text(&self, node: &str, path: &str) -> Result<String, StepError> {
        let bytes = self
            .cluster
            .run
            .read_file(node, path)
            .await
            .map_err(|e| format!("reading {path} in {node}: {e}"))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// `(ppid, start time)` of `pid` in `node`.
    pub(super) async fn proc_stat(&self, node: &str, pid: u32) -> Result<(u32, u64), StepError> {
        let path = format!("/proc/{pid}/stat");
        let text = self
            .read_text(node, &path)
            .await
            .map_err(|e| format!("no process {pid} in {node} ({e})"))?;
        parse_stat(&text).ok_or_else(|| format!("cannot parse {path} in {node}: {text:?}").into())
    }

    /// The sandbox directory of the task's executor, from the agent's `/state`.
    pub(super) async fn executor_sandbox(
        &self,
        node: &str,
        task_id: &str,
    ) -> Result<String, StepError> {
        let target = self.cluster.target(node)?;
        let r = self
            .cluster
            .client
            .get(&target.base_url, crate::mesos::endpoints::AGENT_STATE)
            .await
            .map_err(StepError::from)?;
        let v: serde_json::Value = serde_json::from_str(&r.text())
            .map_err(|e| format!("{node}: {} is not JSON: {e}", endpoints::AGENT_STATE))?;
        let executor_id = format!("executor-{task_id}");
        for fw in v["frameworks"].as_array().into_iter().flatten() {
            for ex in fw["executors"].as_array().into_iter().flatten() {
                if ex["id"] == executor_id.as_str() {
                    return ex["directory"]
                        .as_str()
                        .map(str::to_string)
                        .ok_or("no directory".into());
                }
            }
        }
        Err(format!("{node} does not list executor {executor_id}").into())
    }

    /// The task's pid, from its executor's log (`task <id> launched as pid <pid>`).
    pub(super) async fn task_pid(
        &self,
        node: &str,
        sandbox: &str,
        task_id: &str,
    ) -> Result<u32, StepError> {
        let path = format!("{sandbox}/stderr");
        let text = self.read_text(node, &path).await?;
        crate::task_helpers::executor::launched_pid(&text, task_id)
            .ok_or_else(|| format!("{path} in {node} does not name the pid of {task_id}").into())
    }

    /// How many times the executor logged a re-subscription (its stderr in the sandbox).
    pub(super) async fn resubscriptions(
        &self,
        node: &str,
        sandbox: &str,
    ) -> Result<(u32, String), StepError> {
        let path = format!("{sandbox}/stderr");
        let text = self.read_text(node, &path).await?;
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.contains(": re-subscribed"))
            .collect();
        Ok((
            lines.len() as u32,
            lines.last().map(|l| l.to_string()).unwrap_or_default(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_after_the_command_name() {
        let stat = "4242 (executor-1.10) S 4200 4199 4199 0 -1 4194560 120 0 0 0 0 0 0 0 20 0 1 0 987654 1000 50 18446744073709551615";
        assert_eq!(parse_stat(stat), Some((4200, 987654)));
        let odd = "7 (a) b) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 55 0 0";
        assert_eq!(parse_stat(odd), Some((1, 55)));
        assert_eq!(parse_stat("garbage"), None);
    }
}
