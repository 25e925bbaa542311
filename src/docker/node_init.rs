//! Building node-init, the PID 1 of every node (source: `node-init/node-init.c`).
//!
//! It is compiled statically so that it runs in any image, including a
//! `FROM scratch` one without a libc. The source is embedded in the harness
//! binary, so the harness needs gcc but not its source tree.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use super::error::{Error, Result};

/// The C source, embedded at compile time.
pub const SOURCE: &str = include_str!("../../node-init/node-init.c");

/// Where node-init lives inside every node (uploaded by `create_node`).
pub const PATH_IN_NODE: &str = "/node-init";

/// Compiler flags; part of the content hash.
const FLAGS: &[&str] = &["-static", "-O2", "-s", "-Wall"];

/// Compiles node-init into `out_dir` (created if missing) and returns the
/// binary's path. The file name carries a hash of source, flags and compiler
/// version, so an existing binary is reused and never stale.
/// The compiler is `$CC` or `gcc`.
pub fn build(out_dir: &Path) -> Result<PathBuf> {
    let cc = std::env::var("CC")
        .ok()
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "gcc".into());
    let version = compiler_version(&cc)?;
    let out = out_dir.join(format!("node-init-{}", &hash(&cc, &version)[..16]));
    if out.is_file() {
        return Ok(out);
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    std::fs::create_dir_all(out_dir).map_err(io(out_dir))?;
    // Unique per call: parallel builders (processes or threads) must not
    // share a temporary file.
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let unique = format!(
        "{}.{}",
        std::process::id(),
        CALLS.fetch_add(1, Ordering::Relaxed)
    );
    let src = out_dir.join(format!("node-init.{unique}.c"));
    let tmp = out_dir.join(format!("node-init.{unique}.tmp"));
    std::fs::write(&src, SOURCE).map_err(io(&src))?;
    let result = Command::new(&cc)
        .args(FLAGS)
        .arg("-o")
        .arg(&tmp)
        .arg(&src)
        .output();
    let _ = std::fs::remove_file(&src);
    let output = result.map_err(|e| Error::CompilerMissing {
        gcc: cc.clone(),
        cause: e.to_string(),
    })?;
    if !output.status.success() {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::Compile {
            gcc: cc,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    // rename is atomic: concurrent builders both produce the same bytes.
    std::fs::rename(&tmp, &out).map_err(io(&out))?;
    Ok(out)
}

/// `cc --version`'s first line; a missing compiler is reported here.
fn compiler_version(cc: &str) -> Result<String> {
    let output =
        Command::new(cc)
            .arg("--version")
            .output()
            .map_err(|e| Error::CompilerMissing {
                gcc: cc.to_string(),
                cause: e.to_string(),
            })?;
    let text = String::from_utf8_lossy(&output.stdout);
    Ok(text.lines().next().unwrap_or_default().to_string())
}

fn hash(cc: &str, version: &str) -> String {
    let mut h = Sha256::new();
    h.update(SOURCE.as_bytes());
    h.update(FLAGS.join(" ").as_bytes());
    h.update(cc.as_bytes());
    h.update(version.as_bytes());
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_compiler_is_a_clear_error() {
        let err = compiler_version("/nonexistent/gcc").unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("compile node-init: `/nonexistent/gcc` not found"),
            "{text}"
        );
    }
}
