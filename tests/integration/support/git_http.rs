//! A git smart-HTTP server on 127.0.0.1 for the rotation tests: each
//! request goes to `git http-backend` (CGI), behind Basic auth.

use std::path::Path;
use std::process::Command;

/// A git smart-HTTP server on 127.0.0.1 that hands each request to
/// `git http-backend` (CGI) and wants Basic auth `x-access-token:<token>`.
pub struct GitHttpServer {
    pub url: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Drop for GitHttpServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl GitHttpServer {
    pub fn start(root: &Path, token: &str) -> GitHttpServer {
        use base64::Engine;
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{token}"))
        );
        let root = root.to_path_buf();
        let stopped = stop.clone();
        std::thread::spawn(move || {
            while !stopped.load(std::sync::atomic::Ordering::SeqCst) {
                let Ok((stream, _)) = listener.accept() else {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    continue;
                };
                stream.set_nonblocking(false).unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let mut parts = line.split_whitespace();
                let method = parts.next().unwrap_or("").to_string();
                let target = parts.next().unwrap_or("").to_string();
                let mut headers = Vec::new();
                loop {
                    let mut h = String::new();
                    reader.read_line(&mut h).unwrap();
                    let h = h.trim_end().to_string();
                    if h.is_empty() {
                        break;
                    }
                    if let Some((k, v)) = h.split_once(':') {
                        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
                    }
                }
                let header = |name: &str| {
                    headers
                        .iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                };
                let length: usize = header("content-length").parse().unwrap_or(0);
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                let mut out = stream;
                if header("authorization") != expected {
                    let _ = out.write_all(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    continue;
                }
                let (path, query) = target.split_once('?').unwrap_or((&target, ""));
                let mut child = super::clean_env(&mut Command::new("git"))
                    .arg("http-backend")
                    .env("GIT_PROJECT_ROOT", &root)
                    .env("GIT_HTTP_EXPORT_ALL", "1")
                    .env("REQUEST_METHOD", &method)
                    .env("PATH_INFO", path)
                    .env("QUERY_STRING", query)
                    .env("CONTENT_TYPE", header("content-type"))
                    .env("CONTENT_LENGTH", length.to_string())
                    .env("REMOTE_USER", "x-access-token")
                    .env("REMOTE_ADDR", "127.0.0.1")
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
                    .spawn()
                    .unwrap();
                child.stdin.take().unwrap().write_all(&body).unwrap();
                let output = child.wait_with_output().unwrap();
                let split = output
                    .stdout
                    .windows(4)
                    .position(|w| w == b"\r\n\r\n")
                    .map(|i| (i, i + 4))
                    .or_else(|| {
                        output
                            .stdout
                            .windows(2)
                            .position(|w| w == b"\n\n")
                            .map(|i| (i, i + 2))
                    })
                    .unwrap();
                let cgi_headers = String::from_utf8_lossy(&output.stdout[..split.0]).to_string();
                let cgi_body = &output.stdout[split.1..];
                let mut status = "200 OK".to_string();
                let mut response = Vec::new();
                for h in cgi_headers.lines() {
                    match h.split_once(':') {
                        Some((k, v)) if k.eq_ignore_ascii_case("status") => {
                            status = v.trim().to_string()
                        }
                        Some(_) => response.extend_from_slice(format!("{h}\r\n").as_bytes()),
                        None => {}
                    }
                }
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
                    cgi_body.len()
                );
                let _ = out.write_all(head.as_bytes());
                let _ = out.write_all(&response);
                let _ = out.write_all(b"\r\n");
                let _ = out.write_all(cgi_body);
            }
        });
        GitHttpServer { url, stop }
    }
}
