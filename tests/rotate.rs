//! `till-scan rotate` end to end: a real repository with a bare repository as
//! its remote, a stateful Till double and a GitHub API double, both on
//! 127.0.0.1. Every test also checks that no secret reached any output.

mod common;
#[path = "support/mod.rs"]
mod support;

use std::path::Path;
use std::process::Command;

use common::{run_command, Project, Run};
use support::github_double::GitHubDouble;
use support::till_double::TillDouble;

const ADMIN_KEY: &str = "till_admin_9fK2mQ7xR4tY8wE1";
const GH_TOKEN: &str = "ghp_TestToken0123456789abcdefABCDEF01";

const OPENAI: &str = "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";
const ANTHROPIC: &str = "sk-ant-api03-85Nn7Jf30xIOdZh_NRwhUTv3L_Smo927U2aT1yVPMm5nYtffRcvy0Dxo5pCJFz2B30M8KVM_w8MDaD3vSS1Mmn7qOiqh1AA";
const GROQ: &str = "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";
const AWS: &str = "AKIAVQJXXVBOTHD2WTFL";
const SECRETS: [&str; 4] = [OPENAI, ANTHROPIC, GROQ, AWS];

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

fn git_bytes(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}");
    out.stdout
}

/// A repository with keys of three Till providers and one AWS key, pushed to
/// a bare remote, plus the two service doubles.
struct World {
    project: Project,
    remote: tempfile::TempDir,
    till: TillDouble,
    github: GitHubDouble,
}

/// The files of the repository, with their secrets.
const FILES: [(&str, &str); 5] = [
    // CRLF line endings must survive.
    ("src/llm.py", "import openai\r\nclient = openai.OpenAI(\r\n    api_key=\"__OPENAI__\",\r\n)\r\n# again: __OPENAI__\r\n"),
    ("config/claude.env", "ANTHROPIC_API_KEY=__ANTHROPIC__\nOTHER=1\n"),
    ("scripts/run.sh", "#!/bin/sh\nexport GROQ_API_KEY=__GROQ__\nexec python app.py\n"),
    ("deploy/aws.cfg", "[default]\naws_access_key_id = __AWS__\n"),
    ("README.md", "# app\n"),
];

fn content(template: &str) -> String {
    template
        .replace("__OPENAI__", OPENAI)
        .replace("__ANTHROPIC__", ANTHROPIC)
        .replace("__GROQ__", GROQ)
        .replace("__AWS__", AWS)
}

impl World {
    fn new() -> World {
        let project = Project::new();
        let dir = project.dir.path();
        git(dir, &["init", "-q", "-b", "main"]);
        git(dir, &["config", "user.name", "Dev"]);
        git(dir, &["config", "user.email", "dev@example.com"]);
        git(dir, &["config", "core.autocrlf", "false"]);
        for (path, text) in FILES {
            project.write(path, &content(text));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let p = project.path("scripts/run.sh");
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        git(dir, &["add", "."]);
        git(dir, &["commit", "-q", "-m", "app with keys"]);
        let remote = tempfile::tempdir().unwrap();
        git(remote.path(), &["init", "-q", "--bare", "-b", "main"]);
        git(
            dir,
            &["remote", "add", "origin", remote.path().to_str().unwrap()],
        );
        git(dir, &["push", "-q", "-u", "origin", "main"]);
        World {
            project,
            remote,
            till: TillDouble::start(ADMIN_KEY),
            github: GitHubDouble::start(GH_TOKEN, "acme", "app", "main"),
        }
    }

    fn dir(&self) -> &Path {
        self.project.dir.path()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = self.project.command(&["rotate"]);
        c.args(args)
            .env("TILL_ADMIN_KEY", ADMIN_KEY)
            .env("TILL_API_URL", self.till.url())
            .env("GITHUB_TOKEN", GH_TOKEN)
            .env("GITHUB_API_URL", self.github.url())
            .env("GITHUB_REPOSITORY", "acme/app")
            .env("TILL_SCAN_RETRY_BACKOFF_MS", "5")
            .env("TILL_SCAN_HTTP_TIMEOUT", "3")
            .env_remove("GITHUB_SERVER_URL");
        c
    }

    fn rotate(&self, args: &[&str]) -> Run {
        let run = run_command(self.command(args), b"");
        self.assert_no_leak(&run);
        run
    }

    /// No secret in the command's output, in the PR, in any GitHub request,
    /// or in any Till request but the `upstream_key` of a create.
    fn assert_no_leak(&self, run: &Run) {
        let mut texts = vec![run.stdout.clone(), run.stderr.clone()];
        for r in self.github.requests() {
            texts.push(format!(
                "{} {} {:?} {}",
                r.method, r.path, r.headers, r.body
            ));
        }
        for r in self.till.requests() {
            // The upstream key may travel only as a create's `upstream_key`.
            let body = match r.json() {
                Some(mut body) => {
                    if let Some(obj) = body.as_object_mut() {
                        obj.remove("upstream_key");
                    }
                    body.to_string()
                }
                None => r.body.clone(),
            };
            texts.push(format!("{} {} {}", r.method, r.path, body));
        }
        for text in &texts {
            for secret in SECRETS {
                assert!(
                    !text.contains(secret),
                    "a secret leaked into: {text}\n{run}"
                );
            }
            assert!(!text.contains(ADMIN_KEY), "admin key leaked: {text}");
        }
        for text in [&run.stdout, &run.stderr] {
            assert!(!text.contains(ADMIN_KEY), "admin key printed:\n{run}");
            assert!(!text.contains(GH_TOKEN), "GitHub token printed:\n{run}");
        }
    }

    fn files(&self) -> Vec<Vec<u8>> {
        FILES
            .iter()
            .map(|(p, _)| std::fs::read(self.project.path(p)).unwrap())
            .collect()
    }

    fn original_files(&self) -> Vec<Vec<u8>> {
        FILES.iter().map(|(_, t)| content(t).into_bytes()).collect()
    }

    fn branches(&self) -> String {
        git(
            self.dir(),
            &["branch", "--list", "--format=%(refname:short)"],
        )
    }

    fn remote_branches(&self) -> String {
        git(
            self.remote.path(),
            &["branch", "--list", "--format=%(refname:short)"],
        )
    }

    /// Nothing changed: files, branches, HEAD, index, remote, PRs, Till.
    fn assert_untouched(&self, run: &Run) {
        assert_eq!(
            self.files(),
            self.original_files(),
            "work tree changed\n{run}"
        );
        assert_eq!(self.branches(), "main", "{run}");
        assert_eq!(
            git(self.dir(), &["symbolic-ref", "HEAD"]),
            "refs/heads/main"
        );
        assert_eq!(git(self.dir(), &["status", "--porcelain"]), "", "{run}");
        assert_eq!(self.remote_branches(), "main", "{run}");
        assert!(self.github.create_bodies().is_empty() || self.github.pulls().is_empty());
        assert!(
            self.till.active_keys().is_empty(),
            "keys left active: {:?}\n{run}",
            self.till.active_keys()
        );
    }
}

#[test]
fn rotates_three_till_keys_in_one_commit_and_one_pr() {
    let w = World::new();
    // An untracked copy is listed, never rewritten: a commit cannot fix it.
    let local = format!("OPENAI_API_KEY={OPENAI}\n");
    w.project.write("local.env", &local);
    let run = w.rotate(&["-f", "json"]);
    assert_eq!(run.code, 0, "{run}");
    let report = run.json();
    let branch = report["branch"].as_str().unwrap().to_string();
    assert!(branch.starts_with("till-scan/rotate-"), "{branch}");
    assert_eq!(report["rotations"].as_array().unwrap().len(), 3);
    let manual = report["manual"].as_array().unwrap();
    assert_eq!(manual.len(), 2, "{manual:?}");
    let untracked = manual
        .iter()
        .find(|m| m["locations"][0]["path"] == "local.env")
        .unwrap();
    assert!(untracked["reason"]
        .as_str()
        .unwrap()
        .contains("also in files git does not track"));
    assert!(manual.iter().any(|m| m["rule_id"] == "aws.access-key-id"));
    assert_eq!(
        std::fs::read_to_string(w.project.path("local.env")).unwrap(),
        local
    );

    // Till: three active keys, one per provider, each wrapping its secret.
    let keys = w.till.active_keys();
    assert_eq!(keys.len(), 3, "{keys:?}");
    let mut scoped = Vec::new();
    for (provider, secret) in [("openai", OPENAI), ("anthropic", ANTHROPIC), ("groq", GROQ)] {
        let key = keys
            .iter()
            .find(|k| k["provider"] == provider)
            .expect(provider);
        let id = key["id"].as_str().unwrap();
        assert_eq!(w.till.upstream_of(id).as_deref(), Some(secret));
        assert_eq!(key["maxActivations"], 1000);
        let meta = &key["metadata"];
        assert_eq!(meta["source"], "till-scan");
        assert_eq!(meta["repository"], "acme/app");
        assert_eq!(meta["fingerprint"].as_str().unwrap().len(), 32);
        scoped.push((secret, w.till.scoped_key_of(id).unwrap(), id.to_string()));
    }

    // One commit on the branch, changing exactly the three files by exactly
    // the literal swaps, byte for byte (CRLF and the executable bit kept).
    let dir = w.dir();
    assert_eq!(
        git(dir, &["rev-list", "--count", &format!("main..{branch}")]),
        "1"
    );
    let changed = git(dir, &["diff", "--name-only", "main", &branch]);
    assert_eq!(changed, "config/claude.env\nscripts/run.sh\nsrc/llm.py");
    for path in changed.lines() {
        let mut before = git_bytes(dir, &["show", &format!("main:{path}")]);
        let after = git_bytes(dir, &["show", &format!("{branch}:{path}")]);
        for (secret, key, _) in &scoped {
            before = String::from_utf8(before)
                .unwrap()
                .replace(secret, key)
                .into_bytes();
        }
        assert_eq!(before, after, "{path} differs by more than the key swap");
        assert_eq!(
            std::fs::read(w.project.path(path)).unwrap(),
            after,
            "work tree of {path}"
        );
    }
    assert!(git(dir, &["ls-tree", &branch, "scripts/run.sh"]).starts_with("100755"));
    assert_eq!(git(dir, &["symbolic-ref", "--short", "HEAD"]), branch);
    assert_eq!(git(dir, &["status", "--porcelain"]), "?? local.env");
    assert_eq!(
        git(w.remote.path(), &["rev-parse", &branch]),
        git(dir, &["rev-parse", &branch])
    );

    // One PR, against the default branch, listing all four, with no secret.
    let creates = w.github.create_bodies();
    assert_eq!(creates.len(), 1);
    assert_eq!(creates[0]["head"], branch.as_str());
    assert_eq!(creates[0]["base"], "main");
    let body = creates[0]["body"].as_str().unwrap();
    for needle in [
        "src/llm.py:3",
        "src/llm.py:5",
        "config/claude.env:1",
        "scripts/run.sh:2",
        "deploy/aws.cfg:2",
        "AWS",
        "platform.openai.com/api-keys",
        "/proxy/anthropic",
        "/v1",
        "Revoke the old keys",
    ] {
        assert!(body.contains(needle), "PR body lacks {needle}:\n{body}");
    }
    for (_, key, id) in &scoped {
        assert!(body.contains(id.as_str()), "PR body lacks key id {id}");
        assert!(!body.contains(key.as_str()), "PR body holds a scoped key");
    }
    assert_eq!(report["pr_url"], w.github.pulls()[0]["html_url"]);
}

#[test]
fn a_second_run_with_the_pr_open_mints_nothing() {
    let w = World::new();
    let first = w.rotate(&[]);
    assert_eq!(first.code, 0, "{first}");
    git(w.dir(), &["checkout", "-q", "main"]);
    let keys_before = w.till.keys().len();
    let second = w.rotate(&["-f", "json"]);
    assert_eq!(second.code, 0, "{second}");
    let report = second.json();
    assert_eq!(report["already_open"], true);
    assert_eq!(w.till.keys().len(), keys_before, "minted again");
    assert!(!w
        .till
        .requests()
        .iter()
        .skip(keys_before + 1)
        .any(|r| r.method == "POST"));
    assert_eq!(
        w.github.create_bodies().len(),
        1,
        "a second PR was requested"
    );
    assert_eq!(w.files(), w.original_files());
}

#[test]
fn dry_run_contacts_nothing_and_changes_nothing() {
    let w = World::new();
    let mut c = w.command(&["--dry-run"]);
    // Not even an admin key is needed.
    c.env_remove("TILL_ADMIN_KEY");
    let run = run_command(c, b"");
    w.assert_no_leak(&run);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("Would rotate 3 keys"), "{run}");
    assert!(run.stdout.contains("deploy/aws.cfg:2"), "{run}");
    assert!(run.stdout.contains("no service was contacted"), "{run}");
    assert_eq!(w.till.call_count(), 0);
    assert!(w.github.requests().is_empty());
    w.assert_untouched(&run);
}

#[test]
fn a_refused_push_undoes_everything() {
    let w = World::new();
    // A branch named `till-scan` on the remote: a ref under it cannot exist.
    git(w.remote.path(), &["branch", "till-scan", "main"]);
    let run = w.rotate(&[]);
    git(w.remote.path(), &["branch", "-D", "till-scan"]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("git push"), "{run}");
    assert!(
        run.stderr
            .contains("every key minted in this run was revoked"),
        "{run}"
    );
    assert_eq!(w.till.keys().len(), 3, "three were minted first");
    w.assert_untouched(&run);
}

#[test]
fn a_refused_pull_request_undoes_everything_including_the_pushed_branch() {
    let w = World::new();
    w.github
        .fail_next_create(403, "Resource not accessible by integration");
    let run = w.rotate(&[]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("GitHub ("), "{run}");
    assert!(run.stderr.contains("403"), "{run}");
    assert!(
        run.stderr
            .contains("Resource not accessible by integration"),
        "{run}"
    );
    w.assert_untouched(&run);
}

#[test]
fn a_failed_second_mint_revokes_the_first() {
    let w = World::new();
    // Call 1 lists earlier keys, call 2 mints the first key, call 3 the second.
    w.till.fail_call(3, 422, "invalid_request");
    let run = w.rotate(&[]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("HTTP 422 `invalid_request`"), "{run}");
    assert!(
        run.stderr.contains(&w.till.url()),
        "names the service: {run}"
    );
    assert_eq!(w.till.keys().len(), 1);
    assert!(w.github.create_bodies().is_empty());
    w.assert_untouched(&run);
}

#[test]
fn transient_till_errors_are_retried() {
    let w = World::new();
    w.till.fail_call(2, 503, "unavailable");
    w.till.fail_call(3, 429, "rate_limited");
    let run = w.rotate(&[]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(w.till.active_keys().len(), 3);
}

#[test]
fn till_errors_are_clear_and_leave_nothing_behind() {
    for (status, code) in [(401, "unauthorized"), (500, "internal")] {
        let w = World::new();
        w.till
            .fail_calls_matching("POST", "/admin/keys", status, code, 10);
        let run = w.rotate(&[]);
        assert_eq!(run.code, 2, "{run}");
        assert!(
            run.stderr.contains(&format!("HTTP {status} `{code}`")),
            "{run}"
        );
        assert!(run.stderr.contains("Till ("), "{run}");
        w.assert_untouched(&run);
    }
}

#[test]
fn a_wrong_admin_key_is_refused_before_anything_is_minted() {
    let w = World::new();
    let mut c = w.command(&[]);
    c.env("TILL_ADMIN_KEY", "till_admin_wrong000000");
    let run = run_command(c, b"");
    w.assert_no_leak(&run);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("HTTP 401"), "{run}");
    assert!(!run.stderr.contains("till_admin_wrong000000"), "{run}");
    assert!(w.till.keys().is_empty());
    w.assert_untouched(&run);
}

#[test]
fn till_not_answering_times_out_with_a_clear_error() {
    let w = World::new();
    w.till.hang_call(1);
    let run = w.rotate(&[]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("did not answer"), "{run}");
    assert!(run.stderr.contains("timed out"), "{run}");
    w.assert_untouched(&run);
}

#[test]
fn github_problems_are_found_before_minting() {
    // A wrong token.
    let w = World::new();
    let mut c = w.command(&[]);
    c.env("GITHUB_TOKEN", "ghp_wrong");
    let run = run_command(c, b"");
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stderr.contains("401") && run.stderr.contains("Bad credentials"),
        "{run}"
    );
    assert_eq!(w.till.call_count(), 0);
    w.assert_untouched(&run);

    // No token.
    let mut c = w.command(&[]);
    c.env_remove("GITHUB_TOKEN");
    let run = run_command(c, b"");
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("GITHUB_TOKEN is not set"), "{run}");

    // A remote that is not on GitHub, and no repository named.
    let mut c = w.command(&[]);
    c.env_remove("GITHUB_REPOSITORY");
    let run = run_command(c, b"");
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stderr.contains("is not a github.com repository"),
        "{run}"
    );
    assert!(run.stderr.contains("--github-repo"), "{run}");

    // No such remote.
    let run = w.rotate(&["--remote", "upstream"]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("no remote `upstream`"), "{run}");
    assert_eq!(w.till.call_count(), 0);
    w.assert_untouched(&run);
}

#[test]
fn missing_admin_key_and_dirty_trees_are_refused() {
    let w = World::new();
    let mut c = w.command(&[]);
    c.env_remove("TILL_ADMIN_KEY");
    let run = run_command(c, b"");
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("TILL_ADMIN_KEY is not set"), "{run}");

    w.project.write("README.md", "# app, edited\n");
    let run = w.rotate(&[]);
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stderr.contains("uncommitted changes (README.md)"),
        "{run}"
    );
    assert!(run.stderr.contains("--allow-dirty"), "{run}");
    assert_eq!(w.till.call_count(), 0);
}

#[test]
fn allow_dirty_keeps_uncommitted_edits_out_of_the_commit() {
    let w = World::new();
    let edited = content(FILES[1].1).replace("OTHER=1", "OTHER=2");
    w.project.write("config/claude.env", &edited);
    w.project.write("README.md", "# app, edited\n");
    let run = w.rotate(&["--allow-dirty", "--no-pr", "-f", "json"]);
    assert_eq!(run.code, 0, "{run}");
    let report = run.json();
    let branch = report["branch"].as_str().unwrap();
    let id = report["rotations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["till_provider"] == "anthropic")
        .unwrap()["till_key_id"]
        .as_str()
        .unwrap()
        .to_string();
    let scoped = w.till.scoped_key_of(&id).unwrap();
    // The commit: only the swap. The work tree: the swap and the user's edit.
    let committed = git(w.dir(), &["show", &format!("{branch}:config/claude.env")]);
    assert_eq!(committed, format!("ANTHROPIC_API_KEY={scoped}\nOTHER=1"));
    let on_disk = std::fs::read_to_string(w.project.path("config/claude.env")).unwrap();
    assert_eq!(on_disk, format!("ANTHROPIC_API_KEY={scoped}\nOTHER=2\n"));
    assert_eq!(
        std::fs::read_to_string(w.project.path("README.md")).unwrap(),
        "# app, edited\n"
    );
    let status = git(w.dir(), &["status", "--porcelain"]);
    assert_eq!(status, " M README.md\n M config/claude.env");
    // --no-pr: nothing pushed, no pull request.
    assert_eq!(w.remote_branches(), "main");
    assert!(w.github.requests().is_empty());
}

#[test]
fn rotates_the_findings_of_a_redacted_report() {
    let w = World::new();
    let scan = w
        .project
        .run(&["dir", ".", "-f", "json", "-o", "../report.json"]);
    assert_eq!(scan.code, 1, "{scan}");
    let report_path = w.dir().parent().unwrap().join("report.json");
    // Keep only the Groq finding: rotate must rotate that one alone.
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    doc["findings"]
        .as_array_mut()
        .unwrap()
        .retain(|f| f["provider"] == "Groq");
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1);
    assert!(!doc.to_string().contains(GROQ), "the report is redacted");
    std::fs::write(&report_path, doc.to_string()).unwrap();
    let run = w.rotate(&[
        "--report",
        report_path.to_str().unwrap(),
        "--no-pr",
        "-f",
        "json",
    ]);
    std::fs::remove_file(&report_path).unwrap();
    assert_eq!(run.code, 0, "{run}");
    let report = run.json();
    assert_eq!(report["rotations"].as_array().unwrap().len(), 1);
    assert_eq!(report["rotations"][0]["till_provider"], "groq");
    assert_eq!(w.till.active_keys().len(), 1);
}

#[test]
fn a_key_in_an_unpushed_commit_is_not_published_by_the_push() {
    let w = World::new();
    w.project.write(
        "src/extra.py",
        &format!("XAI = 'unused'\nGROQ_API_KEY = \"{GROQ}\"\n"),
    );
    git(w.dir(), &["add", "."]);
    git(w.dir(), &["commit", "-q", "-m", "local only"]);
    let run = w.rotate(&[]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("not on `origin` yet"), "{run}");
    assert_eq!(w.till.call_count(), 0);
}

/// A git smart-HTTP server on 127.0.0.1 that hands each request to
/// `git http-backend` (CGI) and wants Basic auth `x-access-token:<token>`.
struct GitHttpServer {
    url: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Drop for GitHttpServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl GitHttpServer {
    fn start(root: &Path, token: &str) -> GitHttpServer {
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
                let mut child = Command::new("git")
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

#[test]
fn pushes_over_smart_http_with_the_token_and_undoes_a_refused_push() {
    let w = World::new();
    let root = w.remote.path().parent().unwrap();
    let name = w.remote.path().file_name().unwrap().to_str().unwrap();

    // A git server that wants another token: the push is refused with a
    // clear error, and everything is undone.
    let strict = GitHttpServer::start(root, "ghp_someone_elses_token");
    git(
        w.dir(),
        &[
            "remote",
            "set-url",
            "origin",
            &format!("{}/{name}", strict.url),
        ],
    );
    let run = w.rotate(&[]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("answered HTTP 401"), "{run}");
    assert!(
        run.stderr
            .contains("every key minted in this run was revoked"),
        "{run}"
    );
    w.assert_untouched(&run);

    // The same push with the token it wants.
    let server = GitHttpServer::start(root, GH_TOKEN);
    git(
        w.dir(),
        &[
            "remote",
            "set-url",
            "origin",
            &format!("{}/{name}", server.url),
        ],
    );
    let run = w.rotate(&[]);
    assert_eq!(run.code, 0, "{run}");
    let branch = git(w.dir(), &["symbolic-ref", "--short", "HEAD"]);
    assert!(branch.starts_with("till-scan/rotate-"));
    assert_eq!(
        git(w.remote.path(), &["rev-parse", &branch]),
        git(w.dir(), &["rev-parse", &branch])
    );
    // As after any push through a named remote: its tracking ref follows.
    assert_eq!(
        git(
            w.dir(),
            &["rev-parse", &format!("refs/remotes/origin/{branch}")]
        ),
        git(w.dir(), &["rev-parse", &branch])
    );
    assert_eq!(w.github.create_bodies().len(), 1);
}
