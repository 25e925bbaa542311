//! What the build knows about each Mesos version of the PyPI builds, and
//! where each library libmesos asks for comes from.

/// The agent-side API generation: which `Slave` constructor and
/// `Containerizer::create` a version exports. Passed to the launcher as
/// `-DMESOS_AGENT_ABI=<n>` and checked against the version's symbols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentAbi {
    /// 1.4: `StatusUpdateManager`, no `SecretGenerator`.
    V104,
    /// 1.5-1.6: `TaskStatusUpdateManager`, `SecretGenerator*`.
    V105,
    /// 1.7: `Containerizer::create` takes the `GarbageCollector*`.
    V107,
    /// 1.8: `VolumeGidManager*`.
    V108,
    /// 1.9: `PendingFutureTracker*`.
    V109,
    /// 1.10: `Option<Socket<unix::Address>>` for the executor socket.
    V110,
    /// 1.11: `Owned<CSIServer>&&`, and `CSIServer*` for the containerizer.
    V111,
}

impl AgentAbi {
    pub fn macro_value(self) -> u32 {
        match self {
            AgentAbi::V104 => 104,
            AgentAbi::V105 => 105,
            AgentAbi::V107 => 107,
            AgentAbi::V108 => 108,
            AgentAbi::V109 => 109,
            AgentAbi::V110 => 110,
            AgentAbi::V111 => 111,
        }
    }
}

/// One Mesos version of the PyPI builds.
#[derive(Debug, Clone, Copy)]
pub struct VersionInfo {
    pub version: &'static str,
    /// SHA-256 of `mesos.scheduler-<version>.linux-x86_64.tar.gz`.
    pub sha256: &'static str,
    /// Path of `_scheduler.so` inside the tarball.
    pub so_path: &'static str,
    pub agent_abi: AgentAbi,
    /// `MESOS_MASTER_HA_ABI`: which allocator entry point the HA master mode uses (see
    /// [`VERSIONS`]); 0 for a version without the HA master mode.
    pub master_ha_abi: u32,
}

const DEBIAN_SO: &str = "usr/local/lib/python2.7/dist-packages/mesos/scheduler/_scheduler.so";
const OPENSUSE_SO: &str = "usr/lib64/python2.7/site-packages/mesos/scheduler/_scheduler.so";

macro_rules! v {
    ($v:literal, $sha:literal, $so:expr, $abi:ident, $ha:literal) => {
        VersionInfo {
            version: $v,
            sha256: $sha,
            so_path: $so,
            agent_abi: AgentAbi::$abi,
            master_ha_abi: $ha,
        }
    };
}

/// Every Mesos version of the PyPI builds, oldest first: the one table every list of
/// versions derives from (what `local` scenarios may name, what `images build` builds,
/// which versions have HA masters).
///
/// The last column is the HA master mode (`ha-master`, or `master` with `MESOS_ZK`): the
/// allocator entry point the version exports: 107 =
/// `MesosAllocator<HierarchicalAllocatorProcess<DRFSorter x3>>::create()` (1.4-1.8),
/// 106 = that class's base-object constructor (the 1.6.1 openSUSE build exports
/// neither `create()` nor the complete-object constructor), 110 = the
/// `MesosAllocator<HierarchicalAllocatorProcess<DRFSorter x2>>` constructor (1.9+:
/// `create()` is not exported). The build checks every entry point against the
/// version's exported symbols; each version was run with three masters and a real
/// ZooKeeper (docs/zookeeper.md).
pub(crate) const VERSIONS: &[VersionInfo] = &[
    v!(
        "1.4.3",
        "2f1893a2a0c26ce31208c843c3815ce6821eb83f0808c57287938fe1eccea51c",
        DEBIAN_SO,
        V104,
        107
    ),
    v!(
        "1.5.2",
        "973b92c2bde73eba657eb1e2cef8220c53a6ae436ee469384989dfd83dc9b633",
        DEBIAN_SO,
        V105,
        107
    ),
    v!(
        "1.5.3",
        "777d62491c1d968644b6fb855967fdbb189c7b93c17ae576ec6e2a6bcb7610fc",
        DEBIAN_SO,
        V105,
        107
    ),
    v!(
        "1.6.1",
        "1e7b6787657775610e59d0da2bebc7230f184a9dda53abd4e50d351aa0b2d9c7",
        OPENSUSE_SO,
        V105,
        106
    ),
    v!(
        "1.6.2",
        "6744b50967fbc1cc634b711c1a73ebc709437c5c6783c3db687cfa7363e8a3d7",
        DEBIAN_SO,
        V105,
        107
    ),
    v!(
        "1.7.0",
        "cfaed9d0be936715e9153763d2007b8aa11e8ac092a160dc2769f7fc5301779e",
        DEBIAN_SO,
        V107,
        107
    ),
    v!(
        "1.7.1",
        "d1daebbf95f85612e1e64ed2203151abb341a1ec2690dc3822d2e63d8d8bfe92",
        DEBIAN_SO,
        V107,
        107
    ),
    v!(
        "1.7.2",
        "3b41a8a5b36990ab9b0483a31b673463ec016c77d5426b9baeec34bb55037693",
        DEBIAN_SO,
        V107,
        107
    ),
    v!(
        "1.7.3",
        "14f75c9d6d849d71e8fe476b2e9d6ec2243964ec2a692eb1ffd9c6692051f89b",
        DEBIAN_SO,
        V107,
        107
    ),
    v!(
        "1.8.0",
        "4a23876d13b7a278f0e1574d2ff9c8c3b07d845b338c4e4196d42987a96a2e1f",
        DEBIAN_SO,
        V108,
        107
    ),
    v!(
        "1.8.1",
        "3a0bfe4151ab0bfd7f94359743342f39fd9e21f72ab9c53151117f491200e2e0",
        DEBIAN_SO,
        V108,
        107
    ),
    v!(
        "1.9.0",
        "6829dc7ee6400b7a6d186e966a25d217638b365f5a9ba0b783222a5858f56dcf",
        DEBIAN_SO,
        V109,
        110
    ),
    v!(
        "1.10.0",
        "76f111c32a0cd82fc23aff61a85215d4d9ceebb34654d93264d8e64a27483ff5",
        DEBIAN_SO,
        V110,
        110
    ),
    v!(
        "1.11.0",
        "1d376f20bca6d05ee8b90c1c123a452b28753497ccc2f1c80ea3ac94c12e8f6e",
        DEBIAN_SO,
        V111,
        110
    ),
];

/// Every Mesos version the project can build, oldest first.
pub fn known_versions() -> Vec<&'static str> {
    VERSIONS.iter().map(|v| v.version).collect()
}

pub(crate) fn lookup(version: &str) -> Option<&'static VersionInfo> {
    VERSIONS.iter().find(|v| v.version == version)
}

/// Versions whose launcher has the HA master mode, oldest first.
pub fn versions_with_ha_masters() -> Vec<&'static str> {
    VERSIONS
        .iter()
        .filter(|v| v.master_ha_abi != 0)
        .map(|v| v.version)
        .collect()
}

/// `MESOS_MASTER_HA_ABI` of a version: 0 when it has no HA master mode.
pub fn master_ha_abi(version: &str) -> u32 {
    lookup(version).map_or(0, |v| v.master_ha_abi)
}

/// Where a library libmesos asks for (by soname) comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LibrarySource {
    /// Part of the machine's toolchain and C library: found by the `ldd`
    /// closure of the launcher and copied to its usual path.
    System,
    /// Never called in the control plane (SSL, curl, Python): a generated
    /// library with that soname whose every function aborts naming itself.
    Stub,
    /// A real Debian library, copied beside libmesos under the name asked for.
    Debian {
        file: &'static str,
        package: &'static str,
    },
}

/// Sonames asked for by the 14 builds, and where each comes from. Debian
/// files differ from the asked names where an older ABI-compatible soname is
/// requested (libevent 2.0 -> 2.1, the openSUSE build's sonames).
pub(crate) fn library_source(soname: &str) -> Option<LibrarySource> {
    use LibrarySource::*;
    let deb = |file, package| Some(Debian { file, package });
    match soname {
        "libc.so.6"
        | "libm.so.6"
        | "libpthread.so.0"
        | "librt.so.1"
        | "libdl.so.2"
        | "libgcc_s.so.1"
        | "libstdc++.so.6"
        | "ld-linux-x86-64.so.2"
        | "libz.so.1" => Some(System),
        s if s.starts_with("libssl.so.")
            || s.starts_with("libcrypto.so.")
            || s.starts_with("libcurl.so.")
            || s.starts_with("libevent_openssl-")
            || s.starts_with("libpython2.7.so.") =>
        {
            Some(Stub)
        }
        "libsvn_delta-1.so.1" | "libsvn_delta-1.so.0" => deb("libsvn_delta-1.so.1", "libsvn1"),
        "libsvn_subr-1.so.1" | "libsvn_subr-1.so.0" => deb("libsvn_subr-1.so.1", "libsvn1"),
        "libapr-1.so.0" => deb("libapr-1.so.0", "libapr1"),
        "libsasl2.so.2" | "libsasl2.so.3" => deb("libsasl2.so.2", "libsasl2-2"),
        "libevent-2.0.so.5" | "libevent-2.1.so.6" => deb("libevent-2.1.so.7", "libevent-2.1-7"),
        "libevent_pthreads-2.0.so.5" | "libevent_pthreads-2.1.so.6" => {
            deb("libevent_pthreads-2.1.so.7", "libevent-pthreads-2.1-7")
        }
        "libunwind.so.8" => deb("libunwind.so.8", "libunwind8"),
        _ => None,
    }
}

/// The apt packages a build of any version may need (documented in
/// docs/images.md; CI installs them).
pub const APT_PACKAGES: &[&str] = &[
    "binutils",
    "g++",
    "python3-pip",
    "libsvn1",
    "libapr1",
    "libaprutil1",
    "libsasl2-2",
    "libevent-2.1-7",
    "libevent-pthreads-2.1-7",
    "libunwind8",
    "zlib1g",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_complete() {
        let parsed: Vec<crate::domain::Version> = VERSIONS
            .iter()
            .map(|v| v.version.parse().expect("every table version parses"))
            .collect();
        assert!(parsed.windows(2).all(|w| w[0] < w[1]), "oldest first, once");
        for v in VERSIONS {
            assert_eq!(v.sha256.len(), 64, "{}", v.version);
            assert!(
                matches!(v.master_ha_abi, 0 | 106 | 107 | 110),
                "{}",
                v.version
            );
        }
        assert_eq!(versions_with_ha_masters().len(), 14);
    }
}
