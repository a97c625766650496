//! Rotation: findings of keys Till can proxy become Till scoped keys, put in
//! place of the real keys on a new branch, pushed, and proposed in a pull
//! request that says what else the owner must do.
//!
//! The order is chosen so that nothing is half-done: everything that can be
//! checked without minting a key (the plan, the tree, the remote, the GitHub
//! repository, an existing PR) is checked first; then keys are minted; then
//! the local commit, the push and the PR. A failure after minting revokes the
//! keys minted in this run and undoes every local and remote change.
//!
//! What leaves the machine is decided by [`endpoint`] before any connection;
//! what comes back from a server is scrubbed by [`scrub`] before it is shown,
//! and every error and log line is scrubbed of the run's secrets once more.

pub mod endpoint;
pub mod github;
pub mod http_transport;
pub mod plan;
pub mod pr;
pub mod providers;
pub mod rewrite;
pub mod scrub;
pub mod till;
pub mod workspace;

use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use serde::Serialize;

use crate::finding::Secret;

use self::endpoint::{check_endpoint, display_url, is_network_url, GitHubHosts, Purpose};
use self::github::{GitHub, RepoName};
use self::plan::{Manual, Plan, Spot};
use self::rewrite::Replacer;
use self::scrub::Secrets;
use self::till::{NewKey, TillClient};
use self::workspace::{LocalChange, Workspace};

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
    /// Tracked binary files that contain a rotated secret and were left alone.
    pub binary_files_skipped: Vec<String>,
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
                })
                .collect(),
            manual: plan.manual.clone(),
            binary_files_skipped: Vec::new(),
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
    let report = RotationReport::new(plan, opts);
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
    rotate(ws, plan, opts, report, &secrets, &mut scrubbed_log)
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

fn rotate(
    ws: &Workspace,
    plan: &Plan,
    opts: &RotateOptions,
    mut report: RotationReport,
    secrets: &Secrets,
    log: Log<'_>,
) -> Result<RotationReport> {
    let branch = plan.branch();

    // 1. Everything that can fail before a key is minted.
    ws.check_state()?;
    if !opts.allow_dirty {
        let dirty = ws.dirty_paths()?;
        if !dirty.is_empty() {
            bail!(
                "the work tree has uncommitted changes ({}{}); commit or stash them, or pass --allow-dirty (then only the rotated files are touched, and your edits in them are kept out of the commit)",
                dirty.iter().take(5).cloned().collect::<Vec<_>>().join(", "),
                if dirty.len() > 5 { ", …" } else { "" }
            );
        }
    }
    let admin_key = opts
        .admin_key
        .clone()
        .filter(|k| !k.expose().trim().is_empty())
        .ok_or_else(|| anyhow!("TILL_ADMIN_KEY is not set: export your Till admin key (till_admin_…) in the environment; till-scan never takes it on the command line"))?;
    let pairs: Vec<(&[u8], &[u8])> = plan
        .rotations
        .iter()
        .map(|r| (r.secret.expose().as_bytes(), &b""[..]))
        .collect();
    let finder = Replacer::new(&pairs);
    let tracked = ws.tracked_files()?;
    // Before anything is contacted: the Till URL must be https (or this
    // machine).
    let till = TillClient::new(&opts.till_url, admin_key, opts.timeout)?
        .with_backoff(opts.retry_backoff)
        .with_secrets(secrets.clone());

    let mut remote_target: Option<(String, Option<String>)> = None;
    let mut github: Option<(GitHub, String)> = None;
    if !opts.no_pr {
        let url = ws.remote_url(&opts.remote)?;
        let repo = resolve_repo(opts, &url)?;
        let token = opts
            .github_token
            .clone()
            .filter(|t| !t.expose().is_empty())
            .ok_or_else(|| anyhow!("GITHUB_TOKEN is not set: the pull request needs a token with contents and pull-requests write access (or pass --no-pr to stop after the local commit)"))?;
        // libgit2 here speaks https and local paths; an ssh remote of a
        // GitHub repository is pushed to over https with the token.
        let push_url = if is_ssh_url(&url) {
            Some(format!("https://{}/{}.git", opts.github_host, repo))
        } else {
            None
        };
        // The token goes in the push and to the API: both must be GitHub,
        // over TLS. Checked from the URLs alone, before any connection.
        let hosts = GitHubHosts::new(&opts.github_host, &opts.github_api);
        check_endpoint(&opts.github_api, Purpose::GitHubApi, &hosts)?;
        let target = push_url.as_deref().unwrap_or(&url);
        if is_network_url(target) {
            check_endpoint(target, Purpose::Push, &hosts).map_err(|e| {
                anyhow!(
                    "remote `{}`: {e}; nothing was minted or pushed",
                    opts.remote
                )
            })?;
        }
        if let Some(commit) = ws.unpublished_commit_with_secret(&opts.remote, &finder)? {
            bail!(
                "commit {} adds one of these keys and is not on `{}` yet: pushing the rotation branch would publish the key. It has not leaked through this remote: remove it from your local commits (git rebase -i / git commit --amend) instead of rotating, or push your branch first if it is already public elsewhere",
                &commit[..12.min(commit.len())],
                opts.remote
            );
        }
        let gh = GitHub::new(&opts.github_api, token, repo, secrets.clone())?;
        if let Some(pr) = gh.open_pull_request(&branch)? {
            log(&format!(
                "pull request #{} for these secrets is already open: {} (nothing minted)",
                pr.number, pr.url
            ));
            report.pr_url = Some(pr.url);
            report.already_open = true;
            return Ok(report);
        }
        let base = gh.default_branch()?;
        remote_target = Some((opts.remote.clone(), push_url));
        github = Some((gh, base));
    }

    if ws.local_branch_exists(&branch) {
        bail!("branch {branch} already exists here: these secrets were rotated before (push it, or delete it with `git branch -D {branch}` to start over); nothing was minted");
    }
    let run_id = run_id();
    let repository = github
        .as_ref()
        .map(|(gh, _)| gh.repo().to_string())
        .or_else(|| opts.github_repo.clone())
        .unwrap_or_else(|| {
            ws.workdir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        });

    // Earlier keys for the same secrets (a re-run without an open PR).
    let earlier = till.list_keys()?;
    for (key, rotation) in report.rotations.iter_mut().zip(&plan.rotations) {
        key.earlier_keys = earlier
            .iter()
            .filter(|k| {
                k.is_active()
                    && k.metadata_str("source") == Some("till-scan")
                    && k.metadata_str("fingerprint") == Some(rotation.fingerprint.as_str())
            })
            .map(|k| k.id.clone())
            .collect();
    }

    // 2. Mint.
    let mut minted: Vec<(String, Secret)> = Vec::new(); // (id, scoped key)
    for rotation in &plan.rotations {
        let first = &rotation.spots[0];
        let metadata = serde_json::json!({
            "name": format!("till-scan: {} in {}/{}", rotation.rule_id, repository, first.path),
            "source": "till-scan",
            "till_scan_version": env!("CARGO_PKG_VERSION"),
            "repository": repository,
            "path": first.path,
            "line": first.line,
            "paths": rotation.spots.iter().map(|s| s.path.clone()).collect::<std::collections::BTreeSet<_>>(),
            "rule": rotation.rule_id,
            "fingerprint": rotation.fingerprint,
            "branch": branch,
            "run_id": run_id,
        });
        let new = NewKey {
            provider: &rotation.till_provider,
            upstream_key: &rotation.secret,
            max_activations: opts.limits.max_activations,
            max_tokens: opts.limits.max_tokens,
            max_spend_cents: opts.limits.max_spend_cents,
            ip_whitelist: &opts.limits.ip_whitelist,
            metadata,
        };
        match till.create_key(&new) {
            Ok(key) => {
                log(&format!(
                    "minted Till key {} for {} ({})",
                    key.id, rotation.rule_id, first
                ));
                let scoped = key.scoped_key.clone().unwrap_or_else(|| Secret::new(b""));
                minted.push((key.id.clone(), scoped));
            }
            Err(e) => {
                let undo = revoke_all(&till, &minted, &run_id);
                return Err(failure(
                    anyhow!(e).context(format!(
                        "minting a Till key for {} ({first}) failed",
                        rotation.rule_id
                    )),
                    undo,
                ));
            }
        }
    }
    for (key, (id, _)) in report.rotations.iter_mut().zip(&minted) {
        key.till_key_id = Some(id.clone());
    }

    // 3. Local commit on the branch, then push and PR; undo on failure.
    let pairs: Vec<(&[u8], &[u8])> = plan
        .rotations
        .iter()
        .zip(&minted)
        .map(|(r, (_, scoped))| (r.secret.expose().as_bytes(), scoped.expose().as_bytes()))
        .collect();
    let replacer = Replacer::new(&pairs);
    let (rewrites, binary) = ws.plan_rewrites(&tracked, &replacer);
    report.binary_files_skipped = binary;
    let mut local = LocalChange::new(ws);
    let outcome = (|| -> Result<()> {
        if rewrites.is_empty() {
            bail!("none of the keys is in the work tree any more (edited since the scan?); nothing to commit");
        }
        let commit = local.apply(
            &rewrites,
            &replacer,
            &branch,
            &pr::commit_message(&report.rotations),
        )?;
        report.commit = Some(commit.to_string());
        log(&format!(
            "committed {} file(s) on branch {branch} ({})",
            rewrites.len(),
            &commit.to_string()[..12]
        ));
        Ok(())
    })();
    if let Err(e) = outcome {
        let mut undo = local.rollback();
        undo.extend(revoke_all(&till, &minted, &run_id));
        return Err(failure(e, undo));
    }
    let Some((gh, base)) = github else {
        return Ok(report);
    };
    let (remote, push_url) = remote_target.expect("set with github");
    let token = opts.github_token.as_ref();
    if let Err(e) = ws.push(&remote, push_url.as_deref(), &branch, token) {
        let mut undo = local.rollback();
        undo.extend(revoke_all(&till, &minted, &run_id));
        return Err(failure(e, undo));
    }
    log(&format!("pushed {branch} to {remote}"));
    let body = pr::body(&report.rotations, &report.manual, till.base_url());
    match gh.create_pull_request(&pr::title(&report.rotations), &branch, &base, &body) {
        Ok(pr) => {
            log(&format!("opened pull request #{}: {}", pr.number, pr.url));
            report.pr_url = Some(pr.url);
            Ok(report)
        }
        Err(e) => {
            let mut undo = Vec::new();
            if let Err(d) = ws.delete_remote_branch(&remote, push_url.as_deref(), &branch, token) {
                undo.push(d.to_string());
            }
            undo.extend(local.rollback());
            undo.extend(revoke_all(&till, &minted, &run_id));
            Err(failure(anyhow!(e), undo))
        }
    }
}

/// The GitHub repository: `--github-repo`, `GITHUB_REPOSITORY`, else the
/// remote's URL.
fn resolve_repo(opts: &RotateOptions, remote_url: &str) -> Result<RepoName> {
    if let Some(text) = &opts.github_repo {
        return RepoName::parse(text)
            .ok_or_else(|| anyhow!("`{text}` is not a GitHub repository name (OWNER/NAME)"));
    }
    RepoName::from_remote_url(remote_url, &opts.github_host).ok_or_else(|| {
        anyhow!(
            "remote `{}` ({}) is not a {} repository: pass --github-repo OWNER/NAME (or set GITHUB_REPOSITORY), or use --no-pr",
            opts.remote,
            display_url(remote_url),
            opts.github_host
        )
    })
}

fn is_ssh_url(url: &str) -> bool {
    url.starts_with("ssh://") || (!url.contains("://") && url.contains('@') && url.contains(':'))
}

/// Revokes the keys minted in this run, including any whose create answer
/// was lost (found by this run's id in their metadata). Returns what could
/// not be revoked.
fn revoke_all(till: &TillClient, minted: &[(String, Secret)], run_id: &str) -> Vec<String> {
    let mut ids: Vec<String> = minted.iter().map(|(id, _)| id.clone()).collect();
    if let Ok(keys) = till.list_keys() {
        for k in keys {
            if k.is_active() && k.metadata_str("run_id") == Some(run_id) && !ids.contains(&k.id) {
                ids.push(k.id);
            }
        }
    }
    let mut problems = Vec::new();
    for id in ids {
        if let Err(e) = till.revoke_key(&id) {
            problems.push(format!(
                "Till key {id} could not be revoked ({e}): revoke it yourself"
            ));
        }
    }
    problems
}

fn failure(error: anyhow::Error, undo_problems: Vec<String>) -> anyhow::Error {
    if undo_problems.is_empty() {
        error.context(
            "rotation failed; every change was undone and every key minted in this run was revoked",
        )
    } else {
        error.context(format!(
            "rotation failed, and some of it could not be undone:\n  {}",
            undo_problems.join("\n  ")
        ))
    }
}

/// A random-enough id tying the keys of one run together.
fn run_id() -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(format!(
        "{:?}{}{:?}",
        std::time::SystemTime::now(),
        std::process::id(),
        std::thread::current().id()
    ));
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_urls_are_recognised() {
        assert!(is_ssh_url("git@github.com:a/b.git"));
        assert!(is_ssh_url("ssh://git@github.com/a/b"));
        assert!(!is_ssh_url("https://github.com/a/b"));
        assert!(!is_ssh_url("/srv/git/b.git"));
    }

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
