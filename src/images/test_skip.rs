//! Tests that need what `.ci/run` installs or builds (Docker, the ZooKeeper and JDK packages,
//! the cached Mesos builds and tarballs) run in every `cargo nextest run`. Where a piece is
//! missing they say so and pass, except with `CI=true`, where that is a failure: CI must never
//! go green without having run them (the rule of `tests/common/mod.rs`).

use std::io::Write;

/// Reports the running test as skipped with `reason` (straight to stderr, past the capture of
/// passing tests' output), or panics with it when `CI=true`.
pub(crate) fn skip(reason: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI=true and this test cannot run: {reason}");
    }
    let test = std::thread::current().name().unwrap_or("?").to_string();
    let _ = writeln!(std::io::stderr().lock(), "skipped {test}: {reason}");
}
