//! Findings -> a rotation plan: one rotation per distinct secret of a rule
//! Till can proxy, found in a tracked file; every other finding is listed for
//! manual rotation and never sent anywhere.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::finding::{Occurrence, Secret};

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
}

impl Plan {
    /// Groups occurrences by fingerprint. `path_of` maps a report path to the
    /// path relative to the work tree and whether git tracks that file (an
    /// untracked file is listed, not rotated: a commit cannot fix it).
    /// `supported` says whether Till proxies a provider id.
    pub fn build(
        occurrences: &[Occurrence],
        path_of: impl Fn(&str) -> (String, bool),
        supported: impl Fn(&str) -> bool,
    ) -> Plan {
        struct Group<'a> {
            first: &'a Occurrence,
            tracked: BTreeSet<Spot>,
            untracked: BTreeSet<Spot>,
        }
        let mut groups: BTreeMap<&str, Group<'_>> = BTreeMap::new();
        let mut order: Vec<&str> = Vec::new();
        for o in occurrences {
            let group = groups.entry(&o.fingerprint).or_insert_with(|| {
                order.push(&o.fingerprint);
                Group {
                    first: o,
                    tracked: BTreeSet::new(),
                    untracked: BTreeSet::new(),
                }
            });
            let (path, tracked) = path_of(&o.location.path);
            let spot = Spot {
                path,
                line: o.location.line,
                column: o.location.column,
            };
            if tracked {
                group.tracked.insert(spot);
            } else {
                group.untracked.insert(spot);
            }
        }
        let mut plan = Plan::default();
        for fp in order {
            let g = &groups[fp];
            let o = g.first;
            let manual = |reason: String, spots: &BTreeSet<Spot>| Manual {
                fingerprint: o.fingerprint.clone(),
                rule_id: o.rule_id.clone(),
                provider: o.provider.clone(),
                reason,
                locations: spots.iter().cloned().collect(),
            };
            match o.till_provider.as_deref() {
                Some(tp) if supported(tp) && !g.tracked.is_empty() => {
                    plan.rotations.push(Rotation {
                        fingerprint: o.fingerprint.clone(),
                        rule_id: o.rule_id.clone(),
                        provider: o.provider.clone(),
                        till_provider: tp.to_string(),
                        secret: o.secret.clone(),
                        spots: g.tracked.iter().cloned().collect(),
                    });
                    if !g.untracked.is_empty() {
                        plan.manual.push(manual(
                            "also in files git does not track: replace it there yourself".into(),
                            &g.untracked,
                        ));
                    }
                }
                Some(tp) if supported(tp) => plan.manual.push(manual(
                    "only in files git does not track: a commit cannot fix it".into(),
                    &g.untracked,
                )),
                Some(tp) => plan.manual.push(manual(
                    format!("Till does not proxy provider `{tp}`"),
                    &g.tracked.union(&g.untracked).cloned().collect(),
                )),
                None => plan.manual.push(manual(
                    format!("Till does not proxy {}", o.provider),
                    &g.tracked.union(&g.untracked).cloned().collect(),
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
    use crate::finding::{fingerprint, Location};

    fn occ(rule: &str, till: Option<&str>, secret: &str, path: &str, line: usize) -> Occurrence {
        Occurrence {
            rule_id: rule.into(),
            rule_name: rule.into(),
            provider: rule.split('.').next().unwrap().into(),
            till_provider: till.map(str::to_string),
            fingerprint: fingerprint(rule, secret),
            secret: Secret::new(secret.as_bytes()),
            location: Location {
                path: path.into(),
                line,
                column: 1,
                end_line: line,
                end_column: 10,
                commit: None,
            },
        }
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
            &occs,
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
        let p1 = Plan::build(&[a.clone(), b.clone()], keep, |_| true);
        let p2 = Plan::build(&[b, a.clone()], keep, |_| true);
        let p3 = Plan::build(&[a], keep, |_| true);
        assert_eq!(p1.branch(), p2.branch());
        assert_ne!(p1.branch(), p3.branch());
        assert!(p1.branch().starts_with("till-scan/rotate-"));
        assert_eq!(p1.id().len(), 8);
    }
}
