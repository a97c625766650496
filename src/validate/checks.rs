//! The provider checks of `--validate`, read from `checks.toml` (data, not
//! code: one table per provider, see the comment at the top of that file),
//! and the request each makes for a finding.

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use crate::finding::Finding;

const CHECKS: &str = include_str!("checks.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChecksFile {
    check: Vec<Check>,
}

/// How one provider tells a live key from a dead one.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    pub name: String,
    pub rules: Vec<String>,
    pub url: String,
    #[serde(default = "get")]
    pub method: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Option<String>,
    pub live: Vec<u16>,
    pub dead: Vec<u16>,
    #[serde(default)]
    pub ok_field: Option<String>,
    #[serde(default)]
    pub sign: Option<Signing>,
    pub docs: String,
}

fn get() -> String {
    "GET".into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Signing {
    #[serde(rename = "aws-sigv4")]
    AwsSigV4,
}

/// The request for one finding: everything but the transport.
#[derive(Debug)]
pub struct Request {
    pub method: String,
    pub url: String,
    /// Header values may hold the secret: never print them.
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

/// Every built-in check, in file order.
pub fn builtin() -> Vec<Check> {
    let file: ChecksFile = toml::from_str(CHECKS).expect("checks.toml is checked by a test");
    file.check
}

impl Check {
    /// Whether this check validates findings of `rule_id`.
    pub fn covers(&self, rule_id: &str) -> bool {
        self.rules.iter().any(|r| match r.strip_suffix('*') {
            Some(prefix) => rule_id.starts_with(prefix),
            None => r == rule_id,
        })
    }

    /// The endpoint, with `base` (a configured base URL) in place of its
    /// scheme and host.
    pub fn url_with_base(&self, base: Option<&str>) -> String {
        let Some(base) = base else {
            return self.url.clone();
        };
        let after_scheme = self.url.split_once("://").map_or("", |(_, rest)| rest);
        let path = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
        format!("{}{}", base.trim_end_matches('/'), path)
    }

    /// The request for `finding` to `url`: `{secret}` and `{part:NAME}` in
    /// the headers and body filled in. Fails when the finding lacks a part
    /// the check needs.
    pub fn request(&self, finding: &Finding, url: String) -> Result<Request> {
        let fill = |template: &str| -> Result<String> {
            let mut out = template.replace("{secret}", finding.secret.expose());
            while let Some(start) = out.find("{part:") {
                let end = out[start..]
                    .find('}')
                    .map(|e| start + e)
                    .context("unclosed {part:")?;
                let name = out[start + 6..end].to_string();
                let value = finding
                    .part(&name)
                    .with_context(|| format!("the finding has no part `{name}`"))?;
                out.replace_range(start..=end, value.expose());
            }
            Ok(out)
        };
        let headers = self
            .headers
            .iter()
            .map(|(k, v)| Ok((k.clone(), fill(v)?)))
            .collect::<Result<Vec<_>>>()?;
        let body = self.body.as_deref().map(fill).transpose()?;
        Ok(Request {
            method: self.method.clone(),
            url,
            headers,
            body,
        })
    }

    fn check_shape(&self) -> Result<()> {
        if !matches!(self.method.as_str(), "GET" | "POST") {
            bail!("method `{}` (GET or POST)", self.method);
        }
        if !self.url.starts_with("https://") {
            bail!("url `{}` is not https", self.url);
        }
        if self.live.iter().any(|s| self.dead.contains(s)) {
            bail!("a status is both live and dead");
        }
        if self.rules.is_empty() {
            bail!("no rules");
        }
        if self.sign.is_none()
            && !self.headers.values().any(|v| v.contains("{secret}"))
            && !self.body.as_deref().unwrap_or("").contains("{secret}")
        {
            bail!("the secret goes nowhere in the request");
        }
        Ok(())
    }
}

/// Checks the built-in table: shapes, unique names, and rules that exist.
pub fn verify(checks: &[Check], rule_ids: &[&str]) -> Result<()> {
    let mut names = std::collections::BTreeSet::new();
    for check in checks {
        check
            .check_shape()
            .with_context(|| format!("check `{}`", check.name))?;
        if !names.insert(check.name.as_str()) {
            bail!("two checks are named `{}`", check.name);
        }
        for rule in &check.rules {
            let probe = rule.trim_end_matches('*');
            if !rule_ids.iter().any(|id| {
                if rule.ends_with('*') {
                    id.starts_with(probe)
                } else {
                    *id == rule
                }
            }) {
                bail!(
                    "check `{}` names rule `{rule}`, which does not exist",
                    check.name
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;

    #[test]
    fn the_builtin_checks_are_well_formed_and_name_real_rules() {
        let rules = RuleSet::builtin().unwrap();
        let ids: Vec<&str> = rules.rules.iter().map(|r| r.id.as_str()).collect();
        let checks = builtin();
        verify(&checks, &ids).unwrap();
        // No rule is claimed by two checks.
        for id in &ids {
            let claimed = checks.iter().filter(|c| c.covers(id)).count();
            assert!(claimed <= 1, "{id} is covered by {claimed} checks");
        }
        // The providers the issue names.
        for name in [
            "openai",
            "anthropic",
            "google",
            "openrouter",
            "mistral",
            "groq",
            "together",
            "fireworks",
            "perplexity",
            "deepseek",
            "xai",
            "cohere",
            "github",
            "gitlab",
            "slack",
            "stripe",
            "sendgrid",
            "huggingface",
            "npm",
            "aws",
        ] {
            assert!(checks.iter().any(|c| c.name == name), "no check for {name}");
        }
    }

    #[test]
    fn every_till_provider_rule_has_a_check() {
        let rules = RuleSet::builtin().unwrap();
        let checks = builtin();
        for rule in &rules.rules {
            if rule.till_provider.is_some() && !rule.id.contains("admin") {
                assert!(
                    checks.iter().any(|c| c.covers(&rule.id)),
                    "{} can be rotated but not validated",
                    rule.id
                );
            }
        }
    }

    #[test]
    fn a_base_url_replaces_scheme_and_host() {
        let check = builtin().into_iter().find(|c| c.name == "groq").unwrap();
        assert_eq!(
            check.url_with_base(None),
            "https://api.groq.com/openai/v1/models"
        );
        assert_eq!(
            check.url_with_base(Some("http://127.0.0.1:8080/")),
            "http://127.0.0.1:8080/openai/v1/models"
        );
        assert_eq!(
            check.url_with_base(Some("https://proxy.example/groq")),
            "https://proxy.example/groq/openai/v1/models"
        );
    }

    #[test]
    fn the_readme_table_lists_every_check_as_it_is() {
        let readme = include_str!("../../docs/validation.md");
        for check in builtin() {
            let rules: Vec<String> = check.rules.iter().map(|r| format!("`{r}`")).collect();
            let row = format!(
                "| `{}` | {} | `{} {}` |",
                check.name,
                rules.join(", "),
                check.method,
                check.url
            );
            assert!(
                readme.contains(&row),
                "docs/validation.md lacks the row {row}"
            );
        }
    }
}
