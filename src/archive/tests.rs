//! Archives are built here with the same crates that read them.

use std::io::Write;

use super::*;
use crate::matcher::Matcher;
use crate::rules::RuleSet;
use crate::suppress::Allowlist;

const KEY: &str = "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";

fn config() -> String {
    format!("token:\n  github: {KEY}\n")
}

fn scanner(limits: Limits) -> Scanner {
    static MATCHER: std::sync::OnceLock<RuleSet> = std::sync::OnceLock::new();
    let rules = MATCHER.get_or_init(|| RuleSet::builtin().unwrap());
    let matcher = Matcher::new(rules).unwrap();
    Scanner::new(matcher, Allowlist::default(), None).with_archive_limits(limits)
}

fn zip(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = ::zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = ::zip::write::SimpleFileOptions::default()
        .compression_method(::zip::CompressionMethod::Deflated);
    for (name, data) in members {
        w.start_file(*name, options).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn tar(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = ::tar::Builder::new(Vec::new());
    for (name, data) in members {
        let mut header = ::tar::Header::new_gnu();
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
    let mut e = ::bzip2::write::BzEncoder::new(Vec::new(), ::bzip2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn xz(data: &[u8]) -> Vec<u8> {
    let mut w = lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::default()).unwrap();
    w.write_all(data).unwrap();
    w.finish().unwrap()
}

/// The member paths of the hits in `data` (an archive), and the notes.
fn scan(s: &Scanner, data: &[u8], label: &str) -> (Vec<String>, crate::scan::ScanResult) {
    let kind = detect(data).expect("an archive");
    let hits = scan_bytes(s, &mut Worker::default(), data, kind, label);
    let paths = hits.iter().map(|h| h.member.join("!")).collect();
    (paths, s.finish(std::time::Duration::ZERO))
}

#[test]
fn archive_each_kind_yields_its_members_hits() {
    let text = config();
    let inner = tar(&[("package/config.yml", text.as_bytes())]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "app.jar",
            zip(&[("conf/app.yml", text.as_bytes())]),
            "conf/app.yml",
        ),
        ("pack.tar", inner.clone(), "package/config.yml"),
        ("pack.tgz", gzip(&inner), "package/config.yml"),
        ("pack.tar.bz2", bzip2(&inner), "package/config.yml"),
        ("pack.tar.xz", xz(&inner), "package/config.yml"),
        ("config.yml.gz", gzip(text.as_bytes()), "config.yml"),
        ("config.yml.bz2", bzip2(text.as_bytes()), "config.yml"),
        ("blob", xz(text.as_bytes()), "blob (decompressed)"),
    ];
    for (label, data, member) in cases {
        let s = scanner(Limits::default());
        let (paths, result) = scan(&s, &data, label);
        assert_eq!(paths, [member], "{label}");
        assert!(
            result.summary.errors.is_empty(),
            "{label}: {:?}",
            result.summary.errors
        );
        assert_eq!(result.summary.archive_members_scanned, 1, "{label}");
    }
}

#[test]
fn archive_nesting_stops_at_the_depth() {
    let text = config();
    let tgz = gzip(&tar(&[("package/config.yml", text.as_bytes())]));
    let outer = zip(&[("lib/inner.tgz", &tgz), ("top.yml", text.as_bytes())]);
    let (paths, result) = scan(&scanner(Limits::default()), &outer, "a.zip");
    assert_eq!(paths, ["lib/inner.tgz!package/config.yml", "top.yml"]);
    assert_eq!(result.summary.archives_scanned, 2);

    let shallow = Limits {
        depth: 1,
        ..Limits::default()
    };
    let (paths, result) = scan(&scanner(shallow), &outer, "a.zip");
    assert_eq!(paths, ["top.yml"]);
    let skip = &result.summary.skipped[0];
    assert_eq!(skip.path, "a.zip!lib/inner.tgz");
    assert!(
        skip.reason.to_string().contains("--max-archive-depth 1"),
        "{skip:?}"
    );
}

#[test]
fn archive_bombs_stop_at_the_caps_with_a_note() {
    let zeros = vec![0u8; 1 << 20];
    let members: Vec<(String, &[u8])> = (0..8).map(|i| (format!("z{i}.bin"), &zeros[..])).collect();
    let members: Vec<(&str, &[u8])> = members.iter().map(|(n, d)| (n.as_str(), *d)).collect();
    let bomb = zip(&members);
    let small = Limits {
        max_bytes: 3 << 20,
        ..Limits::default()
    };
    let (_, result) = scan(&scanner(small), &bomb, "bomb.zip");
    let e = &result.summary.errors[0];
    assert_eq!(e.path, "bomb.zip");
    assert!(
        e.message
            .contains("stopped after 3 MiB decompressed: archive-bomb guard"),
        "{e:?}"
    );
    assert!(result.summary.archive_members_scanned <= 4);

    let few = Limits {
        max_members: 2,
        ..Limits::default()
    };
    let (_, result) = scan(&scanner(few), &bomb, "bomb.zip");
    assert!(result.summary.errors[0]
        .message
        .contains("stopped after 2 members"));

    // A tarball's skipped members are still decompressed: they count.
    let big = tar(&[
        ("big.bin", &vec![b'x'; 4 << 20]),
        ("after.yml", config().as_bytes()),
    ]);
    let tight = Limits {
        max_member_size: 1 << 20,
        max_bytes: 2 << 20,
        ..Limits::default()
    };
    let (paths, result) = scan(&scanner(tight), &gzip(&big), "big.tgz");
    assert!(paths.is_empty());
    assert!(result.summary.errors[0]
        .message
        .contains("archive-bomb guard"));
    assert_eq!(result.summary.skipped[0].path, "big.tgz!big.bin");
}

#[test]
fn archive_scan_cap_skips_later_archives() {
    let s = scanner(Limits {
        max_scan_bytes: 100,
        ..Limits::default()
    });
    let text = config();
    let first = zip(&[("a.yml", text.as_bytes()), ("b.yml", text.as_bytes())]);
    let kind = detect(&first).unwrap();
    scan_bytes(&s, &mut Worker::default(), &first, kind, "one.zip");
    scan_bytes(&s, &mut Worker::default(), &first, kind, "two.zip");
    let result = s.finish(std::time::Duration::ZERO);
    assert_eq!(
        result.summary.errors.len(),
        1,
        "{:?}",
        result.summary.errors
    );
    assert!(result.summary.errors[0].message.contains("cap per scan"));
    assert_eq!(result.summary.skipped[0].path, "two.zip");
}

#[test]
fn archive_corrupt_truncated_and_hostile_input_is_a_warning() {
    let text = config();
    let good = zip(&[
        ("../../etc/passwd", text.as_bytes()),
        ("/abs.yml", text.as_bytes()),
    ]);
    let (paths, result) = scan(&scanner(Limits::default()), &good, "odd.zip");
    assert_eq!(paths, ["../../etc/passwd", "/abs.yml"]);
    assert!(result.summary.errors.is_empty());

    let tgz = gzip(&tar(&[("package/config.yml", text.as_bytes())]));
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("corrupt.zip", b"PK\x03\x04 not really a zip".to_vec()),
        ("truncated.tgz", tgz[..tgz.len() / 2].to_vec()),
        ("truncated.zip", good[..good.len() - 30].to_vec()),
        ("garbage.gz", vec![0x1f, 0x8b, 0xff, 0xff, 0xff, 0xff]),
        ("garbage.xz", vec![0xfd, b'7', b'z', b'X', b'Z', 0, 1, 2, 3]),
        ("garbage.bz2", b"BZh9 not bzip2 at all".to_vec()),
    ];
    // Every prefix of a small archive: never a panic.
    for n in (0..tgz.len()).step_by(7) {
        cases.push(("prefix.tgz", tgz[..n].to_vec()));
    }
    for (label, data) in cases {
        let Some(kind) = detect(&data) else { continue };
        let s = scanner(Limits::default());
        scan_bytes(&s, &mut Worker::default(), &data, kind, label);
        let result = s.finish(std::time::Duration::ZERO);
        if label != "prefix.tgz" {
            assert!(!result.summary.errors.is_empty(), "{label}");
            assert!(result.summary.errors[0].path.starts_with(label), "{label}");
        }
    }
}

#[test]
fn archive_member_names_come_from_their_container() {
    assert_eq!(unpacked_name("logs/app.log.gz"), "app.log");
    assert_eq!(unpacked_name("a.zip!data.json.xz"), "data.json");
    assert_eq!(unpacked_name("blob"), "blob (decompressed)");
    assert_eq!(size(256 << 20), "256 MiB");
    assert_eq!(size(4 << 30), "4 GiB");
    assert_eq!(size(1000), "1000 bytes");
}
