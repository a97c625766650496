//! Integration tests for the git sources: real repositories built with the
//! `git` CLI in a temp dir, scanned by the built binary (`git`, `staged`,
//! `git --pre-push`, `baseline --git`, `install-hook`, `uninstall-hook`).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::keys::{K1, K2, K3, K4};
use crate::support::*;

const ZERO: &str = "0000000000000000000000000000000000000000";
const AUTHOR: &str = "Alice Tester";
const EMAIL: &str = "alice@tests.invalid";

// ---------------------------------------------------------------- helpers
//
// Thin names over the support module's isolated git and till-scan runners.

fn git_output(
    p: &Project,
    dir: &str,
    args: &[&str],
    envs: &[(&str, &str)],
) -> std::process::Output {
    p.git_output(dir, args, envs)
}

fn git(p: &Project, dir: &str, args: &[&str]) -> String {
    p.git(dir, args)
}

/// A new repository at `dir` with branch `main` and a fixed identity.
fn init(p: &Project, dir: &str) {
    p.git_init(dir);
}

/// `git add -A && git commit -m msg` at `date`; returns the new sha.
fn commit_at(p: &Project, dir: &str, msg: &str, date: &str) -> String {
    p.git_commit_at(dir, msg, date)
}

fn commit(p: &Project, dir: &str, msg: &str) -> String {
    p.git_commit(dir, msg)
}

/// Writes `rel` inside repository `repo`.
fn put(p: &Project, repo: &str, rel: &str, text: &str) {
    p.write(&format!("{repo}/{rel}"), text);
}

/// Runs till-scan with cwd `dir` (relative to the project) and `input` on stdin.
fn till_in(p: &Project, dir: &str, args: &[&str], input: &[u8]) -> Run {
    p.run_in(dir, args, input)
}

/// `till_in` with extra environment variables.
fn till_env(p: &Project, dir: &str, args: &[&str], input: &[u8], envs: &[(&str, &str)]) -> Run {
    p.run_in_env(dir, args, input, envs)
}

/// `till-scan git --pre-push` in `repo` with git's ref lines on stdin.
fn pre_push(p: &Project, input: &str) -> (Run, Vec<Value>) {
    let r = till_in(
        p,
        "repo",
        &["git", "--pre-push", "--format", "json", "--no-redact"],
        input.as_bytes(),
    );
    let findings = match r.code {
        0 | 1 => r.json()["findings"].as_array().cloned().unwrap_or_default(),
        _ => Vec::new(),
    };
    (r, findings)
}

fn till(p: &Project, args: &[&str]) -> Run {
    till_in(p, ".", args, b"")
}

/// `till-scan <args> --format json --no-redact`: the run and its findings.
fn scan_json(p: &Project, args: &[&str]) -> (Run, Value, Vec<Value>) {
    let mut all = args.to_vec();
    all.extend_from_slice(&["--format", "json", "--no-redact"]);
    let r = till(p, &all);
    assert!(
        r.code == 0 || r.code == 1,
        "unexpected exit code for {all:?}: {r}"
    );
    let json = r.json();
    let findings = json["findings"].as_array().unwrap().clone();
    (r, json, findings)
}

/// `scan_json` of `args` exits 0 with no findings; returns the run.
fn assert_clean(p: &Project, args: &[&str]) -> Run {
    let (r, _, findings) = scan_json(p, args);
    assert_eq!(r.code, 0, "{args:?}: {r}");
    assert!(findings.is_empty(), "{args:?}: {r}");
    r
}

/// The findings whose secret is `key`.
fn with_secret<'a>(findings: &'a [Value], key: &str) -> Vec<&'a Value> {
    findings.iter().filter(|f| f["secret"] == key).collect()
}

fn secrets(findings: &[Value]) -> HashSet<String> {
    findings
        .iter()
        .map(|f| f["secret"].as_str().unwrap().to_string())
        .collect()
}

fn set(keys: &[&str]) -> HashSet<String> {
    keys.iter().map(|k| k.to_string()).collect()
}

// ------------------------------------------------------------ attribution

#[test]
fn history_key_is_found_once_at_the_commit_that_added_it() {
    let p = Project::new();
    init(&p, "repo");
    put(&p, "repo", "app.py", "import os\n\nprint('hi')\n");
    commit(&p, "repo", "initial");
    put(
        &p,
        "repo",
        "app.py",
        &format!("import os\nGROQ_API_KEY = \"{K1}\"\nprint('hi')\n"),
    );
    let added = commit_at(
        &p,
        "repo",
        "Add Groq client config\n\nLonger body.",
        "2024-03-02T12:30:05+02:00",
    );
    put(
        &p,
        "repo",
        "app.py",
        &format!("import os\nGROQ_API_KEY = \"{K1}\"\nprint('hi')\nprint('more')\n"),
    );
    commit(&p, "repo", "edit 3");
    put(
        &p,
        "repo",
        "app.py",
        &format!("# header\nimport os\nGROQ_API_KEY = \"{K1}\"\nprint('hi')\nprint('more')\n"),
    );
    commit(&p, "repo", "edit 4");
    put(
        &p,
        "repo",
        "app.py",
        "# header\nimport os\nGROQ_API_KEY = os.environ['GROQ_API_KEY']\nprint('hi')\n",
    );
    commit(&p, "repo", "remove key");
    assert_eq!(added, git(&p, "repo", &["rev-parse", "HEAD~3"]));

    let (r, json, findings) = scan_json(&p, &["git", "repo"]);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(findings.len(), 1, "{r}");
    let f = &findings[0];
    assert_eq!(f["rule_id"], "groq.api-key");
    assert_eq!(f["secret"], K1);
    assert_eq!(f["path"], "app.py");
    assert_eq!(f["line"], 2);
    assert_eq!(f["column"], 17);
    assert_eq!(f["commit"], added.as_str());
    assert_eq!(f["author_name"], AUTHOR);
    assert_eq!(f["author_email"], EMAIL);
    assert_eq!(f["commit_summary"], "Add Groq client config");
    assert_eq!(f["date"], "2024-03-02T12:30:05+02:00");
    assert_eq!(json["summary"]["occurrences"], 1);
    assert_eq!(json["summary"]["distinct_secrets"], 1);

    // Redacted by default, and the human report also exits 1.
    let r = till(&p, &["git", "repo", "--format", "json"]);
    assert_eq!(r.code, 1, "{r}");
    assert!(!r.stdout.contains(K1), "secret leaked: {r}");
    let r = till(&p, &["git", "repo"]);
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stdout.contains(&added[..7]), "{r}");
}

#[test]
fn one_key_in_three_files_is_one_fingerprint_with_three_locations() {
    let p = Project::new();
    init(&p, "repo");
    put(&p, "repo", "a.env", &format!("GROQ_API_KEY={K1}\n"));
    put(&p, "repo", "b.yaml", &format!("groq:\n  key: {K1}\n"));
    commit(&p, "repo", "two files");
    put(&p, "repo", "c/d.json", &format!("{{\"key\": \"{K1}\"}}\n"));
    commit(&p, "repo", "third file");

    let (r, json, findings) = scan_json(&p, &["git", "repo"]);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(findings.len(), 3, "{r}");
    let fps: HashSet<_> = findings
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(fps.len(), 1, "{r}");
    let paths: HashSet<_> = findings
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, HashSet::from(["a.env", "b.yaml", "c/d.json"]));
    assert_eq!(json["summary"]["distinct_secrets"], 1);
    assert_eq!(json["summary"]["occurrences"], 3);
}

#[test]
fn range_sees_only_keys_introduced_in_the_range() {
    let p = Project::new();
    init(&p, "repo");
    put(&p, "repo", "old.env", &format!("A={K1}\n"));
    commit(&p, "repo", "old key");
    put(&p, "repo", "readme.md", "hello\n");
    let base = commit(&p, "repo", "base");
    put(&p, "repo", "old.env", &format!("A={K1}\nB=2\n"));
    put(&p, "repo", "new.env", &format!("N={K2}\n"));
    let head = commit(&p, "repo", "new key");

    let range = format!("{base}..{head}");
    let (r, _, findings) = scan_json(&p, &["git", "repo", "--range", &range]);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(secrets(&findings), set(&[K2]), "{r}");
    assert_eq!(findings.len(), 1, "{r}");
    assert_eq!(findings[0]["commit"], head.as_str());

    // Symbolic revisions work too, and an empty range is clean.
    let (r, _, findings) = scan_json(&p, &["git", "repo", "--range", "main~1..main"]);
    assert_eq!(secrets(&findings), set(&[K2]), "{r}");
    assert_clean(&p, &["git", "repo", "--range", "main~2..main~1"]);
    // The full history has both.
    let (_, _, findings) = scan_json(&p, &["git", "repo"]);
    assert_eq!(secrets(&findings), set(&[K1, K2]));
}

#[test]
fn branch_selects_history_and_default_covers_all_refs() {
    let p = Project::new();
    init(&p, "repo");
    put(&p, "repo", "readme.md", "hello\n");
    commit(&p, "repo", "initial");
    git(&p, "repo", &["checkout", "-q", "-b", "feature"]);
    put(&p, "repo", "feature.env", &format!("KEY={K1}\n"));
    let feat = commit(&p, "repo", "feature key");
    git(&p, "repo", &["checkout", "-q", "main"]);
    put(&p, "repo", "readme.md", "hello again\n");
    commit(&p, "repo", "main work");

    let (r, _, findings) = scan_json(&p, &["git", "repo"]);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(findings.len(), 1, "{r}");
    assert_eq!(findings[0]["commit"], feat.as_str());

    let (r, _, findings) = scan_json(&p, &["git", "repo", "--branch", "feature"]);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(secrets(&findings), set(&[K1]));

    assert_clean(&p, &["git", "repo", "--branch", "main"]);
}

#[test]
fn merged_key_is_attributed_to_the_feature_commit_not_the_merge() {
    let p = Project::new();
    init(&p, "repo");
    put(&p, "repo", "readme.md", "hello\n");
    commit(&p, "repo", "initial");
    git(&p, "repo", &["checkout", "-q", "-b", "feature"]);
    put(&p, "repo", "feature.env", &format!("KEY={K1}\n"));
    let feat = commit(&p, "repo", "feature key");
    git(&p, "repo", &["checkout", "-q", "main"]);
    put(&p, "repo", "readme.md", "hello main\n");
    commit(&p, "repo", "main work");
    git(
        &p,
        "repo",
        &["merge", "-q", "--no-ff", "-m", "merge feature", "feature"],
    );
    let merge = git(&p, "repo", &["rev-parse", "HEAD"]);
    assert_ne!(merge, feat);

    let (r, _, findings) = scan_json(&p, &["git", "repo"]);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(findings.len(), 1, "{r}");
    assert_eq!(findings[0]["commit"], feat.as_str(), "{r}");
    assert_eq!(findings[0]["path"], "feature.env");

    // The merge itself introduced nothing.
    let range = format!("{}..{merge}", git(&p, "repo", &["rev-parse", "HEAD^1"]));
    let (_, _, findings) = scan_json(&p, &["git", "repo", "--range", &range]);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["commit"], feat.as_str());
}

#[test]
fn key_added_by_a_merge_commit_itself_is_attributed_to_the_merge() {
    let p = Project::new();
    init(&p, "repo");
    put(&p, "repo", "readme.md", "hello\n");
    commit(&p, "repo", "initial");
    git(&p, "repo", &["checkout", "-q", "-b", "feature"]);
    put(&p, "repo", "feature.txt", "clean feature\n");
    commit(&p, "repo", "feature work");
    git(&p, "repo", &["checkout", "-q", "main"]);
    put(&p, "repo", "readme.md", "hello main\n");
    commit(&p, "repo", "main work");
    git(
        &p,
        "repo",
        &["merge", "-q", "--no-ff", "--no-commit", "feature"],
    );
    put(&p, "repo", "evil.env", &format!("KEY={K2}\n"));
    // An edit to a file both sides have, made during the merge.
    put(&p, "repo", "readme.md", &format!("hello main\nkey {K3}\n"));
    let merge = commit(&p, "repo", "evil merge");
    let parents = git(&p, "repo", &["rev-list", "--parents", "-n1", &merge]);
    assert_eq!(
        parents.split_whitespace().count(),
        3,
        "not a merge: {parents}"
    );

    let (r, _, findings) = scan_json(&p, &["git", "repo"]);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(findings.len(), 2, "{r}");
    for f in &findings {
        assert_eq!(f["commit"], merge.as_str(), "{r}");
        assert_eq!(f["commit_summary"], "evil merge");
    }
    assert_eq!(with_secret(&findings, K2)[0]["path"], "evil.env");
    assert_eq!(with_secret(&findings, K3)[0]["path"], "readme.md");
}

#[test]
fn renames_do_not_report_the_key_again() {
    let p = Project::new();
    init(&p, "repo");
    put(
        &p,
        "repo",
        "a/config.env",
        &format!("NAME=app\nGROQ_API_KEY={K1}\nDEBUG=0\n"),
    );
    let added = commit(&p, "repo", "add config");
    std::fs::create_dir_all(p.path("repo/b")).unwrap();
    git(&p, "repo", &["mv", "a/config.env", "b/settings.env"]);
    let renamed = commit(&p, "repo", "pure rename");
    // Edit and rename in one commit.
    std::fs::create_dir_all(p.path("repo/c")).unwrap();
    git(&p, "repo", &["mv", "b/settings.env", "c/final.env"]);
    put(
        &p,
        "repo",
        "c/final.env",
        &format!("NAME=app\nGROQ_API_KEY={K1}\nDEBUG=1\nLEVEL=info\n"),
    );
    let edited = commit(&p, "repo", "edit and rename");
    // And a rename into a differently named file at the top.
    git(&p, "repo", &["mv", "c/final.env", "top.env"]);
    commit(&p, "repo", "move to top");

    let (r, _, findings) = scan_json(&p, &["git", "repo"]);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(findings.len(), 1, "{r}");
    assert_eq!(findings[0]["commit"], added.as_str());
    assert_eq!(findings[0]["path"], "a/config.env");

    for c in [&renamed, &edited] {
        let range = format!("{c}~1..{c}");
        assert_clean(&p, &["git", "repo", "--range", &range]);
    }
}

#[test]
fn deleted_lines_are_not_findings() {
    let p = Project::new();
    init(&p, "repo");
    put(
        &p,
        "repo",
        "settings.py",
        &format!("DEBUG = False\nGROQ_API_KEY = \"{K1}\"\nNAME = 'app'\n"),
    );
    let added = commit(&p, "repo", "add key");
    put(&p, "repo", "settings.py", "DEBUG = False\nNAME = 'app'\n");
    let removed = commit(&p, "repo", "remove key line");
    // Deleting a whole file holding a key is not a finding either.
    put(&p, "repo", "other.env", &format!("K={K2}\n"));
    commit(&p, "repo", "other key");
    git(&p, "repo", &["rm", "-q", "other.env"]);
    let deleted = commit(&p, "repo", "delete file");

    let (r, _, findings) = scan_json(&p, &["git", "repo"]);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(findings.len(), 2, "{r}");
    assert_eq!(with_secret(&findings, K1)[0]["commit"], added.as_str());
    assert!(findings
        .iter()
        .all(|f| f["commit"] != removed.as_str() && f["commit"] != deleted.as_str()));

    for c in [&removed, &deleted] {
        let range = format!("{c}~1..{c}");
        assert_clean(&p, &["git", "repo", "--range", &range]);
    }
}

#[test]
fn since_skips_older_commits() {
    let p = Project::new();
    init(&p, "repo");
    put(&p, "repo", "old.env", &format!("OLD={K1}\n"));
    commit_at(&p, "repo", "old key", "2020-05-01T10:00:00+00:00");
    // A 2024 edit of the old file keeps the old key: still not introduced.
    put(&p, "repo", "old.env", &format!("OLD={K1}\nMORE=1\n"));
    put(&p, "repo", "new.env", &format!("NEW={K2}\n"));
    let new = commit_at(&p, "repo", "new key", "2024-05-01T10:00:00+00:00");

    let (r, _, findings) = scan_json(&p, &["git", "repo", "--since", "2021-01-01"]);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(findings.len(), 1, "{r}");
    assert_eq!(findings[0]["secret"], K2);
    assert_eq!(findings[0]["commit"], new.as_str());

    let (_, _, findings) = scan_json(&p, &["git", "repo"]);
    assert_eq!(secrets(&findings), set(&[K1, K2]));
    assert_eq!(findings.len(), 2);

    assert_clean(&p, &["git", "repo", "--since", "2025-01-01"]);
}

// ---------------------------------------------------------------- staged

#[test]
fn staged_finds_a_staged_key_and_explains_the_ways_out() {
    let p = Project::new();
    init(&p, "repo");
    put(&p, "repo", "readme.md", "hello\n");
    commit(&p, "repo", "initial");
    put(&p, "repo", "config.py", &format!("KEY = \"{K1}\"\n"));
    git(&p, "repo", &["add", "config.py"]);

    let (r, _, findings) = scan_json(&p, &["staged", "repo"]);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(findings.len(), 1, "{r}");
    assert_eq!(findings[0]["path"], "config.py");
    assert_eq!(findings[0]["secret"], K1);
    assert!(findings[0]["commit"].is_null());
    // The report is JSON, so the one advice goes to stderr: right for a
    // commit (take the key out, `git add` again), with no rotation (the key
    // is not committed yet) and said once.
    for way in [
        "This commit is blocked",
        "Groq key in config.py",
        "till-scan:allow",
        "environment",
        "`git add",
    ] {
        assert!(r.stderr.contains(way), "missing `{way}`: {r}");
    }
    assert!(!r.stderr.contains("till-scan rotate"), "{r}");
    assert_eq!(r.stderr.matches("blocked").count(), 1, "{r}");
    // In human output the report says it, and stderr does not repeat it.
    let r = till(&p, &["staged", "repo"]);
    assert!(r.stdout.contains("This commit is blocked"), "{r}");
    assert!(!r.stderr.contains("blocked"), "{r}");

    // From inside the work tree, with no argument.
    let r = till_in(&p, "repo", &["staged"], b"");
    assert_eq!(r.code, 1, "{r}");
    // --quiet keeps stderr free of the advice.
    let r = till(&p, &["staged", "repo", "--quiet"]);
    assert_eq!(r.code, 1, "{r}");
    assert!(!r.stderr.contains("till-scan rotate"), "{r}");
}

#[test]
fn staged_ignores_working_tree_only_changes() {
    let p = Project::new();
    init(&p, "repo");
    put(&p, "repo", "tracked.py", "A = 1\n");
    commit(&p, "repo", "initial");
    // Staged: a clean edit. Then the key is added but not staged.
    put(&p, "repo", "tracked.py", "A = 2\n");
    git(&p, "repo", &["add", "tracked.py"]);
    put(
        &p,
        "repo",
        "tracked.py",
        &format!("A = 2\nKEY = \"{K1}\"\n"),
    );
    // Untracked file.
    put(&p, "repo", "untracked.env", &format!("KEY={K2}\n"));

    let r = assert_clean(&p, &["staged", "repo"]);
    assert!(!r.stderr.contains("blocked"), "{r}");
}

#[test]
fn staged_deletions_and_renames_of_a_key_are_clean() {
    let p = Project::new();
    init(&p, "repo");
    put(&p, "repo", "a.env", &format!("X=1\nKEY={K1}\nY=2\n"));
    put(&p, "repo", "b.env", &format!("KEY={K2}\n"));
    put(&p, "repo", "c.env", &format!("KEY={K3}\n"));
    commit(&p, "repo", "keys");
    put(&p, "repo", "a.env", "X=1\nY=2\n");
    git(&p, "repo", &["rm", "-q", "b.env"]);
    git(&p, "repo", &["mv", "c.env", "renamed.env"]);
    git(&p, "repo", &["add", "-A"]);

    assert_clean(&p, &["staged", "repo"]);
}

#[test]
fn staged_works_in_a_repository_with_no_commits() {
    let p = Project::new();
    init(&p, "repo");
    // Nothing staged yet: clean.
    assert_clean(&p, &["staged", "repo"]);

    put(&p, "repo", "readme.md", "hello\n");
    put(
        &p,
        "repo",
        "src/key.rs",
        &format!("const K: &str = \"{K1}\";\n"),
    );
    git(&p, "repo", &["add", "-A"]);
    let (r, _, findings) = scan_json(&p, &["staged", "repo"]);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(findings.len(), 1, "{r}");
    assert_eq!(findings[0]["path"], "src/key.rs");
}

// ------------------------------------------------------ allow and baseline

#[test]
fn inline_allow_applies_to_history() {
    let p = Project::new();
    init(&p, "repo");
    put(
        &p,
        "repo",
        "a.py",
        &format!("KEY = \"{K1}\"  # till-scan:allow\n"),
    );
    put(&p, "repo", "b.py", &format!("KEY = \"{K2}\"\n"));
    commit(&p, "repo", "keys");
    put(
        &p,
        "repo",
        "a.py",
        &format!("X = 1\nKEY = \"{K1}\"  # till-scan:allow\n"),
    );
    commit(&p, "repo", "edit");

    let (r, json, findings) = scan_json(&p, &["git", "repo"]);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(secrets(&findings), set(&[K2]), "{r}");
    assert!(
        json["summary"]["allowed_inline"].as_u64().unwrap() >= 1,
        "{r}"
    );
}

#[test]
fn baseline_from_history_suppresses_git_staged_and_dir_scans() {
    let p = Project::new();
    init(&p, "repo");
    put(&p, "repo", "readme.md", "hello\n");
    commit(&p, "repo", "initial");
    put(&p, "repo", "old.env", &format!("KEY={K1}\n"));
    commit(&p, "repo", "key in old.env");
    // Gone from the tree, but still in history.
    put(&p, "repo", "gone.env", &format!("KEY={K2}\n"));
    commit(&p, "repo", "key in gone.env");
    git(&p, "repo", &["rm", "-q", "gone.env"]);
    commit(&p, "repo", "remove gone.env");

    let r = till(&p, &["baseline", "--git", "repo"]);
    assert_eq!(r.code, 0, "{r}");
    let file = p.path("repo/.till-scan-baseline.json");
    assert!(file.is_file(), "no baseline at the repo root: {r}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        !text.contains(K1) && !text.contains(K2),
        "baseline leaks: {text}"
    );

    let (r, json, findings) = scan_json(&p, &["git", "repo"]);
    assert_eq!(r.code, 0, "{r}");
    assert!(findings.is_empty(), "{r}");
    assert!(json["summary"]["baselined"].as_u64().unwrap() >= 2, "{r}");

    // The files on disk.
    assert_clean(&p, &["dir", "repo"]);

    // Staging the same secrets again (new paths) is accepted; a new one is not.
    put(&p, "repo", "copy.env", &format!("A={K1}\nB={K2}\n"));
    git(&p, "repo", &["add", "copy.env"]);
    assert_clean(&p, &["staged", "repo"]);
    put(&p, "repo", "new.env", &format!("C={K3}\n"));
    git(&p, "repo", &["add", "new.env"]);
    let (r, _, findings) = scan_json(&p, &["staged", "repo"]);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(secrets(&findings), set(&[K3]));

    // Also when run from inside the repository with no argument, or given
    // a subdirectory of the work tree.
    let r = till_in(&p, "repo", &["git", "--format", "json"], b"");
    assert_eq!(r.code, 0, "{r}");
    std::fs::create_dir_all(p.path("repo/sub")).unwrap();
    let r = till(&p, &["git", "repo/sub", "--format", "json"]);
    assert_eq!(r.code, 0, "{r}");
}

// --------------------------------------------------------------- pre-push

#[test]
fn pre_push_scans_only_commits_after_the_remote_sha() {
    let p = Project::new();
    init(&p, "repo");
    put(&p, "repo", "one.env", &format!("KEY={K1}\n"));
    let c1 = commit(&p, "repo", "pushed already");
    put(&p, "repo", "readme.md", "hello\n");
    commit(&p, "repo", "clean");
    put(&p, "repo", "two.env", &format!("KEY={K2}\n"));
    let c3 = commit(&p, "repo", "new key");

    let input = format!("refs/heads/main {c3} refs/heads/main {c1}\n");
    let (r, findings) = pre_push(&p, &input);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(secrets(&findings), set(&[K2]), "{r}");
    assert_eq!(findings[0]["commit"], c3.as_str());
    assert!(r.stderr.contains("push is blocked"), "{r}");

    // Nothing new since the remote sha: clean.
    let input = format!("refs/heads/main {c1} refs/heads/main {c1}\n");
    let r = till_in(&p, "repo", &["git", "--pre-push"], input.as_bytes());
    assert_eq!(r.code, 0, "{r}");

    // A branch deletion pushes no commits.
    let input = format!("(delete) {ZERO} refs/heads/old {c1}\n");
    let r = till_in(&p, "repo", &["git", "--pre-push"], input.as_bytes());
    assert_eq!(r.code, 0, "{r}");

    // Under the pre-commit framework the range comes in the environment.
    let r = till_env(
        &p,
        "repo",
        &["git", "--pre-push", "--format", "json", "--no-redact"],
        b"",
        &[("PRE_COMMIT_FROM_REF", &c1), ("PRE_COMMIT_TO_REF", &c3)],
    );
    assert_eq!(r.code, 1, "{r}");
    let findings = r.json()["findings"].as_array().unwrap().clone();
    assert_eq!(secrets(&findings), set(&[K2]), "{r}");

    // Nothing pushed at all: clean, with a note.
    let r = till_in(&p, "repo", &["git", "--pre-push"], b"");
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stderr.contains("no commits"), "{r}");

    // Malformed input is an error, not a panic.
    let r = till_in(&p, "repo", &["git", "--pre-push"], b"garbage line\n");
    assert_eq!(r.code, 2, "{r}");
    assert!(r.stderr.contains("pre-push input"), "{r}");
}

#[test]
fn pre_push_of_a_new_branch_scans_commits_not_on_any_remote() {
    let p = Project::new();
    p.git_init_bare("remote.git");
    init(&p, "repo");
    put(&p, "repo", "one.env", &format!("KEY={K1}\n"));
    commit(&p, "repo", "on main");
    git(&p, "repo", &["remote", "add", "origin", "../remote.git"]);
    git(&p, "repo", &["push", "-q", "-u", "origin", "main"]);
    git(&p, "repo", &["checkout", "-q", "-b", "topic"]);
    put(&p, "repo", "two.env", &format!("KEY={K2}\n"));
    let t1 = commit(&p, "repo", "topic key");
    put(&p, "repo", "readme.md", "topic\n");
    let t2 = commit(&p, "repo", "topic clean");

    let input = format!("refs/heads/topic {t2} refs/heads/topic {ZERO}\n");
    let (r, findings) = pre_push(&p, &input);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(secrets(&findings), set(&[K2]), "{r}");
    assert_eq!(findings[0]["commit"], t1.as_str());

    // A remote sha this clone does not have counts as a new branch too.
    let unknown = "1234abcd".repeat(5);
    let input = format!("refs/heads/topic {t2} refs/heads/topic {unknown}\n");
    let (r, findings) = pre_push(&p, &input);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(secrets(&findings), set(&[K2]), "{r}");
}

// -------------------------------------------------------------- bad input

#[test]
fn not_a_git_repository_exits_2_with_a_message() {
    let p = Project::new();
    p.write("plain/file.txt", "hello\n");
    for args in [
        &["git", "plain"][..],
        &["staged", "plain"],
        &["baseline", "--git", "plain"],
        &["install-hook", "plain"],
        &["uninstall-hook", "plain"],
    ] {
        let r = till(&p, args);
        assert_eq!(r.code, 2, "{args:?}: {r}");
        assert!(
            r.stderr.contains("not in a git repository"),
            "{args:?}: {r}"
        );
        assert!(!r.stderr.contains("panicked"), "{args:?}: {r}");
    }
}

#[test]
fn unknown_revisions_exit_2_with_a_message() {
    let p = Project::new();
    init(&p, "repo");
    put(&p, "repo", "readme.md", "hello\n");
    commit(&p, "repo", "initial");
    for (args, needle) in [
        (
            &["git", "repo", "--range", "nosuchrev..HEAD"][..],
            "nosuchrev",
        ),
        (&["git", "repo", "--range", "HEAD..nosuchrev"], "nosuchrev"),
        (&["git", "repo", "--range", "HEAD"], "not a range"),
        (&["git", "repo", "--branch", "nosuchbranch"], "nosuchbranch"),
    ] {
        let r = till(&p, args);
        assert_eq!(r.code, 2, "{args:?}: {r}");
        assert!(r.stderr.contains(needle), "{args:?}: {r}");
        assert!(!r.stderr.contains("panicked"), "{args:?}: {r}");
    }
    let r = till(&p, &["git", "repo", "--since", "yesterday"]);
    assert_eq!(r.code, 2, "{r}");
}

#[test]
fn bare_repository_scans_history_but_not_staged() {
    let p = Project::new();
    init(&p, "repo");
    put(&p, "repo", "a.env", &format!("KEY={K1}\n"));
    let c = commit(&p, "repo", "key");
    git(&p, ".", &["clone", "-q", "--bare", "repo", "bare.git"]);

    let (r, _, findings) = scan_json(&p, &["git", "bare.git"]);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(findings.len(), 1, "{r}");
    assert_eq!(findings[0]["commit"], c.as_str());
    assert_eq!(findings[0]["path"], "a.env");

    let r = till(&p, &["staged", "bare.git"]);
    assert_eq!(r.code, 2, "{r}");
    assert!(r.stderr.contains("bare"), "{r}");
}

#[test]
fn empty_repository_exits_0_with_a_no_commits_note() {
    let p = Project::new();
    init(&p, "repo");
    let r = till(&p, &["git", "repo"]);
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stderr.contains("no commits"), "{r}");
    assert_clean(&p, &["git", "repo"]);
    let r = till(&p, &["baseline", "--git", "repo"]);
    assert_eq!(r.code, 0, "{r}");
}

#[test]
fn shallow_clone_scans_what_it_has_with_a_note() {
    let p = Project::new();
    init(&p, "repo");
    put(&p, "repo", "old.env", &format!("KEY={K1}\n"));
    commit(&p, "repo", "old key");
    put(&p, "repo", "new.env", &format!("KEY={K2}\n"));
    commit(&p, "repo", "new key");
    let url = format!("file://{}", p.path("repo").display());
    git(&p, ".", &["clone", "-q", "--depth", "1", &url, "shallow"]);

    let (r, _, findings) = scan_json(&p, &["git", "shallow"]);
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stderr.contains("shallow clone"), "{r}");
    // The boundary commit's whole tree counts as introduced there.
    assert_eq!(secrets(&findings), set(&[K1, K2]), "{r}");
    assert!(findings.iter().all(|f| f["commit_summary"] == "new key"));
}

#[test]
fn missing_blob_is_a_warning_the_scan_continues_and_exits_2() {
    let p = Project::new();
    init(&p, "repo");
    put(&p, "repo", "lost.env", &format!("KEY={K1}\n"));
    put(&p, "repo", "kept.env", &format!("KEY={K2}\n"));
    git(&p, "repo", &["-c", "core.compression=0", "add", "-A"]);
    commit(&p, "repo", "two keys");
    let blob = git(&p, "repo", &["rev-parse", "HEAD:lost.env"]);
    let object = p.path(&format!("repo/.git/objects/{}/{}", &blob[..2], &blob[2..]));
    assert!(object.is_file(), "not a loose object: {}", object.display());
    std::fs::remove_file(&object).unwrap();

    // The scan goes on, but could not see everything: exit 2 (issue 11),
    // unless the user accepts what is missing.
    let (r, _, findings) = scan_json(&p, &["git", "repo", "--skip-missing"]);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(secrets(&findings), set(&[K2]), "{r}");
    let r = till(&p, &["git", "repo", "--format", "json", "--no-redact"]);
    assert_eq!(r.code, 2, "{r}");
    assert!(r.stderr.contains("incomplete"), "{r}");
    let json = r.json();
    let findings = json["findings"].as_array().unwrap().clone();
    assert_eq!(secrets(&findings), set(&[K2]), "{r}");
    assert_eq!(findings[0]["path"], "kept.env");
    assert!(r.stderr.contains("warning"), "{r}");
    assert!(r.stderr.contains("lost.env"), "{r}");
    assert!(r.stderr.contains(&blob), "{r}");
    let errors = json["summary"]["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{r}");
    assert!(!r.stderr.contains("panicked"), "{r}");
}

#[test]
fn binary_blob_with_a_key_after_nul_is_skipped() {
    let p = Project::new();
    init(&p, "repo");
    let mut bytes = b"\x7fELF\x02\x01\x01\x00\x00\x00binary".to_vec();
    bytes.extend_from_slice(format!("\nGROQ_API_KEY={K1}\n").as_bytes());
    p.write_bytes("repo/blob.bin", &bytes);
    put(&p, "repo", "readme.md", "hello\n");
    commit(&p, "repo", "binary");

    let (r, json, findings) = scan_json(&p, &["git", "repo", "-v"]);
    assert_eq!(r.code, 0, "{r}");
    assert!(findings.is_empty(), "{r}");
    let skipped = json["summary"]["skipped"].as_array().unwrap();
    assert!(
        skipped
            .iter()
            .any(|s| s["path"].as_str().unwrap().starts_with("blob.bin")
                && s["reason"] == "binary file"),
        "{r}"
    );
}

#[test]
fn non_utf8_file_name_does_not_crash() {
    use std::os::unix::ffi::OsStrExt;
    let p = Project::new();
    init(&p, "repo");
    let name = std::ffi::OsStr::from_bytes(b"conf\xff\xfe.env");
    std::fs::write(p.path("repo").join(name), format!("KEY={K1}\n")).unwrap();
    put(&p, "repo", "readme.md", "hello\n");
    commit(&p, "repo", "odd name");

    let (r, json, findings) = scan_json(&p, &["git", "repo"]);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(findings.len(), 1, "{r}");
    let path = findings[0]["path"].as_str().unwrap();
    assert!(path.starts_with("conf") && path.ends_with(".env"), "{path}");
    assert!(json["summary"]["errors"].as_array().unwrap().is_empty());

    // Staged, too.
    let name2 = std::ffi::OsStr::from_bytes(b"st\xffaged.env");
    std::fs::write(p.path("repo").join(name2), format!("KEY={K2}\n")).unwrap();
    git(&p, "repo", &["add", "-A"]);
    let (r, _, findings) = scan_json(&p, &["staged", "repo"]);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(secrets(&findings), set(&[K2]), "{r}");
}

#[test]
fn submodule_entries_are_skipped_without_error() {
    let p = Project::new();
    init(&p, "lib");
    put(&p, "lib", "lib.env", &format!("KEY={K2}\n"));
    commit(&p, "lib", "lib key");
    init(&p, "repo");
    put(&p, "repo", "a.env", &format!("KEY={K1}\n"));
    commit(&p, "repo", "main key");
    let lib = p.path("lib");
    git(
        &p,
        "repo",
        &[
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            lib.to_str().unwrap(),
            "sub",
        ],
    );
    // Staged gitlink and .gitmodules.
    let (r, json, findings) = scan_json(&p, &["staged", "repo"]);
    assert_eq!(r.code, 0, "{r}");
    assert!(findings.is_empty(), "{r}");
    assert!(
        json["summary"]["errors"].as_array().unwrap().is_empty(),
        "{r}"
    );
    commit(&p, "repo", "add submodule");
    // Bump the submodule to a new commit in the parent.
    git(&p, "repo/sub", &["config", "user.name", AUTHOR]);
    git(&p, "repo/sub", &["config", "user.email", EMAIL]);
    put(&p, "repo", "sub/more.txt", "more\n");
    commit(&p, "repo/sub", "sub change");
    commit(&p, "repo", "bump submodule");

    let (r, json, findings) = scan_json(&p, &["git", "repo"]);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(secrets(&findings), set(&[K1]), "{r}");
    assert_eq!(findings.len(), 1, "{r}");
    assert!(
        json["summary"]["errors"].as_array().unwrap().is_empty(),
        "{r}"
    );
    assert!(!r.stderr.contains("warning"), "{r}");
}

// ------------------------------------------------------------------ hooks

fn hook_path(p: &Project, rel: &str) -> PathBuf {
    p.path(&format!("repo/{rel}"))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o111 != 0
}

const MARKER: &str = "# till-scan hook, installed by `till-scan install-hook`";

#[test]
fn install_hook_writes_an_executable_pre_commit_hook() {
    let p = Project::new();
    init(&p, "repo");
    let r = till(&p, &["install-hook", "repo"]);
    assert_eq!(r.code, 0, "{r}");
    let hook = hook_path(&p, ".git/hooks/pre-commit");
    assert!(hook.is_file(), "{r}");
    assert!(is_executable(&hook));
    let text = std::fs::read_to_string(&hook).unwrap();
    assert!(text.starts_with("#!/bin/sh\n"), "{text}");
    assert!(text.contains(MARKER), "{text}");
    assert!(
        text.contains(bin()),
        "hook does not call the binary: {text}"
    );
    assert!(text.contains(" staged"), "{text}");
    // Reinstalling over our own hook is fine.
    let r = till(&p, &["install-hook", "repo"]);
    assert_eq!(r.code, 0, "{r}");

    let r = till(&p, &["install-hook", "repo", "--pre-push"]);
    assert_eq!(r.code, 0, "{r}");
    let push = hook_path(&p, ".git/hooks/pre-push");
    assert!(is_executable(&push));
    let text = std::fs::read_to_string(&push).unwrap();
    assert!(
        text.contains(MARKER) && text.contains("git --pre-push"),
        "{text}"
    );

    // Uninstall removes each, and a second uninstall is a no-op.
    let r = till(&p, &["uninstall-hook", "repo", "--pre-push"]);
    assert_eq!(r.code, 0, "{r}");
    assert!(!push.exists());
    assert!(hook.exists());
    let r = till(&p, &["uninstall-hook", "repo"]);
    assert_eq!(r.code, 0, "{r}");
    assert!(!hook.exists());
    let r = till(&p, &["uninstall-hook", "repo"]);
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stderr.contains("no pre-commit hook"), "{r}");
}

#[test]
fn install_hook_honours_relative_core_hooks_path() {
    let p = Project::new();
    init(&p, "repo");
    git(&p, "repo", &["config", "core.hooksPath", ".githooks"]);
    // Run from a subdirectory: the path is relative to the work tree root.
    std::fs::create_dir_all(p.path("repo/src")).unwrap();
    let r = till_in(&p, "repo/src", &["install-hook"], b"");
    assert_eq!(r.code, 0, "{r}");
    let hook = hook_path(&p, ".githooks/pre-commit");
    assert!(hook.is_file(), "{r}");
    assert!(!hook_path(&p, ".git/hooks/pre-commit").exists());
    assert!(!hook_path(&p, "src/.githooks/pre-commit").exists());
    let r = till(&p, &["uninstall-hook", "repo"]);
    assert_eq!(r.code, 0, "{r}");
    assert!(!hook.exists());

    // An absolute hooksPath is used as is.
    let abs = p.path("shared-hooks");
    git(
        &p,
        "repo",
        &["config", "core.hooksPath", abs.to_str().unwrap()],
    );
    let r = till(&p, &["install-hook", "repo", "--pre-push"]);
    assert_eq!(r.code, 0, "{r}");
    assert!(is_executable(&abs.join("pre-push")), "{r}");
}

#[test]
fn foreign_hooks_are_kept_unless_forced() {
    let p = Project::new();
    init(&p, "repo");
    let hook = hook_path(&p, ".git/hooks/pre-commit");
    let foreign = "#!/bin/sh\necho my own hook\n";
    std::fs::write(&hook, foreign).unwrap();

    let r = till(&p, &["install-hook", "repo"]);
    assert_eq!(r.code, 2, "{r}");
    assert!(r.stderr.contains("--force"), "{r}");
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), foreign);

    let r = till(&p, &["uninstall-hook", "repo"]);
    assert_eq!(r.code, 2, "{r}");
    assert!(r.stderr.contains("not written by till-scan"), "{r}");
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), foreign);

    let r = till(&p, &["install-hook", "repo", "--force"]);
    assert_eq!(r.code, 0, "{r}");
    assert!(std::fs::read_to_string(&hook).unwrap().contains(MARKER));
    assert!(is_executable(&hook));
    let r = till(&p, &["uninstall-hook", "repo"]);
    assert_eq!(r.code, 0, "{r}");
    assert!(!hook.exists());
}

#[test]
fn installed_pre_commit_hook_blocks_a_staged_key() {
    let p = Project::new();
    init(&p, "repo");
    put(&p, "repo", "readme.md", "hello\n");
    commit(&p, "repo", "initial");
    let r = till(&p, &["install-hook", "repo"]);
    assert_eq!(r.code, 0, "{r}");
    let before = git(&p, "repo", &["rev-parse", "HEAD"]);

    put(&p, "repo", "config.py", &format!("KEY = \"{K1}\"\n"));
    git(&p, "repo", &["add", "config.py"]);
    let out = git_output(&p, "repo", &["commit", "-q", "-m", "add key"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "commit with a key went through: {stderr}"
    );
    assert!(stderr.contains("commit is blocked"), "{stderr}");
    assert_eq!(git(&p, "repo", &["rev-parse", "HEAD"]), before);

    // A clean commit goes through.
    git(&p, "repo", &["reset", "-q"]);
    std::fs::remove_file(p.path("repo/config.py")).unwrap();
    put(&p, "repo", "readme.md", "hello world\n");
    git(&p, "repo", &["add", "readme.md"]);
    let out = git_output(&p, "repo", &["commit", "-q", "-m", "clean"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(git(&p, "repo", &["rev-parse", "HEAD"]), before);
}

#[test]
fn installed_pre_push_hook_blocks_pushing_a_key() {
    let p = Project::new();
    p.git_init_bare("remote.git");
    init(&p, "repo");
    put(&p, "repo", "readme.md", "hello\n");
    commit(&p, "repo", "initial");
    git(&p, "repo", &["remote", "add", "origin", "../remote.git"]);
    let r = till(&p, &["install-hook", "repo", "--pre-push"]);
    assert_eq!(r.code, 0, "{r}");
    git(&p, "repo", &["push", "-q", "-u", "origin", "main"]);

    put(&p, "repo", "key.env", &format!("KEY={K1}\n"));
    commit(&p, "repo", "key");
    let out = git_output(&p, "repo", &["push", "-q", "origin", "main"], &[]);
    // Git shows a pre-push hook's standard output, where the human report
    // (and its advice) goes.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success(),
        "push with a key went through: {stderr}"
    );
    assert!(
        stdout.contains("This push is blocked") || stderr.contains("This push is blocked"),
        "{stdout}\n{stderr}"
    );

    // A new branch with only clean commits on top of what the remote has.
    git(&p, "repo", &["reset", "-q", "--hard", "HEAD~1"]);
    git(&p, "repo", &["checkout", "-q", "-b", "topic"]);
    put(&p, "repo", "readme.md", "topic\n");
    commit(&p, "repo", "clean topic");
    let out = git_output(&p, "repo", &["push", "-q", "origin", "topic"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A repository with the pre-commit hook installed and a key written into
/// a tracked file but not staged.
fn hooked_repo_with_unstaged_key(p: &Project) -> String {
    init(p, "repo");
    put(p, "repo", "config.py", "A = 1\n");
    commit(p, "repo", "initial");
    let r = till(p, &["install-hook", "repo"]);
    assert_eq!(r.code, 0, "{r}");
    put(p, "repo", "config.py", &format!("A = 1\nKEY = \"{K1}\"\n"));
    git(p, "repo", &["rev-parse", "HEAD"])
}

/// `git commit -a` stages into a temporary index (`.git/index.lock`) that git
/// names in GIT_INDEX_FILE for the hook; `staged` reads `.git/index` instead.
#[test]
fn installed_pre_commit_hook_blocks_commit_all() {
    let p = Project::new();
    let before = hooked_repo_with_unstaged_key(&p);
    let out = git_output(&p, "repo", &["commit", "-q", "-a", "-m", "commit -a"], &[]);
    assert!(
        !out.status.success(),
        "`git commit -a` with a key went through"
    );
    assert_eq!(git(&p, "repo", &["rev-parse", "HEAD"]), before);
}

/// `git commit <path>` uses a temporary `.git/next-index-*.lock` index, named
/// in GIT_INDEX_FILE.
#[test]
fn installed_pre_commit_hook_blocks_commit_of_a_path() {
    let p = Project::new();
    let before = hooked_repo_with_unstaged_key(&p);
    let out = git_output(
        &p,
        "repo",
        &["commit", "-q", "-m", "commit path", "config.py"],
        &[],
    );
    assert!(
        !out.status.success(),
        "`git commit <path>` with a key went through"
    );
    assert_eq!(git(&p, "repo", &["rev-parse", "HEAD"]), before);
}

/// In a linked worktree git runs the hooks of the common git dir
/// (`git rev-parse --git-path hooks`), not `.git/worktrees/<name>/hooks`.
#[test]
fn install_hook_in_a_linked_worktree_is_run_by_git() {
    let p = Project::new();
    init(&p, "repo");
    put(&p, "repo", "readme.md", "hello\n");
    commit(&p, "repo", "initial");
    git(&p, "repo", &["worktree", "add", "-q", "../wt", "-b", "wt"]);
    let r = till_in(&p, "wt", &["install-hook"], b"");
    assert_eq!(r.code, 0, "{r}");
    let hooks = git(
        &p,
        "wt",
        &["rev-parse", "--path-format=absolute", "--git-path", "hooks"],
    );
    assert!(
        Path::new(&hooks).join("pre-commit").is_file(),
        "hook not in {hooks}: {r}"
    );
    put(&p, "wt", "key.env", &format!("KEY={K1}\n"));
    git(&p, "wt", &["add", "key.env"]);
    let out = git_output(&p, "wt", &["commit", "-q", "-m", "key"], &[]);
    assert!(!out.status.success(), "commit with a key went through");
}

/// Git reads an omitted side of `A..B` as HEAD: `BASE..` is `BASE..HEAD`.
#[test]
fn range_with_omitted_head_means_head() {
    let p = Project::new();
    init(&p, "repo");
    put(&p, "repo", "readme.md", "hello\n");
    commit(&p, "repo", "initial");
    put(&p, "repo", "key.env", &format!("KEY={K1}\n"));
    commit(&p, "repo", "key");
    let (r, _, findings) = scan_json(&p, &["git", "repo", "--range", "HEAD~1.."]);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(secrets(&findings), set(&[K1]));
}

/// Tree entries sort as bytes with a directory's name read as `name/`
/// (`foo-x` < `foo.d/` < `foo/` < `foo0`): the tree diff must pair them right
/// so edits next to such names do not re-report keys.
#[test]
fn tricky_tree_order_and_type_changes_do_not_duplicate_findings() {
    let p = Project::new();
    init(&p, "repo");
    put(&p, "repo", "foo.d/x.env", &format!("KEY={K1}\n"));
    put(&p, "repo", "foo/y.env", &format!("KEY={K2}\n"));
    put(&p, "repo", "foo-x", &format!("KEY={K3}\n"));
    put(&p, "repo", "foo0", "clean\n");
    put(&p, "repo", "foo.txt", &format!("KEY={K4}\n"));
    let first = commit(&p, "repo", "first");
    for (f, k) in [("foo.d/x.env", K1), ("foo/y.env", K2), ("foo-x", K3)] {
        put(&p, "repo", f, &format!("KEY={k}\nMORE=1\n"));
    }
    put(&p, "repo", "foo0", "still clean\n");
    commit(&p, "repo", "edit all");
    // A file becomes a directory, and a directory becomes a file; each keeps
    // the key it held (a move within the commit, not a new secret).
    std::fs::remove_file(p.path("repo/foo.txt")).unwrap();
    put(
        &p,
        "repo",
        "foo.txt/inner.env",
        &format!("KEY={K4}\nMORE=2\n"),
    );
    std::fs::remove_dir_all(p.path("repo/foo")).unwrap();
    put(&p, "repo", "foo", &format!("KEY={K2}\n"));
    commit(&p, "repo", "type changes");
    // A symlink in place of a file holding a key.
    std::fs::remove_file(p.path("repo/foo-x")).unwrap();
    std::os::unix::fs::symlink("foo0", p.path("repo/foo-x")).unwrap();
    commit(&p, "repo", "symlink");

    let (r, json, findings) = scan_json(&p, &["git", "repo"]);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(findings.len(), 4, "{r}");
    assert_eq!(secrets(&findings), set(&[K1, K2, K3, K4]));
    assert!(
        findings.iter().all(|f| f["commit"] == first.as_str()),
        "{r}"
    );
    assert!(
        json["summary"]["errors"].as_array().unwrap().is_empty(),
        "{r}"
    );
}

/// Both sides edit the same file and the merge combines them: the merged
/// blob differs from both parents, but the key came from the feature side.
#[test]
fn merge_combining_edits_to_the_same_file_keeps_feature_attribution() {
    let p = Project::new();
    init(&p, "repo");
    put(&p, "repo", "config.env", "A=1\n\n\n\n\nZ=1\n");
    commit(&p, "repo", "initial");
    git(&p, "repo", &["checkout", "-q", "-b", "feature"]);
    put(
        &p,
        "repo",
        "config.env",
        &format!("A=1\n\n\n\n\nZ=1\nKEY={K1}\n"),
    );
    let feat = commit(&p, "repo", "feature key");
    git(&p, "repo", &["checkout", "-q", "main"]);
    put(&p, "repo", "config.env", "A=2\n\n\n\n\nZ=1\n");
    commit(&p, "repo", "main edit");
    git(
        &p,
        "repo",
        &["merge", "-q", "--no-ff", "-m", "merge feature", "feature"],
    );
    let merged = std::fs::read_to_string(p.path("repo/config.env")).unwrap();
    assert!(merged.starts_with("A=2") && merged.contains(K1), "{merged}");

    let (r, _, findings) = scan_json(&p, &["git", "repo"]);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(findings.len(), 1, "{r}");
    assert_eq!(findings[0]["commit"], feat.as_str(), "{r}");
}

/// A linked worktree has its own index (`.git/worktrees/<name>/index`).
#[test]
fn staged_reads_the_index_of_a_linked_worktree() {
    let p = Project::new();
    init(&p, "repo");
    put(&p, "repo", "readme.md", "hello\n");
    commit(&p, "repo", "initial");
    git(&p, "repo", &["worktree", "add", "-q", "../wt", "-b", "wt"]);
    put(&p, "wt", "key.env", &format!("KEY={K1}\n"));
    git(&p, "wt", &["add", "key.env"]);
    // Staged in the worktree only: the main work tree's index is clean.
    let (r, _, findings) = scan_json(&p, &["staged", "wt"]);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(findings.len(), 1, "{r}");
    assert_eq!(findings[0]["path"], "key.env");
    assert_clean(&p, &["staged", "repo"]);
}

#[test]
fn history_and_staged_honour_till_scanignore_and_config_excludes() {
    let p = Project::new();
    init(&p, "repo");
    put(&p, "repo", ".till-scanignore", "fixtures/\n");
    put(&p, "repo", ".till-scan.toml", "exclude = [\"vendor/\"]\n");
    put(&p, "repo", "fixtures/keys.env", &format!("KEY={K1}\n"));
    put(&p, "repo", "vendor/lib.py", &format!("KEY = \"{K1}\"\n"));
    put(&p, "repo", "app.py", &format!("KEY = \"{K2}\"\n"));
    commit(&p, "repo", "keys in excluded and scanned places");

    let (r, _, findings) = scan_json(&p, &["git", "repo"]);
    assert_eq!(r.code, 1, "{r}");
    let paths: Vec<_> = findings
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paths, vec!["app.py"], "{r}");
    // --no-ignore drops the ignore file, not the config's excludes.
    let (_, _, findings) = scan_json(&p, &["git", "repo", "--no-ignore"]);
    let mut paths: Vec<_> = findings
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    paths.sort();
    assert_eq!(paths, vec!["app.py", "fixtures/keys.env"]);

    put(&p, "repo", "fixtures/more.env", &format!("KEY={K2}\n"));
    git(&p, "repo", &["add", "fixtures/more.env"]);
    assert_clean(&p, &["staged", "repo"]);
}
