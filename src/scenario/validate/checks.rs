//! Checks and probes: their kind, phase, target node, request and expectations.

use std::collections::BTreeSet;

use serde_saphyr::Spanned;

use super::Validator;
use crate::scenario::diagnostic::Problem;
use crate::scenario::load::{closest, with_suggestion};
use crate::scenario::model::{Check, FlagExpectation, JsonExpectation, Probe, StatusCheck, Target};

impl Validator<'_> {
    fn target(&mut self, on: &Spanned<Target>, field: String, nodes: Option<&[String]>) {
        if let (Target::Node(node), Some(nodes)) = (&on.value, nodes) {
            if !nodes.contains(node) {
                let mut refs = vec!["master", "agents"];
                refs.extend(nodes.iter().map(String::as_str));
                let p = self
                    .at(
                        on,
                        "scenario::unknown_node",
                        field.clone(),
                        format!("`{field}` names node `{node}`, which the topology does not have"),
                    )
                    .label("no such node")
                    .help(with_suggestion(
                        node,
                        &refs,
                        "valid targets (the leading master, every agent, or one node)",
                    ));
                self.out.push(p);
            }
        }
    }

    fn path(&mut self, path: &Spanned<String>, field: String) {
        if !path.value.starts_with('/') {
            let p = self
                .at(
                    path,
                    "scenario::bad_path",
                    field.clone(),
                    format!(
                        "`{field}` is {:?}, not an absolute endpoint path",
                        path.value
                    ),
                )
                .label("must start with `/`")
                .help(format!(
                    "write `/{}` (paths are relative to the node, e.g. `/master/state`)",
                    path.value.trim_start_matches("./")
                ));
            self.out.push(p);
        }
    }

    pub(super) fn check(
        &mut self,
        i: usize,
        check: &Spanned<Check>,
        phases: Option<&[String]>,
        nodes: Option<&[String]>,
    ) {
        let field = format!("checks[{i}]");
        let c = &check.value;
        let kinds: Vec<&str> = [
            ("status", c.status.is_some()),
            ("json", c.json.is_some()),
            ("metric_present", c.metric_present.is_some()),
            ("metric_absent", c.metric_absent.is_some()),
            ("flag", c.flag.is_some()),
            ("log_line", c.log_line.is_some()),
            ("fails_to_start", c.fails_to_start.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect();
        let all_kinds = "`status`, `json`, `metric_present`, `metric_absent`, `flag`, `log_line`, `fails_to_start`";
        match kinds.len() {
            1 => {}
            0 => {
                let p = self
                    .at(
                        check,
                        "scenario::check_kind",
                        &field,
                        format!("`{field}` checks nothing"),
                    )
                    .label("no check kind")
                    .help(format!("give exactly one of {all_kinds}"));
                self.out.push(p);
            }
            _ => {
                let p = self
                    .at(
                        check,
                        "scenario::check_kind",
                        &field,
                        format!(
                            "`{field}` has {} check kinds: {}",
                            kinds.len(),
                            kinds.join(", ")
                        ),
                    )
                    .label("one check, several kinds")
                    .help(format!(
                        "give exactly one of {all_kinds} per check; split it into {} checks",
                        kinds.len()
                    ));
                self.out.push(p);
            }
        }
        if let Some(phases) = phases {
            if !phases.contains(&c.after.value) {
                let refs: Vec<&str> = phases.iter().map(String::as_str).collect();
                let list = refs.join(", ");
                let help = match closest(&c.after.value, &refs) {
                    Some(best) => format!("did you mean `{best}`? phases of this scenario: {list}"),
                    None => format!("phases of this scenario: {list}"),
                };
                let p = self
                    .at(
                        &c.after,
                        "scenario::unknown_phase",
                        format!("{field}.after"),
                        format!(
                            "`{field}.after` names phase `{}`, which this scenario does not have",
                            c.after.value
                        ),
                    )
                    .label("no such phase")
                    .help(help);
                self.out.push(p);
            }
        }
        self.target(&c.on, format!("{field}.on"), nodes);
        if let Some(status) = &c.status {
            self.status(status, check, format!("{field}.status"));
        }
        if let Some(json) = &c.json {
            self.path(&json.get, format!("{field}.json.get"));
            if !(json.field.is_empty() || json.field.starts_with('/')) {
                let p = self
                    .at(
                        check,
                        "scenario::bad_pointer",
                        format!("{field}.json.field"),
                        format!(
                            "`{field}.json.field` is {:?}, not a JSON pointer",
                            json.field
                        ),
                    )
                    .label("in this check")
                    .help(format!(
                        "a JSON pointer starts with `/`, e.g. `/{}`",
                        json.field.replace('.', "/")
                    ));
                self.out.push(p);
            }
            let equals = json.expect.value == JsonExpectation::Equals;
            self.expect_value(
                equals,
                json.value.is_some(),
                check,
                &json.expect,
                format!("{field}.json"),
            );
        }
        if let Some(flag) = &c.flag {
            if flag.name.is_empty() || flag.name.starts_with('-') {
                let p = self
                    .at(
                        check,
                        "scenario::bad_flag_name",
                        format!("{field}.flag.name"),
                        format!("invalid flag name {:?}", flag.name),
                    )
                    .label("in this check")
                    .help("write the flag name as /flags lists it, without `--`");
                self.out.push(p);
            }
            let equals = flag.expect.value == FlagExpectation::Equals;
            self.expect_value(
                equals,
                flag.value.is_some(),
                check,
                &flag.expect,
                format!("{field}.flag"),
            );
        }
        for (name, metric) in [
            ("metric_present", &c.metric_present),
            ("metric_absent", &c.metric_absent),
        ] {
            if metric
                .as_deref()
                .is_some_and(|m| m.trim().is_empty() || m.starts_with('/'))
            {
                let p = self
                    .at(check, "scenario::bad_metric", format!("{field}.{name}"), format!("`{field}.{name}` is not a metric name"))
                    .label("in this check")
                    .help("write the metric name as /metrics/snapshot lists it, e.g. `master/slaves_active`");
                self.out.push(p);
            }
        }
    }

    fn expect_value<E>(
        &mut self,
        equals: bool,
        has_value: bool,
        check: &Spanned<Check>,
        expect: &Spanned<E>,
        field: String,
    ) {
        let span = self
            .file
            .span_of(&expect.referenced)
            .or_else(|| self.file.span_of(&check.referenced));
        if equals && !has_value {
            self.out.push(
                Problem::at(
                    self.file,
                    span,
                    "scenario::equals_without_value",
                    format!("{field}.value"),
                    format!("`{field}` expects `equals` but gives no `value`"),
                )
                .label("equals what?")
                .help("add `value: ...`, or expect `exists`/`present` or `absent`"),
            );
        } else if !equals && has_value {
            self.out.push(
                Problem::at(
                    self.file,
                    span,
                    "scenario::value_without_equals",
                    format!("{field}.value"),
                    format!("`{field}` gives a `value` but does not expect `equals`"),
                )
                .label("value is ignored")
                .help("add `expect: equals`, or remove `value`"),
            );
        }
    }

    fn status(&mut self, status: &StatusCheck, check: &Spanned<Check>, field: String) {
        match (&status.get, &status.post) {
            (Some(path), None) => self.path(path, format!("{field}.get")),
            (None, Some(path)) => self.path(path, format!("{field}.post")),
            (Some(_), Some(_)) | (None, None) => {
                let p = self
                    .at(
                        check,
                        "scenario::request",
                        field.clone(),
                        format!("`{field}` needs exactly one of `get` and `post`"),
                    )
                    .label("in this check")
                    .help("e.g. `status: { get: /master/state, code: 200 }`");
                self.out.push(p);
            }
        }
        if status.post.is_none() && (status.body.is_some() || status.content_type.is_some()) {
            let p = self
                .at(
                    check,
                    "scenario::body_without_post",
                    format!("{field}.body"),
                    format!("`{field}` has a body but is not a POST"),
                )
                .label("in this check")
                .help("use `post:` for requests with a body");
            self.out.push(p);
        }
        if !(100..=599).contains(&status.code.value) {
            let p = self
                .at(
                    &status.code,
                    "scenario::bad_status",
                    format!("{field}.code"),
                    format!(
                        "`{field}.code` is {}, not an HTTP status code",
                        status.code.value
                    ),
                )
                .label("not in 100-599")
                .help("HTTP status codes are 100-599, e.g. 200, 202, 307, 404");
            self.out.push(p);
        }
    }

    pub(super) fn probe(
        &mut self,
        i: usize,
        probe: &Spanned<Probe>,
        nodes: Option<&[String]>,
        names: &mut BTreeSet<String>,
    ) {
        let field = format!("probes[{i}]");
        let p = &probe.value;
        let name_ok = !p.name.value.is_empty()
            && p.name
                .value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'));
        if !name_ok {
            let pr = self
                .at(&p.name, "scenario::bad_name", format!("{field}.name"), format!("invalid `{field}.name`: {:?}", p.name.value))
                .label("not a valid probe name")
                .help("use lowercase letters, digits, `-` and `_` (it becomes part of snapshot names)");
            self.out.push(pr);
        } else if !names.insert(p.name.value.clone()) {
            let pr = self
                .at(
                    &p.name,
                    "scenario::duplicate_probe",
                    format!("{field}.name"),
                    format!("probe name `{}` is used twice", p.name.value),
                )
                .label("second probe with this name")
                .help("probe names name snapshots; make them unique");
            self.out.push(pr);
        }
        self.target(&p.on, format!("{field}.on"), nodes);
        match (&p.get, &p.post) {
            (Some(path), None) => self.path(path, format!("{field}.get")),
            (None, Some(path)) => self.path(path, format!("{field}.post")),
            _ => {
                let pr = self
                    .at(
                        probe,
                        "scenario::request",
                        field.clone(),
                        format!("`{field}` needs exactly one of `get` and `post`"),
                    )
                    .label("in this probe")
                    .help("e.g. `{ name: master-state, get: /master/state }`");
                self.out.push(pr);
            }
        }
        if p.post.is_none() && p.body.is_some() {
            let pr = self
                .at(
                    probe,
                    "scenario::body_without_post",
                    format!("{field}.body"),
                    format!("`{field}` has a body but is not a POST"),
                )
                .label("in this probe")
                .help("use `post:` for requests with a body");
            self.out.push(pr);
        }
    }
}
