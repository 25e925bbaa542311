//! Images laid out like third-party Mesos images, made here from the project's own builds,
//! so the `upstream` distribution (`image_builds`) is tested without pulling anything.
//!
//! One image per version, tagged like a registry image (`upgrade-harness-test.invalid/mesos:
//! <version>`: `.invalid` never resolves, so nothing can ever be pulled under that name):
//! the launcher installed as `/usr/sbin/mesos-master` and `/usr/sbin/mesos-agent` (it takes
//! its mode from its name) with `mesos-slave` a symlink to the agent, libmesos and its
//! libraries under `/usr/local/lib/mesos` (found through the image's `LD_LIBRARY_PATH`), the
//! system closure at the loader's paths, a shell, `ldd` and `readlink` from this machine, and
//! a wrapper script as entry point. Every image carries [`TEST_LABEL`];
//! [`remove_test_images`] removes them all.

use std::path::Path;

use upgrade_harness::docker::{self, Engine, ImageSpec};
use upgrade_harness::images::{self, BuildOptions};

/// Repository of the test images, registry-like.
pub const TEST_REPOSITORY: &str = "upgrade-harness-test.invalid/mesos";
/// Label on every test image (value: what it is).
pub const TEST_LABEL: &str = "upgrade-harness.test-image";

/// The reference of the test image of `version`.
pub fn test_reference(version: &str) -> String {
    format!("{TEST_REPOSITORY}:{version}")
}

/// Host programs the image needs to be asked what it holds (as any Debian-based image has).
const HOST_PROGRAMS: &[(&str, &str)] = &[
    ("/usr/bin/dash", "bin/sh"),
    ("/usr/bin/bash", "bin/bash"),
    ("/usr/bin/ldd", "usr/bin/ldd"),
    ("/usr/bin/readlink", "usr/bin/readlink"),
];

const ENTRYPOINT: &str = "#!/bin/sh\n# Like many images: one image, the role as its argument.\ncase \"$1\" in\n  master) shift; exec mesos-master \"$@\" ;;\n  agent|slave) shift; exec mesos-agent \"$@\" ;;\n  *) exec \"$@\" ;;\nesac\n";

/// Builds (or finds) the third-party-shaped image of `version` and tags it
/// [`test_reference`]; returns that reference.
pub async fn build_test_image(engine: &Engine, version: &str) -> Result<String, String> {
    let v = version.to_string();
    let build = tokio::task::spawn_blocking(move || {
        images::build_version(&v, &BuildOptions::default()).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())??;
    let staging = tempfile::tempdir().map_err(|e| e.to_string())?;
    lay_out(&build.rootfs, version, staging.path()).map_err(|e| format!("laying out: {e}"))?;
    let spec = ImageSpec {
        repository: format!("upgrade-harness-test/third-party-shaped-{version}"),
        roots: vec![staging.path().to_path_buf()],
        labels: [(TEST_LABEL.to_string(), "third-party-shaped".to_string())].into(),
        entrypoint: vec!["/usr/local/bin/mesos-entrypoint".to_string()],
        cmd: vec!["master".to_string()],
        env: vec![
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string(),
            "LD_LIBRARY_PATH=/usr/local/lib/mesos".to_string(),
        ],
        ..ImageSpec::default()
    };
    let built = docker::build_image(engine, &spec)
        .await
        .map_err(|e| e.to_string())?;
    docker::tag_image(engine, &built.reference, TEST_REPOSITORY, version)
        .await
        .map_err(|e| e.to_string())?;
    Ok(test_reference(version))
}

/// Removes every test image (all tags).
pub async fn remove_test_images(engine: &Engine) -> Result<Vec<String>, String> {
    docker::remove_images_with_label(engine, TEST_LABEL)
        .await
        .map_err(|e| e.to_string())
}

/// The project's build `rootfs` of `version`, rearranged into `out` the third-party way.
fn lay_out(rootfs: &Path, version: &str, out: &Path) -> std::io::Result<()> {
    use std::fs;
    let opt = rootfs.join("opt/mesos").join(version);
    let copy = |from: &Path, to: &Path| -> std::io::Result<()> {
        fs::create_dir_all(to.parent().expect("a parent"))?;
        let meta = fs::symlink_metadata(from)?;
        if meta.file_type().is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(from)?, to)
        } else {
            fs::copy(from, to).map(|_| ())
        }
    };
    // The system closure and /etc, where the build has them.
    for dir in ["lib", "lib64", "etc"] {
        copy_tree(&rootfs.join(dir), &out.join(dir), &copy)?;
    }
    let launcher = opt.join("mesos-launcher");
    copy(&launcher, &out.join("usr/sbin/mesos-master"))?;
    copy(&launcher, &out.join("usr/sbin/mesos-agent"))?;
    std::os::unix::fs::symlink("mesos-agent", out.join("usr/sbin/mesos-slave"))?;
    for entry in fs::read_dir(&opt)? {
        let entry = entry?;
        let name = entry.file_name();
        let to = match name.to_str() {
            Some("mesos-launcher") => continue,
            Some("mesos-executor") => out.join("usr/libexec/mesos/mesos-executor"),
            _ => out.join("usr/local/lib/mesos").join(&name),
        };
        copy(&entry.path(), &to)?;
    }
    // A shell, ldd and readlink from this machine, with what they load.
    for (from, to) in HOST_PROGRAMS {
        copy(Path::new(from), &out.join(to))?;
        let ldd = std::process::Command::new("ldd").arg(from).output()?;
        for line in String::from_utf8_lossy(&ldd.stdout).lines() {
            if let Some((_, rest)) = line.split_once(" => ") {
                let path = rest.split(" (").next().unwrap_or("").trim();
                let target = out.join(path.trim_start_matches('/'));
                if !path.is_empty() && !target.exists() {
                    // The file itself: the host's soname links point at versioned names.
                    fs::create_dir_all(target.parent().expect("a parent"))?;
                    fs::copy(path, &target)?;
                }
            }
        }
    }
    let entry = out.join("usr/local/bin/mesos-entrypoint");
    fs::create_dir_all(entry.parent().expect("a parent"))?;
    fs::write(&entry, ENTRYPOINT)?;
    fs::create_dir_all(out.join("tmp"))?;
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&entry, fs::Permissions::from_mode(0o755))?;
    fs::set_permissions(out.join("tmp"), fs::Permissions::from_mode(0o1777))?;
    Ok(())
}

fn copy_tree(
    from: &Path,
    to: &Path,
    copy: &dyn Fn(&Path, &Path) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let Ok(entries) = std::fs::read_dir(from) else {
        return Ok(());
    };
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            copy_tree(&path, &to.join(entry.file_name()), copy)?;
        } else {
            copy(&path, &to.join(entry.file_name()))?;
        }
    }
    Ok(())
}
