//! Images built from directories, content-addressed.
//!
//! Nothing can be pulled, so every image is `FROM scratch` plus a root
//! filesystem merged from local directories. The context goes through the
//! build API as a tar stream, so a remote engine works the same as a local
//! one. The tag is a hash of every input: an unchanged input is found by
//! `inspect` and never rebuilt.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use bollard::query_parameters::{BuildImageOptions, ListImagesOptions, RemoveImageOptions};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use super::engine::Engine;
use super::error::{api, Error, Result};
use super::stream::{settle, spawn_tar, tar_body, TarChunks};

/// Label carrying the full input hash on every image built here.
pub const IMAGE_HASH_LABEL: &str = "upgrade-harness.image-hash";

/// Serializes builds within this process (builds are rare and the engine
/// builds one at a time well enough on small machines anyway).
static BUILD_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// What an image is made of.
#[derive(Clone, Debug, Default)]
pub struct ImageSpec {
    /// Repository part of the reference, e.g. `upgrade-harness/mesos-1.11.0`.
    /// The tag is always the content hash.
    pub repository: String,
    /// Directories merged into `/`, in order; a later one wins on a path.
    pub roots: Vec<PathBuf>,
    /// Single files placed after the roots (e.g. a binary built elsewhere).
    pub files: Vec<ImageFile>,
    /// Symlinks placed after the files: one file under several names without
    /// copying it (e.g. a multi-call binary).
    pub links: Vec<ImageLink>,
    /// Image labels (the hash label is added).
    pub labels: BTreeMap<String, String>,
    /// `ENTRYPOINT` in exec form; empty for none.
    pub entrypoint: Vec<String>,
    /// `CMD` in exec form; empty for none.
    pub cmd: Vec<String>,
    /// `ENV` entries, `KEY=VALUE`.
    pub env: Vec<String>,
}

/// One file placed into the image.
#[derive(Clone, Debug)]
pub struct ImageFile {
    /// File on the harness machine.
    pub source: PathBuf,
    /// Absolute path inside the image, e.g. `/node-init`.
    pub dest: String,
    /// Permission bits.
    pub mode: u32,
}

/// One symlink placed into the image.
#[derive(Clone, Debug)]
pub struct ImageLink {
    /// Absolute path of the link inside the image.
    pub dest: String,
    /// What it points to, as stored in the link (absolute or relative to its directory).
    pub target: String,
}

/// The outcome of [`build_image`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuiltImage {
    /// `repository:hash16`, usable in `create_node`.
    pub reference: String,
    /// Full sha256 of the inputs (also in [`IMAGE_HASH_LABEL`]).
    pub hash: String,
    /// False when an image with this hash already existed.
    pub built: bool,
}

/// One path of the merged root filesystem.
#[derive(Clone, Debug)]
enum Entry {
    Dir { mode: u32 },
    File { source: PathBuf, mode: u32 },
    Symlink { target: PathBuf },
}

/// Builds (or finds) the image for `spec` on `engine`.
pub async fn build_image(engine: &Engine, spec: &ImageSpec) -> Result<BuiltImage> {
    // Hashing reads every input (a node image holding all 14 builds is ~1 GB): a process
    // that asks for the same spec again (`compat` runs hundreds of cells from one image)
    // reuses the hash. Valid because the inputs are content-addressed cache entries (a build
    // directory, a stripped helper named by its hash) that nothing rewrites in place.
    let memo_key = format!("{spec:?}");
    let remembered = hash_memo()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&memo_key)
        .cloned();
    let hash = match remembered {
        Some(hash) => hash,
        None => {
            let spec_owned = spec.clone();
            let hash = tokio::task::spawn_blocking(move || -> Result<_> {
                let entries = merge_inputs(&spec_owned)?;
                input_hash(&spec_owned, &entries)
            })
            .await
            .expect("hashing image inputs panicked")?;
            hash_memo()
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(memo_key, hash.clone());
            hash
        }
    };
    let reference = format!("{}:{}", spec.repository, &hash[..16]);
    // Concurrent builds of one image in this process would leave a dangling
    // duplicate: the second caller waits and then finds the first's result.
    let _guard = BUILD_LOCK.lock().await;
    if image_has_hash(engine, &reference, &hash).await? {
        return Ok(BuiltImage {
            reference,
            hash,
            built: false,
        });
    }
    let spec_owned = spec.clone();
    let entries = tokio::task::spawn_blocking(move || merge_inputs(&spec_owned))
        .await
        .expect("listing image inputs panicked")?;
    // The context is streamed while it is written: a few hundred MB of
    // Mesos builds never sit in memory at once.
    let dockerfile = dockerfile(spec);
    let (chunks, writer) = spawn_tar(move |w| context_tar(w, &dockerfile, &entries));
    let built = run_build(engine, spec, &reference, &hash, chunks).await;
    settle(writer.await.expect("writing build context panicked"), built)?;
    Ok(BuiltImage {
        reference,
        hash,
        built: true,
    })
}

/// Input hashes of the image specs this process has hashed, by spec.
fn hash_memo() -> &'static std::sync::Mutex<std::collections::HashMap<String, String>> {
    static MEMO: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<String, String>>> =
        std::sync::OnceLock::new();
    MEMO.get_or_init(Default::default)
}

/// Removes the images of `repository` built here (they carry
/// [`IMAGE_HASH_LABEL`]) other than `keep`, e.g. older builds of an input
/// that changed. Images still used by a container stay. Returns the
/// removed references.
pub async fn remove_stale_images(
    engine: &Engine,
    repository: &str,
    keep: &str,
) -> Result<Vec<String>> {
    remove_images_where(engine, repository, |_, tag| tag != keep).await
}

/// Removes the images of `repository` built here (they carry [`IMAGE_HASH_LABEL`]) that
/// were created more than `max_age` ago and that no container uses: node images follow the
/// harness binary and the versions of a scenario, so every change of either leaves a new
/// ~200 MB image behind (a full test run made 95 of them, 18 GB, and filled the disk). A
/// removed image is rebuilt in seconds from the cached builds. Younger images stay, so that
/// runs in flight keep the image they just built. Returns the removed references.
pub async fn remove_images_older_than(
    engine: &Engine,
    repository: &str,
    max_age: std::time::Duration,
) -> Result<Vec<String>> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    remove_images_where(engine, repository, |created, _| {
        older_than(created, now, max_age)
    })
    .await
}

/// Removes the tags of `repository`'s images built here for which `remove(created, tag)`
/// holds. An image a container uses (409), or one already gone (404), stays or went: not
/// an error. Returns the removed references.
async fn remove_images_where(
    engine: &Engine,
    repository: &str,
    remove: impl Fn(i64, &str) -> bool,
) -> Result<Vec<String>> {
    let filters = HashMap::from([
        ("reference".to_string(), vec![repository.to_string()]),
        ("label".to_string(), vec![IMAGE_HASH_LABEL.to_string()]),
    ]);
    let images = engine
        .client()
        .list_images(Some(ListImagesOptions {
            filters: Some(filters),
            ..Default::default()
        }))
        .await
        .map_err(api(format!("list images of {repository}")))?;
    let mut removed = Vec::new();
    for image in images {
        for tag in image.repo_tags {
            if !tag.starts_with(&format!("{repository}:")) || !remove(image.created, &tag) {
                continue;
            }
            match engine
                .client()
                .remove_image(&tag, None::<RemoveImageOptions>, None)
                .await
            {
                Ok(_) => removed.push(tag),
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 409 | 404,
                    ..
                }) => {}
                Err(e) => return Err(api(format!("remove image {tag}"))(e)),
            }
        }
    }
    Ok(removed)
}

/// Whether something created at `created` (Unix seconds) is more than `max_age` old at `now`.
fn older_than(created: i64, now: i64, max_age: std::time::Duration) -> bool {
    now.saturating_sub(created) > max_age.as_secs() as i64
}

/// True when `reference` exists and carries exactly this input hash.
async fn image_has_hash(engine: &Engine, reference: &str, hash: &str) -> Result<bool> {
    match engine.client().inspect_image(reference).await {
        Ok(image) => Ok(image
            .config
            .and_then(|c| c.labels)
            .and_then(|l| l.get(IMAGE_HASH_LABEL).cloned())
            .is_some_and(|h| h == hash)),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(false),
        Err(e) => Err(api(format!("inspect image {reference}"))(e)),
    }
}

/// Sends the context and follows the build stream; errors carry the log tail.
async fn run_build(
    engine: &Engine,
    spec: &ImageSpec,
    reference: &str,
    hash: &str,
    context: TarChunks,
) -> Result<()> {
    let mut labels: HashMap<String, String> = spec.labels.clone().into_iter().collect();
    labels.insert(IMAGE_HASH_LABEL.to_string(), hash.to_string());
    let options = BuildImageOptions {
        t: Some(reference.to_string()),
        rm: true,
        forcerm: true,
        labels: Some(labels),
        ..Default::default()
    };
    let mut log = String::new();
    let mut stream = engine
        .client()
        .build_image(options, None, Some(tar_body!(context)));
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| Error::Build {
            reference: reference.to_string(),
            message: super::engine::error_chain(&e),
            log: tail(&log),
        })?;
        if let Some(text) = info.stream.as_deref().or(info.status.as_deref()) {
            log.push_str(text);
        }
        if let Some(detail) = info.error_detail {
            return Err(Error::Build {
                reference: reference.to_string(),
                message: detail.message.unwrap_or_else(|| "unknown error".into()),
                log: tail(&log),
            });
        }
    }
    if !image_has_hash(engine, reference, hash).await? {
        return Err(Error::Build {
            reference: reference.to_string(),
            message: "the engine reported no error but the image is missing".into(),
            log: tail(&log),
        });
    }
    Ok(())
}

/// The last lines of a build log: enough to see the failing step.
fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

fn dockerfile(spec: &ImageSpec) -> String {
    let mut out = String::from("FROM scratch\nCOPY rootfs/ /\n");
    for kv in &spec.env {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        out.push_str(&format!("ENV {k}={}\n", json_string(v)));
    }
    if !spec.entrypoint.is_empty() {
        out.push_str(&format!("ENTRYPOINT {}\n", json_array(&spec.entrypoint)));
    }
    if !spec.cmd.is_empty() {
        out.push_str(&format!("CMD {}\n", json_array(&spec.cmd)));
    }
    out
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialize")
}

fn json_array(items: &[String]) -> String {
    serde_json::to_string(items).expect("strings serialize")
}

/// Merges the roots and single files into one path -> entry map.
fn merge_inputs(spec: &ImageSpec) -> Result<BTreeMap<String, Entry>> {
    let mut entries = BTreeMap::new();
    for root in &spec.roots {
        walk(root, root, &mut entries)?;
    }
    for file in &spec.files {
        let dest = file.dest.trim_start_matches('/').to_string();
        if dest.is_empty() {
            return Err(Error::Invalid(format!(
                "place {}: empty destination",
                file.source.display()
            )));
        }
        add_parents(&dest, &mut entries);
        insert(
            &mut entries,
            dest,
            Entry::File {
                source: file.source.clone(),
                mode: file.mode,
            },
            &file.source,
        )?;
    }
    for link in &spec.links {
        let dest = link.dest.trim_start_matches('/').to_string();
        if dest.is_empty() {
            return Err(Error::Invalid(format!(
                "link to {}: empty destination",
                link.target
            )));
        }
        add_parents(&dest, &mut entries);
        insert(
            &mut entries,
            dest,
            Entry::Symlink {
                target: PathBuf::from(&link.target),
            },
            Path::new(&link.dest),
        )?;
    }
    Ok(entries)
}

/// Files placed below missing directories get 0755 parents.
fn add_parents(dest: &str, entries: &mut BTreeMap<String, Entry>) {
    let mut path = String::new();
    let parts: Vec<&str> = dest.split('/').collect();
    for part in &parts[..parts.len() - 1] {
        if !path.is_empty() {
            path.push('/');
        }
        path.push_str(part);
        entries
            .entry(path.clone())
            .or_insert(Entry::Dir { mode: 0o755 });
    }
}

fn insert(
    entries: &mut BTreeMap<String, Entry>,
    path: String,
    entry: Entry,
    input: &Path,
) -> Result<()> {
    let was_dir = matches!(entries.get(&path), Some(Entry::Dir { .. }));
    let is_dir = matches!(entry, Entry::Dir { .. });
    if entries.contains_key(&path) && was_dir != is_dir {
        return Err(Error::LayerConflict {
            path,
            input: input.to_path_buf(),
        });
    }
    entries.insert(path, entry);
    Ok(())
}

/// Walks `dir` without following symlinks, recording paths relative to `root`.
fn walk(root: &Path, dir: &Path, entries: &mut BTreeMap<String, Entry>) -> Result<()> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    let mut children: Vec<_> = fs::read_dir(dir)
        .map_err(io(dir))?
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(io(dir))?;
    children.sort_by_key(|c| c.file_name());
    for child in children {
        let path = child.path();
        let meta = fs::symlink_metadata(&path).map_err(io(&path))?;
        let rel = path
            .strip_prefix(root)
            .expect("walked below root")
            .to_string_lossy()
            .into_owned();
        let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o7777;
        let ft = meta.file_type();
        if ft.is_symlink() {
            let target = fs::read_link(&path).map_err(io(&path))?;
            insert(entries, rel, Entry::Symlink { target }, root)?;
        } else if ft.is_dir() {
            insert(entries, rel, Entry::Dir { mode }, root)?;
            walk(root, &path, entries)?;
        } else if ft.is_file() {
            insert(entries, rel, Entry::File { source: path, mode }, root)?;
        } else {
            return Err(Error::Invalid(format!(
                "add {} to an image: only files, directories and symlinks are supported",
                path.display()
            )));
        }
    }
    Ok(())
}

/// sha256 over the Dockerfile, labels and every entry (path, kind, mode, content).
fn input_hash(spec: &ImageSpec, entries: &BTreeMap<String, Entry>) -> Result<String> {
    let mut h = Sha256::new();
    h.update(b"upgrade-harness image v1\0");
    h.update(dockerfile(spec).as_bytes());
    for (k, v) in &spec.labels {
        h.update(format!("label\0{k}\0{v}\0").as_bytes());
    }
    for (path, entry) in entries {
        h.update(path.as_bytes());
        h.update(b"\0");
        match entry {
            Entry::Dir { mode } => h.update(format!("dir {mode:o}\0").as_bytes()),
            Entry::Symlink { target } => {
                h.update(format!("symlink {}\0", target.display()).as_bytes())
            }
            Entry::File { source, mode } => {
                h.update(format!("file {mode:o}\0").as_bytes());
                hash_file(&mut h, source)?;
            }
        }
    }
    Ok(hex::encode(h.finalize()))
}

fn hash_file(h: &mut Sha256, path: &Path) -> Result<()> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = fs::File::open(path).map_err(io)?;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            return Ok(());
        }
        h.update(&buf[..n]);
    }
}

/// The build context: `Dockerfile` plus `rootfs/`, deterministic headers
/// (mtime 0, root-owned) so the engine's own cache is stable too.
fn context_tar<W: Write>(out: W, dockerfile: &str, entries: &BTreeMap<String, Entry>) -> Result<W> {
    let mut tar = tar::Builder::new(out);
    let ctx_io = |source| Error::Io {
        path: PathBuf::from("<build context>"),
        source,
    };
    append_bytes(&mut tar, "Dockerfile", dockerfile.as_bytes(), 0o644).map_err(ctx_io)?;
    let mut root = header(tar::EntryType::Directory, 0o755);
    tar.append_data(&mut root, "rootfs/", std::io::empty())
        .map_err(ctx_io)?;
    append_entries(&mut tar, "rootfs/", entries)?;
    let mut out = tar.into_inner().map_err(ctx_io)?;
    out.flush().map_err(ctx_io)?;
    Ok(out)
}

/// The tree below `root` (not following symlinks), as a tar stream with
/// paths relative to `root`: for copying into a node.
pub(super) fn tree_tar<W: Write>(out: W, root: &Path) -> Result<W> {
    let mut entries = BTreeMap::new();
    walk(root, root, &mut entries)?;
    let mut tar = tar::Builder::new(out);
    append_entries(&mut tar, "", &entries)?;
    tar.into_inner().map_err(|source| Error::Io {
        path: root.to_path_buf(),
        source,
    })
}

/// A tar stream holding the file `source` under its own name, mode kept.
pub(super) fn single_file_tar<W: Write>(out: W, source: &Path) -> Result<W> {
    let io = |e| Error::Io {
        path: source.to_path_buf(),
        source: e,
    };
    let name = source
        .file_name()
        .ok_or_else(|| Error::Invalid(format!("copy {}: no file name", source.display())))?
        .to_string_lossy()
        .into_owned();
    let file = fs::File::open(source).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o7777;
    let mut tar = tar::Builder::new(out);
    let mut hd = header(tar::EntryType::Regular, mode);
    hd.set_size(meta.len());
    tar.append_data(&mut hd, &name, file).map_err(io)?;
    tar.into_inner().map_err(io)
}

fn append_entries<W: Write>(
    tar: &mut tar::Builder<W>,
    prefix: &str,
    entries: &BTreeMap<String, Entry>,
) -> Result<()> {
    let ctx_io = |source| Error::Io {
        path: PathBuf::from("<tar stream>"),
        source,
    };
    for (path, entry) in entries {
        let name = format!("{prefix}{path}");
        match entry {
            Entry::Dir { mode } => {
                let mut hd = header(tar::EntryType::Directory, *mode);
                tar.append_data(&mut hd, format!("{name}/"), std::io::empty())
                    .map_err(ctx_io)?;
            }
            Entry::Symlink { target } => {
                let mut hd = header(tar::EntryType::Symlink, 0o777);
                tar.append_link(&mut hd, &name, target).map_err(ctx_io)?;
            }
            Entry::File { source, mode } => {
                let io = |source_err| Error::Io {
                    path: source.clone(),
                    source: source_err,
                };
                let file = fs::File::open(source).map_err(io)?;
                let len = file.metadata().map_err(io)?.len();
                let mut hd = header(tar::EntryType::Regular, *mode);
                hd.set_size(len);
                tar.append_data(&mut hd, &name, file).map_err(io)?;
            }
        }
    }
    Ok(())
}

fn header(kind: tar::EntryType, mode: u32) -> tar::Header {
    let mut hd = tar::Header::new_gnu();
    hd.set_entry_type(kind);
    hd.set_mode(mode);
    hd.set_uid(0);
    hd.set_gid(0);
    hd.set_mtime(0);
    hd.set_size(0);
    hd
}

fn append_bytes<W: Write>(
    tar: &mut tar::Builder<W>,
    name: &str,
    data: &[u8],
    mode: u32,
) -> std::io::Result<()> {
    let mut hd = header(tar::EntryType::Regular, mode);
    hd.set_size(data.len() as u64);
    tar.append_data(&mut hd, name, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_images_past_their_age_are_stale() {
        let hour = std::time::Duration::from_secs(3600);
        assert!(older_than(0, 3601, hour));
        assert!(!older_than(0, 3600, hour));
        assert!(
            !older_than(100, 50, hour),
            "a clock behind the image is not age"
        );
    }

    fn spec(roots: Vec<PathBuf>) -> ImageSpec {
        ImageSpec {
            repository: "t".into(),
            roots,
            entrypoint: vec!["/bin/x".into()],
            ..Default::default()
        }
    }

    #[test]
    fn later_root_wins_and_hash_follows_content() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        fs::create_dir(a.path().join("etc")).unwrap();
        fs::write(a.path().join("etc/x"), "one").unwrap();
        fs::create_dir(b.path().join("etc")).unwrap();
        fs::write(b.path().join("etc/x"), "two").unwrap();
        std::os::unix::fs::symlink("/run", b.path().join("run-link")).unwrap();
        let s = spec(vec![a.path().into(), b.path().into()]);
        let entries = merge_inputs(&s).unwrap();
        match &entries["etc/x"] {
            Entry::File { source, .. } => assert!(source.starts_with(b.path())),
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(entries["run-link"], Entry::Symlink { .. }));
        let h1 = input_hash(&s, &entries).unwrap();
        assert_eq!(h1, input_hash(&s, &merge_inputs(&s).unwrap()).unwrap());
        fs::write(b.path().join("etc/x"), "three").unwrap();
        assert_ne!(h1, input_hash(&s, &merge_inputs(&s).unwrap()).unwrap());
    }

    #[test]
    fn links_are_symlinks_in_the_context_and_in_the_hash() {
        let a = tempfile::tempdir().unwrap();
        fs::write(a.path().join("tool"), "multi-call").unwrap();
        let mut s = spec(vec![]);
        s.files = vec![ImageFile {
            source: a.path().join("tool"),
            dest: "/opt/t/tool".into(),
            mode: 0o755,
        }];
        s.links = vec![ImageLink {
            dest: "/opt/v1/helper".into(),
            target: "/opt/t/tool".into(),
        }];
        let entries = merge_inputs(&s).unwrap();
        assert!(matches!(entries["opt/v1"], Entry::Dir { mode: 0o755 }));
        let tar_bytes = context_tar(Vec::new(), "FROM scratch\n", &entries).unwrap();
        let mut archive = tar::Archive::new(tar_bytes.as_slice());
        let link = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap())
            .find(|e| e.path().unwrap().as_os_str() == "rootfs/opt/v1/helper")
            .expect("the link is in the context");
        assert_eq!(link.header().entry_type(), tar::EntryType::Symlink);
        assert_eq!(
            link.link_name().unwrap().unwrap().as_os_str(),
            "/opt/t/tool"
        );
        let h1 = input_hash(&s, &entries).unwrap();
        s.links[0].target = "/opt/t/other".into();
        assert_ne!(h1, input_hash(&s, &merge_inputs(&s).unwrap()).unwrap());
        s.links[0].dest = "/".into();
        let err = merge_inputs(&s).unwrap_err();
        assert!(err.to_string().contains("empty destination"), "{err}");
    }

    #[test]
    fn dir_replaced_by_file_is_a_conflict() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        fs::create_dir(a.path().join("opt")).unwrap();
        fs::write(b.path().join("opt"), "file").unwrap();
        let err = merge_inputs(&spec(vec![a.path().into(), b.path().into()])).unwrap_err();
        assert!(matches!(err, Error::LayerConflict { .. }), "{err}");
    }

    #[test]
    fn dockerfile_is_scratch_copy_entrypoint() {
        let mut s = spec(vec![]);
        s.cmd = vec!["init".into()];
        assert_eq!(
            dockerfile(&s),
            "FROM scratch\nCOPY rootfs/ /\nENTRYPOINT [\"/bin/x\"]\nCMD [\"init\"]\n"
        );
    }
}
