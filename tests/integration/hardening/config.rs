//! Hardening regressions: config, rule files, baselines and the other input
//! parsers. A setting that would switch checks off is an error naming the
//! key; a broken or foreign file gets a plain message naming the file (and
//! line), not serde's internals and not its name twice.

use crate::support::*;

/// Writes `.till-scan.toml` and a file to scan, runs `dir .`.
fn scan_with_config(config: &str) -> Run {
    let p = Project::new();
    p.write(".till-scan.toml", config);
    p.write("app.py", "print('hello')\n");
    p.run(&["dir", "."])
}

fn assert_error_naming(r: &Run, wanted: &[&str]) {
    assert_eq!(r.code, 2, "{r}");
    for w in wanted {
        assert!(r.stderr.contains(w), "missing {w:?}: {r}");
    }
    for internal in [
        "invalid type:",
        "invalid length",
        "untagged enum",
        "wanted string or table",
        "expected struct",
    ] {
        assert!(!r.stderr.contains(internal), "serde internals: {r}");
    }
}

#[test]
fn empty_stopword_is_an_error_naming_the_key() {
    let r = scan_with_config("[allowlist]\nstopwords = [\"localdev\", \"\"]\n");
    assert_error_naming(
        &r,
        &[".till-scan.toml:2", "allowlist.stopwords[1]", "blank"],
    );
    let r = scan_with_config("[allowlist]\nstopwords = [\"  \"]\n");
    assert_error_naming(&r, &["allowlist.stopwords[0]"]);
}

#[test]
fn allowlist_regex_matching_everything_is_an_error_naming_the_key() {
    for regex in ["", ".*", "a*", "^sk-test|"] {
        let r = scan_with_config(&format!("[allowlist]\nregexes = [{regex:?}]\n"));
        assert_error_naming(
            &r,
            &[".till-scan.toml:2", "allowlist.regexes[0]", "empty string"],
        );
    }
    // A regex that only matches real secrets is fine.
    let r = scan_with_config("[allowlist]\nregexes = [\"^sk-test-\"]\n");
    assert_eq!(r.code, 0, "{r}");
}

#[test]
fn zero_size_limit_is_an_error_naming_the_key() {
    for value in ["0", "\"0\"", "\"0KiB\""] {
        let r = scan_with_config(&format!("max_file_size = {value}\n"));
        assert_error_naming(
            &r,
            &[".till-scan.toml:1", "max_file_size", "skip every file"],
        );
    }
    let p = Project::new();
    p.write("app.py", "x\n");
    let r = p.run(&["dir", ".", "--max-file-size", "0"]);
    assert_eq!(r.code, 2, "{r}");
    assert!(r.stderr.contains("skip every file"), "{r}");
}

#[test]
fn configured_baseline_that_does_not_exist_is_an_error_until_written() {
    let p = Project::new();
    p.write(".till-scan.toml", "baseline = \"accepted.json\"\n");
    p.write("app.py", "print('hello')\n");
    let r = p.run(&["dir", "."]);
    assert_error_naming(
        &r,
        &[
            ".till-scan.toml",
            "`baseline`",
            "accepted.json",
            "does not exist",
        ],
    );
    // `till-scan baseline` writes the configured file, which then loads.
    let r = p.run(&["baseline", "."]);
    assert_eq!(r.code, 0, "{r}");
    assert!(p.path("accepted.json").is_file());
    let r = p.run(&["dir", "."]);
    assert_eq!(r.code, 0, "{r}");
    // A missing `--baseline` says so.
    let r = p.run(&["dir", ".", "--baseline", "nope.json"]);
    assert_error_naming(&r, &["--baseline", "nope.json"]);
}

#[test]
fn rules_check_refuses_an_id_a_builtin_rule_uses() {
    let p = Project::new();
    p.write(
        "rules/mine.toml",
        r#"
[[rules]]
id = "openai.project-key"
name = "Shadow"
provider = "Acme"
keywords = ["acme_"]
pattern = '(acme_[a-z0-9]{16})'
examples = ["acme_q8k2mx9pl4vr7ty1"]
negative_examples = ["acme_short"]
"#,
    );
    let check = p.run(&["rules", "check", "rules"]);
    assert_error_naming(
        &check,
        &["rules/mine.toml:3", "openai.project-key", "already defined"],
    );
    // The same message as a scan that loads the directory.
    let scan = p.run(&["dir", ".", "--rules", "rules"]);
    assert_eq!(scan.code, 2, "{scan}");
    assert_eq!(scan.stderr, check.stderr);
    // Without the built-in rules there is nothing to clash with.
    let r = p.run(&["rules", "check", "rules", "--no-builtin-rules"]);
    assert_eq!(r.code, 0, "{r}");
}

#[test]
fn wrong_values_get_plain_messages_with_file_and_line() {
    let r = scan_with_config("# settings\nformat = 5\n");
    assert_error_naming(
        &r,
        &[
            ".till-scan.toml:2",
            "`format` must be one of human, json",
            "(got 5)",
        ],
    );
    let r = scan_with_config("format = \"xml\"\n");
    assert_error_naming(&r, &[".till-scan.toml:1", "(got \"xml\")"]);
    let r = scan_with_config("max_file_size = -1\n");
    assert_error_naming(&r, &[".till-scan.toml:1", "`max_file_size`", "(got -1)"]);
    let r = scan_with_config("exclude = \"vendor/\"\n");
    assert_error_naming(&r, &[".till-scan.toml:1", "`exclude` must be a list"]);
}

#[test]
fn foreign_baseline_is_named_as_such() {
    let p = Project::new();
    p.write("app.py", "print('hello')\n");
    let gitleaks =
        r#"[{"Description": "AWS", "StartLine": 1, "Secret": "x", "Fingerprint": "a:b:1"}]"#;
    for (text, why) in [
        (gitleaks, "a JSON list"),
        ("{\"results\": {}}", "its keys are results"),
        ("version = 1\n", "not JSON"),
        (
            "{\"schema\": \"https://till.ac/schemas/till-scan/findings-v1.json\", \"version\": 1, \"findings\": []}",
            "till-scan JSON report",
        ),
    ] {
        p.write("other.json", text);
        let r = p.run(&["dir", ".", "--baseline", "other.json"]);
        assert_error_naming(&r, &["other.json is not a till-scan baseline (", why]);
        assert_eq!(r.stderr.matches("other.json").count(), 1, "{r}");
    }
}

#[test]
fn invalid_rule_files_name_the_file_and_line() {
    let p = Project::new();
    p.write(
        "rules/a.toml",
        "[[rules]]\nid = \"acme.key\"\nkeywords = \"acme\"\n",
    );
    let r = p.run(&["rules", "check", "rules"]);
    assert_error_naming(&r, &["rules/a.toml:3", "`keywords` must be a list"]);
    p.write("rules/a.toml", "[[rules]\n");
    let r = p.run(&["dir", ".", "--rules", "rules"]);
    assert_error_naming(&r, &["rules/a.toml:1"]);
    assert_eq!(r.stderr.matches("rules/a.toml").count(), 1, "{r}");
}

#[test]
fn broken_ignore_file_is_named_once() {
    let p = Project::new();
    p.git_init("repo");
    p.write("repo/.till-scanignore", "build/\n{unclosed\n");
    p.write("repo/app.py", "print('hello')\n");
    p.git("repo", &["add", "app.py"]);
    let r = p.run_in_within("repo", &["staged"], b"", std::time::Duration::from_secs(60));
    assert_eq!(r.code, 2, "{r}");
    assert_eq!(r.stderr.matches(".till-scanignore").count(), 1, "{r}");
    assert!(r.stderr.contains("line 2"), "{r}");
}

mod pre_push_input {
    use proptest::prelude::*;
    use till_scan::sources::git::parse_push_updates;

    const VALID: &str = "refs/heads/main 1111111111111111111111111111111111111111 refs/heads/main 0000000000000000000000000000000000000000\n";

    fn mutated() -> impl Strategy<Value = String> {
        let edits = proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..8);
        prop_oneof![
            ".{0,300}".prop_map(String::from),
            proptest::collection::vec(any::<u8>(), 0..300)
                .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
            edits.prop_map(|edits| {
                let mut b = VALID.repeat(2).into_bytes();
                for (at, byte, kind) in edits {
                    let i = at % (b.len() + 1);
                    match kind {
                        0 if i < b.len() => b[i] = byte,
                        1 => b.insert(i, byte),
                        _ => b.truncate(i),
                    }
                }
                String::from_utf8_lossy(&b).into_owned()
            }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

        /// Whatever git (or anything else) writes on a pre-push hook's
        /// standard input: a list of updates or a message, never a panic.
        #[test]
        fn pre_push_input_never_panics(input in mutated()) {
            match parse_push_updates(&input) {
                Ok(updates) => prop_assert!(updates.len() <= input.lines().count()),
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
        }
    }
}
