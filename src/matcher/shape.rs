//! What a rule's pattern says about where its matches can begin, read from
//! the parsed pattern (HIR): the bytes an `after_keyword` opens with, the
//! keyword a pattern starts with at a word boundary, and whether every match
//! starts with one of the rule's keywords (so it can be searched anchored at
//! each keyword hit instead of over a window around it).

use regex_syntax::hir::{Class, Hir, HirKind, Look};

/// A set of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ByteSet([u64; 4]);

impl ByteSet {
    pub(super) fn of_ranges(ranges: impl IntoIterator<Item = (u8, u8)>) -> ByteSet {
        let mut set = ByteSet([0; 4]);
        for (start, end) in ranges {
            for b in start..=end {
                set.0[b as usize / 64] |= 1 << (b % 64);
            }
        }
        set
    }

    #[inline]
    pub(super) fn contains(&self, b: u8) -> bool {
        self.0[b as usize / 64] >> (b % 64) & 1 == 1
    }

    pub(super) fn bytes(&self) -> impl Iterator<Item = u8> + '_ {
        (0..=255u8).filter(|&b| self.contains(b))
    }
}

/// One step of what every match of a pattern begins with.
enum Lead {
    Look(Look),
    Byte(ByteSet),
}

/// Up to `most` leading steps of every match of `hir`; false when what
/// follows them is not a fixed sequence of steps (or `most` is reached).
fn leading_steps(hir: &Hir, most: usize, out: &mut Vec<Lead>) -> bool {
    if out.len() >= most {
        return false;
    }
    match hir.kind() {
        HirKind::Look(look) => out.push(Lead::Look(*look)),
        HirKind::Literal(literal) => {
            for &b in literal.0.iter().take(most - out.len()) {
                out.push(Lead::Byte(ByteSet::of_ranges([(b, b)])));
            }
        }
        HirKind::Class(Class::Bytes(class)) => out.push(Lead::Byte(ByteSet::of_ranges(
            class.ranges().iter().map(|r| (r.start(), r.end())),
        ))),
        HirKind::Capture(capture) => return leading_steps(&capture.sub, most, out),
        HirKind::Concat(parts) => {
            for part in parts {
                if !leading_steps(part, most, out) {
                    return false;
                }
            }
        }
        // `x{3,}`: three times `x`, then something else.
        HirKind::Repetition(rep) if rep.min >= 1 => {
            for _ in 0..rep.min {
                if !leading_steps(&rep.sub, most, out) {
                    return false;
                }
            }
            return rep.max == Some(rep.min);
        }
        _ => return false,
    }
    true
}

/// The byte sets that every match of `hir` begins with, one per byte, up
/// to `most` bytes (up to the first assertion).
pub(super) fn leading_bytes(hir: &Hir, most: usize) -> Vec<ByteSet> {
    let mut steps = Vec::new();
    leading_steps(hir, most, &mut steps);
    steps
        .iter()
        .map_while(|step| match step {
            Lead::Byte(set) => Some(*set),
            Lead::Look(_) => None,
        })
        .collect()
}

/// The keyword of `keywords` that every match of `pattern` begins with,
/// right after a word boundary, lower-cased; `None` when matches may begin
/// otherwise (or the pattern does not parse: the loader reports that).
#[cfg(test)]
pub(crate) fn word_start_keyword(pattern: &str, keywords: &[String]) -> Option<Vec<u8>> {
    word_start_of(&crate::rules::parse_pattern(pattern).ok()?, keywords)
}

/// [`word_start_keyword`] of a parsed pattern.
pub(super) fn word_start_of(hir: &Hir, keywords: &[String]) -> Option<Vec<u8>> {
    let longest = keywords.iter().map(String::len).max()?;
    let mut steps = Vec::new();
    leading_steps(hir, longest + 1, &mut steps);
    let Some(Lead::Look(Look::WordAscii | Look::WordStartAscii | Look::WordStartHalfAscii)) =
        steps.first()
    else {
        return None;
    };
    keywords.iter().find_map(|keyword| {
        let keyword = keyword.to_ascii_lowercase().into_bytes();
        let spelled = keyword.len() < steps.len()
            && is_word_byte(keyword[0])
            && keyword
                .iter()
                .zip(&steps[1..])
                .all(|(&k, step)| match step {
                    Lead::Byte(set) => set.bytes().all(|b| b.eq_ignore_ascii_case(&k)),
                    Lead::Look(_) => false,
                });
        spelled.then_some(keyword)
    })
}

/// A byte `\b` counts as part of a word (ASCII).
pub(super) fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Most different openings [`keyword_led`] follows before it gives up.
const MOST_OPENINGS: usize = 256;

/// Classes of at most this many letters (or bytes) are followed one letter
/// at a time.
const SPLIT_CLASS: usize = 8;

/// Whether every match of `hir` begins, after zero-width assertions, with
/// one of `keywords` (ASCII case-insensitively): then a match can only start
/// at a keyword hit, and searching anchored at each hit finds what a search
/// over a window around the hits would (`(?i)(?:mistral|codestral){{near}}…`).
/// False when the pattern may open otherwise, or reading it would take too
/// long (more than [`MOST_OPENINGS`] openings).
pub(super) fn keyword_led(hir: &Hir, keywords: &[String]) -> bool {
    let Some(longest) = keywords.iter().map(String::len).max() else {
        return false;
    };
    let spells = |opening: &[ByteSet]| {
        keywords.iter().any(|keyword| {
            keyword.len() <= opening.len()
                && keyword
                    .bytes()
                    .zip(opening)
                    .all(|(k, set)| set.bytes().all(|b| b.eq_ignore_ascii_case(&k)))
        })
    };
    let openings = Openings {
        longest,
        spells: &spells,
    };
    openings
        .extend(vec![Vec::new()], hir)
        .is_some_and(|ways| ways.iter().all(|way| spells(way)))
}

/// How matches open: byte sets from the start of a match, followed until
/// they spell a keyword or are as long as the longest one.
struct Openings<'a> {
    longest: usize,
    spells: &'a dyn Fn(&[ByteSet]) -> bool,
}

impl Openings<'_> {
    fn finished(&self, way: &[ByteSet]) -> bool {
        way.len() >= self.longest || (self.spells)(way)
    }

    /// `ways` followed by a match of `hir`; `None` past [`MOST_OPENINGS`]
    /// or for a construct not read.
    fn extend(&self, ways: Vec<Vec<ByteSet>>, hir: &Hir) -> Option<Vec<Vec<ByteSet>>> {
        let (done, mut open): (Vec<_>, Vec<_>) = ways.into_iter().partition(|w| self.finished(w));
        if open.is_empty() {
            return Some(done);
        }
        let mut out = done;
        match hir.kind() {
            HirKind::Empty | HirKind::Look(_) => out.extend(open),
            HirKind::Literal(literal) => {
                for way in &mut open {
                    for &b in literal.0.iter() {
                        if self.finished(way) {
                            break;
                        }
                        way.push(ByteSet::of_ranges([(b, b)]));
                    }
                }
                out.extend(open);
            }
            HirKind::Class(class) => {
                let set = match class {
                    Class::Bytes(class) => {
                        ByteSet::of_ranges(class.ranges().iter().map(|r| (r.start(), r.end())))
                    }
                    // The parser makes one of `(?i)(?:ghp|gho)` even on bytes.
                    Class::Unicode(class) => ByteSet::of_ranges(
                        class
                            .ranges()
                            .iter()
                            .map(|r| {
                                Some((u8::try_from(r.start()).ok()?, u8::try_from(r.end()).ok()?))
                            })
                            .collect::<Option<Vec<_>>>()?,
                    ),
                };
                // A small class is read as one way per letter (either case)
                // or byte: `(?i)gh[op]_`, which the parser makes of
                // `(?i)(?:ghp|gho)_`, opens both `ghp_` and `gho_`.
                let mut letters: Vec<u8> = set.bytes().map(|b| b.to_ascii_lowercase()).collect();
                letters.dedup();
                let sets: Vec<ByteSet> = if letters.len() <= SPLIT_CLASS {
                    letters
                        .iter()
                        .map(|&l| {
                            ByteSet::of_ranges(
                                set.bytes()
                                    .filter(|b| b.to_ascii_lowercase() == l)
                                    .map(|b| (b, b)),
                            )
                        })
                        .collect()
                } else {
                    vec![set]
                };
                for way in open {
                    for &set in &sets {
                        let mut longer = way.clone();
                        longer.push(set);
                        out.push(longer);
                    }
                }
            }
            HirKind::Capture(capture) => out.extend(self.extend(open, &capture.sub)?),
            HirKind::Concat(parts) => {
                for part in parts {
                    open = self.extend(open, part)?;
                }
                out.extend(open);
            }
            HirKind::Alternation(branches) => {
                for branch in branches {
                    out.extend(self.extend(open.clone(), branch)?);
                    if out.len() > MOST_OPENINGS {
                        return None;
                    }
                }
            }
            HirKind::Repetition(rep) => {
                // Stop after `min` copies, or go on up to `max`: every round
                // adds a copy to the openings not yet finished.
                let mut round = 0;
                loop {
                    if round >= rep.min {
                        out.extend(open.iter().cloned());
                    }
                    // All finished (copies still to come are past what is
                    // read), or copies that may match nothing: later rounds
                    // would only lengthen these openings.
                    if rep.max == Some(round)
                        || open.iter().all(|w| self.finished(w))
                        || round as usize > self.longest
                    {
                        if round < rep.min || round as usize > self.longest {
                            out.extend(open);
                        }
                        break;
                    }
                    open = self.extend(open, &rep.sub)?;
                    round += 1;
                    if out.len() + open.len() > MOST_OPENINGS {
                        return None;
                    }
                }
            }
        }
        (out.len() <= MOST_OPENINGS).then_some(out)
    }
}

/// The fewest bytes in a row, from one set, that a required run must span
/// to be worth checking for: shorter runs are in most text anyway.
const MIN_REQUIRED_RUN: usize = 12;

/// A run of bytes every match of `hir` contains: the longest class
/// repeated a fixed minimum number of times on every path through the
/// pattern (`[a-f0-9]{64}` in `(?i)together{{near}}([a-f0-9]{64})\b`), as
/// the class's bytes and that minimum; `None` when there is none of at
/// least [`MIN_REQUIRED_RUN`] bytes. A window without such a run holds no
/// match, so it is not searched: a cheap scan instead of the regex, which
/// for a `{{near}}` rule costs microseconds per window.
pub(super) fn required_run(hir: &Hir) -> Option<(ByteSet, usize)> {
    longest_required_run(hir).filter(|&(_, min)| min >= MIN_REQUIRED_RUN)
}

fn longest_required_run(hir: &Hir) -> Option<(ByteSet, usize)> {
    match hir.kind() {
        HirKind::Capture(capture) => longest_required_run(&capture.sub),
        HirKind::Concat(parts) => parts
            .iter()
            .filter_map(longest_required_run)
            .max_by_key(|&(_, min)| min),
        HirKind::Repetition(rep) if rep.min >= 1 => match rep.sub.kind() {
            HirKind::Class(class) => Some((class_bytes(class), rep.min as usize)),
            _ => longest_required_run(&rep.sub),
        },
        _ => None,
    }
}

/// Every byte a match of `class` can contain: a Unicode class's non-ASCII
/// characters as all the bytes of UTF-8 sequences.
fn class_bytes(class: &Class) -> ByteSet {
    match class {
        Class::Bytes(bytes) => {
            ByteSet::of_ranges(bytes.ranges().iter().map(|r| (r.start(), r.end())))
        }
        Class::Unicode(unicode) => {
            let ascii = unicode
                .ranges()
                .iter()
                .filter(|r| r.start() <= '\x7f')
                .map(|r| (r.start() as u8, r.end().min('\x7f') as u8));
            let wide = unicode.ranges().iter().any(|r| r.end() > '\x7f');
            ByteSet::of_ranges(ascii.chain(wide.then_some((0x80, 0xff))))
        }
    }
}

/// Whether `hay` holds `min` bytes of `set` in a row. Probes one byte in
/// every `min` and reads around a probe only where it is in the set, so
/// text without such a run costs about `hay.len() / min` lookups.
pub(super) fn has_run(hay: &[u8], set: &ByteSet, min: usize) -> bool {
    debug_assert!(min >= 1);
    let mut probe = min - 1;
    while probe < hay.len() {
        if !set.contains(hay[probe]) {
            probe += min;
            continue;
        }
        // The run through `probe`: back to its start (no further than a
        // run of `min` could begin), then forward.
        let mut start = probe;
        while start + min > probe + 1 && start > 0 && set.contains(hay[start - 1]) {
            start -= 1;
        }
        let mut end = probe + 1;
        while end < start + min && end < hay.len() && set.contains(hay[end]) {
            end += 1;
        }
        if end - start >= min {
            return true;
        }
        // `hay[end]` (or the end of `hay`) is not in the set: the next run
        // starts after it and ends `min` bytes later at the earliest.
        probe = end + min;
    }
    false
}
