//! The test names of a scenario file, decided in one place: `tests/scenarios.rs` names its
//! trials with them and `upgrade-harness matrix` prints them, so a CI filter made from the
//! matrix always names a real trial, and `--partition hash:k/n` keeps seeing the same names.

use std::path::{Component, Path};

/// The folder the project keeps its scenario files in; test names are relative to it.
pub const SCENARIOS_FOLDER: &str = "scenarios";

/// Where a scenario file sits below `scenarios/`, in the form test names use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestName {
    /// Folder below `scenarios/`, `/`-separated (`local`, `local-ha`); empty for a file
    /// directly in `scenarios/`.
    pub dir: String,
    /// File name without its extension, dots replaced by underscores (`1_10_0-to-1_11_0`):
    /// dots are wildcards in nextest's and libtest's filters.
    pub stem: String,
}

impl TestName {
    /// The names of the file at `relative`, its path below `scenarios/` with `/` separators
    /// (`local/1.10.0-to-1.11.0.yaml`).
    pub fn of(relative: &str) -> TestName {
        let without_ext = relative.rsplit_once('.').map_or(relative, |(stem, _)| stem);
        let (dir, stem) = without_ext.rsplit_once('/').unwrap_or(("", without_ext));
        TestName {
            dir: dir.to_string(),
            stem: stem.replace('.', "_"),
        }
    }

    /// The names of the file at `path`, counted from the last folder on it named
    /// `scenarios`; `None` when no folder on the path has that name (such a file is not one
    /// of the project's scenario tests). A relative path is taken from the current folder.
    pub fn of_path(path: &Path) -> Option<TestName> {
        let absolute = std::path::absolute(path).ok()?;
        let parts: Vec<&str> = absolute
            .components()
            .filter_map(|c| match c {
                Component::Normal(part) => part.to_str(),
                _ => None,
            })
            .collect();
        let last = parts.len().checked_sub(1)?;
        let root = parts[..last]
            .iter()
            .rposition(|part| *part == SCENARIOS_FOLDER)?;
        Some(TestName::of(&parts[root + 1..].join("/")))
    }

    /// `local::1_10_0-to-1_11_0`: what follows the trial kind in every test name.
    pub fn id(&self) -> String {
        if self.dir.is_empty() {
            self.stem.clone()
        } else {
            format!("{}::{}", self.dir.replace('/', "::"), self.stem)
        }
    }

    /// `run::local::1_10_0-to-1_11_0`: the trial that runs the real upgrade.
    pub fn run(&self) -> String {
        format!("run::{}", self.id())
    }

    /// `plan::local::1_10_0-to-1_11_0`: the trial that snapshots the plan.
    pub fn plan(&self) -> String {
        format!("plan::{}", self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_replace_dots_in_the_stem_and_slashes_in_the_folder() {
        let name = TestName::of("local/1.10.0-to-1.11.0-reboot.yaml");
        assert_eq!(name.dir, "local");
        assert_eq!(name.stem, "1_10_0-to-1_11_0-reboot");
        assert_eq!(name.run(), "run::local::1_10_0-to-1_11_0-reboot");
        assert_eq!(name.plan(), "plan::local::1_10_0-to-1_11_0-reboot");
        assert_eq!(
            TestName::of("vendor/acme/1.9.0-to-1.10.0.yml").id(),
            "vendor::acme::1_9_0-to-1_10_0"
        );
        assert_eq!(TestName::of("top.yaml").id(), "top");
    }

    #[test]
    fn a_path_is_counted_from_its_last_scenarios_folder() {
        for path in [
            "scenarios/local/1.10.0-to-1.11.0.yaml",
            "./scenarios/local/1.10.0-to-1.11.0.yaml",
            "/home/ci/scenarios/checkout/scenarios/local/1.10.0-to-1.11.0.yaml",
        ] {
            assert_eq!(
                TestName::of_path(Path::new(path)).map(|n| n.run()),
                Some("run::local::1_10_0-to-1_11_0".to_string()),
                "{path}"
            );
        }
        assert_eq!(TestName::of_path(Path::new("/elsewhere/x.yaml")), None);
        // A file named like the folder is not a folder.
        assert_eq!(TestName::of_path(Path::new("/elsewhere/scenarios")), None);
    }
}
