//! Where rotation may send what, decided from URLs alone before any
//! connection: keys and tokens travel only over TLS (plain http only to this
//! machine), and the GitHub token only to the GitHub host. Also the one way
//! a URL is shown in a message: without its user and password.

/// What a URL is about to carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The Till admin API: the admin key and upstream keys.
    Till,
    /// The GitHub REST API: the GitHub token.
    GitHubApi,
    /// The git push of the rotation branch: the GitHub token as
    /// `x-access-token`.
    Push,
    /// `--validate`: the key being checked, to its provider.
    Validate,
}

impl Purpose {
    fn what(self) -> &'static str {
        match self {
            Purpose::Till => "Till URL",
            Purpose::GitHubApi => "GitHub API URL (GITHUB_API_URL)",
            Purpose::Push => "push URL",
            Purpose::Validate => "validation base URL",
        }
    }
}

/// The hosts the GitHub token may go to: github.com and api.github.com, or
/// the hosts of `GITHUB_SERVER_URL` and `GITHUB_API_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHubHosts(Vec<String>);

impl GitHubHosts {
    /// `server_host` is the host of git remotes (`github.com`, or the GHE
    /// host), `api` the API base URL.
    pub fn new(server_host: &str, api: &str) -> GitHubHosts {
        let mut hosts = vec![server_host.to_ascii_lowercase()];
        if server_host.eq_ignore_ascii_case("github.com") {
            hosts.push("api.github.com".to_string());
        }
        if let Some(parts) = Parts::parse(api) {
            hosts.push(parts.host.to_ascii_lowercase());
        }
        hosts.retain(|h| !h.is_empty());
        hosts.dedup();
        GitHubHosts(hosts)
    }

    pub fn contains(&self, host: &str) -> bool {
        self.0.iter().any(|h| h.eq_ignore_ascii_case(host))
    }

    fn names(&self) -> String {
        self.0.join(", ")
    }
}

/// A URL refused by the policy, with what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// Whether `url` may carry what `purpose` sends: TLS (or this machine), and
/// for the GitHub token a GitHub host. Pure: no DNS, no connection.
pub fn check_endpoint(url: &str, purpose: Purpose, github: &GitHubHosts) -> Result<(), Refused> {
    let parts = check_tls(url, purpose)?;
    if purpose != Purpose::Till && !github.contains(&parts.host) {
        return Err(Refused(format!(
            "{} `{}` is not on GitHub ({}): till-scan sends GITHUB_TOKEN only there. Set GITHUB_SERVER_URL / GITHUB_API_URL for GitHub Enterprise, point --remote at the GitHub repository, or use --no-pr",
            purpose.what(),
            display_url(url),
            github.names()
        )));
    }
    Ok(())
}

/// Whether `url` is https, or http to this machine. Pure.
pub fn require_tls(url: &str, purpose: Purpose) -> Result<(), Refused> {
    check_tls(url, purpose).map(|_| ())
}

fn check_tls(url: &str, purpose: Purpose) -> Result<Parts, Refused> {
    let shown = display_url(url);
    let what = purpose.what();
    let Some(parts) = Parts::parse(url) else {
        return Err(Refused(format!(
            "{what} `{shown}` is not an http(s) URL with a host"
        )));
    };
    match parts.scheme.as_str() {
        "https" => {}
        "http" if is_loopback(&parts.host) => {}
        "http" => {
            return Err(Refused(format!(
                "{what} `{shown}` is plain http to a host that is not this machine: {} would travel in the clear; use https",
                match purpose {
                    Purpose::Till => "the Till admin key and the keys being rotated",
                    Purpose::Validate => "the keys being checked",
                    _ => "GITHUB_TOKEN",
                }
            )))
        }
        other => {
            return Err(Refused(format!(
                "{what} `{shown}` uses `{other}`: only https (or http to this machine) is allowed"
            )))
        }
    }
    Ok(parts)
}

/// A remote git reaches over the network with a scheme and a host (as
/// opposed to a local path or `file://` URL).
pub fn is_network_url(url: &str) -> bool {
    match url.split_once("://") {
        Some((scheme, _)) => !scheme.eq_ignore_ascii_case("file"),
        // scp-like `[user@]host:path`; a Windows drive `C:\…` is a path.
        None => {
            let before_colon = url.split(':').next().unwrap_or("");
            url.contains(':')
                && before_colon.len() > 1
                && !before_colon.contains('/')
                && !before_colon.contains('\\')
        }
    }
}

/// `https://user:secret@host/x` -> `https://host/x`: the only form of a URL
/// a message, log line or pull request shows.
pub fn display_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let (authority, tail) = rest.split_at(end);
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            format!("{scheme}://{host}{tail}")
        }
        None => url.to_string(),
    }
}

/// 127.0.0.0/8, ::1 and `localhost`: names that cannot leave this machine.
/// `localhost.evil.com` and `127.0.0.1.nip.io` are other machines.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The pieces of a URL the policy looks at.
#[derive(Debug, PartialEq, Eq)]
struct Parts {
    scheme: String,
    /// Without brackets, user info or port.
    host: String,
}

impl Parts {
    fn parse(url: &str) -> Option<Parts> {
        let (scheme, rest) = url.trim().split_once("://")?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = if let Some(bracketed) = authority.strip_prefix('[') {
            bracketed.split(']').next().unwrap_or("")
        } else {
            authority.split(':').next().unwrap_or("")
        };
        if scheme.is_empty() || host.is_empty() {
            return None;
        }
        Some(Parts {
            scheme: scheme.to_ascii_lowercase(),
            host: host.to_string(),
        })
    }
}

/// The host of a URL (no user info, port or brackets), if it has one.
pub fn host_of(url: &str) -> Option<String> {
    Parts::parse(url).map(|p| p.host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn github() -> GitHubHosts {
        GitHubHosts::new("github.com", "https://api.github.com")
    }

    #[test]
    fn tls_is_required_except_to_this_machine() {
        let gh = github();
        for ok in [
            "https://api.till.ac",
            "https://api.till.ac:8443/base",
            "http://127.0.0.1:8080",
            "http://127.1.2.3/x",
            "http://localhost:1",
            "http://LOCALHOST/",
            "http://[::1]:9",
            "HTTP://127.0.0.1",
        ] {
            assert_eq!(check_endpoint(ok, Purpose::Till, &gh), Ok(()), "{ok}");
        }
        for refused in [
            "http://api.till.ac",
            "http://10.1.2.3",
            "http://192.168.0.1:80",
            "http://localhost.evil.com",
            "http://127.0.0.1.nip.io",
            "http://127.0.0.1.evil.example:80",
            "http://[::ffff:10.0.0.1]/",
            "http://[fe80::1]/",
            "http://127.0.0.1@evil.example/",
            "ftp://127.0.0.1",
            "file:///etc/passwd",
            "api.till.ac",
            "https://",
            "",
        ] {
            assert!(
                check_endpoint(refused, Purpose::Till, &gh).is_err(),
                "{refused}"
            );
        }
        let e = check_endpoint("http://10.1.2.3", Purpose::GitHubApi, &gh).unwrap_err();
        assert!(
            e.0.contains("GITHUB_TOKEN would travel in the clear"),
            "{e}"
        );
    }

    #[test]
    fn the_token_goes_only_to_the_github_host() {
        let gh = github();
        for ok in [
            "https://github.com/acme/app.git",
            "https://GitHub.com/acme/app",
            "https://x-access-token:t@github.com/acme/app.git",
            "https://api.github.com",
        ] {
            assert_eq!(check_endpoint(ok, Purpose::Push, &gh), Ok(()), "{ok}");
        }
        for refused in [
            "https://evil.example/acme/app.git",
            "https://github.com.evil.example/acme/app",
            "https://github.com@evil.example/acme/app",
            "https://gitlab.com/acme/app.git",
            "http://github.com/acme/app.git",
            "ssh://git@github.com/acme/app.git",
            "git@github.com:acme/app.git",
        ] {
            assert!(
                check_endpoint(refused, Purpose::Push, &gh).is_err(),
                "{refused}"
            );
        }
        let e = check_endpoint("https://evil.example/a/b", Purpose::Push, &gh).unwrap_err();
        assert!(
            e.0.contains("not on GitHub (github.com, api.github.com)"),
            "{e}"
        );

        // GitHub Enterprise and local test servers: their hosts only.
        let ghe = GitHubHosts::new("ghe.corp", "https://ghe.corp/api/v3");
        assert!(check_endpoint("https://ghe.corp/a/b.git", Purpose::Push, &ghe).is_ok());
        assert!(check_endpoint("https://github.com/a/b.git", Purpose::Push, &ghe).is_err());
        let local = GitHubHosts::new("github.com", "http://127.0.0.1:4000");
        assert!(check_endpoint("http://127.0.0.1:5000/r", Purpose::Push, &local).is_ok());
        assert!(check_endpoint("http://[::1]:5000/r", Purpose::Push, &local).is_err());
        assert!(check_endpoint("http://127.0.0.1:4000", Purpose::GitHubApi, &local).is_ok());
    }

    #[test]
    fn urls_are_shown_without_credentials() {
        assert_eq!(
            display_url("https://x-access-token:ghs_1@github.com/a/b.git/info/refs"),
            "https://github.com/a/b.git/info/refs"
        );
        assert_eq!(
            display_url("https://user:p@ss@till.example"),
            "https://till.example"
        );
        assert_eq!(
            display_url("http://127.0.0.1:9/r?x=a@b"),
            "http://127.0.0.1:9/r?x=a@b"
        );
        assert_eq!(display_url("/srv/git/app.git"), "/srv/git/app.git");
        let e = check_endpoint(
            "http://user:hunter22@till.example",
            Purpose::Till,
            &github(),
        )
        .unwrap_err();
        assert!(!e.0.contains("hunter22"), "{e}");
    }

    #[test]
    fn network_urls_are_told_from_paths() {
        for net in [
            "https://github.com/a/b",
            "ssh://git@github.com/a/b",
            "git@github.com:a/b.git",
            "github.com:a/b.git",
        ] {
            assert!(is_network_url(net), "{net}");
        }
        for local in [
            "/srv/git/b.git",
            "file:///srv/b.git",
            "../b.git",
            "C:\\git\\b",
        ] {
            assert!(!is_network_url(local), "{local}");
        }
        assert_eq!(host_of("https://u:p@[::1]:8/x").as_deref(), Some("::1"));
    }
}
