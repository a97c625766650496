//! The matcher's behaviour on small rule sets: candidate selection, windows,
//! filters, `lead`, `after_keyword` and the example checks.

use super::*;
use crate::rules::parse_rule_file;

fn matcher(toml: &str) -> Matcher {
    let mut set = RuleSet::default();
    set.extend(parse_rule_file("t.toml", toml).unwrap())
        .unwrap();
    Matcher::new(&set).unwrap()
}

fn secrets(m: &Matcher, data: &str) -> Vec<String> {
    let mut out = Vec::new();
    m.scan(data.as_bytes(), &mut Scratch::default(), &mut out);
    out.sort_by_key(|m| m.secret.start);
    out.iter()
        .map(|x| data[x.secret.clone()].to_string())
        .collect()
}

const TWO_RULES: &str = r#"
[[rules]]
id = "acme.key"
name = "Acme key"
provider = "Acme"
keywords = ["acme_"]
pattern = '\b(acme_[A-Za-z0-9]{20})\b'
min_entropy = 3.0
examples = ["x = acme_Q8k2mX9pL4vR7tY1wE3u"]
negative_examples = ["acme_short"]

[[rules]]
id = "zeta.key"
name = "Zeta key"
provider = "Zeta"
keywords = ["zeta"]
pattern = '(?i)zeta{{near}}([a-f0-9]{32})\b'
min_entropy = 3.0
examples = ["ZETA_KEY=9f8e7d6c5b4a39281706f5e4d3c2b1a0"]
negative_examples = ["KEY=9f8e7d6c5b4a39281706f5e4d3c2b1a0"]
"#;

#[test]
fn finds_only_rules_whose_keywords_occur() {
    let m = matcher(TWO_RULES);
    let data = "a = 'acme_Q8k2mX9pL4vR7tY1wE3u'\nother = 9f8e7d6c5b4a39281706f5e4d3c2b1a0\n";
    assert_eq!(secrets(&m, data), vec!["acme_Q8k2mX9pL4vR7tY1wE3u"]);
}

#[test]
fn keywords_are_case_insensitive_and_overlapping() {
    let m = matcher(TWO_RULES);
    let data = "ZetA_token: 9f8e7d6c5b4a39281706f5e4d3c2b1a0 ACME_Q8k2mX9pL4vR7tY1wE3u";
    // The acme regex is case-sensitive: the upper-case keyword selects the rule, the regex rejects it.
    assert_eq!(secrets(&m, data), vec!["9f8e7d6c5b4a39281706f5e4d3c2b1a0"]);
}

#[test]
fn many_hits_in_a_large_blob_are_all_found_once() {
    let m = matcher(TWO_RULES);
    let mut data = String::new();
    for i in 0..500 {
        data.push_str(&format!("filler line {i} with nothing in it\n"));
        if i % 50 == 0 {
            data.push_str("key = acme_Q8k2mX9pL4vR7tY1wE3u\n");
        }
    }
    assert_eq!(secrets(&m, &data).len(), 10);
}

#[test]
fn placeholders_entropy_and_filters_drop_candidates() {
    let m = matcher(TWO_RULES);
    assert!(secrets(&m, "acme_xxxxxxxxxxxxxxxxxxxx").is_empty());
    assert!(secrets(&m, "acme_abababababababababab").is_empty());
    assert!(secrets(&m, "zeta = 00000000000000000000000000000000").is_empty());
}

#[test]
fn whole_blob_window_finds_matches_far_from_keyword() {
    let toml = r#"
[[rules]]
id = "pem.key"
name = "PEM"
provider = "PEM"
keywords = ["-----BEGIN TEST KEY-----"]
window = 0
pattern = '(?s)-----BEGIN TEST KEY-----(.{10,5000}?)-----END TEST KEY-----'
examples = ["-----BEGIN TEST KEY-----Q8k2mX9pL4vR7tY1wE3u-----END TEST KEY-----"]
negative_examples = ["-----BEGIN TEST KEY-----short-----END TEST KEY-----"]
"#;
    let m = matcher(toml);
    let body = "Q8k2mX9pL4vR7tY1wE3uI6oP0aS5dF2g\n".repeat(60);
    let data = format!("-----BEGIN TEST KEY-----\n{body}-----END TEST KEY-----\n");
    assert_eq!(secrets(&m, &data).len(), 1);
}

#[test]
fn a_single_byte_keyword_falls_back_to_the_automaton() {
    // The loader refuses such keywords; a rule set built in code need not.
    let mut set = RuleSet::default();
    set.extend(parse_rule_file("t.toml", TWO_RULES).unwrap())
        .unwrap();
    set.rules[0].keywords = vec!["_".into()];
    let m = Matcher::new(&set).unwrap();
    assert!(matches!(m.keywords, Keywords::Automaton(_)));
    // Without the SIMD kernel the automaton is the faster of the two.
    let accelerated = Prefilter::new(&["acme_", "zeta"]).is_some_and(|p| p.accelerated());
    assert_eq!(
        matches!(matcher(TWO_RULES).keywords, Keywords::Prefilter(_)),
        accelerated
    );
    let data = "a = 'acme_Q8k2mX9pL4vR7tY1wE3u'\nZETA=9f8e7d6c5b4a39281706f5e4d3c2b1a0\n";
    assert_eq!(
        secrets(&m, data),
        vec![
            "acme_Q8k2mX9pL4vR7tY1wE3u",
            "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
        ]
    );
}

#[test]
fn lead_bounds_how_far_before_its_keyword_a_match_may_start() {
    let rule = |lead: &str| {
        format!(
            r#"
[[rules]]
id = "acme.key"
name = "Acme key"
provider = "Acme"
keywords = ["acme"]
{lead}
pattern = '([a-z0-9]{{24}}) *= *acme'
examples = ["q8k2mx9pl4vr7ty1we3uz5n0 = acme"]
negative_examples = ["q8k2mx9pl4 = acme"]
"#
        )
    };
    let data = "x q8k2mx9pl4vr7ty1we3uz5n0 = acme\n";
    let wide = matcher(&rule(""));
    assert_eq!(secrets(&wide, data), vec!["q8k2mx9pl4vr7ty1we3uz5n0"]);
    // 27 bytes before the keyword are needed; 27 suffice, 26 do not.
    assert_eq!(
        secrets(&matcher(&rule("lead = 27")), data),
        vec!["q8k2mx9pl4vr7ty1we3uz5n0"]
    );
    assert!(secrets(&matcher(&rule("lead = 26")), data).is_empty());
}

#[test]
fn after_keyword_drops_hits_it_does_not_match() {
    // Stricter than the pattern on purpose (`=` only, where the pattern
    // also takes `:`), to show which hits open a window.
    let toml = r#"
[[rules]]
id = "acme.key"
name = "Acme key"
provider = "Acme"
keywords = ["acme"]
after_keyword = '[ \t]*='
pattern = '(?i)acme{{near}}(k-[a-z0-9]{20})'
examples = ["ACME = k-q8k2mx9pl4vr7ty1we3u"]
negative_examples = ["ACME = q8k2mx9pl4vr7ty1we3u"]
"#;
    let m = matcher(toml);
    assert_eq!(
        secrets(&m, "acme = 'k-q8k2mx9pl4vr7ty1we3u'"),
        vec!["k-q8k2mx9pl4vr7ty1we3u"]
    );
    assert!(secrets(&m, "acme: 'k-q8k2mx9pl4vr7ty1we3u'").is_empty());
    let mut set = RuleSet::default();
    set.extend(parse_rule_file("t.toml", toml).unwrap())
        .unwrap();
    set.rules[0].after_keyword = crate::rules::AfterKeyword::None;
    let unfiltered = Matcher::new(&set).unwrap();
    assert_eq!(
        secrets(&unfiltered, "acme: 'k-q8k2mx9pl4vr7ty1we3u'"),
        vec!["k-q8k2mx9pl4vr7ty1we3u"]
    );
}

#[test]
fn a_per_keyword_after_keyword_checks_only_the_hits_of_its_keyword() {
    // `acme` hits must be followed by `=`; `zenith` hits are not checked.
    let toml = r#"
[[rules]]
id = "acme.key"
name = "Acme key"
provider = "Acme"
keywords = ["acme", "zenith"]
pattern = '(?i)(?:acme|zenith){{near}}(k-[a-z0-9]{20})'
examples = ["ACME = k-q8k2mx9pl4vr7ty1we3u", "zenith: k-q8k2mx9pl4vr7ty1we3u"]
negative_examples = ["ACME = q8k2mx9pl4vr7ty1we3u"]

[rules.after_keyword]
ACME = '[ 	]*='
"#;
    let m = matcher(toml);
    let key = vec!["k-q8k2mx9pl4vr7ty1we3u"];
    assert_eq!(secrets(&m, "acme = 'k-q8k2mx9pl4vr7ty1we3u'"), key);
    assert!(secrets(&m, "acme: 'k-q8k2mx9pl4vr7ty1we3u'").is_empty());
    assert_eq!(secrets(&m, "zenith: 'k-q8k2mx9pl4vr7ty1we3u'"), key);
    assert_eq!(secrets(&m, "Zenith = 'k-q8k2mx9pl4vr7ty1we3u'"), key);
}

#[test]
fn examples_are_checked() {
    let set = {
        let mut s = RuleSet::default();
        s.extend(parse_rule_file("t.toml", TWO_RULES).unwrap())
            .unwrap();
        s
    };
    for rule in &set.rules {
        check_examples(rule, &set).unwrap();
    }
    let mut broken = set.rules[0].clone();
    broken.negative_examples = vec!["acme_Q8k2mX9pL4vR7tY1wE3u".into()];
    let failures = check_examples(&broken, &set).unwrap_err();
    assert!(
        failures[0].contains("negative example matched"),
        "{failures:?}"
    );
}

/// The run of identical byte sets an `after_keyword` begins with: how
/// many, and the bytes of the set.
fn leading_run(pattern: &str) -> Option<(usize, Vec<u8>)> {
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern)
        .unwrap();
    let lead = leading_bytes(&hir, AFTER_KEYWORD_LEAD);
    let first = *lead.first()?;
    let count = lead.iter().take_while(|&&set| set == first).count();
    Some((count, first.bytes().collect()))
}

#[test]
fn after_keyword_runs_are_read_from_the_pattern_start() {
    let alnum: Vec<u8> = (b'0'..=b'9')
        .chain(b'A'..=b'Z')
        .chain(b'a'..=b'z')
        .collect();
    assert_eq!(leading_run("[0-9A-Za-z]{32}_"), Some((32, alnum.clone())));
    assert_eq!(leading_run(r"[A-Za-z0-9]{14}\.[0-9a-f]"), Some((14, alnum)));
    assert_eq!(leading_run(r"\.x"), Some((1, vec![b'.'])));
    assert_eq!(leading_run("(?i)k{2,}"), Some((2, vec![b'K', b'k'])));
    // `(ab){3}` begins with one `a`, not three.
    assert_eq!(leading_run("(?:ab){3}"), Some((1, vec![b'a'])));
    // Patterns that may open with something else have no run.
    assert_eq!(leading_run("[a-z]{0,20}secret"), None);
    assert_eq!(leading_run("[a-z]{4}|:"), None);
    assert_eq!(leading_run(r"\b[a-z]{4}"), None);
}

#[test]
fn the_leading_run_never_refuses_what_the_after_keyword_pattern_accepts() {
    // On every example of every built-in rule: wherever `after_keyword`
    // matches right after a keyword, the cheap check lets it through.
    let set = RuleSet::builtin().unwrap();
    let mut checked = 0;
    for rule in set.rules.iter().filter(|r| r.after_keyword.is_some()) {
        for keyword in &rule.keywords {
            let keyword = keyword.to_ascii_lowercase();
            let Some(pattern) = rule.after_keyword.for_keyword(&keyword) else {
                continue;
            };
            let after = AfterCheck::new(pattern).unwrap();
            let mut cache = after.regex.create_cache();
            for example in &rule.examples {
                let lower = example.to_ascii_lowercase();
                for (at, _) in lower.match_indices(&keyword) {
                    let text = &example.as_bytes()[at + keyword.len()..];
                    let input = Input::new(text).anchored(Anchored::Yes).earliest(true);
                    if after.regex.search_half_with(&mut cache, &input).is_some() {
                        checked += 1;
                        assert!(
                            after.matches(&mut cache, text),
                            "{}: the leading run refuses {example:?}",
                            rule.id
                        );
                    }
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} keyword hits checked");
}

#[test]
fn the_keyword_a_pattern_begins_with_at_a_word_boundary_is_read_from_it() {
    let kw = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
    let near =
        crate::rules::expand_templates(r"(?i)\blob{{near}}((?:live|test)_[0-9a-f]{30})").unwrap();
    assert_eq!(
        word_start_keyword(&near, &kw(&["lob"])),
        Some(b"lob".to_vec())
    );
    assert_eq!(
        word_start_keyword(r"\b(pat[A-Za-z0-9]{14}\.[0-9a-f]{64})\b", &kw(&["pat"])),
        Some(b"pat".to_vec())
    );
    assert_eq!(
        word_start_keyword(r"\b(KEY[0-9A-Za-z]{32})", &kw(&["other", "KEY"])),
        Some(b"key".to_vec())
    );
    // No boundary, an alternation, an optional letter, a keyword that is
    // not what the pattern spells, or one that starts with a non-word byte.
    assert_eq!(word_start_keyword(r"lob_(x)", &kw(&["lob"])), None);
    assert_eq!(word_start_keyword(r"\blob(x)|(y)", &kw(&["lob"])), None);
    assert_eq!(word_start_keyword(r"\blo?b(x)", &kw(&["lob"])), None);
    assert_eq!(word_start_keyword(r"\b(?i)l[a-z]b(x)", &kw(&["lob"])), None);
    assert_eq!(word_start_keyword(r"\b-us(x)", &kw(&["-us"])), None);
}

#[test]
fn hits_inside_a_word_open_no_window_for_a_word_start_rule() {
    let m = matcher(
        r#"
[[rules]]
id = "t.lob"
name = "t"
provider = "t"
keywords = ["lob"]
pattern = '''(?i)\blob[_a-z]*\s*=\s*(live_[0-9a-f]{8})'''
examples = ["lob_key = live_0123abcd"]
negative_examples = ["x"]
"#,
    );
    assert_eq!(secrets(&m, "lob_key = live_0123abcd"), ["live_0123abcd"]);
    assert_eq!(secrets(&m, "x; LOB = live_0123abcd"), ["live_0123abcd"]);
    // `global = live_…`: the hit is inside a word; the regex would not
    // match there either.
    assert!(secrets(&m, "global = live_0123abcd").is_empty());
    let mut scratch = Scratch::default();
    m.scan(b"global = live_0123abcd", &mut scratch, &mut Vec::new());
    assert_eq!(
        scratch.regex_bytes(),
        0,
        "a hit inside a word opened a window"
    );
}

#[test]
fn a_pattern_that_opens_with_its_keywords_is_read_as_keyword_led() {
    let led = |pattern: &str, words: &[&str]| {
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        let hir =
            crate::rules::parse_pattern(&crate::rules::expand_templates(pattern).unwrap()).unwrap();
        shape::keyword_led(&hir, &words)
    };
    let near = r"(?i)(?:mistral|codestral){{near}}([a-z0-9]{32})\b";
    assert!(led(near, &["mistral", "codestral"]));
    assert!(led(r"\b(sk-[a-z]{4})", &["sk-"]));
    assert!(led(r"(?i)(?:ghp|gho)_([a-z]{36})", &["ghp_", "gho_"]));
    assert!(led(r"(?:AKIA|ASIA)[0-9A-Z]{16}", &["AKIA", "ASIA"]));
    // A keyword shorter than what the pattern spells still starts the match.
    assert!(led(r"(?i)token=(\w+)", &["tok"]));
    assert!(led(r"(?:ab){2}(x)", &["abab"]));
    // Openings that are not a keyword: another keyword's spelling, a
    // character before the keyword, an optional or repeated start, a class.
    assert!(!led(near, &["mistral"]));
    assert!(!led(r"(?i)api[_-]?key=(x)", &["apikey"]));
    assert!(!led(r"(?:^|[^\w])token(x)", &["token"]));
    assert!(!led(r"[a-z]{0,20}secret(x)", &["secret"]));
    assert!(!led(r"x?secret(x)", &["secret"]));
    assert!(!led(r"(?i)t[a-z]ken(x)", &["token"]));
    assert!(!led(r"(?:ab)*(x)", &["ab"]));
    assert!(!led(r"(?i)token(x)", &[]));
}

#[test]
fn a_keyword_led_rule_skips_hits_inside_a_match_it_already_found() {
    let m = matcher(
        r#"
[[rules]]
id = "t.kw"
name = "t"
provider = "t"
keywords = ["kw_"]
pattern = '''kw_([a-z]{4}(?:kw_[a-z]{4})?)'''
examples = ["kw_abcd"]
negative_examples = ["x"]
"#,
    );
    assert!(m.rules()[0].keyword_led());
    // The second hit lies inside the first match: one match, as a search
    // over the whole text finds.
    assert_eq!(secrets(&m, "kw_abcdkw_efgh"), ["abcdkw_efgh"]);
    assert_eq!(secrets(&m, "kw_abcd kw_efgh"), ["abcd", "efgh"]);
}

#[test]
fn anchored_hits_find_what_a_search_of_the_whole_text_finds() {
    // Every built-in rule whose matches open with its keywords, on all its
    // examples and negatives: the matcher's anchored searches at the hits
    // report exactly the accepted matches of the pattern over the text.
    let set = RuleSet::builtin().unwrap();
    let m = Matcher::new(&set).unwrap();
    let mut led = 0;
    for (index, compiled) in m.rules().iter().enumerate() {
        if compiled.rule.is_multi_part() || !compiled.keyword_led() {
            continue;
        }
        led += 1;
        let regex = compiled.regex().unwrap();
        let texts = compiled.rule.examples.iter();
        for text in texts.chain(&compiled.rule.negative_examples) {
            let data = text.as_bytes();
            let mut expected: Vec<Range<usize>> = regex
                .captures_iter(data)
                .filter_map(|caps| caps.get_group(1).map(|g| g.range()))
                .filter(|secret| m.accepts(compiled, &data[secret.clone()]))
                .collect();
            let mut out = Vec::new();
            m.scan(data, &mut Scratch::default(), &mut out);
            let mut got: Vec<Range<usize>> = out
                .iter()
                .filter(|x| x.rule == index)
                .map(|x| x.secret.clone())
                .collect();
            expected.sort_by_key(|r| (r.start, r.end));
            got.sort_by_key(|r| (r.start, r.end));
            assert_eq!(got, expected, "{}: {text:?}", compiled.rule.id);
        }
    }
    assert!(led > 100, "only {led} keyword-led rules");
}

#[test]
fn hits_of_a_keyword_led_rule_close_together_are_searched_in_one_pass() {
    let m = matcher(TWO_RULES);
    let zeta = m
        .rules()
        .iter()
        .position(|r| r.rule.id == "zeta.key")
        .unwrap();
    assert!(m.rules()[zeta].keyword_led());
    // A line dense with the keyword: one anchored search per hit would read
    // a window's worth of bytes from every hit (about 75 times the line);
    // merged windows read it about once.
    let data = "zeta ".repeat(4000);
    let mut scratch = Scratch::default();
    m.scan(data.as_bytes(), &mut scratch, &mut Vec::new());
    assert!(
        scratch.regex_bytes() < 2 * data.len() as u64,
        "{} regex bytes for a {}-byte line",
        scratch.regex_bytes(),
        data.len()
    );
    // A lone hit is still found, and so is one in a dense run.
    let key = "9f8e7d6c5b4a39281706f5e4d3c2b1a0";
    assert_eq!(secrets(&m, &format!("ZETA_KEY={key}")), [key]);
    assert_eq!(
        secrets(&m, &format!("zeta zeta ZETA_KEY={key} zeta")),
        [key]
    );
}

/// [`shape::required_run`] of a pattern, as (bytes of the set, length).
fn required(pattern: &str) -> Option<(Vec<u8>, usize)> {
    let hir =
        crate::rules::parse_pattern(&crate::rules::expand_templates(pattern).unwrap()).unwrap();
    shape::required_run(&hir).map(|(set, min)| (set.bytes().collect(), min))
}

#[test]
fn the_run_every_match_contains_is_read_from_the_pattern() {
    let hex: Vec<u8> = (b'0'..=b'9').chain(b'a'..=b'f').collect();
    assert_eq!(
        required(r"(?i)together{{near}}([a-f0-9]{64})\b"),
        // `(?i)` folds the class: both cases of a-f.
        Some((
            (b'0'..=b'9')
                .chain(b'A'..=b'F')
                .chain(b'a'..=b'f')
                .collect(),
            64
        ))
    );
    // The longest of the runs in a row; a repetition counts its minimum.
    assert_eq!(
        required(r"\b(pat[A-Za-z0-9]{14}\.[0-9a-f]{64})\b"),
        Some((hex.clone(), 64))
    );
    assert_eq!(required(r"x([0-9a-f]{20,40})"), Some((hex.clone(), 20)));
    assert_eq!(required(r"(?:k([0-9a-f]{16})){2}"), Some((hex, 16)));
    // A run on one branch only, an optional one, or a short one: none.
    assert_eq!(required(r"(?:a|[0-9a-f]{32})(x)"), None);
    assert_eq!(required(r"k([0-9a-f]{32})?"), None);
    assert_eq!(required(r"k([0-9a-f]{8})"), None);
    // A Unicode class stands for all the bytes of its UTF-8 sequences.
    let (set, 12) = required(r"(?u)k(\w{12})").unwrap() else {
        panic!("no run")
    };
    assert!(set.contains(&b'_') && set.contains(&0x80) && set.contains(&0xff));
}

#[test]
fn every_match_of_a_built_in_rule_holds_its_required_run() {
    // On all examples and negatives: each match of the pattern over the
    // text contains the run, so skipping windows without one loses nothing.
    let set = RuleSet::builtin().unwrap();
    let m = Matcher::new(&set).unwrap();
    let mut checked = 0;
    for compiled in m.rules() {
        let Some((run, min)) = compiled.required_run() else {
            continue;
        };
        let regex = compiled.regex().unwrap();
        let texts = compiled.rule.examples.iter();
        for text in texts.chain(&compiled.rule.negative_examples) {
            for found in regex.find_iter(text.as_bytes()) {
                checked += 1;
                assert!(
                    has_run(&text.as_bytes()[found.range()], run, *min),
                    "{}: {text:?}",
                    compiled.rule.id
                );
            }
        }
    }
    assert!(checked > 500, "only {checked} matches checked");
}

#[test]
fn a_window_without_the_required_run_is_not_searched() {
    let toml = r#"
[[rules]]
id = "acme.key"
name = "Acme key"
provider = "Acme"
keywords = ["acme"]
pattern = '(?i)acme{{near}}([0-9a-f]{32})\b'
examples = ["ACME_KEY = 0f3c9a7d2b4e6f8a1c3e5d7b9f0a2c4e"]
negative_examples = ["ACME_KEY = 0f3c9a7d2b4e6f8a1c3e5d7b9f0a2c4"]
"#;
    let m = matcher(toml);
    let prose = "acme together with acme and acme: a line of prose. ".repeat(40);
    let mut scratch = Scratch::default();
    m.scan(prose.as_bytes(), &mut scratch, &mut Vec::new());
    // Only the after_keyword-free probe of the run: no regex work at all.
    assert_eq!(scratch.regex_bytes(), 0);
    assert_eq!(
        secrets(&m, "acme_key = '0f3c9a7d2b4e6f8a1c3e5d7b9f0a2c4e'"),
        vec!["0f3c9a7d2b4e6f8a1c3e5d7b9f0a2c4e"]
    );
}

#[test]
fn compiling_the_user_rules_leaves_the_built_in_ones_for_later() {
    // Start-up compiles only user rules; a built-in rule's pattern and
    // after_keyword checks compile at its first keyword hit.
    let set = RuleSet::builtin().unwrap();
    let m = Matcher::new(&set).unwrap();
    assert!(m.compile_where(|r| !r.builtin).is_empty());
    assert!(m
        .after_checks
        .iter()
        .all(|slot| slot.compiled.get().is_none()));
    assert!(m.rules().iter().all(|c| c.regex.get().is_none()));
    assert!(m.compile_all().is_empty());
    assert!(m
        .after_checks
        .iter()
        .all(|slot| slot.compiled.get().is_some()));
}
