//! Hardening regressions: matcher.

use std::time::Duration;

#[allow(unused_imports)]
use crate::support::*;

/// The AWS rule's own synthetic example key, not a real secret.
const AWS_SECRET: &str = "3XVy27dFanUrOSE62chn4xdeJg1Kza5KxxGWfvma";

/// Issue 11: one ~800 KB line with a keyword every 25 bytes took minutes:
/// every keyword hit's `after_keyword` check read on to the next `=` or
/// `:`, here the one at the very end of the line. It must now scan in linear
/// time and still find that key.
fn hostile_line() -> (String, usize) {
    let mut line = "password aaaaaaaaaaaaaaa ".repeat(32_000);
    line.push_str("aws_secret_access_key = \"");
    let column = line.chars().count() + 1;
    line.push_str(AWS_SECRET);
    line.push_str("\"\n");
    (line, column)
}

#[test]
fn issue_11_a_long_line_of_keywords_is_scanned_in_linear_time() {
    let p = Project::new();
    let (line, column) = hostile_line();
    // Far below in practice (well under a second in release): the limit
    // only has to tell linear from quadratic on a loaded debug build.
    let limit = Duration::from_secs(20);
    let r = p.run_in_within(".", &["stdin", "--format", "json"], line.as_bytes(), limit);
    assert_eq!(r.code, 1, "{r}");
    let json = r.json();
    let findings = json["findings"].as_array().unwrap();
    let aws = findings
        .iter()
        .find(|f| f["rule_id"] == "aws.secret-access-key")
        .unwrap_or_else(|| panic!("no AWS finding: {r}"));
    assert_eq!(
        (aws["line"].as_u64(), aws["column"].as_u64()),
        (Some(1), Some(column as u64))
    );
    assert!(
        !r.stdout.contains(AWS_SECRET),
        "the secret must be redacted"
    );

    p.write("hostile.txt", &line);
    let r = p.run_in_within(".", &["dir", ".", "--format", "json"], b"", limit);
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stdout.contains("aws.secret-access-key"), "{r}");
}
