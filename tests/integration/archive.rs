//! Keys inside archives (issue 14 item 2): zip and its kin, tar, gzip
//! (tgz, npm packs), bzip2 and xz, nested to `--max-archive-depth`, in
//! directory scans and in git history. Every archive is built here.

use std::io::{Cursor, Write};

use serde_json::Value;

use crate::support::project::{Project, Run};

/// A GitHub classic token with a valid checksum (synthetic).
const GITHUB: &str = "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";

fn config() -> String {
    format!("github:\n  token: {GITHUB}\n")
}

fn zip(members: &[(&str, &[u8])]) -> Vec<u8> {
    zip_with(members, zip::CompressionMethod::Deflated)
}

fn zip_with(members: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, data) in members {
        w.start_file(*name, options).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn tar(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        b.append_data(&mut header, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn bzip2(data: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn xz(data: &[u8]) -> Vec<u8> {
    let mut w = lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::default()).unwrap();
    w.write_all(data).unwrap();
    w.finish().unwrap()
}

/// A Java class file holding the key as a string constant.
fn class_file() -> Vec<u8> {
    let mut class = vec![0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52, 0, 12, 1, 0, 40];
    class.extend_from_slice(GITHUB.as_bytes());
    class.extend_from_slice(&[1, 0, 4]);
    class.extend_from_slice(b"Code\0\0\0\0");
    class
}

fn scan(p: &Project, extra: &[&str]) -> Run {
    let mut args = vec!["dir", ".", "-f", "json"];
    args.extend_from_slice(extra);
    p.run(&args)
}

/// (path, member path joined with `!`) of every finding.
fn places(r: &Run) -> Vec<(String, String)> {
    let json = r.json();
    assert_eq!(json["version"], 5, "{r}");
    let mut places: Vec<(String, String)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let members: Vec<&str> = f["member_path"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_str().unwrap())
                .collect();
            (f["path"].as_str().unwrap().to_string(), members.join("!"))
        })
        .collect();
    places.sort();
    places
}

fn place(path: &str, member: &str) -> (String, String) {
    (path.to_string(), member.to_string())
}

#[test]
fn archive_of_each_kind_is_scanned_member_by_member() {
    let p = Project::new();
    let text = config();
    let package = tar(&[("package/config.yml", text.as_bytes())]);
    p.write_bytes(
        "dist/app.jar",
        &zip(&[("com/acme/Config.class", &class_file())]),
    );
    p.write_bytes(
        "dist/lib.whl",
        &zip(&[("lib/settings.yml", text.as_bytes())]),
    );
    p.write_bytes(
        "dist/report.docx",
        &zip_with(
            &[("word/document.xml", text.as_bytes())],
            zip::CompressionMethod::Stored,
        ),
    );
    p.write_bytes("dist/plain.tar", &package);
    p.write_bytes("dist/acme-1.0.0.tgz", &gzip(&package));
    p.write_bytes("dist/pack.tar.bz2", &bzip2(&package));
    p.write_bytes("dist/pack.tar.xz", &xz(&package));
    p.write_bytes("dist/settings.yml.gz", &gzip(text.as_bytes()));
    let r = scan(&p, &[]);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(
        places(&r),
        vec![
            place("dist/acme-1.0.0.tgz", "package/config.yml"),
            place("dist/app.jar", "com/acme/Config.class"),
            place("dist/lib.whl", "lib/settings.yml"),
            place("dist/pack.tar.bz2", "package/config.yml"),
            place("dist/pack.tar.xz", "package/config.yml"),
            place("dist/plain.tar", "package/config.yml"),
            place("dist/report.docx", "word/document.xml"),
            place("dist/settings.yml.gz", "settings.yml"),
        ]
    );
    let summary = &r.json()["summary"];
    assert_eq!(summary["archives_scanned"], 8, "{r}");
    assert_eq!(summary["archive_members_scanned"], 8, "{r}");

    let human = p.run(&["dir", ".", "--color", "never"]);
    assert!(
        human.stdout.contains("dist/app.jar!com/acme/Config.class"),
        "{human}"
    );
    assert!(
        human
            .stdout
            .contains("dist/acme-1.0.0.tgz!package/config.yml"),
        "{human}"
    );

    // Off: archives are binary files again, and skipped.
    let off = scan(&p, &["--max-archive-depth", "0"]);
    assert_eq!(off.code, 0, "{off}");
    assert!(places(&off).is_empty());
    assert_eq!(off.json()["summary"]["archives_scanned"], 0);
    p.write(".till-scan.toml", "max_archive_depth = 0\n");
    assert_eq!(scan(&p, &[]).code, 0);
}

#[test]
fn archive_nested_archives_open_to_the_depth() {
    let p = Project::new();
    let text = config();
    let tgz = gzip(&tar(&[("package/config.yml", text.as_bytes())]));
    let inner = zip(&[("inner.tgz", &tgz)]);
    p.write_bytes(
        "a.zip",
        &zip(&[("lib/inner.tgz", &tgz), ("deep/inner.zip", &inner)]),
    );
    let r = scan(&p, &[]);
    assert_eq!(
        places(&r),
        vec![place("a.zip", "lib/inner.tgz!package/config.yml")]
    );
    let human = p.run(&["dir", ".", "--color", "never", "-v"]);
    assert!(
        human
            .stdout
            .contains("a.zip!lib/inner.tgz!package/config.yml"),
        "{human}"
    );
    assert!(
        human.stderr.contains(
            "a.zip!deep/inner.zip!inner.tgz: gzip archive nested deeper than --max-archive-depth 2"
        ),
        "{human}"
    );
    let deeper = scan(&p, &["--max-archive-depth", "3"]);
    assert_eq!(
        places(&deeper),
        vec![
            place("a.zip", "deep/inner.zip!inner.tgz!package/config.yml"),
            place("a.zip", "lib/inner.tgz!package/config.yml"),
        ]
    );
    let shallow = scan(&p, &["--max-archive-depth", "1"]);
    assert!(places(&shallow).is_empty(), "{shallow}");
}

#[test]
fn archive_bomb_is_stopped_by_the_cap_with_a_clear_note() {
    let p = Project::new();
    // 64 members of 1 MiB of zeros: 64 MiB from a zip of about 70 KiB.
    let zeros = vec![0u8; 1 << 20];
    let names: Vec<String> = (0..64).map(|i| format!("zeros/{i}.bin")).collect();
    let members: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &zeros[..])).collect();
    p.write_bytes("bomb.zip", &zip(&members));
    p.write("app.yml", &config());
    p.write(".till-scan.toml", "max_archive_size = \"8MiB\"\n");
    let r = scan(&p, &[]);
    // The rest of the scan goes on; the cap is a warning, not a failure.
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(places(&r), vec![place("app.yml", "")]);
    let errors = r.json()["summary"]["errors"].clone();
    assert_eq!(errors[0]["path"], "bomb.zip", "{r}");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("stopped after 8 MiB decompressed: archive-bomb guard"),
        "{message}"
    );
    assert!(
        r.stderr
            .contains("till-scan: warning: bomb.zip: stopped after 8 MiB"),
        "{r}"
    );

    p.write(".till-scan.toml", "max_archive_members = 10\n");
    let r = scan(&p, &[]);
    let errors = r.json()["summary"]["errors"].clone();
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("stopped after 10 members"),
        "{r}"
    );

    p.write(".till-scan.toml", "max_archive_size = 0\n");
    let bad = scan(&p, &[]);
    assert_eq!(bad.code, 2, "{bad}");
    assert!(bad.stderr.contains("max_archive_size"), "{bad}");
}

#[test]
fn archive_bomb_a_large_member_is_skipped_like_a_large_file() {
    let p = Project::new();
    let big = vec![b'a'; 3 << 20];
    p.write_bytes(
        "big.tgz",
        &gzip(&tar(&[("big.txt", &big), ("app.yml", config().as_bytes())])),
    );
    let r = scan(&p, &["--max-file-size", "1MiB"]);
    assert_eq!(places(&r), vec![place("big.tgz", "app.yml")]);
    let skipped = r.json()["summary"]["skipped"].clone();
    assert_eq!(skipped[0]["path"], "big.tgz!big.txt", "{r}");
}

#[test]
fn archive_corrupt_or_encrypted_is_a_warning_never_a_failure() {
    let p = Project::new();
    let text = config();
    // Binary (NULs) and a zip's magic, but no central directory.
    p.write_bytes("corrupt.zip", b"PK\x03\x04\x14\x00\x00\x00 a damaged zip");
    let tgz = gzip(&tar(&[("package/config.yml", text.as_bytes())]));
    p.write_bytes("truncated.tgz", &tgz[..tgz.len() / 2]);
    // An encrypted member: the encryption flag set in both headers.
    let mut locked = zip_with(
        &[("secret.yml", text.as_bytes())],
        zip::CompressionMethod::Stored,
    );
    locked[6] |= 1;
    let central = locked.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    locked[central + 8] |= 1;
    p.write_bytes("locked.zip", &locked);
    let r = scan(&p, &[]);
    assert_eq!(r.code, 0, "{r}");
    let errors: Vec<(String, String)> = r.json()["summary"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_string(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(errors.len(), 3, "{r}");
    assert_eq!(errors[0].0, "corrupt.zip");
    assert!(
        errors[0].1.starts_with("corrupt or unreadable zip archive"),
        "{errors:?}"
    );
    assert_eq!(errors[1].0, "locked.zip!secret.yml");
    assert_eq!(errors[1].1, "encrypted member, not scanned");
    assert!(errors[2].0.starts_with("truncated.tgz"), "{errors:?}");
    // Named on the command line, a corrupt archive is still only a warning.
    let named = p.run(&["dir", "corrupt.zip", "-f", "json"]);
    assert_eq!(named.code, 0, "{named}");
    assert!(named.stderr.contains("warning: corrupt.zip"), "{named}");
}

#[test]
fn archive_path_allowlist_matches_the_archive_and_its_members() {
    let p = Project::new();
    let text = config();
    p.write_bytes("vendor/lib.zip", &zip(&[("conf/app.yml", text.as_bytes())]));
    p.write_bytes(
        "dist/app.zip",
        &zip(&[
            ("fixtures/app.yml", text.as_bytes()),
            ("conf/app.yml", text.as_bytes()),
        ]),
    );
    p.write(
        ".till-scan.toml",
        "[allowlist]\npaths = [\"vendor/\", \"fixtures/\"]\n",
    );
    let r = scan(&p, &[]);
    assert_eq!(places(&r), vec![place("dist/app.zip", "conf/app.yml")]);
    assert_eq!(r.json()["summary"]["allowed_by_config"], 2, "{r}");
}

#[test]
fn archive_in_git_history_is_opened_from_its_blob() {
    let p = Project::new();
    p.git_init("repo");
    p.write("repo/README.md", "hello\n");
    p.git_commit("repo", "first");
    let package = tar(&[("package/config.yml", config().as_bytes())]);
    p.write_bytes("repo/dist/acme-1.0.0.tgz", &gzip(&package));
    let added = p.git_commit("repo", "add the npm pack");
    std::fs::remove_file(p.path("repo/dist/acme-1.0.0.tgz")).unwrap();
    p.git_commit("repo", "remove it");

    let r = p.run_in("repo", &["git", "-f", "json"], b"");
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(
        places(&r),
        vec![place("dist/acme-1.0.0.tgz", "package/config.yml")]
    );
    let f = &r.json()["findings"][0];
    assert_eq!(f["commit"], added.as_str(), "{r}");
    assert_eq!(f["line"], 2);

    // SARIF: the archive file is the artifact, the member in the message.
    let sarif = p.run_in("repo", &["git", "-f", "sarif"], b"");
    let doc: Value = sarif.json();
    let schema: Value =
        serde_json::from_str(include_str!("../fixtures/sarif-schema-2.1.0.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let result = &doc["runs"][0]["results"][0];
    let location = &result["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "dist/acme-1.0.0.tgz");
    assert_eq!(location["region"], serde_json::json!({ "startLine": 1 }));
    assert!(result["message"]["text"]
        .as_str()
        .unwrap()
        .contains("in archive member package/config.yml at line 2"));
    assert_eq!(result["properties"]["memberPath"][0], "package/config.yml");

    // Staged, before the commit: the same archive is found in the index.
    p.write_bytes("repo/dist/again.tgz", &gzip(&package));
    p.git("repo", &["add", "dist/again.tgz"]);
    let staged = p.run_in("repo", &["staged", "-f", "json"], b"");
    assert_eq!(
        places(&staged),
        vec![place("dist/again.tgz", "package/config.yml")]
    );
}
