//! `till-scan keys revoke`: which keys to revoke (ids given, or every
//! active key till-scan minted that has been idle for a while), and the
//! report of what was revoked, would be revoked, or failed and why.

use serde::Serialize;

use crate::rotate::till::Key;

use super::flags;
use super::minted_by_till_scan;

/// The version of the JSON object of `till-scan keys revoke -f json`.
pub const JSON_VERSION: u32 = 1;

/// What happened to one key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Revoked,
    WouldRevoke,
    Failed,
}

/// One key and what happened to it.
#[derive(Debug, Clone, Serialize)]
pub struct KeyResult {
    pub id: String,
    pub result: Outcome,
    /// Why it was chosen (`--idle`): provider, place, idle days.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
    /// What the service answered, for a failure (cleaned of secrets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The whole revocation.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub version: u32,
    /// Always `till-scan`.
    pub tool: &'static str,
    pub dry_run: bool,
    /// `--idle` in days, when keys were chosen by idleness.
    pub idle_days: Option<u64>,
    pub results: Vec<KeyResult>,
}

impl Report {
    pub fn failed(&self) -> usize {
        self.results
            .iter()
            .filter(|r| r.result == Outcome::Failed)
            .count()
    }
}

/// The active keys till-scan minted that have not been used (or, never
/// used, were created) for `days` days at `now`.
pub fn idle_keys(keys: &[Key], days: u64, now: i64) -> Vec<&Key> {
    let secs = i64::try_from(days.saturating_mul(86_400)).unwrap_or(i64::MAX);
    keys.iter()
        .filter(|k| k.is_active() && minted_by_till_scan(k) && flags::is_idle(k, now, secs))
        .collect()
}

/// A short description of a key chosen by idleness (no secret: provider,
/// repository, path and days, cleaned by `clean`).
pub fn describe(key: &Key, now: i64, clean: impl Fn(&str) -> String) -> String {
    let mut parts = vec![clean(&key.provider)];
    let place: Vec<String> = ["repository", "path"]
        .iter()
        .filter_map(|f| key.metadata_str(f).map(&clean))
        .collect();
    if !place.is_empty() {
        parts.push(place.join(" "));
    }
    match (flags::idle_days(key, now), key.last_used_at.is_some()) {
        (Some(d), true) => parts.push(format!("last used {d} days ago")),
        (Some(d), false) => parts.push(format!("never used, created {d} days ago")),
        (None, _) => {}
    }
    parts.join(", ")
}

/// One line per key and a total.
pub fn human(report: &Report) -> String {
    let mut out = String::new();
    if report.results.is_empty() {
        match report.idle_days {
            Some(d) => out.push_str(&format!(
                "No active key minted by till-scan has been idle for {d} days: nothing to revoke.\n"
            )),
            None => out.push_str("till-scan: nothing to revoke.\n"),
        }
        return out;
    }
    for r in &report.results {
        let verb = match r.result {
            Outcome::Revoked => "revoked",
            Outcome::WouldRevoke => "would revoke",
            Outcome::Failed => "failed",
        };
        out.push_str(&format!("{verb} {}", r.id));
        if let Some(about) = &r.about {
            out.push_str(&format!(" ({about})"));
        }
        if let Some(error) = &r.error {
            out.push_str(&format!(": {error}"));
        }
        out.push('\n');
    }
    let n = report.results.len();
    let failed = report.failed();
    // "till-scan" also marks the file as a report of ours, so `-o` may
    // replace it next time.
    if report.dry_run {
        out.push_str(&format!(
            "Dry run: till-scan would revoke {n} key{}; nothing was changed.\n",
            plural(n)
        ));
    } else if failed > 0 {
        out.push_str(&format!(
            "till-scan revoked {} of {n} key{}; {failed} failed.\n",
            n - failed,
            plural(n)
        ));
    } else {
        out.push_str(&format!("till-scan revoked {n} key{}.\n", plural(n)));
    }
    out
}

/// The JSON object (`version` 1), pretty-printed, with a final newline.
pub fn json(report: &Report) -> String {
    serde_json::to_string_pretty(report).unwrap_or_default() + "\n"
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;
    const NOW: i64 = 1_750_000_000;

    #[test]
    fn only_active_idle_till_scan_keys_are_chosen() {
        let at = |days: i64| crate::time::rfc3339(NOW - days * DAY, 0);
        let keys: Vec<Key> = serde_json::from_value(serde_json::json!([
            {"id": "old", "provider": "openai", "status": "active",
             "createdAt": at(200), "lastUsedAt": at(91), "metadata": {"source": "till-scan"}},
            {"id": "recent", "provider": "openai", "status": "active",
             "createdAt": at(200), "lastUsedAt": at(10), "metadata": {"source": "till-scan"}},
            {"id": "unused", "provider": "groq", "status": "active",
             "createdAt": at(100), "lastUsedAt": null, "metadata": {"source": "till-scan"}},
            {"id": "revoked", "provider": "openai", "status": "revoked",
             "createdAt": at(200), "metadata": {"source": "till-scan"}},
            {"id": "foreign", "provider": "openai", "status": "active",
             "createdAt": at(200), "metadata": {"source": "dashboard"}},
        ]))
        .unwrap();
        let ids: Vec<&str> = idle_keys(&keys, 90, NOW)
            .iter()
            .map(|k| k.id.as_str())
            .collect();
        assert_eq!(ids, ["old", "unused"]);
        assert_eq!(
            describe(&keys[2], NOW, str::to_string),
            "groq, never used, created 100 days ago"
        );
    }

    #[test]
    fn the_report_counts_failures() {
        let report = Report {
            version: JSON_VERSION,
            tool: "till-scan",
            dry_run: false,
            idle_days: None,
            results: vec![
                KeyResult {
                    id: "a".into(),
                    result: Outcome::Revoked,
                    about: None,
                    error: None,
                },
                KeyResult {
                    id: "b".into(),
                    result: Outcome::Failed,
                    about: None,
                    error: Some("Till answered 404".into()),
                },
            ],
        };
        assert_eq!(report.failed(), 1);
        let text = human(&report);
        assert!(text.contains("revoked a\n"), "{text}");
        assert!(text.contains("failed b: Till answered 404\n"), "{text}");
        assert!(
            text.contains("till-scan revoked 1 of 2 keys; 1 failed."),
            "{text}"
        );
        let json: serde_json::Value = serde_json::from_str(&json(&report)).unwrap();
        assert_eq!(json["results"][1]["result"], "failed");
    }
}
