//! What to do about the findings, said once and right for them: per
//! provider (where to revoke the key, and `till-scan rotate` only where Till
//! can proxy it) and per source (a key in history is revoked and then
//! accepted with `baseline --git`; a blocked commit is fixed before it is
//! made). The human report ends with it; a blocked commit or push prints it
//! on standard error when the report goes elsewhere.

use std::collections::BTreeMap;

use super::human::clean;
use super::{first_web_reference, path_label};
use crate::baseline::BASELINE_FILE_NAME as BASELINE_HINT;
use crate::finding::Finding;
use crate::scan::ScanResult;

/// Where the findings came from, which decides the advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Source {
    /// Files of a directory (or files named on the command line).
    #[default]
    Files,
    /// Standard input.
    Stdin,
    /// Commits of the history (`till-scan git`).
    History,
    /// What a commit is about to add (`till-scan staged`, the pre-commit hook).
    Commit,
    /// The commits a push is about to send (`till-scan git --pre-push`).
    Push,
}

/// Places of one provider's keys: `a.py, b.py and 3 more`.
struct Group<'a> {
    provider: &'a str,
    /// Where to revoke: Till's page for the providers it proxies, else the
    /// rule's documentation.
    revoke: Option<&'a str>,
    rotatable: bool,
    places: Vec<String>,
}

/// The heading and the lines of advice (no colour, no trailing newline).
pub fn advice(result: &ScanResult, source: Source) -> (String, Vec<String>) {
    let groups = groups(&result.findings);
    let mut lines = Vec::new();
    let heading = match source {
        Source::Commit => "This commit is blocked: it adds the keys above. Ways out:".to_string(),
        Source::Push => {
            "This push is blocked: its commits add the keys above. Ways out:".to_string()
        }
        Source::History => "How to fix (these keys are in past commits):".to_string(),
        Source::Files | Source::Stdin => "How to fix:".to_string(),
    };
    for g in &groups {
        let at = g.places.join(", ");
        let revoke = match g.revoke {
            Some(url) => format!("revoke it at {url}"),
            None => format!("revoke it at {}", g.provider),
        };
        let line = match source {
            Source::Commit => format!(
                "{} key in {at}: take it out of the file and load it from the environment, then `git add` the file again",
                g.provider
            ),
            Source::Push => format!(
                "{} key in {at}: take it out of those commits (`git commit --amend`, or `git rebase -i` for an older one) and load it from the environment; if it was ever pushed or shared, {revoke}",
                g.provider
            ),
            Source::History => format!(
                "{} key in {at}: deleting it from the files leaves it in every clone: {revoke}",
                g.provider
            ),
            Source::Files | Source::Stdin => {
                let mut line = format!(
                    "{} key in {at}: {revoke} and load it from the environment",
                    g.provider
                );
                if g.rotatable && source == Source::Files {
                    line.push_str(", or swap it for a limited Till key: `till-scan rotate`");
                }
                line
            }
        };
        lines.push(line);
    }
    lines.push(match source {
        Source::History => format!(
            "Once revoked, accept them as history: `till-scan baseline --git`, then commit {BASELINE_HINT}."
        ),
        Source::Push => format!(
            "Not a secret? Add a `till-scan:allow` comment on its line, or accept it: `till-scan baseline --git`, then commit {BASELINE_HINT}."
        ),
        Source::Commit => format!(
            "Not a secret? Add a `till-scan:allow` comment on its line, or accept it: `till-scan baseline`, then `git add {BASELINE_HINT}`."
        ),
        Source::Stdin => "Not a secret? Add a `till-scan:allow` comment on its line.".to_string(),
        Source::Files => format!(
            "Not a secret? Add a `till-scan:allow` comment on its line, or accept what is there today: `till-scan baseline`, then commit {BASELINE_HINT}."
        ),
    });
    (heading, lines)
}

/// One group per provider, in order of first appearance by provider name.
fn groups(findings: &[Finding]) -> Vec<Group<'_>> {
    let mut by_provider: BTreeMap<&str, Group<'_>> = BTreeMap::new();
    let mut all_places: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for f in findings {
        let rule = &f.rule;
        let till = rule
            .till_provider
            .as_deref()
            .and_then(crate::rotate::providers::get);
        let group = by_provider.entry(&rule.provider).or_insert_with(|| Group {
            provider: &rule.provider,
            revoke: till
                .map(|p| p.keys_page.as_str())
                .or_else(|| first_web_reference(rule)),
            rotatable: till.is_some(),
            places: Vec::new(),
        });
        group.rotatable &= till.is_some();
        let places = all_places.entry(&rule.provider).or_default();
        for l in &f.locations {
            let mut place = path_label(&l.provenance).into_owned();
            if let Some(c) = l.provenance.commit() {
                let short: String = c.id.chars().take(8).collect();
                place = format!("{place} (commit {short})");
            }
            if !places.contains(&place) {
                places.push(place);
            }
        }
    }
    for (provider, places) in all_places {
        if let Some(g) = by_provider.get_mut(provider) {
            let shown: Vec<String> = places.iter().take(3).map(|p| clean(p)).collect();
            g.places = shown;
            if places.len() > 3 {
                g.places.push(format!("{} more", places.len() - 3));
            }
        }
    }
    by_provider.into_values().collect()
}
