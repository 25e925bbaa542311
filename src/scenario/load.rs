//! Reading and parsing a scenario file: size limit, UTF-8, tabs, YAML (with a budget against
//! alias bombs and duplicate keys rejected), then validation. Never panics on any input.

use std::io::Read;
use std::path::Path;

use serde_saphyr::{DuplicateKeyPolicy, Error as YamlError, MessageFormatter};

use super::diagnostic::{Diagnostics, Problem, SourceFile};
use super::indentation::find_slip;
use super::model::Scenario;
use super::validate::validate;
use super::warnings::warnings;
use super::yaml_path::path_at;

/// Scenario files larger than this are refused before parsing.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Tab problems reported per file; more only repeat the same fix.
const MAX_TAB_PROBLEMS: usize = 5;

/// A valid scenario and the warnings about it.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The scenario.
    pub scenario: Scenario,
    /// Warnings (possibly none): valid, but probably not what the author meant.
    pub warnings: Diagnostics,
}

/// Reads, parses and validates the scenario file at `path`.
pub fn load(path: &Path) -> Result<Scenario, Diagnostics> {
    load_with_warnings(path).map(|l| l.scenario)
}

/// Reads, parses and validates the scenario file at `path`; a valid one comes with its
/// warnings.
pub fn load_with_warnings(path: &Path) -> Result<Loaded, Diagnostics> {
    let text = read(path)?;
    parse_and_validate_with_warnings(path, &text)
}

/// Parses and validates `text`, the content of the file `path` (which is only used in
/// diagnostics).
pub fn parse_and_validate(path: &Path, text: &str) -> Result<Scenario, Diagnostics> {
    parse_and_validate_with_warnings(path, text).map(|l| l.scenario)
}

/// [`parse_and_validate`], keeping the warnings about a valid scenario.
pub fn parse_and_validate_with_warnings(path: &Path, text: &str) -> Result<Loaded, Diagnostics> {
    let file = SourceFile::new(path.display().to_string(), text);
    let scenario = parse(path, &file)?;
    let mut diagnostics = Diagnostics::new(path);
    validate(&scenario, &file, &mut diagnostics);
    if diagnostics.is_empty() {
        warnings(&scenario, &file, &mut diagnostics);
        diagnostics.sort();
        Ok(Loaded {
            scenario,
            warnings: diagnostics,
        })
    } else {
        diagnostics.sort();
        Err(diagnostics)
    }
}

/// Reads the file as UTF-8 text, refusing files over [`MAX_FILE_BYTES`].
pub fn read(path: &Path) -> Result<String, Diagnostics> {
    let fail = |problem: Problem| Diagnostics {
        path: path.to_path_buf(),
        problems: vec![problem],
    };
    let too_big = |size: String| {
        Problem::file(
            "scenario::too_large",
            format!("{} is {size}; scenario files are limited to 1 MiB ({MAX_FILE_BYTES} bytes)", path.display()),
        )
        .help("a scenario is a short description of one upgrade; split it, or check that this is the right file")
    };
    let unreadable = |e: std::io::Error| {
        Problem::file(
            "scenario::unreadable",
            format!("cannot read {}: {e}", path.display()),
        )
        .help("pass the path of a readable scenario file (`.yaml`), or a folder of them")
    };
    let handle = std::fs::File::open(path).map_err(|e| fail(unreadable(e)))?;
    if let Ok(meta) = handle.metadata() {
        if meta.is_dir() {
            return Err(fail(unreadable(std::io::Error::other("it is a directory"))));
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(fail(too_big(format!("{} bytes", meta.len()))));
        }
    }
    // The file may grow between the size check and the read: never read past the limit.
    let mut bytes = Vec::new();
    handle
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(unreadable(e)))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(fail(too_big("over 1 MiB".into())));
    }
    String::from_utf8(bytes).map_err(|e| fail(not_utf8(path, e)))
}

fn not_utf8(path: &Path, e: std::string::FromUtf8Error) -> Problem {
    let offset = e.utf8_error().valid_up_to();
    let bad = e.as_bytes()[offset];
    let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
    // Offsets before the first invalid byte are the same in the lossy text.
    let file = SourceFile::new(path.display().to_string(), lossy);
    let (line, column) = file.line_column(offset);
    let span = Some(miette::SourceSpan::new(offset.into(), 1));
    Problem::at(
        &file,
        span,
        "scenario::not_utf8",
        "",
        format!(
            "{} is not UTF-8: byte 0x{bad:02x} at offset {offset} (line {line}, column {column})",
            path.display()
        ),
    )
    .label("not UTF-8")
    .help("scenario files are UTF-8 text; re-save the file as UTF-8")
}

/// Budget and alias limits: generous for any real scenario, small enough that an alias bomb
/// or a pathological file fails in milliseconds.
fn options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_events: 200_000,
            max_aliases: 1_000,
            max_anchors: 1_000,
            max_depth: 32,
            max_documents: 1,
            max_nodes: 100_000,
            max_total_scalar_bytes: 2 * 1024 * 1024,
            max_recorded_anchor_events: 20_000,
            max_recorded_anchor_bytes: 1024 * 1024,
        },
        duplicate_keys: DuplicateKeyPolicy::Error,
        with_snippet: false,
    };
    options.alias_limits.max_total_replayed_events = 20_000;
    options.alias_limits.max_replay_stack_depth = 16;
    options.alias_limits.max_alias_expansions_per_anchor = 200;
    options
}

/// Parses the YAML into the typed model (no validation beyond the types).
fn parse(path: &Path, file: &SourceFile) -> Result<Scenario, Diagnostics> {
    parse_yaml(
        path,
        file,
        "a scenario needs at least `format: 1`, `name`, `from`, `to`, `distribution`, \
         `topology`, `order` and `steps`; see scenarios/ for examples",
    )
}

/// Parses a YAML file of this project's formats (a scenario, a compatibility declaration)
/// into `T` with the same checks and diagnostics: empty file (`empty_help` says what it
/// needs), tabs, several documents, YAML and type errors with the field path.
pub(crate) fn parse_yaml<T: serde::de::DeserializeOwned>(
    path: &Path,
    file: &SourceFile,
    empty_help: &str,
) -> Result<T, Diagnostics> {
    let mut diagnostics = Diagnostics::new(path);
    let text = file.text();
    if text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---" || t == "..."
    }) {
        diagnostics.push(
            Problem::file("scenario::empty", format!("{} is empty", path.display()))
                .help(empty_help),
        );
        return Err(diagnostics);
    }
    check_tabs(file, &mut diagnostics);
    check_single_document(file, &mut diagnostics);
    if !diagnostics.is_empty() {
        return Err(diagnostics);
    }
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    match serde_saphyr::from_str_with_options::<T>(body, options()) {
        Ok(value) => Ok(value),
        Err(e) => {
            let mut problem = yaml_problem(file, &e);
            // The parser names the symptom, often lines away from a mis-indented key.
            if let Some(slip) = find_slip(body) {
                problem = problem.help(slip.explain());
            }
            diagnostics.push(problem);
            Err(diagnostics)
        }
    }
}

/// One file, one scenario: a `---` after content starts a second YAML document.
fn check_single_document(file: &SourceFile, diagnostics: &mut Diagnostics) {
    let mut content = false;
    for (i, line) in file.text().lines().enumerate() {
        let t = line.trim_end();
        if t == "---" || t.starts_with("--- ") {
            if content {
                let span = file
                    .span_at(i + 1, 1)
                    .map(|s| miette::SourceSpan::new(s.offset().into(), 3));
                diagnostics.push(
                    Problem::at(file, span, "scenario::multiple_documents", "", "more than one YAML document in a scenario file")
                        .label("a second document starts here")
                        .help("one file holds one scenario; remove this `---` and what follows, or split the file"),
                );
                return;
            }
        } else if !(t.trim().is_empty() || t.trim_start().starts_with('#') || t.starts_with('%')) {
            content = true;
        }
    }
}

/// YAML forbids tabs in indentation; say so plainly, for every such line.
fn check_tabs(file: &SourceFile, diagnostics: &mut Diagnostics) {
    let mut found = 0;
    // For the field path only: where the line's content would be if tabs were spaces.
    let untabbed = file.text().replace('\t', " ");
    for (i, line) in file.text().lines().enumerate() {
        let indent = &line[..line.len() - line.trim_start_matches([' ', '\t']).len()];
        if let Some(col) = indent.find('\t') {
            found += 1;
            if found <= MAX_TAB_PROBLEMS {
                let span = file
                    .span_at(i + 1, col + 1)
                    .map(|s| miette::SourceSpan::new(s.offset().into(), 1));
                diagnostics.push(
                    Problem::at(
                        file,
                        span,
                        "scenario::tab",
                        path_at(&untabbed, i + 1, indent.len() + 1),
                        "tab in indentation",
                    )
                    .label("tab")
                    .help("YAML indentation is spaces only; replace the tab with spaces"),
                );
            }
        }
    }
    if found > MAX_TAB_PROBLEMS {
        diagnostics.push(Problem::file(
            "scenario::tab",
            format!(
                "{} more lines of {} are indented with tabs",
                found - MAX_TAB_PROBLEMS,
                file.name()
            ),
        ));
    }
}

/// One problem for a YAML or type error, with the field path and what would be valid.
fn yaml_problem(file: &SourceFile, error: &YamlError) -> Problem {
    let error = unwrap(error);
    let location = error.location();
    let span = location.as_ref().and_then(|l| file.span_of(l));
    let path = location
        .map(|l| path_at(file.text(), l.line() as usize, l.column() as usize))
        .unwrap_or_default();
    let at = |p: &str| {
        if p.is_empty() {
            "at the top level".to_string()
        } else {
            format!("in `{p}`")
        }
    };
    let problem = |code, message: String| Problem::at(file, span, code, path.clone(), message);
    let join = |name: &str| {
        if path.is_empty() {
            name.to_string()
        } else {
            format!("{path}.{name}")
        }
    };
    match error {
        YamlError::SerdeUnknownField {
            field, expected, ..
        } => problem(
            "scenario::unknown_field",
            format!("unknown field `{field}` {}", at(&path)),
        )
        .field(join(field))
        .label("not a field here")
        .help(with_suggestion(field, expected, "valid fields here")),
        YamlError::SerdeUnknownVariant {
            variant, expected, ..
        } => {
            let what = if expected.contains(&"upgrade_masters") {
                "step"
            } else {
                "value"
            };
            problem(
                "scenario::unknown_value",
                format!("unknown {what} `{variant}` {}", at(&path)),
            )
            .label(format!("unknown {what}"))
            .help(with_suggestion(
                variant,
                expected,
                &format!("valid {what}s"),
            ))
        }
        YamlError::SerdeMissingField { field, .. } => problem(
            "scenario::missing_field",
            format!("missing field `{field}` {}", at(&path)),
        )
        .field(join(field))
        .label(format!("`{field}` is missing in this mapping"))
        .help(format!(
            "add `{field}:`; `upgrade-harness schema` describes every field"
        )),
        YamlError::SerdeInvalidType {
            unexpected,
            expected,
            ..
        } => problem(
            "scenario::wrong_type",
            format!(
                "wrong type {}: found {unexpected}, expected {expected}",
                at(&path)
            ),
        )
        .label(format!("expected {expected}"))
        .help(format!(
            "write {expected} here; `upgrade-harness schema` describes every field"
        )),
        YamlError::SerdeInvalidValue {
            unexpected,
            expected,
            ..
        } => problem(
            "scenario::invalid_value",
            format!(
                "invalid value {}: found {unexpected}, expected {expected}",
                at(&path)
            ),
        )
        .label(format!("expected {expected}"))
        .help(format!("write {expected} here")),
        YamlError::InvalidScalar { ty, .. } => {
            let expected = type_words(ty);
            problem(
                "scenario::wrong_type",
                format!("wrong type {}: expected {expected}", at(&path)),
            )
            .label(format!("not {expected}"))
            .help(format!(
                "write {expected} here; `upgrade-harness schema` describes every field"
            ))
        }
        YamlError::Unexpected { expected, .. } => {
            let expected = match *expected {
                "sequence start" => "a list (`- item` lines, or `[a, b]`)",
                "mapping start" => "a mapping (`key: value` lines, or `{ key: value }`)",
                "string scalar" => "a string",
                other => other,
            };
            problem(
                "scenario::wrong_type",
                format!("wrong type {}: expected {expected}", at(&path)),
            )
            .label("wrong type")
            .help(format!(
                "write {expected} here; `upgrade-harness schema` describes every field"
            ))
        }
        YamlError::DuplicateMappingKey { key, .. } => {
            let key = key.as_deref().unwrap_or("?");
            problem(
                "scenario::duplicate_key",
                format!("duplicate key `{key}` {}", at(&path)),
            )
            .field(join(key))
            .label("written a second time here")
            .help("a key may appear once per mapping; remove one of the two")
        }
        YamlError::Budget { breach, .. } => problem(
            "scenario::too_complex",
            format!(
                "the YAML exceeds the parser's limit on {} {}",
                breach_name(breach),
                at(&path)
            ),
        )
        .label("limit reached here")
        .help("scenario files need no deep nesting, mass aliases or anchors; write the values out"),
        YamlError::AliasReplayLimitExceeded { .. }
        | YamlError::AliasExpansionLimitExceeded { .. }
        | YamlError::AliasReplayStackDepthExceeded { .. }
        | YamlError::AliasReplayCounterOverflow { .. } => problem(
            "scenario::too_complex",
            format!("aliases expand too much {} (a YAML alias bomb?)", at(&path)),
        )
        .label("alias expansion limit reached here")
        .help(
            "scenario files may use a few anchors and aliases, not expand them thousands of times",
        ),
        YamlError::MultipleDocuments { .. } => problem(
            "scenario::multiple_documents",
            "more than one YAML document in a scenario file".to_string(),
        )
        .label("second document")
        .help("one file holds one scenario; remove the `---` and what follows, or split the file"),
        YamlError::Message { msg, .. } => {
            let place = at(&path);
            let place = place.strip_prefix("in ").unwrap_or(&place);
            problem("scenario::invalid", format!("{place}: {}", sanitize(msg)))
                .label("here")
                .help("`upgrade-harness schema` describes every field; scenarios/ has examples")
        }
        other => {
            let message = serde_saphyr::DefaultMessageFormatter
                .format_message(other)
                .into_owned();
            let message = sanitize(&message);
            let label = if other.location().is_some() {
                "here"
            } else {
                ""
            };
            problem("scenario::yaml", format!("{message} {}", at(&path)))
                .label(label)
                .help("fix the YAML syntax here; `upgrade-harness schema` describes every field")
        }
    }
}

/// Words for a Rust scalar type in a message.
fn type_words(ty: &str) -> String {
    match ty {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number (0 or more)".into(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number".into(),
        "f32" | "f64" => "a number".into(),
        "bool" => "`true` or `false`".into(),
        other => format!("a {other}"),
    }
}

/// "recorded anchor events" for `RecordedAnchorEvents { .. }`.
fn breach_name(breach: &serde_saphyr::budget::BudgetBreach) -> String {
    let debug = format!("{breach:?}");
    let name = debug
        .split(|c: char| !c.is_ascii_alphanumeric())
        .next()
        .unwrap_or("");
    let mut words = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() && !words.is_empty() {
            words.push(' ');
        }
        words.push(c.to_ascii_lowercase());
    }
    words
}

/// The error itself, without snippet or alias wrappers.
fn unwrap(error: &YamlError) -> &YamlError {
    match error.without_snippet() {
        YamlError::AliasError { error, .. } => unwrap(error),
        other => other,
    }
}

/// A single line, without control characters.
fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// "valid X: a, b, c", with "did you mean `b`?" when one is close.
pub(crate) fn with_suggestion(given: &str, expected: &[&str], what: &str) -> String {
    let list = expected
        .iter()
        .map(|e| format!("`{e}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match closest(given, expected) {
        Some(best) => format!("did you mean `{best}`? {what}: {list}"),
        None => format!("{what}: {list}"),
    }
}

/// The expected name closest to `given` when it is a plausible typo.
pub(crate) fn closest<'a>(given: &str, expected: &[&'a str]) -> Option<&'a str> {
    expected
        .iter()
        .map(|e| (distance(given, e), *e))
        .filter(|(d, e)| *d <= (e.len() / 3).max(1))
        .min()
        .map(|(_, e)| e)
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            prev = cur;
        }
    }
    row[b.len()]
}
