//! Integration tests: run the built `till-scan` binary on temporary
//! directories and check its output and exit codes.

use crate::support::*;

/// A rule file used by tests that must not depend on the built-in rules.
const TEST_RULES: &str = r#"
[[rules]]
id = "acme.api-key"
name = "Acme API key"
provider = "Acme"
keywords = ["acme_live_"]
pattern = '\b(acme_live_[A-Za-z0-9]{24})\b'
min_entropy = 3.0
examples = ["ACME_KEY=acme_live_Q8k2mX9pL4vR7tY1wE3uI6oP"]
negative_examples = ["ACME_KEY=acme_live_short"]
"#;

const KEY: &str = "acme_live_Q8k2mX9pL4vR7tY1wE3uI6oP";
const KEY2: &str = "acme_live_Zt5nB8vC1xM4kL7jH0gF3dS6";

/// A temp dir with the test rules in `rules/` (outside the scanned `src/`).
fn project() -> Project {
    let p = Project::new();
    p.write("rules/acme.toml", TEST_RULES);
    p
}

fn scan(p: &Project, args: &[&str]) -> Run {
    let mut all = vec!["dir", "src", "--no-builtin-rules", "--rules", "rules"];
    all.extend_from_slice(args);
    p.run(&all)
}

#[test]
fn clean_tree_exits_zero() {
    let p = project();
    p.write("src/main.rs", "fn main() { println!(\"hello\"); }\n");
    let r = scan(&p, &[]);
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stdout.contains("No secrets found"), "{r}");
}

#[test]
fn finding_exits_one_and_redacts_by_default() {
    let p = project();
    p.write(
        "src/config.py",
        &format!("# settings\nACME_KEY = \"{KEY}\"\n"),
    );
    let r = scan(&p, &["--format", "json"]);
    assert_eq!(r.code, 1, "{r}");
    assert!(!r.stdout.contains(KEY), "secret leaked: {r}");
    let json = r.json();
    let f = &json["findings"][0];
    assert_eq!(f["rule_id"], "acme.api-key");
    assert_eq!(f["path"], "src/config.py");
    assert_eq!(f["line"], 2);
    assert_eq!(f["column"], 13);
    assert_eq!(f["redacted"], true);
    assert_eq!(json["version"], 5);

    let r = scan(&p, &["--format", "json", "--no-redact"]);
    assert_eq!(r.json()["findings"][0]["secret"], KEY);
}

#[test]
fn one_secret_in_three_files_is_one_fingerprint_with_three_locations() {
    let p = project();
    for f in ["src/a.env", "src/b.yaml", "src/c.json"] {
        p.write(f, &format!("key: {KEY}\n"));
    }
    p.write("src/d.txt", &format!("other {KEY2}\n"));
    let json = scan(&p, &["--format", "json"]).json();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 4);
    let fps: std::collections::HashSet<_> = findings
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(fps.len(), 2);
    assert_eq!(json["summary"]["distinct_secrets"], 2);
    assert_eq!(json["summary"]["occurrences"], 4);
}

#[test]
fn every_format_renders_and_output_goes_to_a_file() {
    let p = project();
    p.write("src/k.sh", &format!("export ACME_KEY={KEY}\n"));
    let out = p.path("report.out");
    for (format, marker) in [
        ("human", "acme.api-key"),
        ("json", "\"fingerprint\""),
        ("sarif", "\"2.1.0\""),
        ("junit", "<testsuite"),
        ("github", "::error file=src/k.sh,line=1"),
        ("markdown", "| `src/k.sh` | 1:"),
    ] {
        let r = scan(&p, &["--format", format, "--output", out.to_str().unwrap()]);
        assert_eq!(r.code, 1, "{format}: {r}");
        assert!(r.stdout.is_empty(), "{format} wrote to stdout: {r}");
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.contains(marker), "{format}: {text}");
        assert!(!text.contains(KEY), "{format} leaked the secret: {text}");
    }
}

#[test]
fn also_write_adds_formats_from_the_same_scan() {
    let p = project();
    p.write("src/k.sh", &format!("export ACME_KEY={KEY}\n"));
    let sarif = p.path("out/results.sarif");
    let md = p.path("summary.md");
    std::fs::create_dir_all(sarif.parent().unwrap()).unwrap();
    let r = scan(
        &p,
        &[
            "--format",
            "github",
            "--also-write",
            &format!("sarif={}", sarif.display()),
            "--also-write",
            &format!("markdown={}", md.display()),
        ],
    );
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stdout.starts_with("::error file=src/k.sh,line=1"), "{r}");
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 1);
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(md.starts_with("## till-scan: 1 secret found"), "{md}");
    assert!(!md.contains(KEY) && !md.contains('\x1b'), "{md}");

    let bad = scan(&p, &["--also-write", "sarif"]);
    assert_eq!(bad.code, 2, "{bad}");
    assert!(bad.stderr.contains("FORMAT=PATH"), "{bad}");
}

#[test]
fn sarif_output_validates_against_the_official_schema() {
    let p = project();
    p.write("src/k.sh", &format!("export ACME_KEY={KEY}\n"));
    let r = scan(&p, &["--format", "sarif"]);
    let doc = r.json();
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../fixtures/sarif-schema-2.1.0.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        doc["runs"][0]["results"][0]["partialFingerprints"]
            .as_object()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn inline_allow_comments_suppress() {
    let p = project();
    p.write(
        "src/a.py",
        &format!("A = \"{KEY}\"  # till-scan:allow\nB = \"{KEY2}\"  # gitleaks:allow\n"),
    );
    let r = scan(&p, &["--format", "json"]);
    assert_eq!(r.code, 0, "{r}");
    assert_eq!(r.json()["summary"]["allowed_inline"], 2);
}

#[test]
fn ignore_files_config_excludes_and_dot_git_are_honoured() {
    let p = project();
    p.write("src/.gitignore", "ignored.txt\n");
    p.write("src/.till-scanignore", "fixtures/\n");
    p.write("src/ignored.txt", &format!("{KEY}\n"));
    p.write("src/fixtures/k.txt", &format!("{KEY}\n"));
    p.write("src/.git/config", &format!("{KEY}\n"));
    p.write("src/vendor/k.txt", &format!("{KEY}\n"));
    p.write("src/.till-scan.toml", "exclude = [\"vendor/\"]\n");
    p.write("src/.env", &format!("ACME={KEY2}\n"));
    let json = scan(&p, &["--format", "json"]).json();
    let paths: Vec<_> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paths, vec!["src/.env"]);
    // What the ignore files left out is counted (fixtures/ once, however
    // much it holds), not what config excludes or .git/ are.
    assert_eq!(json["summary"]["ignored"], 2, "{json}");
    // --no-ignore drops the ignore files, not the config excludes or .git/.
    let all = scan(&p, &["--format", "json", "--no-ignore"]).json();
    assert_eq!(all["findings"].as_array().unwrap().len(), 3, "{all}");
    assert_eq!(all["summary"]["ignored"], 0, "{all}");
}

#[test]
fn the_summary_says_what_ignore_files_left_out_and_how_to_scan_it() {
    let p = project();
    p.write("src/.gitignore", "build/\n*.env\n!public.env\n");
    p.write("src/build/out/config.js", &format!("k = '{KEY}'\n"));
    p.write("src/build/more.js", "nothing here\n");
    p.write("src/prod.env", &format!("ACME={KEY2}\n"));
    p.write("src/public.env", "ACME=placeholder\n");
    let r = scan(&p, &[]);
    assert_eq!(r.code, 0, "{r}");
    assert!(
        r.stdout.contains(
            "2 files and directories left out by .gitignore, .ignore or .till-scanignore \
             (--no-ignore scans them)"
        ),
        "{r}"
    );
    // A CI scan of build output scans what a developer's .gitignore hides.
    let all = scan(&p, &["--no-ignore", "--format", "json"]);
    assert_eq!(all.code, 1, "{all}");
    let mut paths: Vec<String> = all.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    paths.sort();
    assert_eq!(paths, vec!["src/build/out/config.js", "src/prod.env"]);
}

#[test]
fn bad_input_files_are_skipped_or_scanned_without_panic() {
    let p = project();
    p.write_bytes(
        "src/blob.bin",
        b"\x00\x01\x02acme_live_Q8k2mX9pL4vR7tY1wE3uI6oP",
    );
    let mut latin1 = b"caf\xe9 = '".to_vec();
    latin1.extend_from_slice(KEY2.as_bytes());
    latin1.extend_from_slice(b"'\n\xff\xfe\n");
    p.write_bytes("src/latin1.txt", &latin1);
    p.write("src/big.txt", &format!("{}\n{KEY}\n", "x".repeat(4096)));
    std::os::unix::fs::symlink(p.path("nowhere"), p.path("src/broken-link")).unwrap();
    let r = scan(&p, &["--format", "json", "--max-file-size", "2K", "-v"]);
    assert_eq!(r.code, 1, "{r}");
    let json = r.json();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{json}");
    assert_eq!(findings[0]["path"], "src/latin1.txt");
    assert_eq!(findings[0]["column"], 9);
    let skipped = json["summary"]["skipped"].to_string();
    assert!(
        skipped.contains("big.txt") && skipped.contains("blob.bin"),
        "{skipped}"
    );
    assert!(r.stderr.contains("big.txt"), "{r}");
}

#[test]
fn files_past_the_first_read_are_scanned_to_the_end_and_huge_ones_skipped_with_their_size() {
    // Files over 256 KiB are read in two steps (the size is looked up
    // between them): a key at the very end must still be found, and a file
    // over the limit must be reported with its real size.
    let p = project();
    let filler = "let x = 1;\n".repeat(60_000); // 660,000 bytes
    p.write("src/long.rs", &format!("{filler}{KEY}\n"));
    p.write("src/huge.rs", &format!("{filler}{filler}{KEY}\n"));
    let r = scan(&p, &["--format", "json", "--max-file-size", "1M"]);
    assert_eq!(r.code, 1, "{r}");
    let json = r.json();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{json}");
    assert_eq!(findings[0]["path"], "src/long.rs");
    assert_eq!(findings[0]["line"], 60_001);
    let size = std::fs::metadata(p.path("src/huge.rs")).unwrap().len();
    let skipped = json["summary"]["skipped"].to_string();
    assert!(
        skipped.contains("huge.rs") && skipped.contains(&size.to_string()),
        "{skipped}"
    );
}

#[test]
fn missing_path_is_an_error_but_other_paths_are_scanned() {
    let p = project();
    p.write("src/a.txt", &format!("{KEY}\n"));
    let r = p.run(&[
        "dir",
        "src",
        "does-not-exist",
        "--no-builtin-rules",
        "--rules",
        "rules",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 2, "{r}");
    assert!(r.stderr.contains("does-not-exist"), "{r}");
    assert_eq!(r.json()["findings"].as_array().unwrap().len(), 1);
}

#[test]
fn config_typo_names_the_key_and_line() {
    let p = project();
    p.write(
        "src/.till-scan.toml",
        "format = \"json\"\n\n[allowlist]\nstopword = [\"x\"]\n",
    );
    let r = scan(&p, &[]);
    assert_eq!(r.code, 2, "{r}");
    assert!(r.stderr.contains(".till-scan.toml:4"), "{r}");
    assert!(r.stderr.contains("stopword"), "{r}");
}

#[test]
fn invalid_rule_file_names_file_line_and_rule() {
    let p = project();
    p.write("src/a.txt", "nothing\n");
    p.write(
        "rules/broken.toml",
        &TEST_RULES
            .replace("acme.api-key", "acme.other")
            .replace("[A-Za-z0-9]{24}", "[A-Za-z0-9{24}"),
    );
    let r = scan(&p, &[]);
    assert_eq!(r.code, 2, "{r}");
    assert!(r.stderr.contains("broken.toml:7"), "{r}");
    assert!(r.stderr.contains("acme.other"), "{r}");
}

#[test]
fn missing_rule_field_names_the_field() {
    let p = project();
    p.write("src/a.txt", "nothing\n");
    p.write(
        "rules/acme.toml",
        &TEST_RULES.replace("negative_examples = [\"ACME_KEY=acme_live_short\"]\n", ""),
    );
    let r = scan(&p, &[]);
    assert_eq!(r.code, 2, "{r}");
    assert!(
        r.stderr.contains("acme.toml") && r.stderr.contains("negative_examples"),
        "{r}"
    );
}

#[test]
fn baseline_survives_edits_and_moves_and_reports_unused_entries() {
    let p = project();
    p.write("src/a.py", &format!("KEY = \"{KEY}\"\n"));
    let r = p.run(&["baseline", "src", "--no-builtin-rules", "--rules", "rules"]);
    assert_eq!(r.code, 0, "{r}");
    assert!(p.path("src/.till-scan-baseline.json").exists());
    assert_eq!(scan(&p, &[]).code, 0);
    // Moved to another file and line: still accepted.
    std::fs::remove_file(p.path("src/a.py")).unwrap();
    p.write(
        "src/moved/b.py",
        &format!("\n\n\nOTHER = 1\nKEY = \"{KEY}\"\n"),
    );
    let r = scan(&p, &["--format", "json"]);
    assert_eq!(r.code, 0, "{r}");
    assert_eq!(r.json()["summary"]["baselined"], 1);
    // A new secret is still reported.
    p.write("src/new.py", &format!("K2 = \"{KEY2}\"\n"));
    assert_eq!(scan(&p, &[]).code, 1);
    // With the accepted secret gone, -v lists the unused baseline entry.
    std::fs::remove_file(p.path("src/moved/b.py")).unwrap();
    std::fs::remove_file(p.path("src/new.py")).unwrap();
    let r = scan(&p, &["-v"]);
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stderr.contains("matched nothing"), "{r}");
    // --no-baseline reports everything again.
    p.write("src/a.py", &format!("KEY = \"{KEY}\"\n"));
    assert_eq!(scan(&p, &["--no-baseline"]).code, 1);
}

#[test]
fn stdin_is_scanned_with_a_path_hint() {
    let p = project();
    let r = p.run_stdin(
        &[
            "stdin",
            "--path-hint",
            "deploy/app.env",
            "--no-builtin-rules",
            "--rules",
            "rules",
            "--format",
            "json",
        ],
        format!("X=1\nACME={KEY}\n").as_bytes(),
    );
    assert_eq!(r.code, 1, "{r}");
    let f = &r.json()["findings"][0];
    assert_eq!(f["path"], "deploy/app.env");
    assert_eq!(f["line"], 2);
}

#[test]
fn config_allowlists_and_rule_selection_apply() {
    let p = project();
    p.write("src/fixtures/a.txt", &format!("{KEY}\n"));
    p.write("src/b.txt", &format!("{KEY2}\n"));
    p.write(
        "src/.till-scan.toml",
        "[allowlist]\npaths = [\"fixtures/\"]\nstopwords = [\"Zt5nB8\"]\n",
    );
    let r = scan(&p, &["--format", "json"]);
    assert_eq!(r.code, 0, "{r}");
    assert_eq!(r.json()["summary"]["allowed_by_config"], 2);

    p.write("src/.till-scan.toml", "[rules]\ndisable = [\"acme.*\"]\n");
    let r = p.run(&["dir", "src", "--rules", "rules"]);
    assert_eq!(r.code, 0, "{r}");
    p.write(
        "src/.till-scan.toml",
        "[rules]\ndisable = [\"acme.typo\"]\n",
    );
    let r = scan(&p, &[]);
    assert_eq!(r.code, 2, "{r}");
    assert!(r.stderr.contains("acme.typo"), "{r}");
}

#[test]
fn rules_check_and_list() {
    let p = project();
    let r = p.run(&["rules", "check", "rules"]);
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stdout.contains("1 passed, 0 failed"), "{r}");
    p.write(
        "bad/acme.toml",
        &TEST_RULES.replace("acme_live_short", "ACME=acme_live_Zt5nB8vC1xM4kL7jH0gF3dS6"),
    );
    let r = p.run(&["rules", "check", "bad"]);
    assert_eq!(r.code, 2, "{r}");
    assert!(r.stdout.contains("negative example matched"), "{r}");
    let r = p.run(&["rules", "list", "--no-builtin-rules", "--rules", "rules"]);
    assert!(r.stdout.contains("acme.api-key"), "{r}");
}

#[test]
fn rules_list_filters_and_counts_by_group() {
    let p = project();
    let till = p.run(&["rules", "list", "--till"]);
    assert_eq!(till.code, 0, "{till}");
    let lines: Vec<&str> = till.stdout.lines().collect();
    assert!(lines.len() > 12, "{till}");
    for line in &lines[..lines.len() - 1] {
        assert!(line.contains("[rotatable: "), "{line}");
    }
    assert!(till.stdout.ends_with("12 providers\n"), "{till}");

    let google = p.run(&["rules", "list", "--provider", "GOOGLE", "-f", "json"]);
    let list = google.json();
    let list = list.as_array().unwrap();
    assert!(!list.is_empty(), "{google}");
    for rule in list {
        let provider = rule["provider"].as_str().unwrap().to_lowercase();
        assert!(provider.contains("google"), "{rule}");
    }

    let ai = p.run(&["rules", "list", "--group", "ai", "--till"]);
    assert!(ai.stdout.contains("mistral.api-key"), "{ai}");
    assert!(
        !ai.stdout.contains("google.api-key"),
        "google is in cloud: {ai}"
    );

    let mine = p.run(&["rules", "list", "--rules", "rules", "--group", "custom"]);
    assert!(
        mine.stdout.contains("acme.api-key") && mine.stdout.contains("1 rule, 1 provider"),
        "{mine}"
    );

    let summary = p.run(&["rules", "list", "--summary", "-f", "json"]);
    let rows = summary.json();
    let rows = rows.as_array().unwrap();
    let total = rows.last().unwrap();
    assert_eq!(total["group"], "total", "{summary}");
    let sum: u64 = rows[..rows.len() - 1]
        .iter()
        .map(|r| r["rules"].as_u64().unwrap())
        .sum();
    assert_eq!(total["rules"].as_u64().unwrap(), sum, "{summary}");

    let sarif = p.run(&["rules", "list", "-f", "sarif"]);
    assert_eq!(sarif.code, 2, "{sarif}");
    assert!(sarif.stderr.contains("human or json"), "{sarif}");
}

#[test]
fn bare_command_scans_the_current_directory() {
    let p = project();
    p.write(".till-scan.toml", "rule_dirs = [\"rules\"]\n");
    p.write("app/settings.py", &format!("KEY = '{KEY}'\n"));
    let r = p.run(&["--no-builtin-rules", "--format", "json"]);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(r.json()["findings"][0]["path"], "app/settings.py");
}

#[test]
fn a_specific_rule_shadows_the_generic_one_on_the_same_secret() {
    let p = Project::new();
    p.write(
        "app/settings.py",
        "api_key = \"sk_live_Wq7Ls2Kd9Tz4Xv1Pn6Bh3Mr8\"\n",
    );
    let r = p.run(&["dir", "app", "--format", "json"]);
    assert_eq!(r.code, 1, "{r}");
    let json = r.json();
    let ids: Vec<_> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, vec!["stripe.secret-key"], "{json}");
}

#[test]
fn builtin_rules_find_till_provider_keys_and_mark_them_rotatable() {
    let p = Project::new();
    let key = format!(
        "sk-proj-{}T3BlbkFJ{}",
        "Rk7q2Lm9Xw4Tz8Vb1Nc6Hd3Js5Pf0Ga7Ue2Yi9Oa4Kl",
        "Mn3Bv8Cx1Zq6Wr5Et2Yu7Io4Pa9Sd0Fg3Hj6Kl1Zx8Cv"
    );
    p.write("bot/.env", &format!("OPENAI_API_KEY={key}\n"));
    let json = p
        .run(&["dir", "bot", "--format", "json", "--no-redact"])
        .json();
    let f = &json["findings"][0];
    assert_eq!(f["rule_id"], "openai.project-key");
    assert_eq!(f["till_provider"], "openai");
    assert_eq!(f["secret"], key.as_str());
}

#[test]
fn a_user_rule_too_large_to_compile_is_an_error_naming_it() {
    let p = project();
    p.write("src/a.txt", "nothing\n");
    p.write(
        "rules/huge.toml",
        &TEST_RULES.replace("acme.api-key", "acme.huge").replace(
            r"\b(acme_live_[A-Za-z0-9]{24})\b",
            "(acme_live_(?:[a-z0-9]{1000}){1000})",
        ),
    );
    let r = scan(&p, &[]);
    assert_eq!(r.code, 2, "{r}");
    assert!(
        r.stderr.contains("acme.huge") && r.stderr.contains("huge.toml:3"),
        "{r}"
    );
}

#[test]
fn fail_on_and_config_severity_decide_the_exit_code_and_reports_carry_severity() {
    let p = project();
    p.write("src/config.py", &format!("ACME_KEY = \"{KEY}\"\n"));
    // A rule with a pattern is high by default: it fails at the default
    // `--fail-on medium` and at `high`, not at `critical`.
    let r = scan(&p, &["--format", "json"]);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(r.json()["findings"][0]["severity"], "high");
    assert_eq!(scan(&p, &["--fail-on", "high"]).code, 1);
    let r = scan(&p, &["--fail-on", "critical", "--format", "json"]);
    assert_eq!(r.code, 0, "{r}");
    assert_eq!(r.json()["findings"].as_array().unwrap().len(), 1, "{r}");
    assert!(
        r.stderr.contains("1 finding is below --fail-on critical"),
        "{r}"
    );
    let sarif = scan(&p, &["--format", "sarif"]).json();
    let run = &sarif["runs"][0];
    assert_eq!(run["results"][0]["level"], "error");
    assert_eq!(
        run["tool"]["driver"]["rules"][0]["properties"]["security-severity"],
        "8.0"
    );
    // The config lowers it: reported, not failing, unless `--fail-on low`.
    p.write("src/.till-scan.toml", "[severity]\n\"acme.*\" = \"low\"\n");
    let r = scan(&p, &["--format", "json"]);
    assert_eq!(r.code, 0, "{r}");
    assert_eq!(r.json()["findings"][0]["severity"], "low");
    assert_eq!(scan(&p, &["--fail-on", "low"]).code, 1);
    let sarif = scan(&p, &["--format", "sarif"]).json();
    assert_eq!(sarif["runs"][0]["results"][0]["level"], "note");
    // `fail_on` in the config; the flag wins over it.
    p.write(
        "src/.till-scan.toml",
        "fail_on = \"critical\"\n[severity]\n\"acme.api-key\" = \"high\"\n",
    );
    assert_eq!(scan(&p, &[]).code, 0);
    assert_eq!(scan(&p, &["--fail-on", "medium"]).code, 1);
    // A pattern that names no rule is an error, as in `[rules]`.
    p.write("src/.till-scan.toml", "[severity]\n\"nope.*\" = \"low\"\n");
    let r = scan(&p, &[]);
    assert_eq!(r.code, 2, "{r}");
    assert!(r.stderr.contains("[severity] names `nope.*`"), "{r}");
    let r = scan(&p, &["--fail-on", "severe"]);
    assert_eq!(r.code, 2, "{r}");
}
