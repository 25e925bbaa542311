//! Parsers of `readelf`, `nm` and `ldd` output: what a library needs and defines.

use std::collections::HashSet;

/// One entry of `readelf --dyn-syms -W`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DynSym {
    pub name: String,
    /// The symbol version (`SSL_new@OPENSSL_1.0.0` -> `OPENSSL_1.0.0`).
    pub version: Option<String>,
    pub undefined: bool,
    pub weak: bool,
    /// `FUNC`, `OBJECT`, `NOTYPE`, ...
    pub kind: String,
    /// The version index readelf prints after the name (`(8)`): ties an
    /// imported symbol to exactly one (file, version node) of `.gnu.version_r`.
    pub version_index: Option<u32>,
}

/// A version node required from a file: its name and version index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VersionNeed {
    pub name: String,
    pub index: u32,
}

/// `NEEDED` entries of `readelf -d`.
pub(crate) fn parse_needed(readelf_d: &str) -> Vec<String> {
    readelf_d
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| {
            let start = l.find('[')? + 1;
            let end = l[start..].find(']')? + start;
            Some(l[start..end].to_string())
        })
        .collect()
}

/// The `.gnu.version_r` section of `readelf -V -W`: for each file, the
/// version nodes required from it, in order of appearance.
pub(crate) fn parse_version_needs(readelf_v: &str) -> Vec<(String, Vec<VersionNeed>)> {
    let mut out: Vec<(String, Vec<VersionNeed>)> = Vec::new();
    let mut in_needs = false;
    for line in readelf_v.lines() {
        if line.starts_with("Version needs section") {
            in_needs = true;
            continue;
        }
        if in_needs
            && (line.starts_with("Version symbols section")
                || line.starts_with("Version definition section"))
        {
            in_needs = false;
        }
        if !in_needs {
            continue;
        }
        if let Some(pos) = line.find("File: ") {
            let rest = &line[pos + 6..];
            let file = rest.split_whitespace().next().unwrap_or("").to_string();
            out.push((file, Vec::new()));
        } else if let Some(pos) = line.find("Name: ") {
            let name = line[pos + 6..]
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_string();
            let index = line
                .rsplit_once("Version: ")
                .and_then(|(_, i)| i.trim().parse::<u32>().ok())
                .unwrap_or(0);
            if let Some(last) = out.last_mut() {
                last.1.push(VersionNeed { name, index });
            }
        }
    }
    out
}

/// `readelf --dyn-syms -W`.
pub(crate) fn parse_dyn_syms(readelf_syms: &str) -> Vec<DynSym> {
    let mut out = Vec::new();
    for line in readelf_syms.lines() {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        // Num: Value Size Type Bind Vis Ndx Name [(verindex)]
        if tokens.len() < 8 || !tokens[0].ends_with(':') || tokens[0] == "Num:" {
            continue;
        }
        let raw = tokens[7];
        let (name, version) = match raw.find('@') {
            Some(at) => {
                let v = raw[at..].trim_start_matches('@');
                (raw[..at].to_string(), Some(v.to_string()))
            }
            None => (raw.to_string(), None),
        };
        if name.is_empty() {
            continue;
        }
        let version_index = tokens
            .get(8)
            .and_then(|t| t.strip_prefix('(')?.strip_suffix(')')?.parse::<u32>().ok());
        out.push(DynSym {
            name,
            version,
            version_index,
            undefined: tokens[6] == "UND",
            weak: tokens[4] == "WEAK",
            kind: tokens[3].to_string(),
        });
    }
    out
}

/// Names of the symbols `nm -D --defined-only` lists (versions stripped).
pub(crate) fn parse_nm_defined(nm: &str) -> HashSet<String> {
    nm.lines()
        .filter_map(|l| {
            let tokens: Vec<&str> = l.split_whitespace().collect();
            if tokens.len() < 3 {
                return None;
            }
            let name = tokens[tokens.len() - 1];
            Some(name.split('@').next().unwrap_or(name).to_string())
        })
        .collect()
}

/// Address and size of `symbol` in `nm -D -S` output.
pub(crate) fn nm_address_size(nm_s: &str, symbol: &str) -> Option<(u64, u64)> {
    nm_s.lines().find_map(|l| {
        let t: Vec<&str> = l.split_whitespace().collect();
        if t.len() == 4 && t[3] == symbol {
            Some((
                u64::from_str_radix(t[0], 16).ok()?,
                u64::from_str_radix(t[1], 16).ok()?,
            ))
        } else {
            None
        }
    })
}

/// One line of `ldd` output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LddEntry {
    /// The name asked for (a soname, or the loader's absolute path).
    pub name: String,
    /// Where the library was found; `None` for "not found".
    pub path: Option<String>,
}

pub(crate) fn parse_ldd(ldd: &str) -> Vec<LddEntry> {
    let mut out = Vec::new();
    for line in ldd.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("linux-vdso") || line.starts_with("statically") {
            continue;
        }
        if let Some((name, rest)) = line.split_once(" => ") {
            let rest = rest.trim();
            let path = if rest.starts_with("not found") {
                None
            } else {
                Some(rest.split(" (").next().unwrap_or(rest).trim().to_string())
            };
            out.push(LddEntry {
                name: name.trim().to_string(),
                path,
            });
        } else if line.starts_with('/') {
            let path = line.split(" (").next().unwrap_or(line).trim().to_string();
            out.push(LddEntry {
                name: path.clone(),
                path: Some(path),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::elf::test_fixtures::{READELF_SYMS, READELF_V};

    const READELF_D: &str = "
Dynamic section at offset 0x4b6fc58 contains 42 entries:
  Tag        Type                         Name/Value
 0x0000000000000001 (NEEDED)             Shared library: [libz.so.1]
 0x0000000000000001 (NEEDED)             Shared library: [libcurl.so.4]
 0x000000000000000e (SONAME)             Library soname: [_scheduler.so]
";

    #[test]
    fn needed_entries() {
        assert_eq!(parse_needed(READELF_D), vec!["libz.so.1", "libcurl.so.4"]);
    }

    #[test]
    fn version_needs() {
        let v = parse_version_needs(READELF_V);
        assert_eq!(v.len(), 4);
        let need = |name: &str, index| VersionNeed {
            name: name.into(),
            index,
        };
        assert_eq!(
            v[0],
            (
                "libcrypto.so.1.0.0".into(),
                vec![need("OPENSSL_1.0.2", 21), need("OPENSSL_1.0.0", 9)]
            )
        );
        assert_eq!(
            v[2],
            ("libcurl.so.4".into(), vec![need("CURL_OPENSSL_3", 6)])
        );
    }

    #[test]
    fn dyn_syms() {
        let s = parse_dyn_syms(READELF_SYMS);
        assert_eq!(s.len(), 12);
        assert_eq!(s[0].name, "curl_global_init");
        assert_eq!(s[0].version.as_deref(), Some("CURL_OPENSSL_3"));
        assert_eq!(s[0].version_index, Some(6));
        assert!(s[0].undefined);
        assert!(s[4].weak && !s[3].weak);
        assert!(!s[11].undefined);
        assert_eq!(s[11].version, None);
        assert_eq!(s[10].version_index, Some(3));
    }

    #[test]
    fn ldd_lines() {
        let text = "\tlinux-vdso.so.1 (0x00007ffc)\n\tlibmesos.so => /b/opt/mesos/1.11.0/libmesos.so (0x00007f)\n\tlibfoo.so.1 => not found\n\t/lib64/ld-linux-x86-64.so.2 (0x00007f)\n";
        let e = parse_ldd(text);
        assert_eq!(e.len(), 3);
        assert_eq!(
            e[0].path.as_deref(),
            Some("/b/opt/mesos/1.11.0/libmesos.so")
        );
        assert_eq!(e[1].path, None);
        assert_eq!(e[2].name, "/lib64/ld-linux-x86-64.so.2");
    }

    #[test]
    fn nm_lookup() {
        let nm = "000000000285cb30 000000000000883d T _ZN5mesos8internal5slave5FlagsC1Ev\n";
        assert_eq!(
            nm_address_size(nm, "_ZN5mesos8internal5slave5FlagsC1Ev"),
            Some((0x285cb30, 0x883d))
        );
        let d = parse_nm_defined("0000000000001 T dlopen@@GLIBC_2.34\n0000 W foo\n");
        assert!(d.contains("dlopen") && d.contains("foo"));
    }
}
