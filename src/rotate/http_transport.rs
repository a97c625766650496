//! git's smart HTTP protocol for the rotation push, over ureq (rustls)
//! instead of libgit2's own https, which links OpenSSL and loads the system
//! certificates when libgit2 starts: about 25 ms on every command that opens
//! a repository, the commit hook included. This transport costs nothing
//! until a push uses it.
//!
//! Credentials: `GITHUB_TOKEN` (as `x-access-token`), else git's credential
//! helper; sent only to the remote being pushed to, never over redirects.

use std::io::{self, Read, Write};
use std::sync::{Mutex, Once};
use std::time::Duration;

use base64::Engine;
use git2::transport::{Service, SmartSubtransport, SmartSubtransportStream, Transport};

/// User and password for the remote of the current push.
static CREDENTIALS: Mutex<Option<(String, String)>> = Mutex::new(None);

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

/// Sets the credentials the next requests carry (`None`: anonymous).
pub fn set_credentials(credentials: Option<(String, String)>) {
    *CREDENTIALS.lock().unwrap_or_else(|e| e.into_inner()) = credentials;
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
        let auth = CREDENTIALS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|(user, pass)| {
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
                )
            });
        let shown = strip_userinfo(&self.url);
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

/// `https://user:secret@host/x` -> `https://host/x`, for messages.
pub(crate) fn strip_userinfo(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            format!("{scheme}://{host}/{path}")
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_never_show_url_credentials() {
        assert_eq!(
            strip_userinfo("https://x-access-token:ghs_1@github.com/a/b.git/info/refs"),
            "https://github.com/a/b.git/info/refs"
        );
        assert_eq!(
            strip_userinfo("http://127.0.0.1:9/r"),
            "http://127.0.0.1:9/r"
        );
    }
}
