//! Findings -> a rotation plan: one rotation per finding (distinct secret) of a rule
//! Till can proxy, found in a tracked file; every other finding is listed for
//! manual rotation and never sent anywhere.

use std::collections::BTreeSet;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::finding::{Finding, Secret};

/// Where a secret occurs, relative to the repository's work tree.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Spot {
    pub path: String,
    pub line: usize,
    pub column: usize,
}

impl std::fmt::Display for Spot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.path, self.line)
    }
}

/// A secret Till can wrap.
#[derive(Debug, Clone)]
pub struct Rotation {
    pub fingerprint: String,
    pub rule_id: String,
    pub provider: String,
    pub till_provider: String,
    pub secret: Secret,
    pub spots: Vec<Spot>,
    /// What the provider said when rotation checked the key (`live (HTTP
    /// 200)`, `unknown (timed out after 10s)`); `None` when not checked.
    pub validation: Option<String>,
}

/// A secret the owner must rotate by hand.
#[derive(Debug, Clone, Serialize)]
pub struct Manual {
    pub fingerprint: String,
    pub rule_id: String,
    pub provider: String,
    /// Why till-scan does not rotate it.
    pub reason: String,
    pub locations: Vec<Spot>,
}

#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub rotations: Vec<Rotation>,
    pub manual: Vec<Manual>,
    /// Keys Till could proxy that their provider refused when checked:
    /// nothing to rotate, only code to remove.
    pub dead: Vec<Manual>,
}

impl Plan {
    /// One entry per finding, in order. `path_of` maps a file's path as
    /// the scan reached it to the path relative to the work tree and whether
    /// git tracks that file (an untracked file is listed, not rotated: a
    /// commit cannot fix it); places that are not files are left out.
    /// `supported` says whether Till proxies a provider id.
    pub fn build(
        findings: &[Finding],
        path_of: impl Fn(&str) -> (String, bool),
        supported: impl Fn(&str) -> bool,
    ) -> Plan {
        let mut plan = Plan::default();
        for f in findings {
            let mut tracked: BTreeSet<Spot> = BTreeSet::new();
            let mut untracked: BTreeSet<Spot> = BTreeSet::new();
            for l in &f.locations {
                let Some(shown) = l.provenance.path() else {
                    continue;
                };
                // A member of an archive cannot be rewritten in place: it is
                // listed, like an untracked file, by its full label.
                if !l.provenance.members().is_empty() {
                    untracked.insert(Spot {
                        path: crate::report::path_label(&l.provenance).into_owned(),
                        line: l.line,
                        column: l.column,
                    });
                    continue;
                }
                let (path, is_tracked) = path_of(shown);
                let spot = Spot {
                    path,
                    line: l.line,
                    column: l.column,
                };
                if is_tracked {
                    tracked.insert(spot);
                } else {
                    untracked.insert(spot);
                }
            }
            let rule = &f.rule;
            let manual = |reason: String, spots: &BTreeSet<Spot>| Manual {
                fingerprint: f.fingerprint.clone(),
                rule_id: rule.id.clone(),
                provider: rule.provider.clone(),
                reason,
                locations: spots.iter().cloned().collect(),
            };
            let dead = f
                .validation
                .as_ref()
                .filter(|v| v.status == crate::validate::Status::Dead);
            match rule.till_provider.as_deref() {
                Some(tp) if supported(tp) && dead.is_some() => {
                    let reason = dead.map_or(String::new(), |v| v.reason.clone());
                    plan.dead.push(manual(
                        format!(
                            "already dead: {} refused it ({reason}); remove it from the code",
                            rule.provider
                        ),
                        &tracked.union(&untracked).cloned().collect(),
                    ));
                }
                Some(tp) if supported(tp) && !tracked.is_empty() => {
                    plan.rotations.push(Rotation {
                        fingerprint: f.fingerprint.clone(),
                        rule_id: rule.id.clone(),
                        provider: rule.provider.clone(),
                        till_provider: tp.to_string(),
                        secret: f.secret.clone(),
                        spots: tracked.iter().cloned().collect(),
                        validation: f.validation.as_ref().map(|v| v.summary()),
                    });
                    if !untracked.is_empty() {
                        plan.manual.push(manual(
                            "also in files git does not track or inside archives: replace it there yourself".into(),
                            &untracked,
                        ));
                    }
                }
                Some(tp) if supported(tp) => plan.manual.push(manual(
                    "only in files git does not track or inside archives: a commit cannot fix it"
                        .into(),
                    &untracked,
                )),
                Some(tp) => plan.manual.push(manual(
                    format!("Till does not proxy provider `{tp}`"),
                    &tracked.union(&untracked).cloned().collect(),
                )),
                None => plan.manual.push(manual(
                    format!("Till does not proxy {}", rule.provider),
                    &tracked.union(&untracked).cloned().collect(),
                )),
            }
        }
        plan
    }

    /// A short id naming this set of secrets: the same findings give the same
    /// branch, so a re-run finds its earlier branch and pull request.
    pub fn id(&self) -> String {
        let fps: BTreeSet<&str> = self
            .rotations
            .iter()
            .map(|r| r.fingerprint.as_str())
            .collect();
        let mut h = Sha256::new();
        for fp in fps {
            h.update(fp.as_bytes());
            h.update(b"\n");
        }
        h.finalize()[..4]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    pub fn branch(&self) -> String {
        format!("till-scan/rotate-{}", self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    type Occ<'a> = (&'a str, Option<&'a str>, &'a str, &'a str, usize);

    /// `(rule id, till provider, secret, path, line)` occurrences, as
    /// findings: one per rule and secret, in order of first appearance.
    fn findings(occs: &[Occ<'_>]) -> Vec<Finding> {
        let mut out: Vec<Finding> = Vec::new();
        for &(rule, till, secret, path, line) in occs {
            let provider = rule.split('.').next().unwrap();
            let location = sample::location(path, line, 1, secret, None);
            match out
                .iter_mut()
                .find(|f| f.rule.id == rule && f.secret.expose() == secret)
            {
                Some(f) => f.locations.push(location),
                None => {
                    let rule = sample::rule(rule, rule, provider, till, &[]);
                    out.push(sample::finding(&rule, secret, vec![location]));
                }
            }
        }
        out
    }

    fn occ<'a>(
        rule: &'a str,
        till: Option<&'a str>,
        secret: &'a str,
        path: &'a str,
        line: usize,
    ) -> Occ<'a> {
        (rule, till, secret, path, line)
    }

    #[test]
    fn a_multi_part_finding_is_one_manual_entry() {
        let findings = sample::multi_part_result().findings;
        let plan = Plan::build(&findings, |p| (p.to_string(), true), |_| true);
        assert!(plan.rotations.is_empty());
        assert_eq!(plan.manual.len(), 1);
        assert_eq!(plan.manual[0].rule_id, "acme.key-pair");
        assert_eq!(plan.manual[0].fingerprint, findings[0].fingerprint);
        assert_eq!(plan.manual[0].locations.len(), 1);
    }

    #[test]
    fn one_rotation_per_secret_and_the_rest_manual() {
        let occs = vec![
            occ("openai.project-key", Some("openai"), "sk-proj-1", "a.py", 3),
            occ("openai.project-key", Some("openai"), "sk-proj-1", "b.py", 9),
            occ(
                "openai.project-key",
                Some("openai"),
                "sk-proj-1",
                "local.env",
                1,
            ),
            occ("aws.access-key", None, "AKIA1", "c.py", 2),
            occ("acme.key", Some("acme"), "acme-1", "d.py", 2),
            occ("groq.key", Some("groq"), "gsk_1", "untracked.env", 2),
        ];
        let plan = Plan::build(
            &findings(&occs),
            |p| (p.to_string(), !p.ends_with(".env")),
            |t| t != "acme",
        );
        assert_eq!(plan.rotations.len(), 1);
        let r = &plan.rotations[0];
        assert_eq!(
            r.spots.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            ["a.py:3", "b.py:9"]
        );
        let reasons: Vec<_> = plan
            .manual
            .iter()
            .map(|m| (m.rule_id.as_str(), m.reason.as_str()))
            .collect();
        assert_eq!(reasons.len(), 4, "{reasons:?}");
        assert!(reasons[0].1.contains("also in files git does not track"));
        assert!(reasons[1].1.contains("Till does not proxy aws"));
        assert!(reasons[2].1.contains("`acme`"));
        assert!(reasons[3].1.contains("only in files git does not track"));
    }

    #[test]
    fn the_branch_depends_only_on_the_set_of_secrets() {
        let a = occ("x.k", Some("openai"), "s1", "a", 1);
        let b = occ("x.k", Some("openai"), "s2", "b", 1);
        let keep = |p: &str| (p.to_string(), true);
        let p1 = Plan::build(&findings(&[a, b]), keep, |_| true);
        let p2 = Plan::build(&findings(&[b, a]), keep, |_| true);
        let p3 = Plan::build(&findings(&[a]), keep, |_| true);
        assert_eq!(p1.branch(), p2.branch());
        assert_ne!(p1.branch(), p3.branch());
        assert!(p1.branch().starts_with("till-scan/rotate-"));
        assert_eq!(p1.id().len(), 8);
    }
}
