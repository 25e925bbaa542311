//! Records `git describe` at build time as `UPGRADE_HARNESS_GIT`, so that a failure bundle
//! says which commit of the harness ran. Outside a git checkout (a source tarball) it is
//! simply absent. Reruns only when HEAD moves, not on every edit of the sources.

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_string())
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let Some(describe) = git(&["describe", "--always", "--tags"]) else {
        return;
    };
    println!("cargo:rustc-env=UPGRADE_HARNESS_GIT={describe}");
    // HEAD itself (a branch switch) and the branch it points to (a commit). A path that does
    // not exist would make cargo rerun this script on every build: only existing ones.
    let mut watched = vec![git(&["rev-parse", "--git-path", "HEAD"])];
    if let Some(branch) = git(&["rev-parse", "--symbolic-full-name", "HEAD"]) {
        watched.push(git(&["rev-parse", "--git-path", &branch]));
    }
    watched.push(git(&["rev-parse", "--git-path", "packed-refs"]));
    for path in watched.into_iter().flatten() {
        if Path::new(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
