//! A small hand-built scan result shared by the report tests: one Acme key
//! in two files (one path with a space, comma, colon and percent sign), and
//! one Other token found in history, with a commit.

use std::sync::Arc;
use std::time::Duration;

use crate::finding::{CommitInfo, Finding, Location, Provenance, Secret};
use crate::rules::Rule;
use crate::scan::{Diagnostic, ScanResult, SkipReason, Skipped, Summary};

pub const ACME_SECRET: &str = "acme_q8k2mx9pl4vr7ty1";
pub const OTHER_SECRET: &str = "tok_Zx81Kd02LmQp77RtW3";
pub const ODD_PATH: &str = "conf dir/we,ird:100%.env";

/// A place in `path` (a file, or the commit's tree when `commit` is
/// set) where `secret` starts at `line`:`column`.
pub fn location(
    path: &str,
    line: usize,
    column: usize,
    secret: &str,
    commit: Option<CommitInfo>,
) -> Location {
    let path = path.to_string();
    Location {
        provenance: match commit {
            Some(commit) => Provenance::Commit {
                commit: Arc::new(commit),
                path,
            },
            None => Provenance::File { path },
        },
        line,
        column,
        end_line: line,
        end_column: column + secret.chars().count(),
        decoded: Vec::new(),
        parts: Vec::new(),
        context: None,
    }
}

/// A finding of `secret` by `rule` at `locations`.
pub fn finding(rule: &Rule, secret: &str, locations: Vec<Location>) -> Finding {
    let mut f = Finding::new(Arc::new(rule.clone()), Secret::new(secret.as_bytes()));
    f.locations = locations;
    f
}

/// Points the first location of the first finding at another file.
pub fn set_first_path(result: &mut ScanResult, path: &str) {
    result.findings[0].locations[0].provenance = Provenance::File { path: path.into() };
    result.sort();
}

/// Puts the first location of the first finding inside an archive at its
/// place, `members` deep.
pub fn set_first_members(result: &mut ScanResult, members: &[&str]) {
    let place = &mut result.findings[0].locations[0].provenance;
    *place = Provenance::Member {
        archive: Box::new(place.clone()),
        members: members.iter().map(|m| m.to_string()).collect(),
    };
}

pub fn rule(id: &str, name: &str, provider: &str, till: Option<&str>, references: &[&str]) -> Rule {
    Rule {
        id: id.into(),
        name: name.into(),
        provider: provider.into(),
        till_provider: till.map(Into::into),
        keywords: vec![],
        pattern: "x(y)".into(),
        min_entropy: None,
        validator: None,
        allow: vec![],
        stopwords: vec![],
        window: 0,
        lead: 0,
        after_keyword: crate::rules::AfterKeyword::None,
        fallback: false,
        parts: vec![],
        within_lines: 0,
        part_only: false,
        references: references.iter().map(|r| r.to_string()).collect(),
        severity: crate::rules::Severity::High,
        examples: vec![],
        negative_examples: vec![],
        origin: "test:1".into(),
        group: "custom".into(),
        builtin: false,
    }
}

pub fn rules() -> Vec<Rule> {
    vec![
        rule(
            "acme.api-key",
            "Acme API key",
            "Acme",
            Some("acme"),
            &["https://acme.example/docs/keys"],
        ),
        rule("other.token", "Other token", "Other", None, &[]),
        rule("unused.key", "Unused key", "Unused", None, &[]),
    ]
}

pub fn result() -> ScanResult {
    let rules = rules();
    let commit = CommitInfo {
        id: "0123456789abcdef0123456789abcdef01234567".into(),
        author_name: "Ada <Dev> & Co".into(),
        author_email: "ada@example.com".into(),
        date: "2024-05-06T07:08:09+00:00".into(),
        summary: "Add \"config\" <keys> & more".into(),
    };
    let mut result = ScanResult {
        findings: vec![
            finding(
                &rules[0],
                ACME_SECRET,
                vec![
                    location("app/main.py", 3, 11, ACME_SECRET, None),
                    location(ODD_PATH, 1, 9, ACME_SECRET, None),
                ],
            ),
            finding(
                &rules[1],
                OTHER_SECRET,
                vec![location("app/main.py", 7, 5, OTHER_SECRET, Some(commit))],
            ),
        ],
        summary: Summary {
            files_scanned: 12,
            bytes_scanned: 2_500_000,
            skipped: vec![Skipped {
                path: "logo.png".into(),
                reason: SkipReason::Binary,
            }],
            errors: vec![Diagnostic {
                path: "locked.txt".into(),
                message: "permission denied, 100% sure: really\nsecond line".into(),
            }],
            allowed_inline: 1,
            allowed_by_config: 2,
            baselined: 3,
            ignored: 0,
            archives_scanned: 0,
            archive_members_scanned: 0,
            unused_baseline: vec![],
            duration: Duration::from_millis(1234),
        },
    };
    result.sort();
    result
}

pub const PAIR_ID: &str = "ACMEID7Q2XK4";
pub const PAIR_SECRET: &str = "acmesecret_Vq8Lm2Xr9Tz4Kp7Wn3Yb";

/// One multi-part finding (an Acme key id and its secret, on lines 4 and
/// 5 of `deploy/env`) and nothing else.
pub fn multi_part_result() -> ScanResult {
    let mut rule = rule(
        "acme.key-pair",
        "Acme key pair",
        "Acme",
        None,
        &["https://acme.example/docs/pairs"],
    );
    rule.pattern = String::new();
    rule.parts = vec![
        crate::rules::RulePart {
            name: "id".into(),
            rule: "acme.key-id".into(),
        },
        crate::rules::RulePart {
            name: "secret".into(),
            rule: "acme.secret".into(),
        },
    ];
    let joined = crate::finding::join_parts([PAIR_ID, PAIR_SECRET]);
    let mut location = location("deploy/env", 4, 8, PAIR_ID, None);
    location.end_line = 5;
    location.end_column = 12 + PAIR_SECRET.len();
    location.parts = vec![
        crate::finding::PartLocation {
            line: 4,
            column: 8,
            end_line: 4,
            end_column: 8 + PAIR_ID.len(),
        },
        crate::finding::PartLocation {
            line: 5,
            column: 12,
            end_line: 5,
            end_column: 12 + PAIR_SECRET.len(),
        },
    ];
    let mut f = finding(&rule, &joined, vec![location]);
    f.parts = [
        ("id", "acme.key-id", PAIR_ID),
        ("secret", "acme.secret", PAIR_SECRET),
    ]
    .into_iter()
    .map(|(name, rule_id, value)| crate::finding::Part {
        name: name.into(),
        rule_id: rule_id.into(),
        secret: Secret::new(value.as_bytes()),
    })
    .collect();
    let mut result = empty();
    result.findings = vec![f];
    result
}

pub fn empty() -> ScanResult {
    ScanResult {
        findings: vec![],
        summary: Summary {
            files_scanned: 4,
            bytes_scanned: 1000,
            duration: Duration::from_millis(20),
            ..Summary::default()
        },
    }
}

/// Renders `result` with `f`.
pub fn render(
    f: fn(&super::ReportContext<'_>, &mut dyn std::io::Write) -> std::io::Result<()>,
    result: &ScanResult,
    redact: bool,
    color: bool,
) -> String {
    let ctx = super::ReportContext {
        result,
        redact,
        color,
        source: super::advice::Source::Files,
    };
    let mut out = Vec::new();
    f(&ctx, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}
