//! Rules as data: the TOML schema, the loader shared by built-in and user rules,
//! and the checks that make a rule file trustworthy before it is compiled.
//!
//! Built-in rules live in `rules/*.toml`, one file per vendor, and are embedded
//! in the binary by `build.rs`; user rules (`--rules DIR`, config `rule_dirs`)
//! go through exactly the same parser, so a rule behaves the same wherever it
//! comes from. Errors name the file and the line.
//!
//! `parse` turns rule files into [`Rule`]s; `pattern` expands templates and
//! compiles patterns the way the matcher runs them.

mod parse;
mod pattern;

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

pub use parse::{parse_rule_file, toml_error};
pub use pattern::{
    compile_hir, compile_pattern, compile_test, expand_templates, matches_everything,
    parse_pattern, TEMPLATES,
};

use parse::parse_rules;

/// Built-in rule files, `(file name, contents)`, embedded at build time.
pub const BUILTIN_RULE_FILES: &[(&str, &str)] =
    include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// The same files with `examples` and `negative_examples` emptied (every
/// other line where it was), which is all a scan needs of them: see
/// `build.rs`.
const BUILTIN_SCAN_RULE_FILES: &[(&str, &str)] =
    include!(concat!(env!("OUT_DIR"), "/builtin_scan_rules.rs"));

/// How much a finding matters, lowest first: `--fail-on` and the reports'
/// levels go by it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Deserialize,
    serde::Serialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A credential with built-in limits (a Till scoped key).
    Low,
    /// A catch-all match (a generic assignment, a password in a URL).
    Medium,
    /// A provider's key (the default of a rule with a pattern).
    High,
    /// A complete credential in parts (an AWS key ID with its secret key).
    Critical,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The default of a rule that names none: by kind.
    pub fn default_for(multi_part: bool, fallback: bool) -> Severity {
        if multi_part {
            Severity::Critical
        } else if fallback {
            Severity::Medium
        } else {
            Severity::High
        }
    }

    /// The SARIF result level.
    pub fn sarif_level(self) -> &'static str {
        match self {
            Severity::Critical | Severity::High => "error",
            Severity::Medium => "warning",
            Severity::Low => "note",
        }
    }

    /// GitHub code scanning's `security-severity` score (critical above
    /// 9.0, high 7.0 to 8.9, medium 4.0 to 6.9, low below).
    pub fn security_severity(self) -> &'static str {
        match self {
            Severity::Critical => "9.5",
            Severity::High => "8.0",
            Severity::Medium => "5.5",
            Severity::Low => "2.0",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What makes a scan fail (`--fail-on`): findings of a severity or above,
/// or only keys that validation found live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    Level(Severity),
    /// Only findings whose key the provider accepted (`--fail-on live`,
    /// which turns validation on).
    Live,
}

impl FailOn {
    /// `critical`, `high`, `medium`, `low` or `live`.
    pub fn parse(text: &str) -> Result<FailOn, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "live" => Ok(FailOn::Live),
            "critical" => Ok(FailOn::Level(Severity::Critical)),
            "high" => Ok(FailOn::Level(Severity::High)),
            "medium" => Ok(FailOn::Level(Severity::Medium)),
            "low" => Ok(FailOn::Level(Severity::Low)),
            _ => Err(format!(
                "`{text}` is not a level: use critical, high, medium, low or live"
            )),
        }
    }
}

impl Default for FailOn {
    fn default() -> FailOn {
        FailOn::Level(Severity::Medium)
    }
}

impl fmt::Display for FailOn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailOn::Level(level) => level.fmt(f),
            FailOn::Live => f.write_str("live"),
        }
    }
}

impl<'de> Deserialize<'de> for FailOn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<FailOn, D::Error> {
        let text = String::deserialize(d)?;
        FailOn::parse(&text).map_err(serde::de::Error::custom)
    }
}

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
    /// Required, except in a multi-part rule (which has none).
    #[serde(default)]
    pub keywords: Vec<String>,
    /// A regex (Rust `regex` syntax) with exactly one capture group: the secret.
    /// Required, except in a multi-part rule (which has `parts` instead).
    #[serde(default)]
    pub pattern: Option<Spanned<String>>,
    /// A multi-part rule: the rules whose matches are its parts, by name,
    /// in the order the finding lists them (the first is the anchor).
    #[serde(default)]
    pub parts: Vec<PartSpec>,
    /// The most lines between the first part and any other part of one
    /// finding of a multi-part rule (0: all on one line).
    #[serde(default)]
    pub within_lines: Option<usize>,
    /// A match of this rule is an identifier, not a secret: it is reported
    /// only as a part of a multi-part rule's finding, never on its own.
    #[serde(default)]
    pub part_only: bool,
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
    /// Either one regex for every keyword, or a table of one regex per
    /// keyword (a keyword the table does not name is not checked).
    #[serde(default)]
    pub after_keyword: Option<Spanned<AfterKeywordSpec>>,
    /// A catch-all rule (generic assignments, URLs with passwords): its match
    /// is dropped where a specific rule matched an overlapping secret.
    #[serde(default)]
    pub fallback: bool,
    #[serde(default)]
    pub references: Vec<String>,
    /// How much a finding matters; by kind when not set (see
    /// [`Severity::default_for`]).
    #[serde(default)]
    pub severity: Option<Severity>,
    pub examples: Vec<String>,
    pub negative_examples: Vec<String>,
}

/// `after_keyword` as written: one regex, or a table keyword -> regex.
#[derive(Debug, Clone)]
pub enum AfterKeywordSpec {
    Every(String),
    Each(std::collections::BTreeMap<String, String>),
}

impl<'de> Deserialize<'de> for AfterKeywordSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Either;
        impl<'de> serde::de::Visitor<'de> for Either {
            type Value = AfterKeywordSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a regex (a string) or a table of keyword = regex")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(AfterKeywordSpec::Every(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                let each =
                    Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(AfterKeywordSpec::Each(each))
            }
        }
        d.deserialize_any(Either)
    }
}

/// What must follow a keyword hit for the hit to open a search window (see
/// [`RuleSpec::after_keyword`]), templates expanded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AfterKeyword {
    /// No check: every hit opens a window.
    #[default]
    None,
    /// One check after every keyword.
    Every(String),
    /// A check per keyword, `(keyword lower-cased, regex)`, in the rule's
    /// keyword order; a keyword not listed is not checked.
    Each(Vec<(String, String)>),
}

impl AfterKeyword {
    /// The check after `keyword` (any case), if there is one.
    pub fn for_keyword(&self, keyword: &str) -> Option<&str> {
        match self {
            AfterKeyword::None => None,
            AfterKeyword::Every(pattern) => Some(pattern),
            AfterKeyword::Each(each) => each
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(keyword))
                .map(|(_, p)| p.as_str()),
        }
    }

    pub fn is_some(&self) -> bool {
        *self != AfterKeyword::None
    }
}

/// One part of a multi-part rule, as written: `{ name = "id", rule = "aws.access-key-id" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartSpec {
    pub name: String,
    pub rule: String,
}

/// One part of a multi-part rule: its name in the finding and the rule
/// whose matches provide it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulePart {
    pub name: String,
    pub rule: String,
}

/// Lines between the parts of a multi-part finding when the rule says none.
pub const DEFAULT_WITHIN_LINES: usize = 5;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleFile {
    pub(crate) rules: Vec<RuleSpec>,
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
    pub after_keyword: AfterKeyword,
    pub fallback: bool,
    /// The parts of a multi-part rule (empty for a rule with a pattern).
    pub parts: Vec<RulePart>,
    /// See [`RuleSpec::within_lines`]; meaningful only with `parts`.
    pub within_lines: usize,
    /// See [`RuleSpec::part_only`].
    pub part_only: bool,
    pub references: Vec<String>,
    /// See [`RuleSpec::severity`]; the default by kind filled in, and the
    /// config's `[severity]` applied.
    pub severity: Severity,
    pub examples: Vec<String>,
    pub negative_examples: Vec<String>,
    /// Where the rule was defined, `file:line`, for error messages.
    pub origin: String,
    /// The catalogue group of a built-in rule (its folder under `rules/`,
    /// such as `ai` or `cloud`); `custom` for user rules.
    pub group: String,
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

impl Rule {
    /// A multi-part rule: its findings are made of other rules' matches.
    pub fn is_multi_part(&self) -> bool {
        !self.parts.is_empty()
    }
}

impl RuleSet {
    /// The rules embedded in the binary.
    pub fn builtin() -> Result<RuleSet, RuleError> {
        Self::embedded(BUILTIN_RULE_FILES)
    }

    /// The rules embedded in the binary, without their `examples` and
    /// `negative_examples` (empty here), which only `rules check` and the
    /// tests read: a scan starts faster.
    pub fn builtin_for_scanning() -> Result<RuleSet, RuleError> {
        Self::embedded(BUILTIN_SCAN_RULE_FILES)
    }

    fn embedded(files: &[(&str, &str)]) -> Result<RuleSet, RuleError> {
        use rayon::prelude::*;
        let parsed: Vec<Result<Vec<Rule>, RuleError>> = files
            .par_iter()
            .map(|(name, text)| {
                let mut rules = parse_rules(&format!("rules/{name}"), text, false)?;
                let group = name.split_once('/').map_or("", |(group, _)| group);
                for rule in &mut rules {
                    rule.group = group.to_string();
                }
                Ok(rules)
            })
            .collect();
        // One `extend` for all files: it indexes the ids it already has
        // each time, which per file would cost the square of the rule count.
        let mut all = Vec::with_capacity(1024);
        for rules in parsed {
            all.extend(rules?);
        }
        let mut set = RuleSet::default();
        set.extend(all)?;
        Ok(set)
    }

    /// Loads every `*.toml` file of a directory and of its subdirectories
    /// (a user's rules may be grouped the way the built-in ones are), in
    /// path order.
    pub fn load_dir(dir: &Path) -> Result<RuleSet, RuleError> {
        let mut files = Vec::new();
        collect_rule_files(dir, 0, &mut files)?;
        files.sort();
        let mut all = Vec::new();
        for path in files {
            all.extend(Self::load_file(&path)?.rules);
        }
        let mut set = RuleSet::default();
        set.extend(all)?;
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
        seen.reserve(rules.len());
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

    /// Keeps only the rules that `keep` accepts. The parts of a kept
    /// multi-part rule stay loaded: those `keep` refused become part-only
    /// (found for the multi-part rule, never reported on their own).
    pub fn retain(&mut self, keep: impl Fn(&Rule) -> bool) {
        let needed: HashSet<String> = self
            .rules
            .iter()
            .filter(|r| keep(r))
            .flat_map(|r| r.parts.iter().map(|p| p.rule.clone()))
            .collect();
        self.rules.retain_mut(|r| {
            if keep(r) {
                true
            } else if needed.contains(&r.id) {
                r.part_only = true;
                true
            } else {
                false
            }
        });
    }

    /// Every part of every multi-part rule names a loaded rule that has a
    /// pattern; the error names the multi-part rule's file and line.
    pub fn check_parts(&self) -> Result<(), RuleError> {
        for rule in self.rules.iter().filter(|r| r.is_multi_part()) {
            for part in &rule.parts {
                let problem = match self.get(&part.rule) {
                    None => "which is not loaded",
                    Some(r) if r.is_multi_part() => "which is itself a multi-part rule",
                    Some(_) => continue,
                };
                let (file, line) = split_origin(&rule.origin);
                return Err(RuleError {
                    file,
                    line,
                    message: format!(
                        "rule `{}`: part `{}` names rule `{}`, {problem}",
                        rule.id, part.name, part.rule
                    ),
                });
            }
        }
        Ok(())
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

/// Rule directories nested deeper than this are not read: a symlink loop
/// must not make loading rules recurse forever.
const MAX_RULE_DIR_DEPTH: usize = 8;

fn collect_rule_files(
    dir: &Path,
    depth: usize,
    files: &mut Vec<std::path::PathBuf>,
) -> Result<(), RuleError> {
    let io_err = |e: std::io::Error| RuleError {
        file: dir.display().to_string(),
        line: None,
        message: format!("cannot read rule directory: {e}"),
    };
    for entry in std::fs::read_dir(dir).map_err(io_err)? {
        let path = entry.map_err(io_err)?.path();
        if path.is_dir() {
            if depth < MAX_RULE_DIR_DEPTH {
                collect_rule_files(&path, depth + 1, files)?;
            }
        } else if path.extension().is_some_and(|x| x == "toml") {
            files.push(path);
        }
    }
    Ok(())
}

fn split_origin(origin: &str) -> (String, Option<usize>) {
    match origin.rsplit_once(':') {
        Some((file, line)) => (file.to_string(), line.parse().ok()),
        None => (origin.to_string(), None),
    }
}

#[cfg(test)]
mod contexts;
#[cfg(test)]
mod tests;

#[cfg(test)]
pub(crate) mod fuzz;
