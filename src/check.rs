//! Verdicts: a scenario's explicit checks judged against what the cluster answered.
//!
//! Pure: the runner fetches the [`Evidence`] a check needs (see [`needed`]) and this module
//! says whether it holds, with what was expected and what was seen, so every verdict can be
//! tested without a cluster.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::scenario::model::{Check, FlagExpectation, JsonExpectation};

/// What a check needs from the node it targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// One HTTP request's status code or body.
    Http {
        /// `GET` or `POST`.
        method: &'static str,
        /// Path, starting with `/`.
        path: String,
        /// POST body and content type.
        body: Option<(String, String)>,
    },
    /// The names in `/metrics/snapshot`.
    Metrics,
    /// The node's `/flags`.
    Flags,
    /// What the node's Mesos process logged since the previous phase.
    Log,
    /// How the node's (re)start in this phase ended.
    StartOutcome,
}

/// What the cluster answered for a [`Need`].
#[derive(Debug, Clone, PartialEq)]
pub enum Evidence {
    /// An HTTP answer: status and body.
    Http {
        /// Status code.
        status: u16,
        /// Raw body.
        body: String,
    },
    /// Metric names.
    Metrics(BTreeSet<String>),
    /// Flag name -> value.
    Flags(BTreeMap<String, String>),
    /// Log text.
    Log(String),
    /// The start failed (the process exited) with this output, or it started.
    Start {
        /// Whether the process exited instead of serving.
        failed: bool,
        /// Its output during the phase.
        output: String,
    },
    /// The evidence could not be fetched; the text says why.
    Unavailable(String),
}

/// The judgement of one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Whether the check holds.
    pub passed: bool,
    /// What the check expects, in words.
    pub expected: String,
    /// What was seen, in words.
    pub seen: String,
}

/// The field of `check` a failure is about, as a key path in the check (`["status",
/// "code"]`): the expected value that was not seen, or the request that got no answer.
pub fn offending_field(check: &Check, evidence: &Evidence) -> &'static [&'static str] {
    let unanswered = matches!(evidence, Evidence::Unavailable(_));
    if let Some(s) = &check.status {
        return match (unanswered, s.post.is_some()) {
            (false, _) => &["status", "code"],
            (true, true) => &["status", "post"],
            (true, false) => &["status", "get"],
        };
    }
    if let Some(j) = &check.json {
        return match (unanswered, j.expect.value) {
            (true, _) => &["json", "get"],
            (false, JsonExpectation::Equals) => &["json", "value"],
            (false, _) => &["json", "field"],
        };
    }
    if check.metric_present.is_some() {
        return &["metric_present"];
    }
    if check.metric_absent.is_some() {
        return &["metric_absent"];
    }
    if let Some(f) = &check.flag {
        return match f.expect.value {
            FlagExpectation::Equals => &["flag", "value"],
            _ => &["flag", "name"],
        };
    }
    if check.log_line.is_some() {
        return &["log_line", "contains"];
    }
    if check.fails_to_start.is_some() {
        return &["fails_to_start", "message"];
    }
    &["after"]
}

/// The evidence `check` needs. Validation guarantees exactly one check kind.
pub fn needed(check: &Check) -> Need {
    if let Some(s) = &check.status {
        return match (&s.get, &s.post) {
            (_, Some(post)) => Need::Http {
                method: "POST",
                path: post.value.clone(),
                body: Some((
                    s.body.clone().unwrap_or_default(),
                    s.content_type
                        .clone()
                        .unwrap_or_else(|| "application/json".to_string()),
                )),
            },
            (Some(get), None) => Need::Http {
                method: "GET",
                path: get.value.clone(),
                body: None,
            },
            (None, None) => Need::Http {
                method: "GET",
                path: "/".to_string(),
                body: None,
            },
        };
    }
    if let Some(j) = &check.json {
        return Need::Http {
            method: "GET",
            path: j.get.value.clone(),
            body: None,
        };
    }
    if check.metric_present.is_some() || check.metric_absent.is_some() {
        return Need::Metrics;
    }
    if check.flag.is_some() {
        return Need::Flags;
    }
    if check.log_line.is_some() {
        return Need::Log;
    }
    Need::StartOutcome
}

/// A one-line description of the check, for reports.
pub fn describe(check: &Check) -> String {
    if let Some(s) = &check.status {
        let (method, path) = match (&s.get, &s.post) {
            (_, Some(p)) => ("POST", p.value.as_str()),
            (Some(g), None) => ("GET", g.value.as_str()),
            (None, None) => ("GET", "/"),
        };
        return format!("{method} {path} answers {}", s.code.value);
    }
    if let Some(j) = &check.json {
        return match j.expect.value {
            JsonExpectation::Exists => format!("{} has field {}", j.get.value, j.field),
            JsonExpectation::Absent => format!("{} has no field {}", j.get.value, j.field),
            JsonExpectation::Equals => format!(
                "{} field {} equals {}",
                j.get.value,
                j.field,
                j.value
                    .as_ref()
                    .map(|v| v.value.clone())
                    .unwrap_or_default()
            ),
        };
    }
    if let Some(m) = &check.metric_present {
        return format!("metric {m} present");
    }
    if let Some(m) = &check.metric_absent {
        return format!("metric {m} absent");
    }
    if let Some(f) = &check.flag {
        return match f.expect.value {
            FlagExpectation::Present => format!("flag {} present", f.name),
            FlagExpectation::Absent => format!("flag {} absent", f.name),
            FlagExpectation::Equals => format!(
                "flag {} = {}",
                f.name,
                f.value.as_deref().unwrap_or_default()
            ),
        };
    }
    if let Some(l) = &check.log_line {
        return format!("log line containing {:?}", l.contains);
    }
    if let Some(f) = &check.fails_to_start {
        return format!("start fails with {:?}", f.message);
    }
    "no check kind".to_string()
}

/// Judges `check` against `evidence`.
pub fn evaluate(check: &Check, evidence: &Evidence) -> Verdict {
    let expected = describe(check);
    let verdict = |passed: bool, seen: String| Verdict {
        passed,
        expected: expected.clone(),
        seen,
    };
    if let Evidence::Unavailable(why) = evidence {
        return verdict(false, format!("no answer: {why}"));
    }
    if let Some(s) = &check.status {
        return match evidence {
            Evidence::Http { status, .. } => verdict(*status == s.code.value, format!("{status}")),
            other => mismatch(expected, other),
        };
    }
    if let Some(j) = &check.json {
        let Evidence::Http { status, body } = evidence else {
            return mismatch(expected, evidence);
        };
        let doc: serde_json::Value = match serde_json::from_str(body) {
            Ok(doc) => doc,
            Err(e) => return verdict(false, format!("{status}, body is not JSON ({e})")),
        };
        let field = doc.pointer(&j.field);
        return match (j.expect.value, field) {
            (JsonExpectation::Exists, Some(v)) => verdict(true, format!("{} = {v}", j.field)),
            (JsonExpectation::Exists, None) => verdict(false, format!("no field {}", j.field)),
            (JsonExpectation::Absent, None) => verdict(true, format!("no field {}", j.field)),
            (JsonExpectation::Absent, Some(v)) => verdict(false, format!("{} = {v}", j.field)),
            (JsonExpectation::Equals, Some(v)) => verdict(
                Some(v) == j.value.as_ref().map(|e| &e.value),
                format!("{} = {v}", j.field),
            ),
            (JsonExpectation::Equals, None) => verdict(false, format!("no field {}", j.field)),
        };
    }
    if let Some(name) = check
        .metric_present
        .as_ref()
        .or(check.metric_absent.as_ref())
    {
        let Evidence::Metrics(names) = evidence else {
            return mismatch(expected, evidence);
        };
        let present = names.contains(name);
        let seen = if present {
            format!("{name} present")
        } else {
            format!("{name} absent among {} metrics", names.len())
        };
        return verdict(present == check.metric_present.is_some(), seen);
    }
    if let Some(f) = &check.flag {
        let Evidence::Flags(flags) = evidence else {
            return mismatch(expected, evidence);
        };
        let value = flags.get(&f.name);
        let seen = match value {
            Some(v) => format!("{} = {v}", f.name),
            None => format!("no flag {}", f.name),
        };
        let passed = match f.expect.value {
            FlagExpectation::Present => value.is_some(),
            FlagExpectation::Absent => value.is_none(),
            FlagExpectation::Equals => value.is_some() && value == f.value.as_ref(),
        };
        return verdict(passed, seen);
    }
    if let Some(l) = &check.log_line {
        let Evidence::Log(text) = evidence else {
            return mismatch(expected, evidence);
        };
        return match text.lines().find(|line| line.contains(&l.contains)) {
            Some(line) => verdict(true, line.trim().to_string()),
            None => verdict(
                false,
                format!("no such line in {} log lines", text.lines().count()),
            ),
        };
    }
    if let Some(f) = &check.fails_to_start {
        let Evidence::Start { failed, output } = evidence else {
            return mismatch(expected, evidence);
        };
        let tail = last_lines(output, 3);
        return match (failed, output.contains(&f.message)) {
            (true, true) => verdict(true, format!("exited: {tail}")),
            (true, false) => verdict(false, format!("exited without the message: {tail}")),
            (false, _) => verdict(false, "the process started and kept running".to_string()),
        };
    }
    verdict(false, "the check names no check kind".to_string())
}

fn mismatch(expected: String, evidence: &Evidence) -> Verdict {
    Verdict {
        passed: false,
        expected,
        seen: format!("unexpected evidence: {evidence:?}"),
    }
}

/// The last `n` non-empty lines of `text`, joined with ` | `.
pub fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::model::Check;

    fn check(yaml: &str) -> Check {
        serde_saphyr::from_str(yaml).expect("test check parses")
    }

    fn http(status: u16, body: &str) -> Evidence {
        Evidence::Http {
            status,
            body: body.to_string(),
        }
    }

    #[test]
    fn status_check_compares_codes() {
        let c = check("after: start\nstatus: { get: /master/observe, code: 404 }\n");
        assert_eq!(
            needed(&c),
            Need::Http {
                method: "GET",
                path: "/master/observe".into(),
                body: None
            }
        );
        assert!(evaluate(&c, &http(404, "")).passed);
        let v = evaluate(&c, &http(200, ""));
        assert!(!v.passed);
        assert_eq!(v.seen, "200");
        assert_eq!(v.expected, "GET /master/observe answers 404");
    }

    #[test]
    fn post_check_carries_its_body() {
        let c = check("after: start\nstatus: { post: /master/reserve, body: 'a=b', content_type: application/x-www-form-urlencoded, code: 202 }\n");
        assert_eq!(
            needed(&c),
            Need::Http {
                method: "POST",
                path: "/master/reserve".into(),
                body: Some(("a=b".into(), "application/x-www-form-urlencoded".into()))
            }
        );
    }

    #[test]
    fn json_checks_exist_absent_equals() {
        let body = r#"{"slaves":[{"active":true}]}"#;
        let exists = check("after: start\njson: { get: /master/state, field: /slaves/0/active }\n");
        assert!(evaluate(&exists, &http(200, body)).passed);
        let absent =
            check("after: start\njson: { get: /master/state, field: /slaves/1, expect: absent }\n");
        assert!(evaluate(&absent, &http(200, body)).passed);
        let equals = check("after: start\njson: { get: /master/state, field: /slaves/0/active, expect: equals, value: false }\n");
        let v = evaluate(&equals, &http(200, body));
        assert!(!v.passed);
        assert_eq!(v.seen, "/slaves/0/active = true");
        assert!(!evaluate(&exists, &http(200, "not json")).passed);
    }

    #[test]
    fn metric_and_flag_checks() {
        let names: BTreeSet<String> = ["master/elected".to_string()].into();
        let present = check("after: start\nmetric_present: master/elected\n");
        let absent = check("after: start\nmetric_absent: master/elected\n");
        assert!(evaluate(&present, &Evidence::Metrics(names.clone())).passed);
        assert!(!evaluate(&absent, &Evidence::Metrics(names)).passed);

        let flags: BTreeMap<String, String> = [("work_dir".to_string(), "/w".to_string())].into();
        let eq = check("after: start\nflag: { name: work_dir, expect: equals, value: /w }\n");
        let gone = check("after: start\nflag: { name: work_dir, expect: absent }\n");
        assert!(evaluate(&eq, &Evidence::Flags(flags.clone())).passed);
        assert!(!evaluate(&gone, &Evidence::Flags(flags)).passed);
    }

    #[test]
    fn fails_to_start_needs_an_exit_with_the_message() {
        let c = check("after: x\nfails_to_start: { message: \"Flag 'work_dir' is required\" }\n");
        let out = "Flag 'work_dir' is required, but it was not provided\nUsage: ...";
        assert!(
            evaluate(
                &c,
                &Evidence::Start {
                    failed: true,
                    output: out.into()
                }
            )
            .passed
        );
        assert!(
            !evaluate(
                &c,
                &Evidence::Start {
                    failed: false,
                    output: out.into()
                }
            )
            .passed
        );
        assert!(
            !evaluate(
                &c,
                &Evidence::Start {
                    failed: true,
                    output: "other".into()
                }
            )
            .passed
        );
    }

    #[test]
    fn unavailable_evidence_fails_with_the_reason() {
        let c = check("after: start\nmetric_present: master/elected\n");
        let v = evaluate(&c, &Evidence::Unavailable("connection refused".into()));
        assert!(!v.passed);
        assert!(v.seen.contains("connection refused"));
    }
}
