//! An in-memory Till admin API (see /work/shared/till-api.md) for rotation
//! tests: it issues, lists, fetches and revokes keys with the documented
//! shapes (snake_case requests, camelCase responses, `{"error":{code,message}}`
//! errors), validates create bodies strictly, and can fail or hang chosen
//! calls. Choices the contract leaves open are marked *assumed*.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::http::{now_rfc3339, random_hex, Outcome, RecordedRequest, Reply, Server};

/// The provider ids Till accepts.
pub const PROVIDERS: [&str; 12] = [
    "openai",
    "anthropic",
    "google",
    "openrouter",
    "mistral",
    "groq",
    "together",
    "fireworks",
    "perplexity",
    "deepseek",
    "xai",
    "cohere",
];

/// The tenant every key of the double belongs to (*assumed* shape).
pub const TENANT_ID: &str = "tenant_test";

const CREATE_FIELDS: [&str; 7] = [
    "provider",
    "upstream_key",
    "max_activations",
    "metadata",
    "ip_whitelist",
    "max_tokens",
    "max_spend_cents",
];

pub struct TillDouble {
    state: Arc<Mutex<State>>,
    server: Server,
}

struct State {
    admin_key: String,
    requests: Vec<RecordedRequest>,
    keys: Vec<StoredKey>,
    next_id: u64,
    injections: Vec<Injection>,
    hangs: Vec<usize>,
    hang_for: Duration,
    /// Statuses with which the next creates are answered after the key was
    /// minted (an answer lost to a failing proxy).
    lost_creates: Vec<u16>,
}

struct StoredKey {
    /// The Key object as GET returns it (no `scopedKey`).
    key: Value,
    upstream: String,
    scoped: String,
}

enum Injection {
    Nth {
        n: usize,
        status: u16,
        code: String,
    },
    Matching {
        method: String,
        path_prefix: String,
        status: u16,
        code: String,
        remaining: usize,
    },
    /// A hostile or broken Till: this exact answer, whatever the request.
    Raw {
        method: String,
        path_prefix: String,
        reply: Reply,
        remaining: usize,
    },
}

impl TillDouble {
    /// Starts a Till on 127.0.0.1 that accepts `Authorization: Bearer <admin_key>`.
    pub fn start(admin_key: &str) -> TillDouble {
        let state = Arc::new(Mutex::new(State {
            admin_key: admin_key.to_string(),
            requests: Vec::new(),
            keys: Vec::new(),
            next_id: 1,
            injections: Vec::new(),
            hangs: Vec::new(),
            hang_for: Duration::from_secs(10),
            lost_creates: Vec::new(),
        }));
        let handler_state = Arc::clone(&state);
        let server = Server::start(move |request| {
            let mut state = handler_state.lock().unwrap_or_else(|e| e.into_inner());
            state.handle(request)
        });
        TillDouble { state, server }
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The `n`-th request (1-based, counting every request, failed ones too)
    /// fails with `status` and `{"error":{"code":code,"message":...}}`.
    pub fn fail_call(&self, n: usize, status: u16, code: &str) {
        self.lock().injections.push(Injection::Nth {
            n,
            status,
            code: code.to_string(),
        });
    }

    /// The next `times` requests whose method is `method` (case-insensitive)
    /// and whose path starts with `path_prefix` fail with `status` and `code`.
    pub fn fail_calls_matching(
        &self,
        method: &str,
        path_prefix: &str,
        status: u16,
        code: &str,
        times: usize,
    ) {
        self.lock().injections.push(Injection::Matching {
            method: method.to_ascii_uppercase(),
            path_prefix: path_prefix.to_string(),
            status,
            code: code.to_string(),
            remaining: times,
        });
    }

    /// The next `times` requests whose method is `method` and whose path
    /// starts with `path_prefix` get `reply` as it is (any status, any body,
    /// JSON or not), before the admin key is even checked.
    pub fn reply_matching(&self, method: &str, path_prefix: &str, reply: Reply, times: usize) {
        self.lock().injections.push(Injection::Raw {
            method: method.to_ascii_uppercase(),
            path_prefix: path_prefix.to_string(),
            reply,
            remaining: times,
        });
    }

    /// The next create mints its key as usual but is answered with `status`
    /// (`{"error":{"code":"bad_gateway",...}}`), as when a proxy in front of
    /// Till fails after Till did the work.
    pub fn mint_then_fail_next_create(&self, status: u16) {
        self.lock().lost_creates.push(status);
    }

    /// The `n`-th request (1-based) gets no response for the hang duration
    /// (10 s unless [`TillDouble::set_hang_duration`]), then the connection closes.
    pub fn hang_call(&self, n: usize) {
        self.lock().hangs.push(n);
    }

    pub fn set_hang_duration(&self, duration: Duration) {
        self.lock().hang_for = duration;
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    /// How many requests arrived (the count `fail_call` and `hang_call` use).
    pub fn call_count(&self) -> usize {
        self.lock().requests.len()
    }

    /// All stored Key objects (camelCase, no `scopedKey`), in creation order.
    pub fn keys(&self) -> Vec<Value> {
        self.lock().keys.iter().map(|k| k.key.clone()).collect()
    }

    /// The stored keys whose `status` is `active`.
    pub fn active_keys(&self) -> Vec<Value> {
        self.keys()
            .into_iter()
            .filter(|k| k["status"] == "active")
            .collect()
    }

    /// Stores a key as if it had been minted and used: `fields` (camelCase
    /// Key fields: usage, limits, dates, `metadata`, `status`...) over the
    /// defaults of a fresh active key. Returns its id and scoped key.
    pub fn seed_key(&self, fields: Value) -> (String, String) {
        let mut state = self.lock();
        let id = format!("key_{}", state.next_id);
        state.next_id += 1;
        let scoped = format!("till_sk_{}.{}", random_hex(16), random_hex(64));
        let mut key = json!({
            "id": id,
            "tenantId": TENANT_ID,
            "provider": "openai",
            "maxActivations": 1000,
            "usedActivations": 0,
            "status": "active",
            "ipWhitelist": Value::Null,
            "createdAt": now_rfc3339(),
            "lastUsedAt": Value::Null,
            "metadata": Value::Null,
            "maxTokens": Value::Null,
            "usedTokens": 0,
            "maxSpendCents": Value::Null,
            "usedSpendCents": 0,
        });
        if let Value::Object(fields) = fields {
            for (k, v) in fields {
                key[k] = v;
            }
        }
        let id = key["id"].as_str().unwrap_or_default().to_string();
        state.keys.push(StoredKey {
            key,
            upstream: String::new(),
            scoped: scoped.clone(),
        });
        (id, scoped)
    }

    /// Test-only: the upstream key the key `id` was created with.
    pub fn upstream_of(&self, id: &str) -> Option<String> {
        self.lock().find(id).map(|k| k.upstream.clone())
    }

    /// Test-only: the scoped key issued for `id`.
    pub fn scoped_key_of(&self, id: &str) -> Option<String> {
        self.lock().find(id).map(|k| k.scoped.clone())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    fn find(&self, id: &str) -> Option<&StoredKey> {
        self.keys.iter().find(|k| k.key["id"] == id)
    }

    fn handle(&mut self, request: RecordedRequest) -> Outcome {
        self.requests.push(request.clone());
        let n = self.requests.len();
        if self.hangs.contains(&n) {
            return Outcome::Hang(self.hang_for);
        }
        if let Some(reply) = self.injected(n, &request) {
            return Outcome::Reply(reply);
        }
        let expected = format!("Bearer {}", self.admin_key);
        if request.header("authorization") != Some(expected.as_str()) {
            return Outcome::Reply(error(401, "unauthorized", "missing or invalid admin key"));
        }
        let reply = self.route(&request);
        if request.method == "POST"
            && request.path_only() == "/admin/keys"
            && reply.status < 300
            && !self.lost_creates.is_empty()
        {
            let status = self.lost_creates.remove(0);
            return Outcome::Reply(error(status, "bad_gateway", "upstream connect error"));
        }
        Outcome::Reply(reply)
    }

    fn injected(&mut self, n: usize, request: &RecordedRequest) -> Option<Reply> {
        for injection in &mut self.injections {
            match injection {
                Injection::Nth {
                    n: at,
                    status,
                    code,
                } if *at == n => {
                    return Some(error(
                        *status,
                        code,
                        &format!("injected failure on call {n}"),
                    ));
                }
                Injection::Matching {
                    method,
                    path_prefix,
                    status,
                    code,
                    remaining,
                } if *remaining > 0
                    && request.method.eq_ignore_ascii_case(method)
                    && request.path.starts_with(path_prefix.as_str()) =>
                {
                    *remaining -= 1;
                    return Some(error(
                        *status,
                        code,
                        &format!("injected failure on call {n}"),
                    ));
                }
                Injection::Raw {
                    method,
                    path_prefix,
                    reply,
                    remaining,
                } if *remaining > 0
                    && request.method.eq_ignore_ascii_case(method)
                    && request.path.starts_with(path_prefix.as_str()) =>
                {
                    *remaining -= 1;
                    return Some(reply.clone());
                }
                _ => {}
            }
        }
        None
    }

    fn route(&mut self, request: &RecordedRequest) -> Reply {
        let path = request.path_only();
        let method = request.method.as_str();
        match (method, path) {
            ("GET", "/admin/account") => self.account(),
            ("POST", "/admin/keys") => self.create(request),
            ("GET", "/admin/keys") => {
                let keys: Vec<Value> = self.keys.iter().map(|k| k.key.clone()).collect();
                Reply::json(200, &json!({ "keys": keys }))
            }
            (_, "/admin/account" | "/admin/keys") => {
                error(405, "method_not_allowed", "method not allowed")
            }
            _ => match path.strip_prefix("/admin/keys/") {
                Some(id) if !id.is_empty() && !id.contains('/') => match method {
                    "GET" => match self.find(id) {
                        Some(k) => Reply::json(200, &json!({ "key": k.key })),
                        None => not_found(id),
                    },
                    "DELETE" => self.revoke(id),
                    _ => error(405, "method_not_allowed", "method not allowed"),
                },
                _ => error(404, "not_found", &format!("no route for {method} {path}")),
            },
        }
    }

    /// *Assumed* values: the contract names the fields, not their content.
    fn account(&self) -> Reply {
        let keys_used = self
            .keys
            .iter()
            .filter(|k| k.key["status"] == "active")
            .count();
        Reply::json(
            200,
            &json!({
                "account": {
                    "scope": "tenant",
                    "tenant": { "id": TENANT_ID, "name": "till-scan tests" },
                    "keysUsed": keys_used,
                    "tenants": 1,
                    "activationsUsedThisMonth": 0,
                }
            }),
        )
    }

    fn create(&mut self, request: &RecordedRequest) -> Reply {
        let body = match validate_create(request) {
            Ok(body) => body,
            Err(reply) => return reply,
        };
        let id = format!("key_{}", self.next_id);
        self.next_id += 1;
        let upstream = body.upstream_key.clone();
        // Real Till encrypts the upstream key into the token; the double uses
        // random bytes so a test can never find the upstream key in it.
        let scoped = loop {
            let scoped = format!("till_sk_{}.{}", random_hex(16), random_hex(64));
            if !scoped.contains(upstream.as_str()) {
                break scoped;
            }
        };
        let key = json!({
            "id": id,
            "tenantId": TENANT_ID,
            "provider": body.provider,
            "maxActivations": body.max_activations,
            "usedActivations": 0,
            "status": "active",
            "ipWhitelist": body.ip_whitelist,
            "createdAt": now_rfc3339(),
            "lastUsedAt": Value::Null,
            "metadata": body.metadata,
            "maxTokens": body.max_tokens,
            "usedTokens": 0,
            "maxSpendCents": body.max_spend_cents,
            "usedSpendCents": 0,
        });
        let mut created = key.clone();
        created["scopedKey"] = Value::String(scoped.clone());
        self.keys.push(StoredKey {
            key,
            upstream,
            scoped,
        });
        // *Assumed*: 201 Created; clients should accept any 2xx.
        Reply::json(201, &json!({ "key": created }))
    }

    fn revoke(&mut self, id: &str) -> Reply {
        match self.keys.iter_mut().find(|k| k.key["id"] == id) {
            Some(stored) => {
                stored.key["status"] = Value::String("revoked".to_string());
                Reply::json(200, &json!({ "key": stored.key }))
            }
            None => not_found(id),
        }
    }
}

struct CreateBody {
    provider: String,
    upstream_key: String,
    max_activations: u64,
    max_tokens: Option<u64>,
    max_spend_cents: Option<u64>,
    ip_whitelist: Option<Vec<String>>,
    metadata: Option<Map<String, Value>>,
}

fn validate_create(request: &RecordedRequest) -> Result<CreateBody, Reply> {
    let invalid = |message: &str| error(422, "invalid_request", message);
    let content_type = request.header("content-type").unwrap_or("");
    if !content_type
        .to_ascii_lowercase()
        .starts_with("application/json")
    {
        return Err(error(
            415,
            "unsupported_media_type",
            "Content-Type must be application/json",
        ));
    }
    let Ok(value) = serde_json::from_str::<Value>(&request.body) else {
        return Err(invalid("body is not valid JSON"));
    };
    let Value::Object(fields) = value else {
        return Err(invalid("body must be a JSON object"));
    };
    if let Some(unknown) = fields.keys().find(|k| !CREATE_FIELDS.contains(&k.as_str())) {
        return Err(invalid(&format!(
            "unknown field `{unknown}` (request fields are snake_case: {})",
            CREATE_FIELDS.join(", ")
        )));
    }
    // An explicit null counts as absent for the optional fields (*assumed*).
    let present = |name: &str| fields.get(name).filter(|v| !v.is_null());

    let provider = match fields.get("provider") {
        None | Some(Value::Null) => return Err(invalid("provider is required")),
        Some(Value::String(p)) if PROVIDERS.contains(&p.as_str()) => p.clone(),
        Some(other) => {
            return Err(error(
                422,
                "invalid_provider",
                &format!("provider {other} is not one of {}", PROVIDERS.join(", ")),
            ))
        }
    };
    let upstream_key = match fields.get("upstream_key") {
        Some(Value::String(k)) if !k.is_empty() => k.clone(),
        _ => return Err(invalid("upstream_key must be a non-empty string")),
    };
    let max_activations = match fields.get("max_activations").and_then(positive) {
        Some(n) => n,
        None => return Err(invalid("max_activations must be a positive integer")),
    };
    let optional_positive = |name: &str| match present(name) {
        None => Ok(None),
        Some(v) => positive(v)
            .map(Some)
            .ok_or_else(|| invalid(&format!("{name} must be a positive integer"))),
    };
    let max_tokens = optional_positive("max_tokens")?;
    let max_spend_cents = optional_positive("max_spend_cents")?;
    let ip_whitelist = match present("ip_whitelist") {
        None => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|i| i.as_str().map(str::to_string))
                .collect::<Option<Vec<String>>>()
                .ok_or_else(|| invalid("ip_whitelist must be an array of strings"))?,
        ),
        Some(_) => return Err(invalid("ip_whitelist must be an array of strings")),
    };
    let metadata = match present("metadata") {
        None => None,
        Some(Value::Object(m)) => Some(m.clone()),
        Some(_) => return Err(invalid("metadata must be an object")),
    };
    Ok(CreateBody {
        provider,
        upstream_key,
        max_activations,
        max_tokens,
        max_spend_cents,
        ip_whitelist,
        metadata,
    })
}

/// A JSON integer >= 1 (so `1.0`, `"5"`, `0` and `-1` are all refused).
fn positive(value: &Value) -> Option<u64> {
    value.as_u64().filter(|n| *n >= 1)
}

fn error(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(
        status,
        &json!({ "error": { "code": code, "message": message } }),
    )
}

fn not_found(id: &str) -> Reply {
    error(404, "not_found", &format!("no key with id {id}"))
}
