//! Fixture modules written by this project without Mesos headers
//! (`module-fixtures/fixture-module.cc`), built per Mesos version with the system C++
//! compiler into the content-addressed cache, like the Mesos builds: a good Anonymous
//! module, and bad variants whose rejection (or failure) is known from `modules.md`.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::domain::Version;

/// The fixture's C++ source, compiled into the harness so that the hash covers it.
pub const FIXTURE_SOURCE: &str = include_str!("../../module-fixtures/fixture-module.cc");

/// Bump when the way fixtures are built changes: every fixture rebuilds.
const FIXTURE_FORMAT: u32 = 1;

/// The module name (global symbol) of every fixture: a scenario lists it in `--modules`.
pub const FIXTURE_MODULE_NAME: &str = "org_upgrade_harness_touch";

/// A fixture module: what it declares and does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fixture {
    /// A good Anonymous module: declares the version it is built for; its creation writes
    /// the file named by the parameter `file`.
    Touch,
    /// Declares module API version 1 (Mesos has 2).
    WrongApi,
    /// Declares the next minor release (`1.12.0` for a 1.11.0 build): a newer build.
    NewerVersion,
    /// Declares a kind the loader does not know.
    UnknownKind,
    /// Has a `compatible()` that returns false.
    Incompatible,
    /// Its `create()` returns null.
    CreateNull,
}

impl Fixture {
    /// Every fixture, in the order reports list them.
    pub const ALL: [Fixture; 6] = [
        Fixture::Touch,
        Fixture::WrongApi,
        Fixture::NewerVersion,
        Fixture::UnknownKind,
        Fixture::Incompatible,
        Fixture::CreateNull,
    ];

    /// Its name in scenarios and reports (`touch`, `wrong-api`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Fixture::Touch => "touch",
            Fixture::WrongApi => "wrong-api",
            Fixture::NewerVersion => "newer-version",
            Fixture::UnknownKind => "unknown-kind",
            Fixture::Incompatible => "incompatible",
            Fixture::CreateNull => "create-null",
        }
    }

    /// The fixture of that name.
    pub fn from_name(name: &str) -> Option<Fixture> {
        Fixture::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The names of every fixture, for error messages.
    pub fn names() -> String {
        Fixture::ALL.map(Fixture::name).join(", ")
    }

    /// The kind it declares.
    pub fn declared_kind(self) -> &'static str {
        match self {
            Fixture::UnknownKind => "Anonymus",
            _ => "Anonymous",
        }
    }

    /// The module API version it declares.
    pub fn declared_api(self) -> &'static str {
        match self {
            Fixture::WrongApi => "1",
            _ => "2",
        }
    }

    /// The Mesos version it declares when built for `version`.
    pub fn declared_version(self, version: Version) -> String {
        match self {
            Fixture::NewerVersion => Version::new(version.major, version.minor + 1, 0).to_string(),
            _ => version.to_string(),
        }
    }

    /// `compatible()`: 0 none (null), 1 returns true, 2 returns false.
    fn compatible(self) -> u8 {
        match self {
            Fixture::Incompatible => 2,
            _ => 0,
        }
    }

    fn create_null(self) -> bool {
        self == Fixture::CreateNull
    }

    /// The compiler's `-D` definitions for the build of `version`.
    fn defines(self, version: Version) -> Vec<String> {
        vec![
            format!("-DFIXTURE_SYMBOL={FIXTURE_MODULE_NAME}"),
            format!("-DFIXTURE_API=\"{}\"", self.declared_api()),
            format!("-DFIXTURE_VERSION=\"{}\"", self.declared_version(version)),
            format!("-DFIXTURE_KIND=\"{}\"", self.declared_kind()),
            format!("-DFIXTURE_COMPATIBLE={}", self.compatible()),
            format!("-DFIXTURE_CREATE_NULL={}", u8::from(self.create_null())),
        ]
    }
}

impl fmt::Display for Fixture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A built fixture library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixtureBuild {
    pub fixture: Fixture,
    /// The Mesos version it was built for.
    pub version: Version,
    /// `<cache>/modules/<fixture>-<version>-<hash16>/liborg_upgrade_harness_touch.so`.
    pub library: PathBuf,
    /// Content hash of the inputs (format, source, definitions).
    pub hash: String,
    /// True when the cache already had it.
    pub reused: bool,
}

/// Why a fixture could not be built.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("building the module fixture {fixture} for Mesos {version}: {what} {path}: {source}")]
    Io {
        fixture: Fixture,
        version: Version,
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("building the module fixture {fixture} for Mesos {version}: `{cxx}` could not run ({detail}); install it with `apt-get install -y g++`")]
    CompilerMissing {
        fixture: Fixture,
        version: Version,
        cxx: String,
        detail: String,
    },
    #[error(
        "building the module fixture {fixture} for Mesos {version}: the compiler failed: {stderr}"
    )]
    Compile {
        fixture: Fixture,
        version: Version,
        stderr: String,
    },
}

fn input_hash(fixture: Fixture, version: Version) -> String {
    let mut h = Sha256::new();
    h.update(format!("fixture-format {FIXTURE_FORMAT}\n"));
    for d in fixture.defines(version) {
        h.update(d.as_bytes());
        h.update(b"\n");
    }
    h.update(b"source\n");
    h.update(FIXTURE_SOURCE.as_bytes());
    hex::encode(h.finalize())
}

/// Builds (or reuses) `fixture` for `version` under `<cache_dir>/modules`, with the C++
/// compiler `cxx`. Written atomically: a temp directory renamed into place.
pub fn build_fixture(
    fixture: Fixture,
    version: Version,
    cache_dir: &Path,
    cxx: &str,
) -> Result<FixtureBuild, FixtureError> {
    let hash = input_hash(fixture, version);
    let root = cache_dir.join("modules");
    let dir = root.join(format!("{fixture}-{version}-{}", &hash[..16]));
    let file = format!("lib{FIXTURE_MODULE_NAME}.so");
    let result = |reused| FixtureBuild {
        fixture,
        version,
        library: dir.join(&file),
        hash: hash.clone(),
        reused,
    };
    if dir.join(&file).is_file() {
        return Ok(result(true));
    }
    let io = |what: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| FixtureError::Io {
            fixture,
            version,
            what,
            path,
            source,
        }
    };
    let tmp = root.join(format!(
        ".tmp-{fixture}-{version}-{}-{}",
        &hash[..16],
        std::process::id()
    ));
    fs::create_dir_all(&tmp).map_err(io("creating", &tmp))?;
    let src = tmp.join("fixture-module.cc");
    fs::write(&src, FIXTURE_SOURCE).map_err(io("writing", &src))?;
    let out = Command::new(cxx)
        .args(["-std=c++17", "-O2", "-fPIC", "-shared", "-Wall", "-o"])
        .arg(tmp.join(&file))
        .args(fixture.defines(version))
        .arg(&src)
        .output()
        .map_err(|e| FixtureError::CompilerMissing {
            fixture,
            version,
            cxx: cxx.to_string(),
            detail: e.to_string(),
        })?;
    if !out.status.success() {
        let _ = fs::remove_dir_all(&tmp);
        return Err(FixtureError::Compile {
            fixture,
            version,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    if let Err(e) = fs::rename(&tmp, &dir) {
        // Someone else finished the same build first: theirs is as good.
        let _ = fs::remove_dir_all(&tmp);
        if !dir.join(&file).is_file() {
            return Err(io("renaming", &tmp)(e));
        }
    }
    Ok(result(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        s.parse().unwrap()
    }

    #[test]
    fn declared_fields_follow_the_variant() {
        assert_eq!(Fixture::Touch.declared_version(v("1.11.0")), "1.11.0");
        assert_eq!(
            Fixture::NewerVersion.declared_version(v("1.11.0")),
            "1.12.0"
        );
        assert_eq!(Fixture::WrongApi.declared_api(), "1");
        assert_eq!(Fixture::UnknownKind.declared_kind(), "Anonymus");
        for f in Fixture::ALL {
            assert_eq!(Fixture::from_name(f.name()), Some(f));
        }
    }

    #[test]
    fn hashes_differ_by_variant_and_version() {
        let a = input_hash(Fixture::Touch, v("1.10.0"));
        let b = input_hash(Fixture::Touch, v("1.11.0"));
        let c = input_hash(Fixture::Incompatible, v("1.11.0"));
        assert!(a != b && b != c && a != c);
    }

    /// Compiles every fixture for one version with the system compiler, and checks that the
    /// second build is the cached one.
    #[test]
    fn builds_every_fixture_and_reuses_it() {
        let cache = tempfile::tempdir().unwrap();
        for f in Fixture::ALL {
            let built = build_fixture(f, v("1.11.0"), cache.path(), "g++").unwrap();
            assert!(!built.reused);
            assert!(built.library.is_file(), "{}", built.library.display());
            let again = build_fixture(f, v("1.11.0"), cache.path(), "g++").unwrap();
            assert!(again.reused);
            assert_eq!(again.library, built.library);
        }
    }

    #[test]
    fn a_missing_compiler_says_what_to_install() {
        let cache = tempfile::tempdir().unwrap();
        let e = build_fixture(
            Fixture::Touch,
            v("1.11.0"),
            cache.path(),
            "/nonexistent/g++",
        )
        .unwrap_err();
        assert!(e.to_string().contains("apt-get install -y g++"), "{e}");
    }
}
