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

/// The milestone a line marks, if any. The texts are those of 1.4.3-1.11.0 (unchanged over
/// the range; `tests` below holds one real line of each).
pub fn milestone(line: &str) -> Option<Milestone> {
    let msg = line.split_once("] ").map_or(line, |(_, m)| m);
    if msg.starts_with("Elected as the leading master") {
        Some(Milestone::MasterLeading)
    } else if msg.starts_with("Registered with master") || msg.starts_with("Re-registered with master")
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
        assert_eq!(timestamp("not a log line at all, long enough", AROUND), None);
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
        assert_eq!(milestone("I1207 13:20:01.123456 12 slave.cpp:1] Recovering"), None);
    }
}
