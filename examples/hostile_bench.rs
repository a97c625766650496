//! Throughput of the full matcher (every built-in rule) on single long lines
//! of hostile shapes (issue 11: keywords every few bytes, assignments without
//! values, near-miss keys), at several line lengths. Linear cost shows as
//! MB/s flat across a row:
//!   cargo run --release --example hostile_bench [-- MAX_MB]
//! Also prints the regex work per input byte ([`Scratch::regex_bytes`]).
use std::time::{Duration, Instant};
use till_scan::matcher::{Matcher, Scratch};
use till_scan::rules::RuleSet;

/// One line of `len` bytes: `unit` repeated.
fn line(unit: &str, len: usize) -> Vec<u8> {
    let unit = unit.as_bytes();
    unit.iter().copied().cycle().take(len).collect()
}

const SHAPES: &[(&str, &str)] = &[
    ("token repeated", "token "),
    ("tokentoken (no blank)", "token"),
    ("api_key=x, every 25 B", "api_key=xxxxxxxxxxxxxxx, "),
    (
        "secret: \"aaaa\", every 25 B",
        "secret: \"aaaaaaaaaaaaa\", ",
    ),
    ("generic keys = no value", "password = "),
    ("aws_secret_ no value", "aws_secret_access_key_aws_"),
    ("aws: AKIA near-miss", "aws: AKIAVQJXXVBOTHD2WTF, "),
    (
        "aws secret near-miss",
        "aws_secret_access_key = \"4QhoxhLPAbQcEFUV2fsjGHb6HrlEOS47WgjKCu\", ",
    ),
    ("https:// no password", "https://user:pass@"),
    ("pat / path / pattern", "path pattern pat "),
    ("eyJ near-miss JWT", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOi."),
];

fn main() {
    let max_mb: usize = std::env::args().nth(1).map_or(8, |m| m.parse().unwrap());
    let set = RuleSet::builtin().unwrap();
    let matcher = Matcher::new(&set).unwrap();
    matcher.compile_all();
    let lengths: Vec<usize> = [10 << 10, 100 << 10, 1 << 20, 8 << 20]
        .into_iter()
        .filter(|&l| l <= max_mb << 20)
        .collect();
    print!("{:<30}", "shape \\ line length");
    for l in &lengths {
        print!("{:>18}", human(*l));
    }
    println!("   (MB/s, regex bytes per input byte)");
    for (name, unit) in SHAPES {
        print!("{name:<30}");
        for &len in &lengths {
            let data = line(unit, len);
            let (rate, per_byte) = measure(&matcher, &data);
            print!("{:>11.1} {:>5.0}x", rate, per_byte);
        }
        println!();
    }
}

/// MB/s over at least half a second of repeated scans, and the regex work
/// per input byte.
fn measure(matcher: &Matcher, data: &[u8]) -> (f64, f64) {
    // One scratch, as a worker thread keeps: its regex caches are warm.
    let mut scratch = Scratch::default();
    let mut out = Vec::new();
    matcher.scan(data, &mut scratch, &mut out);
    let before = scratch.regex_bytes();
    let mut scanned = 0usize;
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(500) || scanned == 0 {
        out.clear();
        matcher.scan(data, &mut scratch, &mut out);
        scanned += data.len();
    }
    let work = scratch.regex_bytes() - before;
    let seconds = start.elapsed().as_secs_f64();
    (scanned as f64 / seconds / 1e6, work as f64 / scanned as f64)
}

fn human(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{} MB", bytes >> 20)
    } else {
        format!("{} KB", bytes >> 10)
    }
}
