//! What another scanner's accepted list gives the baseline: secrets (a
//! gitleaks report with `Secret` unredacted) and places (a `.gitleaksignore`
//! fingerprint, or a report entry whose secret was redacted), since their
//! fingerprints hash other rule ids than till-scan's. A secret matches a
//! finding with the same secret under any rule; a place matches a finding at
//! that file and line (and commit, when it names one), under the rule it
//! names when that rule was translated to a till-scan rule, else under any
//! rule (gitleaks' built-in ids have no till-scan twin).

use std::path::Path;

use sha2::{Digest, Sha256};

/// A place another tool accepted a finding at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// Full commit id, for a history finding.
    pub commit: Option<String>,
    /// As the tool reported it (relative to where it ran, or absolute).
    pub path: String,
    /// The tool's rule id.
    pub rule: String,
    pub line: usize,
}

/// Secrets (hashed) and places, with the till-scan rule ids that the
/// places' rule ids translate to.
#[derive(Debug, Clone, Default)]
pub struct Foreign {
    secrets: std::collections::HashSet<String>,
    places: Vec<Place>,
    /// `(tool rule id, till-scan rule id)` of rules that were translated.
    rule_map: Vec<(String, String)>,
}

/// The hash a secret is kept as: the list never holds a secret in clear.
pub fn secret_hash(secret: &[u8]) -> String {
    let digest = Sha256::digest(secret);
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

impl Foreign {
    pub fn new(secrets: Vec<Vec<u8>>, places: Vec<Place>) -> Foreign {
        Foreign {
            secrets: secrets.iter().map(|s| secret_hash(s)).collect(),
            places,
            rule_map: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty() && self.places.is_empty()
    }

    pub fn len(&self) -> usize {
        self.secrets.len() + self.places.len()
    }

    pub fn merge(&mut self, other: Foreign) {
        self.secrets.extend(other.secrets);
        self.places.extend(other.places);
    }

    /// Tells which tool rule ids are loaded till-scan rules.
    pub fn set_rule_map(&mut self, map: Vec<(String, String)>) {
        self.rule_map = map;
    }

    /// The tool rule ids the places name.
    pub fn place_rules(&self) -> impl Iterator<Item = &str> {
        let mut ids: Vec<&str> = self.places.iter().map(|p| p.rule.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter()
    }

    pub fn contains_secret(&self, secret: &[u8]) -> bool {
        !self.secrets.is_empty() && self.secrets.contains(&secret_hash(secret))
    }

    /// Whether a place accepts a finding of `rule` at `path` (relative to
    /// the scanned root), `line`, in `commit`.
    pub fn place_matches(&self, rule: &str, path: &str, line: usize, commit: Option<&str>) -> bool {
        self.matching_place(rule, path, line, commit).is_some()
    }

    /// The index of the first place that accepts a finding of `rule` at
    /// `path` (relative to the scanned root), `line`, in `commit`.
    pub fn matching_place(
        &self,
        rule: &str,
        path: &str,
        line: usize,
        commit: Option<&str>,
    ) -> Option<usize> {
        self.places.iter().position(|p| {
            p.line == line
                && same_path(&p.path, path)
                && p.commit
                    .as_deref()
                    .is_none_or(|c| commit.is_some_and(|f| f.eq_ignore_ascii_case(c)))
                && self
                    .rule_map
                    .iter()
                    .find(|(tool, _)| *tool == p.rule)
                    .is_none_or(|(_, ours)| ours == rule)
        })
    }

    pub fn places(&self) -> &[Place] {
        &self.places
    }
}

/// The tool's path against ours (relative to the scanned root): the same,
/// or the tool's is absolute and ends with ours after a `/` (it was given
/// the root as an absolute path).
fn same_path(theirs: &str, ours: &str) -> bool {
    let theirs = theirs.strip_prefix("./").unwrap_or(theirs);
    let ours = ours.strip_prefix("./").unwrap_or(ours);
    theirs == ours
        || (theirs.starts_with('/')
            && theirs.len() > ours.len()
            && theirs.ends_with(ours)
            && theirs.as_bytes()[theirs.len() - ours.len() - 1] == b'/')
        || Path::new(theirs) == Path::new(ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(commit: Option<&str>, path: &str, rule: &str, line: usize) -> Place {
        Place {
            commit: commit.map(String::from),
            path: path.into(),
            rule: rule.into(),
            line,
        }
    }

    #[test]
    fn places_match_by_file_line_commit_and_translated_rule() {
        let mut f = Foreign::new(
            vec![b"s3cr3t".to_vec()],
            vec![
                place(None, "src/a.env", "generic-api-key", 3),
                place(Some("ABC123"), "b.txt", "acme-token", 7),
            ],
        );
        f.set_rule_map(vec![("acme-token".into(), "gitleaks.acme-token".into())]);
        assert!(f.contains_secret(b"s3cr3t"));
        assert!(!f.contains_secret(b"s3cr3"));
        // An untranslated rule id accepts any rule.
        assert!(f.place_matches("openai.project-key", "src/a.env", 3, None));
        assert!(f.place_matches("x", "src/a.env", 3, Some("abc")));
        assert!(!f.place_matches("x", "src/a.env", 4, None));
        assert!(!f.place_matches("x", "a.env", 3, None));
        // A commit place needs that commit; a translated rule needs its rule.
        assert!(f.place_matches("gitleaks.acme-token", "b.txt", 7, Some("abc123")));
        assert!(!f.place_matches("gitleaks.acme-token", "b.txt", 7, None));
        assert!(!f.place_matches("other.rule", "b.txt", 7, Some("abc123")));
        assert!(same_path("/abs/repo/b.txt", "b.txt"));
        assert!(!same_path("/abs/repob.txt", "b.txt"));
    }
}
