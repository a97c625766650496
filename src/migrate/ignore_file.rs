//! `.gitleaksignore` and `.betterleaksignore`: one gitleaks fingerprint a
//! line, `commit:file:rule-id:line` (history scans) or `file:rule-id:line`
//! (directory scans), `#` comments and blank lines. Each becomes a
//! [`Place`]; a line that is no fingerprint is counted, not fatal (gitleaks
//! skips it too).

use std::path::{Path, PathBuf};

use crate::baseline::Place;

/// The ignore files looked for at the scanned root, in this order.
pub const IGNORE_FILES: &[&str] = &[".gitleaksignore", ".betterleaksignore"];

/// What one ignore file holds.
#[derive(Debug, Default)]
pub struct IgnoreFile {
    pub path: PathBuf,
    pub places: Vec<Place>,
    /// Line numbers of lines that are no fingerprint.
    pub bad_lines: Vec<usize>,
}

/// Parses one fingerprint.
pub fn parse_fingerprint(text: &str) -> Option<Place> {
    let text = text.trim();
    let (rest, line) = text.rsplit_once(':')?;
    let line: usize = line.trim().parse().ok().filter(|l| *l > 0)?;
    let (rest, rule) = rest.rsplit_once(':')?;
    if rule.is_empty() {
        return None;
    }
    let (commit, path) = match rest.split_once(':') {
        Some((c, p)) if c.len() >= 7 && c.chars().all(|c| c.is_ascii_hexdigit()) => {
            (Some(c.to_ascii_lowercase()), p)
        }
        _ => (None, rest),
    };
    if path.is_empty() {
        return None;
    }
    Some(Place {
        commit,
        path: path.to_string(),
        rule: rule.to_string(),
        line,
    })
}

pub fn parse(text: &str) -> (Vec<Place>, Vec<usize>) {
    let mut places = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        match parse_fingerprint(l) {
            Some(p) => places.push(p),
            None => bad.push(i + 1),
        }
    }
    (places, bad)
}

/// The ignore files at `root` that exist, read.
pub fn load(root: &Path) -> anyhow::Result<Vec<IgnoreFile>> {
    let mut out = Vec::new();
    for name in IGNORE_FILES {
        let path = root.join(name);
        if !path.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let (places, bad_lines) = parse(&text);
        out.push(IgnoreFile {
            path,
            places,
            bad_lines,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_of_both_scans_parse() {
        let (places, bad) = parse(
            "# accepted\n\nsrc/a.env:generic-api-key:3\n0123456789abcdef0123456789abcdef01234567:c:/x:y.txt:acme-key:12\nnot a fingerprint\nf:r:0\n",
        );
        assert_eq!(bad, vec![5, 6]);
        assert_eq!(places[0].path, "src/a.env");
        assert_eq!(places[0].rule, "generic-api-key");
        assert_eq!(places[0].line, 3);
        assert_eq!(places[0].commit, None);
        assert_eq!(places[1].path, "c:/x:y.txt");
        assert_eq!(places[1].rule, "acme-key");
        assert_eq!(
            places[1].commit.as_deref(),
            Some("0123456789abcdef0123456789abcdef01234567")
        );
    }
}
