//! Top-level fields: `format`, `name`, `from`/`to`/`downgrade` and `topology`.

use serde_saphyr::Spanned;

use super::{Validator, FORMAT, MAX_AGENTS, MAX_MASTERS, MAX_ZOOKEEPER};
use crate::mesos::versions::{self, Version};
use crate::scenario::diagnostic::Problem;
use crate::scenario::model::{Distribution, Scenario, Timeouts, Topology};

impl Validator<'_> {
    /// `timeouts`: each duration in Mesos's syntax, the ping count at least 1.
    pub(super) fn timeouts(&mut self, t: &Timeouts) {
        for (name, value) in t.durations() {
            let Some(value) = value else { continue };
            if let Err(e) = crate::mesos::roles::parse_mesos_duration(&value.value) {
                let field = format!("timeouts.{name}");
                let p = self
                    .at(
                        value,
                        "scenario::bad_duration",
                        &field,
                        format!("invalid `{field}`: {e}"),
                    )
                    .label("not a Mesos duration")
                    .help("write it as Mesos flags take it: `15secs`, `500ms`, `2mins`");
                self.out.push(p);
            }
        }
        if let Some(n) = &t.max_agent_ping_timeouts {
            if n.value == 0 {
                let p = self
                    .at(
                        n,
                        "scenario::bad_ping_count",
                        "timeouts.max_agent_ping_timeouts",
                        "`timeouts.max_agent_ping_timeouts` must be at least 1",
                    )
                    .label("zero pings")
                    .help("Mesos's default is 5");
                self.out.push(p);
            }
        }
    }

    pub(super) fn format(&mut self, s: &Scenario) {
        if s.format.value != FORMAT {
            let p = self
                .at(
                    &s.format,
                    "scenario::bad_format",
                    "format",
                    format!("unsupported `format: {}`", s.format.value),
                )
                .label("unknown format version")
                .help(format!(
                    "this upgrade-harness reads `format: {FORMAT}` only"
                ));
            self.out.push(p);
        }
    }

    /// Names used in file and snapshot names: lowercase letters, digits, `-`, `_`, `.`.
    pub(super) fn name(&mut self, name: &Spanned<String>, field: &str, code: &'static str) {
        let n = &name.value;
        let ok = !n.is_empty()
            && n.len() <= 80
            && n.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && n.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')
            });
        if !ok {
            let p = self
                .at(name, code, field, format!("invalid `{field}`: {n:?}"))
                .label("not a valid name")
                .help(
                    "use 1-80 lowercase letters, digits, `-`, `_` and `.`, starting with a letter or digit \
                     (it becomes part of test and snapshot names)",
                );
            self.out.push(p);
        }
    }

    fn version(&mut self, value: &Spanned<String>, field: &str, s: &Scenario) -> Option<Version> {
        let distribution = s.distribution.value;
        let dist_name = match distribution {
            Distribution::Local => "local",
            Distribution::Upstream => "upstream",
        };
        match value.value.parse::<Version>() {
            Err(e) => {
                let p = self
                    .at(
                        value,
                        "scenario::bad_version",
                        field,
                        format!("invalid `{field}`: {e}"),
                    )
                    .label("not a version")
                    .help(format!(
                        "versions of distribution `{dist_name}`: {}",
                        versions::known_list(distribution)
                    ));
                self.out.push(p);
                None
            }
            Ok(v) if !versions::is_known(distribution, v) => {
                let p = self
                    .at(
                        value,
                        "scenario::unknown_version",
                        field,
                        format!("`{field}: {v}` is not a version of distribution `{dist_name}`"),
                    )
                    .label(format!("unknown to `{dist_name}`"))
                    .help(format!(
                        "versions of distribution `{dist_name}`: {}",
                        versions::known_list(distribution)
                    ));
                self.out.push(p);
                Some(v)
            }
            Ok(v) => Some(v),
        }
    }

    pub(super) fn versions(&mut self, s: &Scenario) -> Option<(Version, Version)> {
        let from = self.version(&s.from, "from", s);
        let to = self.version(&s.to, "to", s);
        let (from, to) = (from?, to?);
        if from == to {
            let p = self
                .at(
                    &s.to,
                    "scenario::same_version",
                    "to",
                    format!("`to` is `from` ({to}): nothing to upgrade"),
                )
                .label("same as `from`")
                .help("choose a `to` newer than `from` (or older, with `downgrade: true`)");
            self.out.push(p);
            return None;
        }
        if to < from && !s.downgrade {
            let p = self
                .at(
                    &s.to,
                    "scenario::undeclared_downgrade",
                    "to",
                    format!("`to` ({to}) is older than `from` ({from})"),
                )
                .label("older than `from`")
                .help("swap `from` and `to`, or add `downgrade: true` if this tests a downgrade");
            self.out.push(p);
        }
        if to > from && s.downgrade {
            let p = self
                .at(
                    &s.to,
                    "scenario::not_a_downgrade",
                    "downgrade",
                    format!("`downgrade: true`, but `to` ({to}) is newer than `from` ({from})"),
                )
                .label("newer than `from`")
                .help("remove `downgrade: true`, or swap `from` and `to`");
            self.out.push(p);
        }
        Some((from, to))
    }

    /// Checks the topology; returns whether node names can be listed (no count over its maximum).
    pub(super) fn topology(&mut self, t: &Topology) -> bool {
        for (value, field, max, what) in [
            (&t.masters, "topology.masters", MAX_MASTERS, "master"),
            (&t.agents, "topology.agents", MAX_AGENTS, "agent"),
        ] {
            if value.value == 0 {
                let p = self
                    .at(
                        value,
                        "scenario::bad_count",
                        field,
                        format!("`{field}` is 0"),
                    )
                    .label("must be at least 1")
                    .help(format!("a cluster needs 1 to {max} {what}s"));
                self.out.push(p);
            } else if value.value > max {
                let p = self
                    .at(
                        value,
                        "scenario::bad_count",
                        field,
                        format!("`{field}` is {}, more than {max}", value.value),
                    )
                    .label(format!("at most {max}"))
                    .help(format!("a test cluster has 1 to {max} {what}s"));
                self.out.push(p);
            }
        }
        if let Some(zk) = &t.zookeeper {
            if zk.value > MAX_ZOOKEEPER {
                let p = self
                    .at(
                        zk,
                        "scenario::bad_count",
                        "topology.zookeeper",
                        format!(
                            "`topology.zookeeper` is {}, more than {MAX_ZOOKEEPER}",
                            zk.value
                        ),
                    )
                    .label(format!("at most {MAX_ZOOKEEPER}"))
                    .help(format!(
                        "use 0 (standalone master) to {MAX_ZOOKEEPER} ZooKeeper servers; `run` builds 0 or 1 (ensembles are not built yet)"
                    ));
                self.out.push(p);
            }
        }
        if t.masters.value > 1 && t.zookeeper_count() == 0 {
            let (span, field) = match &t.zookeeper {
                Some(zk) => (self.file.span_of(&zk.referenced), "topology.zookeeper"),
                None => (self.file.span_of(&t.masters.referenced), "topology.masters"),
            };
            self.out.push(
                Problem::at(
                    self.file,
                    span,
                    "scenario::masters_without_zookeeper",
                    field,
                    format!("{} masters without ZooKeeper", t.masters.value),
                )
                .label("several masters need ZooKeeper")
                .help("add `zookeeper: 1` to `topology` (the one ZooKeeper node `run` builds), or use `masters: 1`: masters elect a leader through ZooKeeper"),
            );
        }
        t.masters.value <= MAX_MASTERS
            && t.agents.value <= MAX_AGENTS
            && t.zookeeper_count() <= MAX_ZOOKEEPER
    }
}
