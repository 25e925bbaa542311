//! `frameworks:` declarations: a program to start, how it shows it is up, and what it keeps.

use std::collections::BTreeSet;

use serde_saphyr::Spanned;

use crate::scenario::model::{Endpoint, Framework, Program, Scenario};

use super::Validator;

/// The verdict names of a framework's invariants (`expect_failure.by` may name them).
pub const FRAMEWORK_VERDICTS: [&str; 3] = ["framework_id", "framework_tasks", "framework_healthy"];

impl Validator<'_> {
    /// One framework: its name (unique), one program, one health signal, endpoints with paths.
    pub(super) fn framework(
        &mut self,
        i: usize,
        fw: &Spanned<Framework>,
        names: &mut BTreeSet<String>,
        scenario: &Scenario,
    ) {
        let f = &fw.value;
        let field = |x: &str| format!("frameworks[{i}].{x}");
        let name = &f.name.value;
        let name_ok = !name.is_empty()
            && name.len() <= 30
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !name.starts_with('-');
        if !name_ok {
            let p = self
                .at(
                    &f.name,
                    "scenario::framework",
                    field("name"),
                    format!("framework name `{name}` is not a valid container name part"),
                )
                .label("this name")
                .help(
                    "lowercase letters, digits and `-`, at most 30 characters, e.g. `my-framework`",
                );
            self.out.push(p);
        } else if !names.insert(name.clone()) {
            let p = self
                .at(
                    &f.name,
                    "scenario::framework",
                    field("name"),
                    format!("two frameworks are named `{name}`"),
                )
                .label("the second one")
                .help("give each framework its own name");
            self.out.push(p);
        }
        self.program(&f.program, &field("program"), scenario);
        if let Some(to) = &f.upgrade_to {
            self.program(to, &field("upgrade_to"), scenario);
            if let Some(image) = &to.value.image {
                let p = self
                    .at(
                        image,
                        "scenario::framework_program",
                        field("upgrade_to.image"),
                        "`upgrade_to.image` is not supported yet: the framework keeps its container (and its state directory) through its restarts",
                    )
                    .label("this image")
                    .help("give `upgrade_to: { binary: path/to/the-to-build }`, copied into the framework's container");
                self.out.push(p);
            }
        }
        let h = &f.healthy.value;
        let given = [h.http.is_some(), h.log_line.is_some(), h.registered]
            .iter()
            .filter(|g| **g)
            .count();
        if given != 1 {
            let p = self
                .at(
                    &f.healthy,
                    "scenario::framework_health",
                    field("healthy"),
                    format!(
                        "`healthy` needs exactly one of `http`, `log_line` and `registered`, not {given}"
                    ),
                )
                .label("this health declaration")
                .help("`{ http: { port: 8080, path: /health } }`, `{ log_line: \"subscribed\" }` or `{ registered: true }`");
            self.out.push(p);
        }
        if let Some(e) = &h.http {
            self.endpoint(e, &field("healthy.http.path"));
        }
        let k = &fw.value.keeps.value;
        for (j, e) in k.endpoints.iter().enumerate() {
            self.endpoint(e, &field(&format!("keeps.endpoints[{j}].path")));
        }
        if let Some(t) = &k.tasks {
            if t.names.is_empty() && t.labels.is_empty() {
                let p = self
                    .at(
                        &fw.value.keeps,
                        "scenario::framework_tasks",
                        field("keeps.tasks"),
                        "`keeps.tasks` names no task: give `names` or `labels`",
                    )
                    .label("these tasks")
                    .help("`tasks: { names: [web-1] }` or `tasks: { labels: { tier: web }, count: 2 }`");
                self.out.push(p);
            }
            if t.count == Some(0) {
                let p = self
                    .at(
                        &fw.value.keeps,
                        "scenario::framework_tasks",
                        field("keeps.tasks.count"),
                        "`count: 0` keeps no task",
                    )
                    .label("these tasks")
                    .help("at least 1 (or leave `count` out: one per name, else 1)");
                self.out.push(p);
            }
        }
    }

    /// A program is a binary, an image with its command, or the libmesos-linked framework of
    /// one of the run's versions.
    fn program(&mut self, program: &Spanned<Program>, field: &str, scenario: &Scenario) {
        let p = &program.value;
        let kinds = [
            p.binary.is_some(),
            p.image.is_some(),
            p.libmesos_scheduler.is_some(),
        ];
        let problem = match (&p.binary, &p.image) {
            _ if kinds.iter().filter(|k| **k).count() != 1 => Some(format!(
                "`{field}` needs exactly one of `binary`, `image` and `libmesos_scheduler`"
            )),
            (None, None) if !p.command.is_empty() => Some(format!(
                "`{field}.command` goes with `image`; `libmesos_scheduler` is the command"
            )),
            (Some(_), None) if !p.command.is_empty() => Some(format!(
                "`{field}.command` goes with `image`; a `binary` is the command"
            )),
            (None, Some(_)) if p.command.is_empty() => Some(format!(
                "`{field}.image` needs `command`: the program in the image to run"
            )),
            _ => None,
        };
        if let Some(message) = problem {
            let d = self
                .at(program, "scenario::framework_program", field, message)
                .label("this program")
                .help("`{ binary: path/to/my-framework }` (relative to the scenario file, or a name beside the harness binary), `{ image: my/framework:1.0, command: [/usr/bin/my-framework] }`, or `{ libmesos_scheduler: 1.7.3 }`");
            self.out.push(d);
            return;
        }
        if let Some(v) = &p.libmesos_scheduler {
            let versions = [scenario.from.value.clone(), scenario.to.value.clone()];
            let local = scenario.distribution.value == crate::scenario::model::Distribution::Local;
            let problem = if !local {
                Some((
                    format!("`{field}.libmesos_scheduler` is built against the project's own Mesos builds: it needs `distribution: local`"),
                    "use `binary` or `image` with an upstream distribution".to_string(),
                ))
            } else if !versions.contains(&v.value) {
                Some((
                    format!(
                        "`{field}.libmesos_scheduler: {}` is not a version of this run",
                        v.value
                    ),
                    format!(
                        "the run's node image holds `{}` and `{}`",
                        versions[0], versions[1]
                    ),
                ))
            } else {
                None
            };
            if let Some((message, help)) = problem {
                let d = self
                    .at(
                        v,
                        "scenario::framework_program",
                        format!("{field}.libmesos_scheduler"),
                        message,
                    )
                    .label("this version")
                    .help(help);
                self.out.push(d);
            }
        }
    }

    fn endpoint(&mut self, e: &Endpoint, field: &str) {
        if !e.path.value.starts_with('/') {
            let p = self
                .at(
                    &e.path,
                    "scenario::framework_endpoint",
                    field,
                    format!("endpoint path `{}` does not start with `/`", e.path.value),
                )
                .label("this path")
                .help(format!("`/{}`", e.path.value));
            self.out.push(p);
        }
    }
}
