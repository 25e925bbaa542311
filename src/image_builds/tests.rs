use super::*;

#[test]
fn overrides_parse_and_replace_per_version() {
    let o = parse_overrides("1.7.3=a/b:1, c ; 1.11.0=d").unwrap();
    let v = |s: &str| s.parse::<Version>().unwrap();
    assert_eq!(o[&v("1.7.3")], ["a/b:1", "c"]);
    assert_eq!(o[&v("1.11.0")], ["d"]);
    for bad in ["1.7.3", "x=a", "1.7.3="] {
        assert!(parse_overrides(bad).is_err(), "{bad}");
    }
}

#[test]
fn the_first_name_in_order_wins() {
    let out = "found\tmesos-slave\t/usr/sbin/mesos-slave\t/usr/sbin/mesos-agent\n\
               found\tmesos-agent\t/usr/sbin/mesos-agent\t/usr/sbin/mesos-agent\n";
    let f = pick(out, &["mesos-agent", "mesos-slave"], "img").unwrap();
    assert_eq!(
        (f.name.as_str(), f.path.as_str()),
        ("mesos-agent", "/usr/sbin/mesos-agent")
    );
    let entry = "found\t/usr/local/sbin/mesos-master\t/usr/local/sbin/mesos-master\t/x\n";
    let f = pick(entry, &["mesos-master"], "img").unwrap();
    assert_eq!(f.name, "mesos-master");
    assert!(pick("", &["mesos-master"], "img").is_none());
}

#[test]
fn ldd_answers_keep_the_exit_status() {
    let (e, code) = ldd_answer(
        "\tlinux-vdso.so.1 (0x0)\n\tlibmesos.so => /usr/lib/libmesos.so (0x1)\n\t/lib64/ld-linux-x86-64.so.2 (0x2)\nexit 0\n",
    );
    assert_eq!(code, 0);
    assert_eq!(e.len(), 2);
    let (_, code) = ldd_answer("\tnot a dynamic executable\nexit 1\n");
    assert_eq!(code, 1);
}

#[test]
fn a_build_from_the_same_references_supersedes_the_older_one() {
    let cache = tempfile::tempdir().unwrap();
    let v: Version = "1.7.3".parse().unwrap();
    let write = |dir: &str, sources: &[&str]| {
        let d = cache.path().join("image-builds").join(dir);
        std::fs::create_dir_all(&d).unwrap();
        let json = serde_json::json!({ "sources": sources });
        std::fs::write(d.join("build.json"), json.to_string()).unwrap();
        d
    };
    let old = write("1.7.3-aaaaaaaaaaaaaaaa", &["r:1@sha256:old"]);
    let other_refs = write("1.7.3-bbbbbbbbbbbbbbbb", &["s:1@sha256:x"]);
    let other_version = write("1.8.0-cccccccccccccccc", &["r:1@sha256:old"]);
    supersede(
        cache.path(),
        v,
        &["r:1@sha256:new".to_string()],
        "dddddddddddddddd0000",
    );
    assert!(!old.exists());
    assert!(other_refs.exists() && other_version.exists());
}
