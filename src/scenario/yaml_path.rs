//! Best-effort field path (`checks[2].status.code`) of a position in a YAML text.
//!
//! Serde errors carry a line and column but not the path of the field they are about; this
//! reconstructs it from indentation (block style) and from the flow collections opened on the
//! error's line. It reads the text only; when the layout is unusual the path may be shorter
//! than the real one, never wrong in what it names.

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Key(String),
    Index(usize),
}

/// The path of the node at 1-based `line`, `column` of `text`.
pub fn path_at(text: &str, line: usize, column: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let Some(target) = line.checked_sub(1).and_then(|i| lines.get(i)) else {
        return String::new();
    };
    let col_byte = target
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(target.len(), |(i, _)| i);

    // Segments of the target line before the column, outermost first.
    let mut on_line: Vec<Segment> = Vec::new();
    let indent = indent_of(target);
    let mut rest = &target[indent..col_byte.max(indent)];
    let mut threshold = indent;
    let mut in_item = false;
    if rest.starts_with("- ") || rest == "-" {
        let index = count_items(&lines, line - 1, indent);
        on_line.push(Segment::Index(index));
        rest = rest.get(2..).unwrap_or("");
        in_item = true;
    }
    on_line.extend(flow_segments(rest));

    // Enclosing block nodes, innermost first.
    let mut outer: Vec<Segment> = Vec::new();
    for i in (0..line - 1).rev() {
        let l = lines[i];
        let content = l.trim_start_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let ind = indent_of(l);
        if let Some(item) = content.strip_prefix("- ") {
            if ind < threshold {
                if let Some(key) = leading_key(item) {
                    if ind + 2 < threshold {
                        outer.push(Segment::Key(key));
                    }
                }
                outer.push(Segment::Index(count_items(&lines, i, ind)));
                threshold = ind;
                in_item = true;
            }
            continue;
        }
        let parent_of_compact_seq = in_item && ind == threshold;
        if ind < threshold || parent_of_compact_seq {
            if let Some(key) = leading_key(content) {
                outer.push(Segment::Key(key));
            }
            threshold = ind;
            in_item = false;
            if ind == 0 {
                break;
            }
        }
    }
    outer.reverse();
    outer.extend(on_line);
    render(&outer)
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Index of the sequence item starting at line `at` (0-based), among the `- ` items at `indent`.
fn count_items(lines: &[&str], at: usize, indent: usize) -> usize {
    let mut index = 0;
    for l in lines[..at].iter().rev() {
        let content = l.trim_start_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let ind = indent_of(l);
        if ind < indent || (ind == indent && !content.starts_with('-')) {
            break;
        }
        if ind == indent {
            index += 1;
        }
    }
    index
}

/// The key of a `key: ...` line, if it starts with one.
fn leading_key(content: &str) -> Option<String> {
    let end = content
        .find(": ")
        .or_else(|| content.strip_suffix(':').map(str::len))?;
    let key = content[..end].trim();
    let key = key.trim_matches(|c| c == '"' || c == '\'');
    (!key.is_empty() && !key.contains(['{', '[', '#'])).then(|| key.to_string())
}

/// Segments opened by the text before the column on one line (`key:`s and flow collections).
fn flow_segments(prefix: &str) -> Vec<Segment> {
    // Stack of open collections: (segments leading into it, current key or index).
    #[derive(Debug)]
    enum Open {
        Map(Option<String>),
        Seq(usize),
    }
    let mut stack: Vec<Open> = vec![Open::Map(None)];
    let mut token = String::new();
    let mut quote: Option<char> = None;
    let mut chars = prefix.chars().peekable();
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            token.push(c);
            continue;
        }
        match c {
            '"' | '\'' => {
                quote = Some(c);
                token.push(c);
            }
            '{' => {
                stack.push(Open::Map(None));
                token.clear();
            }
            '[' => {
                stack.push(Open::Seq(0));
                token.clear();
            }
            '}' | ']' => {
                stack.pop();
                if stack.is_empty() {
                    stack.push(Open::Map(None));
                }
                token.clear();
            }
            ',' => {
                match stack.last_mut() {
                    Some(Open::Seq(i)) => *i += 1,
                    Some(Open::Map(key)) => *key = None,
                    None => {}
                }
                token.clear();
            }
            ':' if chars.peek().is_none_or(|n| n.is_whitespace()) => {
                let key = token
                    .trim()
                    .trim_matches(|c| c == '"' || c == '\'')
                    .to_string();
                if let Some(Open::Map(k)) = stack.last_mut() {
                    *k = Some(key);
                }
                token.clear();
            }
            _ => token.push(c),
        }
    }
    stack
        .into_iter()
        .filter_map(|open| match open {
            Open::Map(Some(key)) if !key.is_empty() => Some(Segment::Key(key)),
            Open::Map(_) => None,
            Open::Seq(i) => Some(Segment::Index(i)),
        })
        .collect()
}

fn render(segments: &[Segment]) -> String {
    let mut out = String::new();
    for s in segments {
        match s {
            Segment::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Segment::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::path_at;

    const DOC: &str = "\
name: x
topology:
  masters: 1
  agents: two
steps:
  - upgrade_masters
  - restart_agents_with_flag:
      flags: { checkpoint: 1 }
checks:
- after: start
  status: { get: /x, code: 700 }
- after: start
  bogus: 1
";

    #[test]
    fn paths() {
        assert_eq!(path_at(DOC, 4, 11), "topology.agents");
        assert_eq!(path_at(DOC, 4, 3), "topology");
        assert_eq!(path_at(DOC, 6, 5), "steps[0]");
        assert_eq!(path_at(DOC, 8, 7), "steps[1].restart_agents_with_flag");
        assert_eq!(
            path_at(DOC, 8, 28),
            "steps[1].restart_agents_with_flag.flags.checkpoint"
        );
        assert_eq!(path_at(DOC, 11, 28), "checks[0].status.code");
        assert_eq!(path_at(DOC, 13, 3), "checks[1]");
        assert_eq!(path_at(DOC, 1, 7), "name");
    }
}
