//! The JSON report: till-scan's own machine-readable format, and the reader
//! that lets other commands (baseline, rotate) load it back.
//!
//! Schema `https://till.ac/schemas/till-scan/findings-v1.json`, version 5
//! (version 1 had no `decoded`; version 2 no `parts`, no `member_path`, and
//! no `ignored` or archive counts in the summary; version 3 no `severity`;
//! version 4 no `validation`; all are read back).
//! The document is pretty-printed and ends with a newline:
//!
//! ```text
//! {
//!   "schema": "https://till.ac/schemas/till-scan/findings-v1.json",
//!   "version": 5,
//!   "tool": { "name": "till-scan", "version": "<till-scan version>" },
//!   "findings": [                       // one per occurrence, sorted by path, line, column
//!     {
//!       "rule_id": "openai.project-key",
//!       "rule_name": "OpenAI project API key",
//!       "severity": "high",             // critical, high, medium or low
//!       "provider": "OpenAI",
//!       "till_provider": "openai",      // string or null: Till can proxy this provider
//!       "path": "src/config.py",        // as the scan reached it (as given on the command line); repo-relative for git scans;
//!                                       // "(commit message)" for a commit's own text, "REF (tag message)", "refs/tags/T[:path]";
//!                                       // for a secret inside an archive, the archive's own path
//!       "member_path": [],              // inside an archive: the member names from the outermost archive in,
//!                                       // e.g. ["lib/inner.tgz", "package/config.js"]; line and columns are
//!                                       // then those of the innermost member's text
//!       "line": 12,                     // 1-based
//!       "column": 9,                    // 1-based, in Unicode scalar values
//!       "end_line": 12,
//!       "end_column": 61,               // exclusive: the column after the secret
//!       "secret": "sk-pro********",     // redacted unless --no-redact
//!       "redacted": true,               // whether "secret" is redacted
//!       "fingerprint": "3f9a…",         // 32 hex digits: SHA-256 of rule id, NUL, secret
//!       "commit": null,                 // the rest are strings or null; history scans
//!       "author_name": null,            // fill them with the commit that introduced
//!       "author_email": null,           // the blob
//!       "date": null,                   // RFC 3339
//!       "commit_summary": null,
//!       "decoded": []                   // how the key was encoded there, outermost first:
//!                                       // "base64", "percent", "escape"; the line and
//!                                       // columns are then those of the encoded text
//!       // A multi-part finding (rule with `parts`, e.g. "aws.access-key-pair") also has
//!       // "parts", absent otherwise; its line and columns span all the parts, its
//!       // "secret" is the parts' values joined by a newline (redacted), and its one
//!       // fingerprint is that of the whole:
//!       // "parts": [ { "name": "id", "rule_id": "aws.access-key-id",
//!       //              "secret": "AKIAVQ********", "line": 2, "column": 21,
//!       //              "end_line": 2, "end_column": 41 },
//!       //            { "name": "secret", "rule_id": "aws.secret-access-key", ... } ]
//!       // With --validate, "validation" says what the key's provider answered
//!       // (absent otherwise): "status" is "live", "dead" or "unknown", "check"
//!       // the provider check that ran (null when no check covers the rule),
//!       // "reason" why ("HTTP 200", "timed out after 10s", "rate limited …"):
//!       // "validation": { "status": "live", "check": "openai", "reason": "HTTP 200" }
//!     }
//!   ],
//!   "summary": {
//!     "occurrences": 1,                 // entries in "findings"
//!     "distinct_secrets": 1,            // distinct fingerprints
//!     "files_scanned": 120,
//!     "bytes_scanned": 483120,
//!     "duration_ms": 41,
//!     "allowed_inline": 0,              // dropped by a till-scan:allow comment
//!     "allowed_by_config": 0,           // dropped by config allowlists
//!     "baselined": 0,                   // dropped because the baseline lists them
//!     "ignored": 0,                     // files and directories left out by .gitignore,
//!                                       // .ignore and .till-scanignore (dir scans)
//!     "archives_scanned": 0,            // archives opened, nested ones included
//!     "archive_members_scanned": 0,     // members read from them (their text is also in files/bytes_scanned)
//!     "skipped": [ { "path": "logo.png", "reason": "binary file" } ],
//!     "errors": [ { "path": "secret.txt", "message": "permission denied" } ]
//!   }
//! }
//! ```

use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use super::{container_label, ReportContext};
use crate::finding::Occurrence;

/// The `schema` value of every document this module writes.
pub const SCHEMA_URL: &str = "https://till.ac/schemas/till-scan/findings-v1.json";

/// The `version` value of every document this module writes.
pub const SCHEMA_VERSION: u32 = 5;

/// Versions [`read_findings`] reads: version 1 lacks `decoded`, version 2
/// lacks `parts`, `member_path` (and the summary's `ignored` and archive
/// counts), version 3 lacks `severity`, version 4 lacks `validation`.
const READABLE_VERSIONS: &[u32] = &[1, 2, 3, 4, 5];

/// One occurrence of a secret, as written in (and read back from) the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonFinding {
    pub rule_id: String,
    pub rule_name: String,
    /// `critical`, `high`, `medium` or `low`. Version 4.
    #[serde(default)]
    pub severity: Option<crate::rules::Severity>,
    pub provider: String,
    pub till_provider: Option<String>,
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// The secret, redacted when `redacted` is true.
    pub secret: String,
    pub redacted: bool,
    pub fingerprint: String,
    pub commit: Option<String>,
    pub author_name: Option<String>,
    pub author_email: Option<String>,
    pub date: Option<String>,
    pub commit_summary: Option<String>,
    /// How the secret was encoded where it was found, outermost first
    /// (`base64`, `percent`, `escape`); empty for plain text. Version 2.
    #[serde(default)]
    pub decoded: Vec<String>,
    /// The named parts of a multi-part finding (an AWS key ID and its
    /// secret key), in the rule's order; absent for a single secret.
    /// Version 3.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<JsonPart>,
    /// Inside an archive, the member names from the outermost archive in
    /// (`path` is then the archive's); empty elsewhere. Version 3.
    #[serde(default)]
    pub member_path: Vec<String>,
    /// What the provider answered, with `--validate`. Version 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<JsonValidation>,
}

/// A finding's validation, as written in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonValidation {
    pub status: crate::validate::Status,
    pub check: Option<String>,
    pub reason: String,
}

/// One part of a multi-part finding at one place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonPart {
    /// The name the rule gives the part (`id`, `secret`).
    pub name: String,
    /// The rule that matched the part.
    pub rule_id: String,
    /// The part's value, redacted when the finding's `redacted` is true.
    pub secret: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

impl JsonFinding {
    pub fn from_occurrence(o: &Occurrence<'_>, redact: bool) -> JsonFinding {
        let (f, l) = (o.finding, o.location);
        let c = l.provenance.commit();
        JsonFinding {
            rule_id: f.rule.id.clone(),
            rule_name: f.rule.name.clone(),
            severity: Some(f.rule.severity),
            provider: f.rule.provider.clone(),
            till_provider: f.rule.till_provider.clone(),
            path: container_label(&l.provenance).into_owned(),
            line: l.line,
            column: l.column,
            end_line: l.end_line,
            end_column: l.end_column,
            secret: f.secret.display(redact),
            redacted: redact,
            fingerprint: f.fingerprint.clone(),
            commit: c.map(|c| c.id.clone()),
            author_name: c.map(|c| c.author_name.clone()),
            author_email: c.map(|c| c.author_email.clone()),
            date: c.map(|c| c.date.clone()),
            commit_summary: c.map(|c| c.summary.clone()),
            decoded: l.decoded.iter().map(|e| e.name().to_string()).collect(),
            parts: f
                .parts
                .iter()
                .zip(&l.parts)
                .map(|(p, at)| JsonPart {
                    name: p.name.clone(),
                    rule_id: p.rule_id.clone(),
                    secret: p.secret.display(redact),
                    line: at.line,
                    column: at.column,
                    end_line: at.end_line,
                    end_column: at.end_column,
                })
                .collect(),
            member_path: l.provenance.members().to_vec(),
            validation: f.validation.as_ref().map(|v| JsonValidation {
                status: v.status,
                check: v.check.clone(),
                reason: v.reason.clone(),
            }),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonTool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonSkipped {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonError {
    pub path: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonSummary {
    pub occurrences: u64,
    pub distinct_secrets: u64,
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    pub duration_ms: u64,
    pub allowed_inline: u64,
    pub allowed_by_config: u64,
    pub baselined: u64,
    /// Files and directories left out by ignore files (absent before
    /// version 3).
    #[serde(default)]
    pub ignored: u64,
    /// Version 3.
    #[serde(default)]
    pub archives_scanned: u64,
    /// Version 3.
    #[serde(default)]
    pub archive_members_scanned: u64,
    pub skipped: Vec<JsonSkipped>,
    pub errors: Vec<JsonError>,
}

/// The whole document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonReport {
    pub schema: String,
    pub version: u32,
    pub tool: JsonTool,
    pub findings: Vec<JsonFinding>,
    pub summary: JsonSummary,
}

impl JsonReport {
    pub fn new(ctx: &ReportContext<'_>) -> JsonReport {
        let result = ctx.result;
        let s = &result.summary;
        JsonReport {
            schema: SCHEMA_URL.to_string(),
            version: SCHEMA_VERSION,
            tool: JsonTool {
                name: "till-scan".to_string(),
                version: env!("CARGO_PKG_VERSION").to_string(),
            },
            findings: result
                .occurrences()
                .iter()
                .map(|o| JsonFinding::from_occurrence(o, ctx.redact))
                .collect(),
            summary: JsonSummary {
                occurrences: result.occurrence_count() as u64,
                distinct_secrets: result.findings.len() as u64,
                files_scanned: s.files_scanned,
                bytes_scanned: s.bytes_scanned,
                duration_ms: u64::try_from(s.duration.as_millis()).unwrap_or(u64::MAX),
                allowed_inline: s.allowed_inline,
                allowed_by_config: s.allowed_by_config,
                baselined: s.baselined,
                ignored: s.ignored,
                archives_scanned: s.archives_scanned,
                archive_members_scanned: s.archive_members_scanned,
                skipped: s
                    .skipped
                    .iter()
                    .map(|k| JsonSkipped {
                        path: k.path.clone(),
                        reason: k.reason.to_string(),
                    })
                    .collect(),
                errors: s
                    .errors
                    .iter()
                    .map(|e| JsonError {
                        path: e.path.clone(),
                        message: e.message.clone(),
                    })
                    .collect(),
            },
        }
    }
}

pub fn write(ctx: &ReportContext<'_>, out: &mut dyn Write) -> io::Result<()> {
    let report = JsonReport::new(ctx);
    serde_json::to_writer_pretty(&mut *out, &report).map_err(io::Error::from)?;
    out.write_all(b"\n")
}

/// Only the parts of a document [`read_findings`] needs; the rest is ignored
/// so that later minor additions do not break older readers.
#[derive(Deserialize)]
struct FindingsOnly {
    schema: Option<String>,
    version: u32,
    findings: Vec<JsonFinding>,
}

/// Reads the findings back from a JSON report written by [`write`]. The
/// error says what the document is instead when it is not one (SARIF, a
/// baseline, another tool's list), without serde's type names.
pub fn read_findings(text: &str) -> Result<Vec<JsonFinding>, String> {
    let foreign = |what: &str| {
        format!("not a till-scan JSON report ({what}; write one with `--format json`)")
    };
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        let message = e.to_string();
        let problem = message
            .rsplit_once(" at line ")
            .map_or(&*message, |(p, _)| p);
        foreign(&format!("not JSON: {problem} at line {}", e.line()))
    })?;
    let Some(obj) = value.as_object() else {
        return Err(foreign(if value.is_array() {
            "it is a JSON list"
        } else {
            "it is not a JSON object"
        }));
    };
    if obj.contains_key("runs") {
        return Err(foreign("it is a SARIF log"));
    }
    if obj.contains_key("entries") && !obj.contains_key("findings") {
        return Err(foreign("it is a till-scan baseline"));
    }
    if !obj.contains_key("findings") {
        return Err(foreign("it has no `findings`"));
    }
    drop(value);
    let doc: FindingsOnly =
        serde_json::from_str(text).map_err(|e| format!("not a till-scan JSON report: {e}"))?;
    if let Some(schema) = &doc.schema {
        if schema != SCHEMA_URL {
            return Err(format!(
                "not a till-scan JSON report: schema is `{schema}`, expected `{SCHEMA_URL}`"
            ));
        }
    }
    if !READABLE_VERSIONS.contains(&doc.version) {
        return Err(format!(
            "unsupported till-scan JSON report version {} (this till-scan reads version {SCHEMA_VERSION})",
            doc.version
        ));
    }
    Ok(doc.findings)
}

#[cfg(test)]
mod read_tests {
    use super::super::sample;
    use super::*;
    use crate::rules::fuzz;

    #[test]
    fn other_documents_are_named() {
        let cases = [
            ("[]", "a JSON list"),
            (r#"{"version": "2.1.0", "runs": []}"#, "a SARIF log"),
            (r#"{"version": 1, "entries": []}"#, "a till-scan baseline"),
            ("{}", "no `findings`"),
            ("{", "not JSON"),
        ];
        for (text, what) in cases {
            let err = read_findings(text).unwrap_err();
            assert!(err.starts_with("not a till-scan JSON report ("), "{err}");
            assert!(err.contains(what), "{text}: {err}");
        }
    }

    proptest::proptest! {
        #![proptest_config(fuzz::config(384))]

        #[test]
        fn report_input_never_panics(
            text in fuzz::text_like(&sample::render(write, &sample::result(), true, false)),
        ) {
            if let Err(e) = read_findings(&text) {
                proptest::prop_assert!(e.starts_with("not a till-scan JSON report") || e.contains("version"), "{}", e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::sample::{self, ACME_SECRET, OTHER_SECRET};
    use super::*;
    use crate::finding::Secret;

    #[test]
    fn writes_the_documented_shape() {
        let text = sample::render(write, &sample::result(), true, false);
        assert!(text.ends_with("}\n"));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["schema"], SCHEMA_URL);
        assert_eq!(v["version"], 5);
        assert_eq!(v["tool"]["name"], "till-scan");
        assert_eq!(v["tool"]["version"], env!("CARGO_PKG_VERSION"));
        let findings = v["findings"].as_array().unwrap();
        assert_eq!(findings.len(), 3);
        let keys: Vec<&str> = findings[0]
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        for key in [
            "rule_id",
            "rule_name",
            "severity",
            "provider",
            "till_provider",
            "path",
            "line",
            "column",
            "end_line",
            "end_column",
            "secret",
            "redacted",
            "fingerprint",
            "commit",
            "author_name",
            "author_email",
            "date",
            "commit_summary",
            "decoded",
            "member_path",
        ] {
            assert!(keys.contains(&key), "missing {key}");
        }
        assert_eq!(keys.len(), 20);
        assert_eq!(findings[0]["severity"], "high");

        let s = &v["summary"];
        assert_eq!(s["occurrences"], 3);
        assert_eq!(s["distinct_secrets"], 2);
        assert_eq!(s["files_scanned"], 12);
        assert_eq!(s["bytes_scanned"], 2_500_000);
        assert_eq!(s["duration_ms"], 1234);
        assert_eq!(s["allowed_inline"], 1);
        assert_eq!(s["allowed_by_config"], 2);
        assert_eq!(s["baselined"], 3);
        assert_eq!(s["skipped"][0]["path"], "logo.png");
        assert_eq!(s["skipped"][0]["reason"], "binary file");
        assert_eq!(s["errors"][0]["path"], "locked.txt");
    }

    #[test]
    fn commit_fields_are_null_or_filled() {
        let text = sample::render(write, &sample::result(), true, false);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let findings = v["findings"].as_array().unwrap();
        let plain = findings
            .iter()
            .find(|f| f["rule_id"] == "acme.api-key")
            .unwrap();
        assert!(plain["commit"].is_null());
        assert!(plain["commit_summary"].is_null());
        assert_eq!(plain["till_provider"], "acme");
        let history = findings
            .iter()
            .find(|f| f["rule_id"] == "other.token")
            .unwrap();
        assert_eq!(
            history["commit"],
            "0123456789abcdef0123456789abcdef01234567"
        );
        assert_eq!(history["author_email"], "ada@example.com");
        assert_eq!(history["date"], "2024-05-06T07:08:09+00:00");
        assert!(history["till_provider"].is_null());
    }

    #[test]
    fn redacts_unless_asked_not_to() {
        let redacted = sample::render(write, &sample::result(), true, false);
        assert!(!redacted.contains(ACME_SECRET));
        assert!(!redacted.contains(OTHER_SECRET));
        assert!(redacted.contains("\"redacted\": true"));

        let raw = sample::render(write, &sample::result(), false, false);
        assert!(raw.contains(ACME_SECRET));
        assert!(raw.contains(OTHER_SECRET));
        assert!(raw.contains("\"redacted\": false"));
    }

    #[test]
    fn reads_its_own_output_back() {
        let result = sample::result();
        let text = sample::render(write, &result, false, false);
        let findings = read_findings(&text).unwrap();
        assert_eq!(findings.len(), 3);
        for (f, o) in findings.iter().zip(&result.occurrences()) {
            assert_eq!(f, &JsonFinding::from_occurrence(o, false));
        }
        assert_eq!(findings[0].secret, result.findings[0].secret.expose());
    }

    #[test]
    fn a_multi_part_finding_lists_its_parts_by_name_redacted_like_a_secret() {
        use sample::{PAIR_ID, PAIR_SECRET};
        let result = sample::multi_part_result();
        let text = sample::render(write, &result, true, false);
        assert!(
            !text.contains(PAIR_ID) && !text.contains(PAIR_SECRET),
            "{text}"
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let f = &v["findings"][0];
        assert_eq!(f["rule_id"], "acme.key-pair");
        assert_eq!(f["fingerprint"], result.findings[0].fingerprint.as_str());
        assert_eq!(
            (f["line"].as_u64(), f["end_line"].as_u64()),
            (Some(4), Some(5))
        );
        let parts = f["parts"].as_array().unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0]["name"], "id");
        assert_eq!(parts[0]["rule_id"], "acme.key-id");
        assert_eq!(
            parts[0]["secret"],
            Secret::new(PAIR_ID.as_bytes()).redacted()
        );
        assert_eq!(parts[1]["name"], "secret");
        assert_eq!(
            (parts[1]["line"].as_u64(), parts[1]["column"].as_u64()),
            (Some(5), Some(12))
        );
        let raw = sample::render(write, &result, false, false);
        let v: serde_json::Value = serde_json::from_str(&raw).unwrap();
        assert_eq!(v["findings"][0]["parts"][1]["secret"], PAIR_SECRET);
        assert_eq!(read_findings(&raw).unwrap()[0].parts.len(), 2);
        // A single secret has no `parts` key at all.
        let single = sample::render(write, &sample::result(), true, false);
        assert!(!single.contains("\"parts\""));
    }

    #[test]
    fn empty_scan_is_a_valid_document() {
        let text = sample::render(write, &sample::empty(), true, false);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["findings"].as_array().unwrap().len(), 0);
        assert_eq!(v["summary"]["distinct_secrets"], 0);
        assert!(read_findings(&text).unwrap().is_empty());
    }

    #[test]
    fn rejects_other_documents() {
        assert!(read_findings("not json").is_err());
        assert!(read_findings("{\"findings\": []}").is_err());
        let text = sample::render(write, &sample::empty(), true, false);
        let v6 = text.replace("\"version\": 5", "\"version\": 6");
        assert!(read_findings(&v6).unwrap_err().contains("version 6"));
        // Version 3 (no `severity`), 2 (no `parts`, no `member_path`) and
        // 1 (no `decoded` either) are still read.
        let v3 = sample::render(write, &sample::result(), true, false)
            .replace("\"version\": 4", "\"version\": 3")
            .replace("\n      \"severity\": \"high\",", "");
        assert!(!v3.contains("severity"));
        let read = read_findings(&v3).unwrap();
        assert_eq!(read.len(), 3);
        assert_eq!(read[0].severity, None);
        let v2 = v3
            .replace("\"version\": 3", "\"version\": 2")
            .replace(",\n      \"member_path\": []", "");
        assert!(!v2.contains("member_path"));
        assert_eq!(read_findings(&v2).unwrap().len(), 3);
        let v1 = v2
            .replace("\"version\": 2", "\"version\": 1")
            .replace(",\n      \"decoded\": []", "");
        assert!(!v1.contains("decoded"));
        assert_eq!(read_findings(&v1).unwrap().len(), 3);
        let other = text.replace(SCHEMA_URL, "https://example.com/other.json");
        assert!(read_findings(&other).is_err());
    }
}
