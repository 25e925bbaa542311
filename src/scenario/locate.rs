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
    let until = end.and_then(|e| offset(text, e)).unwrap_or(text.len());
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

/// Byte offset just after `key:` in `s`, where `key` starts a mapping key (at the start, or
/// after a space, `{`, `,` or `-`).
fn find_key(s: &str, key: &str) -> Option<usize> {
    let needle = format!("{key}:");
    let mut from = 0;
    while let Some(i) = s[from..].find(&needle) {
        let i = from + i;
        let before = s[..i].chars().next_back();
        let after = s[i + needle.len()..].chars().next();
        let starts_key = before.is_none_or(|c| matches!(c, ' ' | '\t' | '\n' | '{' | ',' | '-'));
        let ends_key = after.is_none_or(|c| c.is_whitespace());
        if starts_key && ends_key {
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
    fn stays_inside_the_item() {
        // The first check has no `json`: the second check's must not be found.
        assert_eq!(field_value(TEXT, (2, 5), Some((4, 5)), &["json"]), None);
        // `get:` inside `field` values or other words does not count.
        assert_eq!(field_value("a: { xget: 1 }", (1, 1), None, &["get"]), None);
    }
}
