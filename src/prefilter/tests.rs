//! The kernels against the scalar reference, and the whole search against a
//! naive one, over random and source-like haystacks.

use super::*;
use crate::rules::RuleSet;

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn builtin_keywords() -> Vec<String> {
    let set = RuleSet::builtin().unwrap();
    let mut out: Vec<String> = Vec::new();
    for rule in &set.rules {
        for k in &rule.keywords {
            let k = k.to_ascii_lowercase();
            if !out.contains(&k) {
                out.push(k);
            }
        }
    }
    out
}

/// Haystacks mixing source-like text, random bytes and keywords in random
/// case, placed at the start, the end and across 64-byte block edges.
fn haystack(rng: &mut Rng, keywords: &[String]) -> Vec<u8> {
    const TEXT: &[u8] =
        b"let path = config.token_url; // https://example.com/api_key?x=1\n\tsecret: \"AKIA\"\n";
    let len = rng.below(400);
    let mut hay = Vec::with_capacity(len + 64);
    while hay.len() < len {
        match rng.below(4) {
            0 => hay.push(rng.next() as u8),
            1 => {
                let k = keywords[rng.below(keywords.len())].as_bytes();
                for &b in k {
                    hay.push(if rng.below(2) == 0 {
                        b.to_ascii_uppercase()
                    } else {
                        b
                    });
                }
            }
            _ => {
                let from = rng.below(TEXT.len());
                let to = (from + rng.below(16)).min(TEXT.len());
                hay.extend_from_slice(&TEXT[from..to]);
            }
        }
    }
    hay
}

fn naive(keywords: &[Vec<u8>], hay: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for at in 0..hay.len() {
        for (id, k) in keywords.iter().enumerate() {
            if hay.len() - at >= k.len() && hay[at..at + k.len()].eq_ignore_ascii_case(k) {
                out.push((at, id));
            }
        }
    }
    out
}

fn matches(p: &Prefilter, hay: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    p.for_each_match(hay, |id, at| out.push((at, id)));
    let sorted = out.windows(2).all(|w| w[0].0 <= w[1].0);
    assert!(sorted, "matches must come in order of start");
    out.sort_unstable();
    out
}

fn candidates(p: &Prefilter, hay: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    p.for_each_candidate(hay, |at| out.push(at));
    out
}

fn check_sets(keywords: &[String], seed: u64, rounds: usize) {
    let fast = Prefilter::new(keywords).unwrap();
    let slow = fast.clone().scalar();
    let mut rng = Rng(seed);
    for _ in 0..rounds {
        let hay = haystack(&mut rng, keywords);
        let reference: Vec<usize> = (0..hay.len())
            .filter(|&at| slow.mask_at(&hay, at) != 0)
            .collect();
        assert_eq!(
            candidates(&fast, &hay),
            reference,
            "kernel vs scalar on {hay:?}"
        );
        assert_eq!(candidates(&slow, &hay), reference);
        let expected = naive(fast.literals(), &hay);
        assert_eq!(matches(&fast, &hay), expected, "on {hay:?}");
        assert_eq!(matches(&slow, &hay), expected, "on {hay:?}");
    }
}

#[test]
fn builtin_keywords_match_like_a_naive_search() {
    check_sets(&builtin_keywords(), 0x9E37_79B9_7F4A_7C15, 3000);
}

#[test]
fn random_keyword_sets_match_like_a_naive_search() {
    let mut rng = Rng(7);
    for round in 0..40 {
        let n = 1 + rng.below(if round % 2 == 0 { 20 } else { 600 });
        let keywords: Vec<String> = (0..n)
            .map(|_| {
                let len = 2 + rng.below(12);
                (0..len)
                    .map(|_| match rng.below(3) {
                        0 => (b'a' + rng.below(26) as u8) as char,
                        1 => b"_-./:=~ 0123456789"[rng.below(18)] as char,
                        _ => (b'A' + rng.below(26) as u8) as char,
                    })
                    .collect()
            })
            .collect();
        check_sets(&keywords, rng.next() | 1, 60);
    }
}

#[test]
fn every_byte_value_is_handled() {
    let keywords = ["\u{e9}t\u{e9}", "q~", "\x7f_x", "@[a"];
    let keywords: Vec<String> = keywords.iter().map(|s| s.to_string()).collect();
    let p = Prefilter::new(&keywords).unwrap();
    let mut hay: Vec<u8> = (0..=255u8).collect();
    hay.extend_from_slice("Q~ \u{e9}T\u{e9} @[A \x7f_X `{a".as_bytes());
    for shift in 0..70 {
        let mut h = vec![b' '; shift];
        h.extend_from_slice(&hay);
        let expected = naive(p.literals(), &h);
        assert_eq!(matches(&p, &h), expected);
        assert_eq!(matches(&p.clone().scalar(), &h), expected);
    }
}

#[test]
fn keywords_shorter_than_two_bytes_are_refused() {
    assert!(Prefilter::new(&["a", "bc"]).is_none());
    assert!(Prefilter::new(&[""]).is_none());
    assert!(Prefilter::new::<&str>(&[]).is_some());
}

#[test]
fn haystacks_longer_than_a_kernel_batch_match_like_a_naive_search() {
    let keywords = builtin_keywords();
    let fast = Prefilter::new(&keywords).unwrap();
    let slow = fast.clone().scalar();
    let mut rng = Rng(0x5DEE_CE66);
    for _ in 0..2 {
        let mut hay = Vec::new();
        while hay.len() < 40_000 + rng.below(64) {
            hay.extend(haystack(&mut rng, &keywords));
        }
        let reference: Vec<usize> = (0..hay.len())
            .filter(|&at| slow.mask_at(&hay, at) != 0)
            .collect();
        assert_eq!(candidates(&fast, &hay), reference);
        let expected = naive(fast.literals(), &hay);
        assert_eq!(matches(&fast, &hay), expected);
        assert_eq!(matches(&slow, &hay), expected);
    }
}

#[test]
fn a_keyword_is_never_reported_past_the_end_of_the_haystack() {
    // Bytes past the end read as zero in places; a keyword ending in zeros
    // must still not match there.
    let keywords = ["ab\0\0", "abcde\0", "abcdefghij\0"].map(String::from);
    let p = Prefilter::new(&keywords).unwrap();
    for hay in [&b"xxab"[..], b"ab\0", b"abcde", b"xabcde", b"abcdefghij"] {
        assert_eq!(matches(&p, hay), vec![], "{hay:?}");
        assert_eq!(matches(&p.clone().scalar(), hay), vec![], "{hay:?}");
    }
    assert_eq!(matches(&p, b"ab\0\0"), vec![(0, 0)]);
}

/// Where CI's CPU has every feature the AVX-512 kernel needs, `.ci/run`
/// sets `TILL_SCAN_EXPECT_SIMD=avx512`, and this fails unless `detect`
/// chose the kernel and both the prefilter and a matcher's scan ran it: a
/// broken feature check must not pass as a run of the portable path alone.
/// Unset, it asserts nothing about the kernel, only the results.
#[test]
fn the_kernel_runs_where_ci_expects_it() {
    let keywords = builtin_keywords();
    let fast = Prefilter::new(&keywords).unwrap();
    let mut rng = Rng(0xC0FF_EE00_D15E_A5E5);
    let mut hay = Vec::new();
    while hay.len() < 5_000 {
        hay.extend(haystack(&mut rng, &keywords));
    }
    let expected = naive(fast.literals(), &hay);
    let before = kernel_runs();
    assert_eq!(matches(&fast, &hay), expected);
    let prefilter_runs = kernel_runs() - before;
    assert_eq!(matches(&fast.clone().scalar(), &hay), expected);
    assert_eq!(
        kernel_runs() - before,
        prefilter_runs,
        "scalar() ran a kernel"
    );
    let matcher = crate::matcher::Matcher::new(&RuleSet::builtin().unwrap()).unwrap();
    let mut found = Vec::new();
    matcher.scan(&hay, &mut Default::default(), &mut found);
    let matcher_runs = kernel_runs() - before - prefilter_runs;

    match std::env::var("TILL_SCAN_EXPECT_SIMD")
        .unwrap_or_default()
        .as_str()
    {
        "" => {}
        "avx512" => {
            #[cfg(target_arch = "x86_64")]
            let chosen = fast.simd == Simd::Avx512;
            #[cfg(not(target_arch = "x86_64"))]
            let chosen = false;
            assert!(
                chosen,
                "TILL_SCAN_EXPECT_SIMD=avx512, but detect() chose {:?}: this CPU or \
                 build lacks a feature the AVX-512 kernel needs",
                fast.simd
            );
            assert!(
                prefilter_runs > 0,
                "TILL_SCAN_EXPECT_SIMD=avx512: detect() chose the kernel, but \
                 for_each_match did not run it"
            );
            assert!(
                matcher_runs > 0,
                "TILL_SCAN_EXPECT_SIMD=avx512: the matcher's scan did not run the \
                 kernel (it chose the Aho-Corasick automaton?)"
            );
        }
        other => panic!("TILL_SCAN_EXPECT_SIMD={other:?}: no such kernel (known: avx512)"),
    }
}
