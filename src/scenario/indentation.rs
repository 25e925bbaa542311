//! Finding the line whose indentation matches none of its neighbours, to explain a YAML error
//! in plain words.
//!
//! A mis-indented key rarely fails where it is: one indented too deep continues the previous
//! line's value (`masters: 1 agents: 2` is then "not a whole number"), one indented too little
//! closes its mapping early (the mapping then "misses" the key). The parser's text names the
//! symptom; this names the line. It reads block-style YAML only (what scenario files use),
//! skipping block scalars, multi-line flow collections and multi-line quoted strings; it is
//! consulted only once the YAML failed to load.

/// A line indented more or less than its siblings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slip {
    /// 1-based line.
    pub line: usize,
    /// Its indentation, in spaces.
    pub indent: usize,
    /// What names it: its key (`agents:`), or its first 40 characters.
    pub text: String,
    /// The nearest line above at the indentation it departs from: (line, indentation).
    pub sibling: (usize, usize),
    /// For a line indented too little: the enclosing line it does not line up with either.
    pub parent: Option<(usize, usize)>,
}

impl Slip {
    /// The plain-words explanation, for a problem's help.
    pub fn explain(&self) -> String {
        let (sibling_line, sibling_indent) = self.sibling;
        let why = match self.parent {
            None => format!(
                "more than the {sibling_indent} of line {sibling_line}, whose value is not a block, \
                 so YAML reads line {} as the rest of that value",
                self.line
            ),
            Some((parent_line, parent_indent)) => format!(
                "fewer than the {sibling_indent} of the mapping above it (line {sibling_line}), more than the \
                 {parent_indent} of the level around it (line {parent_line}), so it belongs to neither"
            ),
        };
        format!(
            "a line is indented more or less than its siblings: line {} (`{}`) has {} space{}: {why}. \
             Indent it like the keys (or list items) it belongs with",
            self.line,
            self.text,
            self.indent,
            if self.indent == 1 { "" } else { "s" }
        )
    }
}

/// The first line of `text` whose indentation matches no open block, if any.
pub fn find_slip(text: &str) -> Option<Slip> {
    // Open block nodes, outermost first: (indentation, last line seen at it).
    let mut levels: Vec<(usize, usize)> = Vec::new();
    // The previous node has no inline value: a deeper line starts its block.
    let mut opens = false;
    // Inside a block scalar whose content is indented more than this.
    let mut block_scalar: Option<usize> = None;
    // Inside a multi-line flow collection or quoted string.
    let mut carry = Scan::default();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim_end_matches('\r');
        let content = line.trim_start_matches(' ');
        let indent = line.len() - content.len();
        if let Some(parent) = block_scalar {
            if content.is_empty() || indent > parent {
                continue;
            }
            block_scalar = None;
        }
        if carry.open() {
            carry = carry.scan(line);
            continue;
        }
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        if content.starts_with("---") || content.starts_with("...") || content.starts_with('%') {
            levels.clear();
            opens = false;
            continue;
        }
        match levels.last().copied() {
            None => levels.push((indent, n)),
            Some((top, top_line)) if indent > top => {
                if opens {
                    levels.push((indent, n));
                } else if key_or_item(content) {
                    return Some(slip(n, indent, content, (top_line, top), None));
                } else {
                    // A plain scalar continued on the next line: valid YAML.
                    continue;
                }
            }
            Some(_) => {
                let mut closed = None;
                while let Some(&(top, top_line)) = levels.last() {
                    if top <= indent {
                        break;
                    }
                    closed = Some((top_line, top));
                    levels.pop();
                }
                match levels.last_mut() {
                    Some((top, last)) if *top == indent => *last = n,
                    outer => {
                        let parent = outer.map(|(indent, line)| (*line, *indent));
                        let sibling = closed.expect("a deeper level was closed");
                        return Some(slip(n, indent, content, sibling, parent));
                    }
                }
            }
        }
        // What the line opens: list items nest their content one level deeper.
        let mut rest = content;
        let mut column = indent;
        while rest == "-" || rest.starts_with("- ") {
            let after = rest[1..].trim_start_matches(' ');
            column += rest.len() - after.len();
            rest = after;
            if key_or_item(rest) {
                levels.push((column, n));
            }
        }
        let value = match split_key(rest) {
            Some(value) => value,
            None if rest.is_empty() => "",
            None => rest,
        };
        let value = strip_comment(value);
        opens = value.is_empty() || (value.starts_with(['&', '!']) && !value.contains(' '));
        if value.starts_with(['|', '>']) {
            block_scalar = Some(column);
        } else {
            carry = Scan::default().scan(value);
        }
    }
    None
}

fn slip(
    line: usize,
    indent: usize,
    content: &str,
    sibling: (usize, usize),
    parent: Option<(usize, usize)>,
) -> Slip {
    // The key (`agents:`) or the start of the item names the line; its value may be long.
    let text = match split_key(content) {
        Some(value) => &content[..content.len() - value.len()],
        None => content,
    };
    let text: String = strip_comment(text).chars().take(40).collect();
    Slip {
        line,
        indent,
        text,
        sibling,
        parent,
    }
}

/// Whether a line's content is a mapping key or a list item (not a plain scalar going on).
fn key_or_item(content: &str) -> bool {
    content == "-" || content.starts_with("- ") || split_key(content).is_some()
}

/// The value after `key:` when `content` starts with a plain key.
fn split_key(content: &str) -> Option<&str> {
    if content.starts_with(['{', '[', '"', '\'', '#', '&', '*', '!', '|', '>']) {
        return None;
    }
    let bytes = content.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && i > 0 && bytes[i - 1] == b' ' {
            return None;
        }
        if b == b':' && bytes.get(i + 1).is_none_or(|c| *c == b' ') {
            return Some(content[i + 1..].trim_start_matches(' '));
        }
    }
    None
}

fn strip_comment(value: &str) -> &str {
    let cut = value
        .match_indices(" #")
        .map(|(i, _)| i)
        .next()
        .unwrap_or(value.len());
    let value = if value.starts_with('#') {
        ""
    } else {
        &value[..cut]
    };
    value.trim_end()
}

/// Open flow brackets and quotes, carried across lines.
#[derive(Debug, Clone, Copy, Default)]
struct Scan {
    depth: usize,
    quote: Option<char>,
}

impl Scan {
    fn open(self) -> bool {
        self.depth > 0 || self.quote.is_some()
    }

    fn scan(mut self, s: &str) -> Scan {
        let mut chars = s.chars().peekable();
        let mut previous = ' ';
        while let Some(c) = chars.next() {
            match (self.quote, c) {
                (Some('"'), '\\') => {
                    chars.next();
                }
                (Some(q), c) if c == q => {
                    // `''` inside a single-quoted string is an escaped quote.
                    if q == '\'' && chars.peek() == Some(&'\'') {
                        chars.next();
                    } else {
                        self.quote = None;
                    }
                }
                (Some(_), _) => {}
                (None, '#') if previous == ' ' => break,
                (None, '"' | '\'') if matches!(previous, ' ' | '{' | '[' | ',' | ':') => {
                    self.quote = Some(c)
                }
                (None, '{' | '[') => self.depth += 1,
                (None, '}' | ']') => self.depth = self.depth.saturating_sub(1),
                _ => {}
            }
            previous = c;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Line, indentation, sibling (line, indentation), parent (line, indentation).
    type Placed = (usize, usize, (usize, usize), Option<(usize, usize)>);

    fn slip_line(text: &str) -> Option<Placed> {
        find_slip(text).map(|s| (s.line, s.indent, s.sibling, s.parent))
    }

    #[test]
    fn a_key_indented_too_deep_or_too_little_is_found() {
        let deep = "name: x\ntopology:\n  masters: 1\n   agents: 2\norder: inferred\n";
        assert_eq!(slip_line(deep), Some((4, 3, (3, 2), None)));
        let shallow = "name: x\ntopology:\n  masters: 1\n agents: 2\norder: inferred\n";
        assert_eq!(slip_line(shallow), Some((4, 1, (3, 2), Some((2, 0)))));
        let item = "checks:\n  - after: start\n   on: agents\n";
        assert_eq!(slip_line(item), Some((3, 3, (2, 4), Some((2, 2)))));
        let top = "format: 1\n name: x\n";
        assert_eq!(slip_line(top), Some((2, 1, (1, 0), None)));
    }

    #[test]
    fn valid_layouts_have_no_slip() {
        for text in [
            "steps:\n- a\n- b\nchecks:\n  - after: start\n    on: agents\n    flag:\n      name: x\n  - after: y\n",
            "description: >-\n  text: that looks\n    like: keys\n\n  - and items\nname: x\n",
            "description: a plain\n  scalar going on\nname: x\n",
            "topology: { masters: 1,\n   agents: 2 }\nname: x\n",
            "reason: \"a quoted\n   string\"\nname: 'it''s'\n",
            "a:   # comment\n    b: 1\n    c: 2\nd: 3\n",
            "a: &x\n  b: 1\nc: *x\n",
            "list:\n  - - a\n    - b\n  - c\n",
        ] {
            assert_eq!(find_slip(text), None, "{text}");
        }
    }

    #[test]
    fn no_scenario_of_the_project_has_a_slip() {
        let mut files = Vec::new();
        for dir in [
            "scenarios/local",
            "scenarios/local-ha",
            "scenarios/seed",
            "scenarios/still-1x",
            "tests/fixtures/good",
        ] {
            for entry in std::fs::read_dir(dir).unwrap() {
                files.push(entry.unwrap().path());
            }
        }
        assert!(files.len() > 40, "{}", files.len());
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            assert_eq!(find_slip(&text), None, "{}", file.display());
        }
    }

    #[test]
    fn the_explanation_names_the_line_and_both_indentations() {
        let s = find_slip("topology:\n  masters: 1\n agents: 2\n").unwrap();
        assert_eq!(
            s.explain(),
            "a line is indented more or less than its siblings: line 3 (`agents:`) has 1 space: \
             fewer than the 2 of the mapping above it (line 2), more than the 0 of the level around \
             it (line 1), so it belongs to neither. Indent it like the keys (or list items) it \
             belongs with"
        );
        let s = find_slip("topology:\n  masters: 1\n   agents: 2\n").unwrap();
        assert_eq!(
            s.explain(),
            "a line is indented more or less than its siblings: line 3 (`agents:`) has 3 spaces: \
             more than the 2 of line 2, whose value is not a block, so YAML reads line 3 as the \
             rest of that value. Indent it like the keys (or list items) it belongs with"
        );
    }
}
