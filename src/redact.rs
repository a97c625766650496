//! Masks detected secrets wherever else a scan's result repeats them: in
//! commit summaries and author fields, in paths, in the notes about files
//! that were skipped or could not be read. A finding's own secret is already
//! a [`Secret`](crate::finding::Secret) that redacts itself; this covers the
//! free text around it, so a key committed in a message or an author name is
//! not printed by the report that finds it.

use aho_corasick::{AhoCorasick, MatchKind};

use crate::finding::Secret;
use crate::scan::ScanResult;

/// `result` with every detected secret masked in its free-text fields, or
/// `None` when no such field contains one (nothing to copy).
pub fn masked(result: &ScanResult) -> Option<ScanResult> {
    let mut secrets: Vec<&Secret> = result.occurrences.iter().map(|o| &o.secret).collect();
    secrets.sort();
    secrets.dedup();
    secrets.retain(|s| !s.expose().is_empty());
    if secrets.is_empty() {
        return None;
    }
    let masks: Vec<String> = secrets.iter().map(|s| s.redacted()).collect();
    // Longest first where secrets overlap, so a key that contains another is
    // masked whole.
    let finder = AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .build(secrets.iter().map(|s| s.expose()))
        .ok()?;
    let mut changed = false;
    let mut mask = |text: &mut String| {
        if finder.is_match(text.as_str()) {
            *text = finder.replace_all(text, &masks);
            changed = true;
        }
    };
    let mut copy = result.clone();
    for o in &mut copy.occurrences {
        mask(&mut o.location.path);
        if let Some(c) = &mut o.location.commit {
            mask(&mut c.author_name);
            mask(&mut c.author_email);
            mask(&mut c.summary);
        }
    }
    for s in &mut copy.summary.skipped {
        mask(&mut s.path);
    }
    for e in &mut copy.summary.errors {
        mask(&mut e.path);
        mask(&mut e.message);
    }
    changed.then_some(copy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{CommitInfo, Location, Occurrence};
    use crate::scan::{Diagnostic, SkipReason, Skipped};

    const KEY: &str = "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";

    fn occurrence(path: &str, commit: Option<CommitInfo>) -> Occurrence {
        Occurrence {
            rule_id: "groq.api-key".into(),
            rule_name: "Groq API key".into(),
            provider: "Groq".into(),
            till_provider: None,
            fingerprint: "f".into(),
            secret: Secret::new(KEY.as_bytes()),
            location: Location {
                path: path.into(),
                line: 1,
                column: 1,
                end_line: 1,
                end_column: 2,
                commit,
            },
        }
    }

    #[test]
    fn masks_the_secret_in_every_free_text_field() {
        let commit = CommitInfo {
            id: "0".repeat(40),
            author_name: format!("{KEY} Bot"),
            author_email: format!("{KEY}@example.com"),
            date: "2024-01-01T00:00:00Z".into(),
            summary: format!("add {KEY} and {KEY}"),
        };
        let mut result = ScanResult::default();
        result
            .occurrences
            .push(occurrence(&format!("keys/{KEY}.txt"), Some(commit)));
        result.summary.skipped.push(Skipped {
            path: format!("{KEY}.bin"),
            reason: SkipReason::Binary,
        });
        result.summary.errors.push(Diagnostic {
            path: "x".into(),
            message: format!("cannot read {KEY}"),
        });
        let masked = masked(&result).expect("fields to mask");
        let text = format!("{masked:?}");
        assert!(!text.contains(KEY), "{text}");
        // The first characters stay, as in the finding's own display.
        let c = masked.occurrences[0].location.commit.as_ref().unwrap();
        assert_eq!(c.summary, "add gsk_u8******** and gsk_u8********");
        assert_eq!(c.author_name, "gsk_u8******** Bot");
        assert_eq!(
            masked.occurrences[0].location.path,
            "keys/gsk_u8********.txt"
        );
        assert_eq!(masked.summary.skipped[0].path, "gsk_u8********.bin");
        assert_eq!(
            masked.summary.errors[0].message,
            "cannot read gsk_u8********"
        );
    }

    #[test]
    fn nothing_to_mask_copies_nothing() {
        assert!(masked(&ScanResult::default()).is_none());
        let mut result = ScanResult::default();
        result.occurrences.push(occurrence("a.py", None));
        assert!(masked(&result).is_none());
    }
}
