//! Where a field of an item is written in the scenario text, so that a failure at run time
//! can put its caret on the field that was wrong (`checks[3].status.code`), not just on the
//! item. Works on the text (block and flow style), inside the item's extent only.

/// 1-based line and column of the value of `path` (keys, outermost first) inside the item
/// that starts at `start` and ends before `end` (the next item, or the end of the text).
/// `None` when a key is not written there (a defaulted field).
pub fn field_value(
    text: &str,
    start: (usize, usize),
    end: Option<(usize, usize)>,
    path: &[&str],
) -> Option<(usize, usize)> {
    let from = offset(text, start)?;
    // The item ends at the next item, or else at the next top-level key (a line that starts
    // with neither a space, a `-` nor a `#`): a defaulted field is not found in what follows.
    let until = end
        .and_then(|e| offset(text, e))
        .unwrap_or_else(|| next_top_level_key(text, from));
    let item = &text[from..until.max(from)];
    let mut at = 0;
    for key in path {
        at += find_key(&item[at..], key)?;
    }
    // Skip blanks after the last key's colon: the caret goes on the value itself.
    let rest = &item[at..];
    let skipped = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    let value_at = if rest[skipped..].starts_with(['\n', '\r', '#']) {
        // A block value on the next lines: point at the key's line end instead.
        at
    } else {
        at + skipped
    };
    Some(line_column(text, from + value_at))
}

/// 1-based line and column of the value of the top-level key `key` (`workload:`).
pub fn top_level_value(text: &str, key: &str) -> Option<(usize, usize)> {
    let needle = format!("{key}:");
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix(&needle) {
            let skipped = rest.len() - rest.trim_start_matches([' ', '\t']).len();
            let value = if rest[skipped..].starts_with(['\n', '\r', '#']) || rest.is_empty() {
                0
            } else {
                needle.len() + skipped
            };
            return Some(line_column(text, at + value));
        }
        at += line.len();
    }
    None
}

/// Offset of the first line after `from` that starts a top-level key, or the text's end.
fn next_top_level_key(text: &str, from: usize) -> usize {
    let mut at = from + text[from..].find('\n').map_or(text.len() - from, |i| i + 1);
    for line in text[at..].split_inclusive('\n') {
        if line.starts_with(|c: char| !matches!(c, ' ' | '\t' | '-' | '#' | '\n' | '\r')) {
            return at;
        }
        at += line.len();
    }
    text.len()
}

/// Byte offset just after `key:` in `s`, where `key` starts a mapping key (at the start, or
/// after a space, `{`, `,` or `-`) outside a comment.
fn find_key(s: &str, key: &str) -> Option<usize> {
    let needle = format!("{key}:");
    let mut from = 0;
    while let Some(i) = s[from..].find(&needle) {
        let i = from + i;
        let before = s[..i].chars().next_back();
        let after = s[i + needle.len()..].chars().next();
        let starts_key = before.is_none_or(|c| matches!(c, ' ' | '\t' | '\n' | '{' | ',' | '-'));
        let ends_key = after.is_none_or(|c| c.is_whitespace());
        let line_start = s[..i].rfind('\n').map_or(0, |n| n + 1);
        let in_comment = s[line_start..i].contains('#');
        if starts_key && ends_key && !in_comment {
            return Some(i + needle.len());
        }
        from = i + needle.len();
    }
    None
}

fn offset(text: &str, (line, column): (usize, usize)) -> Option<usize> {
    let start = text
        .split_inclusive('\n')
        .take(line.checked_sub(1)?)
        .map(str::len)
        .sum::<usize>();
    let content = text[start..].lines().next().unwrap_or("");
    let col = content
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(content.len(), |(i, _)| i);
    Some(start + col)
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "checks:\n  - after: start\n    status: { get: /x, code: 404 }\n  - after: end\n    json:\n      get: /y\n      field: /a\n      value: 1.10\n";

    #[test]
    fn finds_values_in_flow_and_block_style() {
        assert_eq!(
            field_value(TEXT, (2, 5), Some((4, 5)), &["status", "code"]),
            Some((3, 30))
        );
        assert_eq!(
            field_value(TEXT, (4, 5), None, &["json", "value"]),
            Some((8, 14))
        );
    }

    #[test]
    fn the_last_item_ends_at_the_next_top_level_key() {
        let text = "checks:\n  - after: start\n    metric_present: x  # json: no\ninvariants: [a]\nprobes:\n  - json: 1\n";
        assert_eq!(field_value(text, (2, 5), None, &["json"]), None);
        assert_eq!(
            field_value(text, (2, 5), None, &["metric_present"]),
            Some((3, 21))
        );
        assert_eq!(top_level_value(text, "invariants"), Some((4, 13)));
        assert_eq!(top_level_value(text, "checks"), Some((1, 1)));
        assert_eq!(top_level_value(text, "workload"), None);
    }

    #[test]
    fn stays_inside_the_item() {
        // The first check has no `json`: the second check's must not be found.
        assert_eq!(field_value(TEXT, (2, 5), Some((4, 5)), &["json"]), None);
        // `get:` inside `field` values or other words does not count.
        assert_eq!(field_value("a: { xget: 1 }", (1, 1), None, &["get"]), None);
    }
}
