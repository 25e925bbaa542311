//! The helper programs tasks need inside a node, as library code so that they are unit-tested:
//! a stand-in for the agent's `mesos-containerizer launch` and the harness's custom executor.
//! They are not separate binaries: the `upgrade-harness` binary is multi-call ([`by_argv0`]),
//! so the one binary `cargo run` builds is placed in the node image under their names. Facts:
//! `../shared/tasks.md`; design notes: `docs/tasks.md`.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::Path;

pub mod base64;
pub mod containerizer;
pub mod executor;
pub mod http;
pub mod launcher;

/// A helper program the `upgrade-harness` binary becomes when started under its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Helper {
    /// `mesos-containerizer` (the agent runs `<launcher_dir>/mesos-containerizer launch`).
    Containerizer,
    /// `executor-<build>` (the node paths, `run::workload::executor_path`) or
    /// `upgrade-harness-executor`.
    Executor,
    /// `mesos-launcher` of a version taken from images (`launcher.rs`).
    Launcher,
}

/// The helper named by `argv0`'s basename, or `None` for the harness's own CLI.
pub fn by_argv0(argv0: &OsStr) -> Option<Helper> {
    let name = Path::new(argv0).file_name()?.to_str()?;
    match name {
        "mesos-containerizer" => Some(Helper::Containerizer),
        "upgrade-harness-executor" => Some(Helper::Executor),
        "mesos-launcher" => Some(Helper::Launcher),
        _ if name.starts_with("executor-") => Some(Helper::Executor),
        _ => None,
    }
}

impl Helper {
    /// Runs the helper started as `argv0` with `args` (without argv[0]); returns its exit
    /// code.
    pub fn main_with(self, argv0: &str, args: &[String], vars: &BTreeMap<String, String>) -> i32 {
        match self {
            Helper::Containerizer => containerizer::main_with(args, vars),
            Helper::Executor => executor::main_with(args, vars),
            Helper::Launcher => launcher::main_with(argv0, args),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_by_the_name_they_are_started_under() {
        let cases = [
            (
                "/opt/mesos/1.4.3/mesos-containerizer",
                Some(Helper::Containerizer),
            ),
            ("mesos-containerizer", Some(Helper::Containerizer)),
            ("executor-1.10.0", Some(Helper::Executor)),
            (
                "/opt/upgrade-harness/executor-1.11.0",
                Some(Helper::Executor),
            ),
            (
                "target/debug/upgrade-harness-executor",
                Some(Helper::Executor),
            ),
            ("target/debug/upgrade-harness", None),
            ("upgrade-harness", None),
            ("/opt/mesos/1.4.3/mesos-agent", None),
            ("/bin/executor", None),
            ("", None),
        ];
        for (argv0, want) in cases {
            assert_eq!(by_argv0(OsStr::new(argv0)), want, "{argv0}");
        }
    }
}
