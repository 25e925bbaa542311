//! A ZooKeeper node built by the project (issue 7): no image can be pulled, so
//! the server is assembled from Debian's `zookeeper` package into a directory
//! laid out as an image root filesystem (`docs/zookeeper.md`).
//!
//! - a `jlink` JRE with only the modules ZooKeeper needs ([`JRE_MODULES`]);
//! - six jars from `/usr/share/java` ([`JARS`]); `zookeeper.jar` is repacked
//!   without its manifest `Class-Path` (which names 22 more Debian jars);
//! - `zoo.cfg` tuned for fast session expiry ([`zoo_cfg`]);
//! - the `ldd` closure of the JRE (glibc, libstdc++, zlib) and the loader;
//! - every licence: the JRE's `legal/` (kept by jlink) and the Debian
//!   `copyright` files of each package a file comes from, under
//!   `/opt/zookeeper/licenses/`.
//!
//! Content-addressed like the Mesos builds: `<cache>/zookeeper-<hash16>/rootfs`
//! where the hash covers this module's format version, the JDK's version, the
//! module list, every jar's SHA-256, the JVM flags and `zoo.cfg`.
//!
//! Readiness is the `ruok` four-letter word over TCP ([`ruok`], [`wait_ready`]).

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::build::{dir_size, normalize_tree, BuildOptions};
use super::elf;
use super::error::ImagesError;

/// Bump when the layout or the build logic changes.
pub const ZOOKEEPER_FORMAT_VERSION: u32 = 1;

/// What the build is called in error messages.
const WHAT: &str = "ZooKeeper";

/// Modules of the small JRE (enough for `ZooKeeperServerMain` 3.8).
pub const JRE_MODULES: &[&str] = &[
    "java.base",
    "java.management",
    "java.naming",
    "java.security.jgss",
    "java.security.sasl",
    "jdk.management",
    "jdk.unsupported",
];

/// The jars of the server: file in `/usr/share/java`, Debian package.
pub const JARS: &[(&str, &str)] = &[
    ("zookeeper.jar", "libzookeeper-java"),
    ("zookeeper-jute.jar", "libzookeeper-java"),
    ("metrics-core.jar", "libdropwizard-metrics-java"),
    ("snappy-java.jar", "libsnappy-java"),
    ("slf4j-api.jar", "libslf4j-java"),
    ("slf4j-simple.jar", "libslf4j-java"),
];

/// Debian packages whose `copyright` files are kept besides the jars' ones
/// (the JRE and the copied C/C++ runtime).
const OTHER_LICENSED_PACKAGES: &[&str] = &[
    "openjdk-17-jre-headless",
    "libc6",
    "libstdc++6",
    "libgcc-s1",
    "zlib1g",
];

/// What the build machine needs: `apt-get install -y ...` (`zookeeper` pulls
/// the jars' packages; the JDK gives `jlink` and `jar`).
pub const APT_PACKAGES: &[&str] = &["zookeeper", "openjdk-17-jdk-headless"];

/// ZooKeeper's client port.
pub const CLIENT_PORT: u16 = 2181;
/// Where everything lives inside the node.
pub const INSTALL_DIR: &str = "/opt/zookeeper";
/// The server's data directory inside the node (snapshots, transaction log).
pub const DATA_DIR: &str = "/var/lib/zookeeper";

/// Where the multiarch libraries of the closure go.
const SYSTEM_LIB_DIR: &str = "lib/x86_64-linux-gnu";

/// JVM flags: small heap, serial GC, no `hsperfdata` files.
const JVM_FLAGS: &[&str] = &[
    "-Xms16m",
    "-Xmx256m",
    "-XX:+UseSerialGC",
    "-XX:-UsePerfData",
    "-XX:TieredStopAtLevel=1",
    "-Djava.io.tmpdir=/tmp",
    "-Dzookeeper.admin.enableServer=false",
    "-Dorg.slf4j.simpleLogger.showDateTime=true",
];

/// `zoo.cfg` of a standalone server, tuned for fast session expiry: with
/// `tickTime=250` and `minSessionTimeout=500` a Mesos `--zk_session_timeout`
/// of 2 s is honoured (the server's default minimum is 2 x tickTime = 4 s).
pub fn zoo_cfg() -> String {
    format!(
        "# Written by upgrade-harness (src/images/zookeeper.rs)\n\
         tickTime=250\n\
         minSessionTimeout=500\n\
         maxSessionTimeout=60000\n\
         initLimit=20\n\
         syncLimit=10\n\
         dataDir={DATA_DIR}\n\
         clientPort={CLIENT_PORT}\n\
         clientPortAddress=0.0.0.0\n\
         maxClientCnxns=0\n\
         admin.enableServer=false\n\
         4lw.commands.whitelist=*\n"
    )
}

/// The server's command line inside the node.
pub fn server_argv() -> Vec<String> {
    let mut argv = vec![format!("{INSTALL_DIR}/jre/bin/java")];
    argv.extend(JVM_FLAGS.iter().map(|s| s.to_string()));
    argv.push("-cp".into());
    argv.push(
        JARS.iter()
            .map(|(jar, _)| format!("{INSTALL_DIR}/lib/{jar}"))
            .collect::<Vec<_>>()
            .join(":"),
    );
    argv.push("org.apache.zookeeper.server.ZooKeeperServerMain".into());
    argv.push(format!("{INSTALL_DIR}/conf/zoo.cfg"));
    argv
}

/// Where the build finds its inputs.
#[derive(Debug, Clone)]
pub struct ZooKeeperInputs {
    /// Debian's jar directory.
    pub java_dir: PathBuf,
    /// `jlink` (JDK 17).
    pub jlink: String,
    /// `jar` (JDK 17).
    pub jar: String,
    /// Debian's package documentation (`<doc_dir>/<package>/copyright`).
    pub doc_dir: PathBuf,
}

impl Default for ZooKeeperInputs {
    fn default() -> Self {
        ZooKeeperInputs {
            java_dir: PathBuf::from("/usr/share/java"),
            jlink: "jlink".into(),
            jar: "jar".into(),
            doc_dir: PathBuf::from("/usr/share/doc"),
        }
    }
}

/// A finished ZooKeeper build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZooKeeperBuild {
    /// `<cache>/zookeeper-<hash16>`: holds `rootfs/` and `build.json`.
    pub dir: PathBuf,
    /// The directory to merge into an image root.
    pub rootfs: PathBuf,
    /// SHA-256 of the inputs.
    pub hash: String,
    /// True when the cache already had it.
    pub reused: bool,
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ImagesError {
    ImagesError::io(action, path.to_path_buf())
}

/// Runs a tool (see [`super::build::run_tool`]); its stdout and stderr, which `jar` and
/// `jlink` both use.
fn tool(cmd: &mut Command, package: &str) -> Result<String, ImagesError> {
    let out = super::build::run_tool(WHAT, cmd, package)?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Ok(text)
}

fn jar_path(inputs: &ZooKeeperInputs, jar: &str, package: &str) -> Result<PathBuf, ImagesError> {
    let path = inputs.java_dir.join(jar);
    if !path.is_file() {
        return Err(ImagesError::LibraryMissing {
            version: WHAT.into(),
            file: jar.into(),
            dir: inputs.java_dir.clone(),
            package: format!("zookeeper {package}"),
        });
    }
    Ok(path)
}

/// The content hash of the build's inputs.
fn input_hash(inputs: &ZooKeeperInputs) -> Result<String, ImagesError> {
    let jdk = tool(
        Command::new(&inputs.jlink).arg("--version"),
        "openjdk-17-jdk-headless",
    )?;
    let mut h = Sha256::new();
    h.update(format!("zookeeper format {ZOOKEEPER_FORMAT_VERSION}\n"));
    h.update(format!("jlink {}\n", jdk.trim()));
    h.update(format!("modules {}\n", JRE_MODULES.join(",")));
    h.update(format!("argv {}\n", server_argv().join(" ")));
    h.update(zoo_cfg());
    for (jar, package) in JARS {
        let path = jar_path(inputs, jar, package)?;
        let bytes = fs::read(&path).map_err(io("reading", &path))?;
        h.update(format!(
            "jar {jar} {}\n",
            hex::encode(Sha256::digest(&bytes))
        ));
    }
    Ok(hex::encode(h.finalize()))
}

/// Builds (or reuses) the ZooKeeper root filesystem in the cache of `opts`.
pub fn build_zookeeper(opts: &BuildOptions) -> Result<ZooKeeperBuild, ImagesError> {
    build_zookeeper_from(opts, &ZooKeeperInputs::default())
}

/// [`build_zookeeper`] with explicit input locations.
pub fn build_zookeeper_from(
    opts: &BuildOptions,
    inputs: &ZooKeeperInputs,
) -> Result<ZooKeeperBuild, ImagesError> {
    let hash = input_hash(inputs)?;
    let dir = opts.cache_dir.join(format!("zookeeper-{}", &hash[..16]));
    let result = |reused| ZooKeeperBuild {
        dir: dir.clone(),
        rootfs: dir.join("rootfs"),
        hash: hash.clone(),
        reused,
    };
    if dir.join("build.json").is_file() {
        return Ok(result(true));
    }
    fs::create_dir_all(&opts.cache_dir).map_err(io("creating", &opts.cache_dir))?;
    let tmp = opts.cache_dir.join(format!(
        ".tmp-zookeeper-{}-{}",
        &hash[..16],
        std::process::id()
    ));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(io("removing", &tmp))?;
    }
    let started = Instant::now();
    if let Err(e) = assemble(inputs, &tmp, &hash, started) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if let Err(e) = fs::rename(&tmp, &dir) {
        let _ = fs::remove_dir_all(&tmp);
        if !dir.join("build.json").is_file() {
            return Err(io("renaming", &tmp)(e));
        }
    }
    Ok(result(false))
}

fn copy(from: &Path, to: &Path) -> Result<(), ImagesError> {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent).map_err(io("creating", parent))?;
    }
    fs::copy(from, to).map_err(io("copying", from))?;
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), ImagesError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(io("creating", parent))?;
    }
    fs::write(path, text).map_err(io("writing", path))
}

/// The manifest without its `Class-Path` attribute (and its continuation lines).
pub(crate) fn manifest_without_class_path(manifest: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in manifest.lines() {
        if line.starts_with(' ') {
            if !skipping {
                out.push_str(line);
                out.push('\n');
            }
            continue;
        }
        skipping = line.starts_with("Class-Path:");
        if !skipping && !line.is_empty() {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn assemble(
    inputs: &ZooKeeperInputs,
    tmp: &Path,
    hash: &str,
    started: Instant,
) -> Result<(), ImagesError> {
    let rootfs = tmp.join("rootfs");
    let work = tmp.join("work");
    let install = rootfs.join(INSTALL_DIR.trim_start_matches('/'));
    fs::create_dir_all(&work).map_err(io("creating", &work))?;
    fs::create_dir_all(&install).map_err(io("creating", &install))?;

    // 1. The JRE.
    let jre = install.join("jre");
    tool(
        Command::new(&inputs.jlink)
            .arg("--add-modules")
            .arg(JRE_MODULES.join(","))
            .args([
                "--strip-debug",
                "--no-header-files",
                "--no-man-pages",
                "--compress=2",
                "--output",
            ])
            .arg(&jre),
        "openjdk-17-jdk-headless",
    )?;

    // 2. The jars; zookeeper.jar without its Class-Path.
    let lib = install.join("lib");
    for (jar, package) in JARS {
        let from = jar_path(inputs, jar, package)?;
        if *jar != "zookeeper.jar" {
            copy(&from, &lib.join(jar))?;
            continue;
        }
        let unpacked = work.join("zookeeper-jar");
        fs::create_dir_all(&unpacked).map_err(io("creating", &unpacked))?;
        let from_abs = fs::canonicalize(&from).map_err(io("resolving", &from))?;
        tool(
            Command::new(&inputs.jar)
                .arg("xf")
                .arg(&from_abs)
                .current_dir(&unpacked),
            "openjdk-17-jdk-headless",
        )?;
        let manifest_path = unpacked.join("META-INF/MANIFEST.MF");
        let manifest = fs::read_to_string(&manifest_path).map_err(io("reading", &manifest_path))?;
        fs::remove_file(&manifest_path).map_err(io("removing", &manifest_path))?;
        let new_manifest = work.join("zookeeper-MANIFEST.MF");
        write(&new_manifest, &manifest_without_class_path(&manifest))?;
        fs::create_dir_all(&lib).map_err(io("creating", &lib))?;
        tool(
            Command::new(&inputs.jar)
                .args(["--create", "--file"])
                .arg(lib.join(jar))
                .arg("--manifest")
                .arg(&new_manifest)
                .args(["--date", "1980-01-01T00:00:02Z", "-C"])
                .arg(&unpacked)
                .arg("."),
            "openjdk-17-jdk-headless",
        )?;
        fs::remove_dir_all(&unpacked).map_err(io("removing", &unpacked))?;
    }

    // 3. Licences of everything copied from Debian.
    let licenses = install.join("licenses");
    let mut packages: Vec<&str> = JARS.iter().map(|(_, p)| *p).collect();
    packages.extend(OTHER_LICENSED_PACKAGES);
    packages.sort();
    packages.dedup();
    let mut kept = Vec::new();
    for package in &packages {
        let from = inputs.doc_dir.join(package).join("copyright");
        if from.is_file() {
            copy(&from, &licenses.join(format!("{package}.copyright")))?;
            kept.push(package.to_string());
        } else if JARS.iter().any(|(_, p)| p == package) {
            return Err(ImagesError::LibraryMissing {
                version: WHAT.into(),
                file: format!("{package}/copyright"),
                dir: inputs.doc_dir.clone(),
                package: package.to_string(),
            });
        }
    }

    // 4. zoo.cfg.
    write(&install.join("conf/zoo.cfg"), &zoo_cfg())?;

    // 5. The closure of the JRE's native code.
    let mut objects = vec![jre.join("bin/java"), jre.join("lib/server/libjvm.so")];
    for entry in fs::read_dir(jre.join("lib")).map_err(io("listing", &jre))? {
        let path = entry.map_err(io("listing", &jre))?.path();
        if path.extension().is_some_and(|e| e == "so") {
            objects.push(path);
        }
    }
    objects.sort();
    let mut closure = Vec::new();
    for object in &objects {
        let ldd = tool(Command::new("ldd").arg(object).env_clear(), "libc-bin")?;
        for entry in elf::parse_ldd(&ldd) {
            let Some(path) = entry.path else {
                // libjvm.so and friends are found through the JRE's own RPATH at run time.
                if jre_has(&jre, &entry.name) {
                    continue;
                }
                return Err(ImagesError::Tool {
                    version: WHAT.into(),
                    command: format!("ldd {}", object.display()),
                    stderr_tail: format!("{} not found", entry.name),
                });
            };
            if Path::new(&path).starts_with(&jre) {
                continue;
            }
            let target = if entry.name.starts_with('/') {
                rootfs.join(entry.name.trim_start_matches('/'))
            } else {
                rootfs.join(SYSTEM_LIB_DIR).join(&entry.name)
            };
            let shown = target
                .strip_prefix(&rootfs)
                .unwrap_or(&target)
                .display()
                .to_string();
            if !closure.contains(&shown) {
                copy(Path::new(&path), &target)?;
                closure.push(shown);
            }
        }
    }

    // 6. The rest of a root.
    let etc = rootfs.join("etc");
    write(
        &etc.join("passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
    )?;
    write(&etc.join("group"), "root:x:0:\nnogroup:x:65534:\n")?;
    write(
        &etc.join("hosts"),
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
    )?;
    write(
        &etc.join("nsswitch.conf"),
        "passwd: files\ngroup: files\nhosts: files dns\n",
    )?;
    for d in ["tmp", "root", DATA_DIR.trim_start_matches('/')] {
        let p = rootfs.join(d);
        fs::create_dir_all(&p).map_err(io("creating", &p))?;
    }
    normalize_tree(&rootfs, &rootfs)?;
    fs::remove_dir_all(&work).map_err(io("removing", &work))?;

    let metadata = serde_json::json!({
        "what": "zookeeper",
        "format": ZOOKEEPER_FORMAT_VERSION,
        "hash": hash,
        "jre_modules": JRE_MODULES,
        "jars": JARS.iter().map(|(j, p)| serde_json::json!({"jar": j, "package": p})).collect::<Vec<_>>(),
        "licenses": kept,
        "system_closure": closure,
        "argv": server_argv(),
        "zoo_cfg": zoo_cfg(),
        "rootfs_bytes": dir_size(&rootfs),
        "build_seconds": started.elapsed().as_secs_f64(),
    });
    write(
        &tmp.join("build.json"),
        &serde_json::to_string_pretty(&metadata).unwrap_or_default(),
    )
}

fn jre_has(jre: &Path, name: &str) -> bool {
    [
        jre.join("lib").join(name),
        jre.join("lib/server").join(name),
    ]
    .iter()
    .any(|p| p.is_file())
}

/// Asks the server at `addr` `ruok`; `Ok` when it answers `imok`.
pub async fn ruok(addr: SocketAddr, timeout: Duration) -> Result<(), String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connecting to {addr}: {e}"))?;
        stream
            .write_all(b"ruok")
            .await
            .map_err(|e| format!("writing ruok to {addr}: {e}"))?;
        let mut answer = Vec::new();
        stream
            .read_to_end(&mut answer)
            .await
            .map_err(|e| format!("reading from {addr}: {e}"))?;
        if answer == b"imok" {
            Ok(())
        } else {
            Err(format!(
                "{addr} answered {:?} to ruok",
                String::from_utf8_lossy(&answer)
            ))
        }
    };
    tokio::time::timeout(timeout, attempt)
        .await
        .map_err(|_| format!("no answer to ruok from {addr} within {timeout:?}"))?
}

/// Polls [`ruok`] every 50 ms until `imok`; returns how long it took, or the
/// last failure after `within`.
pub async fn wait_ready(addr: SocketAddr, within: Duration) -> Result<Duration, String> {
    let started = Instant::now();
    loop {
        match ruok(addr, Duration::from_secs(1)).await {
            Ok(()) => return Ok(started.elapsed()),
            Err(e) if started.elapsed() >= within => {
                return Err(format!(
                    "ZooKeeper at {addr} not ready after {within:?}: {e}"
                ))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_path_is_dropped_with_its_continuations() {
        let m = "Manifest-Version: 1.0\nClass-Path: /usr/share/java/a.jar /usr/share/j\n ava/b.jar\nCreated-By: Maven\nImplementation-Title: x\n";
        assert_eq!(
            manifest_without_class_path(m),
            "Manifest-Version: 1.0\nCreated-By: Maven\nImplementation-Title: x\n"
        );
    }

    #[test]
    fn config_is_tuned_for_fast_session_expiry() {
        let cfg = zoo_cfg();
        for line in [
            "tickTime=250",
            "minSessionTimeout=500",
            "admin.enableServer=false",
            "4lw.commands.whitelist=*",
            "clientPortAddress=0.0.0.0",
            "clientPort=2181",
        ] {
            assert!(cfg.lines().any(|l| l == line), "{line} in\n{cfg}");
        }
    }

    #[test]
    fn argv_names_every_jar() {
        let argv = server_argv();
        let cp = &argv[argv.iter().position(|a| a == "-cp").unwrap() + 1];
        for (jar, _) in JARS {
            assert!(cp.contains(jar), "{jar}");
        }
        assert_eq!(argv.last().unwrap(), "/opt/zookeeper/conf/zoo.cfg");
    }

    #[tokio::test]
    async fn ruok_reads_imok() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4];
            s.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"ruok");
            s.write_all(b"imok").await.unwrap();
        });
        ruok(addr, Duration::from_secs(2)).await.unwrap();
        server.await.unwrap();
    }
}
