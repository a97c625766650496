//! Issue 17, item 6: the user documentation cannot drift. Every ```console
//! block of README.md and docs/*.md is run: each `$ command` line runs in
//! bash (standard error merged into standard output, as a terminal shows
//! them), in one temporary directory per document, in order, and its output
//! must be the lines that follow it. Timings and sizes are normalised; a
//! line `...` stands for any number of lines. Commits get fixed names and
//! dates, so their ids are stable.
//!
//! Blocks that cannot run here (they need a Till account, a provider, or
//! GitHub) are ```text, and say so.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::project::{bin, clean_env};

/// One `$ command` and the output the document shows for it.
struct Step {
    line: usize,
    command: String,
    expected: Vec<String>,
    /// The block's indent, for rewriting the step (`DOCS_BLESS=1`).
    indent: usize,
}

fn steps(text: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut in_block = false;
    let mut in_console = false;
    // A block inside a list is indented: its fence's indent is dropped
    // from every line.
    let mut indent = 0;
    let mut current: Option<Step> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_start();
        if line.starts_with("```") {
            if in_block {
                steps.extend(current.take());
                in_block = false;
                in_console = false;
            } else {
                in_block = true;
                in_console = line.trim_end() == "```console";
                indent = raw.len() - line.len();
            }
            continue;
        }
        if !in_console {
            continue;
        }
        let cut = raw.len() - raw.trim_start().len();
        let body = &raw[cut.min(indent)..];
        if let Some(command) = body.strip_prefix("$ ") {
            steps.extend(current.take());
            current = Some(Step {
                line: i + 1,
                command: command.to_string(),
                expected: Vec::new(),
                indent,
            });
        } else if let Some(step) = current.as_mut() {
            step.expected.push(body.to_string());
        }
    }
    steps
}

/// Timings and sizes vary from run to run.
fn normalise(line: &str) -> String {
    let re = regex::Regex::new(r"\d+\.\d+ (s|MB)\b").unwrap();
    re.replace_all(line.trim_end(), "_ $1").into_owned()
}

/// `expected` (with `...` lines matching any run of lines) against `actual`.
fn matches(expected: &[String], actual: &[String]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first.trim() == "..." || first.trim() == "…" => {
            (0..=actual.len()).any(|skip| matches(rest, &actual[skip..]))
        }
        Some((first, rest)) => {
            actual
                .first()
                .is_some_and(|a| normalise(a) == normalise(first))
                && matches(rest, &actual[1..])
        }
    }
}

fn docs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    let mut more: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    more.sort();
    files.extend(more);
    files
}

#[test]
fn every_console_example_in_the_user_docs_runs_as_shown() {
    let bin_dir = Path::new(bin()).parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut failures = Vec::new();
    let mut ran = 0;
    for file in docs() {
        let text = std::fs::read_to_string(&file).unwrap();
        let steps = steps(&text);
        if steps.is_empty() {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join(".home");
        let work = dir.path().join("work");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&work).unwrap();
        let mut last_status = 0;
        let mut bless: Vec<(usize, usize, usize, Vec<String>)> = Vec::new();
        for step in steps {
            let mut c = Command::new("bash");
            // `$?` in a step is the status of the step before it.
            c.arg("-c")
                .arg(format!("(exit {last_status}); {} 2>&1", step.command))
                .current_dir(&work);
            clean_env(&mut c)
                .env("HOME", &home)
                .env("PATH", &path)
                .env("NO_COLOR", "1")
                .env("GIT_AUTHOR_NAME", "Dana Dev")
                .env("GIT_AUTHOR_EMAIL", "dana@example.com")
                .env("GIT_COMMITTER_NAME", "Dana Dev")
                .env("GIT_COMMITTER_EMAIL", "dana@example.com")
                .env("GIT_AUTHOR_DATE", "2026-11-22T20:07:28Z")
                .env("GIT_COMMITTER_DATE", "2026-11-22T20:07:28Z")
                .env_remove("TILL_ADMIN_KEY")
                .env_remove("GITHUB_TOKEN")
                .env_remove("TILL_API_URL");
            let out = c.output().unwrap();
            last_status = out.status.code().unwrap_or(2);
            // Documents name the directory /tmp/demo, and the binary
            // ~/.cargo/bin/till-scan.
            let work_dir = work.display().to_string();
            let actual: Vec<String> = String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(|l| {
                    l.replace(&work_dir, "/tmp/demo")
                        .replace(&bin_dir.display().to_string(), "/home/dana/.cargo/bin")
                })
                .collect();
            ran += 1;
            if !matches(&step.expected, &actual) {
                if std::env::var_os("DOCS_BLESS").is_some() {
                    bless.push((step.line, step.expected.len(), step.indent, actual.clone()));
                }
                failures.push(format!(
                    "{}:{}: $ {}\n--- the document shows\n{}\n--- the command printed\n{}\n",
                    file.file_name().unwrap().to_string_lossy(),
                    step.line,
                    step.command,
                    step.expected.join("\n"),
                    actual.join("\n")
                ));
            }
        }
        // DOCS_BLESS=1: write what the commands printed into the document
        // (review the diff before committing it).
        if !bless.is_empty() {
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            for (line, old, indent, actual) in bless.into_iter().rev() {
                let pad = " ".repeat(indent);
                let new: Vec<String> = actual
                    .iter()
                    .map(|l| {
                        if l.is_empty() {
                            String::new()
                        } else {
                            format!("{pad}{l}")
                        }
                    })
                    .collect();
                lines.splice(line..line + old, new);
            }
            std::fs::write(&file, lines.join("\n") + "\n").unwrap();
        }
    }
    assert!(ran >= 10, "only {ran} documented commands ran");
    assert!(
        failures.is_empty(),
        "{} of {ran} documented commands differ:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_step_reader_and_matcher() {
    let doc = "text\n```console\n$ a\nout 1\n...\n$ b\n```\n```sh\n$ not run\n```\n  ```console\n  $ c\n  x in 0.02 s\n  ```\n";
    let s = steps(doc);
    let got: Vec<(&str, usize)> = s
        .iter()
        .map(|s| (s.command.as_str(), s.expected.len()))
        .collect();
    assert_eq!(got, [("a", 2), ("b", 0), ("c", 1)]);
    let lines = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(matches(
        &lines(&["out 1", "..."]),
        &lines(&["out 1", "x", "y"])
    ));
    assert!(matches(&lines(&["x in 0.02 s"]), &lines(&["x in 1.50 s"])));
    assert!(!matches(&lines(&["out 1"]), &lines(&["out 2"])));
    assert!(matches(&lines(&["...", "end"]), &lines(&["a", "b", "end"])));
}

/// Every link from one page of the docs to another (and to a heading in
/// it) leads somewhere: the manual was split into pages, and must stay
/// navigable.
#[test]
fn links_between_pages_resolve() {
    let link = regex::Regex::new(r"\]\(([^)#\s:]+\.md)?(#[^)\s]*)?\)").unwrap();
    let heading = regex::Regex::new(r"(?m)^#+ (.*)$").unwrap();
    let anchors = |text: &str| -> Vec<String> {
        heading
            .captures_iter(text)
            .map(|c| {
                c[1].to_lowercase()
                    .chars()
                    .filter(|ch| ch.is_alphanumeric() || matches!(ch, ' ' | '-' | '_'))
                    .collect::<String>()
                    .replace(' ', "-")
            })
            .collect()
    };
    let mut broken = Vec::new();
    for file in docs() {
        let text = std::fs::read_to_string(&file).unwrap();
        let dir = file.parent().unwrap();
        for c in link.captures_iter(&text) {
            if c.get(1).is_none() && c.get(2).is_none() {
                continue;
            }
            let target = c.get(1).map_or(file.clone(), |m| dir.join(m.as_str()));
            let Ok(body) = std::fs::read_to_string(&target) else {
                broken.push(format!("{}: {}", file.display(), &c[0]));
                continue;
            };
            if let Some(anchor) = c.get(2) {
                if !anchors(&body).contains(&anchor.as_str()[1..].to_string()) {
                    broken.push(format!("{}: {}", file.display(), &c[0]));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}
