//! `till-scan [dir] [PATHS]`: scan files and directories.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::Result;

use super::output::finish;
use super::Outcome;
use super::{exit_without_freeing, setup};
use crate::report::advice::Source;
use crate::scan::ScanResult;
use crate::settings::{Args, Setup};
use crate::sources;

/// The directory whose config and baseline apply: the first path if it is a
/// directory, else its parent, else the current directory.
pub fn scan_root(paths: &[PathBuf]) -> PathBuf {
    match paths.first() {
        Some(p) if p.is_dir() => p.clone(),
        Some(p) => p
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(".")),
        None => PathBuf::from("."),
    }
}

/// Scans paths; the flag says whether every path given could be scanned.
pub fn scan_paths(paths: &[PathBuf], setup: &Setup) -> Result<(ScanResult, bool)> {
    let root = scan_root(paths);
    let opts = setup.fs_options(&root)?;
    let started = Instant::now();
    let (files, bytes) = setup.scanner.counters();
    let progress = crate::progress::Ticker::start(setup.progress, move |elapsed| {
        crate::progress::rate(
            files.load(Ordering::Relaxed),
            "files",
            bytes.load(Ordering::Relaxed),
            elapsed,
        )
    });
    let failed = sources::fs::scan(&setup.scanner, paths, &opts);
    progress.finish();
    Ok((setup.scanner.finish(started.elapsed()), failed == 0))
}

/// No paths: the current directory.
pub fn default_paths(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths
    }
}

pub fn scan_dir(common: &Args, paths: Vec<PathBuf>) -> Result<Outcome> {
    let paths = default_paths(paths);
    let root = scan_root(&paths);
    let setup = setup(common, &root, true)?;
    let (mut result, complete) = scan_paths(&paths, &setup)?;
    let outcome = finish(common, &setup, &mut result, complete, Source::Files);
    exit_without_freeing(setup);
    outcome
}
