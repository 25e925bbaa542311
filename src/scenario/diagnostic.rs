//! Problems found in a scenario file, as miette diagnostics pointing into the file.
//!
//! Every [`Problem`] names the field (a path such as `checks[2].status.code`), carries the
//! file as a [`NamedSource`] and a labelled span (so the rendering shows `file:line:col`
//! with a caret), and a `help` that says what would be valid. A problem is an error (the file
//! is invalid) or a [`Problem::warning`] (valid, but probably not what the author meant).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, Severity, SourceSpan};
use serde_saphyr::Location;

/// A scenario file's text with a line index, to turn locations into spans.
#[derive(Debug, Clone)]
pub struct SourceFile {
    name: String,
    text: Arc<str>,
    line_starts: Vec<usize>,
}

impl SourceFile {
    /// Wraps `text`, the content of the file called `name` in diagnostics.
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> SourceFile {
        let text: Arc<str> = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// The file name shown in diagnostics.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The text.
    pub fn text(&self) -> &str {
        &self.text
    }

    fn named_source(&self) -> NamedSource<Arc<str>> {
        NamedSource::new(self.name.clone(), self.text.clone()).with_language("yaml")
    }

    /// The (1-based) line and column of a byte offset.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        let start = self.line_starts[line];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        (line + 1, column)
    }

    /// The byte range of a line's content (without `\r\n`).
    fn line_range(&self, line: usize) -> Option<(usize, usize)> {
        let start = *self.line_starts.get(line.checked_sub(1)?)?;
        let end = self
            .line_starts
            .get(line)
            .map_or(self.text.len(), |&next| next - 1);
        let content = &self.text[start..end];
        Some((start, start + content.trim_end_matches('\r').len()))
    }

    /// The span of the token at a 1-based line and column: the scalar or key that starts there.
    pub fn span_at(&self, line: usize, column: usize) -> Option<SourceSpan> {
        let (start, end) = self.line_range(line)?;
        let content = &self.text[start..end];
        let col_offset = content
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(content.len(), |(i, _)| i);
        let from = start + col_offset;
        let rest = &self.text[from..end];
        let len = token_len(rest);
        Some(SourceSpan::new(from.into(), len))
    }

    /// The span of a location recorded by serde-saphyr (`None` for unknown locations).
    pub fn span_of(&self, location: &Location) -> Option<SourceSpan> {
        if *location == Location::UNKNOWN || location.line() == 0 {
            return None;
        }
        self.span_at(location.line() as usize, location.column() as usize)
    }
}

/// Length of the YAML token at the start of `rest`: a quoted scalar, or a plain scalar up to
/// the end of the line or the next flow indicator / `: ` / ` #`.
fn token_len(rest: &str) -> usize {
    let bytes = rest.as_bytes();
    match bytes.first() {
        None => 0,
        Some(&q @ (b'"' | b'\'')) => {
            let mut i = 1;
            while i < bytes.len() {
                if bytes[i] == b'\\' && q == b'"' {
                    i += 2;
                    continue;
                }
                if bytes[i] == q {
                    return i + 1;
                }
                i += 1;
            }
            bytes.len()
        }
        Some(b'{' | b'[' | b'-' | b'&' | b'*' | b'!' | b'|' | b'>') => {
            // A collection, a sequence entry, an anchor/alias/tag or a block scalar:
            // point at its first character only.
            1
        }
        Some(_) => {
            let mut end = rest.len();
            for (i, c) in rest.char_indices() {
                let next = rest[i + c.len_utf8()..].chars().next();
                let stop = matches!(c, ',' | '}' | ']')
                    || (c == ':' && next.is_none_or(char::is_whitespace))
                    || (c == '#' && i > 0 && rest[..i].ends_with(char::is_whitespace));
                if stop {
                    end = i;
                    break;
                }
            }
            rest[..end].trim_end().len().max(1)
        }
    }
}

/// One thing wrong with a scenario file.
#[derive(Debug, Clone)]
pub struct Problem {
    /// A stable identifier of the kind of problem, e.g. `scenario::unknown_version`.
    pub code: &'static str,
    /// What is wrong, naming the field.
    pub message: String,
    /// The field, as a path from the top of the file (`topology.agents`, `steps[3]`);
    /// empty for problems with the whole file.
    pub field: String,
    /// Text under the caret.
    pub label: String,
    /// What would be valid.
    pub help: Option<String>,
    /// 1-based line and column, when the problem has a place in the file.
    pub position: Option<(usize, usize)>,
    /// `Error` (the file is invalid) or `Warning` (valid; rendered with `!`, exit code unchanged).
    pub severity: Severity,
    span: Option<SourceSpan>,
    source: Option<NamedSource<Arc<str>>>,
}

impl Problem {
    /// A problem with the file as a whole (no place in it).
    pub fn file(code: &'static str, message: impl Into<String>) -> Problem {
        Problem {
            code,
            message: message.into(),
            field: String::new(),
            label: String::new(),
            help: None,
            position: None,
            severity: Severity::Error,
            span: None,
            source: None,
        }
    }

    /// A problem with `field`, at `span` of `file`.
    pub fn at(
        file: &SourceFile,
        span: Option<SourceSpan>,
        code: &'static str,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Problem {
        let position = span.map(|s| file.line_column(s.offset()));
        Problem {
            code,
            message: message.into(),
            field: field.into(),
            label: String::new(),
            help: None,
            position,
            severity: Severity::Error,
            span,
            source: Some(file.named_source()),
        }
    }

    /// Sets the field path.
    pub fn field(mut self, field: impl Into<String>) -> Problem {
        self.field = field.into();
        self
    }

    /// Sets the text under the caret.
    pub fn label(mut self, label: impl Into<String>) -> Problem {
        self.label = label.into();
        self
    }

    /// Sets the help.
    pub fn help(mut self, help: impl Into<String>) -> Problem {
        self.help = Some(help.into());
        self
    }

    /// Makes this a warning: the file stays valid.
    pub fn warning(mut self) -> Problem {
        self.severity = Severity::Warning;
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Problem {}

impl Diagnostic for Problem {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.span?;
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span?;
        let label = (!self.label.is_empty()).then(|| self.label.clone());
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(label, span),
        )))
    }
}

/// Every problem found in one scenario file (never empty when returned as an error).
#[derive(Debug, Clone)]
pub struct Diagnostics {
    /// The file.
    pub path: PathBuf,
    /// The problems, in file order where they have a place.
    pub problems: Vec<Problem>,
}

impl Diagnostics {
    /// An empty collection for `path`.
    pub fn new(path: &Path) -> Diagnostics {
        Diagnostics {
            path: path.to_path_buf(),
            problems: Vec::new(),
        }
    }

    /// Whether no problem was found.
    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }

    /// Adds a problem.
    pub fn push(&mut self, problem: Problem) {
        self.problems.push(problem);
    }

    /// Orders the problems by their place in the file (problems without one first).
    pub fn sort(&mut self) {
        self.problems.sort_by_key(|p| p.position);
    }

    /// Renders every problem as plain text: no colours, no Unicode box drawing, fixed width.
    /// Stable, for tests and logs.
    pub fn render_plain(&self, width: usize) -> String {
        let handler = miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::none())
            .with_width(width)
            .with_links(false);
        self.render_with(&handler)
    }

    /// Renders every problem with `handler`.
    pub fn render_with(&self, handler: &miette::GraphicalReportHandler) -> String {
        let mut out = String::new();
        for problem in &self.problems {
            // Rendering into a String cannot fail for lack of space; a formatter error here
            // would be a bug in miette, and the message alone is still useful.
            if handler.render_report(&mut out, problem).is_err() {
                out.push_str(&problem.message);
                out.push('\n');
            }
        }
        out
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "{}: {} problem{}",
            self.path.display(),
            n,
            if n == 1 { "" } else { "s" }
        )
    }
}

impl std::error::Error for Diagnostics {}

impl Diagnostic for Diagnostics {
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(self.problems.iter().map(|p| p as &dyn Diagnostic)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_columns_and_tokens() {
        let f = SourceFile::new("x.yaml", "a: 1\r\nname: \"q x\" # c\nb: [x, y]\n");
        assert_eq!(f.line_column(0), (1, 1));
        assert_eq!(f.line_column(6), (2, 1));
        let s = f.span_at(2, 7).unwrap();
        assert_eq!(&f.text()[s.offset()..s.offset() + s.len()], "\"q x\"");
        let s = f.span_at(3, 5).unwrap();
        assert_eq!(&f.text()[s.offset()..s.offset() + s.len()], "x");
        let s = f.span_at(1, 1).unwrap();
        assert_eq!(&f.text()[s.offset()..s.offset() + s.len()], "a");
        assert!(f.span_at(9, 1).is_none());
    }
}
