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
    let (mut findings, wanted) = match &args.report {
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
        findings.retain(|f| wanted.contains(&f.fingerprint));
        let found: std::collections::BTreeSet<&str> =
            findings.iter().map(|f| f.fingerprint.as_str()).collect();
        let gone = wanted
            .iter()
            .filter(|f| !found.contains(f.as_str()))
            .count();
        if gone > 0 && !common.quiet {
            eprintln!("till-scan: note: {gone} finding(s) of the report are no longer in the files it names; not rotated");
        }
    }
    if !args.no_validate && !args.dry_run {
        check_before_rotating(common, &setup, &mut findings)?;
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
    let plan = Plan::build(&findings, relative, |tp| {
        rotate::providers::get(tp).is_some()
    });

    let opts = setup.rotate_options(&args);
    let quiet = common.quiet;
    let mut log = |line: &str| {
        if !quiet {
            eprintln!("till-scan: {line}");
        }
    };
    let report = rotate::run(&ws, &plan, &opts, &mut log)?;
    let json = setup.format == Format::Json;
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

/// Asks each provider whether the keys Till could proxy are live (issue 16:
/// a dead key is not sent to Till). Other findings are not sent anywhere.
fn check_before_rotating(
    common: &Args,
    setup: &Setup,
    findings: &mut [crate::finding::Finding],
) -> Result<()> {
    let rotatable = |f: &crate::finding::Finding| {
        f.rule
            .till_provider
            .as_deref()
            .is_some_and(|tp| crate::rotate::providers::get(tp).is_some())
    };
    let count = findings.iter().filter(|f| rotatable(f)).count();
    if count == 0 {
        return Ok(());
    }
    let validator = crate::validate::Validator::new(setup.validate_options())
        .with_context(|| setup.config.label())?;
    if !common.quiet {
        eprintln!(
            "till-scan: checking {count} key{} with {} provider before rotating (--no-validate skips this)",
            if count == 1 { "" } else { "s" },
            if count == 1 { "its" } else { "their" }
        );
    }
    validator.validate_where(findings, rotatable);
    Ok(())
}

/// The engine of `dir`, over `paths` with the work tree's config.
pub fn scan_for_rotation(
    common: &Args,
    setup: &Setup,
    root: &Path,
    paths: &[PathBuf],
) -> Result<Vec<crate::finding::Finding>> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let opts = setup.fs_options(root)?;
    sources::fs::scan(&setup.scanner, paths, &opts);
    let result = setup.scanner.finish(std::time::Duration::ZERO);
    print_diagnostics(common, &result);
    Ok(result.findings)
}
