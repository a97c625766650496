//! git's smart HTTP protocol for the rotation push, over ureq (rustls)
//! instead of libgit2's own https, which links OpenSSL and loads the system
//! certificates when libgit2 starts: about 25 ms on every command that opens
//! a repository, the commit hook included. This transport costs nothing
//! until a push uses it.
//!
//! Credentials: `GITHUB_TOKEN` (as `x-access-token`), else git's credential
//! helper; sent only to the host they were given for, over https (or http
//! to this machine), never over redirects.
//!
//! libgit2 creates transports through a process-wide factory, so nothing of
//! one push can be handed to its transport except the URL: the credentials
//! travel as that URL's user info ([`url_with_credentials`]), and the
//! transport takes them out again before any request ([`split_credentials`]).
//! There is no credential state outside the push.

use std::io::{self, Read, Write};
use std::sync::Once;
use std::time::Duration;

use base64::Engine;
use git2::transport::{Service, SmartSubtransport, SmartSubtransportStream, Transport};

use crate::finding::Secret;

use super::endpoint::{display_url, host_of, require_tls, Purpose};

/// Credentials for one push. `Debug` redacts the password.
#[derive(Debug)]
pub struct Credentials {
    pub user: String,
    pub password: Secret,
}

/// Registers this transport for `http://` and `https://` remotes (once).
pub fn register() -> Result<(), git2::Error> {
    static REGISTER: Once = Once::new();
    let mut result = Ok(());
    REGISTER.call_once(|| {
        for scheme in ["http", "https"] {
            // SAFETY: called once, before the push that creates a transport,
            // and no other thread creates transports meanwhile (git2's
            // requirement for `register`).
            let registered = unsafe {
                git2::transport::register(scheme, |remote| {
                    Transport::smart(remote, true, HttpSubtransport::new())
                })
            };
            if let Err(e) = registered {
                result = Err(e);
            }
        }
    });
    result
}

/// `url` with `credentials` as its user info (in place of any it has), for
/// the push to hand to this transport. `None` if `url` is not on `host` (the
/// host the credentials were given for) or is in the clear to another
/// machine: then the push goes without them. The result is a [`Secret`]:
/// messages show [`display_url`] of `url` instead.
pub fn url_with_credentials(url: &str, host: &str, credentials: &Credentials) -> Option<Secret> {
    if !host_of(url)?.eq_ignore_ascii_case(host) || require_tls(url, Purpose::Push).is_err() {
        return None;
    }
    let (scheme, rest) = url.split_once("://")?;
    let (_, bare) = split_userinfo(rest);
    let with = format!(
        "{scheme}://{}:{}@{bare}",
        percent_encode(&credentials.user),
        percent_encode(credentials.password.expose())
    );
    Some(Secret::new(with.as_bytes()))
}

/// The URL libgit2 hands the transport -> the URL to request (without user
/// info) and the `Authorization` header its user info makes, if any and if
/// the request is not in the clear to another machine.
fn split_credentials(url: &str) -> (String, Option<Secret>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_string(), None);
    };
    let (userinfo, bare) = split_userinfo(rest);
    let bare = format!("{scheme}://{bare}");
    let Some(userinfo) = userinfo else {
        return (bare, None);
    };
    if require_tls(&bare, Purpose::Push).is_err() {
        return (bare, None);
    }
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let pair = format!("{}:{}", percent_decode(user), percent_decode(password));
    let header = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    );
    (bare, Some(Secret::new(header.as_bytes())))
}

/// `user:password@host/path` -> (`user:password`, `host/path`), as
/// [`display_url`] reads an authority.
fn split_userinfo(rest: &str) -> (Option<&str>, String) {
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => (Some(userinfo), format!("{host}{tail}")),
        None => (None, rest.to_string()),
    }
}

/// Every byte but RFC 3986's unreserved ones as `%XX`.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

struct HttpSubtransport {
    agent: ureq::Agent,
}

impl HttpSubtransport {
    fn new() -> HttpSubtransport {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_global(Some(Duration::from_secs(600)))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!(
                "git/2.0 (till-scan/",
                env!("CARGO_PKG_VERSION"),
                ")"
            ))
            .build()
            .into();
        HttpSubtransport { agent }
    }
}

impl SmartSubtransport for HttpSubtransport {
    fn action(
        &self,
        url: &str,
        action: Service,
    ) -> Result<Box<dyn SmartSubtransportStream>, git2::Error> {
        let (url, auth) = split_credentials(url);
        let base = url.trim_end_matches('/');
        let (method, path, service) = match action {
            Service::UploadPackLs => (
                "GET",
                "/info/refs?service=git-upload-pack",
                "git-upload-pack",
            ),
            Service::UploadPack => ("POST", "/git-upload-pack", "git-upload-pack"),
            Service::ReceivePackLs => (
                "GET",
                "/info/refs?service=git-receive-pack",
                "git-receive-pack",
            ),
            Service::ReceivePack => ("POST", "/git-receive-pack", "git-receive-pack"),
        };
        Ok(Box::new(HttpStream {
            agent: self.agent.clone(),
            method,
            url: format!("{base}{path}"),
            auth,
            service,
            body: Vec::new(),
            response: None,
        }))
    }

    fn close(&self) -> Result<(), git2::Error> {
        Ok(())
    }
}

/// One request: written bytes are the POST body, sent on the first read.
struct HttpStream {
    agent: ureq::Agent,
    method: &'static str,
    /// Without user info.
    url: String,
    /// The `Authorization` header, if the push carries credentials.
    auth: Option<Secret>,
    service: &'static str,
    body: Vec<u8>,
    response: Option<Box<dyn Read + Send>>,
}

impl HttpStream {
    fn send(&mut self) -> io::Result<Box<dyn Read + Send>> {
        let auth = self.auth.as_ref().map(Secret::expose);
        let shown = display_url(&self.url);
        let sent = if self.method == "GET" {
            let mut req = self.agent.get(&self.url);
            if let Some(a) = auth {
                req = req.header("Authorization", a);
            }
            req.call()
        } else {
            let mut req = self
                .agent
                .post(&self.url)
                .header(
                    "Content-Type",
                    format!("application/x-{}-request", self.service),
                )
                .header("Accept", format!("application/x-{}-result", self.service));
            if let Some(a) = auth {
                req = req.header("Authorization", a);
            }
            req.send(&self.body[..])
        };
        let response =
            sent.map_err(|e| io::Error::other(format!("{} {shown}: {e}", self.method)))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let hint = match status {
                401 => ": the remote wants credentials (set GITHUB_TOKEN, or configure git's credential helper)",
                403 => ": the credentials may not push here (a GitHub token needs contents: write)",
                404 => ": no such repository, or the credentials cannot see it",
                301 | 302 | 307 | 308 => ": the remote redirects (update the remote's URL)",
                _ => "",
            };
            return Err(io::Error::other(format!(
                "{} {shown} answered HTTP {status}{hint}",
                self.method
            )));
        }
        Ok(Box::new(response.into_body().into_reader()))
    }
}

impl Read for HttpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.response.is_none() {
            self.response = Some(self.send()?);
        }
        self.response.as_mut().expect("set above").read(buf)
    }
}

impl Write for HttpStream {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.response.is_some() {
            return Err(io::Error::other("write after the request was sent"));
        }
        self.body.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> Credentials {
        Credentials {
            user: "x-access-token".into(),
            password: Secret::new(b"ghs_1"),
        }
    }

    /// What the transport sends for a push URL `url` given credentials for
    /// github.com.
    fn authorization(url: &str) -> Option<String> {
        let with = url_with_credentials(url, "github.com", &token())?;
        let (bare, auth) = split_credentials(with.expose());
        assert_eq!(bare, display_url(url));
        auth.map(|a| a.expose().to_string())
    }

    #[test]
    fn credentials_go_only_to_their_host_and_never_in_the_clear() {
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("x-access-token:ghs_1")
        );
        assert_eq!(
            authorization("https://github.com/a/b.git/info/refs"),
            Some(basic.clone())
        );
        assert!(authorization("https://GITHUB.com/a/b.git").is_some());
        assert!(authorization("https://evil.example/a/b.git").is_none());
        assert!(authorization("https://github.com.evil.example/a/b.git").is_none());
        assert!(authorization("http://github.com/a/b.git").is_none());
        // User info the remote's URL had is replaced, not kept.
        assert_eq!(
            authorization("https://someone:else@github.com/a/b.git"),
            Some(basic)
        );
        // Loopback test servers may have them in the clear.
        assert!(url_with_credentials("http://127.0.0.1:9/r", "127.0.0.1", &token()).is_some());
        // Without credentials, a request carries none.
        assert_eq!(
            split_credentials("https://github.com/a/b.git"),
            ("https://github.com/a/b.git".to_string(), None)
        );
        // A URL with user info in the clear to another machine: stripped,
        // and not sent.
        assert_eq!(
            split_credentials("http://u:p@10.0.0.1/r"),
            ("http://10.0.0.1/r".to_string(), None)
        );
    }

    #[test]
    fn any_password_survives_the_url_and_is_never_shown() {
        let odd = Credentials {
            user: "me@corp".into(),
            password: Secret::new("p@ss:w/rd%20?#é".as_bytes()),
        };
        let with = url_with_credentials("https://github.com/a/b.git", "github.com", &odd).unwrap();
        assert!(!format!("{with:?} {odd:?}").contains("p@ss"));
        assert_eq!(display_url(with.expose()), "https://github.com/a/b.git");
        let (bare, auth) = split_credentials(with.expose());
        assert_eq!(bare, "https://github.com/a/b.git");
        let encoded = auth
            .unwrap()
            .expose()
            .strip_prefix("Basic ")
            .unwrap()
            .to_string();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap();
        assert_eq!(
            String::from_utf8(decoded).unwrap(),
            "me@corp:p@ss:w/rd%20?#é"
        );
    }
}
