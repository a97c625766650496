//! Step 1 of a rotation: everything that can fail before a key is minted
//! (the tree, the admin key, the Till URL, the remote and where the token
//! may go, an unpublished commit with a key, the GitHub repository, an open
//! pull request, the branch), and what the later steps need from it.

use std::collections::BTreeSet;

use anyhow::{anyhow, bail, Result};

use super::endpoint::{check_endpoint, display_url, is_network_url, GitHubHosts, Purpose};
use super::github::{GitHub, RepoName};
use super::plan::Plan;
use super::rewrite::Replacer;
use super::scrub::Secrets;
use super::till::TillClient;
use super::workspace::Workspace;
use super::{Log, RotateOptions, RotationReport};

/// What the checks found: everything the changing steps need.
pub(super) struct Checked {
    pub(super) branch: String,
    pub(super) till: TillClient,
    pub(super) tracked: BTreeSet<String>,
    /// `None` with `--no-pr`.
    pub(super) forge: Option<Forge>,
    /// The repository's name, for the keys' metadata.
    pub(super) repository: String,
    pub(super) run_id: String,
}

/// Where the branch is pushed and the pull request opened.
pub(super) struct Forge {
    pub(super) github: GitHub,
    /// The branch the pull request goes to.
    pub(super) base: String,
    pub(super) remote: String,
    /// The https form of an ssh remote.
    pub(super) push_url: Option<String>,
}

/// Step 1: everything that can fail before a key is minted. `None`: the pull
/// request for these secrets is already open (and in `report`).
pub(super) fn check(
    ws: &Workspace,
    plan: &Plan,
    opts: &RotateOptions,
    report: &mut RotationReport,
    secrets: &Secrets,
    log: Log<'_>,
) -> Result<Option<Checked>> {
    let branch = plan.branch();
    ws.check_state()?;
    if !opts.allow_dirty {
        let dirty = ws.dirty_paths()?;
        if !dirty.is_empty() {
            bail!("{}", dirty_message(&dirty));
        }
    }
    // Before anything is contacted: an admin key, and a Till URL that is
    // https (or this machine).
    let till = connect_till(opts, secrets)?;
    let pairs: Vec<(&[u8], &[u8])> = plan
        .rotations
        .iter()
        .map(|r| (r.secret.expose().as_bytes(), &b""[..]))
        .collect();
    let finder = Replacer::new(&pairs);
    let tracked = ws.tracked_files()?;

    let mut forge = None;
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
        let github = GitHub::new(&opts.github_api, token, repo, secrets.clone())?;
        if let Some(pr) = github.open_pull_request(&branch)? {
            log(&format!(
                "pull request #{} for these secrets is already open: {} (nothing minted)",
                pr.number, pr.url
            ));
            report.pr_url = Some(pr.url);
            report.already_open = true;
            return Ok(None);
        }
        let base = github.default_branch()?;
        forge = Some(Forge {
            github,
            base,
            remote: opts.remote.clone(),
            push_url,
        });
    }

    if ws.local_branch_exists(&branch) {
        bail!("branch {branch} already exists here: these secrets were rotated before (push it, or delete it with `git branch -D {branch}` to start over); nothing was minted");
    }
    let run_id = run_id();
    let repository = forge
        .as_ref()
        .map(|f| f.github.repo().to_string())
        .unwrap_or_else(|| fallback_repository(ws, opts));

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
    Ok(Some(Checked {
        branch,
        till,
        tracked,
        forge,
        repository,
        run_id,
    }))
}

/// A client for the Till of `opts` with the admin key from
/// `TILL_ADMIN_KEY`, scrubbing with `secrets`. Contacts nothing: fails
/// without an admin key, or for a Till URL that is not https (or this
/// machine). `rotate` and `keys` both reach Till through this.
pub fn connect_till(opts: &RotateOptions, secrets: &Secrets) -> Result<TillClient> {
    let admin_key = opts
        .admin_key
        .clone()
        .filter(|k| !k.expose().trim().is_empty())
        .ok_or_else(|| anyhow!("TILL_ADMIN_KEY is not set: export your Till admin key (till_admin_…) in the environment; till-scan never takes it on the command line"))?;
    Ok(TillClient::new(&opts.till_url, admin_key, opts.timeout)?
        .with_backoff(opts.retry_backoff)
        .with_secrets(secrets.clone()))
}

/// The names rotation writes in a key's `repository` metadata for the
/// repository of `ws`, the usual one first: the GitHub repository
/// (`--github-repo`, `GITHUB_REPOSITORY`, else the remote's URL), then the
/// name a rotation with `--no-pr` writes ([`fallback_repository`]) when it
/// differs. Reads no network.
pub fn repository_names(ws: &Workspace, opts: &RotateOptions) -> Vec<String> {
    let fallback = fallback_repository(ws, opts);
    let github = ws
        .remote_url(&opts.remote)
        .ok()
        .and_then(|url| resolve_repo(opts, &url).ok())
        .or_else(|| opts.github_repo.as_deref().and_then(RepoName::parse))
        .map(|r| r.to_string());
    match github {
        Some(name) if name != fallback => vec![name, fallback],
        _ => vec![fallback],
    }
}

/// The name of a rotation with no pull request: `--github-repo` or
/// `GITHUB_REPOSITORY` as given, else the work tree's directory name.
fn fallback_repository(ws: &Workspace, opts: &RotateOptions) -> String {
    opts.github_repo.clone().unwrap_or_else(|| {
        ws.workdir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    })
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

/// Why a work tree with uncommitted changes is refused, and the ways on.
pub(super) fn dirty_message(dirty: &[String]) -> String {
    format!(
        "the work tree has uncommitted changes ({}{}); commit or stash them, or pass --allow-dirty (then only the rotated files are touched, and your edits in them are kept out of the commit)",
        dirty.iter().take(5).cloned().collect::<Vec<_>>().join(", "),
        if dirty.len() > 5 { ", …" } else { "" }
    )
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
}
