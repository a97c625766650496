//! The push of the rotation branch and its undo, through libgit2 with our
//! own smart-HTTP transport for http(s) remotes (see `http_transport`).

use std::cell::RefCell;

use anyhow::{anyhow, Result};

use crate::finding::Secret;

use super::Workspace;

impl Workspace {
    /// Pushes `branch` to `remote` (or to `url` when given, e.g. the https
    /// form of an ssh remote), replacing a stale branch of the same name.
    /// `token` goes to the remote's host as `x-access-token`: the caller has
    /// checked that this host may have it.
    pub fn push(
        &self,
        remote: &str,
        url: Option<&str>,
        branch: &str,
        token: Option<&Secret>,
    ) -> Result<()> {
        self.push_refspec(
            remote,
            url,
            &format!("+refs/heads/{branch}:refs/heads/{branch}"),
            token,
        )
        .map_err(|e| anyhow!("git push of {branch} to `{remote}` failed: {e}"))
    }

    /// Deletes `branch` on the remote (undo of a push).
    pub fn delete_remote_branch(
        &self,
        remote: &str,
        url: Option<&str>,
        branch: &str,
        token: Option<&Secret>,
    ) -> Result<()> {
        self.push_refspec(remote, url, &format!(":refs/heads/{branch}"), token)
            .map_err(|e| anyhow!("cannot delete branch {branch} on `{remote}`: {e}"))
    }

    fn push_refspec(
        &self,
        remote: &str,
        url: Option<&str>,
        refspec: &str,
        token: Option<&Secret>,
    ) -> std::result::Result<(), String> {
        use crate::rotate::endpoint::{display_url, host_of};
        use crate::rotate::http_transport::{self, url_with_credentials, Credentials};
        let named = url.is_none();
        let mut remote = match url {
            Some(u) => self.repo.remote_anonymous(u),
            None => self.repo.find_remote(remote),
        }
        .map_err(|e| e.message().to_string())?;
        let config = self.repo.config().map_err(|e| e.message().to_string())?;
        // The URL the caller checked: credentials are for its host alone.
        let checked = remote.url().unwrap_or_default().to_string();
        // Where libgit2 pushes.
        let target = remote.pushurl().unwrap_or(&checked).to_string();
        let is_http = |u: &str| u.starts_with("https://") || u.starts_with("http://");
        if !is_http(&checked) || !is_http(&target) {
            return self.push_with(&mut remote, &config, refspec, token);
        }
        // Our own smart-HTTP transport (see `http_transport`): the
        // credentials travel in the URL it is handed, bound to the checked
        // host, and it takes them out before any request.
        http_transport::register().map_err(|e| e.message().to_string())?;
        let with_credentials = host_of(&checked).and_then(|host| {
            let (user, password) = match token {
                Some(t) => ("x-access-token".to_string(), t.clone()),
                None => {
                    let (user, password) = git2::CredentialHelper::new(&checked)
                        .config(&config)
                        .execute()?;
                    (user, Secret::new(password.as_bytes()))
                }
            };
            url_with_credentials(&target, &host, &Credentials { user, password })
        });
        let push_url = with_credentials.as_ref().map_or(&*target, Secret::expose);
        // Whatever libgit2 says, it says of the URL without user info.
        let shown = |e: String| e.replace(push_url, &display_url(&target));
        let mut anonymous = self
            .repo
            .remote_anonymous(push_url)
            .map_err(|e| shown(e.message().to_string()))?;
        self.push_with(&mut anonymous, &config, refspec, token)
            .map_err(shown)?;
        if named {
            self.update_tracking_ref(&remote, refspec)?;
        }
        Ok(())
    }

    /// What libgit2 does after a push through a named remote: the
    /// remote-tracking ref of the pushed branch follows it (or goes, for a
    /// deletion). The push went through an anonymous remote, which has none.
    fn update_tracking_ref(
        &self,
        remote: &git2::Remote<'_>,
        refspec: &str,
    ) -> std::result::Result<(), String> {
        let Some((src, dst)) = refspec.trim_start_matches('+').split_once(':') else {
            return Ok(());
        };
        let tracking = remote
            .refspecs()
            .filter(|s| s.direction() == git2::Direction::Fetch && s.src_matches(dst))
            .find_map(|s| s.transform(dst).ok())
            .and_then(|name| name.as_str().map(str::to_string));
        let Some(tracking) = tracking else {
            return Ok(());
        };
        let updated = if src.is_empty() {
            match self.repo.find_reference(&tracking) {
                Ok(mut r) => r.delete(),
                Err(_) => Ok(()),
            }
        } else {
            self.repo
                .refname_to_id(src)
                .and_then(|oid| self.repo.reference(&tracking, oid, true, "update by push"))
                .map(|_| ())
        };
        updated.map_err(|e| e.message().to_string())
    }

    fn push_with(
        &self,
        remote: &mut git2::Remote<'_>,
        config: &git2::Config,
        refspec: &str,
        token: Option<&Secret>,
    ) -> std::result::Result<(), String> {
        let rejected = RefCell::new(None::<String>);
        let attempts = RefCell::new(0u32);
        {
            let mut callbacks = git2::RemoteCallbacks::new();
            callbacks.credentials(|url, username, allowed| {
                *attempts.borrow_mut() += 1;
                if *attempts.borrow() > 3 {
                    return Err(git2::Error::from_str(
                        "the remote refused every credential (check GITHUB_TOKEN or the git credential helper)",
                    ));
                }
                if allowed.contains(git2::CredentialType::USER_PASS_PLAINTEXT) {
                    if let Some(t) = token {
                        return git2::Cred::userpass_plaintext("x-access-token", t.expose());
                    }
                    return git2::Cred::credential_helper(config, url, username);
                }
                if allowed.contains(git2::CredentialType::SSH_KEY) {
                    return git2::Cred::ssh_key_from_agent(username.unwrap_or("git"));
                }
                git2::Cred::default()
            });
            callbacks.push_update_reference(|name, status| {
                if let Some(msg) = status {
                    // The remote's words: scrubbed like any server's.
                    let msg = crate::rotate::scrub::server_text(
                        msg,
                        &[],
                        crate::rotate::scrub::MAX_SHOWN,
                    );
                    *rejected.borrow_mut() = Some(format!("{name} rejected: {msg}"));
                }
                Ok(())
            });
            let mut opts = git2::PushOptions::new();
            opts.remote_callbacks(callbacks);
            remote
                .push(&[refspec], Some(&mut opts))
                .map_err(|e| e.message().to_string())?;
        }
        match rejected.into_inner() {
            Some(msg) => Err(msg),
            None => Ok(()),
        }
    }
}
