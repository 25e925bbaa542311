//! The scenario files of a folder and their test names.

use std::path::{Path, PathBuf};

use crate::scenario::test_name::TestName;

/// One scenario file.
#[derive(Debug, Clone)]
pub struct ScenarioFile {
    /// Absolute path of the file.
    pub path: PathBuf,
    /// Path relative to the scenario folder, e.g. `local/1.10.0-to-1.11.0.yaml`.
    pub relative: String,
    /// Path relative to the crate root, for messages and snapshot headers
    /// (`scenarios/local/1.10.0-to-1.11.0.yaml`).
    pub shown: String,
    /// Test id: `local::1_10_0-to-1_11_0`.
    pub id: String,
    /// Snapshot folder below `plans/` (`local`), empty for top-level files.
    pub dir: String,
    /// Snapshot name (`1_10_0-to-1_11_0`).
    pub stem: String,
    /// Its trials' names.
    pub name: TestName,
}

/// Every scenario file under `folder`, found as `upgrade-harness check`/`matrix` find them
/// and named by [`TestName`]. `root` is only for the `shown` paths.
pub(super) fn scenario_files(root: &Path, folder: &Path) -> Result<Vec<ScenarioFile>, String> {
    let paths =
        crate::cli::scenario_files(&[folder.to_path_buf()]).map_err(|d| d.render_plain(100))?;
    Ok(paths
        .into_iter()
        .map(|path| {
            let relative = path
                .strip_prefix(folder)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            let shown = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            let name = TestName::of(&relative);
            ScenarioFile {
                path,
                relative,
                shown,
                id: name.id(),
                dir: name.dir.clone(),
                stem: name.stem.clone(),
                name,
            }
        })
        .collect())
}
