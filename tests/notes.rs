//! The scenarios' `documents:` claims against the notes catalogue (`notes/upgrade-notes.yaml`):
//! a check that says it documents a change of the notes (`"1.0: /observe deleted"`, a series
//! first) and looks at an observable element (an endpoint, a flag, a metric, a state field)
//! must find a note of that series naming that element. Claims that cite another source say
//! so (`mesos-facts.md`, `zookeeper.md`, "seen on the real builds") and are left out, as are
//! checks on `/version` (the run's own versions, not a change of the notes) and checks whose
//! claim does not name the element they look at (a check that reads `/master/state.json` to
//! see which version a node runs documents the procedure, not that endpoint).

use std::path::{Path, PathBuf};

use upgrade_harness::domain::Series;
use upgrade_harness::mesos::notes::{self, Element};
use upgrade_harness::scenario::load;
use upgrade_harness::scenario::model::Check;

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("a scenario folder").flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml") {
            out.push(p);
        }
    }
}

/// The elements a check looks at, as the catalogue names them.
fn elements(c: &Check) -> Vec<Element> {
    let mut out = Vec::new();
    if let Some(s) = &c.status {
        if let Some(p) = s.get.as_ref().or(s.post.as_ref()) {
            let p = p.value.split('?').next().unwrap_or_default();
            // `/help/master/teardown` documents `/master/teardown`.
            let p = p.strip_prefix("/help").unwrap_or(p).to_string();
            if p != "/version" {
                out.push(Element::Endpoint(p));
            }
        }
    }
    if let Some(j) = &c.json {
        if j.get.value.ends_with("/state") && j.field != "/version" {
            let field: Vec<&str> = j
                .field
                .split('/')
                .map(|s| if s.parse::<usize>().is_ok() { "*" } else { s })
                .collect();
            out.push(Element::StateField(field.join("/")));
        } else if j.get.value != "/version" && !j.get.value.ends_with("/state") {
            out.push(Element::Endpoint(j.get.value.clone()));
        }
    }
    for m in [&c.metric_present, &c.metric_absent].into_iter().flatten() {
        out.push(Element::Metric(m.clone()));
    }
    if let Some(f) = &c.flag {
        out.push(Element::Flag(f.name.clone()));
    }
    out
}

/// Whether a note's element names what a check looks at (prefix `*` on either side).
fn names(note: &Element, check: &Element) -> bool {
    let (nk, nn) = note.parts();
    let (ck, cn) = check.parts();
    if nk != ck {
        return false;
    }
    // Agent paths: the catalogue writes `/slave(1)/state.json`, checks may too.
    notes::matches(nn, cn) || nn == cn
}

#[test]
fn every_documents_claim_of_the_notes_names_an_element_of_a_note_of_its_series() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    files(&root.join("scenarios"), &mut paths);
    paths.sort();
    let catalogue = notes::catalogue();
    let mut unmatched = Vec::new();
    let mut matched = 0;
    for path in paths {
        let Ok(scenario) = load::load(&path) else {
            continue;
        };
        for check in &scenario.checks {
            let c = &check.value;
            let Some(doc) = &c.documents else { continue };
            let head = doc.split(':').next().unwrap_or_default();
            if head.contains(' ') || head.split('.').count() != 2 {
                continue; // a release (1.8.1: ...) or a cited source (0.26 (mesos-facts.md))
            }
            if ["mesos-facts", "zookeeper.md", "seen on the real builds"]
                .iter()
                .any(|s| doc.contains(s))
            {
                continue;
            }
            let Some(series) = Series::named_in(head) else {
                continue;
            };
            for e in elements(c) {
                let (_, name) = e.parts();
                let last = name.rsplit('/').next().unwrap_or(name);
                if !doc.contains(last) {
                    continue;
                }
                let found = catalogue.notes.iter().any(|n| {
                    n.series() == Some(series) && n.elements.iter().any(|ne| names(ne, &e))
                });
                if found {
                    matched += 1;
                } else {
                    unmatched.push(format!(
                        "{}: \"{doc}\": no note of {series} names {}",
                        path.strip_prefix(&root).unwrap().display(),
                        e.describe()
                    ));
                }
            }
        }
    }
    unmatched.sort();
    unmatched.dedup();
    assert!(
        unmatched.is_empty(),
        "{} claims matched; these name no element of a note of their series:\n  {}",
        matched,
        unmatched.join("\n  ")
    );
    assert!(matched > 50, "only {matched} claims checked");
}
