//! The part of a node's root that no image gives: what the harness's own binary (the task
//! helpers and `mesos-launcher`, run inside every node) needs from this machine, its `ldd`
//! closure at the loader's usual paths, plus a minimal `/etc` and the directories Mesos
//! writes to. A local build's root has all of this already; a root taken from images does
//! not, so the node image of an `upstream` scenario starts with this one.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use super::{io, ImageBuildError, FORMAT};
use crate::images::{normalize_tree, parse_ldd};

/// Where libraries without an absolute name go (Debian's multiarch directory, a default
/// search path of the loader).
const SYSTEM_LIB_DIR: &str = "lib/x86_64-linux-gnu";

/// `<cache>/image-builds/base-<hash16>/rootfs` for `binary` (built once per closure).
pub fn base_root(cache_dir: &Path, binary: &Path) -> Result<PathBuf, ImageBuildError> {
    let ldd = Command::new("ldd")
        .arg(binary)
        .env_clear()
        .output()
        .map_err(io(format!(
            "running ldd {} (install libc-bin)",
            binary.display()
        )))?;
    let text = String::from_utf8_lossy(&ldd.stdout).into_owned();
    let entries = parse_ldd(&text);
    let mut h = Sha256::new();
    h.update(format!("base format {FORMAT}\n"));
    let mut files = Vec::new();
    for e in &entries {
        let Some(path) = &e.path else {
            return Err(ImageBuildError::Io {
                what: format!("ldd {}", binary.display()),
                source: std::io::Error::other(format!("{} not found", e.name)),
            });
        };
        let bytes = fs::read(path).map_err(io(format!("reading {path}")))?;
        h.update(e.name.as_bytes());
        h.update(Sha256::digest(&bytes));
        files.push((e.name.clone(), bytes));
    }
    let hash = hex::encode(h.finalize());
    let dir = cache_dir
        .join("image-builds")
        .join(format!("base-{}", &hash[..16]));
    let rootfs = dir.join("rootfs");
    if dir.join("done").is_file() {
        return Ok(rootfs);
    }
    let tmp = cache_dir.join("image-builds").join(format!(
        ".tmp-base-{}-{}",
        &hash[..16],
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&tmp);
    let root = tmp.join("rootfs");
    let write = |rel: &str, bytes: &[u8]| -> Result<(), ImageBuildError> {
        let p = root.join(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).map_err(io(format!("creating {}", parent.display())))?;
        }
        fs::write(&p, bytes).map_err(io(format!("writing {}", p.display())))
    };
    for (name, bytes) in &files {
        let rel = if name.starts_with('/') {
            name.trim_start_matches('/').to_string()
        } else {
            format!("{SYSTEM_LIB_DIR}/{name}")
        };
        write(&rel, bytes)?;
    }
    write(
        "etc/passwd",
        b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
    )?;
    write("etc/group", b"root:x:0:\nnogroup:x:65534:\n")?;
    write(
        "etc/hosts",
        b"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
    )?;
    write(
        "etc/nsswitch.conf",
        b"passwd: files\ngroup: files\nhosts: files dns\n",
    )?;
    for d in ["tmp", "var/lib/mesos", "var/run/mesos"] {
        let p = root.join(d);
        fs::create_dir_all(&p).map_err(io(format!("creating {}", p.display())))?;
    }
    normalize_tree(&root, &root).map_err(|e| ImageBuildError::Io {
        what: format!("normalizing {}", root.display()),
        source: std::io::Error::other(e.to_string()),
    })?;
    fs::write(tmp.join("done"), "").map_err(io("marking the base root done"))?;
    if fs::rename(&tmp, &dir).is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    Ok(rootfs)
}
