//! A gitleaks allowlist (`[allowlist]`, `[[allowlists]]`,
//! `[[rules.allowlists]]`) in till-scan's config: `paths` are regexes on the
//! path (`path_regexes`), `regexes` go by `regexTarget` (secret, match,
//! line), `stopwords` and `commits` as they are. Each criterion allows on its
//! own (gitleaks' default `condition = "OR"`), so allowlists for every rule
//! merge into `[allowlist]`; one for some rules is an `[[allowlists]]` entry.
//! `AND` over several kinds of criteria has no till-scan form: skipped, and
//! named.

use super::gitleaks_config::{GlAllowlist, Translation};
use crate::config::AllowlistConfig;

/// One gitleaks allowlist into the config: into `[allowlist]` when it is
/// for every rule (its criteria each allow on their own, so lists merge),
/// else a new `[[allowlists]]` entry for `rules`.
pub(super) fn add_allowlist(t: &mut Translation, name: &str, a: GlAllowlist, rules: Vec<String>) {
    for key in a.other.keys() {
        t.not_understood.push(format!("{name}.{key}"));
    }
    let mut out = AllowlistConfig {
        rules: rules.clone(),
        ..AllowlistConfig::default()
    };
    for (i, p) in a.paths.iter().enumerate() {
        match checked(p, false) {
            Ok(()) => out.path_regexes.push(p.clone()),
            Err(why) => t.not_understood.push(format!("{name}.paths[{i}] ({why})")),
        }
    }
    let target = a.regex_target.as_deref().unwrap_or("secret");
    for (i, r) in a.regexes.iter().enumerate() {
        let list = match target {
            "" | "secret" => &mut out.regexes,
            "match" => &mut out.match_regexes,
            "line" => &mut out.line_regexes,
            other => {
                t.not_understood
                    .push(format!("{name}.regexTarget \"{other}\""));
                break;
            }
        };
        match checked(r, true) {
            Ok(()) => list.push(r.clone()),
            Err(why) => t
                .not_understood
                .push(format!("{name}.regexes[{i}] ({why})")),
        }
    }
    for (i, w) in a.stopwords.iter().enumerate() {
        if w.trim().is_empty() {
            t.not_understood
                .push(format!("{name}.stopwords[{i}] (blank)"));
        } else {
            out.stopwords.push(w.clone());
        }
    }
    for (i, c) in a.commits.iter().enumerate() {
        let c = c.trim();
        if c.len() >= 7 && c.chars().all(|c| c.is_ascii_hexdigit()) {
            out.commits.push(c.to_ascii_lowercase());
        } else {
            t.not_understood
                .push(format!("{name}.commits[{i}] (not a commit id)"));
        }
    }
    let kinds = [
        !out.path_regexes.is_empty(),
        !out.regexes.is_empty() || !out.match_regexes.is_empty() || !out.line_regexes.is_empty(),
        !out.stopwords.is_empty(),
        !out.commits.is_empty(),
    ]
    .iter()
    .filter(|k| **k)
    .count();
    match a
        .condition
        .as_deref()
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        None | Some("OR") | Some("") => {}
        Some("AND") if kinds <= 1 => {}
        Some(other) => {
            t.not_understood.push(format!(
                "{name} (condition = \"{other}\" over several kinds of criteria; skipped, so its findings are reported)"
            ));
            return;
        }
    }
    if kinds == 0 {
        return;
    }
    t.allowlists += 1;
    if rules.is_empty() {
        let main = &mut t.config.allowlist;
        main.path_regexes.extend(out.path_regexes);
        main.regexes.extend(out.regexes);
        main.match_regexes.extend(out.match_regexes);
        main.line_regexes.extend(out.line_regexes);
        main.stopwords.extend(out.stopwords);
        main.commits.extend(out.commits);
    } else {
        t.config.allowlists.push(out);
    }
}

/// A regex that compiles in Rust and does not match the empty string
/// (content) or every path.
fn checked(r: &str, content: bool) -> Result<(), String> {
    let re = regex::bytes::Regex::new(r).map_err(|e| {
        let text = e.to_string();
        format!(
            "does not compile in Rust: {}",
            text.lines().last().unwrap_or("").trim()
        )
    })?;
    if crate::rules::matches_everything(&re) {
        return Err(if content {
            "matches the empty string, so every finding".into()
        } else {
            "matches every path".into()
        });
    }
    Ok(())
}
