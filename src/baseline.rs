//! The baseline: secrets a team has accepted (or will rotate later), keyed
//! by fingerprint (hash of rule id + secret), never by line, so entries
//! survive edits, moves and squash merges. Stored as JSON, usually in
//! `.till-scan-baseline.json` at the scanned root.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::scan::ScanResult;

pub mod foreign;

pub use foreign::{Foreign, Place};

pub const BASELINE_FILE_NAME: &str = ".till-scan-baseline.json";
const VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineFile {
    pub version: u32,
    pub entries: Vec<Entry>,
}

/// One accepted secret. Only `fingerprint` matters for matching; the rest
/// helps a reviewer see what was accepted.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub fingerprint: String,
    pub rule_id: String,
    /// Where it was first seen when the baseline was written.
    pub path: String,
    pub line: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Baseline {
    fingerprints: HashSet<String>,
    /// Secrets and places from another tool's list (a gitleaks report,
    /// `.gitleaksignore`).
    foreign: Foreign,
    /// The scanned root, which a foreign list's paths are relative to.
    root: std::path::PathBuf,
}

impl Baseline {
    /// Loads a till-scan baseline, or a gitleaks or Betterleaks JSON report
    /// (a JSON list), told apart by their shape.
    pub fn load(path: &Path) -> anyhow::Result<Baseline> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read baseline {}", path.display()))?;
        if text.trim_start().starts_with('[') {
            let foreign = crate::migrate::report::parse(&text)
                .map_err(|m| anyhow::anyhow!("{}{m}", path.display()))?;
            return Ok(Baseline::from_foreign(foreign));
        }
        let file = parse(&text).map_err(|m| anyhow::anyhow!("{}{m}", path.display()))?;
        Ok(Baseline {
            fingerprints: file.entries.into_iter().map(|e| e.fingerprint).collect(),
            foreign: Foreign::default(),
            root: Default::default(),
        })
    }

    /// A baseline of another tool's secrets and places only.
    pub fn from_foreign(foreign: Foreign) -> Baseline {
        Baseline {
            fingerprints: HashSet::new(),
            foreign,
            root: Default::default(),
        }
    }

    /// Sets the scanned root that a foreign list's paths are relative to.
    pub fn with_root(mut self, root: &Path) -> Baseline {
        self.root = root.to_path_buf();
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether the baseline accepts nothing.
    pub fn is_empty(&self) -> bool {
        self.fingerprints.is_empty() && self.foreign.is_empty()
    }

    pub fn foreign(&self) -> &Foreign {
        &self.foreign
    }

    pub fn foreign_mut(&mut self) -> &mut Foreign {
        &mut self.foreign
    }

    pub fn contains(&self, fingerprint: &str) -> bool {
        self.fingerprints.contains(fingerprint)
    }

    pub fn fingerprints(&self) -> impl Iterator<Item = &str> {
        self.fingerprints.iter().map(String::as_str)
    }
}

/// The baseline of a scan's findings: one entry per distinct secret, at its
/// first location, merged with `previous` entries (kept as they were).
pub fn from_scan(result: &ScanResult, previous: Option<BaselineFile>) -> BaselineFile {
    let mut entries: BTreeMap<String, Entry> = BTreeMap::new();
    if let Some(prev) = previous {
        for e in prev.entries {
            entries.insert(e.fingerprint.clone(), e);
        }
    }
    for f in &result.findings {
        let Some(first) = f.locations.first() else {
            continue;
        };
        entries
            .entry(f.fingerprint.clone())
            .or_insert_with(|| Entry {
                fingerprint: f.fingerprint.clone(),
                rule_id: f.rule.id.clone(),
                path: crate::report::path_label(&first.provenance).into_owned(),
                line: first.line,
            });
    }
    let mut entries: Vec<Entry> = entries.into_values().collect();
    entries.sort_by(|a, b| (&a.path, a.line, &a.rule_id).cmp(&(&b.path, b.line, &b.rule_id)));
    BaselineFile {
        version: VERSION,
        entries,
    }
}

/// Reads the baseline at `path` if there is one (to merge a new scan into).
pub fn read_file(path: &Path) -> anyhow::Result<Option<BaselineFile>> {
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read baseline {}", path.display()))?;
    let file = parse(&text).map_err(|m| anyhow::anyhow!("{}{m}", path.display()))?;
    Ok(Some(file))
}

const HOW: &str = "a till-scan baseline is a JSON object with `version` and `entries`, written by `till-scan baseline`";

/// Parses the text of a baseline. The error starts with ` ` or `:LINE: `,
/// for the caller to put the file name in front: "F is not a till-scan
/// baseline (...)" for another tool's file, "F:3: ..." for a broken entry.
pub fn parse(text: &str) -> Result<BaselineFile, String> {
    let foreign = |what: &str| format!(" is not a till-scan baseline ({what}; {HOW})");
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        foreign(&format!(
            "not JSON: {} at line {}",
            json_problem(&e),
            e.line()
        ))
    })?;
    let doc = match &value {
        serde_json::Value::Object(doc) => doc,
        serde_json::Value::Array(_) => {
            return Err(foreign(
                "it is a JSON list, such as a gitleaks or Betterleaks report: scans take one as --baseline, and `till-scan migrate --report FILE` converts it",
            ))
        }
        _ => return Err(foreign("it is not a JSON object")),
    };
    if doc.contains_key("findings") && doc.contains_key("schema") {
        return Err(foreign("it is a till-scan JSON report"));
    }
    let version = match (doc.get("version"), doc.contains_key("entries")) {
        (Some(v), true) => v,
        (Some(_), false) => return Err(foreign("it has no `entries`")),
        (None, true) => return Err(foreign("it has no `version`")),
        (None, false) if doc.is_empty() => return Err(foreign("it is an empty object")),
        (None, false) => {
            let keys: Vec<&str> = doc.keys().map(String::as_str).take(5).collect();
            return Err(foreign(&format!("its keys are {}", keys.join(", "))));
        }
    };
    if version.as_u64() != Some(u64::from(VERSION)) {
        return Err(format!(
            ": baseline version {version} is not supported (this till-scan reads version {VERSION})"
        ));
    }
    serde_json::from_str(text).map_err(|e| format!(":{}: {}", e.line(), json_problem(&e)))
}

/// A serde_json error without its " at line L column C" tail.
fn json_problem(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

pub fn write_file(path: &Path, file: &BaselineFile) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(file)?;
    text.push('\n');
    std::fs::write(path, text).with_context(|| format!("cannot write baseline {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"version": 1, "entries": [
        {"fingerprint": "ab", "rule_id": "acme.key", "path": "a.txt", "line": 3}
    ]}"#;

    #[test]
    fn parses_its_own_format() {
        let file = parse(GOOD).unwrap();
        assert_eq!(file.entries.len(), 1);
        assert_eq!(file.entries[0].fingerprint, "ab");
    }

    #[test]
    fn other_files_are_named_as_not_a_baseline() {
        for text in [
            "[]",
            r#"[{"Description": "AWS", "Secret": "x", "Fingerprint": "a:b:1"}]"#,
            "{}",
            r#"{"results": {}}"#,
            "not json",
            r#"{"schema": "x", "version": 1, "findings": []}"#,
            r#"{"version": 1}"#,
            "7",
        ] {
            let err = parse(text).unwrap_err();
            assert!(
                err.starts_with(" is not a till-scan baseline ("),
                "{text}: {err}"
            );
        }
        let err = parse(r#"{"version": 2, "entries": []}"#).unwrap_err();
        assert!(err.contains("version 2 is not supported"), "{err}");
        let err = parse(&GOOD.replace("\"line\": 3", "\"line\": \"3\"")).unwrap_err();
        assert!(err.starts_with(":2: "), "{err}");
    }

    proptest::proptest! {
        #![proptest_config(crate::rules::fuzz::config(512))]

        #[test]
        fn baseline_text_never_panics(text in crate::rules::fuzz::text_like(GOOD)) {
            if let Err(e) = parse(&text) {
                proptest::prop_assert!(e.len() > 3, "{}", e);
            }
        }
    }
}
