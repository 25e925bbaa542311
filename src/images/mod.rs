//! Per-version Mesos builds owned by the project (issue 3).
//!
//! For each Mesos version the project builds, from the PyPI package
//! `mesos.scheduler` (a real libmesos inside a Python extension), a directory
//! laid out as an image root filesystem: `/opt/mesos/<version>/` holds the
//! stripped `libmesos.so`, generated stub libraries, the Debian libraries it
//! needs under the names it asks for, and `mesos-launcher` (compiled from
//! `launcher/mesos-launcher.cc`); the system closure (glibc, libstdc++, the
//! loader) and a minimal `/etc` sit at their usual absolute paths.
//!
//! Builds are content-addressed and cached (`<cache>/builds/<version>-<hash>`),
//! written atomically, and never rebuilt for unchanged inputs. How and why:
//! `docs/images.md`.

mod build;
mod elf;
mod error;
mod fetch;
#[cfg(test)]
pub(crate) mod live_tests;
#[cfg(test)]
pub(crate) mod test_skip;
mod versions;
pub mod zookeeper;
#[cfg(test)]
mod zookeeper_live_tests;

#[cfg(test)]
pub(crate) use build::cached_build;
pub(crate) use build::normalize_tree;
pub use build::{
    build_hash, build_version, prune_builds, BuildOptions, VersionBuild, BUILD_FORMAT_VERSION,
};
pub(crate) use elf::{parse_ldd, LddEntry};
pub use error::ImagesError;
pub use fetch::{fetch_tarball, parse_pip_url};
pub use versions::{
    known_versions, master_ha_abi, versions_with_ha_masters, AgentAbi, VersionInfo, APT_PACKAGES,
};
pub use zookeeper::{build_zookeeper, ZooKeeperBuild};

/// The environment a build's `mesos-launcher` needs to run as a plain process on this machine, on
/// 127.0.0.1 (posix launcher and isolation, no systemd): the module checks of `certify` and
/// the live tests of the builds.
pub fn host_process_env(launcher_dir: &std::path::Path, port: u16) -> Vec<(&'static str, String)> {
    vec![
        ("MESOS_LAUNCHER", "posix".into()),
        ("MESOS_SYSTEMD_ENABLE_SUPPORT", "false".into()),
        ("MESOS_ISOLATION", "posix/cpu,posix/mem".into()),
        ("MESOS_HOSTNAME", "127.0.0.1".into()),
        ("LIBPROCESS_IP", "127.0.0.1".into()),
        ("LIBPROCESS_PORT", port.to_string()),
        ("MESOS_LAUNCHER_DIR", launcher_dir.display().to_string()),
    ]
}
