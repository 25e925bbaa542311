//! Connecting to the Docker engine.
//!
//! `DOCKER_HOST` decides where the engine is (`unix://` or `tcp://`; TLS is
//! not compiled in). The API version is negotiated so that an older engine
//! (20.10 speaks 1.41) is addressed in its own dialect.

use std::time::Duration;

use bollard::Docker;

use super::error::{Error, Result};

/// Where the engine is when `DOCKER_HOST` is unset.
pub const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// How long connecting may take before the engine counts as unreachable:
/// a dead tcp host would otherwise hang for bollard's two-minute timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A connected, version-negotiated Docker engine.
#[derive(Clone, Debug)]
pub struct Engine {
    docker: Docker,
    host: String,
    /// Rootless engines and Docker Desktop keep container networks in a
    /// separate namespace or VM: their addresses are not routable here.
    isolated_networks: bool,
}

impl Engine {
    /// Connects to the engine named by `DOCKER_HOST` (or the default socket).
    pub async fn connect() -> Result<Engine> {
        Engine::connect_to(&host_from_env()).await
    }

    /// Connects to `host` (`unix:///path` or `tcp://host:port`), negotiates
    /// the API version and pings; any failure is [`Error::Unreachable`].
    pub async fn connect_to(host: &str) -> Result<Engine> {
        let unreachable = |cause: String| Error::Unreachable {
            host: host.to_string(),
            cause,
        };
        if std::env::var("DOCKER_TLS_VERIFY").is_ok_and(|v| !v.is_empty()) {
            return Err(unreachable(
                "DOCKER_TLS_VERIFY is set but this build speaks plain HTTP only".into(),
            ));
        }
        let docker = Docker::connect_with_host(host).map_err(|e| unreachable(error_chain(&e)))?;
        let (docker, info) = tokio::time::timeout(CONNECT_TIMEOUT, async {
            let docker = docker.negotiate_version().await?;
            docker.ping().await?;
            let info = docker.info().await?;
            Ok::<_, bollard::errors::Error>((docker, info))
        })
        .await
        .map_err(|_| unreachable(format!("no answer within {CONNECT_TIMEOUT:?}")))?
        .map_err(|e| unreachable(error_chain(&e)))?;
        let rootless = info
            .security_options
            .unwrap_or_default()
            .iter()
            .any(|o| o.contains("name=rootless"));
        let desktop = info
            .operating_system
            .is_some_and(|os| os.contains("Docker Desktop"));
        Ok(Engine {
            docker,
            host: host.to_string(),
            isolated_networks: rootless || desktop,
        })
    }

    /// The address this engine was reached at.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether the harness can connect to container addresses directly:
    /// a local engine whose bridge networks live in this machine's network
    /// namespace (not rootless, not Docker Desktop). Otherwise publish the
    /// ports you need (`NodeSpec::publish`).
    pub fn routes_to_containers(&self) -> bool {
        self.not_routed_because().is_none()
    }

    /// Why container addresses cannot be routed from here, when that is known from the
    /// engine alone (where it runs, what it says of itself); `None` when they may be (a
    /// connection attempt still has the last word).
    pub fn not_routed_because(&self) -> Option<String> {
        if !self.is_local() {
            Some(format!("the engine at {} is on another machine", self.host))
        } else if self.isolated_networks {
            Some(
                "the engine keeps its networks in a VM or another network namespace \
                 (Docker Desktop or rootless)"
                    .to_string(),
            )
        } else {
            None
        }
    }

    /// The engine's machine for a `tcp://` engine (where its published
    /// ports are); None for a socket.
    pub fn machine(&self) -> Option<&str> {
        machine_of(&self.host)
    }

    /// The raw bollard client, for calls this layer does not wrap.
    pub fn client(&self) -> &Docker {
        &self.docker
    }

    /// Whether the engine runs on this machine, so container IPs on a bridge
    /// network are routable from the harness (see `docs/runtime.md`).
    pub fn is_local(&self) -> bool {
        self.host.starts_with("unix://")
            || [
                "tcp://127.",
                "tcp://localhost",
                "http://127.",
                "http://localhost",
            ]
            .iter()
            .any(|p| self.host.starts_with(p))
    }
}

/// `tcp://host:2375/` -> `host`.
fn machine_of(host: &str) -> Option<&str> {
    let rest = host
        .strip_prefix("tcp://")
        .or_else(|| host.strip_prefix("http://"))?;
    let authority = rest.split('/').next()?;
    Some(authority.rsplit_once(':').map_or(authority, |(h, _)| h))
}

/// `DOCKER_HOST`, or the default socket when it is unset or empty.
pub fn host_from_env() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_HOST.to_string())
}

/// Renders an error with its causes: hyper's top-level message alone
/// ("client error (Connect)") does not say "connection refused".
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_machine_of_a_tcp_engine_is_its_host() {
        assert_eq!(
            machine_of("tcp://docker.example:2375"),
            Some("docker.example")
        );
        assert_eq!(machine_of("http://10.0.0.5:2375/"), Some("10.0.0.5"));
        assert_eq!(machine_of("unix:///var/run/docker.sock"), None);
    }
}
