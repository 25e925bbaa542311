//! The test framework's workload: long-running tasks on the harness's custom executor
//! (`task_helpers::executor`), launched through the [`OfferHandler`] hook of the scheduler.
//!
//! Each task has its own executor (`executor-<task id>`, `type: CUSTOM`, command = the
//! executor binary at an absolute path with `shell: false`: node images have no `sh`), is
//! pinned to one agent by hostname, and records every status update it gets. The executor's
//! TASK_RUNNING message carries its build (the pid is in the executor's log).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::{json, Value};

use super::scheduler::{Offer, OfferAction, OfferHandler, TaskUpdate};
use super::task_state::TaskState;

/// Resources of one executor and of one task (each).
pub const CPUS: f64 = 0.1;
pub const MEM_MB: f64 = 32.0;

/// States that mean a task was lost by the cluster (never expected of a surviving task).
pub const BAD_STATES: &[TaskState] = &[
    TaskState::Lost,
    TaskState::Failed,
    TaskState::Gone,
    TaskState::GoneByOperator,
    TaskState::Unreachable,
    TaskState::Dropped,
    TaskState::Error,
    TaskState::Unknown,
];

/// One task to launch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskSpec {
    pub task_id: String,
    /// The agent (its hostname: the node name) to run on.
    pub hostname: String,
    /// Absolute path of the executor binary in the node.
    pub executor_path: String,
    /// The executor build name passed as `--build`.
    pub build: String,
}

/// What the framework knows of one task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskRecord {
    pub spec: TaskSpec,
    pub agent_id: Option<String>,
    /// Every update, in order: (state, reason, message).
    pub updates: Vec<(String, Option<String>, Option<String>)>,
    /// From the TASK_RUNNING message: the executor build.
    pub reported_build: Option<String>,
    /// A KILL was asked for (TASK_KILLED is then expected).
    pub kill_requested: bool,
}

impl TaskRecord {
    /// The latest state, if any update came.
    pub fn state(&self) -> Option<&str> {
        self.updates.last().map(|u| u.0.as_str())
    }

    /// The latest state, typed; `None` without updates or for a name Mesos does not define.
    pub fn task_state(&self) -> Option<TaskState> {
        self.state().and_then(|s| s.parse().ok())
    }

    /// The first update in a state that loses a task (or TASK_KILLED without a KILL).
    pub fn first_bad(&self) -> Option<&(String, Option<String>, Option<String>)> {
        self.updates.iter().find(|u| {
            let state = u.0.parse::<TaskState>().ok();
            state.is_some_and(|s| BAD_STATES.contains(&s))
                || (state == Some(TaskState::Killed) && !self.kill_requested)
        })
    }
}

#[derive(Debug, Default)]
struct Inner {
    pending: Vec<TaskSpec>,
    tasks: BTreeMap<String, TaskRecord>,
}

/// Shared between the offer handler (in the scheduler's driver) and the runner.
#[derive(Debug, Clone, Default)]
pub struct Workload {
    inner: Arc<Mutex<Inner>>,
}

impl Workload {
    pub fn new() -> Workload {
        Workload::default()
    }

    /// The handler to pass to `Framework::subscribe_with`.
    pub fn handler(&self) -> WorkloadHandler {
        WorkloadHandler {
            workload: self.clone(),
        }
    }

    /// Queues tasks; they launch with the next fitting offers of their agents.
    pub fn add(&self, specs: Vec<TaskSpec>) {
        let mut inner = self.inner.lock().unwrap();
        for spec in specs {
            inner.tasks.insert(
                spec.task_id.clone(),
                TaskRecord {
                    spec: spec.clone(),
                    agent_id: None,
                    updates: Vec::new(),
                    reported_build: None,
                    kill_requested: false,
                },
            );
            inner.pending.push(spec);
        }
    }

    /// Every task (launched or pending) by ID.
    pub fn tasks(&self) -> BTreeMap<String, TaskRecord> {
        self.inner.lock().unwrap().tasks.clone()
    }

    /// Tasks still waiting for an offer.
    pub fn pending(&self) -> Vec<TaskSpec> {
        self.inner.lock().unwrap().pending.clone()
    }

    /// Notes that a KILL was sent for `task_id`.
    pub fn mark_killed(&self, task_id: &str) {
        if let Some(t) = self.inner.lock().unwrap().tasks.get_mut(task_id) {
            t.kill_requested = true;
        }
    }

    fn record(&self, u: &TaskUpdate) {
        let mut inner = self.inner.lock().unwrap();
        let Some(t) = inner.tasks.get_mut(&u.task_id) else {
            return;
        };
        if let Some(a) = &u.agent_id {
            t.agent_id = Some(a.clone());
        }
        if u.task_state() == Some(TaskState::Running) {
            if let Some(build) = u.message.as_deref().and_then(parse_running_message) {
                t.reported_build = Some(build);
            }
        }
        t.updates
            .push((u.state.clone(), u.reason.clone(), u.message.clone()));
    }

    /// Takes the pending tasks for `offer` that its resources fit, as LAUNCH operations.
    fn take_for(&self, offer: &Offer) -> Vec<Value> {
        let (mut cpus, mut mem) = (scalar(&offer.raw, "cpus"), scalar(&offer.raw, "mem"));
        let framework_id = offer.raw["framework_id"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let mut inner = self.inner.lock().unwrap();
        let mut infos = Vec::new();
        let mut keep = Vec::new();
        for spec in std::mem::take(&mut inner.pending) {
            let fits = cpus >= 2.0 * CPUS - 1e-9 && mem >= 2.0 * MEM_MB;
            if spec.hostname == offer.hostname && fits {
                cpus -= 2.0 * CPUS;
                mem -= 2.0 * MEM_MB;
                infos.push(task_info(&spec, &offer.agent_id, &framework_id));
            } else {
                keep.push(spec);
            }
        }
        inner.pending = keep;
        infos
    }
}

fn scalar(offer: &Value, name: &str) -> f64 {
    offer["resources"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .filter(|r| r["name"] == name)
                .filter_map(|r| r["scalar"]["value"].as_f64())
                .sum()
        })
        .unwrap_or(0.0)
}

fn resources() -> Value {
    json!([
        {"name": "cpus", "type": "SCALAR", "scalar": {"value": CPUS}},
        {"name": "mem", "type": "SCALAR", "scalar": {"value": MEM_MB}},
    ])
}

/// The v1 `TaskInfo` of a task on its own custom executor.
pub fn task_info(spec: &TaskSpec, agent_id: &str, framework_id: &str) -> Value {
    let argv0 = spec.executor_path.rsplit('/').next().unwrap_or("executor");
    json!({
        "name": spec.task_id,
        "task_id": {"value": spec.task_id},
        "agent_id": {"value": agent_id},
        "resources": resources(),
        "executor": {
            "executor_id": {"value": format!("executor-{}", spec.task_id)},
            "framework_id": {"value": framework_id},
            "type": "CUSTOM",
            "name": format!("upgrade-harness-executor {}", spec.build),
            "command": {
                "shell": false,
                "value": spec.executor_path,
                "arguments": [argv0, "--build", spec.build],
            },
            "resources": resources(),
        },
    })
}

/// The offer hook: launches pending tasks on their agents, declines the rest.
pub struct WorkloadHandler {
    workload: Workload,
}

impl OfferHandler for WorkloadHandler {
    fn on_offer(&mut self, offer: &Offer) -> OfferAction {
        let infos = self.workload.take_for(offer);
        if infos.is_empty() {
            return OfferAction::Decline;
        }
        OfferAction::Accept {
            operations: vec![json!({"type": "LAUNCH", "launch": {"task_infos": infos}})],
        }
    }

    fn on_update(&mut self, update: &TaskUpdate) {
        self.workload.record(update);
    }
}

/// The TASK_RUNNING message: which build runs which task. (The pid is not in it: Mesos keeps
/// status messages in its state, and a pid would make every state snapshot churn. The
/// executor's log has it: [`crate::task_helpers::executor::launched_pid`].)
pub fn running_message(build: &str, task_id: &str) -> String {
    format!("upgrade-harness-executor {build}: task {task_id} running")
}

/// The build from a TASK_RUNNING message of this executor.
pub fn parse_running_message(msg: &str) -> Option<String> {
    let rest = msg.strip_prefix("upgrade-harness-executor ")?;
    let (build, _) = rest.split_once(": task ")?;
    Some(build.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(id: &str, host: &str) -> TaskSpec {
        TaskSpec {
            task_id: id.into(),
            hostname: host.into(),
            executor_path: "/opt/upgrade-harness/executor-1.10.0".into(),
            build: "1.10.0".into(),
        }
    }

    fn offer(host: &str, cpus: f64) -> Offer {
        Offer {
            id: "O1".into(),
            agent_id: format!("S-{host}"),
            hostname: host.into(),
            raw: json!({"framework_id": {"value": "F"}, "resources": [
                {"name": "cpus", "type": "SCALAR", "scalar": {"value": cpus}},
                {"name": "mem", "type": "SCALAR", "scalar": {"value": 1024.0}}]}),
        }
    }

    #[test]
    fn launches_each_task_on_its_agent_only() {
        let w = Workload::new();
        w.add(vec![spec("task-1", "agent-1"), spec("task-2", "agent-2")]);
        let mut h = w.handler();
        let OfferAction::Accept { operations } = h.on_offer(&offer("agent-1", 2.0)) else {
            panic!("expected a launch")
        };
        let info = &operations[0]["launch"]["task_infos"][0];
        assert_eq!(info["task_id"]["value"], "task-1");
        assert_eq!(info["agent_id"]["value"], "S-agent-1");
        let ex = &info["executor"];
        assert_eq!(ex["type"], "CUSTOM");
        assert_eq!(ex["framework_id"]["value"], "F");
        assert_eq!(ex["command"]["shell"], false);
        assert_eq!(
            ex["command"]["arguments"],
            json!(["executor-1.10.0", "--build", "1.10.0"])
        );
        assert_eq!(
            operations[0]["launch"]["task_infos"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(h.on_offer(&offer("agent-1", 2.0)), OfferAction::Decline);
        // Too small an offer keeps the task pending.
        assert_eq!(h.on_offer(&offer("agent-2", 0.1)), OfferAction::Decline);
        assert_eq!(w.pending().len(), 1);
    }

    #[test]
    fn updates_give_pid_and_build_and_bad_states() {
        let w = Workload::new();
        w.add(vec![spec("task-1", "agent-1")]);
        let mut h = w.handler();
        let up = |state: &str, message: Option<&str>| TaskUpdate {
            task_id: "task-1".into(),
            state: state.into(),
            agent_id: Some("S0".into()),
            reason: None,
            message: message.map(str::to_string),
            uuid: None,
        };
        h.on_update(&up(
            "TASK_RUNNING",
            Some("upgrade-harness-executor 1.10.0: task task-1 running"),
        ));
        let t = &w.tasks()["task-1"];
        assert_eq!(
            (t.reported_build.as_deref(), t.state()),
            (Some("1.10.0"), Some("TASK_RUNNING"))
        );
        assert!(t.first_bad().is_none());
        h.on_update(&up("TASK_KILLED", None));
        assert!(
            w.tasks()["task-1"].first_bad().is_some(),
            "an unrequested kill is bad"
        );
        w.mark_killed("task-1");
        assert!(w.tasks()["task-1"].first_bad().is_none());
        h.on_update(&up("TASK_LOST", None));
        assert_eq!(w.tasks()["task-1"].first_bad().unwrap().0, "TASK_LOST");
    }
}
