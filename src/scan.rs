//! What a scan produced, independent of the source it read and the format it
//! will be reported in: occurrences of secrets, plus what was read, skipped
//! and could not be read.

use std::time::Duration;

use crate::finding::Occurrence;

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
    /// Baseline fingerprints that matched nothing in this scan.
    pub unused_baseline: Vec<String>,
    pub duration: Duration,
}

/// The result of one scan.
#[derive(Debug, Clone, Default)]
pub struct ScanResult {
    /// One entry per occurrence, sorted by path, line and column.
    pub occurrences: Vec<Occurrence>,
    pub summary: Summary,
}

impl ScanResult {
    pub fn sort(&mut self) {
        self.occurrences.sort_by(|a, b| {
            (
                &a.location.path,
                a.location.line,
                a.location.column,
                &a.rule_id,
            )
                .cmp(&(
                    &b.location.path,
                    b.location.line,
                    b.location.column,
                    &b.rule_id,
                ))
        });
        self.summary.skipped.sort_by(|a, b| a.path.cmp(&b.path));
        self.summary.errors.sort_by(|a, b| a.path.cmp(&b.path));
    }
}
