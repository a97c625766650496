//! Inputs for the property tests of every parser till-scan owns (config,
//! rule files, baseline, the git index reader, `--report` input): random
//! bytes, and a valid sample with bits flipped, bytes set, runs inserted or
//! deleted, or the end cut off.

use proptest::prelude::*;

#[derive(Debug, Clone)]
pub enum Edit {
    Flip(usize, u8),
    Set(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    // Bytes that matter to TOML and JSON, besides any byte at all.
    let interesting = prop_oneof![
        any::<u8>(),
        proptest::sample::select(b"\"'[]{}=,.:\\\n#0-9eE+ \x00\xff".to_vec()),
    ];
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(i, b)| Edit::Flip(i, b)),
        (any::<usize>(), interesting).prop_map(|(i, b)| Edit::Set(i, b)),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..16)
        )
            .prop_map(|(i, v)| Edit::Insert(i, v)),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Edit::Delete(i, n)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

/// Applies `edits` to `sample`; positions wrap around its length.
pub fn apply(sample: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut out = sample.to_vec();
    for e in edits {
        let at = |i: usize, len: usize| if len == 0 { 0 } else { i % len };
        match e {
            Edit::Flip(i, bit) if !out.is_empty() => {
                let i = at(*i, out.len());
                out[i] ^= 1 << bit;
            }
            Edit::Set(i, b) if !out.is_empty() => {
                let i = at(*i, out.len());
                out[i] = *b;
            }
            Edit::Insert(i, bytes) => {
                let i = at(*i, out.len() + 1);
                out.splice(i..i, bytes.iter().copied());
            }
            Edit::Delete(i, n) if !out.is_empty() => {
                let i = at(*i, out.len());
                let end = (i + n).min(out.len());
                out.drain(i..end);
            }
            Edit::Truncate(n) => out.truncate(at(*n, out.len() + 1)),
            _ => {}
        }
    }
    out
}

/// Random bytes, or `sample` with one to eight edits.
pub fn bytes_like(sample: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..512),
        4 => proptest::collection::vec(edit(), 1..8)
            .prop_map(move |edits| apply(&sample, &edits)),
    ]
}

/// Like [`bytes_like`], as text (invalid UTF-8 replaced), for the
/// parsers that take `&str`.
pub fn text_like(sample: &str) -> impl Strategy<Value = String> {
    bytes_like(sample.as_bytes().to_vec()).prop_map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// Few cases, no regression files: a few seconds in a debug build.
pub fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}
