//! The GitHub Action (`action.yml`), run on this machine the way the runner
//! runs a composite action: its inputs resolved from defaults and `with:`,
//! each step's `if:` and `${{ ... }}` expressions evaluated against the
//! inputs, the `github` and `runner` contexts, earlier steps' outputs and
//! the job status; each `run:` step executed with
//! `bash --noprofile --norc -eo pipefail` and its own `GITHUB_OUTPUT` and
//! `GITHUB_STEP_SUMMARY` files; `uses:` steps recorded, not run. The
//! repository is a real clone of a temp `origin` with a base and a head
//! commit, and the event payloads are what GitHub sends for a pull request
//! and a push. The built binary is passed through the `version` input, so
//! nothing is compiled or fetched from the network.
//!
//! The same file checks the action's declarations: every input used and
//! every use declared, every output wired to a step that writes it, the
//! example workflows in `docs/workflows/` using only declared inputs and
//! outputs, and the README documenting them all.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::gha::expr::{expressions, references, step_expressions, Contexts, Val};
use crate::gha::runner::*;
use crate::support::bin;
use crate::support::github_double::GitHubDouble;
use crate::support::keys::{AWS, GROQ, OPENAI};
use crate::support::till_double::TillDouble;

/// Stands in for the Till admin key a workflow passes; not a credential anywhere.
const FAKE_ADMIN_KEY: &str = "till_admin_fake_Q2w9Zr7Lm4";

// ------------------------------------------------------------ checks

fn validate_sarif(path: &str) -> Value {
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let schema: Value =
        serde_json::from_str(include_str!("../fixtures/sarif-schema-2.1.0.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    doc
}

/// No full key anywhere a person or GitHub would see it.
fn assert_no_secret(run: &ActionRun) {
    for key in [K_OLD, K_NEW] {
        assert!(!run.log.contains(key), "a key reached the log\n{run}");
        assert!(
            !run.summary.contains(key),
            "a key reached the summary\n{run}"
        );
        for file in ["sarif-file", "report-file"] {
            if let Some(path) = run.outputs.get(file).filter(|p| !p.is_empty()) {
                let text = std::fs::read_to_string(path).unwrap();
                assert!(!text.contains(key), "a key reached the {file}");
            }
        }
    }
    // Masked values only ever appear in their own ::add-mask:: line.
    for line in run.log.lines() {
        if !line.starts_with("::add-mask::") {
            assert!(
                !line.contains(FAKE_ADMIN_KEY) && !line.contains(FAKE_TOKEN),
                "{line}"
            );
        }
    }
}

#[test]
fn pull_request_scans_only_its_commits_and_reports_everywhere() {
    let fx = Fixture::new();
    let run = fx.run(
        "pull_request",
        &fx.pull_request_payload(),
        &[("version", bin()), ("upload-sarif", "true")],
    );

    // Masking comes first, before any step reads a secret input.
    assert_eq!(run.ran[0], "Mask secret inputs", "{run}");
    assert!(
        run.log.contains(&format!("::add-mask::{FAKE_TOKEN}")),
        "{run}"
    );

    // Only the PR's key: K_OLD is in the tree but was committed before the base.
    assert_eq!(run.output("findings"), "1", "{run}");
    assert_eq!(fx.git("ws", &["cat-file", "-t", &fx.first]), "commit");
    assert_eq!(run.finding_paths(), BTreeSet::from(["new.env".to_string()]));
    let report = run.report();
    assert_eq!(report["findings"][0]["commit"], fx.key_commit.as_str());
    assert_eq!(report["findings"][0]["rule_id"], "groq.api-key");

    // The scan step's outputs file holds the outputs; the action maps all four.
    let scan = run.step_outputs("scan");
    for name in ["findings", "sarif-file", "report-file"] {
        assert!(
            scan.contains_key(name),
            "scan step did not write {name}: {run}"
        );
    }
    let names: BTreeSet<&str> = run.outputs.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        BTreeSet::from(["findings", "sarif-file", "report-file", "rotation-pr-url"])
    );
    assert_eq!(run.output("rotation-pr-url"), "", "no rotation on a PR");

    // Annotations on the changed line, from the same scan.
    assert!(
        run.log.contains("::error file=new.env,line=1,col=14,"),
        "{run}"
    );
    assert!(!run.log.contains("file=old.env"), "{run}");

    // The job summary: redacted table, per-rule counts, fix/allow advice, scope.
    let s = &run.summary;
    assert!(s.contains("## till-scan: 1 secret found"), "{s}");
    assert!(
        s.contains("| `new.env` | 1:14 | Groq API key (`groq.api-key`, high) | `gsk_J0********` |"),
        "{s}"
    );
    assert!(
        s.contains("| Groq API key (`groq.api-key`) | Groq | 1 | 1 |"),
        "{s}"
    );
    assert!(
        s.contains("till-scan:allow") && s.contains("till-scan baseline"),
        "{s}"
    );
    assert!(
        s.contains(&format!(
            "pull request #7 ({}..{})",
            &fx.base[..8],
            &fx.head[..8]
        )),
        "{s}"
    );
    assert!(!s.contains("old.env"), "{s}");

    // SARIF: valid, uploaded with the right file and category.
    let sarif = validate_sarif(run.output("sarif-file"));
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 1);
    let uploads: Vec<_> = run
        .uses
        .iter()
        .filter(|(u, _)| u.starts_with("github/codeql-action/upload-sarif@"))
        .collect();
    assert_eq!(uploads.len(), 1, "{run}");
    let with = &uploads[0].1;
    assert_eq!(with["sarif_file"], run.output("sarif-file"));
    assert_eq!(with["category"], "till-scan");
    assert_eq!(with["token"], FAKE_TOKEN);
    assert_eq!(
        Path::new(&with["checkout_path"]).canonicalize().unwrap(),
        fx.path("ws").canonicalize().unwrap()
    );
    // A binary was given: nothing is built or restored.
    assert!(
        run.uses
            .iter()
            .all(|(u, _)| !u.starts_with("actions/cache")),
        "{run}"
    );
    assert!(!run.ran.iter().any(|s| s.starts_with("Build")), "{run}");

    // fail-on-findings (default true): the last step fails the job, after the upload.
    assert_eq!(
        run.failed,
        Some(("Fail on findings".to_string(), 1)),
        "{run}"
    );
    assert!(!run.ran.contains(&"Rotate keys to Till".to_string()));
    assert_no_secret(&run);
}

#[test]
fn fail_on_findings_false_reports_without_failing_and_sarif_upload_is_opt_in() {
    let fx = Fixture::new();
    let run = fx.run(
        "pull_request",
        &fx.pull_request_payload(),
        &[("version", bin()), ("fail-on-findings", "false")],
    );
    assert_eq!(run.failed, None, "{run}");
    assert_eq!(run.output("findings"), "1", "{run}");
    assert!(run.uses.is_empty(), "upload-sarif defaults to false: {run}");
    validate_sarif(run.output("sarif-file"));
    assert_no_secret(&run);
}

#[test]
fn config_baseline_and_extra_args_reach_the_scan() {
    let fx = Fixture::new();
    let payload = fx.pull_request_payload();
    // A baseline that accepts the PR's key.
    let baseline = fx.path("accepted.json");
    let out = crate::support::isolate_home(&mut Command::new(bin()), &fx.path("home"))
        .args(["baseline", "--git", "-o"])
        .arg(&baseline)
        .arg(fx.path("ws"))
        .args(["-q", "--range", &format!("{}..{}", fx.base, fx.head)])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = fx.run(
        "pull_request",
        &payload,
        &[
            ("version", bin()),
            ("baseline", baseline.to_str().unwrap()),
            ("extra-args", " --threads 1  --max-file-size 1MiB "),
        ],
    );
    assert_eq!(run.failed, None, "{run}");
    assert_eq!(run.output("findings"), "0", "{run}");
    assert!(
        run.summary.contains("Not reported: 1 in the baseline."),
        "{run}"
    );
    assert!(
        run.log.contains(" --threads 1 --max-file-size 1MiB"),
        "{run}"
    );

    // A config that allows the file.
    let config = fx.path("till-scan.toml");
    std::fs::write(&config, "[allowlist]\npaths = [\"new.env\"]\n").unwrap();
    let run = fx.run(
        "pull_request",
        &payload,
        &[("version", bin()), ("config", config.to_str().unwrap())],
    );
    assert_eq!(run.output("findings"), "0", "{run}");
    assert!(
        run.summary.contains("Not reported: 1 allowed by config."),
        "{run}"
    );

    // A bad flag is the scan's error, not a pass.
    let run = fx.run(
        "pull_request",
        &payload,
        &[("version", bin()), ("extra-args", "--no-such-flag")],
    );
    assert_eq!(run.failed, Some(("Scan".to_string(), 2)), "{run}");
    assert!(run.log.contains("till-scan failed (exit 2)"), "{run}");
}

#[test]
fn push_scans_before_to_after_and_a_clean_push_passes() {
    let fx = Fixture::new();
    // An existing branch: only the pushed commits.
    let run = fx.run(
        "push",
        &fx.push_payload(&fx.base, &fx.head, "refs/heads/feature"),
        &[("version", bin())],
    );
    assert_eq!(run.output("findings"), "1", "{run}");
    assert_eq!(run.finding_paths(), BTreeSet::from(["new.env".to_string()]));
    assert!(
        run.summary.contains(&format!(
            "pushed commits {}..{}",
            &fx.base[..8],
            &fx.head[..8]
        )),
        "{run}"
    );
    assert_eq!(
        run.failed.as_ref().map(|f| f.0.as_str()),
        Some("Fail on findings")
    );

    // A push that adds no key passes, with fail-on-findings at its default.
    let run = fx.run(
        "push",
        &fx.push_payload(&fx.key_commit, &fx.head, "refs/heads/feature"),
        &[("version", bin())],
    );
    assert_eq!(run.output("findings"), "0", "{run}");
    assert_eq!(run.failed, None, "{run}");
    assert!(
        run.summary.contains("## till-scan: no secrets found"),
        "{run}"
    );
    validate_sarif(run.output("sarif-file"));
    assert_no_secret(&run);
}

#[test]
fn push_of_a_new_branch_scans_its_whole_history() {
    let fx = Fixture::new();
    let run = fx.run(
        "push",
        &fx.push_payload(ZERO, &fx.head, "refs/heads/feature"),
        &[("version", bin()), ("fail-on-findings", "false")],
    );
    assert_eq!(run.output("findings"), "2", "{run}");
    assert_eq!(
        run.finding_paths(),
        BTreeSet::from(["new.env".to_string(), "old.env".to_string()])
    );
    assert!(
        run.summary
            .contains("whole history of the new ref refs/heads/feature"),
        "{run}"
    );
    validate_sarif(run.output("sarif-file"));
    assert_no_secret(&run);
}

#[test]
fn shallow_checkout_is_deepened_with_a_notice_or_fails_naming_fetch_depth() {
    let fx = Fixture::new();
    // actions/checkout's default: one commit. The action fetches the rest
    // and the boundary commit's tree is not mistaken for new keys.
    fx.clone_workspace(&["--depth", "1"]);
    assert_eq!(
        fx.git("ws", &["rev-parse", "--is-shallow-repository"]),
        "true"
    );
    let run = fx.run(
        "pull_request",
        &fx.pull_request_payload(),
        &[("version", bin()), ("fail-on-findings", "false")],
    );
    assert!(
        run.log
            .contains("::notice title=till-scan::the checkout is shallow"),
        "{run}"
    );
    assert!(run.log.contains("fetch-depth: 0"), "{run}");
    assert_eq!(run.output("findings"), "1", "{run}");
    assert_eq!(run.finding_paths(), BTreeSet::from(["new.env".to_string()]));

    // No way to fetch: a clear error, and no step after the scan runs.
    fx.clone_workspace(&["--depth", "1"]);
    fx.git(
        "ws",
        &[
            "remote",
            "set-url",
            "origin",
            "file:///nonexistent/origin.git",
        ],
    );
    let run = fx.run(
        "pull_request",
        &fx.pull_request_payload(),
        &[("version", bin()), ("upload-sarif", "true")],
    );
    assert_eq!(run.failed, Some(("Scan".to_string(), 2)), "{run}");
    assert!(run.log.contains("::error title=till-scan::"), "{run}");
    assert!(run.log.contains("check out with fetch-depth: 0"), "{run}");
    assert!(run.uses.is_empty(), "{run}");
    assert_eq!(run.output("findings"), "");
}

#[test]
fn schedule_follows_mode_history_or_dir() {
    let fx = Fixture::new();
    let payload = json!({ "schedule": "0 3 * * *" });
    // diff has nothing to diff on a schedule: the full history.
    let run = fx.run(
        "schedule",
        &payload,
        &[("version", bin()), ("fail-on-findings", "false")],
    );
    assert_eq!(run.output("findings"), "2", "{run}");
    assert!(run.summary.contains("full history of every ref"), "{run}");
    let report = run.report();
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["commit"].is_string()));

    // dir: the files as checked out, no commits.
    fx.git("ws", &["checkout", "-q", &fx.base]);
    let run = fx.run(
        "workflow_dispatch",
        &json!({ "inputs": {} }),
        &[
            ("version", bin()),
            ("mode", "dir"),
            ("fail-on-findings", "false"),
        ],
    );
    assert_eq!(run.output("findings"), "1", "{run}");
    assert_eq!(run.finding_paths(), BTreeSet::from(["old.env".to_string()]));
    assert!(run.report()["findings"][0]["commit"].is_null());
    validate_sarif(run.output("sarif-file"));

    // A mode that does not exist is an error, not a silent default.
    let run = fx.run(
        "schedule",
        &payload,
        &[("version", bin()), ("mode", "everything")],
    );
    assert_eq!(run.failed, Some(("Scan".to_string(), 2)), "{run}");
    assert!(
        run.log.contains("input mode must be diff, history or dir"),
        "{run}"
    );
}

/// A till-scan that scans with the real binary but records `rotate` calls
/// and answers them as `till-scan rotate --format json` does.
fn stub_binary(fx: &Fixture) -> PathBuf {
    let stub = fx.path("stub/till-scan");
    let record = fx.path("stub/rotate-call");
    fx.project.write(
        "stub/till-scan",
        &format!(
            r#"#!/usr/bin/env bash
if [ "$1" = rotate ]; then
    if [ "$2" = --help ]; then exit 0; fi
    {{
        printf 'arg=%s\n' "$@"
        printf 'admin-key-set=%s\n' "${{TILL_ADMIN_KEY:+yes}}"
        printf 'github-token-set=%s\n' "${{GITHUB_TOKEN:+yes}}"
        printf 'author=%s\n' "$(git config user.name)"
    }} > '{record}'
    echo '{{"version":1,"dry_run":false,"branch":"till-scan/rotate-keys","commit":"abc","pr_url":"https://github.com/{REPOSITORY}/pull/12","already_open":false,"rotations":[{{"rule_id":"groq.api-key"}}],"manual":[]}}'
    exit 0
fi
exec '{bin}' "$@"
"#,
            record = record.display(),
            bin = bin(),
        ),
    );
    std::process::Command::new("chmod")
        .args(["+x"])
        .arg(&stub)
        .status()
        .unwrap();
    stub
}

#[test]
fn rotate_on_a_push_to_the_default_branch_opens_the_pr_and_sets_the_output() {
    let fx = Fixture::new();
    fx.git("ws", &["checkout", "-q", "-B", "main", &fx.head]);
    let stub = stub_binary(&fx);
    let stub = stub.to_str().unwrap();
    // The scan's config reaches the rotation too (same rules, same suppressions).
    std::fs::write(fx.path("till-ci.toml"), "max_file_size = \"5MiB\"\n").unwrap();
    let config = fx.path("till-ci.toml");
    let config = config.to_str().unwrap();
    let inputs = [
        ("version", stub),
        ("config", config),
        ("rotate", "true"),
        ("till-admin-key", FAKE_ADMIN_KEY),
        ("max-activations", "50"),
        ("till-url", "https://till.example"),
        ("fail-on-findings", "false"),
        ("rotate-validate", "false"),
    ];

    // Not the default branch: no rotation, and a notice says why.
    let run = fx.run(
        "push",
        &fx.push_payload(&fx.base, &fx.head, "refs/heads/feature"),
        &inputs,
    );
    assert!(
        !run.ran.contains(&"Rotate keys to Till".to_string()),
        "{run}"
    );
    assert!(
        run.log
            .contains("rotate runs only on a push to the default branch (main)"),
        "{run}"
    );
    assert_eq!(run.output("rotation-pr-url"), "");

    let run = fx.run(
        "push",
        &fx.push_payload(&fx.base, &fx.head, "refs/heads/main"),
        &inputs,
    );
    assert_eq!(run.failed, None, "{run}");
    assert!(
        run.ran.contains(&"Rotate keys to Till".to_string()),
        "{run}"
    );
    let mask = run
        .log
        .find(&format!("::add-mask::{FAKE_ADMIN_KEY}"))
        .expect("admin key masked");
    assert!(mask < run.log.find("## Scan").unwrap());
    assert_eq!(
        run.output("rotation-pr-url"),
        format!("https://github.com/{REPOSITORY}/pull/12")
    );
    assert!(run.step_outputs("rotate").contains_key("pr-url"));
    assert!(run.summary.contains("## till-scan rotate"), "{run}");
    assert!(run.summary.contains("/pull/12: 1 key(s) rotated"), "{run}");

    let call = std::fs::read_to_string(fx.path("stub/rotate-call")).unwrap();
    let args: Vec<&str> = call
        .lines()
        .filter_map(|l| l.strip_prefix("arg="))
        .collect();
    let ws = fx.path("ws").canonicalize().unwrap();
    assert_eq!(
        args,
        [
            "rotate",
            ws.to_str().unwrap(),
            "--report",
            run.output("report-file"),
            "--format",
            "json",
            "--till-url",
            "https://till.example",
            "--max-activations",
            "50",
            "--github-repo",
            REPOSITORY,
            "--config",
            config,
            "--no-validate",
        ]
    );
    assert!(call.contains("admin-key-set=yes") && call.contains("github-token-set=yes"));
    assert!(call.contains("author=github-actions[bot]"), "{call}");
    assert_no_secret(&run);

    // rotate: true without the admin key is a clear error.
    let mut no_key = inputs.to_vec();
    no_key.retain(|(n, _)| *n != "till-admin-key");
    let run = fx.run(
        "push",
        &fx.push_payload(&fx.base, &fx.head, "refs/heads/main"),
        &no_key,
    );
    assert_eq!(
        run.failed,
        Some(("Rotate keys to Till".to_string(), 2)),
        "{run}"
    );
    assert!(run.log.contains("needs the input till-admin-key"), "{run}");
}

/// The real `till-scan rotate --dry-run` behind the action (no key, no
/// network).
#[test]
fn rotate_dry_run_with_the_real_binary() {
    let fx = Fixture::new();
    fx.git("ws", &["checkout", "-q", "-B", "main", &fx.head]);
    let run = fx.run(
        "push",
        &fx.push_payload(&fx.base, &fx.head, "refs/heads/main"),
        &[
            ("version", bin()),
            ("rotate", "dry-run"),
            ("fail-on-findings", "false"),
        ],
    );
    assert_eq!(run.failed, None, "{run}");
    assert!(
        run.ran.contains(&"Rotate keys to Till".to_string()),
        "{run}"
    );
    let result = run.step_outputs("rotate")["result-file"].clone();
    let result: Value = serde_json::from_str(&std::fs::read_to_string(result).unwrap()).unwrap();
    assert_eq!(result["version"], 1);
    assert_eq!(result["dry_run"], true);
    assert_eq!(run.output("rotation-pr-url"), "");
    assert!(run.summary.contains("Dry run:"), "{run}");
    assert_eq!(
        fx.git("ws", &["status", "--porcelain"]),
        "",
        "a dry run changes nothing"
    );
    assert_no_secret(&run);
}

/// `mode: audit` (a scheduled workflow): no scan; the real `till-scan keys`
/// against the Till double writes its markdown table to the job summary,
/// and the step fails when a key needs attention (unless fail-on-findings
/// is false). The admin key comes from the input or the workflow's env.
#[test]
fn audit_mode_writes_the_key_table_to_the_summary() {
    let fx = Fixture::new();
    let till = TillDouble::start(FAKE_ADMIN_KEY);
    let ago = |days: u64| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        crate::support::http::rfc3339(now - days * 86_400)
    };
    let meta = |path: &str| json!({"source": "till-scan", "repository": REPOSITORY, "path": path, "paths": [path]});
    // old.env holds no scoped key at HEAD: gone. And one near its limit.
    let (gone, gone_scoped) = till.seed_key(json!({
        "provider": "groq", "usedActivations": 5, "lastUsedAt": ago(2),
        "metadata": meta("old.env"),
    }));
    let (near, near_scoped) = till.seed_key(json!({
        "usedActivations": 950, "lastUsedAt": ago(1),
        "metadata": {"source": "till-scan", "repository": "acme/other", "path": "a.py"},
    }));
    let payload = json!({ "schedule": "23 6 * * 1" });
    let env = [
        ("TILL_API_URL", till.url()),
        ("TILL_SCAN_RETRY_BACKOFF_MS", "5".into()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let check = |run: &ActionRun| {
        assert_no_secret(run);
        for scoped in [&gone_scoped, &near_scoped] {
            assert!(!run.log.contains(scoped.as_str()), "{run}");
            assert!(!run.summary.contains(scoped.as_str()), "{run}");
        }
        assert!(!run.summary.contains(FAKE_ADMIN_KEY), "{run}");
    };

    let run = fx.run_with_env(
        "schedule",
        &payload,
        &[
            ("version", bin()),
            ("mode", "audit"),
            ("till-admin-key", FAKE_ADMIN_KEY),
            ("fail-on-findings", "false"),
        ],
        &env,
    );
    check(&run);
    assert_eq!(run.failed, None, "{run}");
    assert!(run.ran.contains(&"Audit Till keys".to_string()), "{run}");
    assert_eq!(run.output("findings"), "0", "no scan in audit mode: {run}");
    assert_eq!(run.output("report-file"), "", "{run}");
    assert!(run.uses.is_empty(), "{run}");
    let s = &run.summary;
    assert!(s.contains("### Till keys minted by till-scan"), "{s}");
    assert!(s.contains(&format!("repository {REPOSITORY}")), "{s}");
    assert!(s.contains("| Id | Provider | Repository / path |"), "{s}");
    let row = |id: &str| {
        let id = id.replace('_', "\\_");
        s.lines()
            .find(|l| l.starts_with(&format!("| {id} |")))
            .unwrap_or_else(|| panic!("no row for {id}: {s}"))
            .to_string()
    };
    assert!(row(&gone).contains("| gone |"), "{s}");
    assert!(row(&near).contains("near-limit"), "{s}");
    assert!(row(&near).contains("(other repository)"), "{s}");
    let methods: Vec<String> = till
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(methods, ["GET /admin/keys"]);

    // fail-on-findings (default true): keys that need attention fail the
    // step, after the table reached the summary. The key from the
    // workflow's env works as well as the input.
    let mut env_key = env.clone();
    env_key.push(("TILL_ADMIN_KEY", FAKE_ADMIN_KEY));
    let run = fx.run_with_env(
        "schedule",
        &payload,
        &[
            ("version", bin()),
            ("mode", "audit"),
            ("extra-args", "--idle-days 60"),
        ],
        &env_key,
    );
    check(&run);
    assert_eq!(
        run.failed,
        Some(("Audit Till keys".to_string(), 1)),
        "{run}"
    );
    assert!(run.log.contains("Till keys need attention"), "{run}");
    assert!(run.summary.contains("idle after 60 days"), "{run}");
    assert!(!run.ran.contains(&"Fail on findings".to_string()), "{run}");

    // No admin key: a clear error, and Till is not contacted.
    let before = till.call_count();
    let run = fx.run_with_env(
        "schedule",
        &payload,
        &[("version", bin()), ("mode", "audit")],
        &env,
    );
    assert_eq!(
        run.failed,
        Some(("Audit Till keys".to_string(), 2)),
        "{run}"
    );
    assert!(
        run.log.contains("mode: audit needs a Till admin key"),
        "{run}"
    );
    assert_eq!(till.call_count(), before);

    // Till refusing the key: exit 2, naming the service.
    let run = fx.run_with_env(
        "schedule",
        &payload,
        &[
            ("version", bin()),
            ("mode", "audit"),
            ("till-admin-key", "till_admin_wrong_0000000000"),
        ],
        &env,
    );
    assert_eq!(
        run.failed,
        Some(("Audit Till keys".to_string(), 2)),
        "{run}"
    );
    assert!(run.log.contains("HTTP 401"), "{run}");
    assert!(
        !run.log
            .lines()
            .any(|l| !l.starts_with("::add-mask::") && l.contains("till_admin_wrong_0000000000")),
        "{run}"
    );
}

/// The `github-token` input the GitHub double accepts (not `github.token`).
const ROTATE_TOKEN: &str = "ghp_RotateToken0123456789abcdefABCD";

/// A push to main of one commit adding an OpenAI, a Groq and an AWS key, in
/// the fixture's workspace (a full clone of the bare `origin.git`, on main
/// at the pushed commit, as actions/checkout leaves it). Returns the payload.
fn push_of_three_keys(fx: &Fixture) -> Value {
    fx.git("seed", &["checkout", "-q", "main"]);
    fx.project.write(
        "seed/src/llm.py",
        &format!(
            "import openai\r\nclient = openai.OpenAI(api_key=\"{OPENAI}\")\r\n# again: {OPENAI}\r\n"
        ),
    );
    fx.project.write(
        "seed/scripts/run.sh",
        &format!("#!/bin/sh\nexport GROQ_API_KEY={GROQ}\nexec python app.py\n"),
    );
    fx.project.write(
        "seed/deploy/aws.cfg",
        &format!("[default]\naws_access_key_id = {AWS}\n"),
    );
    let after = fx.commit("add the LLM client and the deploy config");
    fx.git("seed", &["push", "-q", "../origin.git", "main"]);
    fresh_checkout_of_main(fx);
    let mut payload = fx.push_payload(&fx.base, &after, "refs/heads/main");
    payload["repository"]["full_name"] = json!("acme/app");
    payload
}

/// A new `ws`: what actions/checkout with fetch-depth: 0 gives a push to main.
fn fresh_checkout_of_main(fx: &Fixture) {
    let _ = std::fs::remove_dir_all(fx.path("ws"));
    fx.git(
        ".",
        &["clone", "-q", "--branch", "main", &fx.origin_url(), "ws"],
    );
}

/// `git show SPEC` in the bare origin, raw bytes.
fn origin_show(fx: &Fixture, spec: &str) -> Vec<u8> {
    fx.project.git_bytes("origin.git", &["show", spec])
}

/// No secret in any step's output, the summary, the outputs files, the
/// files they name, or anything sent to GitHub. The admin key and the
/// token appear only in their own `::add-mask::` lines.
fn assert_nothing_leaked(run: &ActionRun, github: &GitHubDouble, scoped: &[String]) {
    let mut secrets: Vec<&str> = vec![OPENAI, GROQ, AWS, K_OLD, K_NEW];
    secrets.extend(scoped.iter().map(String::as_str));
    let credentials = [FAKE_ADMIN_KEY, ROTATE_TOKEN];
    let mut texts: Vec<(String, String)> = vec![("summary".into(), run.summary.clone())];
    for (id, text) in &run.output_files {
        texts.push((format!("outputs of step {id}"), text.clone()));
        for (name, value) in parse_output_file(text) {
            if name.ends_with("-file") && !value.is_empty() {
                let content = std::fs::read_to_string(&value)
                    .unwrap_or_else(|e| panic!("{name} {value}: {e}"));
                texts.push((format!("{name} of step {id}"), content));
            }
        }
    }
    for r in github.requests() {
        texts.push((
            format!("GitHub request {} {}", r.method, r.path),
            format!("{} {}", r.path, r.body),
        ));
    }
    for pull in github.pulls() {
        texts.push(("PR body".into(), pull["body"].to_string()));
    }
    for (what, text) in &texts {
        for secret in secrets.iter().chain(&credentials) {
            assert!(
                !text.contains(secret),
                "a secret reached the {what}:\n{text}"
            );
        }
    }
    for line in run.log.lines() {
        for secret in &secrets {
            assert!(!line.contains(secret), "a secret reached the log: {line}");
        }
        if !line.starts_with("::add-mask::") {
            for secret in credentials {
                assert!(
                    !line.contains(secret),
                    "a credential reached the log: {line}"
                );
            }
        }
    }
}

/// The whole rotation path with the real binary: the action scans the
/// push, fails the job on the findings, but first rotates the two
/// AI-provider keys to Till scoped keys on a branch pushed to origin and
/// opens the pull request, all against the Till and GitHub doubles. A
/// second run of the same event (the PR still open) mints nothing and
/// reports the same pull request.
#[test]
fn rotate_with_the_real_binary_opens_the_pr_once_and_leaks_nothing() {
    let fx = Fixture::new();
    let payload = push_of_three_keys(&fx);
    let till = TillDouble::start(FAKE_ADMIN_KEY);
    let github = GitHubDouble::start(ROTATE_TOKEN, "acme", "app", "main");
    let (till_url, github_url) = (till.url(), github.url());
    let env = [
        ("TILL_API_URL", till_url.as_str()),
        ("GITHUB_API_URL", github_url.as_str()),
        ("GITHUB_REPOSITORY", "acme/app"),
        ("TILL_SCAN_HTTP_TIMEOUT", "5"),
        ("TILL_SCAN_RETRY_BACKOFF_MS", "5"),
    ];
    let inputs = [
        ("version", bin()),
        ("rotate", "true"),
        ("till-admin-key", FAKE_ADMIN_KEY),
        ("github-token", ROTATE_TOKEN),
        ("till-url", till_url.as_str()),
        ("max-activations", "250"),
        // No provider double here: the check before rotating has its own
        // test (rotate.rs); the runner must not reach real providers.
        ("rotate-validate", "false"),
    ];
    let run = fx.run_with_env("push", &payload, &inputs, &env);

    // Four occurrences of three keys; the job fails on them, after the rotation.
    assert_eq!(run.output("findings"), "4", "{run}");
    assert_eq!(
        run.failed,
        Some(("Fail on findings".to_string(), 1)),
        "{run}"
    );
    let rotate_at = run.ran.iter().position(|s| s == "Rotate keys to Till");
    assert!(
        rotate_at.is_some_and(|i| i + 2 == run.ran.len()),
        "rotation runs before the failing step: {run}"
    );

    // GitHub: one PR from the rotation branch to main; the output is its URL.
    let pulls = github.pulls();
    assert_eq!(pulls.len(), 1, "{run}");
    let pr_url = pulls[0]["html_url"].as_str().unwrap().to_string();
    let branch = pulls[0]["head"]["ref"].as_str().unwrap().to_string();
    assert!(branch.starts_with("till-scan/rotate-"), "{branch}");
    assert_eq!(pulls[0]["base"]["ref"], "main");
    assert_eq!(run.output("rotation-pr-url"), pr_url, "{run}");
    assert!(
        run.summary
            .contains(&format!("Opened {pr_url}: 2 key(s) rotated")),
        "{run}"
    );
    assert!(
        run.summary
            .contains("1 key(s) need rotating by hand at their provider"),
        "{run}"
    );

    // Till: exactly two active keys, wrapping exactly the two AI keys.
    let keys = till.active_keys();
    assert_eq!(keys.len(), 2, "{keys:?}\n{run}");
    assert_eq!(till.keys().len(), 2, "nothing minted and revoked");
    let mut scoped = Vec::new();
    for (provider, secret) in [("openai", OPENAI), ("groq", GROQ)] {
        let key = keys
            .iter()
            .find(|k| k["provider"] == provider)
            .unwrap_or_else(|| panic!("no {provider} key: {keys:?}"));
        let id = key["id"].as_str().unwrap();
        assert_eq!(till.upstream_of(id).as_deref(), Some(secret));
        assert_eq!(key["maxActivations"], 250);
        assert_eq!(key["metadata"]["repository"], "acme/app");
        assert_eq!(key["metadata"]["branch"], branch.as_str());
        let body = pulls[0]["body"].as_str().unwrap();
        assert!(body.contains(id), "PR body lacks key id {id}:\n{body}");
        scoped.push((secret, till.scoped_key_of(id).unwrap()));
    }

    // The bare origin has the branch: one commit on main that swaps exactly
    // the two literals, byte for byte, in exactly the two files holding them.
    let git_origin = |args: &[&str]| fx.project.git("origin.git", args);
    assert_eq!(
        git_origin(&[
            "for-each-ref",
            "--format=%(refname:short)",
            "refs/heads/till-scan/"
        ]),
        branch
    );
    assert_eq!(
        git_origin(&["rev-list", "--count", &format!("main..{branch}")]),
        "1"
    );
    assert_eq!(
        git_origin(&["rev-parse", &format!("{branch}^")]),
        payload["after"].as_str().unwrap()
    );
    assert_eq!(
        git_origin(&["diff", "--name-only", "main", &branch]),
        "scripts/run.sh\nsrc/llm.py"
    );
    for path in ["scripts/run.sh", "src/llm.py"] {
        let mut expected = String::from_utf8(origin_show(&fx, &format!("main:{path}"))).unwrap();
        for (secret, key) in &scoped {
            expected = expected.replace(secret, key);
        }
        let after = origin_show(&fx, &format!("{branch}:{path}"));
        assert_eq!(expected.as_bytes(), &after[..], "{path}");
    }
    assert_eq!(
        git_origin(&["log", "-1", "--format=%an", &branch]),
        "github-actions[bot]"
    );
    // The job's later steps get the checkout as it was: on main at the
    // pushed commit, the original files in the work tree, nothing to commit.
    let after = payload["after"].as_str().unwrap();
    assert!(
        run.log
            .contains("till-scan: switched the checkout back to main"),
        "{run}"
    );
    assert_eq!(
        fx.git("ws", &["symbolic-ref", "--short", "HEAD"]),
        "main",
        "{run}"
    );
    assert_eq!(fx.git("ws", &["rev-parse", "HEAD"]), after);
    assert_eq!(fx.git("ws", &["status", "--porcelain"]), "");
    let llm = std::fs::read_to_string(fx.path("ws/src/llm.py")).unwrap();
    assert!(llm.contains(OPENAI));
    assert_nothing_leaked(
        &run,
        &github,
        &scoped.iter().map(|(_, k)| k.clone()).collect::<Vec<_>>(),
    );

    // The same event again, on a fresh checkout while the PR is open:
    // nothing minted, nothing pushed, the same URL.
    let (till_calls, branches) = (
        till.call_count(),
        git_origin(&["for-each-ref", "--format=%(refname)"]),
    );
    fresh_checkout_of_main(&fx);
    let again = fx.run_with_env("push", &payload, &inputs, &env);
    assert_eq!(
        again.failed,
        Some(("Fail on findings".to_string(), 1)),
        "{again}"
    );
    assert_eq!(again.output("rotation-pr-url"), pr_url, "{again}");
    assert!(
        again.summary.contains(&format!(
            "A rotation pull request is already open: {pr_url}"
        )),
        "{again}"
    );
    assert_eq!(till.call_count(), till_calls, "Till was called again");
    assert_eq!(till.active_keys().len(), 2);
    assert_eq!(github.create_bodies().len(), 1, "a second PR was requested");
    assert_eq!(
        git_origin(&["for-each-ref", "--format=%(refname)"]),
        branches
    );
    assert_eq!(fx.git("ws", &["status", "--porcelain"]), "");
    assert_eq!(fx.git("ws", &["symbolic-ref", "--short", "HEAD"]), "main");
    assert_nothing_leaked(
        &again,
        &github,
        &scoped.iter().map(|(_, k)| k.clone()).collect::<Vec<_>>(),
    );
}

// ------------------------------------------------------------ declarations

#[test]
fn every_input_is_used_and_every_use_is_declared() {
    let action = action();
    let declared: BTreeSet<String> = action["inputs"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let mut used = BTreeSet::new();
    let mut exprs: Vec<String> = steps(&action).iter().flat_map(step_expressions).collect();
    for spec in action["outputs"].as_object().unwrap().values() {
        exprs.extend(expressions(spec["value"].as_str().unwrap()));
    }
    for r in exprs.iter().flat_map(|e| references(e)) {
        if let Some(name) = r.strip_prefix("inputs.") {
            used.insert(name.to_string());
        }
    }
    let unused: Vec<_> = declared.difference(&used).collect();
    let undeclared: Vec<_> = used.difference(&declared).collect();
    assert!(unused.is_empty(), "declared but never used: {unused:?}");
    assert!(
        undeclared.is_empty(),
        "used but never declared: {undeclared:?}"
    );
    for (name, spec) in action["inputs"].as_object().unwrap() {
        assert!(
            spec["description"].is_string(),
            "input {name} has no description"
        );
    }
}

/// The text of a step and the scripts in `action/` it runs.
fn step_source(step: &Value) -> String {
    let run = step["run"].as_str().unwrap_or("");
    let mut text = run.to_string();
    for part in run.split("$GITHUB_ACTION_PATH/").skip(1) {
        let rel: String = part
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '"')
            .collect();
        text.push_str(&std::fs::read_to_string(action_path().join(&rel)).unwrap());
    }
    text
}

#[test]
fn every_output_and_step_output_is_written_by_its_step() {
    let action = action();
    let steps = steps(&action);
    // What each step can write: `out NAME ...` or `NAME=` in its scripts;
    // for `uses:` steps, the outputs that action documents.
    let known_uses: BTreeMap<&str, &[&str]> = BTreeMap::from([
        ("actions/cache", &["cache-hit"][..]),
        ("github/codeql-action/upload-sarif", &["sarif-id"][..]),
    ]);
    let writes = |id: &str, name: &str, before: usize| -> bool {
        let Some(step) = steps[..before].iter().find(|s| s["id"] == id) else {
            return false;
        };
        if let Some(uses) = step["uses"].as_str() {
            let action = uses.split('@').next().unwrap();
            return known_uses.get(action).is_some_and(|o| o.contains(&name));
        }
        let src = step_source(step);
        src.contains(&format!("out {name} ")) || src.contains(&format!("{name}="))
    };
    for (i, step) in steps.iter().enumerate() {
        for r in step_expressions(step).iter().flat_map(|e| references(e)) {
            if let ["steps", id, "outputs", name] = r.split('.').collect::<Vec<_>>()[..] {
                assert!(
                    writes(id, name, i),
                    "step {:?} reads {r}, which no earlier step writes",
                    step["name"]
                );
            }
        }
    }
    let outputs = action["outputs"].as_object().unwrap();
    assert_eq!(
        outputs.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        BTreeSet::from(["findings", "sarif-file", "report-file", "rotation-pr-url"])
    );
    for (name, spec) in outputs {
        let refs: Vec<String> = expressions(spec["value"].as_str().unwrap())
            .iter()
            .flat_map(|e| references(e))
            .collect();
        assert_eq!(refs.len(), 1, "output {name}");
        let parts: Vec<&str> = refs[0].split('.').collect();
        assert!(
            matches!(parts[..], ["steps", id, "outputs", out] if writes(id, out, steps.len())),
            "output {name} = {} is written by no step",
            refs[0]
        );
    }
}

#[test]
fn secret_inputs_are_masked_by_the_first_step() {
    let action = action();
    let first = &steps(&action)[0];
    let masked: BTreeSet<String> = str_map(&first["env"])
        .values()
        .flat_map(|v| expressions(v))
        .flat_map(|e| references(&e))
        .filter_map(|r| r.strip_prefix("inputs.").map(str::to_string))
        .collect();
    assert_eq!(
        masked,
        BTreeSet::from(["github-token".to_string(), "till-admin-key".to_string()])
    );
    assert!(first["run"].as_str().unwrap().contains("::add-mask::"));
}

/// The uses: of this action in a workflow file.
fn action_steps(workflow: &Value) -> Vec<&Value> {
    workflow["jobs"]
        .as_object()
        .expect("jobs")
        .values()
        .flat_map(|job| job["steps"].as_array().into_iter().flatten())
        .filter(|s| s["uses"].as_str().is_some_and(|u| u.contains("till-scan")))
        .collect()
}

#[test]
fn example_workflows_use_only_declared_inputs_and_outputs() {
    let action = action();
    let inputs = action["inputs"].as_object().unwrap();
    let outputs = action["outputs"].as_object().unwrap();
    let dir = action_path().join("docs/workflows");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    let readme = std::fs::read_to_string(action_path().join("docs/action.md")).unwrap();
    for file in &files {
        let wf = yaml(file);
        assert!(
            wf["on"].is_object() || wf["on"].is_string(),
            "{}: no `on`",
            file.display()
        );
        assert!(
            wf["permissions"].is_object(),
            "{}: no permissions",
            file.display()
        );
        let uses = action_steps(&wf);
        assert!(
            !uses.is_empty(),
            "{} does not use the action",
            file.display()
        );
        for step in &uses {
            for key in step["with"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k)
            {
                assert!(
                    inputs.contains_key(key),
                    "{}: undeclared input {key}",
                    file.display()
                );
            }
            let Some(id) = step["id"].as_str() else {
                continue;
            };
            let text = std::fs::read_to_string(file).unwrap();
            for e in expressions(&text) {
                for r in references(&e) {
                    if let ["steps", sid, "outputs", name] = r.split('.').collect::<Vec<_>>()[..] {
                        if sid == id {
                            assert!(
                                outputs.contains_key(name),
                                "{}: undeclared output {name}",
                                file.display()
                            );
                        }
                    }
                }
            }
        }
        // The README carries each example verbatim.
        let text = std::fs::read_to_string(file).unwrap();
        assert!(
            readme.contains(text.trim()),
            "README.md does not hold {} verbatim",
            file.display()
        );
    }
}

#[test]
fn readme_documents_every_input_output_and_permission() {
    let action = action();
    // The Action's page of the user documentation.
    let section = std::fs::read_to_string(action_path().join("docs/action.md")).unwrap();
    let section = section.as_str();
    for kind in ["inputs", "outputs"] {
        for name in action[kind].as_object().unwrap().keys() {
            assert!(
                section.contains(&format!("| `{name}` |")),
                "README's GitHub Action section has no row for {kind} `{name}`"
            );
        }
    }
    for permission in [
        "contents: read",
        "security-events: write",
        "contents: write",
        "pull-requests: write",
    ] {
        assert!(
            section.contains(permission),
            "README does not mention {permission}"
        );
    }
}

#[test]
fn the_expression_evaluator_follows_github_rules() {
    let ctx = Contexts {
        inputs: BTreeMap::from([("a-b".to_string(), "true".to_string())]),
        steps: BTreeMap::from([(
            "s".to_string(),
            BTreeMap::from([("n".to_string(), "0".to_string())]),
        )]),
        github: json!({ "event": { "x": "y" } }),
        runner: BTreeMap::new(),
        failed: false,
    };
    assert!(ctx.condition(Some("inputs.a-b == 'TRUE'")));
    assert!(!ctx.condition(Some("steps.s.outputs.n != '0'")));
    // A missing output is null, and null == '0' as numbers.
    assert!(!ctx.condition(Some("steps.none.outputs.n != '0'")));
    assert!(ctx.condition(Some(
        "${{ !(github.event.x == 'z') && inputs.a-b == 'true' }}"
    )));
    assert_eq!(
        ctx.eval("github.event.missing || 'fallback'"),
        Val::Str("fallback".into())
    );
    assert_eq!(ctx.substitute("x=${{ github.event.x }};"), "x=y;");
    let failed = Contexts {
        failed: true,
        ..ctx
    };
    assert!(!failed.condition(None));
    assert!(failed.condition(Some("always()")));
    assert!(!failed.condition(Some("inputs.a-b == 'true'")));
}
