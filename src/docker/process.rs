//! What node-init reports about a supervised process.

use std::fmt;

/// A raw wait status as returned by `waitpid` (e.g. 768 = exit code 3,
/// 15 = killed by SIGTERM). Kept raw because that is what Mesos writes too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitStatus(pub i32);

impl WaitStatus {
    /// The exit code, if the process exited normally.
    pub fn exit_code(self) -> Option<i32> {
        (self.0 & 0x7f == 0).then_some((self.0 >> 8) & 0xff)
    }

    /// The signal number, if the process was killed by a signal.
    pub fn signal(self) -> Option<i32> {
        let sig = self.0 & 0x7f;
        (sig != 0 && sig != 0x7f).then_some(sig)
    }
}

impl fmt::Display for WaitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.exit_code(), self.signal()) {
            (Some(code), _) => write!(f, "exit code {code}"),
            (_, Some(sig)) => write!(f, "killed by signal {sig}"),
            _ => write!(f, "wait status {}", self.0),
        }
    }
}

/// The state of a named process inside a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcessStatus {
    /// Alive (or a zombie for the instant before PID 1 reaps it).
    Running { pid: u32 },
    /// Reaped by PID 1, which recorded this status.
    Exited(WaitStatus),
    /// Never started since the node (re)booted.
    Absent,
    /// Gone without a recorded status (node-init was not PID 1).
    Lost { pid: u32 },
}

impl ProcessStatus {
    /// Parses the one line `node-init status` prints.
    pub fn parse(line: &str) -> Option<ProcessStatus> {
        let mut words = line.split_whitespace();
        let status = match (words.next()?, words.next()) {
            ("running", Some(pid)) => ProcessStatus::Running {
                pid: pid.parse().ok()?,
            },
            ("exited", Some(st)) => ProcessStatus::Exited(WaitStatus(st.parse().ok()?)),
            ("lost", Some(pid)) => ProcessStatus::Lost {
                pid: pid.parse().ok()?,
            },
            ("absent", None) => ProcessStatus::Absent,
            _ => return None,
        };
        words.next().is_none().then_some(status)
    }
}

impl fmt::Display for ProcessStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProcessStatus::Running { pid } => write!(f, "running as pid {pid}"),
            ProcessStatus::Exited(st) => write!(f, "exited ({st})"),
            ProcessStatus::Absent => write!(f, "not started since the node booted"),
            ProcessStatus::Lost { pid } => write!(f, "pid {pid} gone without a recorded status"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_status_decodes_like_waitpid() {
        assert_eq!(WaitStatus(768).exit_code(), Some(3));
        assert_eq!(WaitStatus(0).exit_code(), Some(0));
        assert_eq!(WaitStatus(15).signal(), Some(15));
        assert_eq!(WaitStatus(15).exit_code(), None);
        assert_eq!(WaitStatus(9).to_string(), "killed by signal 9");
    }

    #[test]
    fn status_lines_parse() {
        assert_eq!(
            ProcessStatus::parse("running 14\n"),
            Some(ProcessStatus::Running { pid: 14 })
        );
        assert_eq!(
            ProcessStatus::parse("exited 768"),
            Some(ProcessStatus::Exited(WaitStatus(768)))
        );
        assert_eq!(ProcessStatus::parse("absent"), Some(ProcessStatus::Absent));
        assert_eq!(
            ProcessStatus::parse("lost 3"),
            Some(ProcessStatus::Lost { pid: 3 })
        );
        assert_eq!(ProcessStatus::parse("running"), None);
        assert_eq!(ProcessStatus::parse("absent 1"), None);
    }
}
