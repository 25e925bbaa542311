//! The step vocabulary, distributions and how a master stops: words of the scenario format
//! that the Mesos knowledge (`crate::mesos::procedures`, `crate::mesos::versions`) also uses.
//! Their doc comments are part of the format's reference (`scenarios/schema.json`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Role;

/// Where a version's binaries come from and how each role is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Distribution {
    /// Built by the project from the Mesos binaries published on PyPI (1.4.3-1.11.0).
    Local,
    /// Each version's Mesos programs taken from Docker images (0.11.0-1.11.0): the
    /// scenario's `images`, pulled when missing (none can be pulled on the project's
    /// machines: there such runs are skipped, naming the image).
    Upstream,
}

/// How a master is stopped when it is restarted or upgraded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MasterStop {
    /// SIGTERM: like a killed `mesos-master` (its ZooKeeper session expires later).
    #[default]
    Crash,
    /// The master terminates, then its ZooKeeper session closes.
    Graceful,
}

/// The step vocabulary: every step of the documented procedures in the upgrade notes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// Rebuild and install vendor modules for the new version (no-op without modules).
    RebuildModules,
    /// Install the new master binaries and restart the masters, one at a time.
    UpgradeMasters,
    /// Install the new master binaries without restarting (they take effect at the next restart).
    InstallMasterBinaries,
    /// Restart the masters in place, one at a time.
    RestartMasters,
    /// Restart the masters one at a time with changed flags (`flags` / `unset_flags`).
    RestartMastersWithFlag,
    /// Install the new agent binaries and restart the agents, one at a time.
    UpgradeAgents,
    /// Install the new agent binaries without restarting.
    InstallAgentBinaries,
    /// Restart the agents in place, one at a time; they recover from their work dir.
    RestartAgents,
    /// Restart the agents one at a time with changed flags (`flags` / `unset_flags`).
    RestartAgentsWithFlag,
    /// Change the agents' cgroups mounts to one mountpoint per controller (0.18).
    ReconfigureAgentCgroupsMounts,
    /// Reboot the agent hosts: everything on them dies, the disk is kept.
    RebootAgents,
    /// Link the schedulers against the new version (the test framework's `to` build).
    UpgradeSchedulers,
    /// Set `FrameworkInfo.checkpoint` in the scheduler (0.14).
    SetFrameworkCheckpoint,
    /// Restart the schedulers: disconnect and re-subscribe with the same framework ID.
    RestartSchedulers,
    /// Upgrade the executors: new tasks use the `to` build of the executor.
    UpgradeExecutors,
    /// Fault: SIGKILL the target's Mesos process, then start it again (`restart_as`).
    KillNode,
    /// Fault: freeze the target's node (`docker pause`) for `seconds`, then thaw it.
    PauseNode,
    /// Fault: cut the target's node off the run's network for `seconds`, then reconnect it.
    PartitionNode,
    /// Fault: restart the ZooKeeper server (HA masters).
    RestartZookeeper,
    /// Fault: the test framework drops its connection without a goodbye and subscribes again
    /// with its framework ID.
    RestartFramework,
}

impl StepKind {
    /// Every step kind, in the order of the vocabulary.
    pub const ALL: [StepKind; 20] = [
        StepKind::RebuildModules,
        StepKind::UpgradeMasters,
        StepKind::InstallMasterBinaries,
        StepKind::RestartMasters,
        StepKind::RestartMastersWithFlag,
        StepKind::UpgradeAgents,
        StepKind::InstallAgentBinaries,
        StepKind::RestartAgents,
        StepKind::RestartAgentsWithFlag,
        StepKind::ReconfigureAgentCgroupsMounts,
        StepKind::RebootAgents,
        StepKind::UpgradeSchedulers,
        StepKind::SetFrameworkCheckpoint,
        StepKind::RestartSchedulers,
        StepKind::UpgradeExecutors,
        StepKind::KillNode,
        StepKind::PauseNode,
        StepKind::PartitionNode,
        StepKind::RestartZookeeper,
        StepKind::RestartFramework,
    ];

    /// The name written in scenario files (`upgrade_masters`).
    pub fn name(self) -> &'static str {
        match self {
            StepKind::RebuildModules => "rebuild_modules",
            StepKind::UpgradeMasters => "upgrade_masters",
            StepKind::InstallMasterBinaries => "install_master_binaries",
            StepKind::RestartMasters => "restart_masters",
            StepKind::RestartMastersWithFlag => "restart_masters_with_flag",
            StepKind::UpgradeAgents => "upgrade_agents",
            StepKind::InstallAgentBinaries => "install_agent_binaries",
            StepKind::RestartAgents => "restart_agents",
            StepKind::RestartAgentsWithFlag => "restart_agents_with_flag",
            StepKind::ReconfigureAgentCgroupsMounts => "reconfigure_agent_cgroups_mounts",
            StepKind::RebootAgents => "reboot_agents",
            StepKind::UpgradeSchedulers => "upgrade_schedulers",
            StepKind::SetFrameworkCheckpoint => "set_framework_checkpoint",
            StepKind::RestartSchedulers => "restart_schedulers",
            StepKind::UpgradeExecutors => "upgrade_executors",
            StepKind::KillNode => "kill_node",
            StepKind::PauseNode => "pause_node",
            StepKind::PartitionNode => "partition_node",
            StepKind::RestartZookeeper => "restart_zookeeper",
            StepKind::RestartFramework => "restart_framework",
        }
    }

    /// The nodes this step (re)starts one at a time, if any. Such a step has a phase per
    /// node (`<step phase>/<node>`) besides its own phase.
    pub fn one_node_at_a_time(self) -> Option<Role> {
        match self {
            StepKind::UpgradeMasters
            | StepKind::RestartMasters
            | StepKind::RestartMastersWithFlag => Some(Role::Master),
            StepKind::UpgradeAgents
            | StepKind::RestartAgents
            | StepKind::RestartAgentsWithFlag
            | StepKind::RebootAgents => Some(Role::Agent),
            _ => None,
        }
    }

    /// Whether the step is a fault (not part of any upgrade procedure: the order checks
    /// leave faults out).
    pub fn is_fault(self) -> bool {
        matches!(
            self,
            StepKind::KillNode
                | StepKind::PauseNode
                | StepKind::PartitionNode
                | StepKind::RestartZookeeper
                | StepKind::RestartFramework
        )
    }

    /// Whether the fault step takes a `target` (a node).
    pub fn targets_a_node(self) -> bool {
        matches!(
            self,
            StepKind::KillNode | StepKind::PauseNode | StepKind::PartitionNode
        )
    }

    /// Whether the step restarts nodes with changed flags (needs `flags` or `unset_flags`).
    pub fn takes_flags(self) -> bool {
        matches!(
            self,
            StepKind::RestartMastersWithFlag | StepKind::RestartAgentsWithFlag
        )
    }
}

impl std::fmt::Display for StepKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_serde_names() {
        for kind in StepKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.name());
        }
    }
}
