//! `--validate`: is a found key live? One read-only request per distinct
//! secret to its own provider's documented endpoint ([`checks`]), bounded
//! by a timeout, a concurrency cap and a retry budget for 429 and 5xx.
//!
//! A key goes only to the host its check names, over TLS, or to the base
//! URL the user configured for that provider (`[validate.base_url]`; plain
//! http only to this machine). No redirect is followed. Nothing here runs
//! unless the user asked for validation.

pub mod checks;
mod http;
mod sigv4;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{bail, Result};

use crate::finding::Finding;
use crate::rotate::endpoint::{require_tls, Purpose};
use checks::Check;

/// What a check concluded about a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The provider accepted it.
    Live,
    /// The provider refused it (revoked, expired, wrong).
    Dead,
    /// No answer that says either: no check for the rule, a timeout, a rate
    /// limit, a network failure, an unexpected status.
    Unknown,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Live => "live",
            Status::Dead => "dead",
            Status::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The result of validating one finding. `reason` never holds a secret: it
/// is made of status codes, check names and fixed phrases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    pub status: Status,
    /// The check that ran (`openai`), if any.
    pub check: Option<String>,
    /// Why: `HTTP 200`, `timed out after 10s`, `no check for this rule`…
    pub reason: String,
}

impl Validation {
    pub fn unknown(check: Option<&str>, reason: impl Into<String>) -> Validation {
        Validation {
            status: Status::Unknown,
            check: check.map(str::to_string),
            reason: reason.into(),
        }
    }

    /// `live (HTTP 200)`: how human output shows it.
    pub fn summary(&self) -> String {
        format!("{} ({})", self.status, self.reason)
    }
}

/// How validation runs (`[validate]` in the config).
#[derive(Debug, Clone)]
pub struct Options {
    /// Check name -> base URL to use instead of the provider's host.
    pub base_urls: BTreeMap<String, String>,
    /// Bounds each request, connection included.
    pub timeout: Duration,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Extra tries after a 429 or 5xx answer.
    pub retries: u32,
    /// The first wait before a retry (doubled each time) when the answer has
    /// no `Retry-After`.
    pub backoff: Duration,
    /// The longest wait for a retry; a `Retry-After` beyond it gives up.
    pub max_retry_wait: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            base_urls: BTreeMap::new(),
            timeout: Duration::from_secs(10),
            concurrency: 8,
            retries: 2,
            backoff: Duration::from_millis(500),
            max_retry_wait: Duration::from_secs(10),
        }
    }
}

/// The checks and the options of one run.
pub struct Validator {
    checks: Vec<Check>,
    options: Options,
    client: http::Client,
}

impl Validator {
    /// Checks the configured base URLs: each names a known check, and is
    /// https or http to this machine.
    pub fn new(options: Options) -> Result<Validator> {
        let checks = checks::builtin();
        for (name, url) in &options.base_urls {
            if !checks.iter().any(|c| &c.name == name) {
                let known: Vec<&str> = checks.iter().map(|c| c.name.as_str()).collect();
                bail!(
                    "[validate.base_url] names `{name}`, which has no check (known: {})",
                    known.join(", ")
                );
            }
            require_tls(url, Purpose::Validate)
                .map_err(|e| anyhow::anyhow!("[validate.base_url] {name}: {e}"))?;
        }
        if options.concurrency == 0 {
            bail!("[validate] concurrency must be at least 1");
        }
        let client = http::Client::new(&options);
        Ok(Validator {
            checks,
            options,
            client,
        })
    }

    /// The check for findings of `rule_id`.
    pub fn check_for(&self, rule_id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.covers(rule_id))
    }

    /// Validates every finding: one request per distinct (check, secret),
    /// at most `concurrency` at once. Each finding gets its result.
    pub fn validate(&self, findings: &mut [Finding]) {
        self.validate_where(findings, |_| true);
    }

    /// Validates the findings `pick` selects; the others keep no result.
    pub fn validate_where(&self, findings: &mut [Finding], pick: impl Fn(&Finding) -> bool) {
        // Distinct requests, and the findings each answers.
        let mut jobs: Vec<(&Check, usize)> = Vec::new();
        let mut job_of: HashMap<(&str, &str), usize> = HashMap::new();
        let mut assigned: Vec<Option<Result<usize, Validation>>> =
            Vec::with_capacity(findings.len());
        for (i, finding) in findings.iter().enumerate() {
            if !pick(finding) {
                assigned.push(None);
                continue;
            }
            let Some(check) = self.check_for(&finding.rule.id) else {
                assigned.push(Some(Err(Validation::unknown(
                    None,
                    "no check for this rule",
                ))));
                continue;
            };
            let key = (check.name.as_str(), finding.secret.expose());
            let job = *job_of.entry(key).or_insert_with(|| {
                jobs.push((check, i));
                jobs.len() - 1
            });
            assigned.push(Some(Ok(job)));
        }
        let results = self.run_jobs(&jobs, findings);
        for (finding, slot) in findings.iter_mut().zip(assigned) {
            finding.validation = slot.map(|slot| match slot {
                Ok(job) => results[job].clone(),
                Err(v) => v,
            });
        }
    }

    fn run_jobs(&self, jobs: &[(&Check, usize)], findings: &[Finding]) -> Vec<Validation> {
        let results: Mutex<Vec<Option<Validation>>> = Mutex::new(vec![None; jobs.len()]);
        let next = AtomicUsize::new(0);
        let workers = self.options.concurrency.min(jobs.len());
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| loop {
                    let j = next.fetch_add(1, Ordering::Relaxed);
                    let Some((check, finding)) = jobs.get(j) else {
                        break;
                    };
                    let result = self.run_one(check, &findings[*finding]);
                    results.lock().unwrap_or_else(|e| e.into_inner())[j] = Some(result);
                });
            }
        });
        results
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Validation::unknown(None, "not checked")))
            .collect()
    }

    fn run_one(&self, check: &Check, finding: &Finding) -> Validation {
        let base = self.options.base_urls.get(&check.name).map(String::as_str);
        let url = check.url_with_base(base);
        let request = match check.request(finding, url) {
            Ok(r) => r,
            Err(e) => return Validation::unknown(Some(&check.name), format!("cannot check: {e}")),
        };
        let request = match check.sign {
            Some(checks::Signing::AwsSigV4) => match sign_aws(request, finding) {
                Ok(r) => r,
                Err(e) => {
                    return Validation::unknown(Some(&check.name), format!("cannot check: {e}"))
                }
            },
            None => request,
        };
        let answer = self
            .client
            .send_with_ok(&request, check.ok_field.as_deref());
        let validation = http::judge(check, answer);
        // The reason is built from fixed phrases and numbers; a secret in
        // it would be a bug, and is never shown.
        if finding
            .values()
            .any(|s| !s.expose().is_empty() && validation.reason.contains(s.expose()))
        {
            return Validation::unknown(Some(&check.name), "the answer could not be shown");
        }
        validation
    }
}

/// Adds the SigV4 headers to an STS request, from the finding's parts.
fn sign_aws(mut request: checks::Request, finding: &Finding) -> Result<checks::Request> {
    let (Some(id), Some(secret)) = (finding.part("id"), finding.part("secret")) else {
        bail!("an AWS check needs the key id and the secret access key");
    };
    // The `Host` header as the client sends it: host, and port if any.
    let host = request
        .url
        .split_once("://")
        .and_then(|(_, rest)| rest.split(['/', '?', '#']).next())
        .map(|authority| authority.rsplit_once('@').map_or(authority, |(_, h)| h))
        .filter(|h| !h.is_empty())
        .ok_or_else(|| anyhow::anyhow!("no host in the check's URL"))?
        .to_string();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let amz_date = sigv4::amz_date(now);
    let content_type = request
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let path = request
        .url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_string()))
        .unwrap_or_else(|| "/".into());
    let body = request.body.clone().unwrap_or_default();
    let authorization = sigv4::authorization(
        &sigv4::SignedRequest {
            method: &request.method,
            host: &host,
            path: &path,
            content_type: &content_type,
            body: body.as_bytes(),
            region: "us-east-1",
            service: "sts",
            amz_date: &amz_date,
        },
        id.expose(),
        secret.expose(),
    );
    request.headers.push(("X-Amz-Date".into(), amz_date));
    request
        .headers
        .push(("Authorization".into(), authorization));
    Ok(request)
}
