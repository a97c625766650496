//! The config keys that say what gitleaks' allowlists say (path regexes,
//! match and line regexes, commits, `[[allowlists]]` for some rules) and
//! `[rules] paths`: their checks when the file is parsed, and the
//! [`Scoped`] allowlists they build.

use std::path::Path;

use regex::bytes::Regex;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use super::{gitignore, id_matches, AllowlistConfig, Config};
use crate::rules::RuleSet;
use crate::suppress::{Scoped, ScopedAllow};

/// Regexes that must compile and must not match the empty string (they
/// would allow everything).
fn checked_regexes<'de, D: Deserializer<'de>>(d: D, what: &str) -> Result<Vec<String>, D::Error> {
    let regexes = Vec::<String>::deserialize(d)?;
    for (i, r) in regexes.iter().enumerate() {
        let re = Regex::new(r)
            .map_err(|e| D::Error::custom(format!("{what}[{i}] is not a valid regex: {e}")))?;
        if crate::rules::matches_everything(&re) {
            return Err(D::Error::custom(format!(
                "{what}[{i}] (`{r}`) matches the empty string: it would allow every finding"
            )));
        }
    }
    Ok(regexes)
}

pub(super) fn path_regexes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    checked_regexes(d, "path_regexes")
}

pub(super) fn content_regexes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    checked_regexes(d, "match_regexes/line_regexes")
}

pub(super) fn commits<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let commits = Vec::<String>::deserialize(d)?;
    for (i, c) in commits.iter().enumerate() {
        if c.len() < 7 || !c.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(D::Error::custom(format!(
                "commits[{i}] (`{c}`) is not a commit id (7 to 40 hex digits)"
            )));
        }
    }
    Ok(commits)
}

pub(super) fn rule_paths<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<std::collections::BTreeMap<String, String>, D::Error> {
    let paths = std::collections::BTreeMap::<String, String>::deserialize(d)?;
    for (rule, r) in &paths {
        Regex::new(r).map_err(|e| {
            D::Error::custom(format!("rules.paths.{rule} is not a valid regex: {e}"))
        })?;
    }
    Ok(paths)
}

fn compile(list: &[String]) -> Vec<Regex> {
    // Checked when the file was parsed.
    list.iter().filter_map(|r| Regex::new(r).ok()).collect()
}

impl Config {
    /// `[rules] paths` and `[[allowlists]] rules` must name loaded rules
    /// (a typo would otherwise scope nothing).
    pub(super) fn check_scoped_rules(&self, set: &RuleSet) -> anyhow::Result<()> {
        let names = self
            .file
            .rules
            .paths
            .keys()
            .map(|k| ("[rules] paths", k))
            .chain(
                self.file
                    .allowlists
                    .iter()
                    .flat_map(|a| a.rules.iter().map(|r| ("[[allowlists]] rules", r))),
            );
        for (key, pattern) in names {
            if !set.rules.iter().any(|r| id_matches(pattern, &r.id)) {
                anyhow::bail!(
                    "{}: {key} names `{pattern}`, which matches no rule (see `till-scan rules list`)",
                    self.label()
                );
            }
        }
        if !self.file.allowlist.rules.is_empty() {
            anyhow::bail!(
                "{}: [allowlist] applies to every rule: put `rules` in an [[allowlists]] entry",
                self.label()
            );
        }
        Ok(())
    }

    /// The gitleaks-style allowlists and rule paths, rooted at `root`.
    pub(super) fn scoped(&self, root: &Path) -> anyhow::Result<Scoped> {
        let f = &self.file;
        let main = &f.allowlist;
        let mut allows = vec![ScopedAllow {
            path_regexes: compile(&main.path_regexes),
            match_regexes: compile(&main.match_regexes),
            line_regexes: compile(&main.line_regexes),
            commits: lower(&main.commits),
            ..ScopedAllow::default()
        }];
        for (i, a) in f.allowlists.iter().enumerate() {
            allows.push(self.scoped_allow(root, a, i)?);
        }
        let rule_paths = f
            .rules
            .paths
            .iter()
            .filter_map(|(id, r)| Regex::new(r).ok().map(|re| (id.clone(), re)))
            .collect();
        Ok(Scoped::new(root, allows, rule_paths))
    }

    fn scoped_allow(
        &self,
        root: &Path,
        a: &AllowlistConfig,
        i: usize,
    ) -> anyhow::Result<ScopedAllow> {
        Ok(ScopedAllow {
            rules: a.rules.clone(),
            globs: gitignore(
                root,
                &a.paths,
                &format!("{}: allowlists[{i}].paths", self.label()),
            )?,
            path_regexes: compile(&a.path_regexes),
            secret_regexes: compile(&a.regexes),
            match_regexes: compile(&a.match_regexes),
            line_regexes: compile(&a.line_regexes),
            stopwords: a
                .stopwords
                .iter()
                .map(|s| s.to_ascii_lowercase().into_bytes())
                .collect(),
            commits: lower(&a.commits),
        })
    }
}

fn lower(list: &[String]) -> Vec<String> {
    list.iter().map(|c| c.to_ascii_lowercase()).collect()
}

#[cfg(test)]
mod tests {
    use super::super::parse;

    #[test]
    fn gitleaks_style_keys_parse_and_bad_ones_name_their_line() {
        let file = parse(
            "[rules]\npaths = { \"acme.key\" = '\\.env$' }\n[allowlist]\npath_regexes = ['(^|/)testdata/']\nmatch_regexes = ['^token=']\ncommits = ['abcdef1']\n[[allowlists]]\nrules = ['acme.*']\nline_regexes = ['fixture']\n",
        )
        .unwrap();
        assert_eq!(file.allowlists.len(), 1);
        assert_eq!(file.rules.paths.len(), 1);
        for (text, line) in [
            ("[allowlist]\npath_regexes = ['(']\n", ":2:"),
            ("[allowlist]\n\nmatch_regexes = ['.*']\n", ":3:"),
            ("[allowlist]\ncommits = ['xyz']\n", ":2:"),
            ("[rules]\npaths = { a = '(' }\n", ":2:"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.starts_with(line), "{text}: {err}");
        }
    }
}
