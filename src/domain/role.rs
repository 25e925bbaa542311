//! The role of a node: one word for the scenario (topology, `on:`), the plan, the Mesos
//! knowledge and the runner.

use serde::{Deserialize, Serialize};

/// What runs in a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A ZooKeeper server (`zk-N`).
    #[serde(rename = "zookeeper")]
    ZooKeeper,
    /// A Mesos master (`master-N`).
    Master,
    /// A Mesos agent (`agent-N`).
    Agent,
}

impl Role {
    /// `zookeeper`, `master` or `agent` (also the launcher's role argument).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::ZooKeeper => "zookeeper",
            Role::Master => "master",
            Role::Agent => "agent",
        }
    }

    /// The name of the role's `n`-th node (1-based): `zk-1`, `master-2`, `agent-3`.
    pub fn node_name(self, n: u32) -> String {
        match self {
            Role::ZooKeeper => format!("zk-{n}"),
            Role::Master => format!("master-{n}"),
            Role::Agent => format!("agent-{n}"),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
