//! What keeps a match from being reported, in one place: the config's
//! allow lists (paths, secret regexes, stopwords), inline allow comments,
//! and the ignore files and patterns that keep paths from being scanned at
//! all. The baseline (`crate::baseline`) is the other suppression; the
//! scanner applies all of them. Nothing here knows about the config file or
//! the sources, so both can use it.

use std::path::Path;

use ignore::gitignore::Gitignore;
use regex::bytes::Regex;

pub mod scoped;

pub use scoped::{MatchText, Scoped, ScopedAllow};

/// Ignore file specific to till-scan, in gitignore syntax.
pub const IGNORE_FILE_NAME: &str = ".till-scanignore";

/// Comments that mark a line's secret as a known false positive.
const INLINE_ALLOW: &[&[u8]] = &[b"till-scan:allow", b"gitleaks:allow"];

/// True when `path` matches a gitignore-style matcher. Paths outside the
/// matcher's root never match (the `ignore` crate would panic on them).
pub fn ignored(matcher: &Gitignore, path: &Path, is_dir: bool) -> bool {
    let relative = match path.strip_prefix(matcher.path()) {
        Ok(rel) => rel,
        Err(_) if path.has_root() => return false,
        Err(_) => path.strip_prefix("./").unwrap_or(path),
    };
    if relative.as_os_str().is_empty() || relative.has_root() {
        return false;
    }
    matcher
        .matched_path_or_any_parents(relative, is_dir)
        .is_ignore()
}

/// Config allowlists, applied to every finding.
#[derive(Debug, Default, Clone)]
pub struct Allowlist {
    paths: Option<Gitignore>,
    regexes: Vec<Regex>,
    stopwords: Vec<Vec<u8>>,
    /// Gitleaks-style allowlists and rule paths (see [`scoped`]).
    scoped: Scoped,
}

impl Allowlist {
    /// Paths (gitignore patterns), secret regexes, and stopwords (lower
    /// case) whose findings are dropped.
    pub fn new(
        paths: Option<Gitignore>,
        regexes: Vec<Regex>,
        stopwords: Vec<Vec<u8>>,
    ) -> Allowlist {
        Allowlist {
            paths,
            regexes,
            stopwords,
            scoped: Scoped::default(),
        }
    }

    /// Adds gitleaks-style allowlists and rule paths.
    pub fn with_scoped(mut self, scoped: Scoped) -> Allowlist {
        self.scoped = scoped;
        self
    }

    pub fn scoped(&self) -> &Scoped {
        &self.scoped
    }

    pub fn path_allowed(&self, path: &str) -> bool {
        self.paths
            .as_ref()
            .is_some_and(|g| ignored(g, Path::new(path), false))
    }

    pub fn secret_allowed(&self, secret: &[u8]) -> bool {
        if self.regexes.iter().any(|r| r.is_match(secret)) {
            return true;
        }
        if self.stopwords.is_empty() {
            return false;
        }
        let lower = secret.to_ascii_lowercase();
        self.stopwords
            .iter()
            .any(|w| memchr::memmem::find(&lower, w).is_some())
    }
}

/// Where a blob's inline allow comments are, found in one pass, so that
/// many matches on one long line cost one pass over it rather than one each.
pub struct InlineAllows<'a> {
    data: &'a [u8],
    /// `(start, end)` of every marker, by start.
    markers: Vec<(usize, usize)>,
    /// The last line looked up, `[start, end)` without its newline.
    line: Option<(usize, usize)>,
}

impl<'a> InlineAllows<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        let mut markers: Vec<(usize, usize)> = INLINE_ALLOW
            .iter()
            .flat_map(|marker| {
                memchr::memmem::find_iter(data, marker).map(|at| (at, at + marker.len()))
            })
            .collect();
        markers.sort_unstable();
        InlineAllows {
            data,
            markers,
            line: None,
        }
    }

    /// The line containing `offset`, remembered for the next match.
    fn line_of(&mut self, offset: usize) -> (usize, usize) {
        if let Some((start, end)) = self.line {
            if (start..=end).contains(&offset) {
                return (start, end);
            }
        }
        let data = self.data;
        let start = memchr::memrchr(b'\n', &data[..offset]).map_or(0, |i| i + 1);
        let end = memchr::memchr(b'\n', &data[offset..]).map_or(data.len(), |i| offset + i);
        self.line = Some((start, end));
        (start, end)
    }

    /// True when a line that `span` (a match) touches carries an inline
    /// allow comment.
    pub fn allows(&mut self, span: &std::ops::Range<usize>) -> bool {
        if self.markers.is_empty() {
            return false;
        }
        let start = self.line_of(span.start).0;
        let end = self.line_of(span.end).1;
        let first = self.markers.partition_point(|&(s, _)| s < start);
        self.markers[first..]
            .iter()
            .take_while(|&&(s, _)| s < end)
            .any(|&(_, e)| e <= end)
    }
}
