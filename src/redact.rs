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
    // Each part of a multi-part finding too: its values appear alone in text.
    let mut secrets: Vec<&Secret> = result.findings.iter().flat_map(|f| f.values()).collect();
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
    for location in copy.findings.iter_mut().flat_map(|f| &mut f.locations) {
        for name in location.provenance.names_mut() {
            mask(name);
        }
        if let Some(c) = location.provenance.commit_mut() {
            let c = std::sync::Arc::make_mut(c);
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
    use crate::finding::{CommitInfo, Finding};
    use crate::report::sample;
    use crate::scan::{Diagnostic, SkipReason, Skipped};

    const KEY: &str = "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";

    fn finding(path: &str, commit: Option<CommitInfo>) -> Finding {
        let location = sample::location(path, 1, 1, KEY, commit);
        sample::finding(&sample::rules()[0], KEY, vec![location])
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
            .findings
            .push(finding(&format!("keys/{KEY}.txt"), Some(commit)));
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
        let location = &masked.findings[0].locations[0];
        let c = location.provenance.commit().unwrap();
        assert_eq!(c.summary, "add gsk_u8******** and gsk_u8********");
        assert_eq!(c.author_name, "gsk_u8******** Bot");
        assert_eq!(location.provenance.path(), Some("keys/gsk_u8********.txt"));
        assert_eq!(masked.summary.skipped[0].path, "gsk_u8********.bin");
        assert_eq!(
            masked.summary.errors[0].message,
            "cannot read gsk_u8********"
        );
    }

    #[test]
    fn masks_each_part_of_a_multi_part_finding() {
        let mut result = sample::multi_part_result();
        result.summary.errors.push(Diagnostic {
            path: format!("keys/{}.txt", sample::PAIR_SECRET),
            message: format!("id {}", sample::PAIR_ID),
        });
        let masked = masked(&result).expect("fields to mask");
        let e = &masked.summary.errors[0];
        assert!(!e.path.contains(sample::PAIR_SECRET), "{}", e.path);
        assert!(!e.message.contains(sample::PAIR_ID), "{}", e.message);
    }

    #[test]
    fn nothing_to_mask_copies_nothing() {
        assert!(masked(&ScanResult::default()).is_none());
        let mut result = ScanResult::default();
        result.findings.push(finding("a.py", None));
        assert!(masked(&result).is_none());
    }
}
