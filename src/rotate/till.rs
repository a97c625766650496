//! The Till admin API client: mints scoped keys that wrap an upstream key,
//! lists earlier ones and revokes them. The contract is
//! `../shared/till-api.md`: snake_case requests, camelCase responses and
//! `{"error": {"code", "message"}}` errors.
//!
//! Safety: the admin key and upstream keys go only to the configured base URL
//! (redirects are not followed, cleartext HTTP only to a loopback host), and
//! no error or log line ever contains either.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

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

/// The body of `POST /admin/keys`.
#[derive(Debug, Serialize)]
pub struct NewKey<'a> {
    pub provider: &'a str,
    pub upstream_key: &'a str,
    pub max_activations: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_spend_cents: Option<u64>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub ip_whitelist: &'a [String],
    pub metadata: Value,
}

/// A Till key as the API returns it (camelCase). Unknown fields are ignored.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Key {
    pub id: String,
    pub provider: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub max_activations: Option<u64>,
    #[serde(default)]
    pub max_tokens: Option<u64>,
    #[serde(default)]
    pub max_spend_cents: Option<u64>,
    #[serde(default)]
    pub metadata: Option<Value>,
    /// Set only in the answer to a create.
    #[serde(default)]
    pub scoped_key: Option<String>,
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

/// A client for one Till deployment, authenticated with an admin key.
pub struct TillClient {
    base: String,
    admin_key: String,
    agent: ureq::Agent,
    backoff: Duration,
}

impl std::fmt::Debug for TillClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TillClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl TillClient {
    /// `base` like `https://api.till.ac`; `timeout` bounds each request.
    pub fn new(base: &str, admin_key: String, timeout: Duration) -> Result<TillClient, TillError> {
        let base = base.trim_end_matches('/').to_string();
        check_base_url(&base)?;
        if admin_key.trim().is_empty() {
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
        Ok(TillClient {
            base,
            admin_key,
            agent,
            backoff: Duration::from_millis(500),
        })
    }

    /// Shortens the wait between retries (tests).
    pub fn with_backoff(mut self, backoff: Duration) -> TillClient {
        self.backoff = backoff;
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// `POST /admin/keys`: mints a scoped key. The answer carries `scopedKey`.
    pub fn create_key(&self, new: &NewKey<'_>) -> Result<Key, TillError> {
        let body = serde_json::to_string(new).map_err(|e| TillError::Config(e.to_string()))?;
        let text = self.call("POST", "/admin/keys", Some(&body))?;
        let key = self
            .decode::<KeyEnvelope>("POST", "/admin/keys", &text)?
            .key;
        if key.scoped_key.as_deref().is_none_or(str::is_empty) {
            return Err(self.shape("POST", "/admin/keys", "no `scopedKey` in the new key"));
        }
        Ok(key)
    }

    /// `GET /admin/keys`.
    pub fn list_keys(&self) -> Result<Vec<Key>, TillError> {
        let text = self.call("GET", "/admin/keys", None)?;
        Ok(self
            .decode::<KeysEnvelope>("GET", "/admin/keys", &text)?
            .keys)
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
        let url = format!("{}{}", self.base, path);
        let mut attempt = 0;
        loop {
            let auth = format!("Bearer {}", self.admin_key);
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
                        url: self.base.clone(),
                        method,
                        path: path.to_string(),
                        reason: describe_transport_error(&e),
                    })
                }
            };
            let status = response.status().as_u16();
            let text = response
                .body_mut()
                .read_to_string()
                .map_err(|e| TillError::Transport {
                    url: self.base.clone(),
                    method,
                    path: path.to_string(),
                    reason: format!("cannot read the answer: {}", describe_transport_error(&e)),
                })?;
            if (200..300).contains(&status) {
                return Ok(text);
            }
            let transient = status == 429 || status >= 500;
            if transient && attempt < RETRIES {
                attempt += 1;
                let wait = retry_after(&response).unwrap_or(self.backoff * 2u32.pow(attempt - 1));
                std::thread::sleep(wait.min(Duration::from_secs(30)));
                continue;
            }
            let (code, message) = match serde_json::from_str::<ErrorEnvelope>(&text) {
                Ok(e) => (
                    e.error.code,
                    e.error.message.unwrap_or_else(|| "(no message)".into()),
                ),
                Err(_) => (None, summarize_body(&text)),
            };
            return Err(TillError::Status {
                url: self.base.clone(),
                method,
                path: path.to_string(),
                status,
                code,
                message: scrub(&message, &[&self.admin_key], body),
            });
        }
    }

    fn decode<T: serde::de::DeserializeOwned>(
        &self,
        method: &'static str,
        path: &str,
        text: &str,
    ) -> Result<T, TillError> {
        serde_json::from_str(text).map_err(|e| self.shape(method, path, &e.to_string()))
    }

    fn shape(&self, method: &'static str, path: &str, reason: &str) -> TillError {
        TillError::Shape {
            url: self.base.clone(),
            method,
            path: path.to_string(),
            reason: reason.to_string(),
        }
    }
}

/// Refuses URLs that would send keys in the clear to another machine.
fn check_base_url(base: &str) -> Result<(), TillError> {
    let Some((scheme, rest)) = base.split_once("://") else {
        return Err(TillError::Config(format!(
            "Till URL `{base}` is not an http(s) URL (e.g. {DEFAULT_TILL_URL})"
        )));
    };
    let host = rest
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("")
        .rsplit('@')
        .next()
        .unwrap_or("");
    let hostname = if let Some(stripped) = host.strip_prefix('[') {
        stripped.split(']').next().unwrap_or("")
    } else {
        host.split(':').next().unwrap_or("")
    };
    match scheme {
        "https" if !hostname.is_empty() => Ok(()),
        "http" if is_loopback(hostname) => Ok(()),
        "http" => Err(TillError::Config(format!(
            "Till URL `{base}` is plain http to a non-loopback host: keys would travel in the clear; use https"
        ))),
        _ => Err(TillError::Config(format!(
            "Till URL `{base}` is not an http(s) URL (e.g. {DEFAULT_TILL_URL})"
        ))),
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
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

fn retry_after(response: &ureq::http::Response<ureq::Body>) -> Option<Duration> {
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

/// A non-JSON error body, shortened to something printable.
fn summarize_body(text: &str) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.is_empty() {
        return "(empty answer)".into();
    }
    let mut cut: String = one_line.chars().take(200).collect();
    if cut.len() < one_line.len() {
        cut.push('…');
    }
    cut
}

/// Removes the admin key, and any upstream key of the request, should a
/// server echo them in an error message.
fn scrub(message: &str, keys: &[&str], body: Option<&str>) -> String {
    let mut out = message.to_string();
    for k in keys.iter().filter(|k| k.len() >= 8) {
        out = out.replace(*k, "[redacted]");
    }
    if let Some(upstream) = body
        .and_then(|b| serde_json::from_str::<Value>(b).ok())
        .and_then(|v| v.get("upstream_key")?.as_str().map(str::to_string))
        .filter(|k| k.len() >= 8)
    {
        out = out.replace(&upstream, "[redacted]");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_must_not_leak_keys_in_the_clear() {
        assert!(check_base_url("https://api.till.ac").is_ok());
        assert!(check_base_url("http://127.0.0.1:8080").is_ok());
        assert!(check_base_url("http://localhost:1").is_ok());
        assert!(check_base_url("http://[::1]:9").is_ok());
        assert!(check_base_url("http://api.till.ac").is_err());
        assert!(check_base_url("http://127.0.0.1.evil.example").is_err());
        assert!(check_base_url("ftp://x").is_err());
        assert!(check_base_url("api.till.ac").is_err());
    }

    #[test]
    fn requests_are_snake_case_and_omit_unset_limits() {
        let body = serde_json::to_value(NewKey {
            provider: "openai",
            upstream_key: "sk-x",
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
    fn errors_never_echo_keys() {
        let m = scrub(
            "bad key till_admin_abcdef123 for sk-proj-abcdefgh123",
            &["till_admin_abcdef123"],
            Some(r#"{"upstream_key":"sk-proj-abcdefgh123"}"#),
        );
        assert_eq!(m, "bad key [redacted] for [redacted]");
    }

    #[test]
    fn ids_are_path_encoded() {
        assert_eq!(encode_segment("key_1"), "key_1");
        assert_eq!(encode_segment("a/b c"), "a%2Fb%20c");
    }
}
