//! The engine every source shares: one blob in, occurrences out, with the
//! suppressions applied (inline allow comments, config allowlists, the
//! baseline). Shared state is a few atomics and mutexes touched only when a
//! blob has matches; each worker thread owns a [`Worker`] with its buffers.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::baseline::Baseline;
use crate::config::Allowlist;
use crate::finding::{fingerprint, CommitInfo, LineIndex, Location, Occurrence, Secret};
use crate::matcher::{Match, Matcher, Scratch};
use crate::scan::{Diagnostic, ScanResult, Skipped, Summary};

/// Comments that mark a line's secret as a known false positive.
const INLINE_ALLOW: &[&[u8]] = &[b"till-scan:allow", b"gitleaks:allow"];

pub mod text;

pub use text::{decode_as, decode_text, Text, BINARY_SNIFF_LEN};

/// True when the first bytes of `data` contain a NUL. This also calls UTF-16
/// binary: sources that can scan UTF-16 use [`decode_text`] instead.
pub fn looks_binary(data: &[u8]) -> bool {
    memchr::memchr(0, &data[..data.len().min(BINARY_SNIFF_LEN)]).is_some()
}

/// Matcher plus suppressions, shared by all worker threads of one scan.
pub struct Scanner {
    pub matcher: Matcher,
    pub allowlist: Allowlist,
    pub baseline: Option<Baseline>,
    tally: Tally,
}

#[derive(Default)]
struct Tally {
    files: AtomicU64,
    bytes: AtomicU64,
    allowed_inline: AtomicU64,
    allowed_by_config: AtomicU64,
    baselined: AtomicU64,
    occurrences: Mutex<Vec<Occurrence>>,
    skipped: Mutex<Vec<Skipped>>,
    errors: Mutex<Vec<Diagnostic>>,
    baseline_used: Mutex<HashSet<String>>,
}

/// A secret found in one blob, before it is tied to a path and commit.
#[derive(Debug, Clone)]
pub struct BlobHit {
    /// Index of the rule in the matcher.
    pub rule: usize,
    pub fingerprint: String,
    pub secret: Secret,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

/// Per-thread state: matcher scratch space and reusable buffers.
#[derive(Default)]
pub struct Worker {
    scratch: Scratch,
    matches: Vec<Match>,
    /// Read buffer for sources that load blobs from disk.
    pub buffer: Vec<u8>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means another worker panicked mid-push; the data is
    // still a valid Vec, so keep going rather than turn one bug into two.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Scanner {
    pub fn new(matcher: Matcher, allowlist: Allowlist, baseline: Option<Baseline>) -> Scanner {
        Scanner {
            matcher,
            allowlist,
            baseline,
            tally: Tally::default(),
        }
    }

    pub fn skip(&self, path: String, reason: crate::scan::SkipReason) {
        lock(&self.tally.skipped).push(Skipped { path, reason });
    }

    pub fn error(&self, path: String, message: String) {
        lock(&self.tally.errors).push(Diagnostic { path, message });
    }

    /// Scans one blob and records its occurrences. `path` is what reports
    /// show; `commit` is set by history scans.
    pub fn scan_blob(
        &self,
        worker: &mut Worker,
        data: &[u8],
        path: &str,
        commit: Option<&CommitInfo>,
    ) {
        let hits = self.find(worker, data);
        self.record(&hits, path, commit);
    }

    /// The secrets in one blob, with inline allow comments, the secret
    /// allowlists and the baseline applied; not yet tied to a path.
    pub fn find(&self, worker: &mut Worker, data: &[u8]) -> Vec<BlobHit> {
        self.tally.files.fetch_add(1, Ordering::Relaxed);
        self.tally
            .bytes
            .fetch_add(data.len() as u64, Ordering::Relaxed);
        self.find_metadata(worker, data)
    }

    /// Like [`Scanner::find`] for text that is not a file (a commit's
    /// author and message): not counted among the files scanned.
    pub fn find_metadata(&self, worker: &mut Worker, data: &[u8]) -> Vec<BlobHit> {
        worker.matches.clear();
        self.matcher
            .scan(data, &mut worker.scratch, &mut worker.matches);
        if worker.matches.is_empty() {
            return Vec::new();
        }
        worker
            .matches
            .sort_by_key(|m| (m.secret.start, m.secret.end, m.rule));
        worker
            .matches
            .dedup_by(|b, a| a.rule == b.rule && a.secret == b.secret);
        self.drop_shadowed_fallbacks(&mut worker.matches);
        let mut lines = LineIndex::new(data);
        let mut hits = Vec::new();
        for m in &worker.matches {
            if inline_allowed(data, m) {
                self.tally.allowed_inline.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let secret_bytes = &data[m.secret.clone()];
            if self.allowlist.secret_allowed(secret_bytes) {
                self.tally.allowed_by_config.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let rule = self.matcher.rule(m.rule);
            let secret = Secret::new(secret_bytes);
            let fp = fingerprint(&rule.id, secret.expose());
            if let Some(baseline) = &self.baseline {
                if baseline.contains(&fp) {
                    self.tally.baselined.fetch_add(1, Ordering::Relaxed);
                    lock(&self.tally.baseline_used).insert(fp);
                    continue;
                }
            }
            let (line, column) = lines.locate(m.secret.start);
            let (end_line, end_column) = lines.locate(m.secret.end);
            hits.push(BlobHit {
                rule: m.rule,
                fingerprint: fp,
                secret,
                line,
                column,
                end_line,
                end_column,
            });
        }
        hits
    }

    /// Records hits found in a blob at `path` (config path allowlists apply).
    pub fn record(&self, hits: &[BlobHit], path: &str, commit: Option<&CommitInfo>) {
        if hits.is_empty() {
            return;
        }
        if self.allowlist.path_allowed(path) {
            self.tally
                .allowed_by_config
                .fetch_add(hits.len() as u64, Ordering::Relaxed);
            return;
        }
        let found = hits.iter().map(|h| {
            let rule = self.matcher.rule(h.rule);
            Occurrence {
                rule_id: rule.id.clone(),
                rule_name: rule.name.clone(),
                provider: rule.provider.clone(),
                till_provider: rule.till_provider.clone(),
                fingerprint: h.fingerprint.clone(),
                secret: h.secret.clone(),
                location: Location {
                    path: path.to_string(),
                    line: h.line,
                    column: h.column,
                    end_line: h.end_line,
                    end_column: h.end_column,
                    commit: commit.cloned(),
                },
            }
        });
        lock(&self.tally.occurrences).extend(found);
    }

    /// Removes matches of fallback rules whose secret overlaps the secret of
    /// a specific rule's match: one key, one finding, under its real name.
    fn drop_shadowed_fallbacks(&self, matches: &mut Vec<Match>) {
        let is_fallback = |m: &Match| self.matcher.rule(m.rule).fallback;
        if !matches.iter().any(is_fallback) {
            return;
        }
        let specific: Vec<std::ops::Range<usize>> = matches
            .iter()
            .filter(|m| !is_fallback(m))
            .map(|m| m.secret.clone())
            .collect();
        matches.retain(|m| {
            !is_fallback(m)
                || !specific
                    .iter()
                    .any(|s| s.start < m.secret.end && m.secret.start < s.end)
        });
    }

    /// Collects everything recorded so far into a sorted result.
    pub fn finish(&self, duration: std::time::Duration) -> ScanResult {
        let t = &self.tally;
        let unused_baseline = match &self.baseline {
            Some(b) => {
                let used = lock(&t.baseline_used);
                b.fingerprints()
                    .filter(|f| !used.contains(*f))
                    .map(String::from)
                    .collect()
            }
            None => Vec::new(),
        };
        let mut result = ScanResult {
            occurrences: std::mem::take(&mut *lock(&t.occurrences)),
            summary: Summary {
                files_scanned: t.files.load(Ordering::Relaxed),
                bytes_scanned: t.bytes.load(Ordering::Relaxed),
                skipped: std::mem::take(&mut *lock(&t.skipped)),
                errors: std::mem::take(&mut *lock(&t.errors)),
                allowed_inline: t.allowed_inline.load(Ordering::Relaxed),
                allowed_by_config: t.allowed_by_config.load(Ordering::Relaxed),
                baselined: t.baselined.load(Ordering::Relaxed),
                unused_baseline,
                duration,
            },
        };
        result.sort();
        result
    }
}

/// True when a line the match touches carries an inline allow comment.
fn inline_allowed(data: &[u8], m: &Match) -> bool {
    let start = memchr::memrchr(b'\n', &data[..m.span.start]).map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', &data[m.span.end..]).map_or(data.len(), |i| m.span.end + i);
    let lines = &data[start..end];
    INLINE_ALLOW
        .iter()
        .any(|marker| memchr::memmem::find(lines, marker).is_some())
}
