//! Property tests: random bytes, and realistic text (keywords, rule examples,
//! separators) cut up and mutated with newlines, NULs and invalid UTF-8, go
//! through the matcher with every built-in rule. It must not panic, and every
//! match must lie inside the input with its secret inside the match.

use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::sample::Index;

use super::*;

fn builtin() -> &'static (RuleSet, Matcher) {
    static BUILTIN: OnceLock<(RuleSet, Matcher)> = OnceLock::new();
    BUILTIN.get_or_init(|| {
        let set = RuleSet::builtin().unwrap();
        let matcher = Matcher::new(&set).unwrap();
        (set, matcher)
    })
}

/// Pieces of realistic input: every rule's keywords and examples.
fn pieces() -> &'static [Vec<u8>] {
    static PIECES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    PIECES.get_or_init(|| {
        let (set, _) = builtin();
        set.rules
            .iter()
            .flat_map(|r| r.keywords.iter().chain(&r.examples))
            .map(|s| s.as_bytes().to_vec())
            .collect()
    })
}

const SEPARATORS: &[&[u8]] = &[
    b"=",
    b" = ",
    b": \"",
    b"\"",
    b"'",
    b", ",
    b"\n",
    b"\r\n",
    b"\0",
    b"\xff",
    b"\xc3",
    b"\xe2\x82",
    b"_",
    b"-----",
    b"://",
    b"@",
    b"\t",
    b" ",
];

/// One piece of input: a keyword or example, a separator, or random bytes.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        any::<Index>().prop_map(|i| i.get(pieces()).clone()),
        any::<Index>().prop_map(|i| i.get(SEPARATORS).to_vec()),
        proptest::collection::vec(any::<u8>(), 0..24),
        // A run of key-like characters, long enough for most key bodies.
        proptest::collection::vec(
            any::<Index>().prop_map(|i| *i.get(b"AKIAQ8k2mX9pL4vR7tY1wE3u0/+_-.")),
            8..64,
        ),
    ]
}

/// Realistic pieces joined, then some bytes overwritten, cut out or doubled.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec(piece(), 0..24),
        proptest::collection::vec((any::<Index>(), any::<u8>(), 0..3u8), 0..6),
    )
        .prop_map(|(pieces, edits)| {
            let mut data = pieces.concat();
            for (at, byte, kind) in edits {
                if data.is_empty() {
                    break;
                }
                let at = at.index(data.len());
                match kind {
                    0 => data[at] = byte,
                    1 => {
                        data.remove(at);
                    }
                    _ => data.insert(at, byte),
                }
            }
            data
        })
}

fn check(data: &[u8]) -> Result<(), TestCaseError> {
    let (set, matcher) = builtin();
    let mut scratch = Scratch::default();
    let mut out = Vec::new();
    matcher.scan(data, &mut scratch, &mut out);
    for m in &out {
        prop_assert!(m.rule < set.rules.len());
        prop_assert!(
            m.span.start <= m.span.end && m.span.end <= data.len(),
            "{m:?}"
        );
        prop_assert!(
            m.span.start <= m.secret.start
                && m.secret.start < m.secret.end
                && m.secret.end <= m.span.end,
            "{m:?}"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 128,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_bytes_never_panic_and_matches_stay_inside(
        data in proptest::collection::vec(any::<u8>(), 0..4096)
    ) {
        check(&data)?;
    }

    #[test]
    fn mutated_realistic_input_never_panics_and_matches_stay_inside(data in mutated()) {
        check(&data)?;
    }
}

#[test]
fn the_pieces_hold_real_matches() {
    // The pieces the strategy draws from must find something: otherwise the
    // property above would only ever see inputs without a match.
    let (_, matcher) = builtin();
    let mut out = Vec::new();
    for example in pieces() {
        matcher.scan(example, &mut Scratch::default(), &mut out);
    }
    assert!(out.len() > 100, "{} matches", out.len());
}

proptest! {
    /// The probing run search agrees with a byte-by-byte count.
    #[test]
    fn has_run_finds_a_run_exactly_when_there_is_one(
        hay in proptest::collection::vec(proptest::sample::select(b"ab-".to_vec()), 0..300),
        min in 1usize..40,
    ) {
        let set = shape::ByteSet::of_ranges([(b'a', b'b')]);
        let mut longest = 0;
        let mut current = 0;
        for &b in &hay {
            current = if set.contains(b) { current + 1 } else { 0 };
            longest = longest.max(current);
        }
        prop_assert_eq!(shape::has_run(&hay, &set, min), longest >= min);
    }
}
