//! How a Mesos process serializes an answer, apart from what it says: the content type, how
//! JSON escapes `/` and non-ASCII text, how numbers are written (`2.0`, exponents), whether keys come sorted,
//! whether the body is indented. Bodies are compared as parsed JSON elsewhere, so a change
//! of serialization (1.7 moved to a new JSON writer) shows only here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::client::RawResponse;

/// The serialization traits of one answer, each as a short word (`content-type` ->
/// `application/json`, `slash` -> `escaped`, `numbers` -> `decimal,integer`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Format(pub BTreeMap<String, String>);

/// The format of a response.
pub fn fingerprint(r: &RawResponse) -> Format {
    let mut f = BTreeMap::new();
    if let Some(ct) = r.header("content-type") {
        f.insert("content-type".to_string(), ct.to_ascii_lowercase());
    }
    let body = &r.body;
    let first = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
    if !matches!(first, Some(b'{') | Some(b'[')) {
        return Format(f);
    }
    let scan = scan(body);
    if scan.slashes > 0 {
        let slash = if scan.escaped_slashes == scan.slashes {
            "escaped"
        } else if scan.escaped_slashes == 0 {
            "plain"
        } else {
            "mixed"
        };
        f.insert("slash".to_string(), slash.to_string());
    }
    if scan.unicode_escapes > 0 {
        f.insert("unicode".to_string(), "escaped".to_string());
    }
    let mut forms: Vec<&str> = Vec::new();
    // Only how numbers are written, not which numbers there are (that is content):
    // whole floats as `2.0`, exponents.
    for (seen, name) in [
        (scan.whole_decimals, "whole-as-decimal"),
        (scan.exponents, "exponent"),
    ] {
        if seen > 0 {
            forms.push(name);
        }
    }
    if !forms.is_empty() {
        f.insert("numbers".to_string(), forms.join(","));
    }
    f.insert(
        "layout".to_string(),
        if body.contains(&b'\n') {
            "indented"
        } else {
            "compact"
        }
        .to_string(),
    );
    if let Ok(serde_json::Value::Object(_)) = serde_json::from_slice::<serde_json::Value>(body) {
        let keys = top_keys(body);
        if keys.len() > 1 {
            let sorted = keys.windows(2).all(|w| w[0] <= w[1]);
            f.insert(
                "keys".to_string(),
                if sorted { "sorted" } else { "unsorted" }.to_string(),
            );
        }
    }
    Format(f)
}

#[derive(Default)]
struct Scan {
    slashes: usize,
    escaped_slashes: usize,
    unicode_escapes: usize,
    whole_decimals: usize,
    exponents: usize,
}

/// One pass over the bytes: strings (escapes) and numbers outside strings.
fn scan(body: &[u8]) -> Scan {
    let mut s = Scan::default();
    let mut i = 0;
    let mut in_string = false;
    while i < body.len() {
        let b = body[i];
        if in_string {
            match b {
                b'\\' => {
                    match body.get(i + 1) {
                        Some(b'/') => {
                            s.slashes += 1;
                            s.escaped_slashes += 1;
                        }
                        Some(b'u') => s.unicode_escapes += 1,
                        _ => {}
                    }
                    i += 2;
                    continue;
                }
                b'/' => s.slashes += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < body.len()
                    && matches!(body[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                let n = &body[start..i];
                if n.iter().any(|c| matches!(c, b'e' | b'E')) {
                    s.exponents += 1;
                } else if let Some(dot) = n.iter().position(|c| *c == b'.') {
                    if n[dot + 1..].iter().all(|c| *c == b'0') {
                        s.whole_decimals += 1;
                    }
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    s
}

/// The keys of the top-level object, in the order written.
fn top_keys(body: &[u8]) -> Vec<String> {
    let mut keys = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    let mut expect_key = false;
    while i < body.len() {
        match body[i] {
            b'{' | b'[' => {
                depth += 1;
                expect_key = depth == 1 && body[i] == b'{';
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => expect_key = true,
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < body.len() && body[i] != b'"' {
                    if body[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                if depth == 1 && expect_key {
                    keys.push(
                        String::from_utf8_lossy(&body[start..i.min(body.len())]).into_owned(),
                    );
                    expect_key = false;
                }
            }
            _ => {}
        }
        i += 1;
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(ct: &str, body: &str) -> RawResponse {
        RawResponse {
            status: 200,
            headers: vec![("content-type".into(), ct.into())],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn serialization_traits_are_named() {
        let f = fingerprint(&raw(
            "application/json",
            r#"{"b":"\/opt","a":[1,2.5,1024.0,1e3]}"#,
        ));
        let get = |k: &str| f.0.get(k).map(String::as_str);
        assert_eq!(get("content-type"), Some("application/json"));
        assert_eq!(get("slash"), Some("escaped"));
        assert_eq!(get("numbers"), Some("whole-as-decimal,exponent"));
        assert_eq!(get("keys"), Some("unsorted"));
        assert_eq!(get("layout"), Some("compact"));
        let g = fingerprint(&raw("application/json", "{\"a\":\"/x\",\"b\":2}"));
        assert_eq!(g.0.get("slash").map(String::as_str), Some("plain"));
        assert_eq!(g.0.get("keys").map(String::as_str), Some("sorted"));
        assert!(!fingerprint(&raw("text/plain", "hello"))
            .0
            .contains_key("layout"));
    }
}
