//! Matches become findings: a [`Secret`] that redacts itself, a [`Location`]
//! (a [`Provenance`], line and column), and a fingerprint that hashes the
//! rule id and the secret, so one secret in many places is one [`Finding`]
//! with many locations.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use sha2::{Digest, Sha256};

pub use crate::decode::Encoding;
pub use crate::provenance::{CommitInfo, Provenance};
use crate::rules::Rule;

/// A captured secret. `Debug` and `Display` redact; only [`Secret::expose`]
/// gives the value, and callers must have the user's `--no-redact` to print it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Secret(String);

impl Secret {
    pub fn new(bytes: &[u8]) -> Secret {
        Secret(String::from_utf8_lossy(bytes).into_owned())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A few leading characters, enough to recognise a key's kind, then stars.
    pub fn redacted(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        let shown = (chars.len() / 5).min(6);
        let mut out: String = chars[..shown].iter().collect();
        out.push_str("********");
        out
    }

    /// The secret as a report shows it.
    pub fn display(&self, redact: bool) -> String {
        if redact {
            self.redacted()
        } else {
            self.0.clone()
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.redacted())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// The stable id of a finding: SHA-256 of `rule id`, a NUL byte and the
/// secret, as 32 hex digits. Baselines and SARIF fingerprints use it.
pub fn fingerprint(rule_id: &str, secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(rule_id.as_bytes());
    h.update([0u8]);
    h.update(secret.as_bytes());
    let digest = h.finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Where one occurrence of a secret is. Lines and columns are 1-based;
/// columns count Unicode scalar values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub provenance: Provenance,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// How the secret was encoded at this place, outermost first (empty when
    /// it was there in plain text); the line and columns are then those of
    /// the encoded text.
    pub decoded: Vec<Encoding>,
    /// For a multi-part finding, where each part is at this place, in the
    /// order of [`Finding::parts`] (the location above spans them all);
    /// empty otherwise.
    pub parts: Vec<PartLocation>,
    /// The secret's line around it, for the human report (`None` where the
    /// scan kept none).
    pub context: Option<LineContext>,
}

/// Byte spans sorted by start, with the furthest end reached so far, so that
/// the spans overlapping a window are found without a pass over all of them
/// (a blob may hold thousands of matches).
#[derive(Debug, Default)]
pub struct Spans {
    spans: Vec<std::ops::Range<usize>>,
    reach: Vec<usize>,
}

impl Spans {
    pub fn new(mut spans: Vec<std::ops::Range<usize>>) -> Spans {
        spans.sort_unstable_by_key(|s| s.start);
        let reach = spans
            .iter()
            .scan(0, |far, s| {
                *far = s.end.max(*far);
                Some(*far)
            })
            .collect();
        Spans { spans, reach }
    }

    /// The spans that overlap `a..b`.
    pub fn overlapping(&self, a: usize, b: usize) -> impl Iterator<Item = &std::ops::Range<usize>> {
        let before = self.spans.partition_point(|s| s.start < b);
        // `reach` only grows: the spans before the first that reaches past
        // `a` all end at or before it.
        let first = self.reach[..before].partition_point(|&far| far <= a);
        self.spans[first..before].iter().filter(move |s| s.end > a)
    }
}

/// The text around a secret on its line, clipped to [`LineContext::REACH`]
/// bytes on each side; every other matched span in it is already replaced by
/// `********` (so no other key can show here, even with `--no-redact`).
/// `span` is the secret's own text (or the encoded text it was decoded
/// from): reports redact it like a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineContext {
    pub before: String,
    pub span: String,
    pub after: String,
}

impl LineContext {
    /// Bytes of context kept on each side of the secret.
    pub const REACH: usize = 60;

    /// The context of `range` in `data`, with `masks` (other matched spans)
    /// replaced.
    pub fn around(data: &[u8], range: &std::ops::Range<usize>, masks: &Spans) -> LineContext {
        // Only REACH bytes either side are looked at, never the whole line:
        // a minified file is one long line with many secrets, and a search
        // to the line's ends from each would cost the square of its length.
        let start = range.start.min(data.len());
        let from = start.saturating_sub(Self::REACH);
        let line_start = memchr::memrchr(b'\n', &data[from..start]).map_or(from, |i| from + i + 1);
        let end = range.end.clamp(start, data.len());
        let end = memchr::memchr(b'\n', &data[start..end]).map_or(end, |i| start + i);
        let reach = (end + Self::REACH).min(data.len());
        let line_end = memchr::memchr(b'\n', &data[end..reach]).map_or(reach, |i| end + i);
        let (from, to) = (line_start, line_end);
        let piece = |a: usize, b: usize| -> String {
            let mut out = String::new();
            let mut at = a;
            let mut others: Vec<&std::ops::Range<usize>> = masks
                .overlapping(a, b)
                .filter(|m| !(m.start >= start && m.end <= end))
                .collect();
            others.sort_by_key(|m| m.start);
            for m in others {
                if m.start > at {
                    out.push_str(&String::from_utf8_lossy(&data[at..m.start]));
                }
                if m.end > at {
                    out.push_str("********");
                    at = m.end.min(b);
                }
            }
            if at < b {
                out.push_str(&String::from_utf8_lossy(&data[at..b]));
            }
            out
        };
        let mut before = piece(from, start).trim_start().to_string();
        if from > 0 && data[from - 1] != b'\n' {
            before.insert(0, '…');
        }
        let mut after = piece(end, to).trim_end().to_string();
        if to < data.len() && data[to] != b'\n' {
            after.push('…');
        }
        LineContext {
            before,
            span: String::from_utf8_lossy(&data[start..end]).into_owned(),
            after,
        }
    }

    /// The line as a report shows it: the secret redacted unless `redact`
    /// is false.
    pub fn shown(&self, redact: bool) -> String {
        let span = if redact {
            Secret::new(self.span.as_bytes()).redacted()
        } else {
            self.span.clone()
        };
        format!("{}{span}{}", self.before, self.after)
    }
}

/// Where one part of a multi-part finding is (as [`Location`]'s fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartLocation {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

/// One named part of a multi-part finding (an AWS key id and its secret
/// key): the rule that matched it and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The name the multi-part rule gives it (`id`, `secret`).
    pub name: String,
    /// The rule whose match it is.
    pub rule_id: String,
    pub secret: Secret,
}

/// What a multi-part finding's secret is: its parts' values joined with a
/// newline (which no part's value contains), in the rule's order; its
/// fingerprint hashes this.
pub fn join_parts<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    values.into_iter().collect::<Vec<_>>().join("\n")
}

impl Location {
    /// The order reports list locations in: by file, line and column.
    pub fn order(&self, other: &Location) -> Ordering {
        self.provenance
            .order(&other.provenance)
            .then(self.line.cmp(&other.line))
            .then(self.column.cmp(&other.column))
    }
}

/// A distinct secret: the rule that matched it, the secret, its
/// fingerprint, and every place it was seen (in report order). This is what
/// scans produce and what reports, baselines and rotation consume.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The rule, shared with the matcher: its metadata is not copied.
    pub rule: Arc<Rule>,
    pub secret: Secret,
    pub fingerprint: String,
    pub locations: Vec<Location>,
    /// The named parts of a multi-part finding (empty for one secret);
    /// `secret` is then their values joined by [`join_parts`].
    pub parts: Vec<Part>,
    /// Whether the provider accepts it, when the user asked (`--validate`).
    pub validation: Option<crate::validate::Validation>,
}

impl Finding {
    /// A finding of `secret` matched by `rule`, with no location yet.
    pub fn new(rule: Arc<Rule>, secret: Secret) -> Finding {
        let fingerprint = fingerprint(&rule.id, secret.expose());
        Finding {
            rule,
            secret,
            fingerprint,
            locations: Vec::new(),
            parts: Vec::new(),
            validation: None,
        }
    }

    /// The part named `name` of a multi-part finding.
    pub fn part(&self, name: &str) -> Option<&Secret> {
        self.parts
            .iter()
            .find(|p| p.name == name)
            .map(|p| &p.secret)
    }

    /// The secret as reports show it: the value, or for a multi-part
    /// finding each part by name (`id AKIAVQ********, secret 4Qhoxh********`),
    /// each redacted like a single secret unless `redact` is false.
    pub fn shown(&self, redact: bool) -> String {
        if self.parts.is_empty() {
            return self.secret.display(redact);
        }
        self.parts
            .iter()
            .map(|p| format!("{} {}", p.name, p.secret.display(redact)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Every value a report must never print unredacted: the secret, and
    /// each part of a multi-part finding.
    pub fn values(&self) -> impl Iterator<Item = &Secret> {
        std::iter::once(&self.secret).chain(self.parts.iter().map(|p| &p.secret))
    }
}

/// One place of one finding: the unit of the per-location report formats.
#[derive(Debug, Clone, Copy)]
pub struct Occurrence<'a> {
    pub finding: &'a Finding,
    pub location: &'a Location,
}

impl Occurrence<'_> {
    /// The order reports list occurrences in: location, then rule id.
    pub fn order(&self, other: &Occurrence<'_>) -> Ordering {
        self.location
            .order(other.location)
            .then_with(|| self.finding.rule.id.cmp(&other.finding.rule.id))
    }
}

/// Turns byte offsets into 1-based line and column numbers, walking the blob
/// once for a batch of sorted offsets (only blobs with matches pay for it).
pub struct LineIndex<'a> {
    data: &'a [u8],
    pos: usize,
    line: usize,
    line_start: usize,
    /// A position on the current line where a character starts, and the
    /// column count up to it: many offsets on one long line count their
    /// columns from here instead of from the line's start (which would cost
    /// the square of the line's length).
    mark: usize,
    mark_chars: usize,
}

impl<'a> LineIndex<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        LineIndex {
            data,
            pos: 0,
            line: 1,
            line_start: 0,
            mark: 0,
            mark_chars: 0,
        }
    }

    /// Line and column of `offset`; offsets must be asked in increasing order
    /// for the walk to stay linear (a smaller one restarts from the top).
    pub fn locate(&mut self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.data.len());
        if offset < self.pos {
            *self = LineIndex::new(self.data);
        }
        if let Some(nl) = memchr::memrchr(b'\n', &self.data[self.pos..offset]) {
            self.line += memchr::memchr_iter(b'\n', &self.data[self.pos..offset]).count();
            self.line_start = self.pos + nl + 1;
            self.mark = self.line_start;
            self.mark_chars = 0;
        }
        self.pos = offset;
        let chars = self.mark_chars + lossy_chars(&self.data[self.mark..offset]);
        // Decoding restarts at any byte that is not a UTF-8 continuation
        // byte, so counting from such a byte gives the same total as
        // counting from the line's start.
        if self.data.get(offset).is_none_or(|&b| b & 0xC0 != 0x80) {
            self.mark = offset;
            self.mark_chars = chars;
        }
        (self.line, chars + 1)
    }

    /// The bytes of the line containing `offset`, without its newline.
    pub fn line_text(data: &[u8], offset: usize) -> &[u8] {
        let start = memchr::memrchr(b'\n', &data[..offset]).map_or(0, |i| i + 1);
        let end = memchr::memchr(b'\n', &data[offset..]).map_or(data.len(), |i| offset + i);
        &data[start..end]
    }
}

/// Characters of `bytes` as `String::from_utf8_lossy` decodes them (each
/// invalid sequence is one U+FFFD), without allocating.
fn lossy_chars(bytes: &[u8]) -> usize {
    bytes
        .utf8_chunks()
        .map(|c| c.valid().chars().count() + usize::from(!c.invalid().is_empty()))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_redact_in_debug_and_display() {
        let s = Secret::new(b"sk-proj-Q8k2mX9pL4vR7tY1wE3uI6oP0aS5dF2g");
        assert!(!format!("{s}").contains("Q8k2mX9p"));
        assert!(!format!("{s:?}").contains("Q8k2mX9p"));
        assert!(s.redacted().starts_with("sk-pro"));
        assert_eq!(s.display(false), s.expose());
    }

    #[test]
    fn fingerprint_depends_on_rule_and_secret() {
        let a = fingerprint("openai.project-key", "sk-1");
        assert_eq!(a.len(), 32);
        assert_eq!(a, fingerprint("openai.project-key", "sk-1"));
        assert_ne!(a, fingerprint("openai.admin-key", "sk-1"));
        assert_ne!(a, fingerprint("openai.project-key", "sk-2"));
    }

    #[test]
    fn line_context_is_the_secret_with_its_line_around_it() {
        let data = b"a = 1\nkey = \"sk-SECRET\"  # other OTHERKEY here\nz\n";
        let start = data.windows(9).position(|w| w == b"sk-SECRET").unwrap();
        let other = data.windows(8).position(|w| w == b"OTHERKEY").unwrap();
        let c = LineContext::around(
            data,
            &(start..start + 9),
            &Spans::new(std::iter::once(other..other + 8).collect()),
        );
        assert_eq!(c.before, "key = \"");
        assert_eq!(c.span, "sk-SECRET");
        assert_eq!(c.after, "\"  # other ******** here");
        assert_eq!(c.shown(false), "key = \"sk-SECRET\"  # other ******** here");
        assert!(!c.shown(true).contains("SECRET"));
        // A long line is cut REACH bytes either side, and says so.
        let long = format!("{}TOKEN{}", "x".repeat(500), "y".repeat(500));
        let at = 500;
        let c = LineContext::around(long.as_bytes(), &(at..at + 5), &Spans::default());
        assert_eq!(c.before, format!("…{}", "x".repeat(LineContext::REACH)));
        assert_eq!(c.after, format!("{}…", "y".repeat(LineContext::REACH)));
    }

    #[test]
    fn line_context_costs_no_more_than_its_reach_on_one_long_line() {
        // 20,000 secrets on one 2 MB line: each context reads ~REACH bytes.
        let line = "k=SECRET01 ".repeat(200_000);
        let data = line.as_bytes();
        let masks = Spans::new((0..data.len()).step_by(100).map(|i| i..i + 8).collect());
        let started = std::time::Instant::now();
        for i in (0..data.len()).step_by(100).take(20_000) {
            let c = LineContext::around(data, &(i..i + 8), &masks);
            assert!(c.before.len() <= LineContext::REACH + 3);
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn line_index_counts_lines_and_character_columns() {
        let data = "ab\né key\n\nz".as_bytes();
        let mut idx = LineIndex::new(data);
        assert_eq!(idx.locate(0), (1, 1));
        assert_eq!(idx.locate(1), (1, 2));
        let key = data.windows(3).position(|w| w == b"key").unwrap();
        assert_eq!(idx.locate(key), (2, 3));
        assert_eq!(idx.locate(data.len() - 1), (4, 1));
        assert_eq!(idx.locate(0), (1, 1));
        assert_eq!(LineIndex::line_text(data, key), "é key".as_bytes());
    }

    #[test]
    fn line_index_columns_match_a_count_from_the_line_start() {
        // Multi-byte characters, invalid bytes and offsets inside a character.
        let data = b"a\xC3\xA9b\xFF\xE2\x82c\xF0\x9F\x98\x80d\ne\xC3\xA9";
        let full = |o: usize| {
            let start = memchr::memrchr(b'\n', &data[..o]).map_or(0, |i| i + 1);
            String::from_utf8_lossy(&data[start..o]).chars().count() + 1
        };
        let mut idx = LineIndex::new(data);
        for offset in 0..=data.len() {
            assert_eq!(idx.locate(offset).1, full(offset), "offset {offset}");
        }
    }
}
