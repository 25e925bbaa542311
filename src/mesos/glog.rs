//! Mesos's log lines (glog): when each was written, and which ones mark the moment Mesos
//! itself finished what the harness waits for. `crate::timing` uses them to tell the time
//! Mesos needed (the floor) from the time the harness spent around it.
//!
//! A glog line: `I1207 13:20:01.123456  1234 master.cpp:2345] message` (severity, month, day,
//! local time with microseconds, thread id, source). The year is not written; the nodes' clock
//! is the host's (containers share the kernel clock) and their time zone is UTC.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime};

/// What a marker line says Mesos finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Milestone {
    /// A master leads (standalone or elected through ZooKeeper).
    MasterLeading,
    /// An agent (re-)registered with the master (agent side).
    AgentRegistered,
    /// An agent finished recovering its executors after a restart.
    AgentRecovered,
    /// A task reported TASK_RUNNING (agent side, a status update it forwards).
    TaskRunning,
    /// An executor (re-)subscribed with its agent.
    ExecutorSubscribed,
}

/// Whether `line` is a glog error or fatal line (`E1207 20:36:11.551940 ...`, `F...`): what a
/// Mesos process says of why it exits.
pub fn is_error(line: &str) -> bool {
    let mut chars = line.chars();
    matches!(chars.next(), Some('E' | 'F'))
        && chars.clone().take(4).count() == 4
        && chars.take(4).all(|c| c.is_ascii_digit())
}

/// The lines to quote of a process that exited: its last `n` error lines and its last `n`
/// lines, in the order written, each once. Under load other threads log after the error
/// (`replica.cpp` write notices), which can push it out of the last lines.
pub fn exit_quote(output: &str, n: usize) -> String {
    let lines: Vec<&str> = output.lines().filter(|l| !l.trim().is_empty()).collect();
    let errors: Vec<usize> = (0..lines.len()).filter(|&i| is_error(lines[i])).collect();
    let mut keep: Vec<usize> = errors[errors.len().saturating_sub(n)..].to_vec();
    keep.extend(lines.len().saturating_sub(n)..lines.len());
    keep.sort_unstable();
    keep.dedup();
    keep.iter()
        .map(|&i| lines[i])
        .collect::<Vec<_>>()
        .join(" | ")
}

/// The milestone a line marks, if any. The texts are those of 1.4.3-1.11.0 (unchanged over
/// the range; `tests` below holds one real line of each).
pub fn milestone(line: &str) -> Option<Milestone> {
    let msg = message(line);
    if msg.starts_with("Elected as the leading master") {
        Some(Milestone::MasterLeading)
    } else if msg.starts_with("Registered with master")
        || msg.starts_with("Re-registered with master")
    {
        Some(Milestone::AgentRegistered)
    } else if msg.starts_with("Finished recovery") {
        Some(Milestone::AgentRecovered)
    } else if msg.contains("TASK_RUNNING") && msg.starts_with("Handling status update") {
        Some(Milestone::TaskRunning)
    } else if msg.starts_with("Received Subscribe request for HTTP executor")
        || msg.starts_with("Received re-registration message from executor")
    {
        Some(Milestone::ExecutorSubscribed)
    } else {
        None
    }
}

/// The agent hostname a master line says disconnected (its process went away).
pub fn agent_disconnected(line: &str) -> Option<&str> {
    let msg = message(line);
    msg.strip_prefix("Agent ")?.strip_suffix(" disconnected")?;
    hostname_in_parentheses(msg)
}

/// The agent hostname a master line says is back (re-registered after a disconnection, or
/// after the master's own restart).
pub fn agent_back(line: &str) -> Option<&str> {
    let msg = message(line);
    if msg.starts_with("Reactivating re-registered agent ")
        || msg.starts_with("Re-registered agent ")
    {
        hostname_in_parentheses(msg)
    } else {
        None
    }
}

/// The value of `--name` in a `Flags at startup:` line.
pub fn startup_flag<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let msg = message(line);
    let flags = msg.strip_prefix("Flags at startup: ")?;
    let start = flags.find(&format!("--{name}=\""))? + name.len() + 4;
    let rest = &flags[start..];
    Some(&rest[..rest.find('"')?])
}

fn message(line: &str) -> &str {
    line.split_once("] ").map_or(line, |(_, m)| m)
}

/// `... (agent-1) ...`: the first parenthesised word after ` at `.
fn hostname_in_parentheses(msg: &str) -> Option<&str> {
    let after = &msg[msg.find(" at ")?..];
    let open = after.find(" (")? + 2;
    let close = after[open..].find(')')? + open;
    Some(&after[open..close])
}

/// When a glog line was written, in seconds since the Unix epoch, taking the year from
/// `around_unix` (a time near the line's: the run's start). `None` for other lines.
pub fn timestamp(line: &str, around_unix: f64) -> Option<f64> {
    let head = line.get(..21)?;
    if !matches!(head.as_bytes()[0], b'I' | b'W' | b'E' | b'F') {
        return None;
    }
    let month: u32 = head.get(1..3)?.parse().ok()?;
    let day: u32 = head.get(3..5)?.parse().ok()?;
    let time = NaiveTime::parse_from_str(head.get(6..21)?, "%H:%M:%S%.6f").ok()?;
    let around = chrono::DateTime::from_timestamp(around_unix as i64, 0)?.naive_utc();
    // A run that crosses New Year's Eve: pick the year that puts the line nearest.
    [around.year() - 1, around.year(), around.year() + 1]
        .into_iter()
        .filter_map(|y| NaiveDate::from_ymd_opt(y, month, day))
        .map(|d| NaiveDateTime::new(d, time).and_utc())
        .map(|t| t.timestamp_micros() as f64 / 1e6)
        .min_by(|a, b| (a - around_unix).abs().total_cmp(&(b - around_unix).abs()))
}

#[cfg(test)]
mod exit_tests {
    use super::*;

    #[test]
    fn the_error_is_quoted_even_when_other_lines_follow_it() {
        let out = "I1207 20:35:35.1 1 a.cpp] starting\n\
E1207 20:35:35.2 2 master.cpp:1680] Master is missing the following minimum capabilities: QUOTA_V2\n\
E1207 20:35:35.3 2 master.cpp:1685] EXIT with status 1:\n\
I1207 20:35:35.4 3 replica.cpp:541] Replica received write request\n\
I1207 20:35:35.5 3 replica.cpp:695] Replica received learned notice\n\
I1207 20:35:35.6 3 replica.cpp:695] another\n";
        let q = exit_quote(out, 3);
        assert!(
            q.starts_with("E1207 20:35:35.2 2 master.cpp:1680] Master is missing"),
            "{q}"
        );
        assert_eq!(q.matches(" | ").count(), 4, "{q}");
        assert!(!q.contains("starting"), "{q}");
        assert_eq!(
            exit_quote("Error loading modules: x\n", 3),
            "Error loading modules: x"
        );
        assert!(!is_error("Error loading modules"));
        assert!(is_error("F1207 fatal"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AROUND: f64 = 1_796_650_000.0; // 2026-12-07

    #[test]
    fn reads_the_time_of_a_line() {
        let t = timestamp(
            "I1207 13:20:01.123456  1234 master.cpp:2345] Elected as the leading master!",
            AROUND,
        )
        .unwrap();
        // 2026-12-07T13:20:01.123456Z
        assert!((t - 1_796_649_601.123_456).abs() < 1e-6, "{t}");
        assert_eq!(
            timestamp("not a log line at all, long enough", AROUND),
            None
        );
        assert_eq!(timestamp("I12", AROUND), None);
    }

    #[test]
    fn a_line_of_last_december_read_in_january_is_last_year() {
        let jan_2027 = 1_798_761_600.0 + 3600.0; // 2027-01-01T01:00:00Z
        let t = timestamp("I1231 23:59:59.000000     1 x.cpp:1] m", jan_2027).unwrap();
        assert!((jan_2027 - t - 3601.0).abs() < 1e-6, "{}", jan_2027 - t);
    }

    #[test]
    fn knows_the_milestone_lines() {
        for (line, m) in [
            ("I1207 13:20:01.123456    12 master.cpp:2345] Elected as the leading master!", Milestone::MasterLeading),
            ("I1207 13:20:01.123456    12 slave.cpp:1234] Registered with master master@10.0.0.2:5050; given agent ID 3f-S0", Milestone::AgentRegistered),
            ("I1207 13:20:01.123456    12 slave.cpp:1234] Re-registered with master master@10.0.0.2:5050", Milestone::AgentRegistered),
            ("I1207 13:20:01.123456    12 slave.cpp:1234] Finished recovery", Milestone::AgentRecovered),
        ] {
            assert_eq!(milestone(line), Some(m), "{line}");
        }
        assert_eq!(
            milestone("I1207 13:20:01.123456 12 slave.cpp:1] Recovering"),
            None
        );
    }

    #[test]
    fn reads_agent_downtime_lines_and_flags() {
        let gone = "I1207 13:17:48.929620    99 master.cpp:1303] Agent ae-S0 at slave(1)@172.30.109.3:5051 (agent-1) disconnected";
        let back = "I1207 13:17:51.191826   102 master.cpp:7342] Reactivating re-registered agent ae-S0 at slave(1)@172.30.109.3:5051 (agent-1)";
        let back2 = "I1207 13:17:46.216619   103 master.cpp:7174] Re-registered agent ae-S1 at slave(1)@172.30.109.4:5051 (agent-2) with cpus:2; mem:1024";
        assert_eq!(agent_disconnected(gone), Some("agent-1"));
        assert_eq!(agent_back(gone), None);
        assert_eq!(agent_back(back), Some("agent-1"));
        assert_eq!(agent_back(back2), Some("agent-2"));
        assert_eq!(agent_disconnected(back), None);
        let flags = r#"I1207 13:17:40.1 1 master.cpp:1] Flags at startup: --agent_ping_timeout="1secs" --max_agent_ping_timeouts="5" --work_dir="/w""#;
        assert_eq!(startup_flag(flags, "agent_ping_timeout"), Some("1secs"));
        assert_eq!(startup_flag(flags, "max_agent_ping_timeouts"), Some("5"));
        assert_eq!(startup_flag(flags, "quorum"), None);
    }
}
