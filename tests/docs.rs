//! `docs/scenarios.md` is the reference of the scenario format. These tests keep it whole and
//! true: every field of `scenarios/schema.json` (generated from the model's doc comments) has
//! a row in a `| field | ... |` table under `## Reference`, named by its path (`topology.masters`,
//! `checks[].json.field`, `steps[].<step_kind>.flags`); no row names a field the schema lacks;
//! the `default` column says "required" exactly for the required fields; every valid value
//! (`const`) appears backticked in a table there; and every YAML example of the page and of the
//! README loads as a valid scenario.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde_json::Value;

/// The `## ` heading of the section whose field tables are checked.
const REFERENCE: &str = "Reference";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(root().join(relative))
        .unwrap_or_else(|e| panic!("reading {relative}: {e}"))
}

fn schema() -> Value {
    serde_json::from_str(&read("scenarios/schema.json")).expect("scenarios/schema.json is JSON")
}

/// What the reference must say about one field of the schema.
#[derive(Debug, Default)]
struct Field {
    required: bool,
    /// Its valid values, when the schema lists them (`const`).
    values: BTreeSet<String>,
}

/// Every field of the schema by path, following `$ref`, `oneOf`/`anyOf`/`allOf`, `items`
/// (`[]`) and maps (`additionalProperties`: `<key>`, or `<def_name>` when `propertyNames`
/// refers to a definition, as a step's options under the step's name do).
fn schema_fields(schema: &Value) -> BTreeMap<String, Field> {
    let mut out = BTreeMap::new();
    walk(schema, schema, "", &mut Vec::new(), &mut out);
    out
}

fn resolve<'a>(root: &'a Value, reference: &str) -> &'a Value {
    reference
        .strip_prefix('#')
        .and_then(|pointer| root.pointer(pointer))
        .unwrap_or_else(|| panic!("schema: unresolvable $ref {reference}"))
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

/// `StepKind` -> `step_kind`.
fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

fn alternatives(node: &Value) -> impl Iterator<Item = &Value> {
    ["oneOf", "anyOf", "allOf"]
        .into_iter()
        .filter_map(|k| node.get(k).and_then(Value::as_array))
        .flatten()
}

fn walk(
    root: &Value,
    node: &Value,
    prefix: &str,
    refs: &mut Vec<String>,
    out: &mut BTreeMap<String, Field>,
) {
    if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
        // A recursive type would have no end; the paths below it are already listed.
        if !refs.iter().any(|r| r == reference) {
            refs.push(reference.to_string());
            walk(root, resolve(root, reference), prefix, refs, out);
            refs.pop();
        }
    }
    for alt in alternatives(node) {
        walk(root, alt, prefix, refs, out);
    }
    if let Some(items) = node.get("items") {
        walk(root, items, &format!("{prefix}[]"), refs, out);
    }
    if let Some(values) = node.get("additionalProperties").filter(|v| v.is_object()) {
        let key = node
            .pointer("/propertyNames/$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.rsplit('/').next())
            .map_or_else(|| "<key>".to_string(), |name| format!("<{}>", snake(name)));
        walk(root, values, &join(prefix, &key), refs, out);
    }
    if let Some(properties) = node.get("properties").and_then(Value::as_object) {
        let required: Vec<&str> = node
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        for (name, sub) in properties {
            let path = join(prefix, name);
            let field = out.entry(path.clone()).or_default();
            field.required |= required.contains(&name.as_str());
            values(root, sub, &mut field.values, &mut Vec::new());
            walk(root, sub, &path, refs, out);
        }
    }
}

/// The `const` values a field (or each item of a list field) can take.
fn values(root: &Value, node: &Value, out: &mut BTreeSet<String>, refs: &mut Vec<String>) {
    if let Some(c) = node.get("const") {
        out.insert(c.as_str().map_or_else(|| c.to_string(), str::to_string));
    }
    if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
        if !refs.iter().any(|r| r == reference) {
            refs.push(reference.to_string());
            values(root, resolve(root, reference), out, refs);
            refs.pop();
        }
    }
    for alt in alternatives(node) {
        values(root, alt, out, refs);
    }
    if let Some(items) = node.get("items") {
        values(root, items, out, refs);
    }
}

/// A row of a table under `## Reference`.
#[derive(Debug, Default)]
struct Row {
    line: usize,
    /// Each cell's text, code spans included.
    cells: Vec<String>,
    /// Each cell's code spans.
    code: Vec<Vec<String>>,
}

#[derive(Debug, Default)]
struct Table {
    header: Vec<String>,
    rows: Vec<Row>,
}

/// A fenced ```yaml block.
#[derive(Debug)]
struct Example {
    line: usize,
    text: String,
}

#[derive(Debug, Default)]
struct Doc {
    /// The tables of the `## Reference` section.
    tables: Vec<Table>,
    /// Every YAML example of the document.
    examples: Vec<Example>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

fn parse(text: &str) -> Doc {
    let mut doc = Doc::default();
    let mut h2: Option<String> = None;
    let mut in_reference = false;
    let mut table: Option<Table> = None;
    let mut row: Option<Row> = None;
    let mut in_head = false;
    let mut example: Option<Example> = None;
    for (event, range) in Parser::new_ext(text, Options::ENABLE_TABLES).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading {
                level: HeadingLevel::H2,
                ..
            }) => h2 = Some(String::new()),
            Event::End(TagEnd::Heading(HeadingLevel::H2)) => {
                in_reference = h2.take().is_some_and(|h| h.trim() == REFERENCE);
            }
            Event::Start(Tag::Table(_)) if in_reference => table = Some(Table::default()),
            Event::End(TagEnd::Table) => doc.tables.extend(table.take()),
            Event::Start(Tag::TableHead) => {
                in_head = true;
                row = Some(Row::default());
            }
            Event::Start(Tag::TableRow) => {
                row = Some(Row {
                    line: line_of(text, range.start),
                    ..Row::default()
                })
            }
            Event::End(TagEnd::TableHead | TagEnd::TableRow) => {
                if let (Some(t), Some(r)) = (table.as_mut(), row.take()) {
                    if in_head {
                        t.header = r.cells;
                    } else {
                        t.rows.push(r);
                    }
                }
                in_head = false;
            }
            Event::Start(Tag::TableCell) => {
                if let Some(r) = row.as_mut() {
                    r.cells.push(String::new());
                    r.code.push(Vec::new());
                }
            }
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info)))
                if info.split_whitespace().next() == Some("yaml") =>
            {
                example = Some(Example {
                    line: line_of(text, range.start),
                    text: String::new(),
                });
            }
            Event::End(TagEnd::CodeBlock) => doc.examples.extend(example.take()),
            Event::Text(t) => {
                if let Some(e) = example.as_mut() {
                    e.text.push_str(&t);
                } else if let Some(h) = h2.as_mut() {
                    h.push_str(&t);
                } else if let Some(cell) = row.as_mut().and_then(|r| r.cells.last_mut()) {
                    cell.push_str(&t);
                }
            }
            Event::Code(c) => {
                if let Some(h) = h2.as_mut() {
                    h.push_str(&c);
                } else if let Some(r) = row.as_mut() {
                    if let (Some(cell), Some(code)) = (r.cells.last_mut(), r.code.last_mut()) {
                        cell.push_str(&c);
                        code.push(c.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    doc
}

/// Everything the reference in `text` (a copy of docs/scenarios.md) gets wrong about `schema`.
fn reference_problems(text: &str, schema: &Value) -> Vec<String> {
    let fields = schema_fields(schema);
    let doc = parse(text);
    let mut problems = Vec::new();
    let mut documented: BTreeMap<String, usize> = BTreeMap::new();
    let mut backticked = BTreeSet::new();
    for table in &doc.tables {
        for row in &table.rows {
            backticked.extend(row.code.iter().flatten().cloned());
        }
        if table.header.first().map(|h| h.trim()) != Some("field") {
            continue;
        }
        let default = table.header.iter().position(|h| h.trim() == "default");
        for row in &table.rows {
            let at = format!("docs/scenarios.md:{}", row.line);
            let Some(path) = row.code.first().and_then(|c| c.first()) else {
                problems.push(format!(
                    "{at}: the first cell names no field (write it as `path`)"
                ));
                continue;
            };
            if row.cells.len() != table.header.len()
                || row.cells.iter().any(|c| c.trim().is_empty())
            {
                problems.push(format!("{at}: `{path}`: every column needs a value"));
            }
            if let Some(previous) = documented.insert(path.clone(), row.line) {
                problems.push(format!(
                    "{at}: `{path}` is also documented on line {previous}"
                ));
            }
            let Some(field) = fields.get(path) else {
                problems.push(format!(
                    "{at}: `{path}` is not a field of scenarios/schema.json (renamed or removed?)"
                ));
                continue;
            };
            let says_required = default
                .and_then(|i| row.cells.get(i))
                .is_some_and(|c| c.contains("required"));
            match (field.required, says_required) {
                (true, false) => problems.push(format!(
                    "{at}: `{path}` is required by the schema; its default column must say \"required\""
                )),
                (false, true) => problems.push(format!(
                    "{at}: `{path}` is optional in the schema; its default column must give the default, not \"required\""
                )),
                _ => {}
            }
        }
    }
    for (path, field) in &fields {
        if !documented.contains_key(path) {
            problems.push(format!(
                "docs/scenarios.md: `{path}` is not documented: add a row for it to a `| field | type | default | meaning |` table under `## {REFERENCE}`"
            ));
        }
        for value in &field.values {
            if !backticked.contains(value) {
                problems.push(format!(
                    "docs/scenarios.md: value `{value}` of `{path}` appears in no table under `## {REFERENCE}`"
                ));
            }
        }
    }
    problems
}

#[test]
fn the_reference_documents_every_field_of_the_schema() {
    let problems = reference_problems(&read("docs/scenarios.md"), &schema());
    assert!(
        problems.is_empty(),
        "docs/scenarios.md and scenarios/schema.json disagree:\n{}",
        problems.join("\n")
    );
}

/// The check above can fail: a doc without one row, with a row too many, or with a wrong
/// "required" is caught, and names the field.
#[test]
fn the_reference_check_catches_a_missing_a_stale_and_a_wrong_row() {
    let doc = read("docs/scenarios.md");
    let schema = schema();
    let row = doc
        .lines()
        .find(|l| l.starts_with("| `topology.master_stop` |"))
        .expect("docs/scenarios.md has a row for `topology.master_stop`");
    let without = doc.replace(&format!("{row}\n"), "");
    let problems = reference_problems(&without, &schema);
    assert!(
        problems[0].contains("`topology.master_stop` is not documented")
            && problems
                .iter()
                .all(|p| p.contains("`topology.master_stop`")),
        "{problems:#?}"
    );

    let stale = doc.replace(
        row,
        &format!("{row}\n| `topology.racks` | integer | `0` | Racks. |"),
    );
    let problems = reference_problems(&stale, &schema);
    assert!(
        problems.len() == 1 && problems[0].contains("`topology.racks` is not a field"),
        "{problems:#?}"
    );

    let optional = doc.replace(
        "| `topology.agents` | integer 1-50 | required |",
        "| `topology.agents` | integer 1-50 | `2` |",
    );
    assert_ne!(
        optional, doc,
        "the `topology.agents` row changed; update this test"
    );
    let problems = reference_problems(&optional, &schema);
    assert!(
        problems.len() == 1 && problems[0].contains("`topology.agents` is required"),
        "{problems:#?}"
    );

    let no_value = doc.replace("`graceful`", "graceful");
    let problems = reference_problems(&no_value, &schema);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("value `graceful` of `topology.master_stop`")),
        "{problems:#?}"
    );
}

/// Top-level keys of a YAML text, with the text of each entry (`key:` to the next key).
fn entries(yaml: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in yaml.lines() {
        let key = line
            .split_once(':')
            .map(|(k, _)| k)
            .filter(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        match (key, out.last_mut()) {
            (Some(k), _) => out.push((k.to_string(), format!("{line}\n"))),
            (None, Some((_, text))) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, None) => out.push((String::new(), format!("{line}\n"))),
        }
    }
    out
}

/// The scenario an example stands for: a whole scenario (it has `format:`) as it is; else its
/// fields over the required fields of `base` (the page's first whole scenario).
fn as_scenario(example: &str, base: &str, required: &[&str]) -> String {
    let own = entries(example);
    if own.iter().any(|(k, _)| k == "format") {
        return example.to_string();
    }
    let mut text: String = entries(base)
        .into_iter()
        .filter(|(k, _)| required.contains(&k.as_str()) && own.iter().all(|(o, _)| o != k))
        .map(|(_, t)| t)
        .collect();
    text.extend(own.into_iter().map(|(_, t)| t));
    text
}

/// Every YAML example of `text` (the file `name`) that does not load, with the diagnostics.
fn example_problems(name: &str, text: &str) -> Vec<String> {
    let schema = schema();
    let required: Vec<&str> = schema["required"]
        .as_array()
        .expect("the schema lists required fields")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let examples = parse(text).examples;
    let base = examples
        .iter()
        .find(|e| entries(&e.text).iter().any(|(k, _)| k == "format"))
        .map(|e| e.text.clone())
        .unwrap_or_default();
    let mut problems = Vec::new();
    for example in &examples {
        let scenario = as_scenario(&example.text, &base, &required);
        let mut file = tempfile::Builder::new()
            .suffix(".yaml")
            .tempfile()
            .expect("a temporary file");
        file.write_all(scenario.as_bytes())
            .expect("writing the temporary file");
        if let Err(d) = upgrade_harness::scenario::load(file.path()) {
            problems.push(format!(
                "{name}:{}: this example is not a valid scenario{}:\n{}",
                example.line,
                if scenario == example.text {
                    String::new()
                } else {
                    format!(" (completed with the required fields of the first whole scenario:\n{scenario})")
                },
                d.render_plain(100)
            ));
        }
    }
    problems
}

#[test]
fn every_yaml_example_loads() {
    let mut problems = Vec::new();
    let mut count = 0;
    for name in ["docs/scenarios.md", "README.md"] {
        let text = read(name);
        count += parse(&text).examples.len();
        problems.extend(example_problems(name, &text));
    }
    assert!(
        count >= 10,
        "only {count} YAML examples found: is the parser still finding them?"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// The example check can fail: a misspelt field in one example is caught, with its line; a
/// misspelt step in the whole scenario breaks every example completed from it.
#[test]
fn the_example_check_catches_a_broken_example() {
    let doc = read("docs/scenarios.md");
    let broken = doc.replacen("fails_to_start: { message:", "fail_to_start: { message:", 1);
    assert_ne!(
        broken, doc,
        "no `fails_to_start` example any more; update this test"
    );
    let problems = example_problems("docs/scenarios.md", &broken);
    assert!(
        problems.len() == 1 && problems[0].contains("unknown field `fail_to_start`"),
        "{problems:#?}"
    );

    let broken = doc.replacen("  - upgrade_masters\n", "  - upgrade_master\n", 1);
    let problems = example_problems("docs/scenarios.md", &broken);
    let examples = parse(&doc).examples.len();
    let own_steps = parse(&doc)
        .examples
        .iter()
        .filter(|e| entries(&e.text).iter().any(|(k, _)| k == "steps"))
        .count();
    assert_eq!(problems.len(), examples - own_steps + 1, "{problems:#?}");
}

/// The schema walk sees the shapes the model uses (a guard against a walk that finds nothing).
#[test]
fn the_schema_walk_reaches_nested_fields_and_values() {
    let fields = schema_fields(&schema());
    for path in [
        "topology.masters",
        "order.deviates.reason",
        "steps[].<step_kind>.flags",
        "checks[].json.field",
        "checks[].on.node",
        "probes[].snapshot",
    ] {
        assert!(
            fields.contains_key(path),
            "no `{path}` in {:?}",
            fields.keys()
        );
    }
    assert!(fields["topology.masters"].required);
    assert!(!fields["topology.zookeeper"].required);
    assert_eq!(fields["steps"].values.len(), 20);
    assert!(fields["invariants"].values.contains("no_restart_loop"));
    assert!(fields["checks[].on"].values.contains("agents"));
}

/// The README's `plan` excerpt is real output: each of its lines (other than `...`) is a line
/// of the plan, in the same order.
#[test]
fn the_readme_plan_excerpt_is_real_output() {
    let readme = read("README.md");
    let block = readme
        .split("```console\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("README.md has a ```console block");
    let mut lines = block.lines();
    let command = lines.next().unwrap_or_default();
    let file = command
        .strip_prefix("$ cargo run -q -- plan ")
        .expect("the console block starts with `$ cargo run -q -- plan FILE`");
    let scenario = upgrade_harness::scenario::load(&root().join(file))
        .unwrap_or_else(|d| panic!("{file}: {}", d.render_plain(100)));
    let output = upgrade_harness::cli::plan_text(&scenario);
    let mut real = output.lines();
    for shown in lines.filter(|l| *l != "...") {
        assert!(
            real.any(|l| l == shown),
            "README.md shows a line that `plan {file}` does not print (or not in this order):\n{shown}\n\nthe plan:\n{output}"
        );
    }
}
