//! The Till admin API client: mints scoped keys that wrap an upstream key,
//! lists earlier ones and revokes them. The contract is
//! `../shared/till-api.md`: snake_case requests, camelCase responses and
//! `{"error": {"code", "message"}}` errors.
//!
//! Safety: the admin key and upstream keys go only to the configured base URL
//! (redirects are not followed, cleartext HTTP only to a loopback host), and
//! every string Till answers goes through [`Secrets::clean`] before an error
//! carries it, so no error shows a key, Till's URL shows no user or password,
//! and a create that failed with a 5xx is looked up before it is retried.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::finding::Secret;

use super::endpoint::{display_url, require_tls, Purpose};
use super::scrub::{json_error, Secrets};

/// The default issuance service.
pub const DEFAULT_TILL_URL: &str = "https://api.till.ac";

/// How many times a 429 or 5xx answer is retried before giving up.
const RETRIES: u32 = 3;

/// What went wrong talking to Till. Never carries a key.
#[derive(Debug, thiserror::Error)]
pub enum TillError {
    #[error("Till ({url}) answered {method} {path} with HTTP {status}{}: {message}", code.as_deref().map(|c| format!(" `{c}`")).unwrap_or_default())]
    Status {
        url: String,
        method: &'static str,
        path: String,
        status: u16,
        code: Option<String>,
        message: String,
    },
    #[error("Till ({url}) did not answer {method} {path}: {reason}")]
    Transport {
        url: String,
        method: &'static str,
        path: String,
        reason: String,
    },
    #[error("Till ({url}) sent an answer to {method} {path} that is not what its API documents: {reason}")]
    Shape {
        url: String,
        method: &'static str,
        path: String,
        reason: String,
    },
    #[error("{0}")]
    Config(String),
}

impl TillError {
    /// The HTTP status Till answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            TillError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The body of `POST /admin/keys`. `Debug` redacts the upstream key; only
/// the serialized body (what goes to Till) carries it.
#[derive(Debug)]
pub struct NewKey<'a> {
    pub provider: &'a str,
    pub upstream_key: &'a Secret,
    pub max_activations: u64,
    pub max_tokens: Option<u64>,
    pub max_spend_cents: Option<u64>,
    pub ip_whitelist: &'a [String],
    pub metadata: Value,
}

/// The one place the upstream key is exposed: the request body.
impl Serialize for NewKey<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Body<'a> {
            provider: &'a str,
            upstream_key: &'a str,
            max_activations: u64,
            #[serde(skip_serializing_if = "Option::is_none")]
            max_tokens: Option<u64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            max_spend_cents: Option<u64>,
            #[serde(skip_serializing_if = "<[String]>::is_empty")]
            ip_whitelist: &'a [String],
            metadata: &'a Value,
        }
        Body {
            provider: self.provider,
            upstream_key: self.upstream_key.expose(),
            max_activations: self.max_activations,
            max_tokens: self.max_tokens,
            max_spend_cents: self.max_spend_cents,
            ip_whitelist: self.ip_whitelist,
            metadata: &self.metadata,
        }
        .serialize(serializer)
    }
}

/// A Till key as the API returns it (camelCase). Unknown fields are ignored;
/// every field but `id` may be absent or null (a self-hosted or older Till
/// may not send them all).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Key {
    pub id: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub provider: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub status: String,
    #[serde(default)]
    pub tenant_id: Option<String>,
    #[serde(default)]
    pub max_activations: Option<u64>,
    #[serde(default)]
    pub used_activations: Option<u64>,
    #[serde(default)]
    pub max_tokens: Option<u64>,
    #[serde(default)]
    pub used_tokens: Option<u64>,
    #[serde(default)]
    pub max_spend_cents: Option<u64>,
    #[serde(default)]
    pub used_spend_cents: Option<u64>,
    #[serde(default)]
    pub ip_whitelist: Option<Vec<String>>,
    /// RFC 3339, as Till sends it.
    #[serde(default)]
    pub created_at: Option<String>,
    /// RFC 3339; null until the key is first used.
    #[serde(default)]
    pub last_used_at: Option<String>,
    #[serde(default)]
    pub metadata: Option<Value>,
    /// Set only in the answer to a create.
    #[serde(default, deserialize_with = "secret")]
    pub scoped_key: Option<Secret>,
}

/// A string that may be null: null reads as empty.
fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// A string of Till's answer that is a key, held so that `Debug` redacts it.
fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(|s| Secret::new(s.as_bytes())))
}

impl Key {
    pub fn is_active(&self) -> bool {
        self.status == "active"
    }

    pub fn metadata_str(&self, field: &str) -> Option<&str> {
        self.metadata.as_ref()?.get(field)?.as_str()
    }
}

#[derive(Deserialize)]
struct KeyEnvelope {
    key: Key,
}

#[derive(Deserialize)]
struct KeysEnvelope {
    keys: Vec<Key>,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// Member names of Till's answers, which an error may name (see
/// [`json_error`]).
const FIELDS: [&str; 20] = [
    "key",
    "keys",
    "id",
    "provider",
    "status",
    "tenantId",
    "maxActivations",
    "usedActivations",
    "maxTokens",
    "usedTokens",
    "maxSpendCents",
    "usedSpendCents",
    "ipWhitelist",
    "createdAt",
    "lastUsedAt",
    "metadata",
    "scopedKey",
    "error",
    "code",
    "message",
];

/// A client for one Till deployment, authenticated with an admin key.
pub struct TillClient {
    base: String,
    /// `base` without user and password: what messages show.
    shown: String,
    admin_key: Secret,
    agent: ureq::Agent,
    backoff: Duration,
    secrets: Secrets,
}

impl std::fmt::Debug for TillClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TillClient")
            .field("base", &self.shown)
            .finish_non_exhaustive()
    }
}

impl TillClient {
    /// `base` like `https://api.till.ac`; `timeout` bounds each request.
    pub fn new(base: &str, admin_key: Secret, timeout: Duration) -> Result<TillClient, TillError> {
        let base = base.trim_end_matches('/').to_string();
        require_tls(&base, Purpose::Till).map_err(|e| TillError::Config(e.to_string()))?;
        if admin_key.expose().trim().is_empty() {
            return Err(TillError::Config(
                "TILL_ADMIN_KEY is empty: set it to a Till admin key (till_admin_…)".into(),
            ));
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            // A redirect could carry an upstream key to another host.
            .max_redirects(0)
            .user_agent(concat!("till-scan/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let secrets = Secrets::new();
        secrets.add(admin_key.expose());
        Ok(TillClient {
            shown: display_url(&base),
            base,
            admin_key,
            agent,
            backoff: Duration::from_millis(500),
            secrets,
        })
    }

    /// Shares the run's set of secrets: Till's answers are scrubbed of all
    /// of them, and the keys this client sends and mints join it.
    pub fn with_secrets(mut self, secrets: Secrets) -> TillClient {
        secrets.add(self.admin_key.expose());
        self.secrets = secrets;
        self
    }

    /// Shortens the wait between retries (tests).
    pub fn with_backoff(mut self, backoff: Duration) -> TillClient {
        self.backoff = backoff;
        self
    }

    /// The base URL without user and password, for messages and the PR.
    pub fn base_url(&self) -> &str {
        &self.shown
    }

    /// `POST /admin/keys`: mints a scoped key. The answer carries `scopedKey`.
    ///
    /// Till has no idempotency key, and a 5xx (or 429) may come after the
    /// key was minted. Before a retry, keys whose metadata holds every field
    /// of this request's metadata (which carries the run's id) are looked
    /// up and revoked, so that a retry never leaves a second key active.
    pub fn create_key(&self, new: &NewKey<'_>) -> Result<Key, TillError> {
        self.secrets.add(new.upstream_key.expose());
        let body = serde_json::to_string(new).map_err(|e| TillError::Config(e.to_string()))?;
        let text = self.call_with("POST", "/admin/keys", Some(&body), || {
            self.revoke_lost_creates(&new.metadata)
        })?;
        let key = self
            .decode::<KeyEnvelope>("POST", "/admin/keys", &text)?
            .key;
        match key.scoped_key.as_ref().map(Secret::expose) {
            Some(scoped) if !scoped.is_empty() => self.secrets.add_minted(scoped),
            _ => return Err(self.shape("POST", "/admin/keys", "no `scopedKey` in the new key")),
        }
        self.check_id(&key, "POST", "/admin/keys")?;
        Ok(key)
    }

    /// Revokes active keys minted with `metadata` (a create whose answer was
    /// an error). Fails if they cannot be looked up or revoked: retrying
    /// then could leave two keys active.
    fn revoke_lost_creates(&self, metadata: &Value) -> Result<(), TillError> {
        let Some(wanted) = metadata.as_object().filter(|m| !m.is_empty()) else {
            return Ok(());
        };
        for key in self.list_keys()? {
            let same = key.is_active()
                && key
                    .metadata
                    .as_ref()
                    .and_then(Value::as_object)
                    .is_some_and(|m| wanted.iter().all(|(k, v)| m.get(k) == Some(v)));
            if same {
                self.revoke_key(&key.id)?;
            }
        }
        Ok(())
    }

    /// `GET /admin/keys`.
    pub fn list_keys(&self) -> Result<Vec<Key>, TillError> {
        let text = self.call("GET", "/admin/keys", None)?;
        let keys = self
            .decode::<KeysEnvelope>("GET", "/admin/keys", &text)?
            .keys;
        for key in &keys {
            self.check_id(key, "GET", "/admin/keys")?;
        }
        Ok(keys)
    }

    /// Key ids are printed and go in the pull request: one that repeats a
    /// secret is refused.
    fn check_id(&self, key: &Key, method: &'static str, path: &str) -> Result<(), TillError> {
        if self.secrets.holds_theirs(&key.id) {
            return Err(self.shape(method, path, "a key's `id` repeats a secret"));
        }
        Ok(())
    }

    /// `DELETE /admin/keys/{id}`: revokes a key.
    pub fn revoke_key(&self, id: &str) -> Result<Key, TillError> {
        let path = format!("/admin/keys/{}", encode_segment(id));
        let text = self.call("DELETE", &path, None)?;
        Ok(self.decode::<KeyEnvelope>("DELETE", &path, &text)?.key)
    }

    fn call(
        &self,
        method: &'static str,
        path: &str,
        body: Option<&str>,
    ) -> Result<String, TillError> {
        self.call_with(method, path, body, || Ok(()))
    }

    /// Sends a request, retrying a 429 or 5xx answer after `before_retry`
    /// succeeds (if it fails, the answer is reported as it is).
    fn call_with(
        &self,
        method: &'static str,
        path: &str,
        body: Option<&str>,
        before_retry: impl Fn() -> Result<(), TillError>,
    ) -> Result<String, TillError> {
        let url = format!("{}{}", self.base, path);
        let mut attempt = 0;
        loop {
            let auth = format!("Bearer {}", self.admin_key.expose());
            let sent = match (method, body) {
                ("POST", Some(b)) => self
                    .agent
                    .post(&url)
                    .header("Authorization", &auth)
                    .header("Content-Type", "application/json")
                    .header("Accept", "application/json")
                    .send(b),
                ("DELETE", _) => self
                    .agent
                    .delete(&url)
                    .header("Authorization", &auth)
                    .header("Accept", "application/json")
                    .call(),
                _ => self
                    .agent
                    .get(&url)
                    .header("Authorization", &auth)
                    .header("Accept", "application/json")
                    .call(),
            };
            let mut response = match sent {
                Ok(r) => r,
                Err(e) => {
                    return Err(TillError::Transport {
                        url: self.shown.clone(),
                        method,
                        path: path.to_string(),
                        reason: self.transport_reason(&e),
                    })
                }
            };
            let status = response.status().as_u16();
            let text = response
                .body_mut()
                .read_to_string()
                .map_err(|e| TillError::Transport {
                    url: self.shown.clone(),
                    method,
                    path: path.to_string(),
                    reason: format!("cannot read the answer: {}", self.transport_reason(&e)),
                })?;
            if (200..300).contains(&status) {
                return Ok(text);
            }
            let transient = status == 429 || status >= 500;
            let mut error = self.status_error(method, path, status, &text);
            if transient && attempt < RETRIES {
                attempt += 1;
                let wait = retry_after(&response).unwrap_or(self.backoff * 2u32.pow(attempt - 1));
                std::thread::sleep(wait.min(Duration::from_secs(30)));
                match before_retry() {
                    Ok(()) => continue,
                    Err(e) => {
                        if let TillError::Status { message, .. } = &mut error {
                            message.push_str(&format!(
                                " (not retried: whether the request took effect could not be checked: {e})"
                            ));
                        }
                    }
                }
            }
            return Err(error);
        }
    }

    /// An error answer, every string of it scrubbed.
    fn status_error(&self, method: &'static str, path: &str, status: u16, text: &str) -> TillError {
        let (code, message) = match serde_json::from_str::<ErrorEnvelope>(text) {
            Ok(e) => (
                e.error.code.map(|c| self.secrets.clean(&c)),
                e.error
                    .message
                    .map_or_else(|| "(no message)".into(), |m| self.secrets.clean(&m)),
            ),
            Err(_) => (None, self.secrets.clean(text)),
        };
        TillError::Status {
            url: self.shown.clone(),
            method,
            path: path.to_string(),
            status,
            code,
            message,
        }
    }

    fn transport_reason(&self, e: &ureq::Error) -> String {
        let reason = describe_transport_error(e).replace(&self.base, &self.shown);
        self.secrets.clean(&reason)
    }

    fn decode<T: serde::de::DeserializeOwned>(
        &self,
        method: &'static str,
        path: &str,
        text: &str,
    ) -> Result<T, TillError> {
        serde_json::from_str(text)
            .map_err(|e| self.shape(method, path, &json_error(&e, Some(text), &FIELDS)))
    }

    fn shape(&self, method: &'static str, path: &str, reason: &str) -> TillError {
        TillError::Shape {
            url: self.shown.clone(),
            method,
            path: path.to_string(),
            reason: reason.to_string(),
        }
    }
}

fn encode_segment(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The `Retry-After` of an answer, when it is a number of seconds.
pub(crate) fn retry_after(response: &ureq::http::Response<ureq::Body>) -> Option<Duration> {
    let secs: u64 = response
        .headers()
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs))
}

fn describe_transport_error(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => "timed out".to_string(),
        ureq::Error::Io(io) => format!("{io}"),
        ureq::Error::HostNotFound => "host not found".to_string(),
        ureq::Error::ConnectionFailed => "connection failed".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_snake_case_and_omit_unset_limits() {
        let body = serde_json::to_value(NewKey {
            provider: "openai",
            upstream_key: &Secret::new(b"sk-x"),
            max_activations: 10,
            max_tokens: None,
            max_spend_cents: Some(500),
            ip_whitelist: &[],
            metadata: serde_json::json!({"rule": "r"}),
        })
        .unwrap();
        assert_eq!(
            body,
            serde_json::json!({"provider": "openai", "upstream_key": "sk-x",
                "max_activations": 10, "max_spend_cents": 500, "metadata": {"rule": "r"}})
        );
    }

    #[test]
    fn debug_of_a_request_or_a_minted_key_never_shows_the_key() {
        let upstream = Secret::new(b"sk-proj-upstream0123456789abcdefghij");
        let new = NewKey {
            provider: "openai",
            upstream_key: &upstream,
            max_activations: 10,
            max_tokens: Some(5),
            max_spend_cents: None,
            ip_whitelist: &["10.0.0.0/8".to_string()],
            metadata: serde_json::json!({"rule": "r"}),
        };
        let shown = format!("{new:?} {new:#?}");
        assert!(!shown.contains(upstream.expose()), "{shown}");
        assert!(shown.contains("openai"), "{shown}");
        // The body Till receives still carries it.
        assert!(serde_json::to_string(&new)
            .unwrap()
            .contains(upstream.expose()));

        let key: Key = serde_json::from_str(
            r#"{"id": "key_1", "provider": "openai", "status": "active",
                "scopedKey": "till_sk_lookup0123.encrypted0123456789"}"#,
        )
        .unwrap();
        let scoped = key.scoped_key.as_ref().unwrap();
        assert_eq!(scoped.expose(), "till_sk_lookup0123.encrypted0123456789");
        let shown = format!("{key:?} {key:#?}");
        assert!(!shown.contains(scoped.expose()), "{shown}");
        assert!(shown.contains("key_1"), "{shown}");

        let client = TillClient::new(
            "http://127.0.0.1:9",
            Secret::new(b"till_admin_0123456789abcdef"),
            Duration::from_secs(1),
        )
        .unwrap();
        let shown = format!("{client:?}");
        assert!(!shown.contains("till_admin_0123456789abcdef"), "{shown}");
    }

    #[test]
    fn keys_read_every_documented_field_and_tolerate_nulls() {
        let key: Key = serde_json::from_str(
            r#"{"id": "key_1", "tenantId": "t", "provider": "openai", "status": "active",
                "maxActivations": 10, "usedActivations": 3, "maxTokens": null,
                "usedTokens": 5, "maxSpendCents": 500, "usedSpendCents": 120,
                "ipWhitelist": null, "createdAt": "2025-01-01T00:00:00Z",
                "lastUsedAt": null, "metadata": {"source": "till-scan"}, "extra": 1}"#,
        )
        .unwrap();
        assert_eq!(key.used_activations, Some(3));
        assert_eq!(key.max_tokens, None);
        assert_eq!(key.used_spend_cents, Some(120));
        assert_eq!(key.created_at.as_deref(), Some("2025-01-01T00:00:00Z"));
        assert_eq!(key.last_used_at, None);
        assert_eq!(key.metadata_str("source"), Some("till-scan"));
        let bare: Key =
            serde_json::from_str(r#"{"id": "key_2", "provider": null, "status": null}"#).unwrap();
        assert_eq!(bare.status, "");
        assert!(!bare.is_active());
    }

    #[test]
    fn ids_are_path_encoded() {
        assert_eq!(encode_segment("key_1"), "key_1");
        assert_eq!(encode_segment("a/b c"), "a%2Fb%20c");
    }
}
