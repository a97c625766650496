//! Throughput of the keyword prefilter alone (the SIMD kernel, then kernel
//! plus exact confirmation) over the text files of DIR loaded into memory,
//! and the kernel's speed on a buffer that yields no candidate:
//!   cargo run --release --example prefilter_bench -- DIR [MB]
//! `TILL_SCAN_SIMD` picks the path; with `AC=1`, the Aho-Corasick automaton
//! of the portable path runs too. With `PER_KEYWORD=1`: hits per keyword, and how many rules each feeds;
//! with `FALSE=1`: the commonest text at candidates that are no keyword.
use std::time::Instant;
use till_scan::prefilter::Prefilter;
use till_scan::rules::RuleSet;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("DIR");
    let limit: usize = args.next().map_or(200, |m| m.parse().unwrap()) << 20;
    let set = RuleSet::builtin().unwrap();
    let mut keywords: Vec<String> = set
        .rules
        .iter()
        .flat_map(|r| r.keywords.iter().map(|k| k.to_ascii_lowercase()))
        .collect();
    keywords.sort();
    keywords.dedup();
    let pf = Prefilter::new(&keywords).unwrap();
    let mut blobs = Vec::new();
    let mut total = 0;
    for entry in ignore::Walk::new(&dir).flatten() {
        if total > limit {
            break;
        }
        if entry.file_type().is_some_and(|t| t.is_file()) {
            if let Ok(d) = std::fs::read(entry.path()) {
                if !d[..d.len().min(8192)].contains(&0) {
                    total += d.len();
                    blobs.push(d);
                }
            }
        }
    }
    println!(
        "{} keywords, {} files, {} MB",
        keywords.len(),
        blobs.len(),
        total >> 20
    );
    let zs = vec![b'z'; 256 << 20];
    let t = Instant::now();
    let mut c = 0u64;
    pf.for_each_candidate(&zs, |_| c += 1);
    println!(
        "256 MB of z: {:.0} MB/s ({c} candidates)",
        zs.len() as f64 / t.elapsed().as_secs_f64() / 1e6
    );
    if std::env::var_os("FALSE").is_some() {
        false_candidates(&pf, &blobs);
        return;
    }
    if std::env::var_os("PER_KEYWORD").is_some() {
        per_keyword(&pf, &blobs, &set);
        return;
    }
    println!("path: {}", pf.simd().name());
    if std::env::var_os("AC").is_some() {
        // The automaton the matcher runs on the portable path.
        let ac = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .build(&keywords)
            .unwrap();
        for round in 0..3 {
            let t = Instant::now();
            let mut hits = 0u64;
            for b in &blobs {
                hits += ac.find_overlapping_iter(b).count() as u64;
            }
            println!(
                "round {round}: aho-corasick {:.0} MB/s ({hits} hits)",
                total as f64 / t.elapsed().as_secs_f64() / 1e6
            );
        }
    }
    for round in 0..3 {
        let t = Instant::now();
        let mut cands = 0u64;
        for b in &blobs {
            pf.for_each_candidate(b, |_| cands += 1);
        }
        let kernel = t.elapsed();
        let t = Instant::now();
        let mut hits = 0u64;
        for b in &blobs {
            pf.for_each_match(b, |_, _| hits += 1);
        }
        let all = t.elapsed();
        println!("round {round}: kernel {:.0} MB/s ({cands} candidates), with confirm {:.0} MB/s ({hits} hits)",
            total as f64 / kernel.as_secs_f64() / 1e6, total as f64 / all.as_secs_f64() / 1e6);
    }
}

#[allow(dead_code)]
pub fn per_keyword(pf: &Prefilter, blobs: &[Vec<u8>], set: &RuleSet) {
    let lits = pf.literals();
    let mut hits = vec![0u64; lits.len()];
    for b in blobs {
        pf.for_each_match(b, |id, _| hits[id] += 1);
    }
    let mut v: Vec<(u64, usize)> = hits.iter().copied().zip(0..).collect();
    v.sort_by(|a, b| b.cmp(a));
    // How many rules each keyword feeds: every hit opens a window check for each.
    let rules_of = |id: usize| {
        let keyword = std::str::from_utf8(&lits[id]).unwrap();
        set.rules
            .iter()
            .filter(|r| r.keywords.iter().any(|k| k.eq_ignore_ascii_case(keyword)))
            .count() as u64
    };
    let pairs: u64 = v.iter().map(|&(h, id)| h * rules_of(id)).sum();
    println!("(hit, rule) pairs: {pairs}");
    for &(h, id) in v.iter().take(25) {
        let n = rules_of(id);
        println!(
            "{h:8} hits x {n:3} rules  {}",
            String::from_utf8_lossy(&lits[id])
        );
    }
}

#[allow(dead_code)]
pub fn false_candidates(pf: &Prefilter, blobs: &[Vec<u8>]) {
    let mut tally: std::collections::HashMap<Vec<u8>, u64> = Default::default();
    let mut total = 0u64;
    for b in blobs {
        let mut hits = std::collections::HashSet::new();
        pf.for_each_match(b, |_, at| {
            hits.insert(at);
        });
        pf.for_each_candidate(b, |at| {
            if !hits.contains(&at) {
                total += 1;
                let w = b[at..(at + 4).min(b.len())].to_ascii_lowercase();
                *tally.entry(w).or_default() += 1;
            }
        });
    }
    let mut v: Vec<_> = tally.into_iter().collect();
    v.sort_by_key(|e| std::cmp::Reverse(e.1));
    println!("false candidates: {total}");
    for (w, n) in v.iter().take(40) {
        println!("{n:8} {:?}", String::from_utf8_lossy(w));
    }
}
