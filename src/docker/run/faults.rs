//! Faults a test injects into a node (issue 17): freeze it, cut it off the run's network.
//! Both keep the node's filesystem, processes and address.

use bollard::models::{
    EndpointIpamConfig, EndpointSettings, NetworkConnectRequest, NetworkDisconnectRequest,
};

use super::Run;
use crate::docker::error::{api, Result};

impl Run {
    /// Freezes every process of the node (`docker pause`: the cgroup freezer).
    pub async fn pause_node(&self, node: &str) -> Result<()> {
        let info = self.node(node)?;
        self.engine
            .client()
            .pause_container(&info.container_id)
            .await
            .map_err(api(format!("pause container {}", info.container_name)))
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
