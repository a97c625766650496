//! `till-scan staged`: scan what `git commit` is about to record (the
//! pre-commit hook).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;

use super::git::{history_gap, repo_root};
use super::output::finish;
use super::setup_for;
use super::Outcome;
use crate::matcher::Workload;
use crate::report::advice::Source;
use crate::settings::Args;
use crate::sources::git;

pub fn scan_staged(common: &Args, repo: Option<PathBuf>) -> Result<Outcome> {
    let root = repo_root(repo.as_deref())?;
    let started = Instant::now();
    // Reading the index and loading the rules are independent: overlap them,
    // a commit hook's latency is the sum otherwise.
    let index_file = common.env.git_index_file.as_deref();
    let (staged, setup) = std::thread::scope(|s| {
        let staged = s.spawn(|| git::staged_changes_in(&root, index_file));
        let setup = setup_for(common, &root, true, Workload::Small);
        let staged = staged
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("reading the index failed")));
        (staged, setup)
    });
    let (mut staged, setup) = (staged?, setup?);
    if let Some(why) = &staged.fallback {
        if common.verbose > 0 && !common.quiet {
            eprintln!("till-scan: note: staged: the fast index reader declined ({why}); using libgit2's full diff");
        }
    }
    staged.retain_paths(setup.history_excludes(&root)?.as_ref());
    let unreadable = git::scan_staged_changes(&setup.scanner, &staged, setup.max_file_size)?;
    let mut result = setup.scanner.finish(started.elapsed());
    let gap = history_gap(common, unreadable, None, false);
    let outcome = finish(common, &setup, &mut result, gap.is_none(), Source::Commit)?;
    if let Some(message) = gap {
        eprintln!("{message}");
    }
    Ok(outcome)
}
