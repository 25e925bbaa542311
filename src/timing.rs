//! Where the time of a run went: per phase, the actions, what Mesos itself needed of them
//! (the floor, from the timestamps of its own log lines), and the harness's work after them
//! (saving logs, judging, probing). Read from a finished run folder (`result.json` and the
//! phase logs beside it), so it measures a real run and costs the run nothing.
//!
//! The floor of an action is the time from the action's start to the last Mesos log line in
//! its phase that marks a milestone the action waits for (`crate::mesos::glog::Milestone`):
//! a master leading, an agent (re-)registered or recovered, a task running, an executor
//! subscribed. It includes stopping the old process and the detection delays Mesos is
//! configured with (an agent noticing a restarted standalone master); it excludes the
//! harness's polling after the milestone and everything after the actions. An action that
//! waits on no milestone (a no-op, the scheduler's own restart, killing the workload) counts
//! its whole time as floor: the ratio is never flattered.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::mesos::glog;

/// What the timing report reads of a `result.json`: a subset of `report::RunReport`.
#[derive(Debug, Clone, Deserialize)]
struct ResultFile {
    scenario: String,
    phases: Vec<PhaseResult>,
    seconds: f64,
}

#[derive(Debug, Clone, Deserialize)]
struct PhaseResult {
    name: String,
    actions: Vec<ActionResult>,
    seconds: f64,
    #[serde(default)]
    timing: TimingResult,
    logs: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
struct ActionResult {
    status: String,
    seconds: f64,
    #[serde(default)]
    started_unix: f64,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
struct TimingResult {
    logs: f64,
    judge: f64,
    probe: f64,
}

/// One phase's time.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PhaseTime {
    pub phase: String,
    /// Seconds of the actions before this phase.
    pub actions: f64,
    /// Of which Mesos itself needed (see the module doc).
    pub floor: f64,
    /// Actions whose floor is their whole time (no milestone in the log).
    pub unmarked: usize,
    pub logs: f64,
    pub judge: f64,
    pub probe: f64,
    /// Wall time of the phase (actions and the rest).
    pub total: f64,
}

/// A run's time.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunTime {
    pub scenario: String,
    pub phases: Vec<PhaseTime>,
    /// Sum of the phases: the cluster work.
    pub total: f64,
    pub floor: f64,
    /// The run's wall time, with creating and removing the cluster.
    pub wall: f64,
    /// Each time an agent was away, as its master saw it: from "disconnected" to back
    /// (seconds), in order.
    pub agent_downtimes: Vec<(String, f64)>,
    /// How long the master lets an agent be away before it gives it up
    /// (`agent_ping_timeout x max_agent_ping_timeouts`, from the master's startup flags).
    pub downtime_budget: Option<f64>,
}

impl RunTime {
    /// Total over floor (1.0 would mean the harness costs nothing beyond Mesos).
    pub fn ratio(&self) -> f64 {
        if self.floor > 0.0 {
            self.total / self.floor
        } else {
            f64::INFINITY
        }
    }
}

/// Reads the time of the run in `folder` (holding `result.json`).
pub fn read_run(folder: &Path) -> Result<RunTime, String> {
    let file = folder.join("result.json");
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let result: ResultFile =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    let logs: Vec<Vec<(String, String)>> = result
        .phases
        .iter()
        .map(|p| phase_logs(folder, &p.logs))
        .collect();
    let phases = result
        .phases
        .iter()
        .zip(&logs)
        .map(|(p, logs)| phase_time(p, logs))
        .collect::<Vec<_>>();
    let around = result
        .phases
        .iter()
        .flat_map(|p| &p.actions)
        .map(|a| a.started_unix)
        .find(|t| *t > 0.0)
        .unwrap_or(0.0);
    let master_lines = || {
        logs.iter()
            .flatten()
            .filter(|(node, _)| node.starts_with("master"))
            .flat_map(|(_, text)| text.lines())
    };
    Ok(RunTime {
        scenario: result.scenario,
        total: phases.iter().map(|p| p.total).sum(),
        floor: phases.iter().map(|p| p.floor).sum(),
        phases,
        wall: result.seconds,
        agent_downtimes: agent_downtimes(master_lines(), around),
        downtime_budget: downtime_budget(master_lines()),
    })
}

/// Agent absences in master log lines (in the order written).
fn agent_downtimes<'a>(lines: impl Iterator<Item = &'a str>, around: f64) -> Vec<(String, f64)> {
    let mut away: std::collections::BTreeMap<String, f64> = Default::default();
    let mut out = Vec::new();
    for line in lines {
        if let Some(agent) = glog::agent_disconnected(line) {
            if let Some(t) = glog::timestamp(line, around) {
                away.insert(agent.to_string(), t);
            }
        } else if let Some(agent) = glog::agent_back(line) {
            if let (Some(since), Some(t)) = (away.remove(agent), glog::timestamp(line, around)) {
                out.push((agent.to_string(), t - since));
            }
        }
    }
    out
}

fn downtime_budget<'a>(mut lines: impl Iterator<Item = &'a str>) -> Option<f64> {
    let line = lines.find(|l| glog::startup_flag(l, "agent_ping_timeout").is_some())?;
    let ping =
        crate::mesos::roles::parse_mesos_duration(glog::startup_flag(line, "agent_ping_timeout")?)
            .ok()?;
    let pings: u32 = glog::startup_flag(line, "max_agent_ping_timeouts")?
        .parse()
        .ok()?;
    Some((ping * pings).as_secs_f64())
}

/// The text of every node log of a phase (the folder as recorded, or the same name under
/// `folder/logs` when the run folder was moved).
fn phase_logs(folder: &Path, recorded: &Path) -> Vec<(String, String)> {
    let dir = if recorded.is_dir() {
        recorded.to_path_buf()
    } else {
        folder
            .join("logs")
            .join(recorded.file_name().unwrap_or_default())
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut logs: Vec<(String, String)> = entries
        .filter_map(|e| {
            let path = e.ok()?.path();
            let node = path.file_stem()?.to_string_lossy().into_owned();
            Some((node, std::fs::read_to_string(&path).ok()?))
        })
        .collect();
    logs.sort();
    logs
}

fn phase_time(p: &PhaseResult, logs: &[(String, String)]) -> PhaseTime {
    let mut floor = 0.0;
    let mut unmarked = 0;
    for a in &p.actions {
        match action_floor(a, logs) {
            Some(f) => floor += f,
            None => {
                if a.status == "passed" && a.seconds > 0.05 {
                    unmarked += 1;
                }
                floor += a.seconds;
            }
        }
    }
    PhaseTime {
        phase: p.name.clone(),
        actions: p.actions.iter().map(|a| a.seconds).sum(),
        floor,
        unmarked,
        logs: p.timing.logs,
        judge: p.timing.judge,
        probe: p.timing.probe,
        total: p.seconds,
    }
}

/// From the action's start to its last milestone in the phase's logs, if one fell inside
/// the action.
fn action_floor(a: &ActionResult, logs: &[(String, String)]) -> Option<f64> {
    if a.started_unix <= 0.0 {
        return None;
    }
    let end = a.started_unix + a.seconds;
    logs.iter()
        .flat_map(|(_, text)| text.lines())
        .filter(|l| glog::milestone(l).is_some())
        .filter_map(|l| glog::timestamp(l, a.started_unix))
        // Log times have microseconds; the action's bounds are taken a little apart.
        .filter(|t| *t >= a.started_unix - 0.001 && *t <= end + 0.001)
        .map(|t| t - a.started_unix)
        .reduce(f64::max)
        .map(|f| f.clamp(0.0, a.seconds))
}

/// The per-phase table, then the totals, for people.
pub fn render(run: &RunTime) -> String {
    let mut out = format!(
        "{}: cluster work {:.1} s, floor {:.1} s (Mesos itself), ratio {:.2}; wall {:.1} s\n",
        run.scenario,
        run.total,
        run.floor,
        run.ratio(),
        run.wall
    );
    out.push_str("| phase | actions | floor | logs | judge | probe | total |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|---:|\n");
    for p in &run.phases {
        let mark = if p.unmarked > 0 { "*" } else { "" };
        out.push_str(&format!(
            "| {} | {:.2} | {:.2}{mark} | {:.2} | {:.2} | {:.2} | {:.2} |\n",
            p.phase,
            p.actions + 0.0, // an empty sum is -0.0
            p.floor,
            p.logs,
            p.judge,
            p.probe,
            p.total
        ));
    }
    let sum = |f: fn(&PhaseTime) -> f64| run.phases.iter().map(f).sum::<f64>();
    out.push_str(&format!(
        "| **all** | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |\n",
        sum(|p| p.actions) + 0.0,
        run.floor,
        sum(|p| p.logs),
        sum(|p| p.judge),
        sum(|p| p.probe),
        run.total
    ));
    if let Some((agent, worst)) = run
        .agent_downtimes
        .iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
    {
        out.push_str(&format!(
            "\nAgents away (as the master saw them), {} time(s): longest {worst:.2} s ({agent})",
            run.agent_downtimes.len()
        ));
        match run.downtime_budget {
            Some(b) => out.push_str(&format!(
                " of a {b:.1} s budget (agent_ping_timeout x max_agent_ping_timeouts): margin {:.1}x\n",
                b / worst
            )),
            None => out.push('\n'),
        }
    }
    if run.phases.iter().any(|p| p.unmarked > 0) {
        out.push_str(
            "\n`*`: an action waited on no Mesos log milestone; its whole time counts as floor.\n",
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run folder: one phase whose action started at `t0` and took 3 s, the master log with
    /// a milestone 2 s in and an agent away for 1.5 s, the startup flags.
    fn run_folder(t0: f64) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs").join("upgrade_agents_agent-1");
        std::fs::create_dir_all(&logs).unwrap();
        let at = |s: f64| {
            let t = chrono::DateTime::from_timestamp_micros(((t0 + s) * 1e6) as i64).unwrap();
            t.format("I%m%d %H:%M:%S%.6f").to_string()
        };
        let master = format!(
            "{} 1 master.cpp:1] Flags at startup: --agent_ping_timeout=\"1secs\" --max_agent_ping_timeouts=\"6\"\n\
             {} 1 master.cpp:2] Agent S0 at slave(1)@10.0.0.3:5051 (agent-1) disconnected\n\
             {} 1 master.cpp:3] Reactivating re-registered agent S0 at slave(1)@10.0.0.3:5051 (agent-1)\n",
            at(0.1),
            at(0.4),
            at(1.9)
        );
        let agent = format!(
            "{} 1 slave.cpp:1] Re-registered with master master@10.0.0.2:5050\n",
            at(2.0)
        );
        std::fs::write(logs.join("master-1.log"), master).unwrap();
        std::fs::write(logs.join("agent-1.log"), agent).unwrap();
        let result = serde_json::json!({
            "scenario": "s",
            "seconds": 9.0,
            "phases": [{
                "name": "upgrade_agents/agent-1",
                "seconds": 4.0,
                "logs": "/nowhere/logs/upgrade_agents_agent-1",
                "timing": {"logs": 0.2, "judge": 0.5, "probe": 0.3},
                "actions": [{"status": "passed", "seconds": 3.0, "started_unix": t0}],
            }],
        });
        std::fs::write(dir.path().join("result.json"), result.to_string()).unwrap();
        dir
    }

    #[test]
    fn floor_is_the_last_milestone_of_an_action_and_absences_are_measured() {
        let t0 = 1_796_649_600.0; // 2026-12-07T13:20:00Z
        let dir = run_folder(t0);
        let run = read_run(dir.path()).unwrap();
        let p = &run.phases[0];
        assert!((p.floor - 2.0).abs() < 1e-3, "floor {}", p.floor);
        assert_eq!(
            (p.actions, p.logs, p.judge, p.probe, p.total),
            (3.0, 0.2, 0.5, 0.3, 4.0)
        );
        assert_eq!(run.agent_downtimes.len(), 1);
        assert!((run.agent_downtimes[0].1 - 1.5).abs() < 1e-3);
        assert_eq!(run.downtime_budget, Some(6.0));
        assert!((run.ratio() - 2.0).abs() < 1e-3);
        let text = render(&run);
        assert!(
            text.contains("longest 1.50 s (agent-1) of a 6.0 s budget"),
            "{text}"
        );
    }

    #[test]
    fn an_action_without_a_milestone_counts_whole() {
        let dir = run_folder(1_796_649_600.0);
        // The milestone lies outside an action that started 10 s later.
        let text = std::fs::read_to_string(dir.path().join("result.json")).unwrap();
        std::fs::write(
            dir.path().join("result.json"),
            text.replace("1796649600.0", "1796649610.0")
                .replace("1796649600", "1796649610"),
        )
        .unwrap();
        let run = read_run(dir.path()).unwrap();
        assert_eq!(run.phases[0].floor, 3.0);
        assert_eq!(run.phases[0].unmarked, 1);
        assert!(render(&run).contains("3.00*"));
    }
}
