//! The scanner on the built-in rules: locating, allowing and grouping
//! matches, multi-part findings, the baseline, decoded text.

use super::*;
use crate::rules::RuleSet;

/// One scanner for every test: its rules compile once.
fn scanner() -> &'static Scanner {
    static SCANNER: std::sync::OnceLock<Scanner> = std::sync::OnceLock::new();
    SCANNER.get_or_init(|| {
        let matcher = Matcher::new(&RuleSet::builtin().unwrap()).unwrap();
        Scanner::new(matcher, Allowlist::default(), None)
    })
}

#[test]
fn inline_allow_covers_the_lines_a_match_touches_and_no_others() {
    let s = scanner();
    let key = "token = \"Hq7Rm2Vx9Kp4Zt8Lw3Nc\"";
    let data = format!("{key} # till-scan:allow\nx = 1; {key}\n");
    let hits = s.find(&mut Worker::default(), data.as_bytes());
    assert_eq!(hits.len(), 1);
    assert_eq!((hits[0].line, hits[0].column), (2, 17));
}

#[test]
fn many_matches_on_one_long_line_are_located_and_allowed_alike() {
    let s = scanner();
    // Distinct secrets, so that each is a hit of its own.
    let line: String = (0..2000)
        .map(|i| format!("é token = \"Hq7Rm2Vx9Kp4Zt8L{i:04}\", "))
        .collect();
    let hits = s.find(&mut Worker::default(), line.as_bytes());
    assert_eq!(hits.len(), 2000);
    let width = "é token = \"Hq7Rm2Vx9Kp4Zt8L0000\", ".chars().count();
    for (i, h) in hits.iter().enumerate() {
        assert_eq!((h.line, h.column), (1, i * width + 12), "hit {i}");
        assert_eq!(h.end_column, h.column + 20);
    }
    let allowed = format!("{line} // gitleaks:allow");
    assert!(s
        .find(&mut Worker::default(), allowed.as_bytes())
        .is_empty());
}

#[test]
fn one_secret_in_many_places_is_one_finding_with_every_location() {
    let matcher = Matcher::new(&RuleSet::builtin().unwrap()).unwrap();
    let s = Scanner::new(matcher, Allowlist::default(), None);
    let key = b"token = \"Hq7Rm2Vx9Kp4Zt8Lw3Nc\"\n";
    let other = b"token = \"Zq7Rm2Vx9Kp4Zt8Lw3Nd\"\n";
    let file = |path: &str| Provenance::File { path: path.into() };
    s.scan_blob(&mut Worker::default(), key, &file("b.py"));
    s.scan_blob(&mut Worker::default(), other, &file("c.py"));
    s.scan_blob(&mut Worker::default(), key, &file("a.py"));
    let result = s.finish(std::time::Duration::ZERO);
    assert_eq!(result.findings.len(), 2);
    let first = &result.findings[0];
    let paths: Vec<_> = first
        .locations
        .iter()
        .map(|l| l.provenance.path().unwrap())
        .collect();
    assert_eq!(paths, ["a.py", "b.py"]);
    assert_eq!(first.secret.expose(), "Hq7Rm2Vx9Kp4Zt8Lw3Nc");
    assert_eq!(
        first.fingerprint,
        fingerprint(&first.rule.id, first.secret.expose())
    );
    assert_eq!(result.occurrence_count(), 3);
    assert_eq!(result.file_count(), 3);
}

const AWS_ID: &str = "AKIAVQJXXVBOTHD2WTFL";
const AWS_SECRET: &str = "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";

fn ids(s: &Scanner, hits: &[BlobHit]) -> Vec<String> {
    hits.iter()
        .map(|h| s.matcher.rule(h.rule).id.clone())
        .collect()
}

fn aws_file(gap: usize) -> String {
    format!(
        "[default]\naws_access_key_id = {AWS_ID}\n{}aws_secret_access_key = {AWS_SECRET}\n",
        "#\n".repeat(gap)
    )
}

#[test]
fn a_key_id_and_its_secret_are_one_multi_part_hit() {
    let s = scanner();
    let data = aws_file(0);
    let hits = s.find(&mut Worker::default(), data.as_bytes());
    assert_eq!(ids(s, &hits), ["aws.access-key-pair"]);
    let h = &hits[0];
    let parts: Vec<&str> = h.parts.iter().map(|(v, _)| v.expose()).collect();
    assert_eq!(parts, [AWS_ID, AWS_SECRET]);
    assert_eq!(h.secret.expose(), join_parts([AWS_ID, AWS_SECRET]));
    assert_eq!(
        h.fingerprint,
        fingerprint("aws.access-key-pair", &join_parts([AWS_ID, AWS_SECRET]))
    );
    assert_eq!((h.line, h.column, h.end_line), (2, 21, 3));
    assert_eq!((h.parts[1].1.line, h.parts[1].1.column), (3, 25));
}

#[test]
fn halves_too_far_apart_are_reported_under_their_own_rules() {
    let s = scanner();
    // within_lines = 5: four lines between (five apart) still pair.
    let near = aws_file(4);
    assert_eq!(
        ids(s, &s.find(&mut Worker::default(), near.as_bytes())),
        ["aws.access-key-pair"]
    );
    let far = aws_file(5);
    assert_eq!(
        ids(s, &s.find(&mut Worker::default(), far.as_bytes())),
        ["aws.access-key-id", "aws.secret-access-key"]
    );
}

#[test]
fn a_part_only_match_is_never_reported_alone() {
    let s = scanner();
    let sid = "TWILIO_ACCOUNT_SID=ACdc2fb4276fa3e58c2436e24a25809a84\n";
    assert!(s.find(&mut Worker::default(), sid.as_bytes()).is_empty());
    let token = "TWILIO_AUTH_TOKEN=8b6e0375e0c9b2b53d9ae84d453bff2c\n";
    let both = format!("{sid}{token}");
    assert_eq!(
        ids(s, &s.find(&mut Worker::default(), both.as_bytes())),
        ["twilio.account-credentials"]
    );
    assert_eq!(
        ids(s, &s.find(&mut Worker::default(), token.as_bytes())),
        ["twilio.auth-token"]
    );
}

#[test]
fn an_allowed_part_does_not_pair_and_the_other_half_stays_alone() {
    let s = scanner();
    let data = aws_file(0).replace(AWS_SECRET, &format!("{AWS_SECRET} # till-scan:allow"));
    assert_eq!(
        ids(s, &s.find(&mut Worker::default(), data.as_bytes())),
        ["aws.access-key-id"]
    );
}

#[test]
fn the_baseline_suppresses_a_pair_by_its_fingerprint_or_by_all_its_old_halves() {
    let rules = RuleSet::builtin().unwrap();
    let with = |fps: &[String]| {
        let file = crate::baseline::BaselineFile {
            version: 1,
            entries: fps
                .iter()
                .map(|fp| crate::baseline::Entry {
                    fingerprint: fp.clone(),
                    rule_id: String::new(),
                    path: String::new(),
                    line: 1,
                })
                .collect(),
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.json");
        std::fs::write(&path, serde_json::to_string(&file).unwrap()).unwrap();
        let baseline = Baseline::load(&path).unwrap();
        let matcher = Matcher::new(&rules).unwrap();
        Scanner::new(matcher, Allowlist::default(), Some(baseline))
    };
    let data = aws_file(0);
    let pair = fingerprint("aws.access-key-pair", &join_parts([AWS_ID, AWS_SECRET]));
    let id = fingerprint("aws.access-key-id", AWS_ID);
    let secret = fingerprint("aws.secret-access-key", AWS_SECRET);
    for (fps, suppressed) in [
        (vec![pair.clone()], true),
        (vec![id.clone(), secret.clone()], true),
        (vec![secret.clone()], false),
    ] {
        let s = with(&fps);
        let hits = s.find(&mut Worker::default(), data.as_bytes());
        assert_eq!(hits.is_empty(), suppressed, "{fps:?}: {hits:?}");
        let result = s.finish(std::time::Duration::ZERO);
        if suppressed {
            assert_eq!(result.summary.baselined, 1);
            assert!(result.summary.unused_baseline.is_empty());
        }
    }
}

#[test]
fn a_pair_decoded_from_one_base64_value_pairs_there() {
    use base64::Engine;
    let s = scanner();
    let inner = aws_file(0);
    let encoded = base64::engine::general_purpose::STANDARD.encode(inner.as_bytes());
    let data = format!("credentials: {encoded}\n");
    let hits = s.find(&mut Worker::default(), data.as_bytes());
    assert_eq!(ids(s, &hits), ["aws.access-key-pair"]);
    assert_eq!(hits[0].decoded, [Encoding::Base64]);
}

#[test]
fn multi_part_rules_prove_their_examples_and_negative_examples() {
    let set = RuleSet::builtin().unwrap();
    let multi: Vec<_> = set.rules.iter().filter(|r| r.is_multi_part()).collect();
    assert!(multi.len() >= 5, "{}", multi.len());
    for rule in &multi {
        check_multi_part_examples(rule, &set).unwrap();
    }
    // An example whose parts sit too far apart fails the check.
    let mut broken = set.get("aws.access-key-pair").unwrap().clone();
    broken.examples = vec![aws_file(9)];
    let failures = check_multi_part_examples(&broken, &set).unwrap_err();
    assert!(failures[0].contains("example not found"), "{failures:?}");
    let mut broken = set.get("aws.access-key-pair").unwrap().clone();
    broken.negative_examples = vec![aws_file(1)];
    let failures = check_multi_part_examples(&broken, &set).unwrap_err();
    assert!(
        failures[0].contains("negative example matched"),
        "{failures:?}"
    );
}

/// The text at a hit's line and column, as a report would point to it.
fn text_at(data: &[u8], line: usize, column: usize) -> String {
    let text = data.split(|&b| b == b'\n').nth(line - 1).unwrap();
    String::from_utf8_lossy(text)
        .chars()
        .skip(column - 1)
        .collect()
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config {
        cases: 64,
        failure_persistence: None,
        ..Default::default()
    })]

    /// Lines of keys, allow comments, newlines and invalid UTF-8 in any
    /// order: every hit points at its secret and sits on no allowed line.
    #[test]
    fn hits_point_at_their_secret_and_skip_allowed_lines(
        parts in proptest::collection::vec(0..8usize, 0..60)
    ) {
        const PARTS: [&[u8]; 8] = [
            b"token = \"Hq7Rm2Vx9Kp4Zt8Lw3Nc\" ",
            b"secret: 'gJQkkpa3bubYx32hLCa2nYKF', ",
            b"\xc3\xa9 ",
            b"\xff\xe2\x82",
            b"\n",
            b"# till-scan:allow",
            b"aws_secret_access_key = 3XVy27dFanUrOSE62chn4xdeJg1Kza5KxxGWfvma ",
            b"x",
        ];
        let data: Vec<u8> = parts.iter().flat_map(|&i| PARTS[i].to_vec()).collect();
        let s = scanner();
        for hit in s.find(&mut Worker::default(), &data) {
            let at = text_at(&data, hit.line, hit.column);
            proptest::prop_assert!(at.starts_with(hit.secret.expose()), "{hit:?} at {at:?}");
            let lines = data.split(|&b| b == b'\n').skip(hit.line - 1);
            for line in lines.take(hit.end_line - hit.line + 1) {
                proptest::prop_assert!(memchr::memmem::find(line, b"till-scan:allow").is_none());
            }
        }
    }
}
