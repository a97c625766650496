//! `till-scan keys` (the audit) and `till-scan keys revoke` end to end,
//! against the stateful Till double on 127.0.0.1, in a repository whose
//! remote names it `acme/app` on GitHub (never contacted). Every test also
//! checks that neither the admin key nor a scoped key reached any output.

use serde_json::{json, Value};

use crate::support::http::rfc3339;
use crate::support::till_double::TillDouble;
use crate::support::{Project, Run};

const ADMIN_KEY: &str = "till_admin_Kq8ZtP3vN6wX1yR5";
const DAY: u64 = 86_400;

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn days_ago(days: u64) -> String {
    rfc3339(now() - days * DAY)
}

/// A repository `repo` (remote `origin` = github.com/acme/app) and a Till
/// whose keys are seeded per test.
struct World {
    project: Project,
    till: TillDouble,
    /// Every scoped key seeded: none may be printed.
    scoped: Vec<String>,
}

impl World {
    fn new() -> World {
        let project = Project::new();
        project.git_init("repo");
        project.git(
            "repo",
            &["remote", "add", "origin", "https://github.com/acme/app.git"],
        );
        let mut world = World {
            project,
            till: TillDouble::start(ADMIN_KEY),
            scoped: Vec::new(),
        };
        // The key in use: its scoped key is in the file at HEAD.
        let (_, scoped) = world.seed("k_ok", json!({}));
        world.project.write(
            "repo/src/llm.py",
            &format!("client = OpenAI(api_key=\"{scoped}\")\n"),
        );
        world.project.write(
            "repo/config/old.env",
            "OPENAI_API_KEY=from-the-environment\n",
        );
        world.project.git_commit("repo", "app");
        world
    }

    /// Seeds a till-scan key of acme/app in `src/llm.py` (used yesterday,
    /// 10 of 1000 activations) with `fields` over it; `name` goes in the
    /// metadata so tests can find the key's row.
    fn seed(&mut self, name: &str, fields: Value) -> (String, String) {
        let mut key = json!({
            "provider": "openai",
            "maxActivations": 1000,
            "usedActivations": 10,
            "createdAt": days_ago(60),
            "lastUsedAt": days_ago(1),
            "metadata": {
                "name": name,
                "source": "till-scan",
                "till_scan_version": "0.1.0",
                "repository": "acme/app",
                "path": "src/llm.py",
                "line": 1,
                "paths": ["src/llm.py"],
                "rule": "openai.project-key",
                "fingerprint": format!("fp-{name}"),
                "branch": "till-scan/rotate-1",
                "run_id": "run1",
            },
        });
        for (k, v) in fields.as_object().unwrap() {
            if k == "metadata" {
                for (mk, mv) in v.as_object().unwrap() {
                    key["metadata"][mk] = mv.clone();
                }
            } else {
                key[k] = v.clone();
            }
        }
        let (id, scoped) = self.till.seed_key(key);
        self.scoped.push(scoped.clone());
        (id, scoped)
    }

    /// The usual set of keys, one per flag. Returns name -> id.
    fn seed_every_flag(&mut self) -> std::collections::BTreeMap<&'static str, String> {
        let mut ids = std::collections::BTreeMap::new();
        let seeds: [(&'static str, Value); 9] = [
            (
                "k_exhausted",
                json!({"status": "exhausted", "usedActivations": 1000}),
            ),
            (
                "k_spent",
                json!({"maxSpendCents": 500, "usedSpendCents": 500}),
            ),
            ("k_near", json!({"maxTokens": 1000, "usedTokens": 850})),
            ("k_idle", json!({"lastUsedAt": days_ago(45)})),
            (
                "k_never",
                json!({"usedActivations": 0, "lastUsedAt": null, "createdAt": days_ago(2)}),
            ),
            ("k_revoked", json!({"status": "revoked"})),
            (
                "k_gone",
                json!({"metadata": {"path": "config/old.env", "paths": ["config/old.env"]}}),
            ),
            (
                "k_deleted",
                json!({"metadata": {"path": "gone.py", "paths": ["gone.py"]}}),
            ),
            (
                "k_other",
                json!({"metadata": {"repository": "other/repo", "path": "x.py", "paths": ["x.py"]}}),
            ),
        ];
        for (name, fields) in seeds {
            ids.insert(name, self.seed(name, fields).0);
        }
        ids
    }

    /// A key made outside till-scan (the dashboard).
    fn seed_foreign(&mut self) -> String {
        let (id, scoped) = self.till.seed_key(json!({
            "provider": "anthropic",
            "metadata": {"name": "made by hand"},
        }));
        self.scoped.push(scoped);
        id
    }

    /// Runs till-scan in the repository pointed at the double.
    fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &self.till.url())
    }

    fn run_with(&self, args: &[&str], till_url: &str) -> Run {
        let run = self.project.run_in_env(
            "repo",
            args,
            b"",
            &[
                ("TILL_ADMIN_KEY", ADMIN_KEY),
                ("TILL_API_URL", till_url),
                ("TILL_SCAN_RETRY_BACKOFF_MS", "5"),
                ("TILL_SCAN_HTTP_TIMEOUT", "3"),
                ("GITHUB_REPOSITORY", ""),
                ("GITHUB_SERVER_URL", ""),
            ],
        );
        self.assert_no_secret(&run);
        run
    }

    fn assert_no_secret(&self, run: &Run) {
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(!all.contains(ADMIN_KEY), "admin key printed: {run}");
        assert!(!all.contains("till_sk_"), "a scoped key printed: {run}");
        for scoped in &self.scoped {
            assert!(!all.contains(scoped.as_str()), "scoped key printed: {run}");
        }
    }

    fn methods(&self) -> Vec<String> {
        self.till
            .requests()
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }
}

/// The row of the key with id `id` in a human table.
fn row<'a>(run: &'a Run, id: &str) -> &'a str {
    run.stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(id))
        .unwrap_or_else(|| panic!("no row for {id}: {run}"))
}

/// The flags of the key `id` in a JSON audit.
fn flags_of(json: &Value, id: &str) -> Vec<String> {
    json["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id)
        .unwrap_or_else(|| panic!("no key {id} in {json:#}"))["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_table_flags_each_kind_of_key() {
    let mut w = World::new();
    let ids = w.seed_every_flag();
    let ok = w.till.keys()[0]["id"].as_str().unwrap().to_string();
    let run = w.run(&["keys"]);
    assert_eq!(run.code, 0, "{run}");
    let header = run.stdout.lines().next().unwrap();
    for column in [
        "ID",
        "PROVIDER",
        "REPOSITORY / PATH",
        "ACTIVATIONS",
        "TOKENS",
        "SPEND",
        "STATUS",
        "CREATED",
        "LAST USED",
        "FLAGS",
    ] {
        assert!(header.contains(column), "{column}: {run}");
    }
    let ok_row = row(&run, &ok);
    assert!(ok_row.contains("acme/app src/llm.py"), "{run}");
    assert!(ok_row.contains("10/1000"), "{run}");
    assert!(ok_row.trim_end().ends_with(" -"), "no flag expected: {run}");
    let expect = [
        ("k_exhausted", "exhausted"),
        ("k_spent", "exhausted"),
        ("k_near", "near-limit"),
        ("k_idle", "idle"),
        ("k_never", "never-used"),
        ("k_revoked", "revoked"),
        ("k_gone", "gone"),
        ("k_deleted", "gone"),
        ("k_other", "(other repository)"),
    ];
    for (name, flag) in expect {
        let r = row(&run, &ids[name]);
        assert!(r.contains(flag), "{name} should be {flag}: {r}");
    }
    assert!(row(&run, &ids["k_spent"]).contains("$5.00/$5.00"), "{run}");
    assert!(row(&run, &ids["k_near"]).contains("850/1000"), "{run}");
    assert!(row(&run, &ids["k_never"]).contains("never"), "{run}");
    assert!(!row(&run, &ids["k_other"]).contains("gone"), "{run}");
    assert!(!row(&run, &ids["k_never"]).contains("idle"), "{run}");
    assert!(
        run.stdout.contains("10 keys (8 active)"),
        "summary line: {run}"
    );
    assert!(run.stdout.contains("till-scan keys revoke"), "{run}");
    assert_eq!(w.methods(), ["GET /admin/keys"]);
}

#[test]
fn fail_on_flags_exits_1_only_when_a_key_needs_attention() {
    let mut w = World::new();
    let run = w.run(&["keys", "--fail-on-flags"]);
    assert_eq!(run.code, 0, "{run}");
    w.seed("k_idle", json!({"lastUsedAt": days_ago(45)}));
    assert_eq!(w.run(&["keys"]).code, 0);
    let run = w.run(&["keys", "--fail-on-flags"]);
    assert_eq!(run.code, 1, "{run}");
    // A longer idle threshold clears it.
    let run = w.run(&["keys", "--fail-on-flags", "--idle-days", "60"]);
    assert_eq!(run.code, 0, "{run}");
}

#[test]
fn the_near_threshold_is_configurable() {
    let mut w = World::new();
    let (id, _) = w.seed("k_half", json!({"maxTokens": 1000, "usedTokens": 500}));
    let json = w.run(&["keys", "-f", "json"]).json();
    assert!(flags_of(&json, &id).is_empty());
    for near in ["50%", "0.5", "50"] {
        let run = w.run(&["keys", "-f", "json", "--near", near]);
        assert_eq!(flags_of(&run.json(), &id), ["near-limit"], "{near}");
        assert_eq!(run.json()["near"], 0.5);
    }
    let run = w.run(&["keys", "--near", "0"]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("--near"), "{run}");
}

#[test]
fn json_is_the_documented_object() {
    let mut w = World::new();
    let ids = w.seed_every_flag();
    let run = w.run(&["keys", "-f", "json"]);
    assert_eq!(run.code, 0, "{run}");
    let json = run.json();
    assert_eq!(json["version"], 1);
    assert_eq!(json["tool"], "till-scan");
    assert_eq!(json["till_url"], w.till.url());
    assert_eq!(json["repository"], "acme/app");
    assert_eq!(json["all"], false);
    assert_eq!(json["idle_days"], 30);
    assert_eq!(json["near"], 0.8);
    let keys = json["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 10);
    let near = keys.iter().find(|k| k["id"] == ids["k_near"]).unwrap();
    for field in [
        "id",
        "provider",
        "status",
        "tenant_id",
        "source",
        "repository",
        "path",
        "line",
        "paths",
        "rule",
        "activations",
        "tokens",
        "spend_cents",
        "created_at",
        "last_used_at",
        "idle_days",
        "ip_whitelist",
        "at_head",
        "flags",
    ] {
        assert!(near.get(field).is_some(), "{field} missing: {near:#}");
    }
    assert_eq!(near["tokens"], json!({"used": 850, "max": 1000}));
    assert_eq!(near["activations"], json!({"used": 10, "max": 1000}));
    assert_eq!(near["spend_cents"], json!({"used": 0, "max": null}));
    assert_eq!(near["source"], "till-scan");
    assert_eq!(near["at_head"], "present");
    assert_eq!(near["idle_days"], 1);
    assert_eq!(flags_of(&json, &ids["k_exhausted"]), ["exhausted"]);
    assert_eq!(flags_of(&json, &ids["k_never"]), ["never-used"]);
    assert_eq!(flags_of(&json, &ids["k_revoked"]), ["revoked"]);
    assert_eq!(flags_of(&json, &ids["k_gone"]), ["gone"]);
    let other = keys.iter().find(|k| k["id"] == ids["k_other"]).unwrap();
    assert_eq!(other["at_head"], "other repository");
    let summary = &json["summary"];
    assert_eq!(summary["listed"], 10);
    assert_eq!(summary["keys"], 10);
    assert_eq!(summary["active"], 8);
    assert_eq!(summary["needs_attention"], 6);
    assert_eq!(
        summary["flags"],
        json!({"exhausted": 2, "near-limit": 1, "idle": 1, "revoked": 1, "never-used": 1, "gone": 2})
    );
}

#[test]
fn markdown_is_a_table_for_a_job_summary() {
    let mut w = World::new();
    let ids = w.seed_every_flag();
    let run = w.run(&["keys", "--format", "markdown"]);
    assert_eq!(run.code, 0, "{run}");
    let md = &run.stdout;
    assert!(
        md.starts_with("### Till keys minted by till-scan\n"),
        "{md}"
    );
    assert!(md.contains("| Id | Provider | Repository / path | Activations | Tokens | Spend | Status | Created | Last used | Flags |\n|---|"), "{md}");
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| key")).collect();
    assert_eq!(rows.len(), 10, "{md}");
    let escaped = ids["k_near"].replace('_', "\\_");
    assert!(
        rows.iter()
            .any(|r| r.starts_with(&format!("| {escaped} |")) && r.contains("near-limit")),
        "{md}"
    );
    assert!(md.contains("10 keys (8 active)"), "{md}");
}

#[test]
fn all_shows_keys_till_scan_did_not_mint() {
    let mut w = World::new();
    let foreign = w.seed_foreign();
    let run = w.run(&["keys", "-f", "json"]);
    let json = run.json();
    assert!(!json["keys"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["id"] == foreign));
    assert_eq!(json["summary"]["listed"], 2);
    let run = w.run(&["keys", "--all", "-f", "json"]);
    let json = run.json();
    let key = json["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == foreign)
        .unwrap_or_else(|| panic!("{run}"));
    assert_eq!(key["source"], Value::Null);
    assert_eq!(key["at_head"], "not checked");
    let human = w.run(&["keys", "--all"]);
    assert!(row(&human, &foreign).contains("anthropic"), "{human}");
}

#[test]
fn no_till_scan_key_says_so() {
    let project = Project::new();
    project.git_init("repo");
    let till = TillDouble::start(ADMIN_KEY);
    let (_, scoped) = till.seed_key(json!({"metadata": {"name": "by hand"}}));
    let run = project.run_in_env(
        "repo",
        &["keys"],
        b"",
        &[("TILL_ADMIN_KEY", ADMIN_KEY), ("TILL_API_URL", &till.url())],
    );
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout
            .contains("No Till key minted by till-scan (1 key listed"),
        "{run}"
    );
    assert!(!run.stdout.contains(&scoped) && !run.stdout.contains(ADMIN_KEY));
}

#[test]
fn outside_a_repository_nothing_is_judged_gone() {
    let mut w = World::new();
    w.seed(
        "k_gone",
        json!({"metadata": {"path": "gone.py", "paths": ["gone.py"]}}),
    );
    w.project.write("plain/readme.txt", "not a repository\n");
    let run = w.project.run_in_env(
        "plain",
        &["keys", "-f", "json"],
        b"",
        &[
            ("TILL_ADMIN_KEY", ADMIN_KEY),
            ("TILL_API_URL", &w.till.url()),
            (
                "GIT_CEILING_DIRECTORIES",
                w.project.path("").to_str().unwrap(),
            ),
        ],
    );
    w.assert_no_secret(&run);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stderr.contains("not a git work tree"), "{run}");
    let json = run.json();
    assert_eq!(json["repository"], Value::Null);
    for key in json["keys"].as_array().unwrap() {
        assert_eq!(key["at_head"], "not checked", "{json:#}");
        assert!(!key["flags"].as_array().unwrap().contains(&json!("gone")));
    }
}

#[test]
fn revoke_by_id_revokes_those_keys() {
    let mut w = World::new();
    let (a, _) = w.seed("a", json!({}));
    let (b, _) = w.seed("b", json!({}));
    let run = w.run(&["keys", "revoke", &a, &b]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains(&format!("revoked {a}\n")), "{run}");
    assert!(run.stdout.contains(&format!("revoked {b}\n")), "{run}");
    assert!(run.stdout.contains("till-scan revoked 2 keys."), "{run}");
    assert_eq!(
        w.methods(),
        [
            format!("DELETE /admin/keys/{a}"),
            format!("DELETE /admin/keys/{b}")
        ]
    );
    let revoked: Vec<String> = w
        .till
        .keys()
        .iter()
        .filter(|k| k["status"] == "revoked")
        .map(|k| k["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(revoked, [a, b]);
}

#[test]
fn revoke_reports_each_failure_with_what_till_answered() {
    let mut w = World::new();
    let (a, _) = w.seed("a", json!({}));
    let run = w.run(&["keys", "revoke", "key_404", &a, "-f", "json"]);
    assert_eq!(run.code, 2, "{run}");
    let json = run.json();
    assert_eq!(json["version"], 1);
    assert_eq!(json["tool"], "till-scan");
    assert_eq!(json["dry_run"], false);
    assert_eq!(json["results"][0]["id"], "key_404");
    assert_eq!(json["results"][0]["result"], "failed");
    let error = json["results"][0]["error"].as_str().unwrap();
    assert!(error.contains("Till ("), "{error}");
    assert!(error.contains("HTTP 404"), "{error}");
    assert!(error.contains("not_found"), "{error}");
    assert_eq!(json["results"][1]["result"], "revoked");
    let human = w.run(&["keys", "revoke", "key_404"]);
    assert_eq!(human.code, 2, "{human}");
    assert!(human.stdout.contains("failed key_404: Till ("), "{human}");
    assert!(
        human
            .stdout
            .contains("till-scan revoked 0 of 1 key; 1 failed."),
        "{human}"
    );
}

#[test]
fn revoke_ids_with_dry_run_contacts_nothing() {
    let w = World::new();
    // No admin key and an unreachable Till: nothing is needed.
    let run = w.project.run_in_env(
        "repo",
        &["keys", "revoke", "--dry-run", "key_1", "key_9"],
        b"",
        &[("TILL_API_URL", "http://127.0.0.1:9")],
    );
    w.assert_no_secret(&run);
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout
            .contains("would revoke key_1\nwould revoke key_9\n"),
        "{run}"
    );
    assert!(run.stdout.contains("nothing was changed"), "{run}");
    let run = w.run(&["keys", "revoke", "--dry-run", "key_1"]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(w.till.call_count(), 0);
    assert_eq!(w.till.active_keys().len(), 1);
}

#[test]
fn revoke_idle_revokes_only_idle_till_scan_keys() {
    let mut w = World::new();
    let (old, _) = w.seed("old", json!({"lastUsedAt": days_ago(100)}));
    let (unused, _) = w.seed(
        "unused",
        json!({"usedActivations": 0, "lastUsedAt": null, "createdAt": days_ago(95)}),
    );
    let (recent, _) = w.seed("recent", json!({"lastUsedAt": days_ago(80)}));
    w.seed(
        "dead",
        json!({"status": "revoked", "lastUsedAt": days_ago(300)}),
    );
    let foreign = w.seed_foreign();
    let before = w.till.keys();
    for k in &before {
        if k["id"] == foreign {
            // Made by hand long ago: never till-scan's to revoke.
            assert!(k["metadata"]["source"].is_null());
        }
    }

    let dry = w.run(&["keys", "revoke", "--idle", "90d", "--dry-run"]);
    assert_eq!(dry.code, 0, "{dry}");
    assert!(
        dry.stdout.contains(&format!(
            "would revoke {old} (openai, acme/app src/llm.py, last used 100 days ago)"
        )),
        "{dry}"
    );
    assert!(
        dry.stdout.contains(&format!(
            "would revoke {unused} (openai, acme/app src/llm.py, never used, created 95 days ago)"
        )),
        "{dry}"
    );
    assert!(!dry.stdout.contains(&recent), "{dry}");
    assert!(
        dry.stdout.contains("till-scan would revoke 2 keys"),
        "{dry}"
    );
    assert_eq!(w.methods(), ["GET /admin/keys"], "a dry run only lists");
    assert_eq!(w.till.keys(), before);

    // 13 weeks is 91 days: the same two.
    let run = w.run(&["keys", "revoke", "--idle", "13w"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("till-scan revoked 2 keys."), "{run}");
    let methods = w.methods();
    assert_eq!(
        methods[1..],
        [
            "GET /admin/keys".to_string(),
            format!("DELETE /admin/keys/{old}"),
            format!("DELETE /admin/keys/{unused}"),
        ]
    );
    let again = w.run(&["keys", "revoke", "--idle", "90"]);
    assert_eq!(again.code, 0, "{again}");
    assert!(again.stdout.contains("nothing to revoke"), "{again}");
}

#[test]
fn revoke_needs_ids_or_idle_and_a_sane_age() {
    let w = World::new();
    let run = w.run(&["keys", "revoke"]);
    assert_eq!(run.code, 2, "{run}");
    let run = w.run(&["keys", "revoke", "--idle", "0d"]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("at least one day"), "{run}");
    let run = w.run(&["keys", "revoke", "--idle", "3m"]);
    assert_eq!(run.code, 2, "{run}");
    let run = w.run(&["keys", "revoke", "key_1", "--idle", "9d"]);
    assert_eq!(run.code, 2, "{run}");
    assert_eq!(w.till.call_count(), 0);
}

#[test]
fn a_wrong_admin_key_is_a_clear_error() {
    let w = World::new();
    let till = TillDouble::start("till_admin_SomeoneElse000000");
    let run = w.run_with(&["keys"], &till.url());
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("cannot list the Till keys"), "{run}");
    assert!(
        run.stderr.contains(&format!(
            "Till ({}) answered GET /admin/keys with HTTP 401",
            till.url()
        )),
        "{run}"
    );
    assert!(run.stdout.is_empty(), "{run}");
    // The same for a revocation.
    let run = w.run_with(&["keys", "revoke", "--idle", "9d"], &till.url());
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("HTTP 401"), "{run}");
}

#[test]
fn a_failing_till_is_retried_then_named() {
    let w = World::new();
    w.till
        .fail_calls_matching("GET", "/admin/keys", 500, "internal", 10);
    let run = w.run(&["keys", "-f", "json"]);
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stderr
            .contains("answered GET /admin/keys with HTTP 500 `internal`"),
        "{run}"
    );
    assert!(run.stdout.is_empty(), "{run}");
    // One request and three retries.
    assert_eq!(w.till.call_count(), 4);
    // A transient failure that passes is invisible.
    let w = World::new();
    w.till
        .fail_calls_matching("GET", "/admin/keys", 503, "busy", 2);
    let run = w.run(&["keys"]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(w.till.call_count(), 3);
}

#[test]
fn an_unreachable_till_is_named() {
    let w = World::new();
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let run = w.run_with(&["keys"], &dead);
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stderr
            .contains(&format!("Till ({dead}) did not answer GET /admin/keys")),
        "{run}"
    );
}

#[test]
fn keys_needs_the_admin_key_and_takes_no_scan_format() {
    let w = World::new();
    let run = w
        .project
        .run_in_env("repo", &["keys"], b"", &[("TILL_API_URL", &w.till.url())]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("TILL_ADMIN_KEY is not set"), "{run}");
    let run = w.run(&["keys", "no-such-dir"]);
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stderr.contains("no-such-dir: no such directory"),
        "{run}"
    );
    let run = w.run(&["keys", "src/llm.py"]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("not a directory"), "{run}");
    let run = w.run(&["keys", "-f", "sarif"]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("human, json or markdown"), "{run}");
    // An http Till that is not this machine is refused before any request.
    let run = w.run_with(&["keys"], "http://till.example");
    assert_eq!(run.code, 2, "{run}");
    assert_eq!(w.till.call_count(), 0);
}

#[test]
fn the_till_url_flag_wins_over_the_environment() {
    let w = World::new();
    let run = w.run_with(
        &["keys", "--till-url", &w.till.url(), "-f", "json"],
        "http://127.0.0.1:9",
    );
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(run.json()["till_url"], w.till.url());
    // And reaches `keys revoke` too.
    let run = w.run_with(
        &[
            "keys",
            "revoke",
            "--idle",
            "9d",
            "--till-url",
            &w.till.url(),
        ],
        "http://127.0.0.1:9",
    );
    assert_eq!(run.code, 0, "{run}");
}

#[test]
fn output_files_of_keys_may_be_written_again() {
    let w = World::new();
    for args in [
        &["keys", "-o", "audit.txt"][..],
        &["keys", "-f", "markdown", "--all", "-o", "audit.md"],
        &["keys", "-f", "json", "-o", "audit.json"],
        &["keys", "revoke", "--dry-run", "key_1", "-o", "revoke.txt"],
        &["keys", "revoke", "--idle", "400d", "-o", "none.txt"],
    ] {
        for _ in 0..2 {
            let run = w.run(args);
            assert_eq!(run.code, 0, "{args:?}: {run}");
            assert!(run.stdout.is_empty(), "{run}");
        }
        let file = w.project.path(&format!("repo/{}", args.last().unwrap()));
        assert!(std::fs::read_to_string(file).unwrap().contains("till-scan"));
    }
    // A file that is not a report is never replaced.
    w.project.write("repo/notes.txt", "my notes\n");
    let run = w.run(&["keys", "-o", "notes.txt"]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("refusing to write"), "{run}");
}

#[test]
fn long_ids_and_odd_strings_from_till_are_shown_safely() {
    let mut w = World::new();
    // A long random-looking id is an id, not a key: shown, and revocable.
    let long_id = "key_2Jx9fK3mQ8vR7tY1wE4zAb";
    w.seed(
        "long",
        json!({"id": long_id, "status": "paused\u{1b}[31m", "metadata": {"path": "src/llm.py\nEVIL", "paths": ["src/llm.py\nEVIL"]}}),
    );
    let run = w.run(&["keys"]);
    assert_eq!(run.code, 0, "{run}");
    let r = row(&run, long_id);
    assert!(
        r.contains("paused [31m"),
        "control characters become spaces: {r}"
    );
    assert!(r.contains("src/llm.py EVIL"), "{r}");
    assert!(!run.stdout.contains('\u{1b}'), "{run}");
    let run = w.run(&["keys", "revoke", long_id]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains(&format!("revoked {long_id}")), "{run}");
    // A scoped key in metadata never reaches the output (the helper checks
    // every run for `till_sk_`).
    let (_, scoped) = w.seed("leaky", json!({"metadata": {"path": "x"}}));
    w.seed("leak", json!({"metadata": {"rule": scoped.clone()}}));
    let run = w.run(&["keys", "-f", "json"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("[redacted]"), "{run}");
}

#[test]
fn keys_of_a_rotation_without_a_pull_request_are_this_repository_too() {
    let mut w = World::new();
    // `rotate --no-pr` with no GitHub name writes the directory's name.
    let (id, _) = w.seed(
        "nopr",
        json!({"metadata": {"repository": "repo", "path": "gone.py", "paths": ["gone.py"]}}),
    );
    let json = w.run(&["keys", "-f", "json"]).json();
    assert_eq!(json["repository"], "acme/app");
    assert_eq!(flags_of(&json, &id), ["gone"]);
}
