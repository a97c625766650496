//! Issue 17, item 3: the conventions of peer scanners. A bare path is a
//! directory scan; completions for bash, zsh and fish; rules chosen with
//! `--enable-rule` / `--disable-rule`; a clear error for a format a command
//! cannot write; plurals; a progress line on a terminal for long scans.

use std::process::Command;

use crate::support::keys::{ANTHROPIC, GROQ};
use crate::support::project::{run_command, Project, Run};

fn two_keys() -> Project {
    let p = Project::new();
    p.write("src/a.py", &format!("GROQ = '{GROQ}'\n"));
    p.write("src/b.ts", &format!("const k = \"{ANTHROPIC}\";\n"));
    p
}

fn rules_of(r: &Run) -> Vec<String> {
    let mut ids: Vec<String> = r.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[test]
fn a_bare_path_is_a_directory_scan() {
    let p = two_keys();
    let bare = p.run(&["src", "-f", "json"]);
    let dir = p.run(&["dir", "src", "-f", "json"]);
    assert_eq!(bare.code, 1, "{bare}");
    assert_eq!(rules_of(&bare), rules_of(&dir));
    // Flags before it too, and several paths.
    let r = p.run(&["-f", "json", "src/a.py", "src/b.ts"]);
    assert_eq!(rules_of(&r).len(), 2, "{r}");
    // A missing path is reported as one; a typo of a command stays one.
    let r = p.run(&["./missing"]);
    assert_eq!(r.code, 2, "{r}");
    assert!(r.stderr.contains("missing"), "{r}");
    let r = p.run(&["stagd"]);
    assert_eq!(r.code, 2, "{r}");
    assert!(r.stderr.contains("unrecognized subcommand"), "{r}");
}

#[test]
fn completions_for_bash_zsh_and_fish() {
    let p = Project::new();
    for shell in ["bash", "zsh", "fish"] {
        let r = p.run(&["completions", shell]);
        assert_eq!(r.code, 0, "{r}");
        for word in ["till-scan", "staged", "enable-rule", "rotate"] {
            assert!(r.stdout.contains(word), "{shell} lacks {word}");
        }
    }
    // The bash script is valid bash and registers the completion.
    let r = p.run(&["completions", "bash"]);
    p.write("till-scan.bash", &r.stdout);
    let out = Command::new("bash")
        .arg("-c")
        .arg("source ./till-scan.bash && complete -p till-scan")
        .current_dir(p.dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("till-scan"));
    let r = p.run(&["completions", "tcsh"]);
    assert_eq!(r.code, 2, "{r}");
}

#[test]
fn enable_and_disable_rules_by_id_or_glob() {
    let p = two_keys();
    let r = p.run(&["dir", "src", "-f", "json", "--enable-rule", "groq.*"]);
    assert_eq!(rules_of(&r), ["groq.api-key"], "{r}");
    let r = p.run(&["dir", "src", "-f", "json", "--disable-rule", "groq.api-key"]);
    assert_eq!(rules_of(&r), ["anthropic.api-key"], "{r}");
    // Globs anywhere, comma lists, and disable wins over enable.
    let r = p.run(&[
        "dir",
        "src",
        "-f",
        "json",
        "--enable-rule",
        "*.api-key,openai.*",
        "--disable-rule",
        "anthropic.*",
    ]);
    assert_eq!(rules_of(&r), ["groq.api-key"], "{r}");
    // The flag wins over the config's enable list.
    p.write(
        "src/.till-scan.toml",
        "[rules]\nenable = [\"anthropic.*\"]\n",
    );
    let r = p.run(&["dir", "src", "-f", "json", "--enable-rule", "groq.*"]);
    assert_eq!(rules_of(&r), ["groq.api-key"], "{r}");
    // A pattern that matches nothing is an error, not a silent no-op.
    let r = p.run(&["dir", "src", "--disable-rule", "gorq.*"]);
    assert_eq!(r.code, 2, "{r}");
    assert!(
        r.stderr.contains("--disable-rule `gorq.*` matches no rule"),
        "{r}"
    );
}

#[test]
fn a_format_a_command_cannot_write_is_an_error() {
    let p = two_keys();
    for (args, says) in [
        (
            &["rules", "list", "-f", "sarif"][..],
            "`rules list` writes human or json, not sarif",
        ),
        (
            &["rules", "check", "-f", "json"][..],
            "`rules check` writes human, not json",
        ),
        (
            &["baseline", "src", "-f", "json"][..],
            "`baseline` writes no report",
        ),
        (
            &["rotate", "-f", "sarif"][..],
            "`rotate` writes human or json, not sarif",
        ),
        (
            &["install-hook", "-f", "json"][..],
            "`install-hook` writes no report",
        ),
        (
            &["rules", "list", "--also-write", "json=x.json"][..],
            "--also-write applies to scans",
        ),
        (
            &["baseline", "src", "--validate"][..],
            "--validate, --only-live and --fail-on live apply to scans",
        ),
        (
            &["rotate", "--only-live"][..],
            "rotate checks the keys it would rotate unless --no-validate",
        ),
    ] {
        let r = p.run(args);
        assert_eq!(r.code, 2, "{args:?}: {r}");
        assert!(r.stderr.contains(says), "{args:?}: {r}");
        assert!(r.stdout.is_empty(), "{args:?} wrote output: {r}");
    }
}

#[test]
fn counts_have_the_right_plural() {
    let p = Project::new();
    p.write(
        "rules/one.toml",
        "[[rules]]\nid = \"acme.key\"\nname = \"Acme key\"\nprovider = \"Acme\"\nkeywords = [\"acme_\"]\npattern = '\\b(acme_[A-Za-z0-9]{20})\\b'\nexamples = [\"k = acme_Q8k2mX9pL4vR7tY1wE3u\", \"acme_Zt5nB8vC1xM4kL7jH0gF\"]\nnegative_examples = [\"acme_short\", \"acme_\"]\n",
    );
    let r = p.run(&["rules", "check", "rules"]);
    assert!(
        r.stdout
            .contains("1 rule for 1 provider checked: 1 passed, 0 failed"),
        "{r}"
    );
    p.write("src/k.txt", "k = acme_Q8k2mX9pL4vR7tY1wE3u\n");
    let r = p.run(&["baseline", "src", "--no-builtin-rules", "--rules", "rules"]);
    assert!(r.stderr.contains("(1 accepted secret)"), "{r}");
}

/// On a terminal, a scan that runs past a second draws a progress line on
/// standard error and erases it at the end; off a terminal, nothing.
#[test]
fn a_long_scan_on_a_terminal_shows_progress() {
    let p = Project::new();
    let bin = crate::support::project::bin();
    // A pipe that stays open 1.5 s: the scan lasts that long.
    let script = format!("(sleep 1.5; echo nothing) | '{bin}' dir /dev/stdin");
    let mut c = Command::new("script");
    c.args(["-qec", &script, "/dev/null"])
        .current_dir(p.dir.path())
        .env("NO_COLOR", "1");
    let r = run_command(c, b"");
    assert!(r.stdout.contains("till-scan: 0 files, 0 MB"), "{r}");
    assert!(r.stdout.contains("\x1b[2K"), "the line is not erased: {r}");
    assert!(r.stdout.contains("No secrets found"), "{r}");
    // Not a terminal: no progress line.
    let mut c = Command::new("sh");
    c.args(["-c", &script]).current_dir(p.dir.path());
    let r = run_command(c, b"");
    assert!(!r.stderr.contains("0 files"), "{r}");
}
