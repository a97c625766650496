//! `till-scan rotate`: scan the work tree (or the files a report names),
//! plan the rotation and hand over to [`crate::rotate::run`].

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::output::{print_diagnostics, write_stdout};
use super::setup;
use super::Outcome;
use crate::cli::{Format, RotateArgs};
use crate::report;
use crate::settings::{Args, Setup};
use crate::sources;

/// `till-scan rotate`: scan the work tree (or re-scan the files a report
/// names), plan, and hand over to [`crate::rotate::run`].
pub fn rotate(common: &Args, args: RotateArgs) -> Result<Outcome> {
    use crate::rotate::{self, plan::Plan, workspace::Workspace};

    let ws = Workspace::open(args.path.as_deref().unwrap_or(Path::new(".")))?;
    let root = ws.workdir.clone();
    let setup = setup(common, &root, true)?;
    let (mut occurrences, wanted) = match &args.report {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read report {}", file.display()))?;
            let findings = report::json::read_findings(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let mut paths: Vec<PathBuf> = findings
                .iter()
                .map(|f| {
                    let p = PathBuf::from(&f.path);
                    if p.is_absolute() || !root.join(&p).exists() && p.exists() {
                        p
                    } else {
                        root.join(p)
                    }
                })
                .collect();
            paths.sort();
            paths.dedup();
            paths.retain(|p| p.exists());
            let wanted: std::collections::BTreeSet<String> =
                findings.into_iter().map(|f| f.fingerprint).collect();
            (
                scan_for_rotation(common, &setup, &root, &paths)?,
                Some(wanted),
            )
        }
        None => (
            scan_for_rotation(common, &setup, &root, std::slice::from_ref(&root))?,
            None,
        ),
    };
    if let Some(wanted) = &wanted {
        occurrences.retain(|o| wanted.contains(&o.fingerprint));
        let found: std::collections::BTreeSet<&str> =
            occurrences.iter().map(|o| o.fingerprint.as_str()).collect();
        let gone = wanted
            .iter()
            .filter(|f| !found.contains(f.as_str()))
            .count();
        if gone > 0 && !common.quiet {
            eprintln!("till-scan: note: {gone} finding(s) of the report are no longer in the files it names; not rotated");
        }
    }
    let tracked = ws.tracked_files()?;
    let relative = |shown: &str| -> (String, bool) {
        match Path::new(shown).strip_prefix(&root) {
            Ok(rel) => {
                let rel = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                let tracked = tracked.contains(&rel);
                (rel, tracked)
            }
            Err(_) => (shown.to_string(), false),
        }
    };
    let plan = Plan::build(&occurrences, relative, |tp| {
        rotate::providers::get(tp).is_some()
    });

    let rc = &setup.config.file.rotate;
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    // The host alone: no user info, port or path (remote URLs are matched
    // by host, and the GitHub token goes only to this host and the API's).
    let github_host = env("GITHUB_SERVER_URL")
        .and_then(|u| rotate::endpoint::host_of(&u))
        .unwrap_or_else(|| "github.com".to_string());
    let seconds = |name: &str, default: f64| {
        env(name)
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|s| *s > 0.0)
            .unwrap_or(default)
    };
    let opts = rotate::RotateOptions {
        till_url: args
            .till_url
            .clone()
            .or_else(|| env("TILL_API_URL"))
            .or_else(|| rc.till_url.clone())
            .unwrap_or_else(|| rotate::till::DEFAULT_TILL_URL.to_string()),
        admin_key: env("TILL_ADMIN_KEY").map(|k| crate::finding::Secret::new(k.as_bytes())),
        limits: rotate::Limits {
            max_activations: args.max_activations.or(rc.max_activations).unwrap_or(1000),
            max_tokens: args.max_tokens.or(rc.max_tokens),
            max_spend_cents: args.max_spend_cents.or(rc.max_spend_cents),
            ip_whitelist: if args.ip_whitelist.is_empty() {
                rc.ip_whitelist.clone()
            } else {
                args.ip_whitelist.clone()
            },
        },
        remote: args
            .remote
            .clone()
            .or_else(|| rc.remote.clone())
            .unwrap_or_else(|| "origin".to_string()),
        github_repo: args
            .github_repo
            .clone()
            .or_else(|| env("GITHUB_REPOSITORY")),
        github_api: env("GITHUB_API_URL")
            .unwrap_or_else(|| rotate::github::DEFAULT_API_URL.to_string()),
        github_host,
        github_token: env("GITHUB_TOKEN").map(|t| crate::finding::Secret::new(t.as_bytes())),
        no_pr: args.no_pr,
        dry_run: args.dry_run,
        allow_dirty: args.allow_dirty,
        timeout: std::time::Duration::from_secs_f64(seconds("TILL_SCAN_HTTP_TIMEOUT", 30.0)),
        retry_backoff: std::time::Duration::from_secs_f64(
            seconds("TILL_SCAN_RETRY_BACKOFF_MS", 500.0) / 1000.0,
        ),
    };
    let quiet = common.quiet;
    let mut log = |line: &str| {
        if !quiet {
            eprintln!("till-scan: {line}");
        }
    };
    let report = rotate::run(&ws, &plan, &opts, &mut log)?;
    let json = common.format.or(setup.config.file.format) == Some(Format::Json);
    let text = if json {
        serde_json::to_string_pretty(&report)? + "\n"
    } else {
        rotate::pr::summary(&report)
    };
    match &common.output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => write_stdout(|out| out.write_all(text.as_bytes()))?,
    }
    Ok(Outcome::Clean)
}

/// The engine of `dir`, over `paths` with the work tree's config.
pub fn scan_for_rotation(
    common: &Args,
    setup: &Setup,
    root: &Path,
    paths: &[PathBuf],
) -> Result<Vec<crate::finding::Occurrence>> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let opts = sources::fs::FsOptions {
        threads: setup.threads,
        max_file_size: setup.max_file_size,
        honour_ignore_files: !common.no_ignore,
        excludes: setup.config.excludes(root)?,
    };
    sources::fs::scan(&setup.scanner, paths, &opts);
    let result = setup.scanner.finish(std::time::Duration::ZERO);
    print_diagnostics(common, &result);
    Ok(result.occurrences)
}
