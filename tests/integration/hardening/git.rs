//! Hardening regressions: damaged and unusual git repositories. A history
//! that cannot be read whole must end in exit 2 and say what is missing
//! (never "No secrets found", exit 0, and never a hang); every ref's target
//! is scanned; commit and tag text is scanned like files.

use std::time::Duration;

use crate::support::*;

use crate::support::keys::{K1, K2, K3, K4};

/// Long enough for a debug build on a busy machine; a hang is forever.
const LIMIT: Duration = Duration::from_secs(60);

/// A repository `r` with three commits; the last adds K1 in `keys.env`.
fn three_commits(p: &Project) {
    p.git_init("r");
    p.write("r/a.txt", "one\n");
    p.git_commit("r", "one");
    p.write("r/b.txt", "two\n");
    p.git_commit("r", "two");
    p.write("r/keys.env", &format!("GROQ_API_KEY={K1}\n"));
    p.git_commit("r", "three");
}

/// The loose object file of `rev` in repository `r`.
fn loose(p: &Project, rev: &str) -> std::path::PathBuf {
    let sha = p.git("r", &["rev-parse", rev]);
    p.path(&format!("r/.git/objects/{}/{}", &sha[..2], &sha[2..]))
}

fn truncate(path: &std::path::Path, len: u64) {
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.set_len(len).unwrap();
}

fn scan(p: &Project, args: &[&str]) -> Run {
    p.run_in_within("r", args, b"", LIMIT)
}

fn findings(run: &Run) -> Vec<serde_json::Value> {
    run.json()["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn has_secret(run: &Run, key: &str) -> bool {
    findings(run).iter().any(|f| f["secret"] == key)
}

#[test]
fn truncated_commit_tree_or_blob_ends_in_exit_2_not_a_hang() {
    for (what, rev) in [
        ("commit", "HEAD~1"),
        ("tree", "HEAD~1^{tree}"),
        ("blob", "HEAD~1:b.txt"),
    ] {
        let p = Project::new();
        three_commits(&p);
        let range = format!("{}..HEAD", p.git("r", &["rev-parse", "HEAD~2"]));
        truncate(&loose(&p, rev), 10);
        for args in [
            &["git", "-f", "json", "--no-redact"][..],
            &["git", "-f", "json", "--no-redact", "--range", &range][..],
        ] {
            let run = scan(&p, args);
            assert_eq!(run.code, 2, "cut {what}, {args:?}: {run}");
            assert!(run.stderr.contains("incomplete"), "cut {what}: {run}");
            assert!(run.stderr.contains("truncated"), "cut {what}: {run}");
            // What can be read is still scanned and reported.
            assert!(has_secret(&run, K1), "cut {what}, {args:?}: {run}");
        }
        let run = scan(&p, &["git", "-f", "json", "--no-redact", "--skip-missing"]);
        assert_eq!(run.code, 1, "cut {what}, --skip-missing: {run}");
    }
}

#[test]
fn truncated_staged_blob_and_pre_push_end_in_exit_2_not_a_hang() {
    let p = Project::new();
    three_commits(&p);
    p.write("r/new.env", &format!("GROQ_API_KEY={K2}\n"));
    p.git("r", &["add", "new.env"]);
    let blob = p.git("r", &["rev-parse", ":new.env"]);
    truncate(
        &p.path(&format!("r/.git/objects/{}/{}", &blob[..2], &blob[2..])),
        12,
    );
    let run = scan(&p, &["staged"]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("new.env"), "{run}");

    let p = Project::new();
    three_commits(&p);
    let head = p.git("r", &["rev-parse", "HEAD"]);
    truncate(&loose(&p, "HEAD~1"), 10);
    let input = format!(
        "refs/heads/main {head} refs/heads/main {}\n",
        "0".repeat(40)
    );
    let run = p.run_in_within("r", &["git", "--pre-push"], input.as_bytes(), LIMIT);
    assert_eq!(run.code, 2, "{run}");
}

#[test]
fn missing_or_cut_packfile_ends_in_exit_2() {
    for cut in [false, true] {
        let p = Project::new();
        three_commits(&p);
        p.git("r", &["repack", "-a", "-d", "-q"]);
        p.git("r", &["prune-packed"]);
        let pack_dir = p.path("r/.git/objects/pack");
        let pack = std::fs::read_dir(&pack_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "pack"))
            .expect("a pack");
        if cut {
            let len = std::fs::metadata(&pack).unwrap().len();
            truncate(&pack, len / 2);
        } else {
            std::fs::remove_file(&pack).unwrap();
        }
        let run = scan(&p, &["git"]);
        assert_eq!(run.code, 2, "cut={cut}: {run}");
        assert!(run.stderr.contains("incomplete"), "cut={cut}: {run}");
        assert!(
            !run.stdout.contains("No secrets found") || run.stdout.contains("error"),
            "{run}"
        );
    }
}

#[test]
fn ref_to_a_missing_object_is_named_and_exits_2() {
    let p = Project::new();
    three_commits(&p);
    let ghost = "1234567890abcdef1234567890abcdef12345678";
    p.write("r/.git/refs/heads/ghost", &format!("{ghost}\n"));
    let run = scan(&p, &["git", "-f", "json", "--no-redact"]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("refs/heads/ghost"), "{run}");
    assert!(run.stderr.contains(ghost), "{run}");
    assert!(has_secret(&run, K1), "{run}");
}

#[test]
fn partial_clone_says_how_to_fetch_the_blobs() {
    let p = Project::new();
    three_commits(&p);
    p.git("r", &["config", "uploadpack.allowfilter", "true"]);
    let url = format!("file://{}", p.path("r").display());
    p.git(
        ".",
        &[
            "clone",
            "-q",
            "--filter=blob:none",
            "--no-checkout",
            &url,
            "clone",
        ],
    );
    let run = p.run_in_within("clone", &["git"], b"", LIMIT);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("partial clone"), "{run}");
    assert!(
        run.stderr
            .contains("git fetch --refetch --no-filter origin"),
        "{run}"
    );
    let run = p.run_in_within("clone", &["git", "--skip-missing"], b"", LIMIT);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stderr.contains("--skip-missing"), "{run}");
    // After the fetch the instruction names, the key is found.
    p.git(
        "clone",
        &["fetch", "-q", "--refetch", "--no-filter", "origin"],
    );
    let run = p.run_in_within("clone", &["git"], b"", LIMIT);
    assert_eq!(run.code, 1, "{run}");
}

#[test]
fn tags_that_point_at_a_blob_or_a_tree_are_scanned() {
    let p = Project::new();
    three_commits(&p);
    p.write("r/loose.env", &format!("GROQ_API_KEY={K2}\n"));
    let blob = p.git("r", &["hash-object", "-w", "loose.env"]);
    std::fs::remove_file(p.path("r/loose.env")).unwrap();
    p.git("r", &["tag", "blob-tag", &blob]);
    // A tree (through an annotated tag) holding a file no commit has.
    p.write("r/dir/deep.env", &format!("GROQ_API_KEY={K3}\n"));
    p.git("r", &["add", "dir/deep.env"]);
    let r_tree = p.git("r", &["write-tree"]);
    p.git("r", &["rm", "-q", "--cached", "dir/deep.env"]);
    std::fs::remove_dir_all(p.path("r/dir")).unwrap();
    p.git("r", &["tag", "-a", "-m", "a tree", "tree-tag", &r_tree]);
    let run = scan(&p, &["git", "-f", "json", "--no-redact"]);
    assert_eq!(run.code, 1, "{run}");
    let paths: Vec<(String, String)> = findings(&run)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["secret"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        paths.contains(&("refs/tags/blob-tag".into(), K2.into())),
        "{paths:?}"
    );
    assert!(
        paths.contains(&("refs/tags/tree-tag:dir/deep.env".into(), K3.into())),
        "{paths:?}"
    );
}

/// A repository whose author name, commit message and tag message carry
/// keys (and no file does).
fn keys_in_metadata(p: &Project) {
    p.git_init("r");
    p.git("r", &["config", "user.name", &format!("Bot {K1}")]);
    p.write("r/a.txt", "nothing here\n");
    p.git_commit(
        "r",
        &format!("configure with {K2}\n\nbody line\nGROQ={K4}\n"),
    );
    p.git("r", &["tag", "-a", "-m", &format!("release {K3}"), "v1"]);
}

#[test]
fn keys_in_commit_and_tag_text_are_findings() {
    let p = Project::new();
    keys_in_metadata(&p);
    let run = scan(&p, &["git", "-f", "json", "--no-redact"]);
    assert_eq!(run.code, 1, "{run}");
    let found = findings(&run);
    for key in [K1, K2, K4] {
        let f = found
            .iter()
            .find(|f| f["secret"] == key && f["path"] == "(commit message)")
            .unwrap_or_else(|| panic!("{key} in the commit: {run}"));
        assert!(f["commit"].is_string(), "{f}");
    }
    // Lines count from the top of `git cat-file commit`.
    let head = p.git("r", &["cat-file", "commit", "HEAD"]);
    let line = head.lines().position(|l| l.contains(K4)).unwrap() + 1;
    let f = found.iter().find(|f| f["secret"] == K4).unwrap();
    assert_eq!(f["line"], line, "{f}");
    assert!(
        found
            .iter()
            .any(|f| f["secret"] == K3 && f["path"] == "refs/tags/v1 (tag message)"),
        "{run}"
    );
    // A file count is about files: commit text is not one.
    assert_eq!(run.json()["summary"]["files_scanned"], 1, "{run}");
}

#[test]
fn no_report_format_prints_a_key_from_commit_metadata() {
    let p = Project::new();
    keys_in_metadata(&p);
    for format in ["human", "json", "sarif", "junit", "github", "markdown"] {
        let run = scan(&p, &["git", "-f", format]);
        assert_eq!(run.code, 1, "{format}: {run}");
        for key in [K1, K2, K3, K4] {
            // Not the key, nor any long piece of it.
            for piece in key.as_bytes().windows(16) {
                let piece = std::str::from_utf8(piece).unwrap();
                assert!(
                    !run.stdout.contains(piece) && !run.stderr.contains(piece),
                    "{format} prints part of {key}: {run}"
                );
            }
        }
    }
    // Asked for, the author name is shown as it is.
    let run = scan(&p, &["git", "-f", "json", "--no-redact"]);
    assert!(
        findings(&run)
            .iter()
            .any(|f| f["author_name"] == format!("Bot {K1}")),
        "{run}"
    );
}

#[test]
fn utf16_blobs_in_history_and_staged_are_transcoded_and_scanned() {
    let p = Project::new();
    p.git_init("r");
    let utf16 = |text: &str| -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        bytes
    };
    p.write_bytes(
        "r/settings.ps1",
        &utf16(&format!("$env:GROQ_API_KEY = \"{K1}\"\r\n")),
    );
    p.git_commit("r", "powershell profile");
    p.write_bytes("r/staged.ps1", &utf16(&format!("$k = \"{K2}\"\r\n")));
    p.git("r", &["add", "staged.ps1"]);
    let run = scan(&p, &["git", "-f", "json", "--no-redact"]);
    assert_eq!(run.code, 1, "{run}");
    assert!(has_secret(&run, K1), "{run}");
    let run = scan(&p, &["staged", "-f", "json", "--no-redact"]);
    assert_eq!(run.code, 1, "{run}");
    assert!(has_secret(&run, K2), "{run}");
}
