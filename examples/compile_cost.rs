//! What compiling the built-in rules costs: parsing every pattern, compiling
//! it the way the matcher does, and its two Thompson NFAs (the forward one
//! and the reverse one a meta regex also builds), plus the slowest rules:
//!   cargo run --release --example compile_cost
//! With `PATTERN='(?i)acme{{near}}([a-z0-9]{32})'`: one pattern's NFA size
//! and compile time (templates expanded).
use std::time::Instant;

use regex_automata::nfa::thompson;
use till_scan::rules::{compile_hir, compile_pattern, expand_templates, parse_pattern, RuleSet};

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

fn nfa(hir: &regex_syntax::hir::Hir, reverse: bool) -> thompson::NFA {
    let captures = if reverse {
        thompson::WhichCaptures::None
    } else {
        thompson::WhichCaptures::All
    };
    thompson::Compiler::new()
        .configure(
            thompson::Config::new()
                .reverse(reverse)
                .which_captures(captures),
        )
        .build_from_hir(hir)
        .expect("built-in patterns compile")
}

fn main() {
    if let Ok(pattern) = std::env::var("PATTERN") {
        let pattern = expand_templates(&pattern).expect("known templates");
        let hir = parse_pattern(&pattern).expect("a valid pattern");
        let start = Instant::now();
        for _ in 0..20 {
            compile_pattern(&pattern).expect("a valid pattern");
        }
        println!(
            "{} NFA states, {:.3} ms per compile",
            nfa(&hir, false).states().len(),
            ms(start) / 20.0
        );
        return;
    }
    let set = RuleSet::builtin().expect("built-in rules load");
    let rules: Vec<_> = set.rules.iter().filter(|r| !r.is_multi_part()).collect();
    let start = Instant::now();
    let hirs: Vec<_> = rules
        .iter()
        .map(|r| parse_pattern(&r.pattern).expect("built-in patterns parse"))
        .collect();
    println!("{} patterns: parse {:.1} ms", rules.len(), ms(start));
    let mut slowest = Vec::new();
    let start = Instant::now();
    for (rule, hir) in rules.iter().zip(&hirs) {
        let one = Instant::now();
        compile_hir(hir).expect("built-in patterns compile");
        slowest.push((ms(one), &rule.id));
    }
    println!("compile (as the matcher does, parsed): {:.1} ms", ms(start));
    for reverse in [false, true] {
        let start = Instant::now();
        for hir in &hirs {
            nfa(hir, reverse);
        }
        let which = if reverse { "reverse" } else { "forward" };
        println!("  of which the {which} NFA: {:.1} ms", ms(start));
    }
    slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (ms, id) in slowest.iter().take(10) {
        println!("{ms:7.3} ms  {id}");
    }
}
