//! What a scan produced, independent of the source it read and the format it
//! will be reported in: findings (one per distinct secret, with every place
//! it was seen), plus what was read, skipped and could not be read.

use std::time::Duration;

use crate::finding::{Finding, Occurrence};

/// Why a file or blob was not scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// NUL bytes in the first 8 KiB, and not UTF-16.
    Binary,
    /// Larger than `--max-file-size`.
    TooLarge { size: u64, limit: u64 },
    /// A symbolic link (not followed).
    Symlink,
    /// A FIFO, socket or device found by a directory walk: never opened,
    /// since reading one can block forever or never end.
    Special(&'static str),
    /// Inside an archive: not opened (nested too deep, or the scan's cap
    /// on decompressed bytes was reached); the text says which.
    Archive(String),
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::Binary => f.write_str("binary file"),
            SkipReason::TooLarge { size, limit } => {
                write!(
                    f,
                    "{size} bytes, over the size limit of {limit} bytes (--max-file-size)"
                )
            }
            SkipReason::Symlink => f.write_str("symbolic link, not followed"),
            SkipReason::Special(kind) => write!(f, "{kind}, not read"),
            SkipReason::Archive(why) => f.write_str(why),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: String,
    pub reason: SkipReason,
}

/// A problem with one input that did not stop the scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub path: String,
    pub message: String,
}

/// Counters and notes about a scan.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    pub skipped: Vec<Skipped>,
    pub errors: Vec<Diagnostic>,
    /// Matches dropped by an inline `till-scan:allow` / `gitleaks:allow` comment.
    pub allowed_inline: u64,
    /// Matches dropped by config allowlists.
    pub allowed_by_config: u64,
    /// Matches dropped because the baseline lists them.
    pub baselined: u64,
    /// Files and directories that ignore files (`.gitignore`, `.ignore`,
    /// `.till-scanignore`) left out of a directory scan; a directory counts
    /// once, whatever it holds.
    pub ignored: u64,
    /// Archives opened (nested ones included) and the members read from
    /// them; members' text is also counted in `files_scanned` and
    /// `bytes_scanned`.
    pub archives_scanned: u64,
    pub archive_members_scanned: u64,
    /// Baseline fingerprints that matched nothing in this scan.
    pub unused_baseline: Vec<String>,
    pub duration: Duration,
}

/// The result of one scan.
#[derive(Debug, Clone, Default)]
pub struct ScanResult {
    /// One entry per distinct secret (rule + secret), each with its
    /// locations in report order; sorted by their first location.
    pub findings: Vec<Finding>,
    pub summary: Summary,
}

impl ScanResult {
    /// Puts locations, findings, skips and errors in report order.
    pub fn sort(&mut self) {
        for f in &mut self.findings {
            f.locations.sort_by(|a, b| a.order(b));
        }
        self.findings.sort_by(|a, b| {
            a.locations
                .first()
                .zip(b.locations.first())
                .map_or(std::cmp::Ordering::Equal, |(x, y)| x.order(y))
                .then_with(|| a.rule.id.cmp(&b.rule.id))
        });
        self.summary.skipped.sort_by(|a, b| a.path.cmp(&b.path));
        self.summary.errors.sort_by(|a, b| a.path.cmp(&b.path));
    }

    /// Every location of every finding, in report order (by file, line,
    /// column, then rule id): what per-location formats list.
    pub fn occurrences(&self) -> Vec<Occurrence<'_>> {
        let mut all: Vec<Occurrence<'_>> = self
            .findings
            .iter()
            .flat_map(|finding| {
                finding
                    .locations
                    .iter()
                    .map(move |location| Occurrence { finding, location })
            })
            .collect();
        all.sort_by(|a, b| a.order(b));
        all
    }

    /// How many places secrets were found in, over all findings.
    pub fn occurrence_count(&self) -> usize {
        self.findings.iter().map(|f| f.locations.len()).sum()
    }

    /// How many files (or other places: a commit message, a ref) hold
    /// secrets; one file's copies in several commits count once.
    pub fn file_count(&self) -> usize {
        self.by_file().len()
    }

    /// The occurrences grouped by file, in report order.
    pub fn by_file(&self) -> Vec<Vec<Occurrence<'_>>> {
        let mut files: Vec<Vec<Occurrence<'_>>> = Vec::new();
        for o in self.occurrences() {
            match files.last_mut() {
                Some(file)
                    if file[0]
                        .location
                        .provenance
                        .same_file(&o.location.provenance) =>
                {
                    file.push(o)
                }
                _ => files.push(vec![o]),
            }
        }
        files
    }
}
