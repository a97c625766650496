//! The matcher's cost must be linear in its input, for every built-in rule:
//! long lines made of a rule's keywords (the shapes of issue 11: a keyword
//! repeated, a keyword every ~25 bytes with `=` or `: "` and filler, no
//! separator, near-miss and real values) are scanned at two lengths, and the
//! work counted by the matcher (haystack bytes handed to the regex engines,
//! [`Scratch::regex_bytes`]) may grow with the length but not faster.
//! Counting work rather than timing keeps the test exact on a busy machine.

use super::*;
use crate::rules::Rule;

/// The two lengths compared: `base` and `GROWTH * base`.
const GROWTH: usize = 4;

/// work(GROWTH * base) / work(base) may exceed GROWTH by this much: the
/// windows at the two ends of a line cost the same at every length.
const SLACK: f64 = 1.125;

/// A line of about `len` bytes: `unit` repeated, each copy padded with
/// `pad` to `period` bytes (or not padded when it is longer).
fn line(unit: &str, pad: char, period: usize, len: usize) -> Vec<u8> {
    let mut piece = unit.to_string();
    while piece.len() < period {
        piece.push(pad);
    }
    piece.repeat(len / piece.len() + 1).into_bytes()[..len].to_vec()
}

/// The hostile shapes built from one keyword and the rule's first example.
fn shapes(keyword: &str, example: &str) -> Vec<(String, String, char, usize)> {
    let upper = keyword.to_ascii_uppercase();
    let example = example.replace(['\n', '\r'], " ");
    let near_miss = example[..example.len().saturating_sub(3)].to_string();
    vec![
        ("repeated".into(), keyword.to_string(), 'z', 0),
        ("name chars".into(), format!("{keyword}_"), 'z', 0),
        ("NAME CHARS".into(), format!("{upper}_"), 'z', 0),
        ("no separator".into(), keyword.to_string(), 'q', 25),
        ("= filler".into(), format!("{keyword}=x"), 'a', 24),
        ("= no value".into(), format!("{keyword} = "), ' ', 0),
        (
            ": \" filler".into(),
            format!("{keyword}: \"aaaa\", "),
            ' ',
            25,
        ),
        ("spaces".into(), keyword.to_string(), ' ', 25),
        ("example".into(), format!("{example} "), ' ', 0),
        ("near miss".into(), format!("{near_miss} "), ' ', 0),
    ]
}

/// Regex work per blob for `rule` alone on `data`.
fn work(matcher: &Matcher, data: &[u8]) -> u64 {
    let mut scratch = Scratch::default();
    let mut out = Vec::new();
    matcher.scan(data, &mut scratch, &mut out);
    for m in &out {
        assert!(m.span.end <= data.len() && m.secret.start >= m.span.start);
    }
    scratch.regex_bytes()
}

/// The rule's two shortest keywords: the common words (`pat`, `aws`,
/// `token`) whose hits are densest. Trying every keyword of every rule
/// takes minutes in a debug build.
fn densest_keywords(rule: &Rule) -> Vec<&str> {
    let mut keywords: Vec<&str> = rule.keywords.iter().map(String::as_str).collect();
    keywords.sort_by_key(|k| k.len());
    keywords.truncate(2);
    keywords
}

/// `(growth, label)` of every shape of one rule's keywords.
fn growth(rule: &Rule) -> Vec<(f64, String)> {
    let mut one = RuleSet::default();
    one.rules.push(rule.clone());
    let matcher = Matcher::new(&one).unwrap();
    // Long enough that windows merge up to their cap and then repeat,
    // which is where quadratic merging or searching would show.
    let base = ((MERGE_SPANS + 2) * (rule.lead + rule.window.max(END_MARGIN))).max(2 << 10);
    let mut out = Vec::new();
    for keyword in densest_keywords(rule) {
        for (shape, unit, pad, period) in shapes(keyword, &rule.examples[0]) {
            let short = work(&matcher, &line(&unit, pad, period, base));
            let long = work(&matcher, &line(&unit, pad, period, GROWTH * base));
            // The constant term covers lines where almost nothing is searched.
            let allowed = GROWTH as f64 * SLACK * short as f64 + 4096.0;
            out.push((
                long as f64 / allowed,
                format!("{} / {keyword:?} / {shape}: {short} -> {long}", rule.id),
            ));
        }
    }
    out
}

#[test]
fn regex_work_per_byte_does_not_grow_with_line_length_for_any_rule() {
    use rayon::prelude::*;
    let set = RuleSet::builtin().unwrap();
    let mut all: Vec<(f64, String)> = set.rules.par_iter().flat_map(growth).collect();
    all.sort_by(|a, b| b.0.total_cmp(&a.0));
    let failures: Vec<&str> = all
        .iter()
        .take_while(|(r, _)| *r > 1.0)
        .map(|(_, l)| l.as_str())
        .collect();
    assert!(
        failures.is_empty(),
        "regex work grows faster than the line for:\n{}",
        failures.join("\n")
    );
    eprintln!("closest to the bound: {:.2} of it ({})", all[0].0, all[0].1);
}

#[test]
fn after_keyword_reads_at_most_the_window_or_its_longest_match() {
    let toml = r#"
[[rules]]
id = "acme.key"
name = "Acme key"
provider = "Acme"
keywords = ["acme"]
window = 100
after_keyword = '[a-z ]*='
pattern = '(?i)acme[a-z ]*=[ ]*(k-[a-z0-9]{20})'
examples = ["acme = k-q8k2mx9pl4vr7ty1we3u"]
negative_examples = ["acme = q8k2mx9pl4vr7ty1we3u"]
"#;
    let mut set = RuleSet::default();
    set.extend(crate::rules::parse_rule_file("t.toml", toml).unwrap())
        .unwrap();
    let matcher = Matcher::new(&set).unwrap();
    // One hit, no `=` anywhere: the check reads the window, not the line.
    let mut data = b"acme".to_vec();
    data.extend(std::iter::repeat_n(b'z', 1 << 20));
    assert_eq!(work(&matcher, &data), 100);
    // A bounded after_keyword reads no further than its longest match.
    let bounded = toml.replace("'[a-z ]*='", "'[a-z ]{0,10}='");
    let mut set = RuleSet::default();
    set.extend(crate::rules::parse_rule_file("t.toml", &bounded).unwrap())
        .unwrap();
    assert_eq!(work(&Matcher::new(&set).unwrap(), &data), 11);
}
