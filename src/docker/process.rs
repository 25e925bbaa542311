//! What node-init reports about a supervised process.

use std::fmt;
use std::time::{Duration, Instant};

use super::error::{Error, Result};
use super::run::Run;

/// How often `wait_process_exit` polls.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

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
    Running {
        /// Its pid in the node.
        pid: u32,
    },
    /// Reaped by PID 1, which recorded this status.
    Exited(WaitStatus),
    /// Never started since the node (re)booted.
    Absent,
    /// Gone without a recorded status (node-init was not PID 1).
    Lost {
        /// The pid it had.
        pid: u32,
    },
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

impl Run {
    /// Starts `argv` as the process `name` in the node, detached: it is a
    /// child of PID 1, outlives whoever stops it, and logs stdout and stderr
    /// to `/var/log/node/<name>.log`. `env` comes on top of the node's.
    /// Fails if a process of that name is running. Returns its pid.
    pub async fn start_process(
        &self,
        node: &str,
        name: &str,
        argv: &[&str],
        env: &[String],
    ) -> Result<u32> {
        let mut args = vec!["start", name, "--"];
        args.extend_from_slice(argv);
        let out = self.node_init(node, &args, env).await?;
        let text = out.stdout_text();
        text.trim().parse().map_err(|_| Error::Protocol {
            node: node.to_string(),
            command: format!("start {name}"),
            answer: text,
        })
    }

    /// Sends `signal` (`TERM`, `SIGKILL`, `9`, ...) to the process `name`.
    pub async fn signal_process(&self, node: &str, name: &str, signal: &str) -> Result<()> {
        self.node_init(node, &["signal", name, signal], &[])
            .await
            .map(|_| ())
    }

    /// Sends `signal` to the process group of `name` (it is a session and
    /// group leader): also reaches children that did not start their own
    /// session. Executors that call `setsid` are not touched.
    pub async fn signal_process_group(&self, node: &str, name: &str, signal: &str) -> Result<()> {
        self.node_init(node, &["signal", name, signal, "--group"], &[])
            .await
            .map(|_| ())
    }

    /// The current state of the process `name`.
    pub async fn process_status(&self, node: &str, name: &str) -> Result<ProcessStatus> {
        let out = self.node_init(node, &["status", name], &[]).await?;
        let text = out.stdout_text();
        ProcessStatus::parse(&text).ok_or_else(|| Error::Protocol {
            node: node.to_string(),
            command: format!("status {name}"),
            answer: text,
        })
    }

    /// Waits until the process `name` has exited and returns its raw wait
    /// status. The error says what was seen last.
    pub async fn wait_process_exit(
        &self,
        node: &str,
        name: &str,
        timeout: Duration,
    ) -> Result<WaitStatus> {
        let started = Instant::now();
        loop {
            let status = self.process_status(node, name).await?;
            match status {
                ProcessStatus::Exited(st) => return Ok(st),
                ProcessStatus::Running { .. } if started.elapsed() < timeout => {
                    tokio::time::sleep(POLL_INTERVAL).await
                }
                ProcessStatus::Absent | ProcessStatus::Lost { .. } => {
                    return Err(Error::NoExitStatus {
                        node: node.to_string(),
                        process: name.to_string(),
                        state: status.to_string(),
                    })
                }
                ProcessStatus::Running { .. } => {
                    return Err(Error::Timeout {
                        node: node.to_string(),
                        what: format!("process {name} to exit"),
                        waited: started.elapsed(),
                        last_seen: status.to_string(),
                    })
                }
            }
        }
    }

    /// Stops the process `name` like an init script: SIGTERM, up to `grace`
    /// to exit, then SIGKILL. Returns how it ended (also when it had
    /// already exited).
    pub async fn stop_process(
        &self,
        node: &str,
        name: &str,
        grace: Duration,
    ) -> Result<WaitStatus> {
        self.stop_process_with(node, name, "TERM", grace).await
    }

    /// [`Run::stop_process`] with another first signal (a node-init name such as `USR1`).
    pub async fn stop_process_with(
        &self,
        node: &str,
        name: &str,
        signal: &str,
        grace: Duration,
    ) -> Result<WaitStatus> {
        // node-init signals, waits and kills inside the node: one exec, however long it takes.
        let started = Instant::now();
        let grace_ms = grace.as_millis().to_string();
        let out = self
            .node_init(node, &["stop", name, signal, &grace_ms], &[])
            .await?;
        let text = out.stdout_text();
        match ProcessStatus::parse(&text) {
            Some(ProcessStatus::Exited(st)) => Ok(st),
            Some(status @ ProcessStatus::Running { .. }) => Err(Error::Timeout {
                node: node.to_string(),
                what: format!("process {name} to exit after signal {signal} and SIGKILL"),
                waited: started.elapsed(),
                last_seen: status.to_string(),
            }),
            Some(status) => Err(Error::NoExitStatus {
                node: node.to_string(),
                process: name.to_string(),
                state: status.to_string(),
            }),
            None => Err(Error::Protocol {
                node: node.to_string(),
                command: format!("stop {name} {signal} {grace_ms}"),
                answer: text,
            }),
        }
    }

    /// The process's log (stdout and stderr) from byte `from_offset` on.
    pub async fn process_log(&self, node: &str, name: &str, from_offset: u64) -> Result<Vec<u8>> {
        let offset = from_offset.to_string();
        let out = self.node_init(node, &["log", name, &offset], &[]).await?;
        Ok(out.stdout)
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
