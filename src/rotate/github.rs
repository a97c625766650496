//! The GitHub side of a rotation, through octocrab: the repository's default
//! branch, an open pull request for a head branch, and opening one. The API
//! base comes from `GITHUB_API_URL` (GitHub Enterprise, tests); it must be
//! https (or http to this machine), and every string GitHub answers goes
//! through [`Secrets::clean`] before an error carries it.

use std::time::Duration;

use octocrab::Octocrab;

use crate::finding::Secret;

use super::endpoint::{display_url, require_tls, Purpose};
use super::scrub::{json_error, Secrets};

pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// A GitHub repository, `owner/name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoName {
    pub owner: String,
    pub name: String,
}

impl RepoName {
    /// Parses `owner/name`.
    pub fn parse(text: &str) -> Option<RepoName> {
        let (owner, name) = text.trim().split_once('/')?;
        let name = name.strip_suffix(".git").unwrap_or(name);
        let valid = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        (valid(owner) && valid(name)).then(|| RepoName {
            owner: owner.to_string(),
            name: name.to_string(),
        })
    }

    /// The repository of a remote URL on `host` (e.g. `github.com`):
    /// `https://host/o/r(.git)`, `git@host:o/r.git`, `ssh://git@host/o/r`.
    pub fn from_remote_url(url: &str, host: &str) -> Option<RepoName> {
        let url = url.trim().trim_end_matches('/');
        let rest = if let Some((scheme, rest)) = url.split_once("://") {
            if !matches!(scheme, "https" | "http" | "ssh" | "git") {
                return None;
            }
            let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
            let (authority, path) = rest.split_once('/')?;
            let authority_host = authority.split(':').next()?;
            if !authority_host.eq_ignore_ascii_case(host) {
                return None;
            }
            path
        } else {
            // scp-like: [user@]host:owner/name
            let (left, path) = url.split_once(':')?;
            let h = left.rsplit_once('@').map_or(left, |(_, h)| h);
            if !h.eq_ignore_ascii_case(host) {
                return None;
            }
            path
        };
        RepoName::parse(rest)
    }
}

impl std::fmt::Display for RepoName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// An open pull request.
#[derive(Debug, Clone)]
pub struct PullRequest {
    pub number: u64,
    pub url: String,
}

/// What went wrong talking to GitHub. Never carries the token.
#[derive(Debug, thiserror::Error)]
#[error("GitHub ({api}) {action}: {detail}")]
pub struct GitHubError {
    pub api: String,
    pub action: String,
    pub detail: String,
    pub status: Option<u16>,
}

pub struct GitHub {
    /// Without user and password: what messages show.
    api: String,
    client: Octocrab,
    runtime: tokio::runtime::Runtime,
    repo: RepoName,
    secrets: Secrets,
}

impl std::fmt::Debug for GitHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHub")
            .field("api", &self.api)
            .field("repo", &self.repo)
            .finish_non_exhaustive()
    }
}

impl GitHub {
    /// A client for `repo` at `api`; GitHub's answers are scrubbed of
    /// `secrets`, to which the token is added.
    pub fn new(
        api: &str,
        token: Secret,
        repo: RepoName,
        secrets: Secrets,
    ) -> Result<GitHub, GitHubError> {
        let base = api.trim_end_matches('/').to_string();
        let api = display_url(&base);
        secrets.add(token.expose());
        let fail = |detail: String| GitHubError {
            api: api.clone(),
            action: "client set-up failed".into(),
            detail,
            status: None,
        };
        // Before anything that could resolve or connect.
        require_tls(&base, Purpose::GitHubApi).map_err(|e| fail(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| fail(e.to_string()))?;
        let client = {
            let _guard = runtime.enter();
            Octocrab::builder()
                .base_uri(base.as_str())
                .map_err(|_| fail("invalid API URL".to_string()))?
                .personal_token(token.expose().to_string())
                // A retried create could open the PR twice (a 5xx can hide a
                // success); every failure is reported and undone instead.
                .add_retry_config(octocrab::service::middleware::retry::RetryConfig::None)
                .set_connect_timeout(Some(Duration::from_secs(15)))
                .set_read_timeout(Some(Duration::from_secs(60)))
                .build()
                .map_err(|e| fail(e.to_string()))?
        };
        Ok(GitHub {
            api,
            client,
            runtime,
            repo,
            secrets,
        })
    }

    pub fn repo(&self) -> &RepoName {
        &self.repo
    }

    /// Every string in it comes from GitHub or the HTTP stack, so each is
    /// scrubbed; serde's messages quote values, so they are not used.
    fn error(&self, action: &str, e: octocrab::Error) -> GitHubError {
        let clean = |text: &str| self.secrets.clean(text);
        let (status, detail) = match &e {
            octocrab::Error::GitHub { source, .. } => {
                let mut detail = format!(
                    "HTTP {}: {}",
                    source.status_code.as_u16(),
                    clean(&source.message)
                );
                for err in source.errors.iter().flatten() {
                    let text = match err {
                        serde_json::Value::String(s) => Some(s.as_str()),
                        other => other.get("message").and_then(|m| m.as_str()),
                    };
                    if let Some(m) = text {
                        detail.push_str(&format!(" ({})", clean(m)));
                    }
                }
                (Some(source.status_code.as_u16()), detail)
            }
            octocrab::Error::Serde { source, .. } => (None, json_error(source, None, &[])),
            octocrab::Error::Json { source, .. } => {
                let path = source.path().to_string();
                let inner = json_error(source.inner(), None, &[]);
                // The path is made of GitHub's member names: scrub it too.
                (None, format!("{inner} at `{}`", clean(&path)))
            }
            other => (None, clean(&describe(other))),
        };
        GitHubError {
            api: self.api.clone(),
            action: format!("{action} for {}", self.repo),
            detail,
            status,
        }
    }

    /// The branch pull requests go to.
    pub fn default_branch(&self) -> Result<String, GitHubError> {
        let repo = self
            .runtime
            .block_on(self.client.repos(&self.repo.owner, &self.repo.name).get())
            .map_err(|e| self.error("refused to describe the repository", e))?;
        repo.default_branch.ok_or_else(|| GitHubError {
            api: self.api.clone(),
            action: format!("described {}", self.repo),
            detail: "without a default branch".into(),
            status: None,
        })
    }

    /// The open pull request whose head is `branch` of this repository.
    pub fn open_pull_request(&self, branch: &str) -> Result<Option<PullRequest>, GitHubError> {
        let head = format!("{}:{branch}", self.repo.owner);
        let page = self
            .runtime
            .block_on(
                self.client
                    .pulls(&self.repo.owner, &self.repo.name)
                    .list()
                    .state(octocrab::params::State::Open)
                    .head(head)
                    .per_page(10)
                    .send(),
            )
            .map_err(|e| self.error("refused to list pull requests", e))?;
        Ok(page
            .items
            .into_iter()
            .find(|pr| pr.head.ref_field == branch)
            .map(|pr| PullRequest {
                number: pr.number,
                url: self.pr_url(pr.html_url),
            }))
    }

    pub fn create_pull_request(
        &self,
        title: &str,
        head: &str,
        base: &str,
        body: &str,
    ) -> Result<PullRequest, GitHubError> {
        let pr = self
            .runtime
            .block_on(
                self.client
                    .pulls(&self.repo.owner, &self.repo.name)
                    .create(title, head, base)
                    .body(body)
                    .send(),
            )
            .map_err(|e| self.error("refused to open the pull request", e))?;
        Ok(PullRequest {
            number: pr.number,
            url: self.pr_url(pr.html_url),
        })
    }

    /// A link GitHub sent, which is printed: only the run's secrets are
    /// removed (a repository name may look random).
    fn pr_url(&self, url: Option<impl std::fmt::Display>) -> String {
        url.map(|u| self.secrets.scrub_known(&display_url(&u.to_string())))
            .unwrap_or_default()
    }
}

/// A transport-level octocrab error in one line, without the request.
fn describe(e: &octocrab::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_urls_name_the_repository() {
        let want = Some(RepoName {
            owner: "acme".into(),
            name: "app".into(),
        });
        for url in [
            "https://github.com/acme/app.git",
            "https://github.com/acme/app",
            "https://x-access-token:t@github.com/acme/app.git",
            "git@github.com:acme/app.git",
            "ssh://git@github.com/acme/app",
            "ssh://git@github.com:22/acme/app.git",
        ] {
            assert_eq!(RepoName::from_remote_url(url, "github.com"), want, "{url}");
        }
        assert_eq!(
            RepoName::from_remote_url("https://gitlab.com/acme/app.git", "github.com"),
            None
        );
        assert_eq!(
            RepoName::from_remote_url("/srv/git/app.git", "github.com"),
            None
        );
        assert_eq!(
            RepoName::from_remote_url("https://github.com/acme", "github.com"),
            None
        );
    }

    #[test]
    fn owner_name_parses() {
        assert_eq!(RepoName::parse("a/b").unwrap().to_string(), "a/b");
        assert!(RepoName::parse("a").is_none());
        assert!(RepoName::parse("a/b/c").is_none());
        assert!(RepoName::parse("a b/c").is_none());
    }
}
