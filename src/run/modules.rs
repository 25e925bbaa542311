//! The scenario's vendor modules in a run: their builds per version (a harness fixture built
//! here, or the vendor's files), installed in the nodes that load them, swapped by
//! `rebuild_modules`, and proved after every start (`docs/modules.md`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::domain::{Role, SetupMistake, Version};
use crate::mesos::modules::{self as mesos_modules, LoadedModule};
use crate::modules::{build_fixture, Fixture};
use crate::scenario::model::{ModuleKind, ModuleRole, Scenario};

use super::runner::{Outcome, Runner};
use super::StepError;

/// How long a module's proof may take to appear once its node is ready.
const PROOF_WITHIN: Duration = Duration::from_secs(10);

/// One declared module of the run.
#[derive(Debug, Clone)]
pub struct RunModule {
    /// `modules[i]` of the scenario, and its line.
    pub index: usize,
    pub line: usize,
    pub name: String,
    pub hook: bool,
    pub roles: Vec<Role>,
    pub parameters: Vec<(String, String)>,
    /// The absolute path in the node the module writes.
    pub proof_file: String,
    /// The library on this machine, per version.
    pub builds: BTreeMap<Version, PathBuf>,
    /// Node -> the versions whose build is installed there.
    pub installed: BTreeMap<String, BTreeSet<Version>>,
}

impl RunModule {
    /// `modules[0] org_example (line 12)`.
    pub fn label(&self) -> String {
        format!("modules[{}] {} (line {})", self.index, self.name, self.line)
    }

    /// The build `node` loads when it runs `version`: that version's once installed there,
    /// else the newest one installed (a stale build: the loader refuses it).
    pub fn build_for(&self, node: &str, version: Version) -> Option<Version> {
        let installed = self.installed.get(node)?;
        if installed.contains(&version) {
            return Some(version);
        }
        installed.iter().next_back().copied()
    }

    fn file_in_node(&self, version: Version) -> Option<String> {
        let file = self
            .builds
            .get(&version)?
            .file_name()?
            .to_string_lossy()
            .into_owned();
        Some(format!("{}/{file}", mesos_modules::install_dir(version)))
    }

    /// What `node` (of `role`) loads when it starts `version`, if it loads this module.
    pub fn loaded(&self, node: &str, role: Role, version: Version) -> Option<LoadedModule> {
        if !self.roles.contains(&role) {
            return None;
        }
        let build = self.build_for(node, version)?;
        Some(LoadedModule {
            name: self.name.clone(),
            file: self.file_in_node(build)?,
            parameters: self.parameters.clone(),
            hook: self.hook,
        })
    }
}

/// The scenario's modules with their builds on this machine: fixtures are built (cached)
/// for `from` and `to`; vendor files are resolved against the scenario's folder. The error
/// names the module and its line.
pub fn resolve(
    scenario: &Scenario,
    scenario_file: &Path,
    cache_dir: &Path,
) -> Result<Vec<RunModule>, String> {
    let versions = [scenario.from_version(), scenario.to_version()];
    let folder = scenario_file.parent().unwrap_or(Path::new("."));
    let mut out = Vec::new();
    for (index, m) in scenario.modules.iter().enumerate() {
        let line = m.defined.line() as usize;
        let module = &m.value;
        let what = format!(
            "{}:{line}: modules[{index}] {}",
            scenario_file.display(),
            module.name.value
        );
        let mut builds = BTreeMap::new();
        if let Some(fixture) = &module.fixture {
            let f = Fixture::from_name(&fixture.value)
                .ok_or_else(|| format!("{what}: no fixture named {}", fixture.value))?;
            for v in versions {
                let built =
                    build_fixture(f, v, cache_dir, "g++").map_err(|e| format!("{what}: {e}"))?;
                builds.insert(v, built.library);
            }
        } else {
            for v in versions {
                let file = module
                    .builds
                    .get(&v.to_string())
                    .ok_or_else(|| format!("{what}: no build for {v}"))?;
                let path = folder.join(&file.value);
                if !path.is_file() {
                    return Err(format!(
                        "{}:{}: modules[{index}].builds.{v}: no file {}",
                        scenario_file.display(),
                        file.defined.line(),
                        path.display()
                    ));
                }
                builds.insert(v, path);
            }
        }
        out.push(RunModule {
            index,
            line,
            name: module.name.value.clone(),
            hook: module.kind.value == ModuleKind::Hook,
            roles: module
                .roles
                .value
                .iter()
                .map(|r| match r {
                    ModuleRole::Master => Role::Master,
                    ModuleRole::Agents => Role::Agent,
                })
                .collect(),
            parameters: module
                .parameters
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            proof_file: module.proof.value.file.clone(),
            builds,
            installed: BTreeMap::new(),
        });
    }
    Ok(out)
}

impl Runner<'_> {
    /// Installs the build of `version` of every module `node` loads (once per node).
    pub(super) async fn install_module_builds(
        &mut self,
        node: &str,
        version: Version,
    ) -> Result<(), StepError> {
        let Some(role) = self.cluster.nodes.get(node).map(|n| n.role) else {
            return Ok(());
        };
        for i in 0..self.cluster.modules.len() {
            let m = &self.cluster.modules[i];
            let done = m.installed.get(node).is_some_and(|v| v.contains(&version));
            if !m.roles.contains(&role) || done {
                continue;
            }
            let Some(file) = m.builds.get(&version).cloned() else {
                continue;
            };
            let dir = mesos_modules::install_dir(version);
            let label = m.label();
            self.cluster
                .run
                .copy_to_node(node, &file, &dir)
                .await
                .map_err(|e| format!("{label}: installing {} in {node}: {e}", file.display()))?;
            self.cluster.modules[i]
                .installed
                .entry(node.to_string())
                .or_default()
                .insert(version);
        }
        Ok(())
    }

    /// `rebuild_modules`: every node that loads a module gets its `to` build (and keeps the
    /// `from` one for as long as it runs `from`); with the `stale_module_build` mistake,
    /// nothing changes and upgraded nodes load the `from` build.
    pub(super) async fn rebuild_modules(&mut self) -> Result<Outcome, StepError> {
        if self
            .scenario
            .mistakes
            .contains(&SetupMistake::StaleModuleBuild)
        {
            return Ok(Outcome::NoOp(format!(
                "MISTAKE stale_module_build: the {} builds stay in place",
                self.plan.from
            )));
        }
        let nodes: Vec<String> = self.cluster.nodes.keys().cloned().collect();
        for node in nodes {
            self.install_module_builds(&node, self.plan.to).await?;
        }
        Ok(Outcome::DoneAs(format!(
            "rebuild_modules: {} build of {} installed beside the {} one on every node that loads it",
            self.plan.to,
            self.cluster
                .modules
                .iter()
                .map(|m| m.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            self.plan.from
        )))
    }

    /// After `node` started and is ready: every module it loads wrote its proof file.
    pub(super) async fn prove_modules(&mut self, node: &str) -> Result<(), StepError> {
        let Some(n) = self.cluster.nodes.get(node).cloned() else {
            return Ok(());
        };
        for m in self.cluster.modules.clone() {
            let Some(loaded) = m.loaded(node, n.role, n.version) else {
                continue;
            };
            let started = Instant::now();
            let last = loop {
                let last = match self.cluster.run.read_file(node, &m.proof_file).await {
                    Ok(bytes) => {
                        let text = String::from_utf8_lossy(&bytes).trim().to_string();
                        self.progress.note(
                            &format!("{node}: {} proved by {} ({})", m.name, m.proof_file, text),
                            started.elapsed(),
                        );
                        break None;
                    }
                    Err(e) => e.to_string(),
                };
                if started.elapsed() >= PROOF_WITHIN {
                    break Some(last);
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            };
            if let Some(last) = last {
                return Err(format!(
                    "{}: loaded by {node} (Mesos {}) from {}, but its proof {} never appeared within {}s; last: {last}",
                    m.label(),
                    n.version,
                    loaded.file,
                    m.proof_file,
                    PROOF_WITHIN.as_secs()
                )
                .into());
            }
        }
        Ok(())
    }
}
