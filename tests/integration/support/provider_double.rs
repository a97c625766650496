//! A provider's identity endpoint for the `--validate` tests: it knows a set
//! of keys (each with the status it answers), answers scripted outcomes
//! first (429 with `Retry-After`, 5xx, a hang), and records every request.
//! A credential it does not know is a key sent to the wrong provider: the
//! tests assert there are none ([`ProviderDouble::foreign`]).

use std::collections::{HashMap, VecDeque};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use super::http::{Outcome, RecordedRequest, Reply, Server};

/// Where a provider's check puts the key.
#[derive(Debug, Clone, Copy)]
pub enum Credential {
    /// `Authorization: Bearer KEY`.
    Bearer,
    /// The key alone in this header (`x-api-key`).
    Header(&'static str),
    /// AWS SigV4: the key id in the `Credential=` of `Authorization`.
    AwsSigV4,
}

#[derive(Default)]
struct State {
    keys: HashMap<String, u16>,
    script: VecDeque<Outcome>,
    requests: Vec<RecordedRequest>,
    foreign: Vec<String>,
}

pub struct ProviderDouble {
    state: Arc<Mutex<State>>,
    server: Server,
}

impl ProviderDouble {
    pub fn start(credential: Credential) -> ProviderDouble {
        let state = Arc::new(Mutex::new(State::default()));
        let handler_state = Arc::clone(&state);
        let server = Server::start(move |request| {
            let mut state = handler_state.lock().unwrap_or_else(|e| e.into_inner());
            state.requests.push(request.clone());
            let presented = presented(&request, credential);
            let status = presented.as_ref().and_then(|k| state.keys.get(k).copied());
            if status.is_none() {
                state
                    .foreign
                    .push(presented.unwrap_or_else(|| "(no credential)".into()));
            }
            if let Some(outcome) = state.script.pop_front() {
                return outcome;
            }
            let status = status.unwrap_or(401);
            Outcome::Reply(Reply::json(status, &json!({"ok": status == 200})))
        });
        ProviderDouble { state, server }
    }

    /// `key` answers `status` (200 live, 401 dead...).
    pub fn knows(&self, key: &str, status: u16) -> &ProviderDouble {
        self.lock().keys.insert(key.to_string(), status);
        self
    }

    /// The next requests get these outcomes, in order, whatever the key.
    pub fn then(&self, outcome: Outcome) -> &ProviderDouble {
        self.lock().script.push_back(outcome);
        self
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    /// Credentials this provider received that are not its own keys.
    pub fn foreign(&self) -> Vec<String> {
        self.lock().foreign.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn presented(request: &RecordedRequest, credential: Credential) -> Option<String> {
    match credential {
        Credential::Bearer => request
            .header("authorization")?
            .strip_prefix("Bearer ")
            .map(str::to_string),
        Credential::Header(name) => request.header(name).map(str::to_string),
        Credential::AwsSigV4 => {
            let auth = request.header("authorization")?;
            let rest = auth.strip_prefix("AWS4-HMAC-SHA256 Credential=")?;
            rest.split('/').next().map(str::to_string)
        }
    }
}

/// A 429 that asks to come back after `secs`.
pub fn rate_limited(secs: u64) -> Outcome {
    Outcome::Reply(
        Reply::json(429, &json!({"error": "slow down"}))
            .with_header("Retry-After", &secs.to_string()),
    )
}

/// A listener that counts connection attempts and never answers: point
/// every provider (and every proxy variable) at it to prove that nothing
/// connects.
pub struct Tripwire {
    port: u16,
    hits: Arc<AtomicUsize>,
}

impl Tripwire {
    pub fn start() -> Tripwire {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&hits);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                counter.fetch_add(1, Ordering::SeqCst);
                drop(stream);
            }
        });
        Tripwire { port, hits }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn hits(&self) -> usize {
        // Let an in-flight connection be counted.
        std::thread::sleep(Duration::from_millis(50));
        self.hits.load(Ordering::SeqCst)
    }
}
