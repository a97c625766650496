//! Rule files to [`Rule`]s: the TOML schema checked key by key, errors
//! that name the file, the line and the rule, and TOML errors said in the
//! file's own terms.

use super::{
    expand_templates, matches_everything, AfterKeyword, AfterKeywordSpec, Rule, RuleError,
    RuleFile, DEFAULT_WINDOW,
};

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Parses one rule file. `file` is only used to label errors and origins.
pub fn parse_rule_file(file: &str, text: &str) -> Result<Vec<Rule>, RuleError> {
    parse_rules(file, text, true)
}

/// Parses rule files; `check_patterns` parses every regex to report syntax
/// errors with their line. The built-in rules skip that at run time (their
/// patterns are compiled and proven by the test suite), which keeps the
/// startup of a commit hook in milliseconds.
pub(super) fn parse_rules(
    file: &str,
    text: &str,
    check_patterns: bool,
) -> Result<Vec<Rule>, RuleError> {
    let err = |line: Option<usize>, message: String| RuleError {
        file: file.to_string(),
        line,
        message,
    };
    let parsed: RuleFile = toml::from_str(text).map_err(|e| {
        let (line, message) = toml_error(text, &e);
        err(line, message)
    })?;
    let mut rules = Vec::with_capacity(parsed.rules.len());
    for spec in parsed.rules {
        let id_line = line_of(text, spec.id.span().start);
        let id = spec.id.get_ref().clone();
        let rule_err = |line: usize, what: String| err(Some(line), format!("rule `{id}`: {what}"));
        if !is_valid_id(&id) {
            return Err(rule_err(
                id_line,
                "id must look like `vendor.key-kind` (lower-case letters, digits, `-`, `_`, one or more `.`)".into(),
            ));
        }
        if !spec.parts.is_empty() || spec.within_lines.is_some() {
            rules.push(
                multi_part_rule(spec, id.clone(), id_line, file, !check_patterns)
                    .map_err(|m| rule_err(id_line, m))?,
            );
            continue;
        }
        let Some(pattern_spec) = &spec.pattern else {
            return Err(rule_err(
                id_line,
                "a rule needs a `pattern` (or `parts`, for a multi-part rule)".into(),
            ));
        };
        let pattern_line = line_of(text, pattern_spec.span().start);
        let pattern =
            expand_templates(pattern_spec.get_ref()).map_err(|m| rule_err(pattern_line, m))?;
        let after_line = spec
            .after_keyword
            .as_ref()
            .map_or(id_line, |a| line_of(text, a.span().start));
        let after_keyword = match spec.after_keyword.as_ref().map(|a| a.get_ref()) {
            None => AfterKeyword::None,
            Some(AfterKeywordSpec::Every(pattern)) => {
                AfterKeyword::Every(expand_templates(pattern).map_err(|m| rule_err(after_line, m))?)
            }
            Some(AfterKeywordSpec::Each(each)) => {
                if let Some(stray) = each
                    .keys()
                    .find(|k| !spec.keywords.iter().any(|w| w.eq_ignore_ascii_case(k)))
                {
                    return Err(rule_err(
                        after_line,
                        format!("after_keyword names `{stray}`, which is not one of the rule's keywords"),
                    ));
                }
                let mut checks = Vec::with_capacity(each.len());
                for keyword in &spec.keywords {
                    let lower = keyword.to_ascii_lowercase();
                    let found = each.iter().find(|(k, _)| k.eq_ignore_ascii_case(keyword));
                    if let Some((_, pattern)) = found {
                        if !checks.iter().any(|(k, _)| *k == lower) {
                            let pattern =
                                expand_templates(pattern).map_err(|m| rule_err(after_line, m))?;
                            checks.push((lower, pattern));
                        }
                    }
                }
                AfterKeyword::Each(checks)
            }
        };
        // Parse only (cheap); the matcher compiles a rule the first time a
        // blob contains one of its keywords, so startup stays in milliseconds.
        if check_patterns {
            let hir = regex_syntax::ParserBuilder::new()
                .unicode(false)
                .utf8(false)
                .build()
                .parse(&pattern)
                .map_err(|e| rule_err(pattern_line, format!("invalid pattern: {e}")))?;
            let groups = hir.properties().explicit_captures_len();
            if groups != 1 {
                return Err(rule_err(
                    pattern_line,
                    format!("pattern must have exactly one capture group (the secret), found {groups}; use (?:...) for grouping"),
                ));
            }
            let afters: Vec<&str> = match &after_keyword {
                AfterKeyword::None => Vec::new(),
                AfterKeyword::Every(pattern) => vec![pattern],
                AfterKeyword::Each(each) => each.iter().map(|(_, p)| p.as_str()).collect(),
            };
            for after in afters {
                regex_syntax::ParserBuilder::new()
                    .unicode(false)
                    .utf8(false)
                    .build()
                    .parse(after)
                    .map_err(|e| {
                        rule_err(after_line, format!("invalid after_keyword pattern: {e}"))
                    })?;
            }
            for allow in &spec.allow {
                let line = line_of(text, allow.span().start);
                let re = regex::bytes::Regex::new(allow.get_ref())
                    .map_err(|e| rule_err(line, format!("invalid allow pattern: {e}")))?;
                if matches_everything(&re) {
                    return Err(rule_err(
                        line,
                        format!("allow pattern `{}` matches the empty string, so it would allow every match of the rule", allow.get_ref()),
                    ));
                }
            }
        }
        if let Some(i) = spec.stopwords.iter().position(|w| w.trim().is_empty()) {
            return Err(rule_err(
                id_line,
                format!("stopwords[{i}] is blank: it would drop every match of the rule"),
            ));
        }
        if spec.keywords.is_empty() || spec.keywords.iter().any(|k| k.trim().len() < 2) {
            return Err(rule_err(
                id_line,
                "keywords must be a non-empty list of strings of 2+ characters".into(),
            ));
        }
        // Built-in rules prove their examples in the test suite; scans load
        // them without (see `RuleSet::builtin_for_scanning`).
        if check_patterns && spec.examples.is_empty() {
            return Err(rule_err(
                id_line,
                "at least one entry in `examples` is required".into(),
            ));
        }
        if check_patterns && spec.negative_examples.is_empty() {
            return Err(rule_err(
                id_line,
                "at least one entry in `negative_examples` is required".into(),
            ));
        }
        if let Some(e) = spec.min_entropy {
            if !(0.0..=8.0).contains(&e) {
                return Err(rule_err(
                    id_line,
                    format!("min_entropy {e} is outside 0..=8 bits per character"),
                ));
            }
        }
        let window = spec.window.unwrap_or(DEFAULT_WINDOW);
        rules.push(Rule {
            id,
            name: spec.name,
            provider: spec.provider,
            till_provider: spec.till_provider,
            keywords: spec.keywords,
            pattern,
            min_entropy: spec.min_entropy,
            validator: spec.validator,
            allow: spec.allow.into_iter().map(|a| a.into_inner()).collect(),
            stopwords: spec
                .stopwords
                .into_iter()
                .map(|s| s.to_ascii_lowercase())
                .collect(),
            window,
            lead: spec.lead.unwrap_or(window).min(window),
            after_keyword,
            fallback: spec.fallback,
            parts: Vec::new(),
            within_lines: 0,
            part_only: spec.part_only,
            references: spec.references,
            severity: spec
                .severity
                .unwrap_or(super::Severity::default_for(false, spec.fallback)),
            examples: spec.examples,
            negative_examples: spec.negative_examples,
            origin: format!("{file}:{id_line}"),
            group: "custom".to_string(),
            builtin: !check_patterns,
        });
    }
    Ok(rules)
}

/// The most lines a multi-part rule may span: pairing looks no further.
const MAX_WITHIN_LINES: usize = 100;

/// A multi-part rule: `parts`, `within_lines` and the descriptive keys; none
/// of the keys that shape a pattern match.
fn multi_part_rule(
    spec: super::RuleSpec,
    id: String,
    id_line: usize,
    file: &str,
    builtin: bool,
) -> Result<Rule, String> {
    let mut stray = Vec::new();
    let mut flag = |set: bool, key: &str| {
        if set {
            stray.push(format!("`{key}`"));
        }
    };
    flag(spec.pattern.is_some(), "pattern");
    flag(!spec.keywords.is_empty(), "keywords");
    flag(spec.min_entropy.is_some(), "min_entropy");
    flag(spec.validator.is_some(), "validator");
    flag(!spec.allow.is_empty(), "allow");
    flag(!spec.stopwords.is_empty(), "stopwords");
    flag(spec.window.is_some(), "window");
    flag(spec.lead.is_some(), "lead");
    flag(spec.after_keyword.is_some(), "after_keyword");
    flag(spec.fallback, "fallback");
    flag(spec.part_only, "part_only");
    if !stray.is_empty() {
        return Err(format!(
            "a multi-part rule (with `parts`) matches through its parts' rules, so it cannot have {}",
            stray.join(", ")
        ));
    }
    if spec.parts.len() < 2 {
        return Err("`parts` must list at least two parts".into());
    }
    let mut names = std::collections::HashSet::new();
    let mut rules = std::collections::HashSet::new();
    for part in &spec.parts {
        let plain = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_';
        if part.name.is_empty() || !part.name.bytes().all(plain) {
            return Err(format!(
                "part name `{}` must be lower-case letters, digits and `_`",
                part.name
            ));
        }
        if !names.insert(part.name.as_str()) {
            return Err(format!("part name `{}` is used twice", part.name));
        }
        if !rules.insert(part.rule.as_str()) {
            return Err(format!("rule `{}` is named by two parts", part.rule));
        }
        if part.rule == id {
            return Err("a multi-part rule cannot be one of its own parts".into());
        }
    }
    let within_lines = spec.within_lines.unwrap_or(super::DEFAULT_WITHIN_LINES);
    if within_lines > MAX_WITHIN_LINES {
        return Err(format!(
            "within_lines {within_lines} is more than {MAX_WITHIN_LINES}"
        ));
    }
    if !builtin && (spec.examples.is_empty() || spec.negative_examples.is_empty()) {
        return Err(
            "at least one entry in `examples` and in `negative_examples` is required".into(),
        );
    }
    Ok(Rule {
        id,
        name: spec.name,
        provider: spec.provider,
        till_provider: spec.till_provider,
        keywords: Vec::new(),
        pattern: String::new(),
        min_entropy: None,
        validator: None,
        allow: Vec::new(),
        stopwords: Vec::new(),
        window: DEFAULT_WINDOW,
        lead: DEFAULT_WINDOW,
        after_keyword: super::AfterKeyword::None,
        fallback: false,
        parts: spec
            .parts
            .into_iter()
            .map(|p| super::RulePart {
                name: p.name,
                rule: p.rule,
            })
            .collect(),
        within_lines,
        part_only: false,
        references: spec.references,
        severity: spec
            .severity
            .unwrap_or(super::Severity::default_for(true, false)),
        examples: spec.examples,
        negative_examples: spec.negative_examples,
        origin: format!("{file}:{id_line}"),
        group: "custom".to_string(),
        builtin,
    })
}

/// A TOML error as `(line, message)`, with serde's type errors ("invalid
/// type: integer `5`, expected a sequence") said in the file's own terms:
/// the key, what it must be and what it got.
pub fn toml_error(text: &str, e: &toml::de::Error) -> (Option<usize>, String) {
    let span = e.span();
    let line = span.as_ref().map(|s| line_of(text, s.start));
    let key = span.and_then(|s| key_before(text, s.start));
    (line, plain_message(e.message().trim_end(), key))
}

/// The key of a `key = value` line, when `offset` is where its value starts.
fn key_before(text: &str, offset: usize) -> Option<&str> {
    let before = text.get(..offset)?;
    let line = &before[before.rfind('\n').map_or(0, |i| i + 1)..];
    let key = line.trim_end().strip_suffix('=')?.trim();
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"_-.\"'".contains(&b);
    (!key.is_empty() && key.bytes().all(plain)).then_some(key)
}

fn plain_message(message: &str, key: Option<&str>) -> String {
    let parts = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
        .and_then(|rest| rest.rsplit_once(", expected "));
    let Some((got, expected)) = parts else {
        return message.to_string();
    };
    let expected = match expected {
        "a sequence" => "a list ([...])",
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number of 0 or more",
        "i32" | "i64" => "a whole number",
        "f32" | "f64" => "a number",
        "a boolean" => "true or false",
        "a map" => "a table",
        "path string" => "a path (a string)",
        e if e.starts_with("struct ") => "a table",
        e => e,
    };
    match key {
        Some(key) => format!("`{key}` must be {expected} (got {got})"),
        None => format!("expected {expected} here (got {got})"),
    }
}

fn is_valid_id(id: &str) -> bool {
    let mut parts = id.split('.');
    let ok_part = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    };
    id.contains('.') && parts.all(ok_part)
}
