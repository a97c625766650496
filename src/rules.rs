//! Rules as data: the TOML schema, the loader shared by built-in and user rules,
//! and the checks that make a rule file trustworthy before it is compiled.
//!
//! Built-in rules live in `rules/*.toml`, one file per vendor, and are embedded
//! in the binary by `build.rs`; user rules (`--rules DIR`, config `rule_dirs`)
//! go through exactly the same parser, so a rule behaves the same wherever it
//! comes from. Errors name the file and the line.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

/// Built-in rule files, `(file name, contents)`, embedded at build time.
pub const BUILTIN_RULE_FILES: &[(&str, &str)] =
    include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// Regex fragments that rule patterns may use as `{{name}}`, so that every
/// "provider name near a value" rule recognises the same assignment shapes.
pub const TEMPLATES: &[(&str, &str)] = &[
    // From a provider word (already matched) to the first character of its value:
    // the rest of an identifier (`mistral_api_key`, `MISTRAL.KEY`), one nested
    // YAML level (`mistral:\n  api_key:`), then an assignment in any of the
    // shapes of .env, YAML, JSON, XML attributes and elements, `#define`, SQL
    // tuples, shell exports, keyword arguments and code assignments.
    (
        "near",
        r#"[\w.\-(]{0,40}?(?::[ \t]*\r?\n[ \t]+[\w.\-]{0,40}?)?(?:["'`\]\)]{0,2}[ \t]*(?:=>|:=|\|\|=|\?\?=|[=:,>])[ \t]*(?:\r?\n[ \t]*)?(?:["'`]|[\w.]{1,30}\(["'`]?)?|["'`]?[ \t]+(?:value[ \t]*=[ \t]*)?["'`]?)"#,
    ),
];

/// Checks a captured secret must pass besides its pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Validator {
    /// GitHub- and npm-style token (`ghp_…`, `npm_…`): the last 6 characters
    /// are the base62 (0-9A-Za-z), zero-padded CRC32 of the characters between
    /// the first `_` and the checksum.
    Base62Crc32,
    /// A JSON Web Token whose header and payload decode to JSON objects and
    /// whose header names an algorithm.
    Jwt,
}

/// One rule as written in a rule file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: Spanned<String>,
    pub name: String,
    pub provider: String,
    /// The Till provider id when Till can proxy this key (rotation).
    #[serde(default)]
    pub till_provider: Option<String>,
    /// Literal strings (matched ASCII-case-insensitively) that must occur in a
    /// blob for the pattern to be tried; every match must contain one.
    pub keywords: Vec<String>,
    /// A regex (Rust `regex` syntax) with exactly one capture group: the secret.
    pub pattern: Spanned<String>,
    /// Minimum Shannon entropy, in bits per character, of the secret.
    #[serde(default)]
    pub min_entropy: Option<f64>,
    #[serde(default)]
    pub validator: Option<Validator>,
    /// Regexes; a secret matching any of them is not reported.
    #[serde(default)]
    pub allow: Vec<Spanned<String>>,
    /// Substrings (case-insensitive); a secret containing any is not reported.
    #[serde(default)]
    pub stopwords: Vec<String>,
    /// Bytes searched before and after each keyword hit; 0 = the whole blob.
    #[serde(default)]
    pub window: Option<usize>,
    /// Bytes before a keyword hit where a match may start, when fewer than
    /// `window`: for patterns that begin at (or just before) their keyword,
    /// searching `window` bytes to its left finds nothing more.
    #[serde(default)]
    pub lead: Option<usize>,
    /// A regex that must match right after a keyword hit (anchored at the
    /// hit's end) for the hit to open a window. Every match of `pattern` must
    /// contain a keyword occurrence followed by text this regex matches.
    #[serde(default)]
    pub after_keyword: Option<Spanned<String>>,
    /// A catch-all rule (generic assignments, URLs with passwords): its match
    /// is dropped where a specific rule matched an overlapping secret.
    #[serde(default)]
    pub fallback: bool,
    #[serde(default)]
    pub references: Vec<String>,
    pub examples: Vec<String>,
    pub negative_examples: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    rules: Vec<RuleSpec>,
}

/// Default number of bytes searched on each side of a keyword hit.
pub const DEFAULT_WINDOW: usize = 320;

/// A rule ready for the matcher: pattern expanded, source remembered.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub provider: String,
    pub till_provider: Option<String>,
    pub keywords: Vec<String>,
    pub pattern: String,
    pub min_entropy: Option<f64>,
    pub validator: Option<Validator>,
    pub allow: Vec<String>,
    pub stopwords: Vec<String>,
    pub window: usize,
    /// See [`RuleSpec::lead`]; `window` when the rule sets none.
    pub lead: usize,
    /// See [`RuleSpec::after_keyword`].
    pub after_keyword: Option<String>,
    pub fallback: bool,
    pub references: Vec<String>,
    pub examples: Vec<String>,
    pub negative_examples: Vec<String>,
    /// Where the rule was defined, `file:line`, for error messages.
    pub origin: String,
    /// Embedded in the binary (its patterns are proven by the test suite and
    /// compile lazily); user rules are compiled when loaded.
    pub builtin: bool,
}

/// A problem in a rule file, always naming the file and, where known, the line.
#[derive(Debug, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct RuleError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

/// Every loaded rule, in load order; ids are unique.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.id, self.origin)
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Replaces `{{name}}` with the template of that name.
pub fn expand_templates(pattern: &str) -> Result<String, String> {
    let mut out = String::with_capacity(pattern.len() + 128);
    let mut rest = pattern;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| "unclosed `{{` in pattern".to_string())?;
        let name = after[..end].trim();
        let body = TEMPLATES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| *b)
            .ok_or_else(|| {
                let known: Vec<_> = TEMPLATES.iter().map(|(n, _)| *n).collect();
                format!(
                    "unknown template `{{{{{name}}}}}` (known: {})",
                    known.join(", ")
                )
            })?;
        out.push_str("(?:");
        out.push_str(body);
        out.push(')');
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Parses one rule file. `file` is only used to label errors and origins.
pub fn parse_rule_file(file: &str, text: &str) -> Result<Vec<Rule>, RuleError> {
    parse_rules(file, text, true)
}

/// Parses rule files; `check_patterns` parses every regex to report syntax
/// errors with their line. The built-in rules skip that at run time (their
/// patterns are compiled and proven by the test suite), which keeps the
/// startup of a commit hook in milliseconds.
fn parse_rules(file: &str, text: &str, check_patterns: bool) -> Result<Vec<Rule>, RuleError> {
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
        let pattern_line = line_of(text, spec.pattern.span().start);
        let pattern =
            expand_templates(spec.pattern.get_ref()).map_err(|m| rule_err(pattern_line, m))?;
        let after_line = spec
            .after_keyword
            .as_ref()
            .map_or(id_line, |a| line_of(text, a.span().start));
        let after_keyword = spec
            .after_keyword
            .as_ref()
            .map(|a| expand_templates(a.get_ref()).map_err(|m| rule_err(after_line, m)))
            .transpose()?;
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
            if let Some(after) = &after_keyword {
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
        if spec.examples.is_empty() {
            return Err(rule_err(
                id_line,
                "at least one entry in `examples` is required".into(),
            ));
        }
        if spec.negative_examples.is_empty() {
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
            references: spec.references,
            examples: spec.examples,
            negative_examples: spec.negative_examples,
            origin: format!("{file}:{id_line}"),
            builtin: !check_patterns,
        });
    }
    Ok(rules)
}

/// Compiles a rule pattern the way the matcher runs it: on bytes, with
/// ASCII-only classes (`\w`, `(?i)`): secrets are ASCII, and Unicode tables
/// would cost a hundredfold in compile time and memory.
pub fn compile_pattern(pattern: &str) -> Result<regex_automata::meta::Regex, String> {
    compile_with(pattern, regex_automata::nfa::thompson::WhichCaptures::All)
}

/// Like [`compile_pattern`], for a regex only ever asked where a match ends
/// (no capture groups).
pub fn compile_test(pattern: &str) -> Result<regex_automata::meta::Regex, String> {
    compile_with(
        pattern,
        regex_automata::nfa::thompson::WhichCaptures::Implicit,
    )
}

fn compile_with(
    pattern: &str,
    captures: regex_automata::nfa::thompson::WhichCaptures,
) -> Result<regex_automata::meta::Regex, String> {
    use regex_automata::{meta, util::syntax, MatchKind};
    // The settings of `regex::bytes::RegexBuilder` with `unicode(false)` and
    // a 64 MiB size limit; meta regexes let each worker keep its own caches.
    meta::Builder::new()
        .syntax(syntax::Config::new().unicode(false).utf8(false))
        .configure(
            meta::Config::new()
                .match_kind(MatchKind::LeftmostFirst)
                .utf8_empty(false)
                .nfa_size_limit(Some(64 << 20))
                .hybrid_cache_capacity(2 << 20)
                .which_captures(captures),
        )
        .build(pattern)
        .map_err(|e| match (e.syntax_error(), e.size_limit()) {
            (Some(syntax), _) => syntax.to_string(),
            (None, Some(limit)) => {
                format!("compiled regex exceeds the size limit of {limit} bytes")
            }
            (None, None) => e.to_string(),
        })
}

/// True when an allowlist regex matches the empty string at the start of
/// any text, so that it matches (and allows) every secret. `^$` matches the
/// empty string too but nothing else, and is left alone.
pub fn matches_everything(re: &regex::bytes::Regex) -> bool {
    re.is_match(b"") && re.is_match(b"sk-Proj_0/9+Z=.x")
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

impl RuleSet {
    /// The rules embedded in the binary.
    pub fn builtin() -> Result<RuleSet, RuleError> {
        use rayon::prelude::*;
        let parsed: Vec<Result<Vec<Rule>, RuleError>> = BUILTIN_RULE_FILES
            .par_iter()
            .map(|(name, text)| parse_rules(&format!("rules/{name}"), text, false))
            .collect();
        let mut set = RuleSet::default();
        for rules in parsed {
            set.extend(rules?)?;
        }
        Ok(set)
    }

    /// Loads every `*.toml` file of a directory, in name order.
    pub fn load_dir(dir: &Path) -> Result<RuleSet, RuleError> {
        let io_err = |e: std::io::Error| RuleError {
            file: dir.display().to_string(),
            line: None,
            message: format!("cannot read rule directory: {e}"),
        };
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(io_err)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        let mut set = RuleSet::default();
        for path in files {
            set.extend(Self::load_file(&path)?.rules)?;
        }
        Ok(set)
    }

    /// Loads one rule file from disk.
    pub fn load_file(path: &Path) -> Result<RuleSet, RuleError> {
        let label = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| RuleError {
            file: label.clone(),
            line: None,
            message: format!("cannot read rule file: {e}"),
        })?;
        let mut set = RuleSet::default();
        set.extend(parse_rule_file(&label, &text)?)?;
        Ok(set)
    }

    /// Adds rules, refusing an id that is already defined.
    pub fn extend(&mut self, rules: Vec<Rule>) -> Result<(), RuleError> {
        let mut seen: HashSet<String> = self.rules.iter().map(|r| r.id.clone()).collect();
        for rule in rules {
            if !seen.insert(rule.id.clone()) {
                let first = self
                    .rules
                    .iter()
                    .find(|r| r.id == rule.id)
                    .map(|r| r.origin.clone());
                let (file, line) = split_origin(&rule.origin);
                return Err(RuleError {
                    file,
                    line,
                    message: format!(
                        "rule `{}` is already defined at {}",
                        rule.id,
                        first.unwrap_or_default()
                    ),
                });
            }
            self.rules.push(rule);
        }
        Ok(())
    }

    /// Keeps only the rules that `keep` accepts.
    pub fn retain(&mut self, keep: impl Fn(&Rule) -> bool) {
        self.rules.retain(keep);
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

fn split_origin(origin: &str) -> (String, Option<usize>) {
    match origin.rsplit_once(':') {
        Some((file, line)) => (file.to_string(), line.parse().ok()),
        None => (origin.to_string(), None),
    }
}

#[cfg(test)]
mod tests {
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
        let re =
            regex::Regex::new(&expand_templates(r"(?i)mistral{{near}}([a-z0-9]{32})\b").unwrap())
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
                .captures(s)
                .unwrap_or_else(|| panic!("no match in {s:?}"));
            assert_eq!(&caps[1], v, "{s}");
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
    fn builtin_rules_load_and_pass_the_full_pattern_checks() {
        let set = RuleSet::builtin().unwrap();
        assert!(!set.is_empty());
        for (name, text) in BUILTIN_RULE_FILES {
            parse_rule_file(name, text).unwrap();
        }
    }
}

/// Inputs for the property tests of every parser till-scan owns (config,
/// rule files, baseline, the git index reader, `--report` input): random
/// bytes, and a valid sample with bits flipped, bytes set, runs inserted or
/// deleted, or the end cut off.
#[cfg(test)]
pub(crate) mod fuzz {
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    pub enum Edit {
        Flip(usize, u8),
        Set(usize, u8),
        Insert(usize, Vec<u8>),
        Delete(usize, usize),
        Truncate(usize),
    }

    fn edit() -> impl Strategy<Value = Edit> {
        // Bytes that matter to TOML and JSON, besides any byte at all.
        let interesting = prop_oneof![
            any::<u8>(),
            proptest::sample::select(b"\"'[]{}=,.:\\\n#0-9eE+ \x00\xff".to_vec()),
        ];
        prop_oneof![
            (any::<usize>(), 0u8..8).prop_map(|(i, b)| Edit::Flip(i, b)),
            (any::<usize>(), interesting).prop_map(|(i, b)| Edit::Set(i, b)),
            (
                any::<usize>(),
                proptest::collection::vec(any::<u8>(), 1..16)
            )
                .prop_map(|(i, v)| Edit::Insert(i, v)),
            (any::<usize>(), 1usize..64).prop_map(|(i, n)| Edit::Delete(i, n)),
            any::<usize>().prop_map(Edit::Truncate),
        ]
    }

    /// Applies `edits` to `sample`; positions wrap around its length.
    pub fn apply(sample: &[u8], edits: &[Edit]) -> Vec<u8> {
        let mut out = sample.to_vec();
        for e in edits {
            let at = |i: usize, len: usize| if len == 0 { 0 } else { i % len };
            match e {
                Edit::Flip(i, bit) if !out.is_empty() => {
                    let i = at(*i, out.len());
                    out[i] ^= 1 << bit;
                }
                Edit::Set(i, b) if !out.is_empty() => {
                    let i = at(*i, out.len());
                    out[i] = *b;
                }
                Edit::Insert(i, bytes) => {
                    let i = at(*i, out.len() + 1);
                    out.splice(i..i, bytes.iter().copied());
                }
                Edit::Delete(i, n) if !out.is_empty() => {
                    let i = at(*i, out.len());
                    let end = (i + n).min(out.len());
                    out.drain(i..end);
                }
                Edit::Truncate(n) => out.truncate(at(*n, out.len() + 1)),
                _ => {}
            }
        }
        out
    }

    /// Random bytes, or `sample` with one to eight edits.
    pub fn bytes_like(sample: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            1 => proptest::collection::vec(any::<u8>(), 0..512),
            4 => proptest::collection::vec(edit(), 1..8)
                .prop_map(move |edits| apply(&sample, &edits)),
        ]
    }

    /// Like [`bytes_like`], as text (invalid UTF-8 replaced), for the
    /// parsers that take `&str`.
    pub fn text_like(sample: &str) -> impl Strategy<Value = String> {
        bytes_like(sample.as_bytes().to_vec())
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    /// Few cases, no regression files: a few seconds in a debug build.
    pub fn config(cases: u32) -> ProptestConfig {
        ProptestConfig {
            cases,
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }
}
