//! The harness binary in node images: a stripped copy once, and links to it under every task
//! helper's name.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::docker::{ImageFile, ImageLink};
use crate::domain::Version;

use super::executor_path;

/// The environment variable that names the helper binary outright (an `upgrade-harness`
/// binary, or any binary that serves the helpers by name like a `testing` test binary).
pub const HELPERS_ENV: &str = "UPGRADE_HARNESS_HELPERS";

/// Set by a test binary that serves the helpers when started under their names
/// (`testing::arguments`): it can be the node image's helper binary itself.
static SELF_SERVES_HELPERS: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Says that the running binary is multi-call like `upgrade-harness` (it runs a task helper
/// when started under the helper's name), so that it can be the node image's helper binary.
pub fn this_binary_serves_helpers() {
    SELF_SERVES_HELPERS.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// The multi-call binary that is every task helper (`task_helpers::by_argv0`), found without
/// a checkout: [`HELPERS_ENV`] if set; else an `upgrade-harness` binary that is the running
/// executable (installed with `cargo install`) or beside it or one directory up (this
/// package's tests run from `target/debug/deps`, and cargo builds the package's binary for
/// them); else the running executable when it serves the helpers itself (another crate's
/// test binary using `testing`).
pub fn harness_binary() -> Result<PathBuf, String> {
    const NAME: &str = "upgrade-harness";
    if let Some(given) = std::env::var_os(HELPERS_ENV).filter(|v| !v.is_empty()) {
        let p = PathBuf::from(&given);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!(
                "{HELPERS_ENV}={}: no such file (it names the binary node images run as their task helpers: an `upgrade-harness` binary)",
                p.display()
            ))
        };
    }
    let exe =
        std::env::current_exe().map_err(|e| format!("locating the harness executable: {e}"))?;
    let dir = exe.parent().unwrap_or(Path::new("."));
    for d in [Some(dir), dir.parent()].into_iter().flatten() {
        let p = d.join(NAME);
        if p.is_file() {
            return Ok(p);
        }
    }
    if SELF_SERVES_HELPERS.load(std::sync::atomic::Ordering::Relaxed) {
        return Ok(exe);
    }
    Err(format!(
        "{NAME} not found next to {} (the node image needs it as the task helpers): build it with `cargo build`, \
         set {HELPERS_ENV} to an `upgrade-harness` binary, or start the tests with `upgrade_harness::testing::arguments()`",
        exe.display()
    ))
}

/// How long an unused stripped copy stays in the cache (every build of the harness is a new
/// ~17 MB copy).
const STRIPPED_KEPT_FOR: Duration = Duration::from_secs(24 * 3600);

/// A stripped copy of `source` in `cache` (the debug binary is ~60 MB, stripped ~17 MB),
/// named by content so that images stay reproducible; the original if `strip` fails. Copies
/// of other builds unused for [`STRIPPED_KEPT_FOR`] are removed.
fn stripped(source: &Path, cache: &Path) -> PathBuf {
    use sha2::{Digest, Sha256};
    // The binary's hash, remembered per (path, size, mtime): reading and hashing the
    // debug binary (~200 MB) for each run of a `compat` table cost seconds per cell.
    static SEEN: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<String, String>>> =
        std::sync::OnceLock::new();
    let stamp = std::fs::metadata(source)
        .ok()
        .map(|m| format!("{} {} {:?}", source.display(), m.len(), m.modified().ok()));
    let seen = SEEN.get_or_init(Default::default);
    let known = stamp.as_ref().and_then(|s| {
        seen.lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(s)
            .cloned()
    });
    let hash = match known {
        Some(hash) => hash,
        None => {
            let Ok(bytes) = std::fs::read(source) else {
                return source.to_path_buf();
            };
            let hash = hex::encode(Sha256::digest(&bytes));
            if let Some(s) = stamp {
                seen.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(s, hash.clone());
            }
            hash
        }
    };
    let name = source
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("helper");
    let out = cache.join(format!("{name}-{}", &hash[..16]));
    prune_stripped(cache, name, &out);
    if out.is_file() {
        // Marks it used, for the pruning of concurrent runs of other builds.
        let _ = std::fs::File::options()
            .append(true)
            .open(&out)
            .and_then(|f| f.set_modified(std::time::SystemTime::now()));
        return out;
    }
    let _ = std::fs::create_dir_all(cache);
    // Unique per call: scenario trials run in parallel threads of one process.
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = cache.join(format!("{name}.{}.{n}.tmp", std::process::id()));
    let ok = std::process::Command::new("strip")
        .arg("-o")
        .arg(&tmp)
        .arg(source)
        .status()
        .is_ok_and(|s| s.success());
    if ok && std::fs::rename(&tmp, &out).is_ok() {
        out
    } else {
        let _ = std::fs::remove_file(&tmp);
        source.to_path_buf()
    }
}

/// Removes `<name>-<sha16>` copies in `cache` other than `keep` not modified for
/// [`STRIPPED_KEPT_FOR`] (best effort: the cache is only an optimization).
fn prune_stripped(cache: &Path, name: &str, keep: &Path) {
    let Ok(dir) = std::fs::read_dir(cache) else {
        return;
    };
    let prefix = format!("{name}-");
    for entry in dir.flatten() {
        let path = entry.path();
        let is_copy = entry.file_name().to_str().is_some_and(|f| {
            f.strip_prefix(&prefix)
                .is_some_and(|h| h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        });
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > STRIPPED_KEPT_FOR));
        if is_copy && stale && path != keep {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// Where the one copy of the harness binary lives in every node image.
const HARNESS_IN_NODE: &str = "/opt/upgrade-harness/upgrade-harness";

/// What every node image gets for tasks: the harness binary once, and [`helper_links`] to it.
pub fn task_helper_files(
    versions: &[Version],
    executor_builds: &[Version],
    cache: &Path,
) -> Result<(ImageFile, Vec<ImageLink>), String> {
    let file = ImageFile {
        source: stripped(&harness_binary()?, cache),
        dest: HARNESS_IN_NODE.to_string(),
        mode: 0o755,
    };
    Ok((file, helper_links(versions, executor_builds)))
}

/// Symlinks to the harness binary under the helpers' names: `mesos-containerizer` in each
/// version's launcher dir, and the executor as `/opt/upgrade-harness/executor-<v>` for `from`
/// and `to` (the build name it reports comes from `--build`). Links, not copies: the stripped
/// binary is ~17 MB.
fn helper_links(versions: &[Version], executor_builds: &[Version]) -> Vec<ImageLink> {
    let link = |dest: String| ImageLink {
        dest,
        target: HARNESS_IN_NODE.to_string(),
    };
    let mut links: Vec<ImageLink> = versions
        .iter()
        .map(|v| link(format!("/opt/mesos/{v}/mesos-containerizer")))
        .collect();
    let mut seen = BTreeSet::new();
    for b in executor_builds {
        if seen.insert(*b) {
            links.push(link(executor_path(*b)));
        }
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helper_links_are_names_the_binary_dispatches_on() {
        let v = |s: &str| s.parse::<Version>().unwrap();
        let versions = [v("1.10.0"), v("1.11.0")];
        let builds = [v("1.10.0"), v("1.10.0")];
        let links = helper_links(&versions, &builds);
        let dests: Vec<&str> = links.iter().map(|l| l.dest.as_str()).collect();
        assert_eq!(
            dests,
            [
                "/opt/mesos/1.10.0/mesos-containerizer",
                "/opt/mesos/1.11.0/mesos-containerizer",
                "/opt/upgrade-harness/executor-1.10.0",
            ]
        );
        assert!(links.iter().all(|l| l.target == HARNESS_IN_NODE));
        // Every name is one the binary dispatches on.
        for l in &links {
            assert!(
                crate::task_helpers::by_argv0(l.dest.as_ref()).is_some(),
                "{}",
                l.dest
            );
        }
    }

    #[test]
    fn stale_stripped_copies_of_other_builds_are_pruned() {
        let cache = tempfile::tempdir().unwrap();
        let old = std::time::SystemTime::now() - STRIPPED_KEPT_FOR - Duration::from_secs(60);
        let make = |name: &str, modified| {
            let p = cache.path().join(name);
            std::fs::write(&p, "x").unwrap();
            std::fs::File::options()
                .append(true)
                .open(&p)
                .unwrap()
                .set_modified(modified)
                .unwrap();
            p
        };
        let stale = make("upgrade-harness-0123456789abcdef", old);
        let kept = make("upgrade-harness-fedcba9876543210", old);
        let recent = make(
            "upgrade-harness-00000000000000aa",
            std::time::SystemTime::now(),
        );
        let other = make("upgrade-harness-notes", old);
        prune_stripped(cache.path(), "upgrade-harness", &kept);
        assert!(!stale.exists());
        assert!(kept.exists() && recent.exists() && other.exists());
    }
}
