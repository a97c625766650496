//! `--validate` (issue 16, item 1): each distinct key goes to its own
//! provider's double once; the answer (live, dead, unknown with a reason)
//! reaches every report format; `--only-live` and `--fail-on live` act on
//! it; 429 with `Retry-After`, 5xx, hung servers and closed ports are
//! bounded; and without `--validate` nothing connects anywhere. Every test
//! checks that no provider received another provider's key and that no
//! output shows a key.

use std::time::{Duration, Instant};

use crate::support::http::Outcome;
use crate::support::keys::{ANTHROPIC, AWS, AWS_SECRET, GROQ, OPENAI};
use crate::support::project::{Project, Run};
use crate::support::provider_double::{rate_limited, Credential, ProviderDouble, Tripwire};

struct Providers {
    openai: ProviderDouble,
    anthropic: ProviderDouble,
    groq: ProviderDouble,
    aws: ProviderDouble,
}

impl Providers {
    /// OpenAI's key is live, Anthropic's dead, Groq answers 418, AWS live.
    fn start() -> Providers {
        let p = Providers {
            openai: ProviderDouble::start(Credential::Bearer),
            anthropic: ProviderDouble::start(Credential::Header("x-api-key")),
            groq: ProviderDouble::start(Credential::Bearer),
            aws: ProviderDouble::start(Credential::AwsSigV4),
        };
        p.openai.knows(OPENAI, 200);
        p.anthropic.knows(ANTHROPIC, 401);
        p.groq.knows(GROQ, 418);
        p.aws.knows(AWS, 200);
        p
    }

    fn config(&self, extra: &str) -> String {
        format!(
            "[validate]\ntimeout = \"2s\"\nmax_retry_wait = \"3s\"\n{extra}\n[validate.base_url]\nopenai = \"{}\"\nanthropic = \"{}\"\ngroq = \"{}\"\naws = \"{}\"\n",
            self.openai.url(),
            self.anthropic.url(),
            self.groq.url(),
            self.aws.url()
        )
    }

    fn assert_no_foreign_keys(&self) {
        for (name, double) in [
            ("openai", &self.openai),
            ("anthropic", &self.anthropic),
            ("groq", &self.groq),
            ("aws", &self.aws),
        ] {
            assert!(
                double.foreign().is_empty(),
                "{name} received credentials that are not its keys: {} of them",
                double.foreign().len()
            );
        }
    }
}

fn project(providers: &Providers, extra_config: &str) -> Project {
    let p = Project::new();
    p.write(".till-scan.toml", &providers.config(extra_config));
    p.write(
        "app/openai.py",
        &format!("client = OpenAI(api_key=\"{OPENAI}\")\n"),
    );
    p.write("app/claude.ts", &format!("const key = \"{ANTHROPIC}\";\n"));
    p.write(".env", &format!("GROQ_API_KEY={GROQ}\n"));
    p.write(
        "deploy/credentials",
        &format!("[default]\naws_access_key_id = {AWS}\naws_secret_access_key = {AWS_SECRET}\n"),
    );
    p
}

fn run(p: &Project, args: &[&str]) -> Run {
    let mut c = p.command(args);
    c.env("TILL_SCAN_RETRY_BACKOFF_MS", "5");
    crate::support::project::run_command(c, b"")
}

fn assert_no_secret(r: &Run) {
    for key in [OPENAI, ANTHROPIC, GROQ, AWS_SECRET] {
        assert!(!r.stdout.contains(key), "a key in stdout: {r}");
        assert!(!r.stderr.contains(key), "a key in stderr: {r}");
    }
}

/// `rule id -> validation object` of a JSON report.
fn validations(r: &Run) -> Vec<(String, serde_json::Value)> {
    let json = r.json();
    assert_eq!(json["version"], 5, "{r}");
    let mut out: Vec<(String, serde_json::Value)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["validation"].clone(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn each_key_is_checked_once_by_its_own_provider_and_every_format_shows_the_answer() {
    let providers = Providers::start();
    let p = project(&providers, "");
    // The same OpenAI key twice more: still one request.
    p.write(
        "app/again.py",
        &format!("KEY = '{OPENAI}'\nOTHER = '{OPENAI}'\n"),
    );
    let r = run(
        &p,
        &[
            "dir",
            ".",
            "--validate",
            "-f",
            "json",
            "--also-write",
            "sarif=out.sarif",
            "--also-write",
            "markdown=out.md",
            "--also-write",
            "human=out.txt",
        ],
    );
    assert_eq!(r.code, 1, "{r}");
    assert_no_secret(&r);
    let v = validations(&r);
    let status = |rule: &str| {
        v.iter()
            .find(|(id, _)| id == rule)
            .map(|(_, v)| {
                (
                    v["status"].as_str().unwrap_or("").to_string(),
                    v["reason"].as_str().unwrap_or("").to_string(),
                )
            })
            .unwrap_or_else(|| panic!("no {rule}: {r}"))
    };
    assert_eq!(
        status("openai.project-key"),
        ("live".into(), "HTTP 200".into())
    );
    assert_eq!(
        status("anthropic.api-key"),
        ("dead".into(), "HTTP 401".into())
    );
    assert_eq!(
        status("groq.api-key"),
        ("unknown".into(), "unexpected HTTP 418".into())
    );
    assert_eq!(
        status("aws.access-key-pair"),
        ("live".into(), "HTTP 200".into())
    );
    assert!(
        r.stderr
            .contains("validated 4 keys: 2 live, 1 dead, 1 unknown"),
        "{r}"
    );

    // One request per distinct key, with the provider's documented shape.
    let openai = providers.openai.requests();
    assert_eq!(openai.len(), 1, "{openai:?}");
    assert_eq!(
        (openai[0].method.as_str(), openai[0].path.as_str()),
        ("GET", "/v1/models")
    );
    let anthropic = providers.anthropic.requests();
    assert_eq!(anthropic.len(), 1);
    assert_eq!(anthropic[0].path, "/v1/models");
    assert_eq!(anthropic[0].header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(anthropic[0].header("authorization"), None);
    assert_eq!(providers.groq.requests()[0].path, "/openai/v1/models");
    // AWS: STS GetCallerIdentity, signed; the secret key itself never travels.
    let sts = providers.aws.requests();
    assert_eq!(sts.len(), 1);
    assert_eq!(sts[0].method, "POST");
    assert_eq!(sts[0].body, "Action=GetCallerIdentity&Version=2011-06-15");
    let auth = sts[0].header("authorization").unwrap();
    assert!(
        auth.contains(
            "/us-east-1/sts/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature="
        ),
        "{auth}"
    );
    assert!(sts[0].header("x-amz-date").is_some());
    for request in &sts {
        assert!(
            !format!("{request:?}").contains(AWS_SECRET),
            "the AWS secret key was sent"
        );
    }
    providers.assert_no_foreign_keys();

    // Every format carries the answer, and no key.
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path("out.sarif")).unwrap()).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let openai_result = results
        .iter()
        .find(|x| x["ruleId"] == "openai.project-key")
        .unwrap();
    assert_eq!(openai_result["properties"]["validation"]["status"], "live");
    let markdown = std::fs::read_to_string(p.path("out.md")).unwrap();
    assert!(markdown.contains("| Live? |"), "{markdown}");
    assert!(markdown.contains("dead (HTTP 401)"), "{markdown}");
    let human = std::fs::read_to_string(p.path("out.txt")).unwrap();
    assert!(human.contains("validation: live (HTTP 200)"), "{human}");
    assert!(
        human.contains("validation: unknown (unexpected HTTP 418)"),
        "{human}"
    );
    for text in [sarif.to_string(), markdown, human] {
        for key in [OPENAI, ANTHROPIC, GROQ, AWS_SECRET] {
            assert!(!text.contains(key));
        }
    }
}

#[test]
fn only_live_and_fail_on_live_act_on_the_answers() {
    let providers = Providers::start();
    let p = project(&providers, "");
    let r = run(&p, &["dir", ".", "--only-live", "-f", "json"]);
    assert_eq!(r.code, 1, "{r}");
    let rules: Vec<String> = validations(&r).into_iter().map(|(id, _)| id).collect();
    assert_eq!(rules, ["aws.access-key-pair", "openai.project-key"], "{r}");
    assert_no_secret(&r);

    // --fail-on live turns validation on and fails on the live keys only.
    let r = run(&p, &["dir", ".", "--fail-on", "live", "-f", "json"]);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(validations(&r).len(), 4, "every finding is reported: {r}");
    assert!(
        r.stderr
            .contains("2 findings are not found live (--fail-on live)"),
        "{r}"
    );

    // With no live key, the same scan passes; every key is still reported.
    std::fs::remove_file(p.path("app/openai.py")).unwrap();
    std::fs::remove_file(p.path("deploy/credentials")).unwrap();
    let r = run(&p, &["dir", ".", "--fail-on", "live", "-f", "json"]);
    assert_eq!(r.code, 0, "{r}");
    assert_eq!(validations(&r).len(), 2, "{r}");
    providers.assert_no_foreign_keys();
}

#[test]
fn a_rate_limit_is_retried_after_retry_after_and_a_long_one_gives_up() {
    let providers = Providers::start();
    providers.openai.then(rate_limited(1));
    let p = project(&providers, "");
    let started = Instant::now();
    let r = run(
        &p,
        &[
            "dir",
            "app/openai.py",
            "-c",
            ".till-scan.toml",
            "--validate",
            "-f",
            "json",
        ],
    );
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
    assert_eq!(validations(&r)[0].1["status"], "live", "{r}");
    assert_eq!(
        validations(&r)[0].1["reason"],
        "HTTP 200, after 2 tries",
        "{r}"
    );
    assert_eq!(providers.openai.requests().len(), 2);

    // A Retry-After past max_retry_wait (3s here) is not waited for.
    providers.openai.then(rate_limited(3600));
    let started = Instant::now();
    let r = run(
        &p,
        &[
            "dir",
            "app/openai.py",
            "-c",
            ".till-scan.toml",
            "--validate",
            "-f",
            "json",
        ],
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    let v = &validations(&r)[0].1;
    assert_eq!(v["status"], "unknown", "{r}");
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .starts_with("rate limited (HTTP 429)"),
        "{r}"
    );
    assert_eq!(
        providers.openai.requests().len(),
        3,
        "one request, no retry"
    );

    // 5xx: retried twice (the default), then unknown.
    for _ in 0..3 {
        providers
            .openai
            .then(Outcome::Reply(crate::support::http::Reply::json(
                503,
                &serde_json::json!({}),
            )));
    }
    let r = run(
        &p,
        &[
            "dir",
            "app/openai.py",
            "-c",
            ".till-scan.toml",
            "--validate",
            "-f",
            "json",
        ],
    );
    let v = &validations(&r)[0].1;
    assert_eq!(
        v["reason"], "provider error (HTTP 503), after 3 tries",
        "{r}"
    );
    assert_eq!(providers.openai.requests().len(), 6);
    assert_no_secret(&r);
    providers.assert_no_foreign_keys();
}

#[test]
fn a_hung_provider_and_a_closed_port_are_unknown_within_the_timeout() {
    let providers = Providers::start();
    providers
        .openai
        .then(Outcome::Hang(Duration::from_secs(30)));
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let p = project(&providers, "");
    // Anthropic's base URL points at a port nothing listens on.
    let config = providers.config("").replace(
        &providers.anthropic.url(),
        &format!("http://127.0.0.1:{closed}"),
    );
    p.write(
        ".till-scan.toml",
        &config.replace("timeout = \"2s\"", "timeout = \"1s\""),
    );
    let started = Instant::now();
    let r = run(
        &p,
        &[
            "dir",
            "app",
            "-c",
            ".till-scan.toml",
            "--validate",
            "-f",
            "json",
        ],
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    let v = validations(&r);
    assert_eq!(v[0].0, "anthropic.api-key");
    assert_eq!(v[0].1["status"], "unknown", "{r}");
    assert!(
        v[0].1["reason"]
            .as_str()
            .unwrap()
            .contains("connection refused"),
        "{r}"
    );
    assert_eq!(v[1].0, "openai.project-key");
    assert_eq!(v[1].1["reason"], "timed out after 1s", "{r}");
    assert_eq!(
        r.code, 1,
        "unknown keys still fail at the default --fail-on: {r}"
    );
    assert_no_secret(&r);
}

#[test]
fn a_key_goes_only_to_its_own_provider_or_a_safe_base_url() {
    let providers = Providers::start();
    let p = project(&providers, "");
    // Plain http to another machine is refused before anything is sent.
    p.write(
        ".till-scan.toml",
        "[validate.base_url]\nopenai = \"http://api.example.com\"\n",
    );
    let r = run(&p, &["dir", ".", "--validate"]);
    assert_eq!(r.code, 2, "{r}");
    assert!(r.stderr.contains(".till-scan.toml"), "{r}");
    assert!(r.stderr.contains("plain http"), "{r}");
    // An unknown provider name is an error that lists the known ones.
    p.write(
        ".till-scan.toml",
        "[validate.base_url]\nopenia = \"http://127.0.0.1:1\"\n",
    );
    let r = run(&p, &["dir", ".", "--validate"]);
    assert_eq!(r.code, 2, "{r}");
    assert!(
        r.stderr.contains("`openia`") && r.stderr.contains("openai"),
        "{r}"
    );
    assert!(providers.openai.requests().is_empty());
    // A rule no check covers (a lone AWS key id) is `unknown`, and nothing
    // is sent for it.
    p.write(".till-scan.toml", &providers.config(""));
    p.write("lone/ids.txt", &format!("aws_access_key_id = {AWS}\n"));
    let r = run(
        &p,
        &[
            "dir",
            "lone",
            "-c",
            ".till-scan.toml",
            "--validate",
            "-f",
            "json",
        ],
    );
    let v = validations(&r);
    assert_eq!(v.len(), 1, "{r}");
    assert_eq!(v[0].0, "aws.access-key-id");
    assert_eq!(v[0].1["status"], "unknown");
    assert_eq!(v[0].1["reason"], "no check for this rule");
    assert_eq!(v[0].1["check"], serde_json::Value::Null);
    assert!(providers.aws.requests().is_empty());
    providers.assert_no_foreign_keys();
}

/// Issue 16: "without --validate no scan command touches the network,
/// ever". Every provider's base URL and every proxy variable point at one
/// listener; no scan command connects to it.
#[test]
fn without_validate_no_scan_command_connects_anywhere() {
    let tripwire = Tripwire::start();
    let p = Project::new();
    // Every check there is, from the table the binary embeds.
    let checks = till_scan::validate::checks::builtin();
    assert!(checks.len() >= 20);
    let mut config = String::from("[validate.base_url]\n");
    for check in &checks {
        config.push_str(&format!("{} = \"{}\"\n", check.name, tripwire.url()));
    }
    p.write("repo/.till-scan.toml", &config);
    p.git_init("repo");
    p.write(
        "repo/a.py",
        &format!("OPENAI = '{OPENAI}'\nGROQ = '{GROQ}'\n"),
    );
    p.write(
        "repo/credentials",
        &format!("aws_access_key_id = {AWS}\naws_secret_access_key = {AWS_SECRET}\n"),
    );
    p.git("repo", &["add", "-A"]);
    p.git_commit("repo", "keys");
    p.write("repo/b.py", &format!("KEY = '{ANTHROPIC}'\n"));
    p.git("repo", &["add", "b.py"]);
    let proxy = tripwire.url();
    let proxies = [
        ("HTTPS_PROXY", proxy.as_str()),
        ("HTTP_PROXY", proxy.as_str()),
        ("ALL_PROXY", proxy.as_str()),
        ("https_proxy", proxy.as_str()),
        ("http_proxy", proxy.as_str()),
    ];
    let stdin = format!("key = {OPENAI}\n");
    let commands: [(&[&str], &[u8]); 6] = [
        (&["dir", "."], b""),
        (&["git", "."], b""),
        (&["staged", "."], b""),
        (&["stdin"], stdin.as_bytes()),
        (&["baseline", ".", "--output", "../baseline.json"], b""),
        (&["rotate", ".", "--dry-run"], b""),
    ];
    for (args, input) in commands {
        let r = p.run_in_env("repo", args, input, &proxies);
        assert!(
            r.code != 2 || args[0] == "rotate" || args[0] == ".",
            "{args:?}: {r}"
        );
        assert_eq!(
            tripwire.hits(),
            0,
            "`till-scan {}` connected: {r}",
            args.join(" ")
        );
        assert_no_secret(&r);
    }
    // The tripwire works: --validate does connect to it.
    let r = p.run_in_env("repo", &["dir", ".", "--validate"], b"", &proxies);
    assert!(tripwire.hits() > 0, "the tripwire saw nothing: {r}");
}
