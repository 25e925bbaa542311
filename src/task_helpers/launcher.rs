//! `mesos-launcher` of a version taken from images: the same interface as the project's own
//! launcher (`mesos-launcher master|agent`, flags from `MESOS_*` variables), so the runner
//! starts both kinds of build alike. It reads the launch table written beside it
//! ([`LAUNCH_FILE`]) and replaces itself (`exec`, same pid) with the command of the role:
//! the version's own loader, its own libraries, its own program.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The launch table's file name, in the version's directory beside the launcher link.
pub const LAUNCH_FILE: &str = "launch.json";

/// How to start each role of one version: `master` / `agent` -> argv.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaunchTable {
    /// Mode (`master`, `agent`) -> the command, argv[0] first (absolute paths).
    pub modes: BTreeMap<String, Vec<String>>,
}

/// Runs as `<dir>/mesos-launcher MODE`: execs the table's command for MODE. Returns only on
/// failure (exit 2 for a usage error, 1 otherwise, with one line on stderr).
pub fn main_with(argv0: &str, args: &[String]) -> i32 {
    let Some(mode) = args.first() else {
        eprintln!("mesos-launcher: usage: mesos-launcher master|agent");
        return 2;
    };
    let table_path = Path::new(argv0)
        .parent()
        .unwrap_or(Path::new("."))
        .join(LAUNCH_FILE);
    let table: LaunchTable = match std::fs::read_to_string(&table_path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(t) => t,
        Err(e) => {
            eprintln!("mesos-launcher: reading {}: {e}", table_path.display());
            return 1;
        }
    };
    let Some(argv) = table.modes.get(mode.as_str()).filter(|a| !a.is_empty()) else {
        let known: Vec<&str> = table.modes.keys().map(String::as_str).collect();
        eprintln!(
            "mesos-launcher: no `{mode}` in {} (it has: {})",
            table_path.display(),
            known.join(", ")
        );
        return 2;
    };
    use std::os::unix::process::CommandExt;
    let err = std::process::Command::new(&argv[0])
        .args(&argv[1..])
        .args(&args[1..])
        .exec();
    eprintln!("mesos-launcher: exec {}: {err}", argv.join(" "));
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mode_missing_from_the_table_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let table = LaunchTable {
            modes: BTreeMap::from([("master".to_string(), vec!["/bin/true".to_string()])]),
        };
        std::fs::write(
            dir.path().join(LAUNCH_FILE),
            serde_json::to_string(&table).unwrap(),
        )
        .unwrap();
        let argv0 = dir.path().join("mesos-launcher");
        assert_eq!(
            main_with(argv0.to_str().unwrap(), &["agent".to_string()]),
            2
        );
        assert_eq!(main_with(argv0.to_str().unwrap(), &[]), 2);
        let missing = dir.path().join("nowhere/mesos-launcher");
        assert_eq!(
            main_with(missing.to_str().unwrap(), &["master".to_string()]),
            1
        );
    }
}
