//! Every environment variable till-scan reads, read once when the process
//! starts (by [`Env::capture`]) and passed down with the command line. Code
//! below the settings layer takes what it needs as arguments and never reads
//! the environment itself, so a test can hand it any environment.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::finding::Secret;

/// The environment as till-scan uses it. A variable that is not valid
/// Unicode counts as unset (except the two paths, which may be any bytes).
#[derive(Debug, Clone, Default)]
pub struct Env {
    /// `NO_COLOR` is set and not empty: no colour under `--color auto`.
    pub no_color: bool,
    /// `GIT_INDEX_FILE` (when not empty): the temporary index that
    /// `git commit -a` and `git commit <path>` build and hand to hooks.
    pub git_index_file: Option<PathBuf>,
    /// `PRE_COMMIT_FROM_REF` and `PRE_COMMIT_TO_REF`: the range the
    /// pre-commit framework gives a pre-push hook.
    pub pre_commit_from_ref: Option<String>,
    pub pre_commit_to_ref: Option<String>,
    /// `PRE_COMMIT_LOCAL_BRANCH`: the pushed branch, under pre-commit.
    pub pre_commit_local_branch: Option<String>,
    /// Rotation (each unset when blank): `TILL_API_URL`.
    pub till_api_url: Option<String>,
    /// `TILL_ADMIN_KEY`, held redacted.
    pub till_admin_key: Option<Secret>,
    /// `GITHUB_SERVER_URL` (GitHub Enterprise's web URL in Actions).
    pub github_server_url: Option<String>,
    /// `GITHUB_REPOSITORY` (`owner/name`).
    pub github_repository: Option<String>,
    /// `GITHUB_API_URL`.
    pub github_api_url: Option<String>,
    /// `GITHUB_TOKEN`, held redacted.
    pub github_token: Option<Secret>,
    /// `TILL_SCAN_HTTP_TIMEOUT`, in seconds, when a positive number.
    pub http_timeout_secs: Option<f64>,
    /// `TILL_SCAN_RETRY_BACKOFF_MS`, in milliseconds, when a positive number.
    pub retry_backoff_ms: Option<f64>,
    /// `GITLEAKS_CONFIG` (when not empty): the gitleaks config read when
    /// the scanned root has no `.till-scan.toml`, as gitleaks reads it.
    pub gitleaks_config: Option<PathBuf>,
}

impl Env {
    /// Reads the process environment.
    pub fn capture() -> Env {
        Env::from_lookup(|name| std::env::var_os(name))
    }

    /// Builds the environment from `lookup` (a variable's value, if set).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<OsString>) -> Env {
        let text = |name: &str| lookup(name).and_then(|v| v.into_string().ok());
        // Rotation settings treat a blank value as unset.
        let value = |name: &str| text(name).filter(|v| !v.trim().is_empty());
        let positive = |name: &str| {
            value(name)
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|s| *s > 0.0)
        };
        let secret = |name: &str| value(name).map(|k| Secret::new(k.as_bytes()));
        Env {
            no_color: lookup("NO_COLOR").is_some_and(|v| !v.is_empty()),
            git_index_file: lookup("GIT_INDEX_FILE")
                .filter(|f| !f.is_empty())
                .map(PathBuf::from),
            pre_commit_from_ref: text("PRE_COMMIT_FROM_REF"),
            pre_commit_to_ref: text("PRE_COMMIT_TO_REF"),
            pre_commit_local_branch: text("PRE_COMMIT_LOCAL_BRANCH"),
            till_api_url: value("TILL_API_URL"),
            till_admin_key: secret("TILL_ADMIN_KEY"),
            github_server_url: value("GITHUB_SERVER_URL"),
            github_repository: value("GITHUB_REPOSITORY"),
            github_api_url: value("GITHUB_API_URL"),
            github_token: secret("GITHUB_TOKEN"),
            http_timeout_secs: positive("TILL_SCAN_HTTP_TIMEOUT"),
            retry_backoff_ms: positive("TILL_SCAN_RETRY_BACKOFF_MS"),
            gitleaks_config: lookup("GITLEAKS_CONFIG")
                .filter(|f| !f.is_empty())
                .map(PathBuf::from),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> Env {
        Env::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        })
    }

    #[test]
    fn blank_rotation_values_count_as_unset() {
        let e = env(&[
            ("TILL_API_URL", "  "),
            ("GITHUB_TOKEN", ""),
            ("TILL_SCAN_HTTP_TIMEOUT", "0"),
            ("TILL_SCAN_RETRY_BACKOFF_MS", "x"),
        ]);
        assert_eq!(e.till_api_url, None);
        assert!(e.github_token.is_none());
        assert_eq!(e.http_timeout_secs, None);
        assert_eq!(e.retry_backoff_ms, None);
        let e = env(&[("TILL_SCAN_HTTP_TIMEOUT", "2.5"), ("NO_COLOR", "1")]);
        assert_eq!(e.http_timeout_secs, Some(2.5));
        assert!(e.no_color);
    }

    #[test]
    fn empty_no_color_and_index_file_count_as_unset() {
        let e = env(&[("NO_COLOR", ""), ("GIT_INDEX_FILE", "")]);
        assert!(!e.no_color);
        assert_eq!(e.git_index_file, None);
        // The pre-commit refs keep an empty value: the caller decides.
        let e = env(&[("PRE_COMMIT_FROM_REF", "")]);
        assert_eq!(e.pre_commit_from_ref.as_deref(), Some(""));
    }

    #[test]
    fn secrets_do_not_print() {
        let e = env(&[("TILL_ADMIN_KEY", "till_admin_0123456789")]);
        assert!(!format!("{e:?}").contains("0123456789"));
    }
}
