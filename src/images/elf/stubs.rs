//! The stub libraries for what libmesos needs but the image does not ship, and the Python
//! C API shim: which symbols go where, and their C source and linker version scripts.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use super::parse::{DynSym, VersionNeed};

/// A symbol a generated library or shim defines.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct StubSymbol {
    pub name: String,
    pub is_data: bool,
}

/// One generated stub library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StubLibrary {
    pub soname: String,
    /// Version nodes in the order libmesos' `readelf -V` lists them, each with
    /// the symbols libmesos binds to that node.
    pub nodes: Vec<(String, Vec<StubSymbol>)>,
    /// Symbols libmesos imports without a version that no real library of its
    /// closure defines (for example curl in the openSUSE build).
    pub unversioned: Vec<StubSymbol>,
}

/// Python C API data objects libmesos refers to (everything else from
/// Python is a function). readelf types them NOTYPE, so the name decides.
fn python_is_data(name: &str) -> bool {
    name.starts_with("PyExc_")
        || (name.starts_with("_Py_") && name.ends_with("Struct"))
        || (name.starts_with("Py") && name.ends_with("_Type"))
}

fn stub_symbol(sym: &DynSym, python: bool) -> StubSymbol {
    let is_data = if python {
        python_is_data(&sym.name)
    } else {
        sym.kind == "OBJECT" || sym.kind == "TLS"
    };
    StubSymbol {
        name: sym.name.clone(),
        is_data,
    }
}

pub(crate) fn is_python_symbol(name: &str) -> bool {
    name.starts_with("Py") || name.starts_with("_Py")
}

/// Which stub library an unversioned leftover symbol belongs in.
fn leftover_home<'a>(name: &str, stubs: &'a [String]) -> Option<&'a String> {
    let prefer = |pat: &str| stubs.iter().find(|s| s.starts_with(pat));
    let by_prefix = if name.starts_with("curl_") {
        prefer("libcurl.")
    } else if name.contains("openssl") {
        prefer("libevent_openssl")
    } else if name.starts_with("SSL_") || name.starts_with("TLS") || name.starts_with("DTLS") {
        prefer("libssl.")
    } else {
        prefer("libcrypto.")
    };
    by_prefix
        .or_else(|| stubs.iter().find(|s| !s.starts_with("libpython")))
        .or_else(|| stubs.first())
}

/// Plans the stub libraries for the `stub_sonames` libmesos needs.
/// `defined_by_real_libraries`: symbols the real (non-stub) NEEDED libraries
/// define; unversioned imports found there are not stubbed.
/// Returns the stubs and the Python C API symbols the launcher must define.
pub(crate) fn plan_stubs(
    stub_sonames: &[String],
    version_needs: &[(String, Vec<VersionNeed>)],
    syms: &[DynSym],
    defined_by_real_libraries: &HashSet<String>,
) -> (Vec<StubLibrary>, Vec<StubSymbol>) {
    let mut libs: Vec<StubLibrary> = Vec::new();
    // version index -> (library, node) for the stubbed files.
    let mut by_index: BTreeMap<u32, (usize, usize)> = BTreeMap::new();
    for soname in stub_sonames {
        let needs: Vec<&VersionNeed> = version_needs
            .iter()
            .filter(|(file, _)| file == soname)
            .flat_map(|(_, n)| n.iter())
            .collect();
        for (j, need) in needs.iter().enumerate() {
            by_index.insert(need.index, (libs.len(), j));
        }
        let nodes = needs.iter().map(|n| (n.name.clone(), Vec::new())).collect();
        libs.push(StubLibrary {
            soname: soname.clone(),
            nodes,
            unversioned: Vec::new(),
        });
    }
    let mut python = Vec::new();
    let mut seen: HashSet<(String, Option<u32>)> = HashSet::new();
    for sym in syms.iter().filter(|s| s.undefined) {
        if !seen.insert((sym.name.clone(), sym.version_index)) {
            continue;
        }
        if is_python_symbol(&sym.name) && sym.version.is_none() {
            python.push(stub_symbol(sym, true));
            continue;
        }
        if sym.version.is_some() {
            if let Some(&(lib, node)) = sym.version_index.and_then(|i| by_index.get(&i)) {
                libs[lib].nodes[node].1.push(stub_symbol(sym, false));
            }
            continue; // otherwise a versioned symbol of a real library
        }
        if sym.weak || defined_by_real_libraries.contains(&sym.name) {
            continue;
        }
        if let Some(home) = leftover_home(&sym.name, stub_sonames) {
            let home = home.clone();
            let lib = libs.iter_mut().find(|l| l.soname == home).unwrap();
            lib.unversioned.push(stub_symbol(sym, false));
        }
    }
    for lib in &mut libs {
        for (_, s) in &mut lib.nodes {
            s.sort();
        }
        lib.unversioned.sort();
    }
    python.sort();
    (libs, python)
}

/// C source defining `symbols`; every function prints its own name and
/// aborts, data objects are 256 zero bytes.
pub(crate) fn render_stub_c(origin: &str, symbols: &[&StubSymbol]) -> String {
    let mut c = String::new();
    let _ = writeln!(
        c,
        "/* Generated by upgrade-harness (src/images/elf/stubs.rs); do not edit. */"
    );
    let _ = writeln!(
        c,
        "extern long uh_write(int, const void *, unsigned long) __asm__(\"write\");"
    );
    let _ = writeln!(
        c,
        "extern void uh_abort(void) __asm__(\"abort\") __attribute__((noreturn));"
    );
    let _ = writeln!(c, "static unsigned long uh_len(const char *s) {{ unsigned long n = 0; while (s[n]) n++; return n; }}");
    let _ = writeln!(
        c,
        "__attribute__((noreturn)) static void uh_stub_called(const char *name) {{"
    );
    let _ = writeln!(c, "  static const char a[] = \"mesos-launcher: \";");
    let _ = writeln!(c, "  static const char b[] = \" was called, but {origin} is a stub in this build (see docs/images.md)\\n\";");
    let _ = writeln!(c, "  uh_write(2, a, sizeof a - 1); uh_write(2, name, uh_len(name)); uh_write(2, b, sizeof b - 1);");
    let _ = writeln!(c, "  uh_abort();");
    let _ = writeln!(c, "}}");
    for s in symbols {
        if s.is_data {
            let _ = writeln!(
                c,
                "__attribute__((visibility(\"default\"), aligned(64))) char {}[256];",
                s.name
            );
        } else {
            let _ = writeln!(
                c,
                "__attribute__((visibility(\"default\"))) void {n}(void) {{ uh_stub_called(\"{n}\"); }}",
                n = s.name
            );
        }
    }
    c
}

/// The C source and (if the library has version nodes) the linker version
/// script of a stub library.
pub(crate) fn render_stub_library(lib: &StubLibrary) -> (String, Option<String>) {
    let all: Vec<&StubSymbol> = lib
        .nodes
        .iter()
        .flat_map(|(_, s)| s.iter())
        .chain(lib.unversioned.iter())
        .collect();
    let c = render_stub_c(&lib.soname, &all);
    if lib.nodes.is_empty() {
        return (c, None);
    }
    let mut script = String::new();
    let last = lib.nodes.len() - 1;
    for (i, (node, syms)) in lib.nodes.iter().enumerate() {
        let _ = write!(script, "{node} {{\n  global:\n");
        for s in syms {
            let _ = writeln!(script, "    {};", s.name);
        }
        if i == 0 {
            for s in &lib.unversioned {
                let _ = writeln!(script, "    {};", s.name);
            }
        }
        if i == last {
            let _ = writeln!(script, "  local: *;");
        }
        let _ = writeln!(script, "}};");
    }
    (c, Some(script))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::elf::parse::{parse_dyn_syms, parse_version_needs};
    use crate::images::elf::test_fixtures::{READELF_SYMS, READELF_V};

    #[test]
    fn stubs_from_readelf() {
        let syms = parse_dyn_syms(READELF_SYMS);
        let needs = parse_version_needs(READELF_V);
        let stubs = vec![
            "libssl.so.1.0.0".to_string(),
            "libcrypto.so.1.0.0".to_string(),
            "libcurl.so.4".to_string(),
        ];
        let real: HashSet<String> = ["svn_txdelta_parse_svndiff".to_string()].into();
        let (libs, python) = plan_stubs(&stubs, &needs, &syms, &real);
        let ssl = &libs[0];
        assert_eq!(ssl.soname, "libssl.so.1.0.0");
        assert_eq!(ssl.nodes[0].0, "OPENSSL_1.0.1");
        assert_eq!(ssl.nodes[0].1[0].name, "SSL_CTX_set_next_proto_select_cb");
        assert_eq!(ssl.nodes[1].1[0].name, "SSL_get_verify_result");
        let crypto = &libs[1];
        assert_eq!(
            crypto.nodes.len(),
            2,
            "OPENSSL_1.0.2 is kept even without symbols"
        );
        assert!(crypto.nodes[0].1.is_empty());
        assert_eq!(crypto.nodes[1].1[0].name, "BIO_free");
        // mallctl (jemalloc, unversioned, defined nowhere) lands in a stub.
        assert_eq!(crypto.unversioned[0].name, "mallctl");
        assert_eq!(libs[2].nodes[0].1[0].name, "curl_global_init");
        let names: Vec<_> = python
            .iter()
            .map(|p| (p.name.as_str(), p.is_data))
            .collect();
        assert_eq!(
            names,
            vec![
                ("PyErr_Print", false),
                ("PyExc_TypeError", true),
                ("_Py_NoneStruct", true)
            ]
        );

        let (c, script) = render_stub_library(crypto);
        assert!(c.contains("void BIO_free(void) { uh_stub_called(\"BIO_free\"); }"));
        assert!(c.contains("void mallctl(void)"));
        let script = script.unwrap();
        assert_eq!(
            script,
            "OPENSSL_1.0.2 {\n  global:\n    mallctl;\n};\nOPENSSL_1.0.0 {\n  global:\n    BIO_free;\n  local: *;\n};\n"
        );
    }
}
