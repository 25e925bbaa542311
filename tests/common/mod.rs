//! Shared by the tests that need a Docker engine.

use std::io::Write;

pub mod clusters;
#[allow(dead_code)] // used by the image tests only
pub mod third_party;

/// Reports a test that cannot run here as skipped, with its reason, and lets it return.
/// With `CI=true` it fails instead, so CI can never go green without having run it.
/// Straight to stderr: libtest captures `eprintln!` of passing tests, which would hide it.
#[allow(dead_code)] // not every test binary that shares this module skips
pub fn skip(reason: String) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI=true and this test cannot run: {reason}");
    }
    let test = std::thread::current().name().unwrap_or("?").to_string();
    let _ = writeln!(std::io::stderr().lock(), "skipped {test}: {reason}");
}

/// Every container (running or not) labelled with run `run_id`.
#[allow(dead_code)] // not every test binary that shares this module lists containers
pub async fn containers_of_run(
    engine: &upgrade_harness::docker::Engine,
    run_id: &str,
) -> Vec<bollard::models::ContainerSummary> {
    let filter = std::collections::HashMap::from([(
        "label".to_string(),
        vec![format!("{}={run_id}", upgrade_harness::docker::RUN_LABEL)],
    )]);
    engine
        .client()
        .list_containers(Some(bollard::query_parameters::ListContainersOptions {
            all: true,
            filters: Some(filter),
            ..Default::default()
        }))
        .await
        .expect("listing the run's containers")
}
