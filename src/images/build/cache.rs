//! Builds in the content-addressed cache: how to build, the input hash, building or reusing
//! one version's directory (written atomically), and pruning stale ones.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use sha2::{Digest, Sha256};

use super::assemble::Assembler;
use super::launcher::LAUNCHER_SOURCE;
use crate::images::error::ImagesError;
use crate::images::fetch::fetch_tarball;
use crate::images::versions::{self, VersionInfo};

/// Bump when the build's logic or layout changes: every version rebuilds.
pub const BUILD_FORMAT_VERSION: u32 = 2;

/// How to build.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Downloads go to `<cache_dir>/downloads`, builds to `<cache_dir>/builds`.
    pub cache_dir: PathBuf,
    /// Python interpreter with pip (finds and downloads the tarballs).
    pub python: String,
    /// C++ compiler for the launcher.
    pub cxx: String,
    /// C compiler for the stub libraries.
    pub cc: String,
    /// Where the Debian libraries are installed.
    pub library_dir: PathBuf,
}

impl Default for BuildOptions {
    /// Cache in `$UPGRADE_HARNESS_CACHE`, else `$HOME/.cache/upgrade-harness`.
    fn default() -> Self {
        let cache_dir = std::env::var_os("UPGRADE_HARNESS_CACHE")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/upgrade-harness"))
            })
            .unwrap_or_else(|| PathBuf::from(".upgrade-harness-cache"));
        BuildOptions {
            cache_dir,
            python: "python3".into(),
            cxx: "g++".into(),
            cc: "gcc".into(),
            library_dir: PathBuf::from("/usr/lib/x86_64-linux-gnu"),
        }
    }
}

impl BuildOptions {
    pub fn with_cache_dir(cache_dir: impl Into<PathBuf>) -> Self {
        BuildOptions {
            cache_dir: cache_dir.into(),
            ..Default::default()
        }
    }
}

/// A finished build of one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionBuild {
    pub version: String,
    /// `<cache>/builds/<version>-<hash>`: holds `rootfs/`, `build.json` and
    /// the generated sources under `work/`.
    pub dir: PathBuf,
    /// A directory to copy into an image root: everything the launcher needs
    /// at run time, at the absolute paths it has in the image.
    pub rootfs: PathBuf,
    /// `/opt/mesos/<version>/mesos-launcher`.
    pub launcher_path_in_image: String,
    /// `/opt/mesos/<version>`: give this as the agent's `MESOS_LAUNCHER_DIR`.
    pub launcher_dir_in_image: String,
    /// Content hash of the build inputs (format version, tarball, launcher).
    pub hash: String,
    /// True when an existing build was reused.
    pub reused: bool,
}

/// The build of `version` already in the cache of `opts`, without building anything: for
/// tests that run the cached builds and must stay cheap.
#[cfg(test)]
pub(crate) fn cached_build(version: &str, opts: &BuildOptions) -> Option<VersionBuild> {
    let hash = input_hash(versions::lookup(version)?);
    let dir = opts
        .cache_dir
        .join("builds")
        .join(format!("{version}-{}", &hash[..16]));
    if dir.join("build.json").is_file() {
        build_version(version, opts).ok()
    } else {
        None
    }
}

/// The content hash of `version`'s build inputs (what names its build), without building:
/// `None` for an unknown version.
pub fn build_hash(version: &str) -> Option<String> {
    versions::lookup(version).map(input_hash)
}

fn input_hash(info: &VersionInfo) -> String {
    let mut h = Sha256::new();
    h.update(format!("format {BUILD_FORMAT_VERSION}\n"));
    h.update(format!("version {}\n", info.version));
    h.update(format!("tarball {}\n", info.sha256));
    h.update(format!("agent-abi {}\n", info.agent_abi.macro_value()));
    h.update(format!(
        "master-ha-abi {}\n",
        versions::master_ha_abi(info.version)
    ));
    h.update(b"launcher\n");
    h.update(LAUNCHER_SOURCE.as_bytes());
    hex::encode(h.finalize())
}

/// Builds (or reuses) the build directory of `version`.
pub fn build_version(version: &str, opts: &BuildOptions) -> Result<VersionBuild, ImagesError> {
    let info = versions::lookup(version).ok_or_else(|| ImagesError::UnknownVersion {
        version: version.to_string(),
        known: versions::known_versions().join(", "),
    })?;
    let hash = input_hash(info);
    let builds = opts.cache_dir.join("builds");
    let dir = builds.join(format!("{version}-{}", &hash[..16]));
    let result = |reused| VersionBuild {
        version: version.to_string(),
        dir: dir.clone(),
        rootfs: dir.join("rootfs"),
        launcher_path_in_image: format!("/opt/mesos/{version}/mesos-launcher"),
        launcher_dir_in_image: format!("/opt/mesos/{version}"),
        hash: hash.clone(),
        reused,
    };
    if dir.join("build.json").is_file() {
        return Ok(result(true));
    }

    let tarball = fetch_tarball(version, opts)?;
    fs::create_dir_all(&builds).map_err(ImagesError::io("creating", &builds))?;
    let tmp = builds.join(format!(
        ".tmp-{version}-{}-{}",
        &hash[..16],
        std::process::id()
    ));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(ImagesError::io("removing", &tmp))?;
    }
    let started = Instant::now();
    if let Err(e) = Assembler::new(info, opts, &tmp, &hash).run(&tarball, started) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if let Err(e) = fs::rename(&tmp, &dir) {
        // Someone else finished the same build first: theirs is as good.
        let _ = fs::remove_dir_all(&tmp);
        if !dir.join("build.json").is_file() {
            return Err(ImagesError::io("renaming", &tmp)(e));
        }
    }
    Ok(result(false))
}

/// Removes build directories of known versions whose inputs no longer match
/// (an older launcher or build format), and temp directories left by
/// interrupted builds. Returns what was removed. Downloads are kept.
pub fn prune_builds(opts: &BuildOptions) -> Result<Vec<PathBuf>, ImagesError> {
    let builds = opts.cache_dir.join("builds");
    let Ok(entries) = fs::read_dir(&builds) else {
        return Ok(Vec::new());
    };
    let current: HashSet<String> = versions::VERSIONS
        .iter()
        .map(|v| format!("{}-{}", v.version, &input_hash(v)[..16]))
        .collect();
    let mut removed = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let stale_tmp = name.starts_with(".tmp-")
            && name
                .rsplit('-')
                .next()
                .and_then(|pid| pid.parse::<u32>().ok())
                .is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists());
        let known_version = versions::VERSIONS
            .iter()
            .any(|v| name.starts_with(&format!("{}-", v.version)));
        let stale_build = known_version && !name.starts_with('.') && !current.contains(&name);
        if stale_tmp || stale_build {
            let path = entry.path();
            fs::remove_dir_all(&path).map_err(ImagesError::io("removing", &path))?;
            removed.push(path);
        }
    }
    removed.sort();
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::test_skip;

    #[test]
    fn hash_depends_on_inputs() {
        let a = input_hash(versions::lookup("1.11.0").unwrap());
        let b = input_hash(versions::lookup("1.4.3").unwrap());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(a, input_hash(versions::lookup("1.11.0").unwrap()));
    }

    #[test]
    fn unknown_version_names_the_known_ones() {
        let opts = BuildOptions::with_cache_dir(tempfile::tempdir().unwrap().path());
        let msg = build_version("1.2.3", &opts).unwrap_err().to_string();
        assert!(
            msg.contains("1.4.3, 1.5.2") && msg.contains("1.11.0"),
            "{msg}"
        );
    }

    #[test]
    fn missing_pip_says_what_to_install() {
        let cache = tempfile::tempdir().unwrap();
        let opts = BuildOptions {
            python: "/nonexistent/python3".into(),
            ..BuildOptions::with_cache_dir(cache.path())
        };
        let err = build_version("1.11.0", &opts).unwrap_err();
        assert!(matches!(err, ImagesError::PipMissing { .. }), "{err}");
        assert!(err.to_string().contains("apt-get install -y python3-pip"));
    }

    /// A scratch cache holding the already downloaded tarball of `version` (`.ci/run`
    /// downloads every version before the tests), or None after reporting the skip.
    fn scratch_cache_with(version: &str) -> Option<tempfile::TempDir> {
        let cache = BuildOptions::default().cache_dir;
        let cached = cache.join(format!(
            "downloads/mesos.scheduler-{version}.linux-x86_64.tar.gz"
        ));
        if !cached.is_file() {
            test_skip::skip(&format!(
                "no downloaded tarball of Mesos {version} in {}: `upgrade-harness images build {version}` downloads it",
                cache.display()
            ));
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("downloads")).unwrap();
        fs::copy(
            &cached,
            dir.path()
                .join("downloads")
                .join(cached.file_name().unwrap()),
        )
        .unwrap();
        Some(dir)
    }

    /// Runs the real build of 1.4.3 (from the downloaded tarball) up to the missing library.
    #[test]
    fn missing_debian_library_names_the_package() {
        let Some(cache) = scratch_cache_with("1.4.3") else {
            return;
        };
        let empty = tempfile::tempdir().unwrap();
        let opts = BuildOptions {
            library_dir: empty.path().to_path_buf(),
            ..BuildOptions::with_cache_dir(cache.path())
        };
        let msg = build_version("1.4.3", &opts).unwrap_err().to_string();
        assert!(msg.contains("apt-get install -y"), "{msg}");
        assert!(
            !cache
                .path()
                .join("builds")
                .read_dir()
                .unwrap()
                .any(|_| true),
            "a failed build leaves nothing"
        );
    }

    /// Runs the real build of 1.4.3 (from the downloaded tarball) up to the missing compiler.
    #[test]
    fn missing_compiler_says_what_to_install() {
        let Some(cache) = scratch_cache_with("1.4.3") else {
            return;
        };
        let opts = BuildOptions {
            cc: "/nonexistent/gcc".into(),
            ..BuildOptions::with_cache_dir(cache.path())
        };
        let err = build_version("1.4.3", &opts).unwrap_err();
        assert!(matches!(err, ImagesError::ToolMissing { .. }), "{err}");
        assert!(err.to_string().contains("apt-get install -y gcc"), "{err}");
    }

    /// Builds 1.11.0 for real from its downloaded tarball in a scratch cache (g++, Debian
    /// libraries, the launcher's self-check; no network), then finds it again.
    #[test]
    fn builds_1_11_0_for_real() {
        let Some(cache) = scratch_cache_with("1.11.0") else {
            return;
        };
        let opts = BuildOptions::with_cache_dir(cache.path());
        let build = build_version("1.11.0", &opts).unwrap();
        assert!(!build.reused);
        let launcher = build
            .rootfs
            .join(build.launcher_path_in_image.trim_start_matches('/'));
        assert!(launcher.is_file(), "{}", launcher.display());
        assert!(build.rootfs.join("lib64/ld-linux-x86-64.so.2").is_file());
        let again = build_version("1.11.0", &opts).unwrap();
        assert!(again.reused);
        assert_eq!(again.dir, build.dir);
    }
}
