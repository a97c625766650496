//! `till-scan git`: scan a repository's history (all refs, a branch, a
//! range, or what a pre-push hook is about to push).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};

use super::output::finish;
use super::Outcome;
use super::{exit_without_freeing, setup};
use crate::cli::HistoryArgs;
use crate::report::advice::Source;
use crate::scan::ScanResult;
use crate::settings::{Args, Setup};
use crate::sources::git::{self, Revisions};

/// The work tree of the repository at `path` (or the git dir of a bare one):
/// where the config and baseline of a history scan live.
pub fn repo_root(path: Option<&Path>) -> Result<PathBuf> {
    let path = path.unwrap_or(Path::new("."));
    let repo = git::open(path)?;
    Ok(repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf())
}

pub fn revisions(args: &HistoryArgs, push_input: Option<&str>) -> Result<Revisions> {
    if let Some(input) = push_input {
        return Ok(Revisions::Push(git::parse_push_updates(input)?));
    }
    Ok(match (&args.branch, &args.range) {
        (_, Some(range)) => Revisions::Range(range.clone()),
        (Some(branch), None) => Revisions::Branch(branch.clone()),
        (None, None) => Revisions::AllRefs,
    })
}

pub fn run_history(
    common: &Args,
    setup: &Setup,
    root: &Path,
    revisions: Revisions,
    since: Option<i64>,
) -> Result<(ScanResult, git::HistoryStats)> {
    let opts = setup.history_options(root, revisions, since)?;
    let started = Instant::now();
    let stats = git::scan_history(&setup.scanner, root, &opts)?;
    if !common.quiet {
        if stats.shallow {
            eprintln!("till-scan: note: shallow clone: commits before the shallow boundary are not scanned (git fetch --unshallow)");
        }
        if stats.commits == 0 {
            eprintln!("till-scan: note: no commits to scan");
        }
        if common.verbose > 0 {
            eprintln!(
                "till-scan: {} commits, {} unique blobs read and scanned in {:.2} s",
                stats.commits,
                stats.blobs,
                stats.elapsed.as_secs_f64()
            );
        }
    }
    Ok((setup.scanner.finish(started.elapsed()), stats))
}

/// What to tell the user when objects of the history could not be read and
/// they did not accept that with `--skip-missing`: such a scan did not see
/// everything, so it must not end as if it had (the caller exits 2).
pub fn history_gap(
    common: &Args,
    unreadable: usize,
    promisor: Option<&str>,
    skip_missing: bool,
) -> Option<String> {
    if unreadable == 0 {
        return None;
    }
    let objects = if unreadable == 1 {
        "1 object".to_string()
    } else {
        format!("{unreadable} objects")
    };
    if skip_missing {
        if !common.quiet {
            eprintln!("till-scan: note: {objects} could not be read and were skipped (--skip-missing); the warnings above name them");
        }
        return None;
    }
    let mut message = format!(
        "till-scan: error: {objects} of the history could not be read (the warnings above name them): this scan is incomplete"
    );
    match promisor {
        Some(remote) => message.push_str(&format!(
            ".\n  This is a partial clone: remote `{remote}` has the missing objects. Fetch them with\n    git fetch --refetch --no-filter {remote}\n  (in GitHub Actions: actions/checkout with fetch-depth: 0 and no filter), then scan again;\n  or pass --skip-missing to scan only what is here."
        )),
        None => message.push_str(
            ".\n  The repository is damaged (`git fsck` lists what is broken). Pass --skip-missing to scan what can be read.",
        ),
    }
    Some(message)
}

/// What a pre-push hook is asked to scan.
fn pushed_revisions(common: &Args, root: &Path, history: &HistoryArgs) -> Result<Revisions> {
    let env = &common.env;
    // Under the pre-commit framework the range comes in the environment;
    // as a plain git hook, the refs come on standard input.
    match (&env.pre_commit_from_ref, &env.pre_commit_to_ref) {
        (Some(from), Some(to)) if !from.is_empty() && !to.is_empty() => {
            Ok(Revisions::Range(format!("{from}..{to}")))
        }
        _ => {
            let mut input = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut input)
                .context("cannot read the pushed refs from standard input")?;
            match &env.pre_commit_local_branch {
                // pre-commit has consumed git's input and gives no range
                // for a push that creates the remote branch (the first
                // push of a repository): scan what no remote has yet.
                Some(branch) if input.trim().is_empty() && !branch.is_empty() => {
                    let repo = git::open(root)?;
                    let local = repo
                        .revparse_single(branch)
                        .and_then(|o| o.peel_to_commit())
                        .map_err(|e| {
                            anyhow::anyhow!(
                                "cannot resolve pushed branch `{branch}`: {}",
                                e.message()
                            )
                        })?;
                    Ok(Revisions::Push(vec![(
                        local.id().to_string(),
                        "0".repeat(40),
                    )]))
                }
                _ => revisions(history, Some(&input)),
            }
        }
    }
}

pub fn scan_git(
    common: &Args,
    repo: Option<PathBuf>,
    history: &HistoryArgs,
    pre_push: bool,
) -> Result<Outcome> {
    let root = repo_root(repo.as_deref())?;
    let setup = setup(common, &root, true)?;
    let revisions = if pre_push {
        pushed_revisions(common, &root, history)?
    } else {
        revisions(history, None)?
    };
    let (mut result, stats) = run_history(common, &setup, &root, revisions, history.since)?;
    let gap = history_gap(
        common,
        stats.unreadable,
        stats.promisor.as_deref(),
        history.skip_missing,
    );
    let source = if pre_push {
        Source::Push
    } else {
        Source::History
    };
    let outcome = finish(common, &setup, &mut result, gap.is_none(), source)?;
    if let Some(message) = gap {
        eprintln!("{message}");
    }
    exit_without_freeing(setup);
    Ok(outcome)
}
