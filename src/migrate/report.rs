//! A gitleaks or Betterleaks JSON report (`--report-format json`) as a
//! baseline: a JSON list of findings with `RuleID`, `File`, `StartLine`,
//! `Commit`, `Secret` (maybe redacted), `Fingerprint`... Each entry accepts
//! its secret when the report holds it in clear (any finding with that
//! secret, under any rule), and its place (file, line, commit) in any case.

use crate::baseline::{Foreign, Place};

/// One report entry, as `migrate` lists it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub place: Place,
    /// The secret, when the report did not redact it.
    pub secret: Option<String>,
}

/// gitleaks `--redact` writes `REDACTED`; `--redact=N` keeps a start and
/// ends it with `...`.
fn redacted(secret: &str) -> bool {
    secret.is_empty() || secret == "REDACTED" || secret.ends_with("...")
}

const HOW: &str = "a gitleaks or Betterleaks report is a JSON list of findings with RuleID, File and StartLine (gitleaks --report-format json)";

/// Parses a report's entries. The error starts with ` ` or `:LINE: `, for the
/// caller to put the file name in front.
pub fn entries(text: &str) -> Result<Vec<Entry>, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!(":{}: not JSON: {e}", e.line()))?;
    let serde_json::Value::Array(items) = value else {
        return Err(format!(
            " is not a gitleaks report (not a JSON list; {HOW})"
        ));
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let field = |k: &str| item.get(k).and_then(serde_json::Value::as_str);
        let (Some(rule), Some(file), Some(line)) = (
            field("RuleID"),
            field("File"),
            item.get("StartLine").and_then(serde_json::Value::as_u64),
        ) else {
            return Err(format!(
                " is not a till-scan baseline (a JSON list, but not a gitleaks or Betterleaks report: entry {i} lacks RuleID, File or StartLine; {HOW})"
            ));
        };
        let commit = field("Commit")
            .filter(|c| !c.is_empty())
            .map(str::to_ascii_lowercase);
        out.push(Entry {
            place: Place {
                commit,
                path: file.to_string(),
                rule: rule.to_string(),
                line: line as usize,
            },
            secret: field("Secret").filter(|s| !redacted(s)).map(str::to_string),
        });
    }
    Ok(out)
}

/// A report as the baseline's foreign part.
pub fn parse(text: &str) -> Result<Foreign, String> {
    let entries = entries(text)?;
    let secrets = entries
        .iter()
        .filter_map(|e| e.secret.as_ref().map(|s| s.as_bytes().to_vec()))
        .collect();
    Ok(Foreign::new(
        secrets,
        entries.into_iter().map(|e| e.place).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_parse_with_and_without_secrets() {
        let text = r#"[
 {"RuleID": "acme-key", "File": "a.env", "StartLine": 2, "Secret": "s3cr3tvalue", "Commit": "", "Fingerprint": "a.env:acme-key:2"},
 {"RuleID": "generic-api-key", "File": "b.txt", "StartLine": 9, "Secret": "REDACTED", "Commit": "ABC1234"}
]"#;
        let e = entries(text).unwrap();
        assert_eq!(e[0].secret.as_deref(), Some("s3cr3tvalue"));
        assert_eq!(e[1].secret, None);
        assert_eq!(e[1].place.commit.as_deref(), Some("abc1234"));
        let f = parse(text).unwrap();
        assert!(f.contains_secret(b"s3cr3tvalue"));
        assert!(f.place_matches("any", "b.txt", 9, Some("abc1234")));
        assert!(parse("[]").unwrap().is_empty());
    }

    #[test]
    fn other_lists_are_refused_with_a_reason() {
        for text in ["[1]", r#"[{"Description": "x"}]"#, "{}", "[", "7"] {
            let err = parse(text).unwrap_err();
            assert!(
                err.starts_with(' ') || err.starts_with(':'),
                "{text}: {err}"
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(crate::rules::fuzz::config(256))]

        #[test]
        fn report_text_never_panics(text in crate::rules::fuzz::text_like(
            r#"[{"RuleID": "r", "File": "f", "StartLine": 1, "Secret": "abc"}]"#)) {
            let _ = parse(&text);
        }
    }
}
