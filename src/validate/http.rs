//! The transport of `--validate`: one request, bounded by a timeout,
//! retried on 429 and 5xx within a budget, never redirected; and the
//! verdict a check draws from the answer.

use std::time::Duration;

use super::checks::{Check, Request};
use super::{Options, Status, Validation};

/// What the provider answered, or why there is no answer. Never holds the
/// body beyond the one JSON member a check reads.
#[derive(Debug)]
pub enum Answer {
    Status {
        status: u16,
        /// The check's `ok_field`, when it asks for one: `Some(true)` when
        /// the JSON answer has it set to `true`.
        ok: Option<bool>,
        /// Tries it took (1 when not retried).
        tries: u32,
    },
    /// Retries used up on 429 / 5xx, or a `Retry-After` past the cap.
    GaveUp { status: u16, why: String },
    /// No answer: timeout, refused connection, DNS.
    Transport(String),
}

pub struct Client {
    /// For provider hosts: honours HTTPS_PROXY and friends.
    remote: ureq::Agent,
    /// For this machine (configured base URLs of tests and local proxies):
    /// never through a proxy.
    local: ureq::Agent,
    timeout: Duration,
    retries: u32,
    backoff: Duration,
    max_retry_wait: Duration,
}

impl Client {
    pub fn new(options: &Options) -> Client {
        let agent = |proxy: Option<ureq::Proxy>| -> ureq::Agent {
            ureq::Agent::config_builder()
                .timeout_global(Some(options.timeout))
                .http_status_as_error(false)
                // A redirect would carry the key to another host.
                .max_redirects(0)
                .proxy(proxy)
                .user_agent(concat!("till-scan/", env!("CARGO_PKG_VERSION")))
                .build()
                .into()
        };
        Client {
            remote: agent(ureq::Proxy::try_from_env()),
            local: agent(None),
            timeout: options.timeout,
            retries: options.retries,
            backoff: options.backoff,
            max_retry_wait: options.max_retry_wait,
        }
    }

    /// Sends `request`, retrying a 429 or 5xx answer after `Retry-After`
    /// (or a doubling backoff) while the budget lasts.
    pub fn send_with_ok(&self, request: &Request, ok_field: Option<&str>) -> Answer {
        let host = crate::rotate::endpoint::host_of(&request.url).unwrap_or_default();
        let agent = if crate::rotate::endpoint::is_loopback(&host) {
            &self.local
        } else {
            &self.remote
        };
        let mut tries = 0;
        loop {
            tries += 1;
            let sent = match request.method.as_str() {
                "POST" => {
                    let mut r = agent.post(&request.url);
                    for (k, v) in &request.headers {
                        r = r.header(k, v);
                    }
                    r.send(request.body.as_deref().unwrap_or(""))
                }
                _ => {
                    let mut r = agent.get(&request.url);
                    for (k, v) in &request.headers {
                        r = r.header(k, v);
                    }
                    r.call()
                }
            };
            let mut response = match sent {
                Ok(r) => r,
                Err(e) => return Answer::Transport(self.describe(&e)),
            };
            let status = response.status().as_u16();
            if status == 429 || status >= 500 {
                if tries > self.retries {
                    return Answer::GaveUp {
                        status,
                        why: format!("after {tries} tries"),
                    };
                }
                let wait = match crate::rotate::till::retry_after(&response) {
                    Some(wait) if wait > self.max_retry_wait => {
                        return Answer::GaveUp {
                            status,
                            why: format!(
                                "Retry-After {}s is past the {}s cap",
                                wait.as_secs(),
                                self.max_retry_wait.as_secs()
                            ),
                        }
                    }
                    Some(wait) => wait,
                    None => (self.backoff * 2u32.pow(tries - 1)).min(self.max_retry_wait),
                };
                std::thread::sleep(wait);
                continue;
            }
            let ok = ok_field.map(|field| {
                response
                    .body_mut()
                    .with_config()
                    .limit(64 * 1024)
                    .read_to_string()
                    .ok()
                    .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
                    .and_then(|json| json.get(field).and_then(serde_json::Value::as_bool))
                    .unwrap_or(false)
            });
            return Answer::Status { status, ok, tries };
        }
    }

    fn describe(&self, e: &ureq::Error) -> String {
        match e {
            ureq::Error::Timeout(_) => format!("timed out after {}s", self.timeout.as_secs_f32()),
            ureq::Error::HostNotFound => "host not found (network off?)".into(),
            ureq::Error::ConnectionFailed => "connection failed (network off?)".into(),
            ureq::Error::Io(io) => match io.kind() {
                std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
                std::io::ErrorKind::TimedOut => {
                    format!("timed out after {}s", self.timeout.as_secs_f32())
                }
                _ => format!("network error: {io}"),
            },
            ureq::Error::Tls(_) | ureq::Error::Rustls(_) => "TLS error".into(),
            _ => "request failed".into(),
        }
    }
}

/// The verdict of `check` on `answer`.
pub fn judge(check: &Check, answer: Answer) -> Validation {
    let name = Some(check.name.clone());
    match answer {
        Answer::Status { status, ok, tries } => {
            let retried = if tries > 1 {
                format!(", after {tries} tries")
            } else {
                String::new()
            };
            let (status_of, reason) = if check.live.contains(&status) {
                match ok {
                    Some(false) => (
                        Status::Dead,
                        format!(
                            "HTTP {status}, `{}` is not true",
                            check.ok_field.as_deref().unwrap_or("")
                        ),
                    ),
                    _ => (Status::Live, format!("HTTP {status}")),
                }
            } else if check.dead.contains(&status) {
                (Status::Dead, format!("HTTP {status}"))
            } else {
                (Status::Unknown, format!("unexpected HTTP {status}"))
            };
            Validation {
                status: status_of,
                check: name,
                reason: format!("{reason}{retried}"),
            }
        }
        Answer::GaveUp { status, why } => Validation {
            status: Status::Unknown,
            check: name,
            reason: if status == 429 {
                format!("rate limited (HTTP 429), {why}")
            } else {
                format!("provider error (HTTP {status}), {why}")
            },
        },
        Answer::Transport(why) => Validation {
            status: Status::Unknown,
            check: name,
            reason: why,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str) -> Check {
        super::super::checks::builtin()
            .into_iter()
            .find(|c| c.name == name)
            .unwrap()
    }

    fn status(status: u16, ok: Option<bool>, tries: u32) -> Answer {
        Answer::Status { status, ok, tries }
    }

    #[test]
    fn statuses_map_to_live_dead_or_unknown() {
        let openai = check("openai");
        let v = judge(&openai, status(200, None, 1));
        assert_eq!((v.status, v.reason.as_str()), (Status::Live, "HTTP 200"));
        assert_eq!(v.check.as_deref(), Some("openai"));
        let v = judge(&openai, status(401, None, 1));
        assert_eq!((v.status, v.reason.as_str()), (Status::Dead, "HTTP 401"));
        let v = judge(&openai, status(403, None, 2));
        assert_eq!(
            (v.status, v.reason.as_str()),
            (Status::Unknown, "unexpected HTTP 403, after 2 tries")
        );
        // Stripe: a restricted key refused the balance is still a key.
        assert_eq!(
            judge(&check("stripe"), status(403, None, 1)).status,
            Status::Live
        );
    }

    #[test]
    fn slack_needs_ok_true_in_a_200_answer() {
        let slack = check("slack");
        assert_eq!(
            judge(&slack, status(200, Some(true), 1)).status,
            Status::Live
        );
        let v = judge(&slack, status(200, Some(false), 1));
        assert_eq!(
            (v.status, v.reason.as_str()),
            (Status::Dead, "HTTP 200, `ok` is not true")
        );
    }

    #[test]
    fn no_answer_is_unknown_with_the_reason() {
        let groq = check("groq");
        let v = judge(
            &groq,
            Answer::GaveUp {
                status: 429,
                why: "after 3 tries".into(),
            },
        );
        assert_eq!(v.status, Status::Unknown);
        assert_eq!(v.reason, "rate limited (HTTP 429), after 3 tries");
        let v = judge(&groq, Answer::Transport("timed out after 10s".into()));
        assert_eq!(
            (v.status, v.reason.as_str()),
            (Status::Unknown, "timed out after 10s")
        );
    }
}
