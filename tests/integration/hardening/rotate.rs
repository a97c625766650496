//! Hardening regressions: rotate (issue 11, items 10, 11, the rotation
//! parts of 12, and `rotate --dry-run` from 13). Hostile Till and GitHub
//! doubles on 127.0.0.1 echo the secrets they were sent; no piece of any
//! secret may reach the output. No test opens a connection outside
//! 127.0.0.0/8: the transport policy refuses other URLs before connecting.

use std::process::Command;
use std::time::Duration;

use serde_json::json;

use crate::support::github_double::GitHubDouble;
use crate::support::http::Reply;
use crate::support::keys::{AWS, OPENAI};
use crate::support::till_double::TillDouble;
use crate::support::*;

const ADMIN_KEY: &str = "till_admin_Hq7Zr2Xv9Kp4Lm8NwB3c";
const GH_TOKEN: &str = "ghp_Hardening0123456789abcdefABCDEF99";

/// Long enough for the retries of a 5xx, short enough to catch a hang.
const LIMIT: Duration = Duration::from_secs(60);

/// A repository `repo` with one OpenAI key (rotatable) and one AWS key (by
/// hand), pushed to the bare `remote.git`, and the two doubles.
struct World {
    p: Project,
    till: TillDouble,
    github: GitHubDouble,
}

impl World {
    fn new() -> World {
        let p = Project::new();
        p.git_init("repo");
        p.write(
            "repo/app.py",
            &format!("client = OpenAI(api_key=\"{OPENAI}\")\n"),
        );
        p.write(
            "repo/deploy/aws.cfg",
            &format!("aws_access_key_id = {AWS}\n"),
        );
        p.git_commit("repo", "app with keys");
        p.git_init_bare("remote.git");
        let remote = p.path("remote.git");
        p.git(
            "repo",
            &["remote", "add", "origin", remote.to_str().unwrap()],
        );
        p.git("repo", &["push", "-q", "origin", "main"]);
        World {
            p,
            till: TillDouble::start(ADMIN_KEY),
            github: GitHubDouble::start(GH_TOKEN, "acme", "app", "main"),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = self.p.command(&["rotate"]);
        c.args(args)
            .arg("--no-validate")
            .current_dir(self.p.path("repo"));
        isolate(&mut c, &self.p);
        point_at_doubles(&mut c, &self.till, ADMIN_KEY, &self.github, GH_TOKEN);
        c
    }

    /// Runs `rotate` and checks that no piece of any secret was printed.
    fn run(&self, c: Command) -> Run {
        let run = run_within(c, b"", LIMIT);
        self.assert_nothing_leaked(&run);
        run
    }

    fn rotate(&self, args: &[&str]) -> Run {
        self.run(self.command(args))
    }

    /// No 8 characters in a row of the upstream keys, the admin key, the
    /// token or any minted scoped key in standard output or error.
    fn assert_nothing_leaked(&self, run: &Run) {
        let mut secrets = vec![
            OPENAI.to_string(),
            AWS.to_string(),
            ADMIN_KEY.to_string(),
            GH_TOKEN.to_string(),
        ];
        for key in self.till.keys() {
            secrets.extend(self.till.scoped_key_of(key["id"].as_str().unwrap()));
        }
        let out = format!("{}\n{}", run.stdout, run.stderr);
        for secret in &secrets {
            assert_no_piece(secret, &out, run);
        }
    }

    /// Nothing minted is left active, and the repository is as it was.
    fn assert_untouched(&self, run: &Run) {
        assert!(
            self.till.active_keys().is_empty(),
            "keys left active: {:?}\n{run}",
            self.till.active_keys()
        );
        assert_eq!(self.p.git("repo", &["status", "--porcelain"]), "", "{run}");
        assert_eq!(
            self.p
                .git("repo", &["branch", "--list", "--format=%(refname:short)"]),
            "main",
            "{run}"
        );
        assert_eq!(
            std::fs::read_to_string(self.p.path("repo/app.py")).unwrap(),
            format!("client = OpenAI(api_key=\"{OPENAI}\")\n")
        );
    }
}

fn assert_no_piece(secret: &str, text: &str, run: &Run) {
    for piece in secret.as_bytes().windows(8) {
        let piece = std::str::from_utf8(piece).unwrap();
        assert!(
            !text.contains(piece),
            "`{piece}` of a secret was printed\n{run}"
        );
    }
}

fn plain_text(status: u16, body: &str) -> Reply {
    Reply {
        status,
        headers: vec![("Content-Type".into(), "text/plain".into())],
        body: body.to_string(),
    }
}

// ------------------------------------------------- item 10: scrub servers

#[test]
fn rotate_till_422_whose_code_and_message_repeat_the_key() {
    let w = World::new();
    let body = json!({"error": {"code": OPENAI, "message": format!("upstream_key {OPENAI} was refused by OpenAI")}});
    w.till
        .reply_matching("POST", "/admin/keys", Reply::json(422, &body), 1);
    let run = w.rotate(&[]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("Till (http://127.0.0.1:"), "{run}");
    assert!(
        run.stderr.contains("POST /admin/keys with HTTP 422"),
        "{run}"
    );
    assert!(
        run.stderr.contains("[redacted] was refused by OpenAI"),
        "{run}"
    );
    w.assert_untouched(&run);
}

#[test]
fn rotate_serde_error_on_a_wrongly_typed_field_does_not_quote_it() {
    let w = World::new();
    let body = json!({"key": {"id": "key_1", "provider": "openai", "status": "active",
        "maxActivations": OPENAI, "scopedKey": "till_sk_0123.abcd"}});
    w.till
        .reply_matching("POST", "/admin/keys", Reply::json(201, &body), 1);
    let run = w.rotate(&[]);
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stderr
            .contains("sent an answer to POST /admin/keys that is not what its API documents"),
        "{run}"
    );
    assert!(
        run.stderr
            .contains("field `maxActivations`: wrong type, expected u64"),
        "{run}"
    );
    assert!(!run.stderr.contains("invalid type: string"), "{run}");
    w.assert_untouched(&run);
}

#[test]
fn rotate_key_id_that_repeats_the_key_never_reaches_the_pull_request() {
    let w = World::new();
    let body = json!({"key": {"id": format!("id-{}", &OPENAI[8..40]), "provider": "openai",
        "status": "active", "scopedKey": "till_sk_0123.abcd"}});
    w.till
        .reply_matching("POST", "/admin/keys", Reply::json(201, &body), 1);
    let run = w.rotate(&[]);
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stderr.contains("a key's `id` repeats a secret"),
        "{run}"
    );
    assert!(w.github.create_bodies().is_empty(), "{run}");
    w.assert_untouched(&run);
}

#[test]
fn rotate_plain_text_body_is_scrubbed_before_it_is_cut() {
    let w = World::new();
    // The key starts at character 92: a cut at 200 characters made before
    // scrubbing leaves 108 characters of it, which no longer match in full.
    let prefix = "upstream check failed; ".repeat(4);
    assert_eq!(prefix.len(), 92);
    let body =
        format!("{prefix}{OPENAI} is not a valid key for this account, please try another key");
    w.till
        .reply_matching("POST", "/admin/keys", plain_text(400, &body), 1);
    let run = w.rotate(&[]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("HTTP 400"), "{run}");
    assert!(
        run.stderr
            .contains("upstream check failed; [redacted] is not"),
        "{run}"
    );
    w.assert_untouched(&run);

    // Half a key, cut by the server itself: its pieces are still found.
    let body = format!("key {} rejected", &OPENAI[..60]);
    w.till
        .reply_matching("POST", "/admin/keys", plain_text(400, &body), 1);
    let run = w.rotate(&[]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("key [redacted] rejected"), "{run}");
}

#[test]
fn rotate_github_errors_echoing_the_token_are_scrubbed() {
    let w = World::new();
    let body = json!({
        "message": format!("token {GH_TOKEN} lacks a scope"),
        "errors": [
            {"resource": "PullRequest", "code": "custom", "message": format!("{GH_TOKEN} may not read acme/app")},
            format!("and again {GH_TOKEN}"),
        ],
        "documentation_url": "https://docs.github.com/rest",
    });
    w.github.reply_next("GET", Reply::json(403, &body));
    let run = w.rotate(&[]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("GitHub (http://127.0.0.1:"), "{run}");
    assert!(
        run.stderr
            .contains("HTTP 403: token [redacted] lacks a scope"),
        "{run}"
    );
    assert!(
        run.stderr.contains("([redacted] may not read acme/app)"),
        "{run}"
    );
    assert_eq!(w.till.call_count(), 0, "nothing minted");
    w.assert_untouched(&run);

    // A 200 whose body has the token where a number belongs: serde's
    // message would quote it.
    let body = json!([{"number": GH_TOKEN}]);
    w.github.reply_next("GET", Reply::json(200, &body));
    let run = w.rotate(&[]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("not the expected JSON"), "{run}");
    w.assert_untouched(&run);
}

// ------------------------------------------ item 11: where the token goes

#[test]
fn rotate_github_api_in_the_clear_is_refused_before_any_connection() {
    // Nothing listens at these; the refusal must come from the URL alone
    // (the run limit and the short HTTP timeout guard against a connect).
    for api in ["http://10.1.2.3", "http://github.example.invalid/api/v3"] {
        let w = World::new();
        let mut c = w.command(&[]);
        c.env("GITHUB_API_URL", api)
            .env("TILL_SCAN_HTTP_TIMEOUT", "1");
        let started = std::time::Instant::now();
        let run = w.run(c);
        assert_eq!(run.code, 2, "{run}");
        assert!(
            run.stderr
                .contains("is plain http to a host that is not this machine"),
            "{run}"
        );
        assert!(
            run.stderr
                .contains("GITHUB_TOKEN would travel in the clear"),
            "{run}"
        );
        assert!(started.elapsed() < Duration::from_secs(15), "{run}");
        assert_eq!(w.till.call_count(), 0, "Till was contacted: {run}");
        w.assert_untouched(&run);
    }
}

#[test]
fn rotate_push_to_a_host_that_is_not_github_never_gets_the_token() {
    let w = World::new();
    for origin in [
        "https://git.evil.example/acme/app.git",
        "https://github.com.evil.example/acme/app.git",
        "http://10.9.8.7/acme/app.git",
    ] {
        w.p.git("repo", &["remote", "set-url", "origin", origin]);
        let run = w.rotate(&[]);
        assert_eq!(run.code, 2, "{origin}: {run}");
        assert!(run.stderr.contains("remote `origin`"), "{run}");
        assert!(
            run.stderr.contains("not on GitHub") || run.stderr.contains("plain http"),
            "{run}"
        );
        assert!(run.stderr.contains("nothing was minted or pushed"), "{run}");
        assert_eq!(w.till.call_count(), 0, "{run}");
        assert!(w.github.requests().is_empty(), "{run}");
        w.assert_untouched(&run);
    }
}

// ------------------------------------------------------ item 12, rotation

#[test]
fn rotate_till_url_user_and_password_are_never_shown() {
    let w = World::new();
    // Refused (cleartext to another machine): the message names the URL
    // without its credentials.
    let mut c = w.command(&[]);
    c.env(
        "TILL_API_URL",
        "http://till-user:hunter2secret@till.example",
    );
    let run = w.run(c);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("`http://till.example`"), "{run}");
    assert!(!run.stderr.contains("hunter2secret"), "{run}");
    assert!(!run.stderr.contains("till-user"), "{run}");

    // Accepted (this machine), and Till fails: still not shown.
    let url = w
        .till
        .url()
        .replace("http://", "http://till-user:hunter2secret@");
    w.till
        .fail_calls_matching("GET", "/admin/keys", 401, "unauthorized", 1);
    let mut c = w.command(&[]);
    c.env("TILL_API_URL", &url);
    let run = w.run(c);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains(&w.till.url()), "{run}");
    assert!(!run.stderr.contains("hunter2secret"), "{run}");
    assert!(!run.stderr.contains("till-user"), "{run}");
    w.assert_untouched(&run);
}

#[test]
fn rotate_create_answered_502_after_minting_leaves_one_active_key() {
    let w = World::new();
    w.till.mint_then_fail_next_create(502);
    let run = w.rotate(&["-f", "json"]);
    assert_eq!(run.code, 0, "{run}");
    let keys = w.till.keys();
    assert_eq!(keys.len(), 2, "minted, lost, minted again: {keys:?}");
    assert_eq!(keys[0]["status"], "revoked", "{keys:?}");
    let active = w.till.active_keys();
    assert_eq!(active.len(), 1, "{active:?}");
    let id = active[0]["id"].as_str().unwrap();
    assert_eq!(run.json()["rotations"][0]["till_key_id"], id);
    let scoped = w.till.scoped_key_of(id).unwrap();
    let committed = w.p.git("repo", &["show", "HEAD:app.py"]);
    assert_eq!(committed, format!("client = OpenAI(api_key=\"{scoped}\")"));
    assert_eq!(w.github.pulls().len(), 1);
}

#[test]
fn rotate_create_failing_after_minting_and_then_for_good_leaves_nothing() {
    let w = World::new();
    w.till.mint_then_fail_next_create(503);
    w.till
        .fail_calls_matching("POST", "/admin/keys", 503, "unavailable", 10);
    let run = w.rotate(&[]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("HTTP 503"), "{run}");
    w.assert_untouched(&run);
}

// ------------------------------------------------- item 13: the dry run

#[test]
fn rotate_dry_run_exits_0_and_contacts_nothing() {
    let w = World::new();
    for args in [&["--dry-run"][..], &["--dry-run", "-f", "json"]] {
        let mut c = w.command(args);
        // Neither a key nor a reachable service is needed.
        c.env_remove("TILL_ADMIN_KEY")
            .env_remove("GITHUB_TOKEN")
            .env("TILL_API_URL", "http://10.1.2.3")
            .env("GITHUB_API_URL", "http://10.1.2.3");
        let run = w.run(c);
        assert_eq!(
            run.code, 0,
            "a dry run that shows its plan succeeded: {run}"
        );
        if args.len() == 1 {
            assert!(run.stdout.contains("Would rotate 1 key"), "{run}");
            assert!(run.stdout.contains("deploy/aws.cfg:1"), "{run}");
        } else {
            assert_eq!(run.json()["dry_run"], true, "{run}");
        }
    }
    assert_eq!(w.till.call_count(), 0);
    assert!(w.github.requests().is_empty());
    w.assert_untouched(&Run {
        code: 0,
        stdout: String::new(),
        stderr: String::new(),
    });
}
