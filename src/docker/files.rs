//! Files in nodes, through the archive API and node-init.
//!
//! Node images may have no shell, no `rm`, no `mkdir` (they are built
//! `FROM scratch`), and the engine may be remote: so files go in and out as
//! tar streams of the Docker archive API, and node-init does the rest.

use std::path::Path;

use bollard::query_parameters::{DownloadFromContainerOptions, UploadToContainerOptions};
use futures_util::TryStreamExt;

use super::error::{api, Error, Result};
use super::exec::ExecOutput;
use super::image::{single_file_tar, tree_tar};
use super::node_init::PATH_IN_NODE;
use super::run::Run;
use super::stream::{settle, spawn_tar, tar_body};

fn command_ok(node: &str, argv: &[&str], out: ExecOutput) -> Result<ExecOutput> {
    if out.code == 0 {
        return Ok(out);
    }
    Err(Error::Command {
        node: node.to_string(),
        argv: argv.iter().map(|s| s.to_string()).collect(),
        code: out.code,
        stderr: out.stderr_text(),
    })
}

impl Run {
    /// Copies `source` (a directory's contents, or one file) into the
    /// directory `dest_dir` of the node, creating it. Modes and symlinks are
    /// kept; owners become root. Uses the archive API (large trees, remote
    /// engines), which cannot reach below tmpfs mounts such as `/run`.
    pub async fn copy_to_node(&self, node: &str, source: &Path, dest_dir: &str) -> Result<()> {
        let info = self.node(node)?;
        self.make_dir(node, dest_dir).await?;
        let root = source.to_path_buf();
        let (chunks, writer) = spawn_tar(move |w| {
            if root.is_dir() {
                tree_tar(w, &root)
            } else {
                single_file_tar(w, &root)
            }
        });
        let options = UploadToContainerOptions {
            path: dest_dir.to_string(),
            ..Default::default()
        };
        let sent = self
            .engine()
            .client()
            .upload_to_container(&info.container_id, Some(options), tar_body!(chunks))
            .await
            .map_err(api(format!(
                "copy {} into {dest_dir} in node {node}",
                source.display()
            )));
        settle(writer.await.expect("packing files panicked"), sent)
    }

    /// Writes `contents` to the absolute `path` in the running node,
    /// atomically, parents created. Goes through node-init (stdin), so it
    /// also works below `/run`, which the archive API cannot see.
    pub async fn write_file(
        &self,
        node: &str,
        path: &str,
        contents: &[u8],
        mode: u32,
    ) -> Result<()> {
        split_path(path)?;
        let mode = format!("{mode:o}");
        let argv = [PATH_IN_NODE, "write", path, &mode];
        let out = self.exec_input(node, &argv, &[], Some(contents)).await?;
        command_ok(node, &argv, out).map(|_| ())
    }

    /// Reads the file at `path` in the running node (through node-init, so
    /// `/run` works too).
    pub async fn read_file(&self, node: &str, path: &str) -> Result<Vec<u8>> {
        self.node_init(node, &["cat", path], &[])
            .await
            .map(|out| out.stdout)
    }

    /// Reads the regular file at `path` through the archive API: works on
    /// a stopped node, but not below tmpfs mounts such as `/run`.
    pub async fn read_file_archive(&self, node: &str, path: &str) -> Result<Vec<u8>> {
        let info = self.node(node)?;
        let action = format!("read {path} in node {node}");
        let options = DownloadFromContainerOptions { path: path.into() };
        let archive: Vec<u8> = self
            .engine()
            .client()
            .download_from_container(&info.container_id, Some(options))
            .map_ok(|chunk| chunk.to_vec())
            .try_concat()
            .await
            .map_err(api(&action))?;
        first_file(&archive).ok_or_else(|| Error::Invalid(format!("{action}: not a regular file")))
    }

    /// Removes `path` in the node recursively (`rm -rf`, symlinks not
    /// followed); a missing path is fine.
    pub async fn remove_path(&self, node: &str, path: &str) -> Result<()> {
        self.node_init(node, &["rm", path], &[]).await.map(|_| ())
    }

    /// `mkdir -p` in the node.
    pub async fn make_dir(&self, node: &str, path: &str) -> Result<()> {
        self.node_init(node, &["mkdir", path], &[])
            .await
            .map(|_| ())
    }
}

/// `/a/b/c` -> (`/a/b`, `c`); the path must be absolute.
fn split_path(path: &str) -> Result<(&str, &str)> {
    match path.rsplit_once('/') {
        Some((dir, name)) if path.starts_with('/') && !name.is_empty() => {
            Ok((if dir.is_empty() { "/" } else { dir }, name))
        }
        _ => Err(Error::Invalid(format!(
            "write {path:?}: expected an absolute path to a file"
        ))),
    }
}

/// The contents of the first entry of a tar stream, if it is a regular file.
fn first_file(archive: &[u8]) -> Option<Vec<u8>> {
    let mut tar = tar::Archive::new(archive);
    let mut entry = tar.entries().ok()?.next()?.ok()?;
    if entry.header().entry_type() != tar::EntryType::Regular {
        return None;
    }
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut entry, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_dir_and_name() {
        assert_eq!(split_path("/a/b/c").unwrap(), ("/a/b", "c"));
        assert_eq!(split_path("/c").unwrap(), ("/", "c"));
        assert!(split_path("c").is_err());
        assert!(split_path("/a/").is_err());
    }

    #[test]
    fn first_file_reads_a_one_file_tar() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("x"), "hello").unwrap();
        let archive = single_file_tar(Vec::new(), &dir.path().join("x")).unwrap();
        assert_eq!(first_file(&archive).unwrap(), b"hello");
    }
}
