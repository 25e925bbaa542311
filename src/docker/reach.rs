//! How the harness reaches ports of its nodes: at their addresses on the run network, or
//! through ports published on the engine's machine (`docs/runtime.md`, "Reaching node
//! ports from the harness").

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde::Serialize;

/// How the harness connects to a node's port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reach {
    /// To the node's address on the run network: the engine's bridge networks are routed
    /// from here (a local Linux engine).
    Direct,
    /// To a port published on the engine's machine (127.0.0.1 for a local engine): remote
    /// engines, rootless engines, Docker Desktop.
    Published,
}

impl Reach {
    /// Every mode, by the name users write.
    pub const ALL: [Reach; 2] = [Reach::Direct, Reach::Published];

    /// The name users write (`UPGRADE_HARNESS_REACH=published`).
    pub fn as_str(self) -> &'static str {
        match self {
            Reach::Direct => "direct",
            Reach::Published => "published",
        }
    }
}

impl std::fmt::Display for Reach {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Reach {
    type Err = String;

    /// `direct` or `published`; the error lists the valid values.
    fn from_str(s: &str) -> Result<Reach, String> {
        Reach::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| {
                let valid: Vec<&str> = Reach::ALL.iter().map(|r| r.as_str()).collect();
                format!(
                    "`{s}` is not a way to reach nodes (valid: {})",
                    valid.join(", ")
                )
            })
    }
}

/// How long one TCP connect may take before the address counts as silent.
const ATTEMPT: Duration = Duration::from_millis(500);
/// Pause between two attempts (an unreachable host can fail at once).
const RETRY_EVERY: Duration = Duration::from_millis(50);

/// Whether packets from here reach `addr`, a port of a node on which nothing listens yet,
/// within `within`. Only the node's refusal proves it (returned: how long it took). A
/// connection that is *accepted* proves the opposite: something between here and the node
/// (a transparent proxy, as some sandboxes and CI runners have) answered in its place. A
/// timeout, "no route to host" or "network unreachable" until the deadline is `Err` too,
/// with the last failure.
pub async fn refuses_closed_port(addr: SocketAddr, within: Duration) -> Result<Duration, String> {
    let started = Instant::now();
    let deadline = started + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let last =
            match tokio::time::timeout(ATTEMPT.min(left), tokio::net::TcpStream::connect(addr))
                .await
            {
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    return Ok(started.elapsed())
                }
                Ok(Ok(_)) => {
                    return Err(format!(
                        "a connection to {addr}, where nothing listens, was accepted: \
                     something between here and the node answered for it"
                    ))
                }
                Ok(Err(e)) => e.to_string(),
                Err(_) => format!("no answer within {:?}", ATTEMPT.min(left)),
            };
        if Instant::now() + RETRY_EVERY >= deadline {
            return Err(format!(
                "no TCP answer from {addr} within {:.1}s; last: {last}",
                within.as_secs_f64()
            ));
        }
        tokio::time::sleep(RETRY_EVERY).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_by_name_and_a_bad_one_lists_the_valid_ones() {
        for r in Reach::ALL {
            assert_eq!(r.as_str().parse::<Reach>(), Ok(r));
        }
        assert_eq!(" published\n".parse::<Reach>(), Ok(Reach::Published));
        let err = "tunnel".parse::<Reach>().unwrap_err();
        assert_eq!(
            err,
            "`tunnel` is not a way to reach nodes (valid: direct, published)"
        );
    }

    #[test]
    fn serde_names_are_the_names_users_write() {
        for r in Reach::ALL {
            assert_eq!(
                serde_json::to_value(r).unwrap(),
                serde_json::Value::from(r.as_str())
            );
        }
    }

    #[tokio::test]
    async fn a_refusal_is_the_answer_and_an_accepted_connection_is_not() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let err = refuses_closed_port(addr, Duration::from_secs(2))
            .await
            .unwrap_err();
        assert!(
            err.starts_with(&format!(
                "a connection to {addr}, where nothing listens, was accepted"
            )),
            "{err}"
        );
        // The port is closed once the listener is dropped: the kernel refuses.
        drop(listener);
        assert!(refuses_closed_port(addr, Duration::from_secs(2))
            .await
            .is_ok());
    }
}
