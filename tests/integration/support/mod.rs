//! The one support module of the integration tests: the command runner for
//! the built binary and the temp project it runs in, the isolated `git`
//! helper and repository builders (`project`), the shared synthetic keys
//! (`keys`), and the local HTTP doubles of the services rotation talks to
//! (`http`, `till_double`, `github_double`, `git_http`), so no test touches
//! the network. Not every module uses every helper, hence `dead_code`.
#![allow(dead_code)]

pub mod git_http;
pub mod github_double;
pub mod http;
pub mod keys;
pub mod project;
pub mod provider_double;
pub mod release;
pub mod till_double;

pub use project::*;

use std::process::Command;

use github_double::GitHubDouble;
use till_double::TillDouble;

/// Points a `till-scan rotate` command at the two doubles, with the
/// credentials they accept, short retries and a short HTTP timeout.
pub fn point_at_doubles(
    c: &mut Command,
    till: &TillDouble,
    admin_key: &str,
    github: &GitHubDouble,
    token: &str,
) {
    c.env("TILL_ADMIN_KEY", admin_key)
        .env("TILL_API_URL", till.url())
        .env("GITHUB_TOKEN", token)
        .env("GITHUB_API_URL", github.url())
        .env("GITHUB_REPOSITORY", "acme/app")
        .env("TILL_SCAN_RETRY_BACKOFF_MS", "5")
        .env("TILL_SCAN_HTTP_TIMEOUT", "3")
        .env_remove("GITHUB_SERVER_URL");
}
