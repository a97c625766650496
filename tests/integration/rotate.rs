//! `till-scan rotate` end to end: a real repository with a bare repository as
//! its remote, a stateful Till double and a GitHub API double, both on
//! 127.0.0.1. Every test also checks that no secret reached any output.

use std::path::PathBuf;
use std::process::Command;

use crate::support::git_http::GitHttpServer;
use crate::support::github_double::GitHubDouble;
use crate::support::http::{Outcome, Reply};
use crate::support::keys::{ANTHROPIC, AWS, GROQ, OPENAI};
use crate::support::provider_double::{Credential, ProviderDouble};
use crate::support::till_double::TillDouble;
use crate::support::{isolate, point_at_doubles, run_command, Project, Run};

const ADMIN_KEY: &str = "till_admin_9fK2mQ7xR4tY8wE1";
const GH_TOKEN: &str = "ghp_TestToken0123456789abcdefABCDEF01";
const SECRETS: [&str; 4] = [OPENAI, ANTHROPIC, GROQ, AWS];

/// A repository `repo` with keys of three Till providers and one AWS key,
/// pushed to the bare `remote.git` next to it, plus the two service doubles.
struct World {
    project: Project,
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
        project.git_init("repo");
        project.git("repo", &["config", "core.autocrlf", "false"]);
        for (path, text) in FILES {
            project.write(&format!("repo/{path}"), &content(text));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let p = project.path("repo/scripts/run.sh");
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        project.git_commit("repo", "app with keys");
        project.git_init_bare("remote.git");
        let remote = project.path("remote.git");
        project.git(
            "repo",
            &["remote", "add", "origin", remote.to_str().unwrap()],
        );
        project.git("repo", &["push", "-q", "-u", "origin", "main"]);
        World {
            project,
            till: TillDouble::start(ADMIN_KEY),
            github: GitHubDouble::start(GH_TOKEN, "acme", "app", "main"),
        }
    }

    /// The work tree.
    fn dir(&self) -> PathBuf {
        self.project.path("repo")
    }

    /// `rel` inside the work tree.
    fn path(&self, rel: &str) -> PathBuf {
        self.project.path(&format!("repo/{rel}"))
    }

    fn write(&self, rel: &str, text: &str) {
        self.project.write(&format!("repo/{rel}"), text);
    }

    /// Isolated git in the work tree; trailing white space trimmed.
    fn git(&self, args: &[&str]) -> String {
        self.project.git("repo", args)
    }

    /// Isolated git in the bare remote.
    fn remote_git(&self, args: &[&str]) -> String {
        self.project.git("remote.git", args)
    }

    /// `rotate ARGS --no-validate`: these tests are about rotation; the
    /// check before it has its own test, with provider doubles.
    fn command(&self, args: &[&str]) -> Command {
        let mut c = self.checking_command(args);
        c.arg("--no-validate");
        c
    }

    /// `rotate ARGS`, which checks each key with its provider first (point
    /// the providers at doubles with a config in ARGS).
    fn checking_command(&self, args: &[&str]) -> Command {
        let mut c = self.project.command(&["rotate"]);
        c.args(args).current_dir(self.dir());
        isolate(&mut c, &self.project);
        point_at_doubles(&mut c, &self.till, ADMIN_KEY, &self.github, GH_TOKEN);
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
            .map(|(p, _)| std::fs::read(self.path(p)).unwrap())
            .collect()
    }

    fn original_files(&self) -> Vec<Vec<u8>> {
        FILES.iter().map(|(_, t)| content(t).into_bytes()).collect()
    }

    fn branches(&self) -> String {
        self.git(&["branch", "--list", "--format=%(refname:short)"])
    }

    fn remote_branches(&self) -> String {
        self.remote_git(&["branch", "--list", "--format=%(refname:short)"])
    }

    /// Nothing changed: files, branches, HEAD, index, remote, PRs, Till.
    fn assert_untouched(&self, run: &Run) {
        assert_eq!(
            self.files(),
            self.original_files(),
            "work tree changed\n{run}"
        );
        assert_eq!(self.branches(), "main", "{run}");
        assert_eq!(self.git(&["symbolic-ref", "HEAD"]), "refs/heads/main");
        assert_eq!(self.git(&["status", "--porcelain"]), "", "{run}");
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
    w.write("local.env", &local);
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
    assert_eq!(std::fs::read_to_string(w.path("local.env")).unwrap(), local);

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
    assert_eq!(
        w.git(&["rev-list", "--count", &format!("main..{branch}")]),
        "1"
    );
    let changed = w.git(&["diff", "--name-only", "main", &branch]);
    assert_eq!(changed, "config/claude.env\nscripts/run.sh\nsrc/llm.py");
    for path in changed.lines() {
        let mut before = w
            .project
            .git_bytes("repo", &["show", &format!("main:{path}")]);
        let after = w
            .project
            .git_bytes("repo", &["show", &format!("{branch}:{path}")]);
        for (secret, key, _) in &scoped {
            before = String::from_utf8(before)
                .unwrap()
                .replace(secret, key)
                .into_bytes();
        }
        assert_eq!(before, after, "{path} differs by more than the key swap");
        assert_eq!(
            std::fs::read(w.path(path)).unwrap(),
            after,
            "work tree of {path}"
        );
    }
    assert!(w
        .git(&["ls-tree", &branch, "scripts/run.sh"])
        .starts_with("100755"));
    assert_eq!(w.git(&["symbolic-ref", "--short", "HEAD"]), branch);
    assert_eq!(w.git(&["status", "--porcelain"]), "?? local.env");
    assert_eq!(
        w.remote_git(&["rev-parse", &branch]),
        w.git(&["rev-parse", &branch])
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
        "Audit these keys later with `till-scan keys` (or the Action's `mode: audit`)",
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
    w.git(&["checkout", "-q", "main"]);
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
    w.remote_git(&["branch", "till-scan", "main"]);
    let run = w.rotate(&[]);
    w.remote_git(&["branch", "-D", "till-scan"]);
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

    w.write("README.md", "# app, edited\n");
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
    w.write("config/claude.env", &edited);
    w.write("README.md", "# app, edited\n");
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
    let committed = w.git(&["show", &format!("{branch}:config/claude.env")]);
    assert_eq!(committed, format!("ANTHROPIC_API_KEY={scoped}\nOTHER=1"));
    let on_disk = std::fs::read_to_string(w.path("config/claude.env")).unwrap();
    assert_eq!(on_disk, format!("ANTHROPIC_API_KEY={scoped}\nOTHER=2\n"));
    assert_eq!(
        std::fs::read_to_string(w.path("README.md")).unwrap(),
        "# app, edited\n"
    );
    let status = w.git(&["status", "--porcelain"]);
    assert_eq!(status, " M README.md\n M config/claude.env");
    // --no-pr: nothing pushed, no pull request.
    assert_eq!(w.remote_branches(), "main");
    assert!(w.github.requests().is_empty());
}

#[test]
fn rotates_the_findings_of_a_redacted_report() {
    let w = World::new();
    let mut c = w
        .project
        .command(&["dir", ".", "-f", "json", "-o", "../report.json"]);
    c.current_dir(w.dir());
    isolate(&mut c, &w.project);
    let scan = run_command(c, b"");
    assert_eq!(scan.code, 1, "{scan}");
    // Outside the work tree, in this test's own directory.
    let report_path = w.project.path("report.json");
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
    w.write(
        "src/extra.py",
        &format!("XAI = 'unused'\nGROQ_API_KEY = \"{GROQ}\"\n"),
    );
    w.git(&["add", "."]);
    w.git(&["commit", "-q", "-m", "local only"]);
    let run = w.rotate(&[]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("not on `origin` yet"), "{run}");
    assert_eq!(w.till.call_count(), 0);
}

#[test]
fn pushes_over_smart_http_with_the_token_and_undoes_a_refused_push() {
    let w = World::new();
    let root = w.project.path(".");
    let name = "remote.git";

    // A git server that wants another token: the push is refused with a
    // clear error, and everything is undone.
    let strict = GitHttpServer::start(&root, "ghp_someone_elses_token");
    w.git(&[
        "remote",
        "set-url",
        "origin",
        &format!("{}/{name}", strict.url),
    ]);
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
    let server = GitHttpServer::start(&root, GH_TOKEN);
    w.git(&[
        "remote",
        "set-url",
        "origin",
        &format!("{}/{name}", server.url),
    ]);
    let run = w.rotate(&[]);
    assert_eq!(run.code, 0, "{run}");
    let branch = w.git(&["symbolic-ref", "--short", "HEAD"]);
    assert!(branch.starts_with("till-scan/rotate-"));
    assert_eq!(
        w.remote_git(&["rev-parse", &branch]),
        w.git(&["rev-parse", &branch])
    );
    // As after any push through a named remote: its tracking ref follows.
    assert_eq!(
        w.git(&["rev-parse", &format!("refs/remotes/origin/{branch}")]),
        w.git(&["rev-parse", &branch])
    );
    assert_eq!(w.github.create_bodies().len(), 1);
}

/// Issue 16, item 3: rotation asks each provider first. A dead key is not
/// sent to Till and the PR lists it for removal; a key whose check gave no
/// answer is rotated, with a note; only each key's own provider sees it.
#[test]
fn a_dead_key_is_not_sent_to_till_and_an_unchecked_one_is_rotated_with_a_note() {
    let w = World::new();
    let openai = ProviderDouble::start(Credential::Bearer);
    openai.knows(OPENAI, 200);
    let anthropic = ProviderDouble::start(Credential::Header("x-api-key"));
    anthropic.knows(ANTHROPIC, 401);
    let groq = ProviderDouble::start(Credential::Bearer);
    groq.knows(GROQ, 200);
    for _ in 0..3 {
        groq.then(Outcome::Reply(Reply::json(503, &serde_json::json!({}))));
    }
    // Outside the work tree, so the tree stays clean.
    w.project.write(
        "validate.toml",
        &format!(
            "[validate.base_url]\nopenai = \"{}\"\nanthropic = \"{}\"\ngroq = \"{}\"\n",
            openai.url(),
            anthropic.url(),
            groq.url()
        ),
    );
    let config = w.project.path("validate.toml");
    let mut c = w.checking_command(&["-f", "json", "-c", config.to_str().unwrap()]);
    c.env("TILL_SCAN_RETRY_BACKOFF_MS", "5");
    let run = run_command(c, b"");
    w.assert_no_leak(&run);
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stderr
            .contains("checking 3 keys with their provider before rotating"),
        "{run}"
    );
    let report = run.json();

    // Till minted two keys; the dead Anthropic key never reached it.
    let providers: Vec<String> = w
        .till
        .active_keys()
        .iter()
        .map(|k| k["provider"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(providers.len(), 2, "{providers:?}");
    assert!(providers.contains(&"openai".to_string()) && providers.contains(&"groq".to_string()));
    for r in w.till.requests() {
        assert!(!r.body.contains(ANTHROPIC), "the dead key was sent to Till");
    }
    let dead = report["dead"].as_array().unwrap();
    assert_eq!(dead.len(), 1, "{report}");
    assert_eq!(dead[0]["rule_id"], "anthropic.api-key");
    assert!(dead[0]["reason"].as_str().unwrap().contains("HTTP 401"));
    let groq_rotation = report["rotations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["till_provider"] == "groq")
        .unwrap();
    assert_eq!(
        groq_rotation["validation"],
        "unknown (provider error (HTTP 503), after 3 tries)"
    );
    // The file with the dead key is left as it was.
    let branch = report["branch"].as_str().unwrap();
    let changed = w.git(&["diff", "--name-only", "main", branch]);
    assert_eq!(changed, "scripts/run.sh\nsrc/llm.py");

    let body = w.github.create_bodies()[0]["body"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        body.contains("### Already dead: remove these from the code"),
        "{body}"
    );
    assert!(body.contains("config/claude.env:1"), "{body}");
    assert!(
        body.contains("could not be checked, so they were rotated anyway: `groq.api-key`"),
        "{body}"
    );
    // Only each key's own provider saw it; the AWS key went nowhere.
    for double in [&openai, &anthropic, &groq] {
        assert!(double.foreign().is_empty());
    }
    assert_eq!(openai.requests().len(), 1);
    assert_eq!(anthropic.requests().len(), 1);
    assert_eq!(groq.requests().len(), 3);
}
