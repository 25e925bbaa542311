//! Fetching the `mesos.scheduler` tarballs: pip finds the URL (through the
//! machine's own pip index configuration, so mirrors work), the file is
//! downloaded once into the cache and checked against its pinned SHA-256.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use super::build::BuildOptions;
use super::error::{tail, ImagesError};
use super::versions::{self, VersionInfo};

/// The download URL of the `mesos.scheduler` tarball in pip's output. pip
/// downloads the file, then refuses it ("... from <URL> does not appear to be
/// a Python project") and that message carries the URL.
pub fn parse_pip_url(pip_output: &str) -> Option<String> {
    pip_output
        .split_whitespace()
        .filter(|t| t.starts_with("https://") || t.starts_with("http://"))
        .map(|t| t.trim_end_matches([',', '.', ')', '\'', '"']))
        .map(|t| t.split('#').next().unwrap_or(t))
        .find(|t| t.contains("mesos.scheduler-") && t.ends_with(".tar.gz"))
        .map(str::to_string)
}

pub(crate) fn sha256_file(path: &Path) -> Result<String, ImagesError> {
    let mut file = fs::File::open(path).map_err(ImagesError::io("opening", path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(ImagesError::io("reading", path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

fn verify(info: &VersionInfo, path: &Path) -> Result<(), ImagesError> {
    let actual = sha256_file(path)?;
    if actual != info.sha256 {
        let _ = fs::remove_file(path);
        return Err(ImagesError::ChecksumMismatch {
            version: info.version.to_string(),
            expected: info.sha256.to_string(),
            actual,
        });
    }
    Ok(())
}

/// Returns the cached, verified tarball of `version`, downloading it first
/// if the cache does not have it. A file that fails the checksum is deleted.
pub fn fetch_tarball(version: &str, opts: &BuildOptions) -> Result<PathBuf, ImagesError> {
    let info = versions::lookup(version).ok_or_else(|| ImagesError::UnknownVersion {
        version: version.to_string(),
        known: versions::known_versions().join(", "),
    })?;
    let dir = opts.cache_dir.join("downloads");
    let path = dir.join(format!("mesos.scheduler-{version}.linux-x86_64.tar.gz"));
    if path.exists() {
        verify(info, &path)?;
        return Ok(path);
    }
    fs::create_dir_all(&dir).map_err(ImagesError::io("creating", &dir))?;

    let url = pip_url(version, opts)?;
    let part = dir.join(format!(
        ".mesos.scheduler-{version}.{}.part",
        std::process::id()
    ));
    // This crate's reqwest is built without TLS, so the HTTP client is
    // Python's (already required for pip), which honours the proxy variables.
    let script = "import shutil, sys, urllib.request\n\
                  with urllib.request.urlopen(sys.argv[1], timeout=120) as r, open(sys.argv[2], 'wb') as f:\n    \
                  shutil.copyfileobj(r, f, 1 << 20)\n";
    let out = Command::new(&opts.python)
        .args(["-c", script, &url])
        .arg(&part)
        .output()
        .map_err(|e| ImagesError::Download {
            url: url.clone(),
            detail: e.to_string(),
        })?;
    if !out.status.success() {
        let _ = fs::remove_file(&part);
        return Err(ImagesError::Download {
            url,
            detail: tail(&String::from_utf8_lossy(&out.stderr), 400),
        });
    }
    verify(info, &part)?;
    fs::rename(&part, &path).map_err(ImagesError::io("renaming", &part))?;
    Ok(path)
}

fn pip_url(version: &str, opts: &BuildOptions) -> Result<String, ImagesError> {
    let scratch = opts
        .cache_dir
        .join(format!(".pip-{}-{version}", std::process::id()));
    let out = Command::new(&opts.python)
        .args(["-m", "pip", "download", "--no-deps", "--no-input", "-d"])
        .arg(&scratch)
        .arg(format!("mesos.scheduler=={version}.linux-x86_64"))
        .output();
    let _ = fs::remove_dir_all(&scratch);
    let out = out.map_err(|e| ImagesError::PipMissing {
        python: opts.python.clone(),
        detail: e.to_string(),
    })?;
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if let Some(url) = parse_pip_url(&text) {
        return Ok(url);
    }
    if text.contains("No module named pip") {
        return Err(ImagesError::PipMissing {
            python: opts.python.clone(),
            detail: tail(&text, 200),
        });
    }
    Err(ImagesError::PipNoUrl {
        version: version.to_string(),
        output_tail: tail(&text, 400),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_from_pip_refusal() {
        let out = "Looking in links: /opt/wheels\nCollecting mesos.scheduler==1.11.0.linux-x86_64\n  Downloading mesos.scheduler-1.11.0.linux-x86_64.tar.gz (27.3 MB)\nERROR: mesos.scheduler==1.11.0.linux-x86_64 from https://files.pythonhosted.org/packages/95/df/63f5260be552ee9cc5b6ba34d86aba9af5a2ce66ae29bf0f5185a8bc2432/mesos.scheduler-1.11.0.linux-x86_64.tar.gz does not appear to be a Python project: neither 'setup.py' nor 'pyproject.toml' found.\n";
        assert_eq!(
            parse_pip_url(out).as_deref(),
            Some("https://files.pythonhosted.org/packages/95/df/63f5260be552ee9cc5b6ba34d86aba9af5a2ce66ae29bf0f5185a8bc2432/mesos.scheduler-1.11.0.linux-x86_64.tar.gz")
        );
    }

    #[test]
    fn url_with_hash_fragment_from_a_mirror() {
        let out = "ERROR: x from http://mirror.local/simple/m/mesos.scheduler-1.4.3.linux-x86_64.tar.gz#sha256=2f18 does not appear";
        assert_eq!(
            parse_pip_url(out).as_deref(),
            Some("http://mirror.local/simple/m/mesos.scheduler-1.4.3.linux-x86_64.tar.gz")
        );
        assert_eq!(parse_pip_url("ERROR: No matching distribution found"), None);
    }

    #[test]
    fn checksum_mismatch_deletes_and_names_both() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.tar.gz");
        fs::write(&file, b"not mesos").unwrap();
        let info = versions::lookup("1.11.0").unwrap();
        let err = verify(info, &file).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(info.sha256), "{msg}");
        assert!(msg.contains(&sha256_file_of(b"not mesos")), "{msg}");
        assert!(!file.exists());
    }

    fn sha256_file_of(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }
}
