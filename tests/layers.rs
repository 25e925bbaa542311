//! The module graph follows the pipeline: no module of the crate depends, through `crate::`
//! paths, on a module that depends back on it (issue 11). Reads the sources; a cycle fails
//! with the modules and the files that make each edge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level module of a source file: `src/run/judge.rs` -> `run`, `src/lib.rs` -> none.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main" | "bin")).then(|| name.to_string())
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The modules a source file names: `crate::x` paths in code (not in comments), including
/// `use crate::{x, y::{z}}` groups over several lines, and `super::` paths that climb to the
/// crate root (`depth` is how many modules deep the file is: 1 for `src/run/mod.rs` or
/// `src/plan.rs`, 2 for `src/run/judge.rs`).
fn crate_references(text: &str, depth: usize) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = BTreeSet::new();
    let add_path = |rest: &str, out: &mut BTreeSet<String>| {
        if let Some(group) = rest.trim_start().strip_prefix('{') {
            // Top-level items of the group: split at depth-0 commas.
            let (mut level, mut item_start) = (0usize, 0usize);
            for (i, c) in group.char_indices() {
                match c {
                    '{' => level += 1,
                    '}' if level == 0 => {
                        out.insert(ident(&group[item_start..i]));
                        break;
                    }
                    '}' => level -= 1,
                    ',' if level == 0 => {
                        out.insert(ident(&group[item_start..i]));
                        item_start = i + 1;
                    }
                    _ => {}
                }
            }
        } else {
            out.insert(ident(rest));
        }
    };
    let mut rest = code.as_str();
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        add_path(rest, &mut out);
    }
    // `super::` chains that reach the crate root.
    let mut rest = code.as_str();
    while let Some(i) = rest.find("super::") {
        let before_ok = rest[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == ':'));
        let mut after = &rest[i..];
        let mut climbs = 0;
        while let Some(next) = after.strip_prefix("super::") {
            climbs += 1;
            after = next;
        }
        if before_ok && climbs >= depth {
            add_path(after, &mut out);
        }
        rest = after;
    }
    out.retain(|n| !n.is_empty() && n.chars().next().is_some_and(|c| c.is_lowercase()));
    out
}

/// How many modules deep a file is below `src/` (see [`crate_references`]).
fn depth_of(src: &Path, file: &Path) -> usize {
    let rel = file.strip_prefix(src).unwrap();
    let parts = rel.components().count();
    if rel.file_name().is_some_and(|n| n == "mod.rs") {
        parts - 1
    } else {
        parts
    }
}

/// Edges `from -> to` with the files that make them.
fn graph() -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(&src, f)).collect();
    let mut edges: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in &files {
        let Some(from) = module_of(&src, file) else {
            continue;
        };
        let text = std::fs::read_to_string(file).expect("a readable source file");
        for to in crate_references(&text, depth_of(&src, file)) {
            if to != from && modules.contains(&to) {
                let shown = file.strip_prefix(&src).unwrap().display().to_string();
                edges
                    .entry(from.clone())
                    .or_default()
                    .entry(to)
                    .or_default()
                    .insert(shown);
            }
        }
    }
    edges
}

/// A cycle through `start`, if any (depth-first).
fn cycle_from(
    edges: &BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
    start: &str,
) -> Option<Vec<String>> {
    fn walk(
        edges: &BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
        start: &str,
        at: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in edges.get(at).into_iter().flat_map(|m| m.keys()) {
            if next == start {
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(edges, start, next, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_string()];
    let mut seen = BTreeSet::new();
    walk(edges, start, start, &mut path, &mut seen).then_some(path)
}

#[test]
fn no_module_depends_on_a_module_that_depends_back() {
    let edges = graph();
    let mut cycles = Vec::new();
    for module in edges.keys() {
        if let Some(path) = cycle_from(&edges, module) {
            let mut text = path.join(" -> ");
            text.push_str(&format!(" -> {module}"));
            for pair in path.iter().chain([module]).collect::<Vec<_>>().windows(2) {
                let files = &edges[pair[0]][pair[1]];
                text.push_str(&format!(
                    "\n    {} -> {} in {}",
                    pair[0],
                    pair[1],
                    files.iter().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
            cycles.push(text);
        }
    }
    assert!(
        cycles.is_empty(),
        "module cycles:\n  {}",
        cycles.join("\n  ")
    );
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let mut edges: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for (a, b) in [("run", "report"), ("report", "observe"), ("observe", "run")] {
        edges
            .entry(a.into())
            .or_default()
            .insert(b.into(), BTreeSet::new());
    }
    assert_eq!(
        cycle_from(&edges, "run"),
        Some(vec!["run".into(), "report".into(), "observe".into()])
    );
    edges.get_mut("observe").unwrap().clear();
    assert_eq!(cycle_from(&edges, "run"), None);
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        crate_references(
            "use crate::{docker, mesos::roles}; // crate::run\nlet x = crate::plan::plan(&s);",
            1
        ),
        names(&["docker", "mesos", "plan"])
    );
    // A group over several lines, nested groups, and `super::` climbing to the root.
    assert_eq!(
        crate_references(
            "use crate::{\n    a::{b, c::{d}},\n    e,\n};\nuse super::super::f::g;\nuse super::h;",
            2
        ),
        names(&["a", "e", "f"])
    );
}
