//! The finished tree: fixed modes and mtimes, and its size.

use std::fs;
use std::path::{Path, PathBuf};

use crate::images::error::ImagesError;

/// Fixed modes and mtimes, so that equal inputs give equal image layers
/// (mtime `SOURCE_DATE_EPOCH`, default 0; symlinks keep theirs).
pub(crate) fn normalize_tree(root: &Path, path: &Path) -> Result<(), ImagesError> {
    let meta = fs::symlink_metadata(path).map_err(ImagesError::io("inspecting", path))?;
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    let relative = path.strip_prefix(root).unwrap_or(path);
    let mode = if meta.is_dir() {
        if relative == Path::new("tmp") {
            0o1777
        } else {
            0o755
        }
    } else if relative.starts_with("etc") {
        0o644
    } else {
        0o755 // libraries, the loader, the launcher, the mesos-executor marker
    };
    if meta.is_dir() {
        let mut children: Vec<PathBuf> = fs::read_dir(path)
            .map_err(ImagesError::io("listing", path))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        children.sort();
        for child in children {
            normalize_tree(root, &child)?;
        }
    }
    set_mode(path, mode)?;
    let epoch = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0);
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(epoch);
    let file = fs::File::open(path).map_err(ImagesError::io("opening", path))?;
    file.set_times(fs::FileTimes::new().set_modified(time).set_accessed(time))
        .map_err(ImagesError::io("setting the mtime of", path))
}

pub(super) fn set_mode(path: &Path, mode: u32) -> Result<(), ImagesError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(ImagesError::io("setting permissions of", path))
}

pub(in crate::images) fn dir_size(path: &Path) -> u64 {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return 0;
    };
    if meta.is_dir() {
        fs::read_dir(path)
            .map(|rd| rd.filter_map(Result::ok).map(|e| dir_size(&e.path())).sum())
            .unwrap_or(0)
    } else {
        meta.len()
    }
}
