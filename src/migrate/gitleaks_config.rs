//! A `.gitleaks.toml` (or `.betterleaks.toml`, the same format) in
//! till-scan's terms: global `[allowlist]` and `[[allowlists]]` into the
//! config's `[allowlist]` and `[[allowlists]]`, custom `[[rules]]` into
//! [`Rule`]s (ids `gitleaks.<id>`), a rule's `path` into `[rules] paths`, its
//! allowlists into `[[allowlists]]` for that rule, and `[extend] useDefault`
//! into whether till-scan's built-in rules run. What has no till-scan
//! meaning is listed, never dropped in silence.
//!
//! Gitleaks' own semantics, from its `config/config.go`: a config with
//! `[extend] useDefault = true` runs the default rules plus its own; without
//! it, only its own rules. One thing differs on purpose: a file with no
//! `[[rules]]` and no `[extend]` (allowlists only) would make gitleaks run
//! nothing; till-scan keeps its built-in rules then and says so.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::allowlist::add_allowlist;
use super::pattern;
use crate::config::ConfigFile;
use crate::rules::{Rule, Severity};

/// Keys this translator does not know, by name, for the notes.
type Other = BTreeMap<String, toml::Value>;

#[derive(Debug, Default, Deserialize)]
pub struct GlFile {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub extend: Option<GlExtend>,
    #[serde(default)]
    pub rules: Vec<GlRule>,
    #[serde(default)]
    pub allowlist: Option<GlAllowlist>,
    #[serde(default)]
    pub allowlists: Vec<GlAllowlist>,
    #[serde(flatten)]
    pub other: Other,
}

#[derive(Debug, Default, Deserialize)]
pub struct GlExtend {
    #[serde(default, rename = "useDefault")]
    pub use_default: Option<bool>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default, rename = "disabledRules")]
    pub disabled_rules: Vec<String>,
    #[serde(flatten)]
    pub other: Other,
}

#[derive(Debug, Default, Deserialize)]
pub struct GlRule {
    pub id: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub regex: Option<String>,
    #[serde(default, rename = "secretGroup")]
    pub secret_group: Option<usize>,
    #[serde(default)]
    pub entropy: Option<f64>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub allowlist: Option<GlAllowlist>,
    #[serde(default)]
    pub allowlists: Vec<GlAllowlist>,
    #[serde(flatten)]
    pub other: Other,
}

#[derive(Debug, Default, Deserialize)]
pub struct GlAllowlist {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub condition: Option<String>,
    #[serde(default)]
    pub commits: Vec<String>,
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default, rename = "regexTarget")]
    pub regex_target: Option<String>,
    #[serde(default)]
    pub regexes: Vec<String>,
    #[serde(default)]
    pub stopwords: Vec<String>,
    #[serde(default, rename = "targetRules")]
    pub target_rules: Vec<String>,
    #[serde(flatten)]
    pub other: Other,
}

/// A translated custom rule, with what `migrate` needs to write it.
#[derive(Debug, Clone)]
pub struct Translated {
    pub rule: Rule,
    /// The rule's id in the gitleaks file.
    pub gitleaks_id: String,
    /// A path regex the rule is limited to.
    pub path: Option<String>,
}

/// The file in till-scan's terms.
#[derive(Debug, Default)]
pub struct Translation {
    /// Till-scan's built-in rules run too (`[extend] useDefault = true`, or
    /// a file with no rules of its own).
    pub use_default: bool,
    pub rules: Vec<Translated>,
    /// Allowlists and rule paths, as a `.till-scan.toml` would say them.
    pub config: ConfigFile,
    /// Allowlists translated (global and per rule).
    pub allowlists: usize,
    /// What had no till-scan meaning, each with where it is.
    pub not_understood: Vec<String>,
    /// Said besides: choices made where the tools differ.
    pub remarks: Vec<String>,
}

/// A gitleaks rule id as a till-scan rule id.
pub fn rule_id(gitleaks_id: &str) -> String {
    let body: String = gitleaks_id
        .trim()
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let body = body.trim_matches('-');
    format!("gitleaks.{}", if body.is_empty() { "rule" } else { body })
}

/// Parses the file's text; the error starts with `:LINE: ` when the line is
/// known, for the caller to put the file name in front.
pub fn parse(text: &str) -> Result<GlFile, String> {
    toml::from_str(text).map_err(|e| {
        let (line, message) = crate::rules::toml_error(text, &e);
        let line = line.map(|l| format!(":{l}")).unwrap_or_default();
        format!("{line}: {message}")
    })
}

/// The line of the first `id = "<id>"` in `text`, for notes about a rule.
fn rule_line(text: &str, id: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.trim();
            l.starts_with("id")
                && (l.contains(&format!("\"{id}\"")) || l.contains(&format!("'{id}'")))
        })
        .map(|i| i + 1)
}

/// Translates a parsed file; `label` names it in rule origins, `text` is its
/// text (for lines in notes).
pub fn translate(file: GlFile, label: &str, text: &str) -> Translation {
    let mut t = Translation::default();
    let at = |id: &str| {
        rule_line(text, id)
            .map(|l| format!(" (line {l})"))
            .unwrap_or_default()
    };
    for key in file.other.keys() {
        t.not_understood.push(format!("key `{key}`"));
    }
    let extend = file.extend.unwrap_or_default();
    for key in extend.other.keys() {
        t.not_understood.push(format!("extend.{key}"));
    }
    if extend.path.is_some() {
        t.not_understood
            .push("extend.path (read that file's rules into this one)".into());
    }
    if extend.url.is_some() {
        t.not_understood.push("extend.url".into());
    }
    let has_extend = extend.use_default.is_some() || extend.path.is_some() || extend.url.is_some();
    t.use_default = extend.use_default.unwrap_or(false);
    if file.rules.is_empty() && !has_extend {
        t.use_default = true;
        t.remarks.push(
            "no [[rules]] and no [extend]: gitleaks would run no rule; till-scan keeps its built-in rules".into(),
        );
    }
    let mut custom: Vec<String> = Vec::new();
    for r in &file.rules {
        custom.push(r.id.clone());
    }
    if !extend.disabled_rules.is_empty() {
        let foreign: Vec<&String> = extend
            .disabled_rules
            .iter()
            .filter(|d| !custom.contains(d))
            .collect();
        if !foreign.is_empty() {
            t.not_understood.push(format!(
                "extend.disabledRules {} (gitleaks' built-in ids; disable till-scan's own with [rules] disable)",
                list(&foreign)
            ));
        }
    }
    // Global allowlists: `[allowlist]` and `[[allowlists]]`.
    let globals = file
        .allowlist
        .into_iter()
        .map(|a| ("allowlist".to_string(), a))
        .chain(
            file.allowlists
                .into_iter()
                .enumerate()
                .map(|(i, a)| (format!("allowlists[{i}]"), a)),
        );
    for (name, a) in globals {
        let mut rules = Vec::new();
        if !a.target_rules.is_empty() {
            let (known, unknown): (Vec<&String>, Vec<&String>) =
                a.target_rules.iter().partition(|r| custom.contains(r));
            if !unknown.is_empty() {
                t.not_understood.push(format!(
                    "{name}.targetRules {} (gitleaks' built-in ids)",
                    list(&unknown)
                ));
            }
            if known.is_empty() {
                continue;
            }
            rules = known.iter().map(|r| rule_id(r)).collect();
        }
        add_allowlist(&mut t, &name, a, rules);
    }
    for r in file.rules {
        translate_rule(&mut t, r, label, &at);
    }
    t
}

fn list(items: &[&String]) -> String {
    items
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn translate_rule(t: &mut Translation, r: GlRule, label: &str, at: &dyn Fn(&str) -> String) {
    let mut id = rule_id(&r.id);
    // Two gitleaks ids that read alike here ("Foo", "foo") stay two rules.
    let mut n = 1;
    while t.rules.iter().any(|x| x.rule.id == id) {
        n += 1;
        id = format!("{}-{n}", rule_id(&r.id));
    }
    let skip = |t: &mut Translation, why: String| {
        t.not_understood
            .push(format!("rule \"{}\"{} ({why})", r.id, at(&r.id)));
    };
    for key in r.other.keys() {
        t.not_understood
            .push(format!("rule \"{}\"{}: key `{key}`", r.id, at(&r.id)));
    }
    let Some(regex) = r.regex.as_deref().filter(|s| !s.is_empty()) else {
        return skip(
            t,
            "no regex: a path-only rule reports files, not secrets".into(),
        );
    };
    let pattern = match pattern::convert(regex, r.secret_group.unwrap_or(0)) {
        Ok(p) => p,
        Err(why) => return skip(t, why),
    };
    if let Some(path) = &r.path {
        if let Err(e) = regex::bytes::Regex::new(path) {
            return skip(t, format!("path regex does not compile in Rust: {e}"));
        }
    }
    let mut keywords: Vec<String> = r
        .keywords
        .iter()
        .map(|k| k.trim().to_ascii_lowercase())
        .filter(|k| !k.is_empty())
        .collect();
    if keywords.iter().any(|k| k.len() < 2) || keywords.is_empty() {
        match pattern::literal_keywords(&pattern) {
            Some(words) => keywords = words,
            None => {
                return skip(
                    t,
                    "no keywords of 2+ characters, and no literal in its regex to use as one"
                        .into(),
                )
            }
        }
    }
    keywords.sort();
    keywords.dedup();
    if let Some(e) = r.entropy {
        if !(0.0..=8.0).contains(&e) {
            return skip(t, format!("entropy {e} is outside 0..=8"));
        }
    }
    let rule = Rule {
        id: id.clone(),
        name: r.description.clone().unwrap_or_else(|| r.id.clone()),
        provider: "Custom (gitleaks)".into(),
        till_provider: None,
        keywords,
        pattern,
        min_entropy: r.entropy.filter(|e| *e > 0.0),
        validator: None,
        allow: Vec::new(),
        stopwords: Vec::new(),
        // Gitleaks runs a rule over the whole file once a keyword is in it.
        window: 0,
        lead: 0,
        after_keyword: crate::rules::AfterKeyword::None,
        fallback: false,
        parts: Vec::new(),
        within_lines: 0,
        part_only: false,
        references: Vec::new(),
        severity: Severity::High,
        examples: Vec::new(),
        negative_examples: Vec::new(),
        origin: format!(
            "{label}{}",
            at(&r.id).replace(" (line ", ":").replace(')', "")
        ),
        group: "custom".into(),
        builtin: false,
    };
    if let Some(path) = &r.path {
        t.config.rules.paths.insert(id.clone(), path.clone());
    }
    let allowlists = r
        .allowlist
        .into_iter()
        .chain(r.allowlists)
        .enumerate()
        .collect::<Vec<_>>();
    for (i, a) in allowlists {
        let name = format!("rule \"{}\" allowlists[{i}]", r.id);
        if !a.target_rules.is_empty() {
            t.not_understood.push(format!("{name}.targetRules"));
        }
        add_allowlist(t, &name, a, vec![id.clone()]);
    }
    t.rules.push(Translated {
        rule,
        gitleaks_id: r.id,
        path: r.path,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
title = "team config"
[extend]
useDefault = true
disabledRules = ["generic-api-key"]

[allowlist]
paths = ['''(^|/)testdata/''']
regexes = ['''^dev-''']
stopwords = ["notasecret"]

[[allowlists]]
regexTarget = "match"
regexes = ['''acme_key\s*=\s*test''']

[[allowlists]]
targetRules = ["acme-key", "aws-access-token"]
commits = ["0123456789abcdef0123456789abcdef01234567"]

[[rules]]
id = "acme-key"
description = "Acme API key"
regex = '''(?i)(acme)[_-]key\s*=\s*['"]?([a-z0-9]{32})'''
secretGroup = 2
entropy = 3.0
keywords = ["acme"]
path = '''\.(env|ini)$'''
[[rules.allowlists]]
stopwords = ["sandbox"]

[[rules]]
id = "lookie"
regex = '''tok(?=en)'''

[[rules]]
id = "pathonly"
path = '''\.pem$'''
"#;

    #[test]
    fn a_full_file_translates_and_names_what_it_cannot() {
        let t = translate(parse(FILE).unwrap(), ".gitleaks.toml", FILE);
        assert!(t.use_default);
        assert_eq!(t.rules.len(), 1, "{:?}", t.not_understood);
        let r = &t.rules[0].rule;
        assert_eq!(r.id, "gitleaks.acme-key");
        assert_eq!(
            r.pattern,
            r#"(?i)(?:acme)[_-]key\s*=\s*['"]?([a-z0-9]{32})"#
        );
        assert_eq!(r.keywords, vec!["acme"]);
        assert_eq!(r.min_entropy, Some(3.0));
        assert!(r.origin.starts_with(".gitleaks.toml:"), "{}", r.origin);
        let c = &t.config;
        assert_eq!(c.allowlist.path_regexes, vec!["(^|/)testdata/"]);
        assert_eq!(c.allowlist.regexes, vec!["^dev-"]);
        assert_eq!(c.allowlist.match_regexes.len(), 1);
        assert_eq!(c.allowlist.stopwords, vec!["notasecret"]);
        assert_eq!(c.allowlists.len(), 2);
        assert_eq!(c.allowlists[0].rules, vec!["gitleaks.acme-key"]);
        assert_eq!(c.allowlists[0].commits.len(), 1);
        assert_eq!(c.allowlists[1].stopwords, vec!["sandbox"]);
        assert_eq!(c.rules.paths["gitleaks.acme-key"], r"\.(env|ini)$");
        assert_eq!(t.allowlists, 4);
        let notes = t.not_understood.join("; ");
        for expected in [
            "extend.disabledRules \"generic-api-key\"",
            "targetRules \"aws-access-token\"",
            "rule \"lookie\" (line 32) (regex uses lookahead",
            "rule \"pathonly\"",
        ] {
            assert!(notes.contains(expected), "{expected}: {notes}");
        }
    }

    #[test]
    fn rules_without_extend_replace_the_built_in_ones() {
        let text = "[[rules]]\nid = \"x\"\nregex = '''tok_[a-z0-9]{16}'''\n";
        let t = translate(parse(text).unwrap(), "f", text);
        assert!(!t.use_default);
        assert_eq!(t.rules[0].rule.keywords, vec!["tok_"]);
        let text = "[allowlist]\nstopwords = [\"x1\"]\n";
        let t = translate(parse(text).unwrap(), "f", text);
        assert!(t.use_default);
        assert_eq!(t.remarks.len(), 1);
    }

    #[test]
    fn ids_that_read_alike_stay_apart() {
        let text = "[[rules]]\nid = \"Tok\"\nregex = 'tok_[a-z0-9]{16}'\n[[rules]]\nid = \"tok\"\nregex = 'tok_[a-z0-9]{16}'\n";
        let t = translate(parse(text).unwrap(), "f", text);
        let ids: Vec<&str> = t.rules.iter().map(|r| r.rule.id.as_str()).collect();
        assert_eq!(ids, vec!["gitleaks.tok", "gitleaks.tok-2"]);
    }

    #[test]
    fn and_conditions_over_several_criteria_are_skipped() {
        let text = "[[allowlists]]\ncondition = \"AND\"\npaths = ['a/']\nstopwords = ['b1']\n[[allowlists]]\ncondition = \"AND\"\npaths = ['c/']\n";
        let t = translate(parse(text).unwrap(), "f", text);
        assert_eq!(t.allowlists, 1);
        assert_eq!(t.config.allowlist.path_regexes, vec!["c/"]);
        assert!(
            t.not_understood[0].contains("AND"),
            "{:?}",
            t.not_understood
        );
    }

    #[test]
    fn bad_files_name_the_line() {
        let err = parse("[[rules]]\nid = \"x\"\nentropy = \"high\"\n").unwrap_err();
        assert!(err.starts_with(":3:"), "{err}");
        let err = parse("[allowlist\n").unwrap_err();
        assert!(err.starts_with(":1:"), "{err}");
    }

    proptest::proptest! {
        #![proptest_config(crate::rules::fuzz::config(256))]

        #[test]
        fn any_text_translates_or_fails_with_a_message(text in crate::rules::fuzz::text_like(FILE)) {
            if let Ok(file) = parse(&text) {
                let _ = translate(file, "f", &text);
            }
        }
    }
}
