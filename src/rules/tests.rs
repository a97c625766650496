//! Unit tests of the rule loader.

use super::*;

const GOOD: &str = r#"
[[rules]]
id = "acme.api-key"
name = "Acme API key"
provider = "Acme"
keywords = ["acme_"]
pattern = '(acme_[a-z0-9]{16})'
examples = ["acme_0123456789abcdef"]
negative_examples = ["acme_short"]
"#;

#[test]
fn parses_a_minimal_rule() {
    let rules = parse_rule_file("t.toml", GOOD).unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0].id, "acme.api-key");
    assert_eq!(rules[0].origin, "t.toml:3");
    assert_eq!(rules[0].window, DEFAULT_WINDOW);
    assert_eq!(rules[0].lead, DEFAULT_WINDOW, "lead defaults to the window");
}

#[test]
fn invalid_regex_names_file_line_and_rule() {
    let text = GOOD.replace("(acme_[a-z0-9]{16})", "(acme_[a-z0-9{16})");
    let e = parse_rule_file("bad.toml", &text).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with("bad.toml:7: rule `acme.api-key`: invalid pattern"),
        "{msg}"
    );
}

#[test]
fn missing_field_names_file_and_line() {
    let text = GOOD.replace("negative_examples = [\"acme_short\"]\n", "");
    let msg = parse_rule_file("m.toml", &text).unwrap_err().to_string();
    assert!(msg.contains("m.toml:"), "{msg}");
    assert!(msg.contains("negative_examples"), "{msg}");
}

#[test]
fn unknown_field_is_an_error() {
    let text = GOOD.replace("provider = \"Acme\"", "provider = \"Acme\"\nprovder = 1");
    let msg = parse_rule_file("u.toml", &text).unwrap_err().to_string();
    assert!(msg.contains("provder"), "{msg}");
}

#[test]
fn pattern_needs_exactly_one_group() {
    let text = GOOD.replace("(acme_[a-z0-9]{16})", "(acme)_([a-z0-9]{16})");
    let msg = parse_rule_file("g.toml", &text).unwrap_err().to_string();
    assert!(msg.contains("exactly one capture group"), "{msg}");
}

#[test]
fn duplicate_ids_are_refused() {
    let mut set = RuleSet::default();
    set.extend(parse_rule_file("a.toml", GOOD).unwrap())
        .unwrap();
    let e = set
        .extend(parse_rule_file("b.toml", GOOD).unwrap())
        .unwrap_err();
    assert!(e.to_string().contains("already defined at a.toml:3"), "{e}");
}

#[test]
fn templates_expand_and_unknown_ones_fail() {
    let p = expand_templates("(?i)mistral{{near}}([a-z]{4})").unwrap();
    assert!(!p.contains("{{"));
    assert!(expand_templates("x{{nope}}")
        .unwrap_err()
        .contains("unknown template"));
}

#[test]
fn near_template_spans_common_assignment_shapes() {
    // Compiled the way the matcher compiles rules: bytes, ASCII classes.
    let re = regex::bytes::RegexBuilder::new(
        &expand_templates(r"(?i)mistral{{near}}([a-z0-9]{32})\b").unwrap(),
    )
    .unicode(false)
    .build()
    .unwrap();
    let v = "Q8k2mX9pL4vR7tY1wE3uI6oP0aS5dF2g";
    let shapes = [
        format!("MISTRAL_API_KEY={v}"),
        format!("export MISTRAL_API_KEY=\"{v}\""),
        format!("mistral_api_key: {v}"),
        format!("mistral:\n  api_key: \"{v}\""),
        format!("{{\"mistralApiKey\": \"{v}\"}}"),
        format!("<add key=\"MISTRAL_API_KEY\" value=\"{v}\" />"),
        format!("<mistralKey>{v}</mistralKey>"),
        format!("#define MISTRAL_API_KEY \"{v}\""),
        format!("INSERT INTO cfg VALUES ('mistral_key', '{v}');"),
        format!("const mistralKey = '{v}';"),
        format!("client = Mistral(api_key=\"{v}\")"),
        format!("os.environ[\"MISTRAL_API_KEY\"] = \"{v}\""),
        format!("$mistral_key => '{v}',"),
    ];
    for s in &shapes {
        let caps = re
            .captures(s.as_bytes())
            .unwrap_or_else(|| panic!("no match in {s:?}"));
        assert_eq!(&caps[1], v.as_bytes(), "{s}");
    }
}

#[test]
fn blank_stopwords_and_allow_everything_patterns_are_refused() {
    let text = GOOD.replacen(
        "examples = [",
        "stopwords = [\"ok\", \"\"]\nexamples = [",
        1,
    );
    let msg = parse_rule_file("s.toml", &text).unwrap_err().to_string();
    assert!(
        msg.starts_with("s.toml:3: rule `acme.api-key`: stopwords[1]"),
        "{msg}"
    );
    let text = GOOD.replacen("examples = [", "allow = ['^test', '.*']\nexamples = [", 1);
    let msg = parse_rule_file("a.toml", &text).unwrap_err().to_string();
    assert!(
        msg.starts_with("a.toml:8: rule `acme.api-key`: allow pattern `.*`"),
        "{msg}"
    );
}

#[test]
fn type_mistakes_name_the_key() {
    let text = GOOD.replace("keywords = [\"acme_\"]", "keywords = \"acme_\"");
    let msg = parse_rule_file("k.toml", &text).unwrap_err().to_string();
    assert_eq!(
        msg,
        "k.toml:6: `keywords` must be a list ([...]) (got string \"acme_\")"
    );
}

proptest::proptest! {
    #![proptest_config(fuzz::config(256))]

    /// Any text, and any mutation of a built-in rule file, parses or
    /// fails with a message naming the file and a line inside it.
    #[test]
    fn rule_files_never_panic(text in fuzz::text_like(BUILTIN_RULE_FILES[0].1)) {
        if let Err(e) = parse_rule_file("f.toml", &text) {
            proptest::prop_assert!(!e.message.is_empty());
            proptest::prop_assert_eq!(&e.file, "f.toml");
            if let Some(line) = e.line {
                proptest::prop_assert!(line >= 1 && line <= text.lines().count() + 1, "{}", e);
            }
        }
    }
}

#[test]
fn scans_load_the_builtin_rules_exactly_as_written_but_for_their_examples() {
    let full = RuleSet::builtin().unwrap();
    let scanning = RuleSet::builtin_for_scanning().unwrap();
    assert_eq!(full.len(), scanning.len());
    for (whole, lean) in full.rules.iter().zip(&scanning.rules) {
        assert!(lean.examples.is_empty() && lean.negative_examples.is_empty());
        let mut whole = whole.clone();
        whole.examples.clear();
        whole.negative_examples.clear();
        // `origin` (file:line) included: line numbers must not move.
        assert_eq!(format!("{whole:?}"), format!("{lean:?}"));
    }
}

#[test]
fn builtin_rules_load_and_pass_the_full_pattern_checks() {
    let set = RuleSet::builtin().unwrap();
    assert!(!set.is_empty());
    for (name, text) in BUILTIN_RULE_FILES {
        parse_rule_file(name, text).unwrap();
    }
}

#[test]
fn every_builtin_rule_proves_itself_and_sits_in_a_catalogue_group() {
    let mut problems = Vec::new();
    for (name, text) in BUILTIN_RULE_FILES {
        let rules = parse_rule_file(name, text).unwrap();
        if !name.contains('/') {
            problems.push(format!(
                "{name}: not in a group folder (rules/<group>/<vendor>.toml)"
            ));
        }
        let providers: HashSet<&str> = rules.iter().map(|r| r.provider.as_str()).collect();
        // `generic/` holds credentials of no one vendor (connection strings
        // of many databases, Authorization headers).
        if providers.len() != 1 && !name.starts_with("generic/") {
            problems.push(format!("{name}: one vendor per file, found {providers:?}"));
        }
        for r in &rules {
            if r.examples.len() < 2 || r.negative_examples.len() < 2 {
                problems.push(format!(
                    "{}: {} examples and {} negative examples (at least 2 each)",
                    r.id,
                    r.examples.len(),
                    r.negative_examples.len()
                ));
            }
            if !r
                .references
                .iter()
                .any(|u| u.starts_with("https://") || u.starts_with("http://"))
            {
                problems.push(format!("{}: no reference to documentation", r.id));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

const PAIR: &str = r#"
[[rules]]
id = "acme.key-id"
name = "Acme key ID"
provider = "Acme"
part_only = true
keywords = ["acmeid"]
pattern = '(acmeid_[a-z0-9]{8})'
examples = ["acmeid_q8k2mx9p"]
negative_examples = ["acmeid_x"]

[[rules]]
id = "acme.key-pair"
name = "Acme key pair"
provider = "Acme"
parts = [{ name = "id", rule = "acme.key-id" }, { name = "secret", rule = "acme.api-key" }]
within_lines = 2
examples = ["acmeid_q8k2mx9p\nacme_q8k2mx9pl4vr7ty1"]
negative_examples = ["acme_q8k2mx9pl4vr7ty1", "acmeid_q8k2mx9p\n\n\nacme_q8k2mx9pl4vr7ty1"]
"#;

fn pair_set() -> RuleSet {
    let mut set = RuleSet::default();
    set.extend(parse_rule_file("g.toml", GOOD).unwrap())
        .unwrap();
    set.extend(parse_rule_file("p.toml", PAIR).unwrap())
        .unwrap();
    set
}

#[test]
fn parses_a_multi_part_rule_and_its_part_only_part() {
    let set = pair_set();
    let pair = set.get("acme.key-pair").unwrap();
    assert!(pair.is_multi_part());
    assert_eq!(pair.within_lines, 2);
    let names: Vec<_> = pair.parts.iter().map(|p| (&*p.name, &*p.rule)).collect();
    assert_eq!(names, [("id", "acme.key-id"), ("secret", "acme.api-key")]);
    assert!(set.get("acme.key-id").unwrap().part_only);
    assert!(!set.get("acme.api-key").unwrap().part_only);
    set.check_parts().unwrap();
    for id in ["acme.key-id", "acme.key-pair"] {
        crate::matcher::check_examples(set.get(id).unwrap(), &set).unwrap();
    }
    let text = PAIR.replace("within_lines = 2\n", "");
    let rules = parse_rule_file("p.toml", &text).unwrap();
    assert_eq!(rules[1].within_lines, DEFAULT_WITHIN_LINES);
}

#[test]
fn multi_part_mistakes_name_the_rule_and_line() {
    let cases = [
        (
            PAIR.replace(
                "within_lines = 2",
                "within_lines = 2\nkeywords = [\"acme\"]",
            ),
            "cannot have `keywords`",
        ),
        (
            PAIR.replace(", { name = \"secret\", rule = \"acme.api-key\" }", ""),
            "at least two parts",
        ),
        (
            PAIR.replace("name = \"secret\"", "name = \"id\""),
            "part name `id` is used twice",
        ),
        (
            PAIR.replace("name = \"secret\"", "name = \"Secret Key\""),
            "part name `Secret Key`",
        ),
        (
            PAIR.replace("within_lines = 2", "within_lines = 1000"),
            "within_lines 1000",
        ),
        (
            PAIR.replace("pattern = '(acmeid_[a-z0-9]{8})'\n", ""),
            "needs a `pattern`",
        ),
    ];
    for (text, expected) in cases {
        let msg = parse_rule_file("p.toml", &text).unwrap_err().to_string();
        assert!(msg.starts_with("p.toml:"), "{msg}");
        assert!(msg.contains(expected), "{expected}: {msg}");
    }
    // A part naming a rule that is not loaded.
    let mut set = RuleSet::default();
    set.extend(parse_rule_file("p.toml", PAIR).unwrap())
        .unwrap();
    let msg = set.check_parts().unwrap_err().to_string();
    assert_eq!(
        msg,
        "p.toml:13: rule `acme.key-pair`: part `secret` names rule `acme.api-key`, which is not loaded"
    );
}

#[test]
fn selecting_a_multi_part_rule_keeps_its_parts_as_part_only() {
    let mut set = pair_set();
    set.retain(|r| r.id == "acme.key-pair");
    assert_eq!(set.len(), 3);
    assert!(set
        .rules
        .iter()
        .filter(|r| !r.is_multi_part())
        .all(|r| r.part_only));
    let mut set = pair_set();
    set.retain(|r| r.id != "acme.key-pair");
    let ids: Vec<_> = set.rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["acme.api-key", "acme.key-id"]);
    assert!(!set.get("acme.api-key").unwrap().part_only);
}

#[test]
fn severity_defaults_by_kind_and_till_keys_are_low() {
    let set = RuleSet::builtin().unwrap();
    let severity = |id: &str| set.get(id).unwrap().severity;
    assert_eq!(severity("aws.access-key-pair"), Severity::Critical);
    assert_eq!(severity("openai.project-key"), Severity::High);
    assert_eq!(severity("generic.secret-assignment"), Severity::Medium);
    assert_eq!(severity("till.scoped-key"), Severity::Low);
    // Ordered lowest first: `--fail-on` compares with `>=`.
    assert!(Severity::Low < Severity::Medium && Severity::High < Severity::Critical);
    let rules = parse_rule_file(
        "t.toml",
        r#"
[[rules]]
id = "t.key"
name = "t"
provider = "t"
severity = "critical"
keywords = ["tk_"]
pattern = '(tk_[a-z]{8})'
examples = ["tk_abcdefgh"]
negative_examples = ["tk_"]
"#,
    )
    .unwrap();
    assert_eq!(rules[0].severity, Severity::Critical);
    let err = parse_rule_file(
        "t.toml",
        "[[rules]]\nid = \"t.key\"\nname = \"t\"\nprovider = \"t\"\nseverity = \"severe\"\nkeywords = [\"tk_\"]\npattern = '(tk_)'\nexamples = [\"x\"]\nnegative_examples = [\"y\"]\n",
    )
    .unwrap_err();
    assert_eq!(err.line, Some(5), "{err}");
}

#[test]
fn after_keyword_is_one_regex_or_one_per_keyword() {
    let two = GOOD.replace(
        "keywords = [\"acme_\"]",
        "keywords = [\"acme_\", \"ACME-\"]",
    );
    let every = two.replacen("pattern =", "after_keyword = '[a-z]'\npattern =", 1);
    let rules = parse_rule_file("e.toml", &every).unwrap();
    assert_eq!(rules[0].after_keyword, AfterKeyword::Every("[a-z]".into()));
    assert_eq!(rules[0].after_keyword.for_keyword("acme-"), Some("[a-z]"));

    let each = format!("{two}\n[rules.after_keyword]\nACME_ = '[a-z0-9]{{16}}'\n");
    let rules = parse_rule_file("t.toml", &each).unwrap();
    assert_eq!(
        rules[0].after_keyword,
        AfterKeyword::Each(vec![("acme_".into(), "[a-z0-9]{16}".into())])
    );
    assert_eq!(
        rules[0].after_keyword.for_keyword("Acme_"),
        Some("[a-z0-9]{16}")
    );
    assert_eq!(rules[0].after_keyword.for_keyword("acme-"), None);

    let stray = format!("{two}\n[rules.after_keyword]\nacme = '[a-z]'\n");
    let msg = parse_rule_file("s.toml", &stray).unwrap_err().to_string();
    assert!(
        msg.starts_with("s.toml:11: rule `acme.api-key`: after_keyword names `acme`, which is not one of the rule's keywords"),
        "{msg}"
    );
    let broken = format!("{two}\n[rules.after_keyword]\nacme_ = '[a-z'\n");
    let msg = parse_rule_file("b.toml", &broken).unwrap_err().to_string();
    assert!(msg.contains("invalid after_keyword pattern"), "{msg}");
    let number = two.replacen("pattern =", "after_keyword = 3\npattern =", 1);
    let msg = parse_rule_file("n.toml", &number).unwrap_err().to_string();
    assert!(msg.starts_with("n.toml:7: "), "{msg}");
    assert!(msg.contains("after_keyword"), "{msg}");
}
