//! Every bad scenario under `tests/fixtures/bad/` is rejected with exactly one problem, and
//! its rendered diagnostic (plain text: no colour, no Unicode, 100 columns) is snapshot in
//! `snapshots/diagnostics/`. Review changes with `cargo insta review`, or regenerate with
//! `INSTA_UPDATE=always cargo test --test diagnostics` and read the diff.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use upgrade_harness::scenario::{self, load::parse_and_validate, Diagnostics};

fn fixtures(kind: &str) -> Vec<PathBuf> {
    // Relative to the package root (cargo's working directory for tests): the paths are part
    // of the rendered diagnostics, so they must not depend on where the checkout lives.
    let dir = Path::new("tests/fixtures").join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

fn render(d: &Diagnostics) -> String {
    d.render_plain(100)
}

#[test]
fn bad_fixtures_render_stable_diagnostics() {
    let files = fixtures("bad");
    assert!(
        files.len() >= 20,
        "expected at least 20 bad fixtures, found {}",
        files.len()
    );
    for file in files {
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        let diagnostics = match scenario::load(&file) {
            Ok(_) => panic!(
                "{} was accepted; every bad fixture must be rejected",
                file.display()
            ),
            Err(d) => d,
        };
        assert_eq!(
            diagnostics.problems.len(),
            1,
            "{} should have exactly one problem:\n{}",
            file.display(),
            render(&diagnostics)
        );
        let problem = &diagnostics.problems[0];
        assert!(
            problem.help.is_some(),
            "{}: every problem says what would be valid",
            file.display()
        );
        insta::with_settings!({
            snapshot_path => "../snapshots/diagnostics",
            prepend_module_to_snapshot => false,
            description => format!("{}", file.display()),
            omit_expression => true,
        }, {
            insta::assert_snapshot!(name, render(&diagnostics));
        });
    }
}

#[test]
fn good_fixtures_are_valid() {
    for file in fixtures("good") {
        let loaded = match scenario::load_with_warnings(&file) {
            Ok(loaded) => loaded,
            Err(d) => panic!("{} is rejected:\n{}", file.display(), render(&d)),
        };
        // `full.yaml` checks after one HA master's turn, which only a warning can flag.
        let expected: &[&str] = if file.ends_with("full.yaml") {
            &["scenario::per_master_check"]
        } else {
            &[]
        };
        let codes: Vec<&str> = loaded.warnings.problems.iter().map(|p| p.code).collect();
        assert_eq!(codes, expected, "{}", render(&loaded.warnings));
    }
}

/// Every scenario under `tests/fixtures/warnings/` is valid with exactly one warning, whose
/// rendering (`!` instead of `x`) is snapshot in `snapshots/warnings/`.
#[test]
fn warning_fixtures_are_valid_with_one_stable_warning() {
    let files = fixtures("warnings");
    assert!(
        files.len() >= 4,
        "expected 4 warning fixtures, found {}",
        files.len()
    );
    for file in files {
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        let warnings = match scenario::load_with_warnings(&file) {
            Ok(loaded) => loaded.warnings,
            Err(d) => panic!("{} is rejected:\n{}", file.display(), render(&d)),
        };
        assert_eq!(
            warnings.problems.len(),
            1,
            "{} should have exactly one warning:\n{}",
            file.display(),
            render(&warnings)
        );
        let warning = &warnings.problems[0];
        assert_eq!(
            warning.severity,
            miette::Severity::Warning,
            "{}",
            file.display()
        );
        assert!(
            warning.help.is_some(),
            "{}: every warning says what to do",
            file.display()
        );
        let shown = file.display().to_string();
        let (line, column) = warning
            .position
            .expect("every warning points into the file");
        let text = render(&warnings);
        assert!(text.contains(&format!("{shown}:{line}:{column}")), "{text}");
        insta::with_settings!({
            snapshot_path => "../snapshots/warnings",
            prepend_module_to_snapshot => false,
            description => format!("{}", file.display()),
            omit_expression => true,
        }, {
            insta::assert_snapshot!(name, text);
        });
    }
}

/// A mis-indented key is explained in plain words beside the parser's text, whatever symptom
/// the parser reports for it.
#[test]
fn indentation_errors_are_explained() {
    for name in [
        "indent-key-too-deep",
        "indent-key-too-shallow",
        "indent-check-key",
    ] {
        let file = PathBuf::from(format!("tests/fixtures/bad/{name}.yaml"));
        let d = scenario::load(&file).unwrap_err();
        let help = d.problems[0].help.clone().unwrap_or_default();
        assert!(
            help.starts_with("a line is indented more or less than its siblings: line "),
            "{name}: {help}"
        );
    }
}

#[test]
fn crlf_is_accepted_and_positions_stay_right() {
    let s = scenario::load(Path::new("tests/fixtures/good/crlf.yaml")).unwrap();
    assert_eq!(s.name.value, "crlf");
    assert_eq!(s.to.referenced.line(), 5);
    // The same problem in a CRLF file points at the same line and column as with LF.
    let lf = "format: 1\nname: x\nfrom: 1.10.0\nto: 1.11.0\ndistribution: local\ntopology: { masters: 1, agents: 0 }\norder: inferred\nsteps: [upgrade_masters]\n";
    let crlf = lf.replace('\n', "\r\n");
    let a = parse_and_validate(Path::new("lf.yaml"), lf).unwrap_err();
    let b = parse_and_validate(Path::new("crlf.yaml"), &crlf).unwrap_err();
    let positions = |d: &Diagnostics| d.problems.iter().map(|p| p.position).collect::<Vec<_>>();
    assert_eq!(positions(&a), positions(&b));
    assert!(positions(&a).contains(&Some((6, 33))));
}

#[test]
fn every_error_names_field_line_and_column() {
    for file in fixtures("bad") {
        let d = scenario::load(&file).unwrap_err();
        let text = render(&d);
        let p = &d.problems[0];
        let shown = file.display().to_string();
        assert!(
            text.contains(&shown),
            "{shown}: the file is named in\n{text}"
        );
        if let Some((line, column)) = p.position {
            assert!(
                text.contains(&format!("{shown}:{line}:{column}")),
                "{shown}: line and column in\n{text}"
            );
            assert!(
                !p.field.is_empty()
                    || p.code == "scenario::multiple_documents"
                    || p.code == "scenario::not_utf8",
                "{shown}: {} names no field",
                p.code
            );
        }
    }
}

/// Rejected quickly, without a panic, and without reading the whole file.
#[test]
fn huge_file_and_alias_bomb_are_rejected_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.yaml");
    let mut text = String::from("format: 1\nname: big\ndescription: \"");
    text.push_str(&"x".repeat(5 * 1024 * 1024));
    text.push_str("\"\n");
    std::fs::write(&big, text).unwrap();

    for (file, code) in [
        (big.as_path(), "scenario::too_large"),
        (
            Path::new("tests/fixtures/bad/alias-bomb.yaml"),
            "scenario::too_complex",
        ),
    ] {
        let started = Instant::now();
        let d = scenario::load(file).unwrap_err();
        let took = started.elapsed();
        assert_eq!(d.problems[0].code, code, "{}", render(&d));
        // A bound on the work, not a speed target: an unbounded alias expansion or a full read
        // takes minutes and gigabytes; 20 s holds even on two cores shared by ten tests.
        assert!(
            took < Duration::from_secs(20),
            "{} took {took:?}",
            file.display()
        );
    }
}

/// No input makes the loader panic: every prefix of a valid scenario, and some noise.
#[test]
fn truncated_and_garbled_input_never_panics() {
    let full = std::fs::read_to_string("tests/fixtures/good/full.yaml").unwrap();
    let path = Path::new("t.yaml");
    for (end, _) in full.char_indices() {
        let _ = parse_and_validate(path, &full[..end]);
    }
    for noise in [
        "\u{0}",
        "\u{feff}",
        ":",
        "- - -",
        "{",
        "[",
        "&a *a",
        "*x",
        "!!binary x",
        "? a\n: b",
        "%YAML 1.2\n---\n",
        "\"\\u0\"",
        "a: !!int x",
    ] {
        let _ = parse_and_validate(path, noise);
        let _ = parse_and_validate(path, &format!("{full}{noise}"));
    }
}
