//! The baseline: secrets a team has accepted (or will rotate later), keyed
//! by fingerprint (hash of rule id + secret), never by line, so entries
//! survive edits, moves and squash merges. Stored as JSON, usually in
//! `.till-scan-baseline.json` at the scanned root.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::scan::ScanResult;

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
}

impl Baseline {
    pub fn load(path: &Path) -> anyhow::Result<Baseline> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read baseline {}", path.display()))?;
        let file: BaselineFile = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a till-scan baseline", path.display()))?;
        if file.version != VERSION {
            anyhow::bail!(
                "{}: baseline version {} is not supported (expected {VERSION})",
                path.display(),
                file.version
            );
        }
        Ok(Baseline {
            fingerprints: file.entries.into_iter().map(|e| e.fingerprint).collect(),
        })
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
    for o in &result.occurrences {
        entries
            .entry(o.fingerprint.clone())
            .or_insert_with(|| Entry {
                fingerprint: o.fingerprint.clone(),
                rule_id: o.rule_id.clone(),
                path: o.location.path.clone(),
                line: o.location.line,
            });
    }
    let mut entries: Vec<Entry> = entries.into_values().collect();
    entries.sort_by(|a, b| (&a.path, a.line, &a.rule_id).cmp(&(&b.path, b.line, &b.rule_id)));
    BaselineFile {
        version: VERSION,
        entries,
    }
}

pub fn read_file(path: &Path) -> anyhow::Result<Option<BaselineFile>> {
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read baseline {}", path.display()))?;
    Ok(Some(serde_json::from_str(&text).with_context(|| {
        format!("{} is not a till-scan baseline", path.display())
    })?))
}

pub fn write_file(path: &Path, file: &BaselineFile) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(file)?;
    text.push('\n');
    std::fs::write(path, text).with_context(|| format!("cannot write baseline {}", path.display()))
}
