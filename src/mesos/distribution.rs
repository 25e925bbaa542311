//! How each distribution names what runs a role at a version: the process name, the
//! programs looked for in an image (`upstream`), the standalone image (`local`).

use crate::domain::{Role, Version};

/// Image of the ZooKeeper node (built by the project; both distributions run it).
pub const LOCAL_ZOOKEEPER_IMAGE: &str = "upgrade-harness/zookeeper";

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

/// The programs that run a role at a version, in the order they are looked for in an image:
/// `mesos-master`; `mesos-agent` (1.0 renamed the agent; 1.x packages may still ship
/// `mesos-slave` beside it), or `mesos-slave` before 1.0.
pub fn program_names(role: Role, version: Version) -> &'static [&'static str] {
    match role {
        Role::ZooKeeper => &[],
        Role::Master => &["mesos-master"],
        Role::Agent if version.major == 0 => &["mesos-slave"],
        Role::Agent => &["mesos-agent", "mesos-slave"],
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
        assert_eq!(program_names(Role::Agent, v("0.28.2")), ["mesos-slave"]);
        assert_eq!(program_names(Role::Agent, v("1.7.3"))[0], "mesos-agent");
    }
}
