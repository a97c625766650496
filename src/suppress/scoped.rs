//! Allowlists in gitleaks' terms, which till-scan's own `[allowlist]`
//! (gitignore globs, secret regexes, stopwords) cannot say: regexes on the
//! path relative to the scanned root, regexes on the whole match or on its
//! line, commit ids, each list possibly for some rules only; and the paths
//! a rule is limited to (a gitleaks rule's `path`). Every criterion of one
//! allowlist drops a finding on its own (gitleaks' `condition = "OR"`).
//!
//! Content criteria (secret, match, line) apply while a blob is scanned;
//! place criteria (path, commit) when a finding is tied to its path.

use std::path::{Path, PathBuf};

use ignore::gitignore::Gitignore;
use regex::bytes::Regex;

/// One allowlist, compiled.
#[derive(Debug, Default, Clone)]
pub struct ScopedAllow {
    /// Rule ids or globs (as `[rules]` reads them) it applies to; empty: all.
    pub rules: Vec<String>,
    /// Gitignore-style path patterns (till-scan's own kind of path).
    pub globs: Option<Gitignore>,
    pub path_regexes: Vec<Regex>,
    pub secret_regexes: Vec<Regex>,
    pub match_regexes: Vec<Regex>,
    pub line_regexes: Vec<Regex>,
    /// Lower case.
    pub stopwords: Vec<Vec<u8>>,
    /// Commit ids, lower case; a prefix of 7 or more hex digits is enough.
    pub commits: Vec<String>,
}

/// The allowlists and rule paths of one scan, with the root their paths
/// are relative to.
#[derive(Debug, Default, Clone)]
pub struct Scoped {
    root: PathBuf,
    allows: Vec<ScopedAllow>,
    /// Rule id -> the paths (relative to the root) where it runs.
    rule_paths: Vec<(String, Regex)>,
}

/// What a content check sees of one match.
pub struct MatchText<'a> {
    pub rule: &'a str,
    pub secret: &'a [u8],
    /// The whole match (the encoded span for a decoded one).
    pub whole: &'a [u8],
    /// The blob, for the line when a line regex asks for it.
    pub data: &'a [u8],
    pub start: usize,
}

impl ScopedAllow {
    fn applies_to(&self, rule: &str) -> bool {
        self.rules.is_empty()
            || self
                .rules
                .iter()
                .any(|p| crate::config::id_matches(p, rule))
    }

    pub fn is_empty(&self) -> bool {
        self.globs.is_none()
            && self.path_regexes.is_empty()
            && self.secret_regexes.is_empty()
            && self.match_regexes.is_empty()
            && self.line_regexes.is_empty()
            && self.stopwords.is_empty()
            && self.commits.is_empty()
    }
}

impl Scoped {
    pub fn new(root: &Path, allows: Vec<ScopedAllow>, rule_paths: Vec<(String, Regex)>) -> Scoped {
        Scoped {
            root: root.to_path_buf(),
            allows: allows.into_iter().filter(|a| !a.is_empty()).collect(),
            rule_paths,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.allows.is_empty() && self.rule_paths.is_empty()
    }

    /// Whether a secret, match or line criterion drops the match.
    pub fn content_allowed(&self, m: &MatchText<'_>) -> bool {
        let mut lower: Option<Vec<u8>> = None;
        for a in self.allows.iter().filter(|a| a.applies_to(m.rule)) {
            if a.secret_regexes.iter().any(|r| r.is_match(m.secret))
                || a.match_regexes.iter().any(|r| r.is_match(m.whole))
            {
                return true;
            }
            if !a.stopwords.is_empty() {
                let lower = lower.get_or_insert_with(|| m.secret.to_ascii_lowercase());
                if a.stopwords
                    .iter()
                    .any(|w| memchr::memmem::find(lower, w).is_some())
                {
                    return true;
                }
            }
            if !a.line_regexes.is_empty() {
                let line = line_at(m.data, m.start);
                if a.line_regexes.iter().any(|r| r.is_match(line)) {
                    return true;
                }
            }
        }
        false
    }

    /// Whether a path or commit criterion drops a finding of `rule` at
    /// `path` (as the scan reached it) in `commit`.
    pub fn place_allowed(&self, rule: &str, path: Option<&str>, commit: Option<&str>) -> bool {
        let rel = path.map(|p| relative(&self.root, p));
        self.allows.iter().filter(|a| a.applies_to(rule)).any(|a| {
            rel.is_some_and(|p| a.path_regexes.iter().any(|r| r.is_match(p.as_bytes())))
                || path.is_some_and(|p| {
                    a.globs
                        .as_ref()
                        .is_some_and(|g| super::ignored(g, Path::new(p), false))
                })
                || commit.is_some_and(|c| a.commits.iter().any(|k| same_commit(k, c)))
        })
    }

    /// False when `rule` is limited to paths and `path` is not one of them
    /// (text that is not a file, such as a commit message, is not either).
    pub fn rule_applies(&self, rule: &str, path: Option<&str>) -> bool {
        self.rule_paths
            .iter()
            .filter(|(id, _)| id == rule)
            .all(|(_, re)| path.is_some_and(|p| re.is_match(relative(&self.root, p).as_bytes())))
    }
}

/// A commit id against an allowlisted one (full, or a prefix of 7+).
fn same_commit(allowed: &str, commit: &str) -> bool {
    let commit = commit.to_ascii_lowercase();
    allowed.len() >= 7 && commit.starts_with(allowed)
}

/// The line of `data` holding `offset`, without its newline.
fn line_at(data: &[u8], offset: usize) -> &[u8] {
    let offset = offset.min(data.len());
    let start = memchr::memrchr(b'\n', &data[..offset]).map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', &data[offset..]).map_or(data.len(), |i| offset + i);
    &data[start..end]
}

/// `path` relative to `root` when it lies below it (a directory scan
/// reports paths as it reached them), else as it is (a history scan's
/// repository-relative path); without a leading `./`.
pub fn relative<'a>(root: &Path, path: &'a str) -> &'a str {
    let p = Path::new(path);
    let rel = match p.strip_prefix(root) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.to_str().unwrap_or(path),
        _ => path,
    };
    let mut rel = rel;
    while let Some(rest) = rel.strip_prefix("./") {
        rel = rest;
    }
    rel
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(s: &str) -> Regex {
        Regex::new(s).unwrap()
    }

    #[test]
    fn paths_are_relative_to_the_root() {
        assert_eq!(relative(Path::new("repo"), "repo/a/b.txt"), "a/b.txt");
        assert_eq!(relative(Path::new("."), "./a/b.txt"), "a/b.txt");
        assert_eq!(relative(Path::new("/r"), "a/b.txt"), "a/b.txt");
        assert_eq!(relative(Path::new("/r"), "/other/a"), "/other/a");
    }

    #[test]
    fn each_criterion_allows_on_its_own_and_rules_scope_them() {
        let s = Scoped::new(
            Path::new("/r"),
            vec![
                ScopedAllow {
                    path_regexes: vec![re(r"(^|/)testdata/")],
                    commits: vec!["abcdef1".into()],
                    ..ScopedAllow::default()
                },
                ScopedAllow {
                    rules: vec!["gitleaks.x".into()],
                    match_regexes: vec![re("^token=")],
                    line_regexes: vec![re("# fixture")],
                    stopwords: vec![b"notreal".to_vec()],
                    ..ScopedAllow::default()
                },
            ],
            vec![("gitleaks.x".into(), re(r"\.env$"))],
        );
        assert!(s.place_allowed("any", Some("/r/testdata/k"), None));
        assert!(!s.place_allowed("any", Some("/r/src/k"), None));
        assert!(s.place_allowed("any", None, Some("ABCDEF1234")));
        let data = b"a\ntoken=zz1 # fixture\nb";
        let m = |rule, secret: &'static [u8], whole: &'static [u8]| MatchText {
            rule,
            secret,
            whole,
            data,
            start: 2,
        };
        assert!(s.content_allowed(&m("gitleaks.x", b"zz1", b"token=zz1")));
        assert!(!s.content_allowed(&m("other", b"zz1", b"token=zz1")));
        assert!(s.content_allowed(&m("gitleaks.x", b"aNotRealb", b"k=")));
        assert!(s.rule_applies("gitleaks.x", Some("/r/a/.env")));
        assert!(!s.rule_applies("gitleaks.x", Some("/r/a/env.txt")));
        assert!(!s.rule_applies("gitleaks.x", None));
        assert!(s.rule_applies("other", Some("/r/a/env.txt")));
    }
}
