//! git's smart HTTP protocol for the rotation push, over ureq (rustls)
//! instead of libgit2's own https, which links OpenSSL and loads the system
//! certificates when libgit2 starts: about 25 ms on every command that opens
//! a repository, the commit hook included. This transport costs nothing
//! until a push uses it.
//!
//! Credentials: `GITHUB_TOKEN` (as `x-access-token`), else git's credential
//! helper; sent only to the host they were given for, over https (or http
//! to this machine), never over redirects.

use std::io::{self, Read, Write};
use std::sync::{Mutex, Once};
use std::time::Duration;

use base64::Engine;
use git2::transport::{Service, SmartSubtransport, SmartSubtransportStream, Transport};

use super::endpoint::{display_url, host_of, require_tls, Purpose};

/// Credentials for one host, as the push that set them allows.
pub struct Credentials {
    pub host: String,
    pub user: String,
    pub password: String,
}

/// The credentials of the current push. libgit2 creates transports through
/// a process-wide factory, so they cannot travel with the push itself; they
/// are bound to a host instead, and a request to any other host (or in the
/// clear to another machine) goes without them.
static CREDENTIALS: Mutex<Option<Credentials>> = Mutex::new(None);

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

/// Sets the credentials the next requests to their host carry (`None`:
/// anonymous).
pub fn set_credentials(credentials: Option<Credentials>) {
    *CREDENTIALS.lock().unwrap_or_else(|e| e.into_inner()) = credentials;
}

/// The `Authorization` header for a request to `url`, if credentials were
/// given for its host and the request is not in the clear.
fn authorization(url: &str) -> Option<String> {
    let guard = CREDENTIALS.lock().unwrap_or_else(|e| e.into_inner());
    let c = guard.as_ref()?;
    let host = host_of(url)?;
    if !host.eq_ignore_ascii_case(&c.host) || require_tls(url, Purpose::Push).is_err() {
        return None;
    }
    let pair = format!("{}:{}", c.user, c.password);
    Some(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    ))
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
    url: String,
    service: &'static str,
    body: Vec<u8>,
    response: Option<Box<dyn Read + Send>>,
}

impl HttpStream {
    fn send(&mut self) -> io::Result<Box<dyn Read + Send>> {
        let auth = authorization(&self.url);
        let shown = display_url(&self.url);
        let sent = if self.method == "GET" {
            let mut req = self.agent.get(&self.url);
            if let Some(a) = &auth {
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
            if let Some(a) = &auth {
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

    #[test]
    fn credentials_go_only_to_their_host_and_never_in_the_clear() {
        set_credentials(Some(Credentials {
            host: "github.com".into(),
            user: "x-access-token".into(),
            password: "ghs_1".into(),
        }));
        assert!(authorization("https://github.com/a/b.git/info/refs").is_some());
        assert!(authorization("https://GITHUB.com/a/b.git").is_some());
        assert!(authorization("https://evil.example/a/b.git").is_none());
        assert!(authorization("https://github.com.evil.example/a/b.git").is_none());
        assert!(authorization("http://github.com/a/b.git").is_none());
        set_credentials(None);
        assert!(authorization("https://github.com/a/b.git").is_none());
    }
}
