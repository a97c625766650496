//! `till-scan rules list` and `rules check`: the rules in force, and proof
//! that each one finds its examples and none of its negative examples.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::output::write_stdout;
use super::Outcome;
use crate::cli::Format;
use crate::matcher;
use crate::rules::RuleSet;
use crate::settings::{Args, Settings};

/// The rules a scan of the current directory would run.
fn rules_for_listing(common: &Args) -> Result<RuleSet> {
    let root = PathBuf::from(".");
    Settings::resolve(common, &root)?.rule_set()
}

pub fn rules_list(common: &Args) -> Result<Outcome> {
    let set = rules_for_listing(common)?;
    let json = common.format == Some(Format::Json);
    write_stdout(|out| {
        if json {
            let list: Vec<_> = set
                .rules
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id, "name": r.name, "provider": r.provider,
                        "till_provider": r.till_provider, "keywords": r.keywords,
                        "references": r.references, "origin": r.origin,
                    })
                })
                .collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
        } else {
            for r in &set.rules {
                let till = r
                    .till_provider
                    .as_deref()
                    .map(|t| format!("  [rotatable: {t}]"))
                    .unwrap_or_default();
                writeln!(out, "{:40} {:24} {}{till}", r.id, r.provider, r.name)?;
            }
            let providers: std::collections::BTreeSet<_> =
                set.rules.iter().map(|r| r.provider.as_str()).collect();
            writeln!(out, "{} rules, {} providers", set.len(), providers.len())?;
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
    let failures: Vec<(String, String, Vec<String>)> = {
        use rayon::prelude::*;
        set.rules
            .par_iter()
            .filter_map(|rule| {
                matcher::check_examples(rule)
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
            "{} rules for {} providers checked: {} passed, {} failed",
            set.len(),
            providers.len(),
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
