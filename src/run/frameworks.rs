//! The scenario's own frameworks (`frameworks:`): each in its own long-lived container on the
//! run's network, started after the cluster, restarted by `upgrade_schedulers` /
//! `restart_schedulers`, and judged after every phase: `framework_id` (registered and active
//! at the leader with the ID it had at the start), `framework_tasks` (the declared tasks
//! TASK_RUNNING with the IDs they had at the start), `framework_healthy` (its health signal
//! and its declared endpoints). Design notes: docs/scenarios.md, "Your own frameworks".

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::check::Verdict;
use crate::docker::ProcessStatus;
use crate::report::{Place, Status, VerdictKind, VerdictRecord};
use crate::scenario::model::{Endpoint, Framework, KeptTasks, Program};

use super::cluster::FRAMEWORK_PROCESS;
use super::runner::{Outcome, Runner};
use super::{Context, StepError};

/// How long a framework may take to be healthy, registered and running its tasks after its
/// (re)start.
const FRAMEWORK_READY: Duration = Duration::from_secs(90);
/// How long its invariants may take to settle after an action.
const SETTLE: Duration = Duration::from_secs(20);
/// How long SIGTERM gets before SIGKILL when a framework is restarted.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// Where a binary program is copied in its container (`from/`, `to/`).
const PROGRAM_DIR: &str = "/opt/framework";
/// The directory kept across a framework's restarts (`FRAMEWORK_STATE_DIR`).
pub const STATE_DIR: &str = "/var/lib/framework";

/// One of the scenario's frameworks as the run tracks it.
#[derive(Debug, Clone)]
pub struct UserFramework {
    /// Index in the scenario's `frameworks`.
    pub index: usize,
    /// Its container (`fw-<name>`).
    pub node: String,
    /// Where the harness reaches each of its declared ports.
    pub reached: BTreeMap<u16, SocketAddr>,
    /// The argv of its program (`from`) and of its `upgrade_to` program, in the container.
    pub argv_from: Vec<String>,
    pub argv_to: Option<Vec<String>>,
    /// Whether it runs its `upgrade_to` program now.
    pub upgraded: bool,
    /// Its environment.
    pub env: Vec<String>,
    /// The framework ID it registered with at the start.
    pub id: Option<String>,
    /// Its kept tasks at the start: task ID -> name.
    pub tasks: BTreeMap<String, String>,
    /// Killed on purpose (`mistake: kill_frameworks`): not restarted.
    pub killed: bool,
}

impl UserFramework {
    fn argv(&self) -> &[String] {
        match (&self.argv_to, self.upgraded) {
            (Some(to), true) => to,
            _ => &self.argv_from,
        }
    }
}

/// A program's file on this machine: relative to the scenario file when it has a `/`, else
/// beside the harness binary, else in `PATH`.
pub fn resolve_binary(given: &str, scenario_file: &Path) -> Result<PathBuf, String> {
    let p = Path::new(given);
    if p.is_absolute() || given.contains('/') {
        let path = if p.is_absolute() {
            p.to_path_buf()
        } else {
            scenario_file.parent().unwrap_or(Path::new(".")).join(p)
        };
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("binary {}: no such file", path.display()))
        };
    }
    let mut looked = Vec::new();
    if let Ok(harness) = super::workload::harness_binary() {
        if let Some(dir) = harness.parent() {
            let c = dir.join(given);
            if c.is_file() {
                return Ok(c);
            }
            looked.push(dir.display().to_string());
        }
    }
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        let c = dir.join(given);
        if c.is_file() {
            return Ok(c);
        }
    }
    looked.push("PATH".to_string());
    Err(format!(
        "binary `{given}` not found (looked beside the harness binary in {} and in PATH); give a path relative to the scenario file",
        looked.join(", ")
    ))
}

impl Runner<'_> {
    fn declared(&self, index: usize) -> &Framework {
        &self.scenario.frameworks[index].value
    }

    /// Where `frameworks[index]` writes `field` (or the framework itself).
    fn framework_place(&self, index: usize, field: &[&str]) -> Option<Place> {
        self.place_in(&self.scenario.frameworks, index, field)
    }

    /// The environment every framework gets: where the masters are.
    fn framework_env(&self, f: &Framework) -> Vec<String> {
        let masters: Vec<String> = self
            .cluster
            .masters()
            .iter()
            .map(|m| format!("{m}:{}", crate::mesos::roles::MASTER_PORT))
            .collect();
        let mut env = vec![
            format!("MESOS_MASTERS={}", masters.join(",")),
            format!("FRAMEWORK_NAME={}", registers_as(f)),
            format!("FRAMEWORK_STATE_DIR={STATE_DIR}"),
        ];
        if self.cluster.is_ha() {
            env.push(format!("MESOS_MASTER={}", self.cluster.zk_url()));
            env.push(format!("MESOS_ZK={}", self.cluster.zk_url()));
        } else {
            env.push(format!(
                "MESOS_MASTER={}",
                masters.first().cloned().unwrap_or_default()
            ));
        }
        env.extend(f.env.iter().map(|(k, v)| format!("{k}={v}")));
        env
    }

    /// `StartFramework`: its container, its program, and the wait until it is healthy,
    /// registered and running its kept tasks (recorded as what it must keep).
    pub(super) async fn start_framework(
        &mut self,
        index: usize,
        node_image: &str,
    ) -> Result<Outcome, StepError> {
        let f = self.declared(index).clone();
        let name = f.name.value.clone();
        let node = format!("fw-{name}");
        let image = match &f.program.value.image {
            Some(i) => i.value.clone(),
            None => node_image.to_string(),
        };
        let mut ports: BTreeSet<u16> = f.keeps.value.endpoints.iter().map(|e| e.port).collect();
        if let Some(h) = &f.healthy.value.http {
            ports.insert(h.port);
        }
        let ports: Vec<u16> = ports.into_iter().collect();
        let (_ip, reached) = self
            .cluster
            .create_framework_node(&node, &image, &ports)
            .await?;
        self.cluster
            .run
            .make_dir(&node, STATE_DIR)
            .await
            .context(|| format!("creating {STATE_DIR} in {node}"))?;
        let argv_from = self
            .install_program(&node, &f.program.value, "from", &f.args)
            .await?;
        let mut env = self.framework_env(&f);
        if let Some(exec) = &f.executor {
            let source = resolve_binary(&exec.value, &self.file)?;
            let dir = format!("/opt/frameworks/{name}");
            for agent in self.cluster.agents() {
                self.cluster
                    .run
                    .copy_to_node(&agent, &source, &dir)
                    .await
                    .context(|| {
                        format!("copying the executor {} into {agent}", source.display())
                    })?;
            }
            let file = source
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("executor");
            env.push(format!("FRAMEWORK_EXECUTOR={dir}/{file}"));
        }
        let argv_to = match &f.upgrade_to {
            Some(p) if p.value.image.is_some() => {
                return Err(format!(
                    "framework {name}: `upgrade_to.image` is not supported yet (a new image needs a new container); give `upgrade_to.binary`"
                )
                .into())
            }
            Some(p) => Some(self.install_program(&node, &p.value, "to", &f.args).await?),
            None => None,
        };
        let fw = UserFramework {
            index,
            node,
            reached,
            argv_from,
            argv_to,
            upgraded: false,
            env,
            id: None,
            tasks: BTreeMap::new(),
            killed: false,
        };
        self.frameworks.push(fw);
        let at = self.frameworks.len() - 1;
        self.launch_framework(at).await?;
        let (id, tasks) = self.framework_ready(at, None).await?;
        let fw = &mut self.frameworks[at];
        fw.id = id.clone();
        fw.tasks = tasks.clone();
        let mut what = format!("start framework {name} in its container {}", fw.node);
        if let Some(id) = id {
            what.push_str(&format!(": registered as {id}"));
        }
        if !tasks.is_empty() {
            let list: Vec<String> = tasks.iter().map(|(id, n)| format!("{n}={id}")).collect();
            what.push_str(&format!("; kept tasks {}", list.join(", ")));
        }
        Ok(Outcome::DoneAs(what))
    }

    /// Copies a binary program into the container (`/opt/framework/<slot>/`), or takes the
    /// image's command; returns its argv.
    async fn install_program(
        &self,
        node: &str,
        program: &Program,
        slot: &str,
        args: &[String],
    ) -> Result<Vec<String>, StepError> {
        let mut argv = match &program.binary {
            Some(b) => {
                let source = resolve_binary(&b.value, &self.file)?;
                let dir = format!("{PROGRAM_DIR}/{slot}");
                self.cluster
                    .run
                    .copy_to_node(node, &source, &dir)
                    .await
                    .context(|| format!("copying {} into {node}", source.display()))?;
                let file = source
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("program");
                vec![format!("{dir}/{file}")]
            }
            None => match program.libmesos_scheduler.as_ref() {
                Some(v) => {
                    let source = self.libmesos_schedulers.get(&v.value).ok_or_else(|| {
                        format!("no libmesos-scheduler was built for Mesos {}", v.value)
                    })?;
                    let dir = format!("{PROGRAM_DIR}/{slot}");
                    self.cluster
                        .run
                        .copy_to_node(node, source, &dir)
                        .await
                        .context(|| format!("copying {} into {node}", source.display()))?;
                    vec![format!(
                        "{dir}/{}",
                        crate::mesos::libmesos_scheduler::PROGRAM
                    )]
                }
                None => program.command.clone(),
            },
        };
        argv.extend(args.iter().cloned());
        Ok(argv)
    }

    /// Starts framework `at`'s current program in its container.
    async fn launch_framework(&self, at: usize) -> Result<u32, StepError> {
        let fw = &self.frameworks[at];
        let argv: Vec<&str> = fw.argv().iter().map(String::as_str).collect();
        self.cluster
            .run
            .start_process(&fw.node, FRAMEWORK_PROCESS, &argv, &fw.env)
            .await
            .context(|| format!("starting {} in {}", argv.join(" "), fw.node))
    }

    /// Waits until framework `at` is healthy, registered (with `same_id` if given) and runs
    /// its kept tasks; fails at once if its process exits. Returns its ID and kept tasks.
    async fn framework_ready(
        &self,
        at: usize,
        same_id: Option<&str>,
    ) -> Result<(Option<String>, BTreeMap<String, String>), StepError> {
        let fw = &self.frameworks[at];
        let f = self.declared(fw.index);
        let started = Instant::now();
        loop {
            if let Ok(status) = self
                .cluster
                .run
                .process_status(&fw.node, FRAMEWORK_PROCESS)
                .await
            {
                if !matches!(status, ProcessStatus::Running { .. }) {
                    let out = self.framework_output(&fw.node).await;
                    return Err(format!(
                        "framework {} {status} while starting; its last output: {}",
                        f.name.value,
                        crate::check::last_lines(&out, 5)
                    )
                    .into());
                }
            }
            let state = self.framework_now(at).await;
            let healthy = self.health_now(at).await;
            let last = match (healthy, state) {
                (Ok(_), Ok(now)) => {
                    let id_ok = match (same_id, &now.id) {
                        (Some(want), Some(id)) => want == id,
                        (Some(_), None) => false,
                        (None, _) => true,
                    };
                    let tasks_ok = match &f.keeps.value.tasks {
                        Some(t) => kept_tasks_complete(t, &now.running),
                        None => true,
                    };
                    if id_ok && tasks_ok && (now.id.is_some() || !needs_id(f)) {
                        return Ok((now.id, now.running));
                    }
                    format!(
                        "framework ID {}, running tasks {:?}",
                        now.id.as_deref().unwrap_or("(not registered)"),
                        now.running.values().collect::<Vec<_>>()
                    )
                }
                (Err(e), _) => format!("not healthy: {e}"),
                (_, Err(e)) => e,
            };
            if started.elapsed() > FRAMEWORK_READY {
                let out = self.framework_output(&fw.node).await;
                return Err(format!(
                    "framework {} not ready within {}s (healthy, registered as `{}`{}); last seen: {last}; its last output: {}",
                    f.name.value,
                    FRAMEWORK_READY.as_secs(),
                    registers_as(f),
                    same_id.map(|i| format!(" with ID {i}")).unwrap_or_default(),
                    crate::check::last_lines(&out, 5)
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Everything the framework's current process printed.
    async fn framework_output(&self, node: &str) -> String {
        self.cluster
            .run
            .process_log(node, FRAMEWORK_PROCESS, 0)
            .await
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// What the leading master says of framework `at` now: its active ID (by name) and its
    /// running tasks that its `keeps.tasks` select.
    async fn framework_now(&self, at: usize) -> Result<MasterView, String> {
        let fw = &self.frameworks[at];
        let f = self.declared(fw.index);
        let leader = self.cluster.masters().first().cloned().ok_or("no master")?;
        let target = self.cluster.target(&leader).map_err(|e| e.to_string())?;
        let r = self
            .cluster
            .client
            .get(&target.base_url, "/master/frameworks")
            .await
            .map_err(|e| format!("{leader}: /master/frameworks: {e}"))?;
        if r.status != 200 {
            return Err(format!(
                "{leader}: /master/frameworks answered {}",
                r.status
            ));
        }
        let body: Value = serde_json::from_slice(&r.body)
            .map_err(|e| format!("{leader}: /master/frameworks: {e}"))?;
        Ok(master_view(&body, registers_as(f), fw.id.as_deref(), f))
    }

    /// Its health signal now (`Ok` with what was seen); never while its process is not
    /// running (a dead process's log still has its line).
    async fn health_now(&self, at: usize) -> Result<String, String> {
        let fw = &self.frameworks[at];
        let f = self.declared(fw.index);
        let h = &f.healthy.value;
        match self
            .cluster
            .run
            .process_status(&fw.node, FRAMEWORK_PROCESS)
            .await
        {
            Ok(ProcessStatus::Running { .. }) => {}
            Ok(other) => return Err(format!("its process in {}: {other}", fw.node)),
            Err(e) => return Err(format!("status of its process in {}: {e}", fw.node)),
        }
        if let Some(e) = &h.http {
            return self.endpoint_answers(fw, e).await;
        }
        if let Some(line) = &h.log_line {
            let out = self.framework_output(&fw.node).await;
            return if out.contains(line.as_str()) {
                Ok(format!("logged `{line}`"))
            } else {
                Err(format!(
                    "no line with `{line}` since its start; last: {}",
                    crate::check::last_lines(&out, 2)
                ))
            };
        }
        // `registered`: active at the leader under its name.
        match self.framework_now(at).await? {
            MasterView { id: Some(id), .. } => Ok(format!("registered as {id}")),
            _ => Err(format!(
                "no active framework named `{}` at the leader",
                registers_as(f)
            )),
        }
    }

    async fn endpoint_answers(&self, fw: &UserFramework, e: &Endpoint) -> Result<String, String> {
        let addr = fw
            .reached
            .get(&e.port)
            .ok_or_else(|| format!("port {} not reached", e.port))?;
        let r = self
            .cluster
            .client
            .get(&format!("http://{addr}"), &e.path.value)
            .await
            .map_err(|err| format!("GET :{}{}: {err}", e.port, e.path.value))?;
        if (200..300).contains(&r.status) {
            Ok(format!("GET :{}{} {}", e.port, e.path.value, r.status))
        } else {
            Err(format!(
                "GET :{}{} answered {}: {}",
                e.port,
                e.path.value,
                r.status,
                crate::check::last_lines(&r.text(), 1)
            ))
        }
    }

    /// `upgrade_schedulers` (`upgrade: true`: with the `upgrade_to` program where given) and
    /// `restart_schedulers`: each framework (not killed) is stopped and started again, and
    /// must be back with the same framework ID and its kept tasks.
    pub(super) async fn restart_frameworks(&mut self, upgrade: bool) -> Result<String, StepError> {
        let mut done = Vec::new();
        for at in 0..self.frameworks.len() {
            if self.frameworks[at].killed {
                continue;
            }
            let node = self.frameworks[at].node.clone();
            let name = self.declared(self.frameworks[at].index).name.value.clone();
            self.cluster
                .run
                .stop_process_with(&node, FRAMEWORK_PROCESS, "TERM", STOP_GRACE)
                .await
                .context(|| format!("stopping framework {name} in {node}"))?;
            let swapped = upgrade && self.frameworks[at].argv_to.is_some();
            if swapped {
                self.frameworks[at].upgraded = true;
            }
            self.launch_framework(at).await?;
            let id = self.frameworks[at].id.clone();
            self.framework_ready(at, id.as_deref()).await?;
            done.push(format!(
                "{name} restarted{}{}",
                if swapped {
                    " with its upgrade_to program"
                } else {
                    ""
                },
                id.map(|i| format!(", back as {i}")).unwrap_or_default()
            ));
        }
        Ok(done.join("; "))
    }

    /// `mistake: kill_frameworks`: SIGKILL every framework; none is started again.
    pub(super) async fn kill_frameworks(&mut self) -> Result<(), StepError> {
        for fw in self.frameworks.iter_mut().filter(|f| !f.killed) {
            self.cluster
                .run
                .signal_process(&fw.node, FRAMEWORK_PROCESS, "KILL")
                .await
                .context(|| format!("kill_frameworks: SIGKILL to the framework in {}", fw.node))?;
            fw.killed = true;
        }
        Ok(())
    }

    /// The verdicts of every framework now: `framework_id`, `framework_tasks` (when it keeps
    /// tasks), `framework_healthy`; each waits up to SETTLE for the framework to settle.
    pub(super) async fn framework_verdicts(&self) -> Vec<VerdictRecord> {
        let all = (0..self.frameworks.len()).map(|at| self.verdicts_of(at));
        futures_util::future::join_all(all)
            .await
            .into_iter()
            .flatten()
            .collect()
    }

    async fn verdicts_of(&self, at: usize) -> Vec<VerdictRecord> {
        let fw = &self.frameworks[at];
        let f = self.declared(fw.index);
        let name = f.name.value.as_str();
        let started = Instant::now();
        loop {
            let now = self.framework_now(at).await;
            let health = self.health_now(at).await;
            let mut endpoints = Vec::new();
            for e in &f.keeps.value.endpoints {
                endpoints.push(self.endpoint_answers(fw, e).await);
            }
            let mut out = Vec::new();
            if f.keeps.value.framework_id {
                let want = format!(
                    "framework `{}` active at the leader with its ID from the start ({})",
                    registers_as(f),
                    fw.id.as_deref().unwrap_or("?")
                );
                let seen = match &now {
                    Ok(v) => v.id_seen.clone(),
                    Err(e) => Err(e.clone()),
                };
                out.push(verdict(
                    "framework_id",
                    name,
                    self.framework_place(fw.index, &["keeps", "framework_id"])
                        .or_else(|| self.framework_place(fw.index, &["name"])),
                    want,
                    seen,
                ));
            }
            if f.keeps.value.tasks.is_some() {
                let want = format!(
                    "its tasks from the start TASK_RUNNING with the same IDs ({})",
                    fw.tasks
                        .iter()
                        .map(|(id, n)| format!("{n}={id}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                let seen = match &now {
                    Ok(v) => tasks_seen(&fw.tasks, &v.states),
                    Err(e) => Err(e.clone()),
                };
                out.push(verdict(
                    "framework_tasks",
                    name,
                    self.framework_place(fw.index, &["keeps", "tasks"]),
                    want,
                    seen,
                ));
            }
            let mut seen = vec![health.clone()];
            seen.extend(endpoints);
            let seen: Result<Vec<String>, String> = seen.into_iter().collect();
            out.push(verdict(
                "framework_healthy",
                name,
                self.framework_place(fw.index, &["healthy"]),
                "its health signal holds and its endpoints answer 2xx".to_string(),
                seen.map(|s| s.join(", ")),
            ));
            let failed = out.iter().any(|v| v.status == Status::Failed);
            if !failed || started.elapsed() > SETTLE {
                return out;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

fn verdict(
    name: &str,
    framework: &str,
    at: Option<Place>,
    expected: String,
    seen: Result<String, String>,
) -> VerdictRecord {
    let (passed, seen) = match seen {
        Ok(s) => (true, s),
        Err(s) => (false, s),
    };
    VerdictRecord {
        kind: VerdictKind::Invariant,
        name: name.to_string(),
        node: format!("fw-{framework}"),
        at,
        status: if passed {
            Status::Passed
        } else {
            Status::Failed
        },
        verdict: Verdict {
            passed,
            expected,
            seen,
        },
    }
}

/// The name the framework registers under.
fn registers_as(f: &Framework) -> &str {
    f.registers_as
        .as_ref()
        .map_or(f.name.value.as_str(), |r| r.value.as_str())
}

/// Whether the harness must learn the framework's ID (to keep it, or to find its tasks).
fn needs_id(f: &Framework) -> bool {
    f.keeps.value.framework_id || f.keeps.value.tasks.is_some() || f.healthy.value.registered
}

/// What the leader says of one framework.
#[derive(Debug)]
struct MasterView {
    /// The ID of the active framework of that name (the one with the ID from the start if
    /// there are several).
    id: Option<String>,
    /// The `framework_id` verdict: `Ok` when the start's ID is active.
    id_seen: Result<String, String>,
    /// Its running tasks that `keeps.tasks` selects: ID -> name.
    running: BTreeMap<String, String>,
    /// Every task of that framework: ID -> state.
    states: BTreeMap<String, String>,
}

/// Reads `/master/frameworks` for the framework named `name` (pure).
fn master_view(body: &Value, name: &str, known_id: Option<&str>, f: &Framework) -> MasterView {
    let empty = Vec::new();
    let all = body["frameworks"].as_array().unwrap_or(&empty);
    let named: Vec<&Value> = all.iter().filter(|fw| fw["name"] == name).collect();
    let pick = known_id
        .and_then(|id| named.iter().find(|fw| fw["id"] == id))
        .or_else(|| named.iter().find(|fw| fw["active"] == true))
        .copied();
    let mut view = MasterView {
        id: None,
        id_seen: Ok(String::new()),
        running: BTreeMap::new(),
        states: BTreeMap::new(),
    };
    let Some(fw) = pick else {
        view.id_seen = Err(format!(
            "no framework named `{name}` at the leader ({} frameworks: {})",
            all.len(),
            all.iter()
                .map(|f| format!("{} {}", f["name"], f["id"]))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        return view;
    };
    let id = fw["id"].as_str().unwrap_or_default().to_string();
    let active = fw["active"] == true;
    view.id_seen = match (active, known_id) {
        (true, Some(k)) if k == id => Ok(format!("framework {id} active")),
        (true, None) => Ok(format!("framework {id} active")),
        (true, Some(k)) => Err(format!(
            "framework `{name}` active as {id}, not with its ID from the start {k}"
        )),
        (false, _) => Err(format!(
            "framework {id} registered but not active (connected: {}): its scheduler is gone",
            fw["connected"]
        )),
    };
    if active {
        view.id = Some(id);
    }
    for t in fw["tasks"].as_array().unwrap_or(&empty) {
        let (Some(tid), Some(state)) = (t["id"].as_str(), t["state"].as_str()) else {
            continue;
        };
        view.states.insert(tid.to_string(), state.to_string());
        let tname = t["name"].as_str().unwrap_or_default();
        if state == "TASK_RUNNING"
            && f.keeps
                .value
                .tasks
                .as_ref()
                .is_some_and(|k| selects(k, tname, &t["labels"]))
        {
            view.running.insert(tid.to_string(), tname.to_string());
        }
    }
    view
}

/// Whether `keeps.tasks` selects a task of this name and labels.
fn selects(k: &KeptTasks, name: &str, labels: &Value) -> bool {
    let by_name = k.names.is_empty() || k.names.iter().any(|n| n == name);
    let by_labels = k.labels.iter().all(|(key, value)| {
        labels.as_array().is_some_and(|ls| {
            ls.iter()
                .any(|l| l["key"] == key.as_str() && l["value"] == value.as_str())
        })
    });
    by_name && by_labels
}

/// Whether the running selected tasks are all the declared ones: every name, and `count`.
fn kept_tasks_complete(k: &KeptTasks, running: &BTreeMap<String, String>) -> bool {
    let names: BTreeSet<&str> = running.values().map(String::as_str).collect();
    let count = k.count.unwrap_or(k.names.len().max(1) as u32) as usize;
    k.names.iter().all(|n| names.contains(n.as_str())) && running.len() >= count
}

/// The `framework_tasks` verdict: each task from the start still TASK_RUNNING.
fn tasks_seen(
    kept: &BTreeMap<String, String>,
    states: &BTreeMap<String, String>,
) -> Result<String, String> {
    if kept.is_empty() {
        return Err("no task was running at the start".to_string());
    }
    let mut fine = Vec::new();
    let mut wrong = Vec::new();
    for (id, name) in kept {
        match states.get(id).map(String::as_str) {
            Some("TASK_RUNNING") => fine.push(format!("{name}={id} running")),
            Some(other) => wrong.push(format!("{name}={id} is {other}")),
            None => wrong.push(format!("{name}={id} is not listed at the leader")),
        }
    }
    if wrong.is_empty() {
        Ok(fine.join(", "))
    } else {
        Err(format!("{}; fine: {}", wrong.join("; "), fine.join(", ")))
    }
}

/// Builds (or reuses) the scheduler for every `libmesos_scheduler` version the scenario's
/// frameworks name: version -> program on this machine.
pub(super) fn build_libmesos_schedulers(
    scenario: &crate::scenario::Scenario,
    opts: &crate::images::BuildOptions,
) -> Result<std::collections::BTreeMap<String, PathBuf>, String> {
    let mut built = std::collections::BTreeMap::new();
    let programs = scenario.frameworks.iter().flat_map(|f| {
        std::iter::once(&f.value.program.value).chain(f.value.upgrade_to.iter().map(|p| &p.value))
    });
    for v in programs.filter_map(|p| p.libmesos_scheduler.as_ref()) {
        if built.contains_key(&v.value) {
            continue;
        }
        let build = crate::images::build_version(&v.value, opts).map_err(|e| e.to_string())?;
        let program =
            crate::mesos::libmesos_scheduler::build_scheduler(&build, &opts.cache_dir, &opts.cxx)
                .map_err(|e| e.to_string())?;
        built.insert(v.value.clone(), program.program);
    }
    Ok(built)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framework(keeps: &str) -> Framework {
        let yaml = format!(
            "name: web\nprogram: {{ binary: web }}\nhealthy: {{ registered: true }}\nkeeps: {keeps}\n"
        );
        serde_saphyr::from_str(&yaml).unwrap()
    }

    fn body() -> Value {
        serde_json::json!({"frameworks": [
            {"id": "F-old", "name": "web", "active": false, "connected": false, "tasks": []},
            {"id": "F1", "name": "web", "active": true, "connected": true, "tasks": [
                {"id": "t-1", "name": "web-1", "state": "TASK_RUNNING", "labels": [{"key": "tier", "value": "web"}]},
                {"id": "t-2", "name": "web-2", "state": "TASK_RUNNING", "labels": []},
                {"id": "t-3", "name": "web-3", "state": "TASK_FAILED", "labels": [{"key": "tier", "value": "web"}]}
            ]},
            {"id": "F2", "name": "other", "active": true, "tasks": []}
        ]})
    }

    #[test]
    fn the_active_framework_of_that_name_and_its_selected_tasks() {
        let f = framework("{ tasks: { labels: { tier: web } } }");
        let v = master_view(&body(), "web", None, &f);
        assert_eq!(v.id.as_deref(), Some("F1"));
        assert!(v.id_seen.is_ok());
        assert_eq!(v.running.keys().collect::<Vec<_>>(), ["t-1"]);
        assert_eq!(v.states.len(), 3);
        let k = f.keeps.value.tasks.as_ref().unwrap();
        assert!(kept_tasks_complete(k, &v.running));
    }

    #[test]
    fn an_inactive_framework_with_the_start_id_fails_framework_id() {
        let f = framework("{}");
        let v = master_view(&body(), "web", Some("F-old"), &f);
        let e = v.id_seen.unwrap_err();
        assert!(e.contains("F-old registered but not active"), "{e}");
        let v = master_view(&body(), "nobody", None, &f);
        assert!(v
            .id_seen
            .unwrap_err()
            .contains("no framework named `nobody`"));
    }

    #[test]
    fn names_must_all_run() {
        let f = framework("{ tasks: { names: [web-1, web-3] } }");
        let v = master_view(&body(), "web", None, &f);
        let k = f.keeps.value.tasks.as_ref().unwrap();
        assert!(!kept_tasks_complete(k, &v.running));
    }

    #[test]
    fn a_kept_task_not_running_fails_framework_tasks() {
        let kept = BTreeMap::from([
            ("t-1".to_string(), "web-1".to_string()),
            ("t-3".to_string(), "web-3".to_string()),
        ]);
        let states = master_view(&body(), "web", None, &framework("{}")).states;
        let e = tasks_seen(&kept, &states).unwrap_err();
        assert!(e.contains("web-3=t-3 is TASK_FAILED"), "{e}");
        assert!(tasks_seen(&BTreeMap::new(), &states).is_err());
    }

    #[test]
    fn bare_names_and_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        let scenario = dir.path().join("s.yaml");
        std::fs::write(dir.path().join("fw"), "x").unwrap();
        assert_eq!(
            resolve_binary("./fw", &scenario).unwrap(),
            dir.path().join("./fw")
        );
        assert!(resolve_binary("./missing", &scenario)
            .unwrap_err()
            .contains("no such file"));
        assert!(resolve_binary("surely-no-such-program-here", &scenario)
            .unwrap_err()
            .contains("not found"));
    }
}
