//! A [`Translation`] as till-scan files: the `.till-scan.toml` text, and a
//! rule file of the custom rules in till-scan's rule format. Every
//! till-scan rule proves examples, so each migrated rule gets an example
//! generated from its regex and a negative example, both proven here; a
//! rule whose example cannot be generated is written commented out, with a
//! TODO, and listed as not converted (its config references are left out,
//! so the config still loads).

use std::collections::BTreeSet;

use super::{pattern, Translated, Translation};
use crate::config::AllowlistConfig;
use crate::rules::{Rule, RuleSet};

/// Where `migrate` writes the rules, relative to the root.
pub const RULES_DIR: &str = ".till-scan/rules";
pub const RULES_FILE: &str = "migrated.toml";

/// The rule file, and what became of each rule.
#[derive(Debug, Default)]
pub struct RuleFileText {
    pub text: String,
    /// Ids of the rules written (not commented out).
    pub written: BTreeSet<String>,
    /// Rules written commented out, with why.
    pub not_converted: Vec<String>,
}

/// A TOML value: a string quoted the way TOML reads it back unchanged.
fn quoted(s: &str) -> String {
    if !s.contains('\'') && !s.contains('\n') && !s.contains('\r') {
        format!("'{s}'")
    } else {
        toml::Value::String(s.to_string()).to_string()
    }
}

fn list(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|s| quoted(s)).collect();
    format!("[{}]", inner.join(", "))
}

/// An example the rule finds and a negative example it does not, proven.
fn examples(rule: &Rule) -> Result<(String, String), String> {
    let generated =
        pattern::example(&rule.pattern).ok_or("no example could be generated from its regex")?;
    let lower = generated.to_ascii_lowercase();
    let keyword = rule.keywords.first().cloned().unwrap_or_default();
    let example = if rule.keywords.iter().any(|k| lower.contains(k.as_str())) {
        generated.clone()
    } else {
        format!("{keyword} {generated}")
    };
    let half = &generated[..generated.len() / 2];
    let candidates = [format!("{keyword} ="), format!("{keyword} {half}")];
    let mut last = String::new();
    for negative in candidates {
        let mut proven = rule.clone();
        proven.examples = vec![example.clone()];
        proven.negative_examples = vec![negative.clone()];
        match crate::matcher::check_examples(&proven, &RuleSet::default()) {
            Ok(()) => return Ok((example, negative)),
            Err(e) => last = e.join("; "),
        }
    }
    Err(format!("its generated example does not prove it ({last})"))
}

fn rule_text(t: &Translated, example: &str, negative: &str) -> String {
    let r = &t.rule;
    let mut out = String::new();
    out.push_str(&format!("# From gitleaks rule \"{}\".\n", t.gitleaks_id));
    out.push_str("[[rules]]\n");
    out.push_str(&format!("id = {}\n", quoted(&r.id)));
    out.push_str(&format!("name = {}\n", quoted(&r.name)));
    out.push_str(&format!("provider = {}\n", quoted(&r.provider)));
    out.push_str(&format!("keywords = {}\n", list(&r.keywords)));
    out.push_str(&format!("pattern = {}\n", quoted(&r.pattern)));
    if let Some(e) = r.min_entropy {
        out.push_str(&format!("min_entropy = {e:?}\n"));
    }
    out.push_str("# Gitleaks runs a rule over the whole file once a keyword is in it.\n");
    out.push_str("window = 0\n");
    // The example looks like a real key: the allow comment keeps scans of
    // the repository from reporting the rule file itself.
    out.push_str(&format!(
        "examples = [{}]  # till-scan:allow gitleaks:allow (generated example)\n",
        quoted(example)
    ));
    out.push_str(&format!("negative_examples = [{}]\n", quoted(negative)));
    out
}

/// The rule file of the translated rules.
pub fn rules_file(t: &Translation, source: &str) -> RuleFileText {
    let mut out = RuleFileText {
        text: format!(
            "# Rules migrated from {source} by `till-scan migrate`.\n# See docs/writing-rules.md; `till-scan rules check {RULES_DIR}` proves them.\n"
        ),
        ..RuleFileText::default()
    };
    for tr in &t.rules {
        out.text.push('\n');
        match examples(&tr.rule) {
            Ok((example, negative)) => {
                out.text.push_str(&rule_text(tr, &example, &negative));
                out.written.insert(tr.rule.id.clone());
            }
            Err(why) => {
                out.text.push_str(&format!(
                    "# TODO: write an example and a negative example, then uncomment ({why}).\n"
                ));
                for line in rule_text(tr, "TODO", "TODO").lines() {
                    out.text.push_str(&format!("# {line}\n"));
                }
                out.not_converted
                    .push(format!("rule \"{}\" ({why})", tr.gitleaks_id));
            }
        }
    }
    out
}

fn allowlist_lines(a: &AllowlistConfig, rules: &[String], out: &mut String) {
    if !rules.is_empty() {
        out.push_str(&format!("rules = {}\n", list(rules)));
    }
    for (key, items) in [
        ("path_regexes", &a.path_regexes),
        ("regexes", &a.regexes),
        ("match_regexes", &a.match_regexes),
        ("line_regexes", &a.line_regexes),
        ("stopwords", &a.stopwords),
        ("commits", &a.commits),
    ] {
        if !items.is_empty() {
            out.push_str(&format!("{key} = {}\n", list(items)));
        }
    }
}

/// The `.till-scan.toml` of a translation whose rules in `written` were
/// written to [`RULES_DIR`].
pub fn config_text(t: &Translation, source: &str, written: &BTreeSet<String>) -> String {
    let mut out = format!("# Migrated from {source} by `till-scan migrate`.\n");
    if !written.is_empty() {
        out.push_str(&format!("rule_dirs = [{}]\n", quoted(RULES_DIR)));
    }
    let paths: Vec<(&String, &String)> = t
        .config
        .rules
        .paths
        .iter()
        .filter(|(id, _)| written.contains(*id))
        .collect();
    let only_own = !t.use_default && !written.is_empty();
    if only_own || !paths.is_empty() {
        out.push_str("\n[rules]\n");
    }
    if only_own {
        out.push_str("# No [extend] useDefault: only the migrated rules run, as in gitleaks.\n");
        out.push_str("enable = ['gitleaks.*']\n");
    }
    if !paths.is_empty() {
        out.push_str("# Each rule reports only in files whose path matches.\n");
        out.push_str("[rules.paths]\n");
        for (id, re) in paths {
            out.push_str(&format!("{} = {}\n", quoted(id), quoted(re)));
        }
    }
    let main = &t.config.allowlist;
    let mut body = String::new();
    allowlist_lines(main, &[], &mut body);
    if !body.is_empty() {
        out.push_str("\n[allowlist]\n");
        out.push_str(&body);
    }
    for a in &t.config.allowlists {
        let rules: Vec<String> = a
            .rules
            .iter()
            .filter(|r| written.contains(*r))
            .cloned()
            .collect();
        if rules.is_empty() {
            continue;
        }
        out.push_str("\n[[allowlists]]\n");
        allowlist_lines(a, &rules, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::gitleaks_config::{parse, translate};

    const FILE: &str = r#"
[[rules]]
id = "tok"
regex = '''(tok_[a-z0-9]{20})'''
path = '''\.env$'''
[[rules.allowlists]]
stopwords = ["sandbox"]

[[rules]]
id = "binary"
regex = '''bin_[\x80-\xff]{8}'''

[allowlist]
paths = ['''(^|/)fixtures/''']
regexTarget = "match"
regexes = ['''^tok_0''']
"#;

    #[test]
    fn proven_rules_are_written_and_the_rest_commented_out_with_a_todo() {
        let t = translate(parse(FILE).unwrap(), "f", FILE);
        assert_eq!(t.rules.len(), 2);
        let rules = rules_file(&t, ".gitleaks.toml");
        assert_eq!(
            rules.written.iter().collect::<Vec<_>>(),
            vec!["gitleaks.tok"]
        );
        assert!(
            rules.text.contains("# TODO: write an example"),
            "{}",
            rules.text
        );
        assert!(
            rules.text.contains("# id = 'gitleaks.binary'"),
            "{}",
            rules.text
        );
        assert_eq!(rules.not_converted.len(), 1);
        // What is written parses as a rule file and proves itself.
        let parsed = crate::rules::parse_rule_file("migrated.toml", &rules.text).unwrap();
        assert_eq!(parsed.len(), 1);
        crate::matcher::check_examples(&parsed[0], &RuleSet::default()).unwrap();
        // The config names only the written rule, and parses.
        let config = config_text(&t, ".gitleaks.toml", &rules.written);
        let file = crate::config::parse(&config).unwrap();
        assert_eq!(file.rules.enable, vec!["gitleaks.*"]);
        assert_eq!(file.rules.paths["gitleaks.tok"], r"\.env$");
        assert_eq!(file.allowlist.path_regexes, vec!["(^|/)fixtures/"]);
        assert_eq!(file.allowlist.match_regexes, vec!["^tok_0"]);
        assert_eq!(file.allowlists.len(), 1);
        assert_eq!(file.allowlists[0].rules, vec!["gitleaks.tok"]);
        assert!(!config.contains("binary"), "{config}");
    }

    #[test]
    fn strings_come_back_as_written() {
        for s in [r"a'b", r#"a"b\d"#, "x\ny", r"^\s+$"] {
            let text = format!("k = {}\n", quoted(s));
            let v: toml::Table = toml::from_str(&text).unwrap();
            assert_eq!(v["k"].as_str(), Some(s), "{text}");
        }
    }
}
