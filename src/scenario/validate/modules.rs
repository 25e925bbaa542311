//! `modules:` declarations: where each build comes from, and what proves the module works.

use serde_saphyr::Spanned;

use crate::modules::Fixture;
use crate::scenario::model::{Module, ModuleKind, Scenario};

use super::Validator;

impl Validator<'_> {
    /// One module: a fixture or a build per version (`from` and `to`), and a proof file.
    pub(super) fn module(&mut self, i: usize, module: &Spanned<Module>, scenario: &Scenario) {
        let m = &module.value;
        let field = |f: &str| format!("modules[{i}].{f}");
        match (&m.fixture, m.builds.is_empty()) {
            (Some(_), false) | (None, true) => {
                let p = self
                    .at(
                        module,
                        "scenario::module_builds",
                        field("fixture"),
                        format!(
                            "module `{}` needs exactly one of `fixture` (a module of the harness) and `builds` (a library file per version)",
                            m.name.value
                        ),
                    )
                    .label("this module")
                    .help(format!(
                        "`fixture: touch` (fixtures: {}), or `builds: {{ \"{}\": path/to/lib.so, \"{}\": ... }}`",
                        Fixture::names(),
                        scenario.from.value,
                        scenario.to.value
                    ));
                self.out.push(p);
            }
            (Some(fixture), true) => {
                if Fixture::from_name(&fixture.value).is_none() {
                    let p = self
                        .at(
                            fixture,
                            "scenario::module_fixture",
                            field("fixture"),
                            format!("no fixture module named `{}`", fixture.value),
                        )
                        .label("this fixture")
                        .help(format!("fixtures: {}", Fixture::names()));
                    self.out.push(p);
                } else if m.kind.value != ModuleKind::Anonymous {
                    let p = self
                        .at(
                            &m.kind,
                            "scenario::module_fixture",
                            field("kind"),
                            format!(
                                "the fixture `{}` is an Anonymous module, not a {:?}",
                                fixture.value, m.kind.value
                            ),
                        )
                        .label("this kind")
                        .help("`kind: Anonymous`");
                    self.out.push(p);
                }
                if m.name.value != crate::modules::FIXTURE_MODULE_NAME {
                    let p = self
                        .at(
                            &m.name,
                            "scenario::module_fixture",
                            field("name"),
                            format!(
                                "the fixture modules are named `{}`, not `{}`",
                                crate::modules::FIXTURE_MODULE_NAME,
                                m.name.value
                            ),
                        )
                        .label("this name")
                        .help(format!("`name: {}`", crate::modules::FIXTURE_MODULE_NAME));
                    self.out.push(p);
                }
            }
            (None, false) => {
                let wanted = [&scenario.from.value, &scenario.to.value];
                for (version, file) in &m.builds {
                    if !wanted.contains(&version) {
                        let p = self
                            .at(
                                file,
                                "scenario::module_builds",
                                field(&format!("builds.{version}")),
                                format!("a build for {version}, which this scenario never runs"),
                            )
                            .label("this build")
                            .help(format!(
                                "builds are for `from` ({}) and `to` ({})",
                                scenario.from.value, scenario.to.value
                            ));
                        self.out.push(p);
                    }
                }
                for version in wanted {
                    if !m.builds.contains_key(version) {
                        let p = self
                            .at(
                                module,
                                "scenario::module_builds",
                                field("builds"),
                                format!(
                                    "module `{}` has no build for {version}: a module loads only into the Mesos version it declares",
                                    m.name.value
                                ),
                            )
                            .label("this module")
                            .help(format!("add `\"{version}\": path/to/lib.so` to `builds`"));
                        self.out.push(p);
                    }
                }
            }
        }
        let proof = &m.proof;
        if !proof.value.file.starts_with('/') {
            let p = self
                .at(
                    proof,
                    "scenario::module_proof",
                    field("proof.file"),
                    format!(
                        "`proof.file` must be an absolute path in the node, not `{}`",
                        proof.value.file
                    ),
                )
                .label("this proof")
                .help("e.g. `proof: { file: /tmp/module-created }`");
            self.out.push(p);
        }
        if m.roles.value.is_empty() {
            let p = self
                .at(
                    &m.roles,
                    "scenario::module_roles",
                    field("roles"),
                    "no role loads this module",
                )
                .label("these roles")
                .help("`roles: [master]`, `roles: [agents]` or `roles: [master, agents]`");
            self.out.push(p);
        }
    }
}
