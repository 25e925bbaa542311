//! Faults a test injects into a node (issue 17): freeze it, cut it off the run's network.
//! Both keep the node's filesystem, processes and address.

use bollard::models::{
    EndpointIpamConfig, EndpointSettings, NetworkConnectRequest, NetworkDisconnectRequest,
};

use std::time::{Duration, Instant};

use super::Run;
use crate::docker::error::{api, Error, Result};

/// How long [`Run::pause_node`] keeps trying to freeze a node that runc could not freeze.
pub const FREEZE_WITHIN: Duration = Duration::from_secs(20);
/// The pause between two freeze attempts.
const FREEZE_RETRY: Duration = Duration::from_millis(250);
/// runc's words when the cgroup v1 freezer stayed `FREEZING`.
const UNABLE_TO_FREEZE: &str = "unable to freeze";

impl Run {
    /// Freezes every process of the node (`docker pause`: the cgroup freezer), and says how
    /// many attempts it took.
    ///
    /// With cgroup v1 a freeze can fail: runc writes `FROZEN` up to 1000 times while the
    /// cgroup stays `FREEZING` (a task must be scheduled to reach the freezer, and on a loaded
    /// host it may not be), then gives up with "unable to freeze" and thaws the cgroup again
    /// (runc's `libcontainer/cgroups/fs/freezer.go`; seen here at a load average of 18,
    /// docs/faults.md). The node is then running as before: trying again is safe, until
    /// [`FREEZE_WITHIN`].
    pub async fn pause_node(&self, node: &str) -> Result<u32> {
        let info = self.node(node)?;
        let started = Instant::now();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let failed = match self
                .engine
                .client()
                .pause_container(&info.container_id)
                .await
            {
                Ok(()) => return Ok(attempts),
                Err(e) => e,
            };
            let text = failed.to_string();
            if !text.contains(UNABLE_TO_FREEZE) {
                return Err(api(format!("pause container {}", info.container_name))(
                    failed,
                ));
            }
            if started.elapsed() >= FREEZE_WITHIN {
                return Err(Error::Timeout {
                    node: node.to_string(),
                    what: format!("docker pause (tried {attempts} times)"),
                    waited: started.elapsed(),
                    last_seen: text,
                });
            }
            tokio::time::sleep(FREEZE_RETRY).await;
        }
    }

    /// Thaws a frozen node.
    pub async fn unpause_node(&self, node: &str) -> Result<()> {
        let info = self.node(node)?;
        self.engine
            .client()
            .unpause_container(&info.container_id)
            .await
            .map_err(api(format!("unpause container {}", info.container_name)))
    }

    /// Cuts the node off the run's network: its interface goes away, its processes run on.
    pub async fn disconnect_node(&self, node: &str) -> Result<()> {
        let info = self.node(node)?;
        self.engine
            .client()
            .disconnect_network(
                &self.network.name,
                NetworkDisconnectRequest {
                    container: info.container_id.clone(),
                    force: Some(true),
                },
            )
            .await
            .map_err(api(format!(
                "disconnect container {} from network {}",
                info.container_name, self.network.name
            )))
    }

    /// Connects a cut-off node again, at its address and with its alias.
    pub async fn reconnect_node(&self, node: &str) -> Result<()> {
        let info = self.node(node)?;
        let endpoint = EndpointSettings {
            ipam_config: Some(EndpointIpamConfig {
                ipv4_address: Some(info.ip.to_string()),
                ..Default::default()
            }),
            aliases: Some(vec![info.name.clone()]),
            ..Default::default()
        };
        self.engine
            .client()
            .connect_network(
                &self.network.name,
                NetworkConnectRequest {
                    container: info.container_id.clone(),
                    endpoint_config: Some(endpoint),
                },
            )
            .await
            .map_err(api(format!(
                "connect container {} to network {}",
                info.container_name, self.network.name
            )))
    }
}
