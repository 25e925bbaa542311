//! A certification's result and its reports: Markdown (the verdict table first), JSON (the
//! same data, read back by tests) and JUnit (one case per version, path and control). Pure:
//! the same result renders to the same bytes.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use serde::{Deserialize, Serialize};

use super::manifest::Class;

/// What an entry of the report tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// The module's build of a version, on that version alone.
    Version,
    /// A rolling upgrade with the module loaded throughout.
    Path,
    /// A negative control: a build that must be refused.
    Control,
}

/// One line of the verdict table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// `1.11.0`, `1.10.0-to-1.11.0`, `stale-from-build 1.10.0-to-1.11.0`,
    /// `wrong-version on 1.11.0`.
    pub id: String,
    /// Version, path or control.
    pub kind: EntryKind,
    /// The module builds it loads (labels of [`Certificate::module_builds`]).
    pub builds: Vec<String>,
    /// The static pre-flight's prediction, in words.
    pub predicted: Option<String>,
    /// What it must get.
    pub expected: Class,
    /// What it got.
    pub outcome: Class,
    /// The evidence: the loader's text, the proof's content, the phase and failure.
    pub detail: String,
    /// Where a path failed (`upgrade_masters/master-1`).
    pub phase: Option<String>,
    /// Whether the prediction agrees with the outcome (`None`: nothing was predicted or run).
    pub agrees: Option<bool>,
    /// Seconds it took.
    pub seconds: f64,
    /// The run folder of a path.
    pub run: Option<String>,
}

impl Entry {
    /// Whether it got what it must.
    pub fn passed(&self) -> bool {
        self.outcome == self.expected
    }
}

/// A module build certified: its file and content hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleBuild {
    /// `touch 1.11.0`, `wrong-version 1.11.0`.
    pub label: String,
    /// The Mesos version it is for.
    pub version: String,
    /// The library file.
    pub file: String,
    /// sha256 of its content.
    pub sha256: String,
}

/// A Mesos build certified against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MesosBuild {
    /// Version.
    pub version: String,
    /// The harness's content hash of the build (its cache key).
    pub build_hash: String,
}

/// A certification's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Certificate {
    /// The manifest's name.
    pub name: String,
    /// The manifest's description.
    pub description: String,
    /// The manifest file.
    pub manifest: String,
    /// The module's name.
    pub module: String,
    /// Its kind.
    pub kind: String,
    /// The nodes that load it.
    pub roles: Vec<String>,
    /// The harness's version.
    pub harness: String,
    /// When it ran (UTC).
    pub date: String,
    /// The command that reproduces it.
    pub command: String,
    /// Seconds it took.
    pub seconds: f64,
    /// The module builds, with their hashes.
    pub module_builds: Vec<ModuleBuild>,
    /// The Mesos builds.
    pub mesos_builds: Vec<MesosBuild>,
    /// The verdicts, versions first, then paths, then controls.
    pub entries: Vec<Entry>,
}

impl Certificate {
    /// Whether every entry got what it must (and none was left unrun).
    pub fn passed(&self) -> bool {
        // Nothing certified (an `--only` that matched nothing) is not a certificate.
        !self.entries.is_empty() && self.entries.iter().all(Entry::passed)
    }

    /// Pretty JSON with a trailing newline.
    pub fn json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// The Markdown report: the verdict table first, then the evidence and what was certified.
    pub fn markdown(&self) -> String {
        let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
        let mut s = format!("# Module certification: {}\n\n", self.name);
        if !self.description.is_empty() {
            s.push_str(&format!("{}\n\n", self.description));
        }
        let passed = self.entries.iter().filter(|e| e.passed()).count();
        let disagree = self
            .entries
            .iter()
            .filter(|e| e.agrees == Some(false))
            .count();
        s.push_str(&format!(
            "**{}**: {passed} of {} verdicts as required; {disagree} pre-flight disagreement{}. Module `{}` ({}, loaded by {}).\n\n",
            if self.passed() { "CERTIFIED" } else { "NOT CERTIFIED" },
            self.entries.len(),
            if disagree == 1 { "" } else { "s" },
            self.module,
            self.kind,
            self.roles.join(" and ")
        ));
        s.push_str("| | run | must | outcome | pre-flight predicted | agrees |\n|---|---|---|---|---|---|\n");
        for e in &self.entries {
            s.push_str(&format!(
                "| {} | {} {} | {} | {} | {} | {} |\n",
                if e.passed() { "ok" } else { "**FAIL**" },
                match e.kind {
                    EntryKind::Version => "version",
                    EntryKind::Path => "path",
                    EntryKind::Control => "control",
                },
                cell(&e.id),
                e.expected,
                e.outcome,
                cell(e.predicted.as_deref().unwrap_or("-")),
                match e.agrees {
                    Some(true) => "yes",
                    Some(false) => "**NO**",
                    None => "-",
                }
            ));
        }
        s.push_str("\n## Evidence\n\n");
        for e in &self.entries {
            s.push_str(&format!(
                "- `{}` ({:.1} s){}: {}{}\n",
                e.id,
                e.seconds,
                e.phase
                    .as_deref()
                    .map(|p| format!(" at `{p}`"))
                    .unwrap_or_default(),
                cell(&e.detail),
                e.run
                    .as_deref()
                    .map(|r| format!(" (run: `{r}`)"))
                    .unwrap_or_default()
            ));
        }
        s.push_str("\n## Module builds\n\n| build | Mesos | sha256 | file |\n|---|---|---|---|\n");
        for b in &self.module_builds {
            s.push_str(&format!(
                "| {} | {} | `{}` | `{}` |\n",
                b.label, b.version, b.sha256, b.file
            ));
        }
        s.push_str("\n## Mesos builds\n\n| version | build hash |\n|---|---|\n");
        for b in &self.mesos_builds {
            s.push_str(&format!("| {} | `{}` |\n", b.version, b.build_hash));
        }
        s.push_str(&format!(
            "\nCertified by {} on {} in {:.0} s from `{}`. Reproduce with:\n\n```sh\n{}\n```\n",
            self.harness, self.date, self.seconds, self.manifest, self.command
        ));
        s
    }

    /// The JUnit report: one suite, one case per entry.
    pub fn junit(&self) -> String {
        let mut suite = TestSuite::new(format!("certify::{}", self.name));
        suite.set_time(Duration::from_secs_f64(self.seconds.max(0.0)));
        suite.add_properties([
            Property::new("manifest", self.manifest.as_str()),
            Property::new("module", self.module.as_str()),
            Property::new("harness", self.harness.as_str()),
            Property::new("date", self.date.as_str()),
            Property::new("command", self.command.as_str()),
        ]);
        for b in &self.module_builds {
            suite.add_property(Property::new(
                format!("module-build {}", b.label),
                b.sha256.as_str(),
            ));
        }
        for b in &self.mesos_builds {
            suite.add_property(Property::new(
                format!("mesos {}", b.version),
                b.build_hash.as_str(),
            ));
        }
        for e in &self.entries {
            let summary = format!(
                "must be {}, got {}: {}; pre-flight predicted: {}",
                e.expected,
                e.outcome,
                e.detail,
                e.predicted.as_deref().unwrap_or("-")
            );
            let status = if e.passed() {
                TestCaseStatus::success()
            } else {
                let kind = if e.outcome == Class::NotRun {
                    NonSuccessKind::Error
                } else {
                    NonSuccessKind::Failure
                };
                let mut s = TestCaseStatus::non_success(kind);
                s.set_message(summary.clone());
                s
            };
            let kind = match e.kind {
                EntryKind::Version => "version",
                EntryKind::Path => "path",
                EntryKind::Control => "control",
            };
            let mut case = TestCase::new(format!("{kind} {}", e.id), status);
            case.set_classname(format!("certify::{}", self.name));
            case.set_time(Duration::from_secs_f64(e.seconds.max(0.0)));
            case.set_system_out(summary);
            suite.add_test_case(case);
        }
        let mut report = Report::new(format!("certify::{}", self.name));
        report.add_test_suite(suite);
        report.to_string().unwrap_or_default()
    }
}
