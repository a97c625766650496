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

/// `p` on every code path this CPU runs, whatever detection chose.
fn every_path(p: &Prefilter) -> Vec<Prefilter> {
    simd::ALL
        .iter()
        .filter_map(|&s| p.clone().with_simd(s))
        .collect()
}

/// What the kernel of `p` must propose, by the scalar code: the positions
/// with a bucket mask, or (AVX2) those where `may_start` holds.
fn reference_candidates(p: &Prefilter, hay: &[u8]) -> Vec<usize> {
    (0..hay.len())
        .filter(|&at| match p.simd() {
            #[cfg(target_arch = "x86_64")]
            Simd::Avx2 => p.may_start_at(hay, at),
            _ => p.mask_at(hay, at) != 0,
        })
        .collect()
}

/// Every path of `p` proposes what its scalar reference does and finds what
/// a naive search finds in `hay`.
fn check_paths(paths: &[Prefilter], hay: &[u8]) {
    let expected = naive(paths[0].literals(), hay);
    for p in paths {
        assert_eq!(
            candidates(p, hay),
            reference_candidates(p, hay),
            "{:?} kernel vs scalar on {hay:?}",
            p.simd()
        );
        assert_eq!(matches(p, hay), expected, "{:?} on {hay:?}", p.simd());
    }
}

fn check_sets(keywords: &[String], seed: u64, rounds: usize) {
    let paths = every_path(&Prefilter::new(keywords).unwrap());
    let mut rng = Rng(seed);
    for _ in 0..rounds {
        let hay = haystack(&mut rng, keywords);
        check_paths(&paths, &hay);
    }
}

#[test]
fn every_path_this_cpu_has_is_tested() {
    let paths = every_path(&Prefilter::new(&["ab"]).unwrap());
    let names: Vec<&str> = paths.iter().map(|p| p.simd().name()).collect();
    #[cfg(target_arch = "x86_64")]
    {
        assert_eq!(
            names.contains(&"avx2"),
            std::arch::is_x86_feature_detected!("avx2")
        );
        assert_eq!(
            names.contains(&"avx512"),
            std::arch::is_x86_feature_detected!("avx512vbmi2")
                && std::arch::is_x86_feature_detected!("gfni")
        );
    }
    assert!(names.contains(&"portable"));
}

#[test]
fn buffer_edges_and_every_keyword_length_on_every_path() {
    // Keywords of 2 to 14 bytes, each placed at every offset of buffers of
    // 0 to 130 bytes (across the 32- and 64-byte blocks and the tails),
    // ending at the very end or cut off by it.
    let keywords: Vec<String> = (2..=14)
        .map(|n| {
            (0..n)
                .map(|i| (b'a' + ((n * 7 + i * 3) % 26) as u8) as char)
                .collect()
        })
        .collect();
    let paths = every_path(&Prefilter::new(&keywords).unwrap());
    let mut rng = Rng(0xED6E);
    for len in 0..=130usize {
        let filler: Vec<u8> = (0..len).map(|_| b"x_ .Q"[rng.below(5)]).collect();
        check_paths(&paths, &filler);
        for k in &keywords {
            for at in [
                0,
                len / 2,
                len.saturating_sub(k.len()),
                len.saturating_sub(1),
            ] {
                let mut hay = filler.clone();
                for (i, &b) in k.as_bytes().iter().enumerate() {
                    if let Some(h) = hay.get_mut(at + i) {
                        *h = if i % 2 == 0 {
                            b.to_ascii_uppercase()
                        } else {
                            b
                        };
                    }
                }
                check_paths(&paths, &hay);
            }
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

    #[test]
    fn every_path_matches_the_scalar_reference_on_random_input(
        keywords in proptest::collection::vec("[a-zA-Z0-9_.:~-]{2,13}", 1..40),
        hay in proptest::collection::vec(
            proptest::prop_oneof![
                proptest::num::u8::ANY,
                proptest::sample::select(b"abcdeABCDE_.-:0123 ".to_vec()),
            ],
            0..300,
        ),
        seed in proptest::num::u64::ANY,
    ) {
        let paths = every_path(&Prefilter::new(&keywords).unwrap());
        check_paths(&paths, &hay);
        // And with keywords planted in the random bytes.
        let mut rng = Rng(seed | 1);
        let mut planted = hay.clone();
        for _ in 0..4 {
            let k = keywords[rng.below(keywords.len())].as_bytes();
            let at = rng.below(planted.len() + 1);
            planted.splice(at..at, k.iter().copied());
        }
        check_paths(&paths, &planted);
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
    let paths = every_path(&p);
    for shift in 0..70 {
        let mut h = vec![b' '; shift];
        h.extend_from_slice(&hay);
        check_paths(&paths, &h);
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
    let paths = every_path(&Prefilter::new(&keywords).unwrap());
    let mut rng = Rng(0x5DEE_CE66);
    for _ in 0..2 {
        let mut hay = Vec::new();
        while hay.len() < 40_000 + rng.below(64) {
            hay.extend(haystack(&mut rng, &keywords));
        }
        check_paths(&paths, &hay);
    }
}

#[test]
fn a_keyword_is_never_reported_past_the_end_of_the_haystack() {
    // Bytes past the end read as zero in places; a keyword ending in zeros
    // must still not match there.
    let keywords = ["ab\0\0", "abcde\0", "abcdefghij\0"].map(String::from);
    let p = Prefilter::new(&keywords).unwrap();
    for p in every_path(&p) {
        for hay in [&b"xxab"[..], b"ab\0", b"abcde", b"xabcde", b"abcdefghij"] {
            assert_eq!(matches(&p, hay), vec![], "{hay:?}");
        }
        assert_eq!(matches(&p, b"ab\0\0"), vec![(0, 0)]);
    }
}

/// Where CI's CPU has the features of a kernel, `.ci/run` sets
/// `TILL_SCAN_EXPECT_SIMD` to the kernels it expects, best first
/// (`avx512,avx2`, or `avx2`), and this fails unless the CPU runs each of
/// them, each really ran when asked for, detection chose the first, and a
/// matcher's scan ran it: a broken feature check must not pass as a run of
/// another path. Unset, it asserts nothing about the kernels, only the
/// results.
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
    let before = kernel_runs(fast.simd());
    assert_eq!(matches(&fast, &hay), expected);
    let prefilter_runs = kernel_runs(fast.simd()) - before;
    let matcher = crate::matcher::Matcher::new(&RuleSet::builtin().unwrap()).unwrap();
    let mut found = Vec::new();
    matcher.scan(&hay, &mut Default::default(), &mut found);
    let matcher_runs = kernel_runs(fast.simd()) - before - prefilter_runs;

    let wanted = std::env::var("TILL_SCAN_EXPECT_SIMD").unwrap_or_default();
    let wanted: Vec<&str> = wanted
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    for (i, name) in wanted.iter().enumerate() {
        let Some(&simd) = simd::ALL.iter().find(|s| s.name() == *name) else {
            panic!("TILL_SCAN_EXPECT_SIMD={name:?}: no such kernel (known: avx512, avx2)");
        };
        assert!(
            simd != Simd::Portable,
            "TILL_SCAN_EXPECT_SIMD lists kernels, not portable"
        );
        let forced = fast.clone().with_simd(simd).unwrap_or_else(|| {
            panic!(
                "TILL_SCAN_EXPECT_SIMD={name}, but this CPU or build lacks a feature the \
                 {name} kernel needs"
            )
        });
        let runs = kernel_runs(simd);
        assert_eq!(matches(&forced, &hay), expected, "{name}");
        assert!(
            kernel_runs(simd) > runs,
            "TILL_SCAN_EXPECT_SIMD={name}: with_simd chose the kernel, but \
             for_each_match did not run it"
        );
        let slow = forced.clone().scalar();
        let runs = kernel_runs(simd);
        assert_eq!(matches(&slow, &hay), expected);
        assert_eq!(kernel_runs(simd), runs, "scalar() ran the {name} kernel");
        if i == 0 {
            assert_eq!(
                simd::select(None).simd,
                simd,
                "TILL_SCAN_EXPECT_SIMD={name}: detection chose another path"
            );
            if std::env::var_os("TILL_SCAN_SIMD").is_none() {
                assert_eq!(fast.simd(), simd, "Prefilter::new chose another path");
                assert!(
                    prefilter_runs > 0,
                    "TILL_SCAN_EXPECT_SIMD={name}: for_each_match did not run the kernel"
                );
                assert!(
                    matcher_runs > 0,
                    "TILL_SCAN_EXPECT_SIMD={name}: the matcher's scan did not run the \
                     kernel (it chose the Aho-Corasick automaton?)"
                );
                assert_eq!(matcher.prefilter_kind(), *name);
            }
        }
    }
}

#[test]
fn the_switch_falls_back_to_the_best_path_below() {
    assert_eq!(simd::select(Some("portable")).simd, Simd::Portable);
    assert!(simd::select(Some("portable")).note.is_none());
    let auto = simd::select(None).simd;
    assert_eq!(simd::select(Some("auto")).simd, auto);
    let odd = simd::select(Some("sse9"));
    assert_eq!(odd.simd, auto);
    assert!(odd.note.is_some());
    for &s in simd::ALL {
        let chosen = simd::select(Some(s.name()));
        assert!(chosen.simd.available());
        assert_eq!(chosen.simd == s, chosen.note.is_none(), "{s:?}");
        assert_eq!(chosen.simd == s, s.available(), "{s:?}");
    }
}
