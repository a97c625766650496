//! The built-in rule set: every rule proves its examples and negative
//! examples, coverage is what the product promises, and placeholders that
//! documentation is full of never fire with all rules loaded together.

use std::collections::BTreeSet;

use till_scan::matcher::{check_examples, Matcher, Scratch};
use till_scan::rules::RuleSet;

fn builtin() -> RuleSet {
    RuleSet::builtin().expect("built-in rules load")
}

#[test]
fn every_builtin_rule_proves_its_examples() {
    let set = builtin();
    let mut failures = Vec::new();
    for rule in &set.rules {
        if let Err(f) = check_examples(rule, &set) {
            failures.extend(
                f.into_iter()
                    .map(|m| format!("{} ({}): {m}", rule.id, rule.origin)),
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn coverage_is_at_least_150_rules_for_100_providers() {
    let set = builtin();
    let providers: BTreeSet<_> = set.rules.iter().map(|r| r.provider.as_str()).collect();
    assert!(set.len() >= 150, "only {} rules", set.len());
    assert!(providers.len() >= 100, "only {} providers", providers.len());
}

#[test]
fn all_twelve_till_providers_have_rules() {
    let set = builtin();
    let till: BTreeSet<_> = set
        .rules
        .iter()
        .filter_map(|r| r.till_provider.as_deref())
        .collect();
    // Till's providers, as rotation knows them (src/rotate/providers.toml).
    assert_eq!(till_scan::rotate::providers::ids().count(), 12);
    for p in till_scan::rotate::providers::ids() {
        assert!(till.contains(p), "no rule rotates {p}");
    }
}

fn scan_all(text: &str) -> Vec<String> {
    let set = builtin();
    let matcher = Matcher::new(&set).unwrap();
    let mut out = Vec::new();
    matcher.scan(text.as_bytes(), &mut Scratch::default(), &mut out);
    out.iter()
        .map(|m| format!("{}: {}", matcher.rule(m.rule).id, &text[m.secret.clone()]))
        .collect()
}

#[test]
fn placeholders_and_public_values_never_fire() {
    let text = r#"
OPENAI_API_KEY=sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
OPENAI_API_KEY="sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
ANTHROPIC_API_KEY=YOUR_API_KEY
api_key = "<token>"
token: ${GITHUB_TOKEN}
password = os.environ["DB_PASSWORD"]
secret = process.env.SECRET_KEY
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
STRIPE_PUBLISHABLE_KEY=pk_live_51HqLyjWDarjtT1zdp7dcXfakeValue1234
MISTRAL_API_KEY=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
COHERE_API_KEY=0123456789abcdefghijklmnopqrstuvwxyzABCD
GROQ_API_KEY=gsk_****************************************************
"token": "REDACTED",
DB_URL=postgres://user:password@localhost:5432/app
"#;
    let found = scan_all(text);
    assert!(found.is_empty(), "placeholders fired: {found:#?}");
}
