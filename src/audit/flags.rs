//! What an audit says about one key: its flags, computed from the key's
//! status, counters and dates alone (no I/O; the `gone` judgement is made
//! from the repository by the caller and handed in), and the parsers of the
//! thresholds the user sets (`--near`, `--idle`).

use serde::{Serialize, Serializer};

use crate::rotate::till::Key;

/// One finding of the audit about a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flag {
    /// Status `exhausted`, or a counter at or past its limit.
    Exhausted,
    /// A counter at or past the `--near` share of its limit.
    NearLimit,
    /// Not used (or, never used, not created) for `--idle-days`.
    Idle,
    /// Dead for another reason: the status as the server sent it
    /// (`revoked`, or anything else but `active`/`exhausted`).
    Status(String),
    /// No activation yet.
    NeverUsed,
    /// Minted for the repository at PATH, and no file it was written to
    /// holds a scoped key at HEAD any more.
    Gone,
}

impl Flag {
    /// The flag as printed and in JSON.
    pub fn name(&self) -> &str {
        match self {
            Flag::Exhausted => "exhausted",
            Flag::NearLimit => "near-limit",
            Flag::Idle => "idle",
            Flag::Status(s) if s.is_empty() => "no-status",
            Flag::Status(s) => s,
            Flag::NeverUsed => "never-used",
            Flag::Gone => "gone",
        }
    }

    /// Whether the flag asks for action (what `--fail-on-flags` counts):
    /// a key that stopped or will soon stop working, or that nothing needs.
    /// A revoked key and a key not used yet are only information.
    pub fn needs_attention(&self) -> bool {
        matches!(
            self,
            Flag::Exhausted | Flag::NearLimit | Flag::Idle | Flag::Gone
        )
    }
}

impl Serialize for Flag {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// The thresholds a key is judged against.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    /// `--near` as a share of the limit, in (0, 1].
    pub near: f64,
    /// `--idle-days` in seconds.
    pub idle_secs: i64,
    /// Now, in seconds since the epoch.
    pub now: i64,
}

/// One counter of a key and its limit, either possibly unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counter {
    pub used: Option<u64>,
    pub max: Option<u64>,
}

impl Counter {
    /// `used / max`, when both are known and the limit is not zero.
    pub fn share(&self) -> Option<f64> {
        match (self.used, self.max) {
            (Some(used), Some(max)) if max > 0 => Some(used as f64 / max as f64),
            _ => None,
        }
    }
}

/// The three counters of a key: activations, tokens, spend in cents.
pub fn counters(key: &Key) -> [Counter; 3] {
    [
        Counter {
            used: key.used_activations,
            max: key.max_activations,
        },
        Counter {
            used: key.used_tokens,
            max: key.max_tokens,
        },
        Counter {
            used: key.used_spend_cents,
            max: key.max_spend_cents,
        },
    ]
}

/// When the key was last used, else when it was created (seconds since the
/// epoch); `None` when Till sent neither as a readable date.
pub fn last_activity(key: &Key) -> Option<i64> {
    key.last_used_at
        .as_deref()
        .and_then(crate::time::parse_rfc3339)
        .or_else(|| {
            key.created_at
                .as_deref()
                .and_then(crate::time::parse_rfc3339)
        })
}

/// Whole days since [`last_activity`] (never negative).
pub fn idle_days(key: &Key, now: i64) -> Option<i64> {
    last_activity(key).map(|t| (now - t).max(0) / 86_400)
}

/// Whether the key was never used: no activation counted, or (when Till
/// sends no counter) no last use.
pub fn never_used(key: &Key) -> bool {
    match key.used_activations {
        Some(n) => n == 0,
        None => key.last_used_at.is_none(),
    }
}

/// Whether the key has been idle for at least `secs` at `now`; a key with
/// no readable date is not judged idle.
pub fn is_idle(key: &Key, now: i64, secs: i64) -> bool {
    last_activity(key).is_some_and(|t| now - t >= secs)
}

/// The flags of `key`, in a fixed order. A key that is neither active nor
/// exhausted is dead: it gets its status and nothing else (its counters
/// and dates no longer matter). `gone` is the caller's judgement of the
/// repository.
pub fn flags(key: &Key, th: &Thresholds, gone: bool) -> Vec<Flag> {
    let status_exhausted = key.status == "exhausted";
    if !key.is_active() && !status_exhausted {
        return vec![Flag::Status(key.status.clone())];
    }
    let shares: Vec<f64> = counters(key).iter().filter_map(Counter::share).collect();
    let mut out = Vec::new();
    let exhausted = status_exhausted || shares.iter().any(|s| *s >= 1.0);
    if exhausted {
        out.push(Flag::Exhausted);
    } else if shares.iter().any(|s| *s >= th.near) {
        out.push(Flag::NearLimit);
    }
    if key.is_active() && is_idle(key, th.now, th.idle_secs) {
        out.push(Flag::Idle);
    }
    if never_used(key) {
        out.push(Flag::NeverUsed);
    }
    if gone {
        out.push(Flag::Gone);
    }
    out
}

/// Parses `--near`: `80%`, `0.8`, or a bare number above 1 read as a
/// percentage (`80`). Must be above 0 and at most 100%.
pub fn parse_near(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let bad = || format!("`{text}` is not a share of a limit (try 80% or 0.8)");
    let share = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map_err(|_| bad())? / 100.0,
        None => {
            let n = t.parse::<f64>().map_err(|_| bad())?;
            if n > 1.0 {
                n / 100.0
            } else {
                n
            }
        }
    };
    if !(share > 0.0 && share <= 1.0) {
        return Err(format!(
            "`{text}` is outside (0, 100%]: use a share such as 80% or 0.8"
        ));
    }
    Ok(share)
}

/// Parses an age in days: `90d`, `90` (days) or `2w` (weeks). At least one
/// day: `0` would revoke every key.
pub fn parse_age(text: &str) -> Result<u64, String> {
    let t = text.trim().to_ascii_lowercase();
    let bad = || format!("`{text}` is not an age (try 90d, 90 or 2w)");
    let (number, factor) = if let Some(n) = t.strip_suffix('w') {
        (n, 7)
    } else if let Some(n) = t.strip_suffix('d') {
        (n, 1)
    } else {
        (t.as_str(), 1)
    };
    let n: u64 = number.trim().parse().map_err(|_| bad())?;
    let days = n.checked_mul(factor).ok_or_else(bad)?;
    if days == 0 {
        return Err(format!(
            "an age of `{text}` would take in every key: give at least one day"
        ));
    }
    Ok(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;
    const NOW: i64 = 1_750_000_000;

    fn key(json: serde_json::Value) -> Key {
        let mut base = serde_json::json!({
            "id": "key_1", "provider": "openai", "status": "active",
            "maxActivations": 100, "usedActivations": 10,
            "createdAt": crate::time::rfc3339(NOW - 3 * DAY, 0),
            "lastUsedAt": crate::time::rfc3339(NOW - DAY, 0),
        });
        for (k, v) in json.as_object().unwrap() {
            base[k] = v.clone();
        }
        serde_json::from_value(base).unwrap()
    }

    fn names(key: &Key, gone: bool) -> Vec<String> {
        let th = Thresholds {
            near: 0.8,
            idle_secs: 30 * DAY,
            now: NOW,
        };
        flags(key, &th, gone)
            .iter()
            .map(|f| f.name().to_string())
            .collect()
    }

    #[test]
    fn a_key_in_use_well_within_its_limits_has_no_flag() {
        assert!(names(&key(serde_json::json!({})), false).is_empty());
    }

    #[test]
    fn any_counter_at_its_limit_or_the_status_exhausts() {
        let k = key(serde_json::json!({"usedActivations": 100}));
        assert_eq!(names(&k, false), ["exhausted"]);
        let k = key(serde_json::json!({"maxSpendCents": 500, "usedSpendCents": 501}));
        assert_eq!(names(&k, false), ["exhausted"]);
        let k = key(serde_json::json!({"status": "exhausted", "usedActivations": 3}));
        assert_eq!(names(&k, false), ["exhausted"]);
    }

    #[test]
    fn near_limit_uses_the_highest_share() {
        let k = key(serde_json::json!({"maxTokens": 1000, "usedTokens": 800}));
        assert_eq!(names(&k, false), ["near-limit"]);
        let k = key(serde_json::json!({"maxTokens": 1000, "usedTokens": 799}));
        assert!(names(&k, false).is_empty());
        // An unknown counter or a zero limit is not judged.
        let k = key(serde_json::json!({"maxTokens": 0, "usedTokens": 5, "usedActivations": null}));
        assert!(!names(&k, false).contains(&"near-limit".to_string()));
    }

    #[test]
    fn idle_counts_from_the_last_use_else_the_creation() {
        let k = key(serde_json::json!({"lastUsedAt": crate::time::rfc3339(NOW - 30 * DAY, 0)}));
        assert_eq!(names(&k, false), ["idle"]);
        let k = key(serde_json::json!({
            "usedActivations": 0, "lastUsedAt": null,
            "createdAt": crate::time::rfc3339(NOW - 31 * DAY, 0)}));
        assert_eq!(names(&k, false), ["idle", "never-used"]);
        let k = key(serde_json::json!({"usedActivations": 0, "lastUsedAt": null}));
        assert_eq!(names(&k, false), ["never-used"]);
        // No readable date: not judged idle.
        let k = key(serde_json::json!({"lastUsedAt": "yesterday", "createdAt": null}));
        assert!(names(&k, false).is_empty());
        assert_eq!(idle_days(&k, NOW), None);
    }

    #[test]
    fn never_used_falls_back_to_the_last_use_without_a_counter() {
        let k = key(serde_json::json!({"usedActivations": null, "lastUsedAt": null}));
        assert!(never_used(&k));
        let k = key(serde_json::json!({"usedActivations": null}));
        assert!(!never_used(&k));
    }

    #[test]
    fn a_dead_key_shows_its_status_only() {
        let k = key(serde_json::json!({"status": "revoked", "usedActivations": 100}));
        assert_eq!(names(&k, true), ["revoked"]);
        let k = key(serde_json::json!({"status": "Suspended"}));
        assert_eq!(names(&k, false), ["Suspended"]);
        let k = key(serde_json::json!({"status": null}));
        assert_eq!(names(&k, false), ["no-status"]);
    }

    #[test]
    fn gone_is_added_to_a_live_key() {
        let k = key(serde_json::json!({}));
        assert_eq!(names(&k, true), ["gone"]);
        assert!(Flag::Gone.needs_attention());
        assert!(!Flag::NeverUsed.needs_attention());
        assert!(!Flag::Status("revoked".into()).needs_attention());
    }

    #[test]
    fn near_thresholds_parse() {
        assert_eq!(parse_near("80%").unwrap(), 0.8);
        assert_eq!(parse_near("0.8").unwrap(), 0.8);
        assert_eq!(parse_near("80").unwrap(), 0.8);
        assert_eq!(parse_near("1").unwrap(), 1.0);
        assert_eq!(parse_near(" 95 % ").unwrap(), 0.95);
        assert!(parse_near("0").is_err());
        assert!(parse_near("150%").is_err());
        assert!(parse_near("-0.5").is_err());
        assert!(parse_near("most").is_err());
        assert!(parse_near("NaN").is_err());
    }

    #[test]
    fn ages_parse() {
        assert_eq!(parse_age("90d").unwrap(), 90);
        assert_eq!(parse_age("90").unwrap(), 90);
        assert_eq!(parse_age("2w").unwrap(), 14);
        assert_eq!(parse_age("2W").unwrap(), 14);
        assert!(parse_age("0d").is_err());
        assert!(parse_age("3m").is_err());
        assert!(parse_age("d").is_err());
        assert!(parse_age("-5").is_err());
        assert!(parse_age("99999999999999999999w").is_err());
    }
}
