//! `till-scan baseline`: scan (files, or with `--git` the history) and
//! write the accepted secrets to the baseline file.

use std::path::PathBuf;

use anyhow::Result;

use super::dir::{default_paths, scan_paths, scan_root};
use super::git::{history_gap, repo_root, revisions, run_history};
use super::output::print_diagnostics;
use super::setup;
use super::Outcome;
use crate::baseline::{self, BASELINE_FILE_NAME};
use crate::cli::HistoryArgs;
use crate::settings::Args;

pub fn write_baseline(
    common: &Args,
    paths: Vec<PathBuf>,
    history: Option<&HistoryArgs>,
) -> Result<Outcome> {
    let paths = default_paths(paths);
    let (root, setup, result, complete) = match history {
        Some(h) => {
            let root = repo_root(paths.first().map(PathBuf::as_path))?;
            let setup = setup(common, &root, false)?;
            let (result, stats) = run_history(common, &setup, &root, revisions(h, None)?, h.since)?;
            let gap = history_gap(
                common,
                stats.unreadable,
                stats.promisor.as_deref(),
                h.skip_missing,
            );
            if let Some(message) = &gap {
                eprintln!("{message}");
            }
            (root, setup, result, gap.is_none())
        }
        None => {
            let root = scan_root(&paths);
            let setup = setup(common, &root, false)?;
            let (result, complete) = scan_paths(&paths, &setup)?;
            (root, setup, result, complete)
        }
    };
    if !complete {
        print_diagnostics(common, &result);
        anyhow::bail!("not every path could be scanned; no baseline written");
    }
    let target = common
        .output
        .clone()
        .or_else(|| setup.config.baseline_path())
        .unwrap_or_else(|| root.join(BASELINE_FILE_NAME));
    let file = baseline::from_scan(&result, baseline::read_file(&target)?);
    baseline::write_file(&target, &file)?;
    print_diagnostics(common, &result);
    if !common.quiet {
        let default = root.join(BASELINE_FILE_NAME);
        let hint = if target == default || Some(&target) == setup.config.baseline_path().as_ref() {
            "later scans of this directory ignore them; commit the file so that your team's scans, hooks and CI do too".to_string()
        } else {
            format!(
                "pass --baseline {} to later scans to ignore them",
                target.display()
            )
        };
        eprintln!(
            "till-scan: wrote {} ({} accepted secret{}); {hint}",
            target.display(),
            file.entries.len(),
            if file.entries.len() == 1 { "" } else { "s" }
        );
    }
    Ok(Outcome::Clean)
}
