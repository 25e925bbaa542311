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
mod live_tests;
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
