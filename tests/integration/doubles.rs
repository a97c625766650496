//! The test doubles speak real HTTP to the real clients: Till's admin API to
//! ureq, GitHub's REST API to octocrab.

use std::time::Duration;

use octocrab::models::IssueState;
use octocrab::params;
use octocrab::service::middleware::retry::RetryConfig;
use octocrab::Octocrab;
use serde_json::{json, Value};

use crate::support::github_double::GitHubDouble;
use crate::support::till_double::TillDouble;

const ADMIN: &str = "till_admin_test";
const UPSTREAM: &str = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH";

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

/// One Till call; `(status, body as JSON)`.
fn till(
    till: &TillDouble,
    method: &str,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let agent = agent(Duration::from_secs(10));
    let url = format!("{}{path}", till.url());
    let auth = format!("Bearer {key}");
    let response = match (method, body) {
        ("GET", None) => agent.get(&url).header("Authorization", &auth).call(),
        ("DELETE", None) => agent.delete(&url).header("Authorization", &auth).call(),
        ("POST", Some(body)) => agent
            .post(&url)
            .header("Authorization", &auth)
            .send_json(&body),
        other => panic!("unsupported call {other:?}"),
    };
    let mut response = response.expect("Till double answers");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().expect("body");
    (status, serde_json::from_str(&text).expect("JSON body"))
}

fn create_body() -> Value {
    json!({
        "provider": "openai",
        "upstream_key": UPSTREAM,
        "max_activations": 100,
        "metadata": { "name": "till-scan: src/app.py", "source": "till-scan" },
    })
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<none>")
}

#[test]
fn till_account_requires_the_admin_key() {
    let double = TillDouble::start(ADMIN);
    let (status, body) = till(&double, "GET", "/admin/account", "till_admin_wrong", None);
    assert_eq!(status, 401);
    assert_eq!(error_code(&body), "unauthorized");
    assert!(body["error"]["message"].is_string());

    let (status, body) = till(&double, "GET", "/admin/account", ADMIN, None);
    assert_eq!(status, 200, "{body}");
    let account = &body["account"];
    for field in ["scope", "keysUsed", "tenants", "activationsUsedThisMonth"] {
        assert!(!account[field].is_null(), "account lacks {field}: {body}");
    }
    let requests = double.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[1].header("authorization"),
        Some(format!("Bearer {ADMIN}").as_str())
    );
}

#[test]
fn till_issues_lists_fetches_and_revokes_keys() {
    let double = TillDouble::start(ADMIN);
    let (status, body) = till(&double, "POST", "/admin/keys", ADMIN, Some(create_body()));
    assert_eq!(status, 201, "{body}");
    let key = &body["key"];
    let id = key["id"].as_str().expect("id");
    assert_eq!(id, "key_1");
    let scoped = key["scopedKey"].as_str().expect("scopedKey");
    let (lookup, opaque) = scoped
        .strip_prefix("till_sk_")
        .and_then(|rest| rest.split_once('.'))
        .expect("till_sk_<lookup>.<opaque>");
    assert!(!lookup.is_empty() && !opaque.is_empty());
    assert!(!scoped.contains(UPSTREAM));
    assert!(
        !body.to_string().contains(UPSTREAM),
        "upstream key echoed: {body}"
    );
    assert_eq!(key["provider"], "openai");
    assert_eq!(key["maxActivations"], 100);
    assert_eq!(key["usedActivations"], 0);
    assert_eq!(key["status"], "active");
    assert_eq!(key["tenantId"], "tenant_test");
    assert_eq!(key["metadata"]["name"], "till-scan: src/app.py");
    assert!(key["createdAt"]
        .as_str()
        .is_some_and(|t| t.len() == 20 && t.ends_with('Z')));
    assert_eq!(double.upstream_of(id).as_deref(), Some(UPSTREAM));
    assert_eq!(double.scoped_key_of(id).as_deref(), Some(scoped));
    let body = double.requests()[0].json().expect("JSON request body");
    assert_eq!(body["upstream_key"], UPSTREAM);

    let (status, list) = till(&double, "GET", "/admin/keys", ADMIN, None);
    assert_eq!(status, 200);
    let keys = list["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 1);
    assert!(
        keys[0].get("scopedKey").is_none(),
        "scoped key is shown once"
    );

    let (status, one) = till(&double, "GET", "/admin/keys/key_1", ADMIN, None);
    assert_eq!(status, 200);
    assert_eq!(one["key"]["id"], "key_1");
    assert!(one["key"].get("scopedKey").is_none());

    assert_eq!(double.active_keys().len(), 1);
    let (status, revoked) = till(&double, "DELETE", "/admin/keys/key_1", ADMIN, None);
    assert_eq!(status, 200);
    assert_eq!(revoked["key"]["status"], "revoked");
    assert!(double.active_keys().is_empty());
    assert_eq!(double.keys()[0]["status"], "revoked");

    let (status, missing) = till(&double, "GET", "/admin/keys/key_9", ADMIN, None);
    assert_eq!(status, 404);
    assert_eq!(error_code(&missing), "not_found");
    let (status, missing) = till(&double, "DELETE", "/admin/keys/key_9", ADMIN, None);
    assert_eq!(status, 404);
    assert_eq!(error_code(&missing), "not_found");

    let (_, second) = till(&double, "POST", "/admin/keys", ADMIN, Some(create_body()));
    assert_eq!(second["key"]["id"], "key_2");
    assert_ne!(second["key"]["scopedKey"], scoped);
}

#[test]
fn till_refuses_bad_create_bodies() {
    let double = TillDouble::start(ADMIN);
    let with = |field: &str, value: Value| {
        let mut body = create_body();
        body[field] = value;
        body
    };
    let without = |field: &str| {
        let mut body = create_body();
        body.as_object_mut().expect("object").remove(field);
        body
    };
    let cases = [
        (with("provider", json!("OpenAI")), "invalid_provider"),
        (with("provider", json!("azure")), "invalid_provider"),
        (with("provider", json!(7)), "invalid_provider"),
        (without("provider"), "invalid_request"),
        (without("upstream_key"), "invalid_request"),
        (with("upstream_key", json!("")), "invalid_request"),
        (without("max_activations"), "invalid_request"),
        (with("max_activations", json!(0)), "invalid_request"),
        (with("max_activations", json!(-1)), "invalid_request"),
        (with("max_activations", json!(1.5)), "invalid_request"),
        (with("max_activations", json!("5")), "invalid_request"),
        (with("max_tokens", json!(0)), "invalid_request"),
        (with("max_spend_cents", json!("100")), "invalid_request"),
        (with("ip_whitelist", json!("10.0.0.0/8")), "invalid_request"),
        (with("ip_whitelist", json!([1, 2])), "invalid_request"),
        (with("metadata", json!("name")), "invalid_request"),
        (with("upstreamKey", json!(UPSTREAM)), "invalid_request"),
        (with("maxActivations", json!(5)), "invalid_request"),
        (with("name", json!("top-level name")), "invalid_request"),
        (json!([create_body()]), "invalid_request"),
        (json!("provider=openai"), "invalid_request"),
    ];
    for (body, code) in cases {
        let (status, reply) = till(&double, "POST", "/admin/keys", ADMIN, Some(body.clone()));
        assert_eq!(status, 422, "{body} -> {reply}");
        assert_eq!(error_code(&reply), code, "{body} -> {reply}");
        assert!(reply["error"]["message"].is_string());
        assert!(
            !reply.to_string().contains(UPSTREAM),
            "echoed upstream key: {reply}"
        );
    }
    assert!(double.keys().is_empty());

    let every_option = json!({
        "provider": "cohere",
        "upstream_key": "co-key",
        "max_activations": 1,
        "max_tokens": 5000,
        "max_spend_cents": 250,
        "ip_whitelist": ["10.0.0.0/8", "192.168.1.2"],
        "metadata": { "name": "n", "nested": { "a": [1] } },
    });
    let (status, reply) = till(&double, "POST", "/admin/keys", ADMIN, Some(every_option));
    assert_eq!(status, 201, "{reply}");
    let key = &reply["key"];
    assert_eq!(key["maxTokens"], 5000);
    assert_eq!(key["maxSpendCents"], 250);
    assert_eq!(key["ipWhitelist"], json!(["10.0.0.0/8", "192.168.1.2"]));
    assert_eq!(
        key["metadata"],
        json!({ "name": "n", "nested": { "a": [1] } })
    );

    let not_json = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
        .post(format!("{}/admin/keys", double.url()))
        .header("Authorization", format!("Bearer {ADMIN}"))
        .header("Content-Type", "application/json")
        .send("{\"provider\":")
        .expect("answer");
    assert_eq!(not_json.status().as_u16(), 422);
}

#[test]
fn till_fails_the_calls_it_is_told_to() {
    let double = TillDouble::start(ADMIN);
    double.fail_call(2, 503, "unavailable");
    double.fail_calls_matching("POST", "/admin/keys", 429, "rate_limited", 2);

    let (status, _) = till(&double, "GET", "/admin/account", ADMIN, None);
    assert_eq!(status, 200);
    let (status, body) = till(&double, "GET", "/admin/account", ADMIN, None);
    assert_eq!((status, error_code(&body)), (503, "unavailable"));
    assert!(body["error"]["message"].is_string());

    for _ in 0..2 {
        let (status, body) = till(&double, "POST", "/admin/keys", ADMIN, Some(create_body()));
        assert_eq!((status, error_code(&body)), (429, "rate_limited"));
    }
    assert!(double.keys().is_empty(), "a failed create stores nothing");
    let (status, _) = till(&double, "POST", "/admin/keys", ADMIN, Some(create_body()));
    assert_eq!(status, 201);
    // Injected failures win over auth: they stand for a gateway in front of Till.
    double.fail_call(6, 500, "internal");
    let (status, body) = till(&double, "GET", "/admin/keys", "wrong", None);
    assert_eq!((status, error_code(&body)), (500, "internal"));
    assert_eq!(double.call_count(), 6);
}

#[test]
fn till_hangs_the_call_it_is_told_to() {
    let double = TillDouble::start(ADMIN);
    double.set_hang_duration(Duration::from_secs(5));
    double.hang_call(1);
    let started = std::time::Instant::now();
    let result = agent(Duration::from_millis(300))
        .get(format!("{}/admin/account", double.url()))
        .header("Authorization", format!("Bearer {ADMIN}"))
        .call();
    assert!(
        matches!(result, Err(ureq::Error::Timeout(_))),
        "expected a timeout, got {result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    let (status, _) = till(&double, "GET", "/admin/account", ADMIN, None);
    assert_eq!(status, 200, "the next call is answered");
    assert_eq!(double.call_count(), 2);
}

const TOKEN: &str = "ghp_testtoken";

fn octocrab(url: &str, token: &str) -> Octocrab {
    Octocrab::builder()
        .base_uri(url)
        .expect("base uri")
        .personal_token(token.to_string())
        .build()
        .expect("octocrab")
}

/// `(status, message, errors)` of octocrab's error for a non-2xx answer.
fn github_error(error: octocrab::Error) -> (u16, String, Vec<Value>) {
    match error {
        octocrab::Error::GitHub { source, .. } => (
            source.status_code.as_u16(),
            source.message.clone(),
            source.errors.clone().unwrap_or_default(),
        ),
        other => panic!("expected octocrab::Error::GitHub, got {other:?}"),
    }
}

#[tokio::test]
async fn github_serves_the_repository() {
    let double = GitHubDouble::start(TOKEN, "acme", "widgets", "trunk");
    let repo = octocrab(&double.url(), TOKEN)
        .repos("acme", "widgets")
        .get()
        .await
        .expect("repository");
    assert_eq!(repo.default_branch.as_deref(), Some("trunk"));
    assert_eq!(repo.full_name.as_deref(), Some("acme/widgets"));
    assert_eq!(repo.name, "widgets");
    assert_eq!(repo.owner.expect("owner").login, "acme");
    assert_eq!(
        repo.html_url.expect("html_url").as_str(),
        "https://github.example/acme/widgets"
    );
    assert_eq!(
        repo.clone_url.expect("clone_url").as_str(),
        "https://github.example/acme/widgets.git"
    );

    let requests = double.requests();
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].path, "/repos/acme/widgets");
    assert_eq!(
        requests[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );

    let missing = octocrab(&double.url(), TOKEN)
        .repos("acme", "gadgets")
        .get()
        .await
        .expect_err("unknown repository");
    assert_eq!(github_error(missing).0, 404);
}

#[tokio::test]
async fn github_refuses_a_bad_token() {
    let double = GitHubDouble::start(TOKEN, "acme", "widgets", "main");
    let error = octocrab(&double.url(), "ghp_wrong")
        .repos("acme", "widgets")
        .get()
        .await
        .expect_err("bad token");
    let (status, message, _) = github_error(error);
    assert_eq!((status, message.as_str()), (401, "Bad credentials"));

    let via_ureq = agent(Duration::from_secs(5))
        .get(format!("{}/repos/acme/widgets", double.url()))
        .header("Authorization", format!("token {TOKEN}"))
        .call()
        .expect("answer");
    assert_eq!(
        via_ureq.status().as_u16(),
        200,
        "`token <t>` is accepted too"
    );
}

#[tokio::test]
async fn github_creates_and_finds_pull_requests() {
    let double = GitHubDouble::start(TOKEN, "acme", "widgets", "main");
    let github = octocrab(&double.url(), TOKEN);
    let pulls = github.pulls("acme", "widgets");

    let pull = pulls
        .create("Rotate 1 key to Till", "till-scan/rotate-1", "main")
        .body("Replaces a hardcoded key.")
        .send()
        .await
        .expect("created");
    assert_eq!(pull.number, 1);
    assert_eq!(
        pull.html_url.as_ref().expect("html_url").as_str(),
        "https://github.example/acme/widgets/pull/1"
    );
    assert_eq!(pull.state, Some(IssueState::Open));
    assert_eq!(pull.title.as_deref(), Some("Rotate 1 key to Till"));
    assert_eq!(pull.body.as_deref(), Some("Replaces a hardcoded key."));
    assert_eq!(pull.head.ref_field, "till-scan/rotate-1");
    assert_eq!(pull.head.label.as_deref(), Some("acme:till-scan/rotate-1"));
    assert_eq!(pull.head.sha.len(), 40);
    assert_eq!(pull.base.ref_field, "main");

    let recorded = double.pulls();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0]["title"], "Rotate 1 key to Till");
    let bodies = double.create_bodies();
    assert_eq!(
        bodies[0],
        json!({
            "title": "Rotate 1 key to Till",
            "head": "till-scan/rotate-1",
            "base": "main",
            "body": "Replaces a hardcoded key.",
        })
    );

    let found = pulls
        .list()
        .head("acme:till-scan/rotate-1")
        .state(params::State::Open)
        .send()
        .await
        .expect("listed");
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.items[0].number, 1);
    assert!(found.next.is_none());
    let list_request = double.requests().pop().expect("list request");
    assert_eq!(
        list_request.path,
        "/repos/acme/widgets/pulls?state=open&head=acme%3Atill-scan%2Frotate-1"
    );

    let other = pulls
        .list()
        .head("acme:till-scan/rotate-2")
        .state(params::State::Open)
        .send()
        .await
        .expect("listed");
    assert!(other.items.is_empty());
    let closed = pulls
        .list()
        .head("acme:till-scan/rotate-1")
        .state(params::State::Closed)
        .send()
        .await
        .expect("listed");
    assert!(closed.items.is_empty());

    let fetched = pulls.get(1).await.expect("fetched");
    assert_eq!(fetched.number, 1);
}

#[tokio::test]
async fn github_refuses_a_second_open_pull_request_for_a_head() {
    let double = GitHubDouble::start(TOKEN, "acme", "widgets", "main");
    let github = octocrab(&double.url(), TOKEN);
    let pulls = github.pulls("acme", "widgets");
    pulls
        .create("first", "till-scan/rotate", "main")
        .send()
        .await
        .expect("created");
    let error = pulls
        .create("second", "acme:till-scan/rotate", "main")
        .send()
        .await
        .expect_err("duplicate");
    let (status, message, errors) = github_error(error);
    assert_eq!((status, message.as_str()), (422, "Validation Failed"));
    assert_eq!(
        errors[0]["message"],
        "A pull request already exists for acme:till-scan/rotate."
    );
    assert_eq!(errors[0]["resource"], "PullRequest");
    assert_eq!(errors[0]["code"], "custom");

    double.close_pull(1);
    let again = pulls
        .create("third", "till-scan/rotate", "main")
        .send()
        .await
        .expect("head free again once the first is closed");
    assert_eq!(again.number, 2);
    assert_eq!(double.create_bodies().len(), 3);
}

#[tokio::test]
async fn github_fails_the_creates_it_is_told_to() {
    let double = GitHubDouble::start(TOKEN, "acme", "widgets", "main");
    let github = octocrab(&double.url(), TOKEN);
    let pulls = github.pulls("acme", "widgets");

    double.fail_next_create(403, "Resource not accessible by personal access token");
    let error = pulls
        .create("t", "b1", "main")
        .send()
        .await
        .expect_err("forbidden");
    let (status, message, _) = github_error(error);
    assert_eq!(status, 403);
    assert_eq!(message, "Resource not accessible by personal access token");
    assert!(double.pulls().is_empty());

    // octocrab's default policy (RetryConfig::Simple(3)) resends a POST that
    // got a 5xx: one injected 500 is invisible to the caller.
    double.fail_next_create(500, "Server Error");
    let pull = pulls
        .create("t", "b2", "main")
        .send()
        .await
        .expect("retried");
    assert_eq!(pull.number, 1);
    assert_eq!(double.create_bodies().len(), 3);

    // Without retries the 500 reaches the caller.
    let no_retry = Octocrab::builder()
        .base_uri(double.url())
        .expect("base uri")
        .personal_token(TOKEN.to_string())
        .add_retry_config(RetryConfig::None)
        .build()
        .expect("octocrab");
    double.fail_next_create(500, "Server Error");
    let error = no_retry
        .pulls("acme", "widgets")
        .create("t", "b3", "main")
        .send()
        .await
        .expect_err("server error");
    assert_eq!(github_error(error).0, 500);

    double.fail_next_create(422, "Validation Failed");
    let error = pulls
        .create("t", "b4", "main")
        .send()
        .await
        .expect_err("422");
    assert_eq!(github_error(error).0, 422);

    let missing = pulls
        .create("", "b5", "main")
        .send()
        .await
        .expect_err("no title");
    let (status, _, errors) = github_error(missing);
    assert_eq!(status, 422);
    assert_eq!(errors[0]["field"], "title");
}

#[tokio::test]
async fn github_pages_pull_requests() {
    let double = GitHubDouble::start(TOKEN, "acme", "widgets", "main");
    let github = octocrab(&double.url(), TOKEN);
    let pulls = github.pulls("acme", "widgets");
    for n in 1..=3 {
        pulls
            .create(format!("pr {n}"), format!("b{n}"), "main")
            .send()
            .await
            .expect("created");
    }
    let first = pulls
        .list()
        .state(params::State::Open)
        .per_page(2)
        .send()
        .await
        .expect("page 1");
    assert_eq!(
        first.items.iter().map(|p| p.number).collect::<Vec<_>>(),
        [3, 2],
        "newest first"
    );
    assert!(first.next.is_some());
    let second: octocrab::Page<octocrab::models::pulls::PullRequest> = github
        .get_page(&first.next)
        .await
        .expect("page 2")
        .expect("a second page");
    assert_eq!(
        second.items.iter().map(|p| p.number).collect::<Vec<_>>(),
        [1]
    );
    assert!(second.next.is_none());
}
