//! Rotation: findings of keys Till can proxy become Till scoped keys, put in
//! place of the real keys on a new branch, pushed, and proposed in a pull
//! request that says what else the owner must do.
//!
//! The order is chosen so that nothing is half-done: everything that can be
//! checked without minting a key (the plan, the tree, the remote, the GitHub
//! repository, an existing PR) is checked first; then keys are minted; then
//! the local commit, the push and the PR. A failure after minting revokes the
//! keys minted in this run and undoes every local and remote change: each of
//! those steps (`steps.rs`) records its undo in one [`undo::UndoLog`].
//!
//! What leaves the machine is decided by [`endpoint`] before any connection;
//! what comes back from a server is scrubbed by [`scrub`] before it is shown,
//! and every error and log line is scrubbed of the run's secrets once more.

mod check;
pub mod endpoint;
pub mod github;
pub mod http_transport;
pub mod plan;
pub mod pr;
pub mod providers;
pub mod rewrite;
pub mod scrub;
mod steps;
pub mod till;
pub mod undo;
pub mod workspace;

use std::time::Duration;

use anyhow::{anyhow, Result};
use serde::Serialize;

use crate::finding::Secret;

pub use self::check::{connect_till, repository_names};
use self::endpoint::display_url;
use self::plan::{Manual, Plan, Spot};
use self::scrub::Secrets;
use self::workspace::Workspace;

/// Limits every minted key carries.
#[derive(Debug, Clone, Serialize)]
pub struct Limits {
    pub max_activations: u64,
    pub max_tokens: Option<u64>,
    pub max_spend_cents: Option<u64>,
    pub ip_whitelist: Vec<String>,
}

/// Everything a rotation needs besides the findings. `Debug` shows neither
/// the admin key, nor the token, nor a URL's user and password.
#[derive(Clone)]
pub struct RotateOptions {
    pub till_url: String,
    /// From `TILL_ADMIN_KEY` only.
    pub admin_key: Option<Secret>,
    pub limits: Limits,
    pub remote: String,
    /// `owner/name`, from `--github-repo` or `GITHUB_REPOSITORY`.
    pub github_repo: Option<String>,
    pub github_api: String,
    /// The host of remote URLs that are GitHub (github.com, or GHE's).
    pub github_host: String,
    pub github_token: Option<Secret>,
    pub no_pr: bool,
    pub dry_run: bool,
    pub allow_dirty: bool,
    pub timeout: Duration,
    pub retry_backoff: Duration,
}

impl std::fmt::Debug for RotateOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotateOptions")
            .field("till_url", &display_url(&self.till_url))
            .field("admin_key", &self.admin_key)
            .field("limits", &self.limits)
            .field("remote", &self.remote)
            .field("github_repo", &self.github_repo)
            .field("github_api", &display_url(&self.github_api))
            .field("github_host", &self.github_host)
            .field("github_token", &self.github_token)
            .field("no_pr", &self.no_pr)
            .field("dry_run", &self.dry_run)
            .field("allow_dirty", &self.allow_dirty)
            .field("timeout", &self.timeout)
            .field("retry_backoff", &self.retry_backoff)
            .finish()
    }
}

/// One key, rotated or (in a dry run) to be rotated.
#[derive(Debug, Clone, Serialize)]
pub struct RotatedKey {
    pub fingerprint: String,
    pub rule_id: String,
    pub provider: String,
    pub till_provider: String,
    /// Redacted.
    pub secret: String,
    pub till_key_id: Option<String>,
    pub limits: Limits,
    pub locations: Vec<Spot>,
    /// Active keys minted by till-scan earlier for the same secret.
    pub earlier_keys: Vec<String>,
    /// What the provider said when the key was checked before rotating
    /// (`live (HTTP 200)`, `unknown (timed out after 10s)`); null when not
    /// checked (`--no-validate`, `--dry-run`).
    pub validation: Option<String>,
}

/// What a rotation did (or, in a dry run, would do).
#[derive(Debug, Clone, Serialize)]
pub struct RotationReport {
    pub version: u32,
    pub dry_run: bool,
    pub branch: Option<String>,
    pub commit: Option<String>,
    pub pr_url: Option<String>,
    /// The pull request for these secrets was already open: nothing minted.
    pub already_open: bool,
    pub rotations: Vec<RotatedKey>,
    pub manual: Vec<Manual>,
    /// Keys their provider refused when checked: not rotated; the code
    /// should drop them.
    pub dead: Vec<Manual>,
    /// Tracked binary files that contain a rotated secret and were left alone.
    pub binary_files_skipped: Vec<String>,
    /// In a dry run, why the real run would stop before minting anything
    /// (uncommitted changes without --allow-dirty); null otherwise.
    pub would_refuse: Option<String>,
}

impl RotationReport {
    fn new(plan: &Plan, opts: &RotateOptions) -> RotationReport {
        RotationReport {
            version: 1,
            dry_run: opts.dry_run,
            branch: (!plan.rotations.is_empty()).then(|| plan.branch()),
            commit: None,
            pr_url: None,
            already_open: false,
            rotations: plan
                .rotations
                .iter()
                .map(|r| RotatedKey {
                    fingerprint: r.fingerprint.clone(),
                    rule_id: r.rule_id.clone(),
                    provider: r.provider.clone(),
                    till_provider: r.till_provider.clone(),
                    secret: r.secret.redacted(),
                    till_key_id: None,
                    limits: opts.limits.clone(),
                    locations: r.spots.clone(),
                    earlier_keys: Vec::new(),
                    validation: r.validation.clone(),
                })
                .collect(),
            manual: plan.manual.clone(),
            dead: plan.dead.clone(),
            binary_files_skipped: Vec::new(),
            would_refuse: None,
        }
    }
}

/// Progress lines for standard error; never a secret.
pub type Log<'a> = &'a mut dyn FnMut(&str);

/// Runs the rotation of `plan` in `ws`. A dry run contacts nothing.
pub fn run(
    ws: &Workspace,
    plan: &Plan,
    opts: &RotateOptions,
    log: Log<'_>,
) -> Result<RotationReport> {
    let mut report = RotationReport::new(plan, opts);
    if opts.dry_run && !plan.rotations.is_empty() && !opts.allow_dirty {
        // What the real run checks first, locally: a dry run must not
        // promise a rotation the real run refuses.
        let dirty = ws.dirty_paths()?;
        if !dirty.is_empty() {
            report.would_refuse = Some(check::dirty_message(&dirty));
        }
    }
    if plan.rotations.is_empty() || opts.dry_run {
        return Ok(report);
    }
    let secrets = Secrets::new();
    for r in &plan.rotations {
        secrets.add(r.secret.expose());
    }
    for s in [&opts.admin_key, &opts.github_token].into_iter().flatten() {
        secrets.add(s.expose());
    }
    for url in [&opts.till_url, &opts.github_api] {
        add_userinfo(&secrets, url);
    }
    if let Ok(url) = ws.remote_url(&opts.remote) {
        add_userinfo(&secrets, &url);
    }
    // Belt and braces: the clients scrub what servers say, and here every
    // line and error is scrubbed of the secrets known by now.
    let mut scrubbed_log = |line: &str| log(&secrets.scrub_known(line));
    steps::rotate(ws, plan, opts, report, &secrets, &mut scrubbed_log)
        .map_err(|e| anyhow!("{}", secrets.scrub_known(&format!("{e:#}"))))
}

/// The password (and the whole user info) of a URL, as secrets.
fn add_userinfo(secrets: &Secrets, url: &str) {
    let Some((_, rest)) = url.split_once("://") else {
        return;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if let Some((userinfo, _)) = authority.rsplit_once('@') {
        secrets.add(userinfo);
        if let Some((_, password)) = userinfo.split_once(':') {
            secrets.add(password);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_the_options_shows_no_key_token_or_password() {
        let opts = RotateOptions {
            till_url: "https://till-user:hunter22-till@till.example".into(),
            admin_key: Some(Secret::new(b"till_admin_0123456789abcdefghij")),
            limits: Limits {
                max_activations: 1,
                max_tokens: None,
                max_spend_cents: None,
                ip_whitelist: Vec::new(),
            },
            remote: "origin".into(),
            github_repo: Some("acme/app".into()),
            github_api: "https://gh-user:hunter22-api@api.github.com".into(),
            github_host: "github.com".into(),
            github_token: Some(Secret::new(b"ghs_0123456789abcdefghijklmnop")),
            no_pr: false,
            dry_run: false,
            allow_dirty: false,
            timeout: Duration::from_secs(1),
            retry_backoff: Duration::from_millis(1),
        };
        let shown = format!("{opts:?} {opts:#?}");
        for secret in [
            "till_admin_0123456789abcdefghij",
            "ghs_0123456789abcdefghijklmnop",
            "hunter22",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("https://till.example"), "{shown}");
        assert!(shown.contains("acme/app"), "{shown}");
    }
}
