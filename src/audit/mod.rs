//! The audit of Till keys (`till-scan keys`): the keys Till lists, narrowed
//! to the ones till-scan minted, each with its counters, dates and
//! [`flags`], and whether the repository at hand still holds it ([`head`]).
//! [`render`] turns the finished [`Audit`] into a table, markdown or JSON.
//!
//! Every string that came from Till is cleaned when the row is built
//! ([`Secrets::clean_field`]: control characters, the run's secrets and
//! tokens in a known key format such as `till_sk_…` masked), so no
//! renderer can print a key.

pub mod flags;
pub mod head;
pub mod render;
pub mod revoke;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::rotate::scrub::Secrets;
use crate::rotate::till::Key;

use self::flags::{Counter, Flag, Thresholds};

/// The version of the JSON object of `till-scan keys -f json`.
pub const JSON_VERSION: u32 = 1;

/// What the audit knows about where a key was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AtHead {
    /// A file the key was written to still holds a scoped key at HEAD.
    Present,
    /// No file it was written to holds a scoped key at HEAD any more.
    Gone,
    /// The key was minted for another repository: not judged.
    OtherRepository,
    /// Not judged, and why (no repository at PATH, no path in the key's
    /// metadata, no commit yet).
    NotChecked(String),
}

impl Serialize for AtHead {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match self {
            AtHead::Present => "present",
            AtHead::Gone => "gone",
            AtHead::OtherRepository => "other repository",
            AtHead::NotChecked(_) => "not checked",
        })
    }
}

/// One key of the audit, as shown: every string cleaned.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub id: String,
    pub provider: String,
    pub status: String,
    pub tenant_id: Option<String>,
    /// Metadata `source` (`till-scan` for the keys it minted).
    pub source: Option<String>,
    pub repository: Option<String>,
    pub path: Option<String>,
    pub line: Option<u64>,
    pub paths: Vec<String>,
    pub rule: Option<String>,
    pub activations: Counter,
    pub tokens: Counter,
    pub spend_cents: Counter,
    pub created_at: Option<String>,
    pub last_used_at: Option<String>,
    /// Whole days since the last use, else since creation.
    pub idle_days: Option<i64>,
    pub ip_whitelist: Vec<String>,
    pub at_head: AtHead,
    pub flags: Vec<Flag>,
}

/// Counts over the rows shown.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Keys Till listed, before narrowing to till-scan's.
    pub listed: usize,
    /// Keys shown.
    pub keys: usize,
    pub active: usize,
    /// Keys with at least one flag that asks for action (exhausted,
    /// near-limit, idle, gone).
    pub needs_attention: usize,
    /// Keys per flag, every flag name present.
    pub flags: BTreeMap<String, usize>,
}

/// The finished audit.
#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    pub version: u32,
    /// Always `till-scan`.
    pub tool: &'static str,
    pub till_url: String,
    /// The repository at PATH as rotation names it, if PATH is one.
    pub repository: Option<String>,
    pub all: bool,
    pub near: f64,
    pub idle_days: u64,
    pub keys: Vec<Row>,
    pub summary: Summary,
}

/// What to show and how to judge it.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Every key, not only those till-scan minted.
    pub all: bool,
    pub near: f64,
    pub idle_days: u64,
    pub now: i64,
}

/// Whether till-scan minted `key` (metadata `source: till-scan`).
pub fn minted_by_till_scan(key: &Key) -> bool {
    key.metadata_str("source") == Some("till-scan")
}

/// The files rotation wrote `key` to: metadata `paths`, else `path`.
pub fn key_paths(key: &Key) -> Vec<String> {
    let from_list: Vec<String> = key
        .metadata
        .as_ref()
        .and_then(|m| m.get("paths"))
        .and_then(|p| p.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if !from_list.is_empty() {
        return from_list;
    }
    key.metadata_str("path")
        .map(|p| vec![p.to_string()])
        .unwrap_or_default()
}

/// Audits `keys` (as Till listed them): keeps till-scan's unless
/// `opts.all`, judges each with `judge` (where the key was written, see
/// [`head`]) and the thresholds, and cleans every string with `secrets`.
pub fn audit(
    keys: &[Key],
    till_url: &str,
    repository: Option<&str>,
    opts: &Options,
    secrets: &Secrets,
    judge: &dyn Fn(&Key) -> AtHead,
) -> Audit {
    let th = Thresholds {
        near: opts.near,
        idle_secs: i64::try_from(opts.idle_days.saturating_mul(86_400)).unwrap_or(i64::MAX),
        now: opts.now,
    };
    let clean = |s: &str| secrets.clean_field(s);
    let rows: Vec<Row> = keys
        .iter()
        .filter(|k| opts.all || minted_by_till_scan(k))
        .map(|key| {
            let at_head = judge(key);
            let flags: Vec<Flag> = flags::flags(key, &th, at_head == AtHead::Gone)
                .into_iter()
                .map(|f| match f {
                    Flag::Status(s) => Flag::Status(clean(&s)),
                    other => other,
                })
                .collect();
            let [activations, tokens, spend_cents] = flags::counters(key);
            let meta = |field: &str| key.metadata_str(field).map(clean);
            Row {
                id: clean(&key.id),
                provider: clean(&key.provider),
                status: clean(&key.status),
                tenant_id: key.tenant_id.as_deref().map(clean),
                source: meta("source"),
                repository: meta("repository"),
                path: meta("path"),
                line: key
                    .metadata
                    .as_ref()
                    .and_then(|m| m.get("line"))
                    .and_then(|l| l.as_u64()),
                paths: key_paths(key).iter().map(|p| clean(p)).collect(),
                rule: meta("rule"),
                activations,
                tokens,
                spend_cents,
                created_at: key.created_at.as_deref().map(clean),
                last_used_at: key.last_used_at.as_deref().map(clean),
                idle_days: flags::idle_days(key, opts.now),
                ip_whitelist: key
                    .ip_whitelist
                    .iter()
                    .flatten()
                    .map(|ip| clean(ip))
                    .collect(),
                at_head,
                flags,
            }
        })
        .collect();
    let summary = summarize(keys.len(), &rows);
    Audit {
        version: JSON_VERSION,
        tool: "till-scan",
        till_url: till_url.to_string(),
        repository: repository.map(str::to_string),
        all: opts.all,
        near: opts.near,
        idle_days: opts.idle_days,
        keys: rows,
        summary,
    }
}

fn summarize(listed: usize, rows: &[Row]) -> Summary {
    let mut flags: BTreeMap<String, usize> = [
        "exhausted",
        "near-limit",
        "idle",
        "revoked",
        "never-used",
        "gone",
    ]
    .iter()
    .map(|f| (f.to_string(), 0))
    .collect();
    for row in rows {
        for flag in &row.flags {
            *flags.entry(flag.name().to_string()).or_default() += 1;
        }
    }
    Summary {
        listed,
        keys: rows.len(),
        active: rows.iter().filter(|r| r.status == "active").count(),
        needs_attention: rows
            .iter()
            .filter(|r| r.flags.iter().any(Flag::needs_attention))
            .count(),
        flags,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Vec<Key> {
        serde_json::from_value(serde_json::json!([
            {"id": "key_1", "provider": "openai", "status": "active",
             "maxActivations": 10, "usedActivations": 9,
             "metadata": {"source": "till-scan", "repository": "acme/app",
                          "path": "a.py", "paths": ["a.py", "b.py"], "line": 3}},
            {"id": "key_2", "provider": "groq", "status": "revoked",
             "metadata": {"source": "till-scan", "repository": "acme/app", "path": "c.py"}},
            {"id": "key_3", "provider": "openai", "status": "active", "metadata": null},
        ]))
        .unwrap()
    }

    fn opts(all: bool) -> Options {
        Options {
            all,
            near: 0.8,
            idle_days: 30,
            now: 1_750_000_000,
        }
    }

    #[test]
    fn keeps_till_scan_keys_unless_all() {
        let secrets = Secrets::new();
        let judge = |_: &Key| AtHead::Present;
        let a = audit(
            &keys(),
            "https://t",
            Some("acme/app"),
            &opts(false),
            &secrets,
            &judge,
        );
        let ids: Vec<&str> = a.keys.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["key_1", "key_2"]);
        assert_eq!(a.keys[0].paths, ["a.py", "b.py"]);
        assert_eq!(a.keys[0].line, Some(3));
        assert_eq!(a.summary.keys, 2);
        assert_eq!(a.summary.active, 1);
        assert_eq!(a.summary.needs_attention, 1);
        assert_eq!(a.summary.flags["near-limit"], 1);
        assert_eq!(a.summary.flags["revoked"], 1);
        assert_eq!(a.summary.flags["gone"], 0);
        let a = audit(&keys(), "https://t", None, &opts(true), &secrets, &judge);
        assert_eq!(a.keys.len(), 3);
    }

    #[test]
    fn the_judgement_of_the_repository_becomes_the_gone_flag() {
        let secrets = Secrets::new();
        let judge = |k: &Key| {
            if k.id == "key_1" {
                AtHead::Gone
            } else {
                AtHead::OtherRepository
            }
        };
        let a = audit(&keys(), "https://t", None, &opts(false), &secrets, &judge);
        assert!(a.keys[0].flags.contains(&Flag::Gone));
        assert!(!a.keys[1].flags.contains(&Flag::Gone));
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json["keys"][0]["at_head"], "gone");
        assert_eq!(json["keys"][1]["at_head"], "other repository");
        assert_eq!(json["keys"][0]["flags"][0], "near-limit");
    }

    #[test]
    fn strings_from_till_are_cleaned_of_secrets() {
        let secrets = Secrets::new();
        secrets.add("till_admin_0123456789abcdef");
        let keys: Vec<Key> = serde_json::from_value(serde_json::json!([
            {"id": "key_1", "provider": "openai", "status": "active",
             "metadata": {"source": "till-scan",
                          "path": "x till_admin_0123456789abcdef y"}},
        ]))
        .unwrap();
        let a = audit(
            &keys,
            "https://t",
            None,
            &opts(false),
            &secrets,
            &|_: &Key| AtHead::NotChecked("test".into()),
        );
        let shown = serde_json::to_string(&a).unwrap();
        assert!(!shown.contains("till_admin_0123456789abcdef"), "{shown}");
    }
}
