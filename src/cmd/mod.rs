//! One module per command. Each asks [`crate::settings`] for its parts,
//! runs a source and hands the result to [`output`], which writes the
//! reports and decides the [`Outcome`].

pub mod baseline;
pub mod completions;
pub mod dir;
pub mod git;
pub mod hook;
pub mod keys;
pub mod migrate;
pub mod output;
pub mod rotate;
pub mod rules;
pub mod staged;
pub mod stdin;

use std::path::Path;

use anyhow::Result;

use crate::matcher::Workload;
use crate::settings::{Args, Settings, Setup};

/// What a command found, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Clean,
    Findings,
    /// The command ran but something it was asked to do failed.
    Failed,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Clean => 0,
            Outcome::Findings => 1,
            Outcome::Failed => 2,
        }
    }
}

/// The parts of a scan of many blobs, with the config that applies at `root`.
pub fn setup(common: &Args, root: &Path, use_baseline: bool) -> Result<Setup> {
    setup_for(common, root, use_baseline, Workload::Large)
}

/// The parts of a scan, tuned for `workload`.
pub fn setup_for(
    common: &Args,
    root: &Path,
    use_baseline: bool,
    workload: Workload,
) -> Result<Setup> {
    Settings::resolve(common, root)?.build(workload, use_baseline)
}

/// The scan is over and the process is about to exit: freeing the compiled
/// regexes and their caches one allocation at a time would only delay it.
pub fn exit_without_freeing(setup: Setup) {
    std::mem::forget(setup);
}
