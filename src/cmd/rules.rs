//! `till-scan rules list` and `rules check`: the rules in force, and proof
//! that each one finds its examples and none of its negative examples.

use std::path::{Path, PathBuf};

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result};

use super::output::write_stdout;
use super::Outcome;
use crate::cli::{Format, RuleFilter};
use crate::matcher;
use crate::report::plural;
use crate::rules::{Rule, RuleSet};
use crate::settings::{Args, Settings};

/// The rules a scan of the current directory would run.
fn rules_for_listing(common: &Args) -> Result<RuleSet> {
    let root = PathBuf::from(".");
    Settings::resolve(common, &root)?.rule_set()
}

impl RuleFilter {
    pub fn keeps(&self, rule: &Rule) -> bool {
        let provider = self.provider.as_deref().map(str::to_lowercase);
        provider.is_none_or(|p| rule.provider.to_lowercase().contains(&p))
            && (!self.till || rule.till_provider.is_some())
            && self
                .group
                .as_deref()
                .is_none_or(|g| rule.group.eq_ignore_ascii_case(g))
    }
}

/// Rules and distinct providers per group, in group order, then the total.
pub fn counts_by_group<'a>(
    rules: impl IntoIterator<Item = &'a Rule>,
) -> Vec<(String, usize, usize)> {
    let mut groups: BTreeMap<&str, (usize, BTreeSet<&str>)> = BTreeMap::new();
    let mut all = BTreeSet::new();
    let mut total = 0;
    for rule in rules {
        let entry = groups.entry(rule.group.as_str()).or_default();
        entry.0 += 1;
        entry.1.insert(rule.provider.as_str());
        all.insert(rule.provider.as_str());
        total += 1;
    }
    let mut rows: Vec<_> = groups
        .into_iter()
        .map(|(g, (n, p))| (g.to_string(), n, p.len()))
        .collect();
    rows.push(("total".to_string(), total, all.len()));
    rows
}

pub fn rules_list(common: &Args, filter: &RuleFilter) -> Result<Outcome> {
    let set = rules_for_listing(common)?;
    let rules: Vec<&Rule> = set.rules.iter().filter(|r| filter.keeps(r)).collect();
    // Other formats are refused before any command runs (app.rs).
    let json = common.format == Some(Format::Json);
    write_stdout(|out| {
        if filter.summary {
            let rows = counts_by_group(rules.iter().copied());
            if json {
                let list: Vec<_> = rows
                    .iter()
                    .map(|(g, n, p)| serde_json::json!({"group": g, "rules": n, "providers": p}))
                    .collect();
                writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
            } else {
                writeln!(out, "{:16} {:>6} {:>10}", "group", "rules", "providers")?;
                for (g, n, p) in &rows {
                    writeln!(out, "{g:16} {n:>6} {p:>10}")?;
                }
            }
        } else if json {
            let list: Vec<_> = rules
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id, "name": r.name, "provider": r.provider,
                        "group": r.group,
                        "till_provider": r.till_provider, "keywords": r.keywords,
                        "references": r.references, "origin": r.origin,
                        "parts": r.parts.iter().map(|p| serde_json::json!({"name": p.name, "rule": p.rule})).collect::<Vec<_>>(),
                        "part_only": r.part_only,
                        "severity": r.severity,
                    })
                })
                .collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
        } else {
            for r in &rules {
                let till = r
                    .till_provider
                    .as_deref()
                    .map(|t| format!("  [rotatable: {t}]"))
                    .unwrap_or_default();
                let parts = if r.is_multi_part() {
                    let names: Vec<&str> = r.parts.iter().map(|p| p.name.as_str()).collect();
                    format!("  [parts: {}]", names.join(" + "))
                } else if r.part_only {
                    "  [part only]".to_string()
                } else {
                    String::new()
                };
                writeln!(
                    out,
                    "{:40} {:13} {:24} {}{till}{parts}",
                    r.id, r.group, r.provider, r.name
                )?;
            }
            let providers: BTreeSet<_> = rules.iter().map(|r| r.provider.as_str()).collect();
            writeln!(
                out,
                "{}, {}",
                plural(rules.len(), "rule", "rules"),
                plural(providers.len(), "provider", "providers")
            )?;
        }
        Ok(())
    })?;
    Ok(Outcome::Clean)
}

pub fn rules_check(common: &Args, dir: Option<&Path>) -> Result<Outcome> {
    let set = match dir {
        Some(d) => {
            let set = if d.is_dir() {
                RuleSet::load_dir(d)?
            } else {
                RuleSet::load_file(d)?
            };
            // A scan with `--rules DIR` refuses an id the built-in rules
            // already use; so does the check.
            if !common.no_builtin_rules {
                RuleSet::builtin()
                    .context("built-in rules")?
                    .extend(set.rules.clone())?;
            }
            set
        }
        None => rules_for_listing(common)?,
    };
    // The parts of a multi-part rule may be rules of the built-in set.
    let mut all = set.clone();
    if dir.is_some() && !common.no_builtin_rules {
        let mut builtin = RuleSet::builtin().context("built-in rules")?;
        builtin.extend(set.rules.clone())?;
        all = builtin;
    }
    all.check_parts()?;
    let failures: Vec<(String, String, Vec<String>)> = {
        use rayon::prelude::*;
        set.rules
            .par_iter()
            .filter_map(|rule| {
                matcher::check_examples(rule, &all)
                    .err()
                    .map(|f| (rule.id.clone(), rule.origin.clone(), f))
            })
            .collect()
    };
    let providers: std::collections::BTreeSet<_> =
        set.rules.iter().map(|r| r.provider.as_str()).collect();
    write_stdout(|out| {
        for (id, origin, messages) in &failures {
            for m in messages {
                writeln!(out, "FAIL {id} ({origin}): {m}")?;
            }
        }
        writeln!(
            out,
            "{} for {} checked: {} passed, {} failed",
            crate::report::plural(set.len(), "rule", "rules"),
            crate::report::plural(providers.len(), "provider", "providers"),
            set.len() - failures.len(),
            failures.len()
        )
    })?;
    Ok(if failures.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Failed
    })
}
