//! The workload of a run: tasks on the harness's custom executor that must survive every
//! step (issue 6; facts in `../shared/tasks.md`, design in `docs/tasks.md`).
//!
//! - `start_workload` subscribes the test framework with a [`Workload`] offer handler and
//!   launches `workload.tasks` tasks spread over the agents with the `from` executor build;
//! - `upgrade_executors` launches as many new tasks with the `to` build, the old ones keep
//!   running;
//! - `TasksRunning` (after every phase): every task TASK_RUNNING, its process the same one
//!   (pid, parent pid and start time from `/proc/<pid>/stat` in its node), its executor
//!   re-subscribed once per restart of its agent (counted in the executor's own log in the
//!   sandbox), and no update ever in a state that loses a task;
//! - at the end every task is killed: TASK_KILLED, and the executor process exits.
//!
//! Tasks on a rebooted agent die with it (a reboot kills every process): they are expected
//! to end and are left out of the invariant.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::check::Verdict;
use crate::docker::{ImageFile, ImageLink};
use crate::domain::Version;
use crate::mesos::readiness;
use crate::mesos::scheduler::{Framework, FrameworkOptions};
use crate::mesos::task_state::TaskState;
use crate::mesos::workload::{TaskSpec, Workload};
use crate::report::{ActionRecord, PhaseRecord, Status, VerdictRecord};

use super::actions::MASTER_READY;
use super::runner::{Outcome, Runner};
use super::StepError;

/// Where the executor builds live in every node: `executor-<version>`.
pub const EXECUTOR_DIR: &str = "/opt/upgrade-harness";
/// How long launched tasks may take to report TASK_RUNNING.
const LAUNCH_WITHIN: Duration = Duration::from_secs(60);
/// How long the invariant waits for tasks to settle after an action.
const SETTLE: Duration = Duration::from_secs(20);
/// How long a KILL of every task may take.
const KILL_WITHIN: Duration = Duration::from_secs(30);

/// The executor binary path in nodes for a version's build.
pub fn executor_path(version: Version) -> String {
    format!("{EXECUTOR_DIR}/executor-{version}")
}

/// What the runner saw of a task's process when it started.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessFacts {
    pub node: String,
    pub pid: u32,
    pub ppid: u32,
    pub start_time: u64,
    /// Restarts of its agent before it launched.
    pub restarts_at_launch: u32,
    /// The executor's sandbox.
    pub sandbox: Option<String>,
}

/// Faults a regression test can inject (all off by default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskFaults {
    /// Remove `/opt/mesos/<v>/mesos-executor` from every agent node after it is created: a
    /// 1.4.x agent then re-registers without its custom executors and a newer master drops
    /// the re-registration (`tasks.md`).
    pub without_mesos_executor_file: bool,
    /// At the first agent restart, SIGKILL the processes of the tasks of that agent (task,
    /// executor, containerizer) while its Mesos process is down.
    pub kill_tasks_while_agent_down: bool,
}

/// The workload state of a run.
#[derive(Debug, Default)]
pub struct WorkloadRun {
    pub faults: TaskFaults,
    fault_done: bool,
    pub workload: Workload,
    pub facts: BTreeMap<String, ProcessFacts>,
    /// Agent node -> how many times its Mesos process was restarted (or the node rebooted).
    pub restarts: BTreeMap<String, u32>,
    /// Tasks whose agent was rebooted: expected to end.
    pub ended_by_design: BTreeSet<String>,
    next_task: u32,
}

/// `(ppid, start time)` from the text of `/proc/<pid>/stat`.
pub fn parse_stat(stat: &str) -> Option<(u32, u64)> {
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state): ppid is field 4, starttime field 22.
    Some((fields.get(1)?.parse().ok()?, fields.get(19)?.parse().ok()?))
}

/// The multi-call `upgrade-harness` binary, which is also every task helper
/// (`task_helpers::by_argv0`): the running executable, or next to it / one directory up when
/// a test binary runs (tests run from `target/debug/deps`; cargo builds the package's binary
/// for integration tests).
pub fn harness_binary() -> Result<PathBuf, String> {
    const NAME: &str = "upgrade-harness";
    let exe =
        std::env::current_exe().map_err(|e| format!("locating the harness executable: {e}"))?;
    let dir = exe.parent().unwrap_or(Path::new("."));
    for d in [Some(dir), dir.parent()].into_iter().flatten() {
        let p = d.join(NAME);
        if p.is_file() {
            return Ok(p);
        }
    }
    Err(format!(
        "{NAME} not found next to {} (the node image needs it as the task helpers; build it with `cargo build`)",
        exe.display()
    ))
}

/// How long an unused stripped copy stays in the cache (every build of the harness is a new
/// ~17 MB copy).
const STRIPPED_KEPT_FOR: Duration = Duration::from_secs(24 * 3600);

/// A stripped copy of `source` in `cache` (the debug binary is ~60 MB, stripped ~17 MB),
/// named by content so that images stay reproducible; the original if `strip` fails. Copies
/// of other builds unused for [`STRIPPED_KEPT_FOR`] are removed.
fn stripped(source: &Path, cache: &Path) -> PathBuf {
    use sha2::{Digest, Sha256};
    let Ok(bytes) = std::fs::read(source) else {
        return source.to_path_buf();
    };
    let hash = hex::encode(Sha256::digest(&bytes));
    let name = source
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("helper");
    let out = cache.join(format!("{name}-{}", &hash[..16]));
    prune_stripped(cache, name, &out);
    if out.is_file() {
        // Marks it used, for the pruning of concurrent runs of other builds.
        let _ = std::fs::File::options()
            .append(true)
            .open(&out)
            .and_then(|f| f.set_modified(std::time::SystemTime::now()));
        return out;
    }
    let _ = std::fs::create_dir_all(cache);
    // Unique per call: scenario trials run in parallel threads of one process.
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = cache.join(format!("{name}.{}.{n}.tmp", std::process::id()));
    let ok = std::process::Command::new("strip")
        .arg("-o")
        .arg(&tmp)
        .arg(source)
        .status()
        .is_ok_and(|s| s.success());
    if ok && std::fs::rename(&tmp, &out).is_ok() {
        out
    } else {
        let _ = std::fs::remove_file(&tmp);
        source.to_path_buf()
    }
}

/// Removes `<name>-<sha16>` copies in `cache` other than `keep` not modified for
/// [`STRIPPED_KEPT_FOR`] (best effort: the cache is only an optimization).
fn prune_stripped(cache: &Path, name: &str, keep: &Path) {
    let Ok(dir) = std::fs::read_dir(cache) else {
        return;
    };
    let prefix = format!("{name}-");
    for entry in dir.flatten() {
        let path = entry.path();
        let is_copy = entry.file_name().to_str().is_some_and(|f| {
            f.strip_prefix(&prefix)
                .is_some_and(|h| h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        });
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > STRIPPED_KEPT_FOR));
        if is_copy && stale && path != keep {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// Where the one copy of the harness binary lives in every node image.
const HARNESS_IN_NODE: &str = "/opt/upgrade-harness/upgrade-harness";

/// What every node image gets for tasks: the harness binary once, and [`helper_links`] to it.
pub fn task_helper_files(
    versions: &[Version],
    executor_builds: &[Version],
    cache: &Path,
) -> Result<(ImageFile, Vec<ImageLink>), String> {
    let file = ImageFile {
        source: stripped(&harness_binary()?, cache),
        dest: HARNESS_IN_NODE.to_string(),
        mode: 0o755,
    };
    Ok((file, helper_links(versions, executor_builds)))
}

/// Symlinks to the harness binary under the helpers' names: `mesos-containerizer` in each
/// version's launcher dir, and the executor as `/opt/upgrade-harness/executor-<v>` for `from`
/// and `to` (the build name it reports comes from `--build`). Links, not copies: the stripped
/// binary is ~17 MB.
fn helper_links(versions: &[Version], executor_builds: &[Version]) -> Vec<ImageLink> {
    let link = |dest: String| ImageLink {
        dest,
        target: HARNESS_IN_NODE.to_string(),
    };
    let mut links: Vec<ImageLink> = versions
        .iter()
        .map(|v| link(format!("/opt/mesos/{v}/mesos-containerizer")))
        .collect();
    let mut seen = BTreeSet::new();
    for b in executor_builds {
        if seen.insert(*b) {
            links.push(link(executor_path(*b)));
        }
    }
    links
}

impl WorkloadRun {
    pub fn new(faults: TaskFaults) -> WorkloadRun {
        WorkloadRun {
            faults,
            ..WorkloadRun::default()
        }
    }
}

impl Runner<'_> {
    /// After a node was created: the `without_mesos_executor_file` fault.
    pub(super) async fn after_node_created(&mut self, node: &str) -> Result<(), StepError> {
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
    pub(super) async fn while_agent_down(&mut self, node: &str) -> Result<(), StepError> {
        if !self.work.faults.kill_tasks_while_agent_down || self.work.fault_done {
            return Ok(());
        }
        let victims: Vec<ProcessFacts> = self
            .work
            .facts
            .values()
            .filter(|f| f.node == node)
            .cloned()
            .collect();
        if victims.is_empty() {
            return Ok(());
        }
        self.work.fault_done = true;
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
        Ok(())
    }

    /// Subscribes the test framework and launches the workload's tasks with the `from` build.
    pub(super) async fn start_workload(
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
    pub(super) async fn upgrade_executors(&mut self) -> Result<Outcome, StepError> {
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

    /// A file of a running node, as text.
    async fn read_text(&self, node: &str, path: &str) -> Result<String, StepError> {
        let bytes = self
            .cluster
            .run
            .read_file(node, path)
            .await
            .map_err(|e| format!("reading {path} in {node}: {e}"))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// `(ppid, start time)` of `pid` in `node`.
    async fn proc_stat(&self, node: &str, pid: u32) -> Result<(u32, u64), StepError> {
        let path = format!("/proc/{pid}/stat");
        let text = self
            .read_text(node, &path)
            .await
            .map_err(|e| format!("no process {pid} in {node} ({e})"))?;
        parse_stat(&text).ok_or_else(|| format!("cannot parse {path} in {node}: {text:?}").into())
    }

    /// The sandbox directory of the task's executor, from the agent's `/state`.
    async fn executor_sandbox(&self, node: &str, task_id: &str) -> Result<String, StepError> {
        let target = self.cluster.target(node)?;
        let r = self
            .cluster
            .client
            .get(&target.base_url, crate::mesos::endpoints::AGENT_STATE)
            .await
            .map_err(StepError::from)?;
        let v: serde_json::Value = serde_json::from_str(&r.text())
            .map_err(|e| format!("{node}: /slave(1)/state is not JSON: {e}"))?;
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
    async fn task_pid(&self, node: &str, sandbox: &str, task_id: &str) -> Result<u32, StepError> {
        let path = format!("{sandbox}/stderr");
        let text = self.read_text(node, &path).await?;
        crate::task_helpers::executor::launched_pid(&text, task_id)
            .ok_or_else(|| format!("{path} in {node} does not name the pid of {task_id}").into())
    }

    /// How many times the executor logged a re-subscription (its stderr in the sandbox).
    async fn resubscriptions(&self, node: &str, sandbox: &str) -> Result<(u32, String), StepError> {
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

    /// Called when an agent's Mesos process is restarted (`reboot`: its node rebooted).
    pub(super) fn note_agent_restart(&mut self, node: &str, reboot: bool) {
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
    pub(super) async fn tasks_running(&self) -> (bool, String, String) {
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

    /// At the end: KILL every task; each must end TASK_KILLED and its executor exit.
    pub(super) async fn kill_workload(&mut self, number: usize) -> Option<PhaseRecord> {
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
            kind: "invariant",
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
        Some(PhaseRecord {
            name: "finish".to_string(),
            actions: vec![ActionRecord {
                number,
                what: "kill every workload task".to_string(),
                status: Status::Passed,
                reason: None,
                at: None,
                seconds: phase_started.elapsed().as_secs_f64(),
            }],
            verdicts: vec![verdict],
            versions: self
                .cluster
                .nodes
                .iter()
                .map(|(n, s)| (n.clone(), s.version))
                .collect(),
            seconds: phase_started.elapsed().as_secs_f64(),
            logs: self.phase_dir("finish"),
        })
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

    #[test]
    fn helper_links_are_names_the_binary_dispatches_on() {
        let v = |s: &str| s.parse::<Version>().unwrap();
        let versions = [v("1.10.0"), v("1.11.0")];
        let builds = [v("1.10.0"), v("1.10.0")];
        let links = helper_links(&versions, &builds);
        let dests: Vec<&str> = links.iter().map(|l| l.dest.as_str()).collect();
        assert_eq!(
            dests,
            [
                "/opt/mesos/1.10.0/mesos-containerizer",
                "/opt/mesos/1.11.0/mesos-containerizer",
                "/opt/upgrade-harness/executor-1.10.0",
            ]
        );
        assert!(links.iter().all(|l| l.target == HARNESS_IN_NODE));
        // Every name is one the binary dispatches on.
        for l in &links {
            assert!(
                crate::task_helpers::by_argv0(l.dest.as_ref()).is_some(),
                "{}",
                l.dest
            );
        }
    }

    #[test]
    fn stale_stripped_copies_of_other_builds_are_pruned() {
        let cache = tempfile::tempdir().unwrap();
        let old = std::time::SystemTime::now() - STRIPPED_KEPT_FOR - Duration::from_secs(60);
        let make = |name: &str, modified| {
            let p = cache.path().join(name);
            std::fs::write(&p, "x").unwrap();
            std::fs::File::options()
                .append(true)
                .open(&p)
                .unwrap()
                .set_modified(modified)
                .unwrap();
            p
        };
        let stale = make("upgrade-harness-0123456789abcdef", old);
        let kept = make("upgrade-harness-fedcba9876543210", old);
        let recent = make(
            "upgrade-harness-00000000000000aa",
            std::time::SystemTime::now(),
        );
        let other = make("upgrade-harness-notes", old);
        prune_stripped(cache.path(), "upgrade-harness", &kept);
        assert!(!stale.exists());
        assert!(kept.exists() && recent.exists() && other.exists());
    }

    #[test]
    fn executor_paths_by_build() {
        assert_eq!(
            executor_path("1.11.0".parse().unwrap()),
            "/opt/upgrade-harness/executor-1.11.0"
        );
    }
}
