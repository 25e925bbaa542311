//! How Mesos loads modules (`../shared/modules.md`): the `--modules` JSON and activation
//! flags a node gets, where the builds sit in a node, and the loader's failure lines.

use crate::domain::Version;

/// Where the module builds of `version` are installed in a node.
pub fn install_dir(version: Version) -> String {
    format!("/opt/mesos-modules/{version}")
}

/// One module a node loads, with the library file of the build it loads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedModule {
    /// The module's name (its global symbol).
    pub name: String,
    /// Absolute path of the library in the node.
    pub file: String,
    /// `parameters` of the `--modules` entry, in order.
    pub parameters: Vec<(String, String)>,
    /// Whether it is a Hook module (activated by `--hooks`); otherwise Anonymous (created
    /// as soon as it is listed).
    pub hook: bool,
}

/// The environment that loads `modules` the way `mesos-master`/`mesos-agent` take it:
/// `MESOS_MODULES` (the `--modules` JSON, one library per module) and, for hooks,
/// `MESOS_HOOKS` (comma-separated names). Empty without modules.
pub fn module_env(modules: &[LoadedModule]) -> Vec<(String, String)> {
    if modules.is_empty() {
        return Vec::new();
    }
    let libraries: Vec<serde_json::Value> = modules
        .iter()
        .map(|m| {
            let parameters: Vec<serde_json::Value> = m
                .parameters
                .iter()
                .map(|(k, v)| serde_json::json!({ "key": k, "value": v }))
                .collect();
            serde_json::json!({
                "file": m.file,
                "modules": [{ "name": m.name, "parameters": parameters }],
            })
        })
        .collect();
    let mut env = vec![(
        "MESOS_MODULES".to_string(),
        serde_json::json!({ "libraries": libraries }).to_string(),
    )];
    let hooks: Vec<&str> = modules
        .iter()
        .filter(|m| m.hook)
        .map(|m| m.name.as_str())
        .collect();
    if !hooks.is_empty() {
        env.push(("MESOS_HOOKS".to_string(), hooks.join(",")));
    }
    env
}

/// The lines a master or agent prints when a module stops it (exit status 1): the loader's
/// own text, verbatim (`Error loading modules: ...`, `Failed to create anonymous module
/// named '...'`, `Error installing hooks: ...`).
pub fn loader_failures(output: &str) -> Vec<&str> {
    output
        .lines()
        .filter(|l| {
            l.contains("Error loading modules: ")
                || l.contains("Failed to create anonymous module named '")
                || l.contains("Error installing hooks: ")
                || l.contains("Only one of --modules or --modules_dir should be specified")
        })
        .collect()
}

/// What became of a module on one node, from the process's fate and output.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", content = "detail", rename_all = "snake_case")]
pub enum ModuleOutcome {
    /// The loader refused it: its text (after `Error loading modules: ` or `Error
    /// installing hooks: `).
    RejectedAtLoad(String),
    /// It loaded, and `create()` failed: the program's line.
    CreateFailed(String),
    /// The process died of a signal: the signal and its last lines.
    Crashed(String),
    /// It runs, but the proof never appeared: what was last seen.
    LoadedNoProof(String),
    /// It runs and the proof appeared: the proof's content.
    Works(String),
}

impl ModuleOutcome {
    /// The outcome of a process that exited (`code`: its status, `signal`: the signal that
    /// killed it), from its output.
    pub fn of_exit(code: Option<i32>, signal: Option<i32>, output: &str) -> ModuleOutcome {
        for line in loader_failures(output) {
            if let Some((_, text)) = line.split_once("Error loading modules: ") {
                return ModuleOutcome::RejectedAtLoad(text.to_string());
            }
            if let Some((_, text)) = line.split_once("Error installing hooks: ") {
                return ModuleOutcome::RejectedAtLoad(text.to_string());
            }
            if line.contains("Failed to create anonymous module named '") {
                return ModuleOutcome::CreateFailed(line.trim().to_string());
            }
        }
        let lines: Vec<&str> = output.lines().filter(|l| !l.trim().is_empty()).collect();
        let last = lines[lines.len().saturating_sub(3)..].join(" | ");
        match (code, signal) {
            (_, Some(sig)) => ModuleOutcome::Crashed(format!("signal {sig}; last output: {last}")),
            (code, None) => ModuleOutcome::Crashed(format!(
                "exited with status {} without a loader message; last output: {last}",
                code.map_or("?".to_string(), |c| c.to_string())
            )),
        }
    }

    /// `rejected at load`, `create failed`, `crashed`, `loaded, no proof`, `works`.
    pub fn class(&self) -> &'static str {
        match self {
            ModuleOutcome::RejectedAtLoad(_) => "rejected at load",
            ModuleOutcome::CreateFailed(_) => "create failed",
            ModuleOutcome::Crashed(_) => "crashed",
            ModuleOutcome::LoadedNoProof(_) => "loaded, no proof",
            ModuleOutcome::Works(_) => "works",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_lists_one_library_per_module_and_hooks_by_name() {
        let anonymous = LoadedModule {
            name: "org_a".into(),
            file: "/opt/mesos-modules/1.11.0/liba.so".into(),
            parameters: vec![("file".into(), "/tmp/a".into())],
            hook: false,
        };
        let hook = LoadedModule {
            name: "org_h".into(),
            file: "/opt/mesos-modules/1.11.0/libh.so".into(),
            parameters: vec![],
            hook: true,
        };
        let env = module_env(&[anonymous, hook]);
        let json: serde_json::Value = serde_json::from_str(&env[0].1).unwrap();
        assert_eq!(env[0].0, "MESOS_MODULES");
        assert_eq!(
            json["libraries"][0]["file"],
            "/opt/mesos-modules/1.11.0/liba.so"
        );
        assert_eq!(json["libraries"][0]["modules"][0]["name"], "org_a");
        assert_eq!(
            json["libraries"][0]["modules"][0]["parameters"][0],
            serde_json::json!({ "key": "file", "value": "/tmp/a" })
        );
        assert_eq!(json["libraries"][1]["modules"][0]["name"], "org_h");
        assert_eq!(env[1], ("MESOS_HOOKS".to_string(), "org_h".to_string()));
        assert!(module_env(&[]).is_empty());
    }

    #[test]
    fn loader_failures_are_kept_verbatim() {
        let out = "I1207 starting\nError loading modules: Error verifying module 'x': Minimum supported mesos version for 'Anonymous' is 1.11.0, but module is compiled with version 1.10.0\n";
        assert_eq!(
            loader_failures(out),
            vec!["Error loading modules: Error verifying module 'x': Minimum supported mesos version for 'Anonymous' is 1.11.0, but module is compiled with version 1.10.0"]
        );
    }
}
