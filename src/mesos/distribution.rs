//! How each distribution names what runs a role at a version: the process name and, for
//! `upstream`, the public image.

use crate::domain::{Role, Version};

/// Image of the ZooKeeper node for the `local` distribution (built by the project).
pub const LOCAL_ZOOKEEPER_IMAGE: &str = "upgrade-harness/zookeeper";
/// Image of the ZooKeeper node for the `upstream` distribution.
pub const UPSTREAM_ZOOKEEPER_IMAGE: &str = "zookeeper:3.4";

/// The Mesos process a role runs at a version: `mesos-master`, `mesos-slave` (<= 0.28)
/// or `mesos-agent` (>= 1.0).
pub fn process_name(role: Role, version: Version) -> &'static str {
    match role {
        Role::ZooKeeper => "zookeeper",
        Role::Master => "mesos-master",
        Role::Agent if version.major == 0 => "mesos-slave",
        Role::Agent => "mesos-agent",
    }
}

/// The image a node of the `upstream` distribution runs at a version.
pub fn upstream_image(role: Role, version: Version) -> String {
    match role {
        Role::ZooKeeper => UPSTREAM_ZOOKEEPER_IMAGE.to_string(),
        Role::Master => format!("mesosphere/mesos-master:{version}"),
        Role::Agent => format!("mesosphere/mesos-slave:{version}"),
    }
}

/// The standalone image of a version of the `local` distribution.
pub fn local_image(version: Version) -> String {
    format!("upgrade-harness/mesos:{version}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_were_slaves_before_1_0() {
        let v = |s: &str| s.parse::<Version>().unwrap();
        assert_eq!(process_name(Role::Agent, v("0.28.2")), "mesos-slave");
        assert_eq!(process_name(Role::Agent, v("1.0.0")), "mesos-agent");
        assert_eq!(
            upstream_image(Role::Agent, v("0.28.2")),
            "mesosphere/mesos-slave:0.28.2"
        );
    }
}
