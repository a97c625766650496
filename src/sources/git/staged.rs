//! The staged changes of the index relative to HEAD: what `git commit` is
//! about to record, for the pre-commit check.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::{bail, Context, Result};
use git2::{Oid, Repository};

use super::commits::Origin;
use super::commits::{diff_changes, diff_options, drop_excluded, Change};
use super::progress::Progress;
use super::{attribute, open, scan_blob, Damage};
use crate::scanner::{BlobHit, Scanner, Worker};
use crate::sources::index::{self, Declined};
use crate::sources::tree::ChangedPath;

/// What the index stages relative to HEAD, ready to scan.
pub struct StagedChanges {
    repo: Repository,
    changes: Vec<Change>,
    /// Why the fast index reader left this index to libgit2's full diff
    /// (`None`: it did not); worth a note under `-v`, since the hook is
    /// then slower on a large repository.
    pub fallback: Option<Declined>,
}
impl StagedChanges {
    /// Drops the changes whose path is excluded.
    pub fn retain_paths(&mut self, exclude: Option<&ignore::gitignore::Gitignore>) {
        drop_excluded(&mut self.changes, 0, exclude);
    }
}
/// Finds what the repository's own index stages (reads no blob).
pub fn staged_changes(path: &Path) -> Result<StagedChanges> {
    staged_changes_in(path, None)
}

/// Finds what `index_file` stages, or the repository's own index when
/// `None` (reads no blob). `git commit -a` and `git commit <path>` build a
/// temporary index and tell hooks where it is (`GIT_INDEX_FILE`).
pub fn staged_changes_in(path: &Path, index_file: Option<&Path>) -> Result<StagedChanges> {
    let repo = open(path)?;
    if repo.is_bare() {
        bail!(
            "{} is a bare repository: it has no index to scan",
            path.display()
        );
    }
    let head = match repo.head() {
        Ok(h) => Some(h.peel_to_tree().context("cannot read HEAD's tree")?),
        Err(e)
            if e.code() == git2::ErrorCode::UnbornBranch
                || e.code() == git2::ErrorCode::NotFound =>
        {
            None
        }
        Err(e) => bail!("cannot read HEAD: {}", e.message()),
    };
    // A plain commit uses the repository's own index.
    let index_file = match index_file {
        Some(f) => f.to_path_buf(),
        None => repo.path().join("index"),
    };
    // The cache-tree fast path reads a handful of objects; libgit2's diff
    // compares every index entry and is the fallback for unusual indexes.
    let (fallback, (changed, deleted)) =
        match index::staged_changes(&repo, &index_file, head.as_ref()) {
            Ok(found) => (None, found),
            Err(declined) => (
                Some(declined),
                libgit2_changes(&repo, &index_file, head.as_ref())?,
            ),
        };
    let changes: Vec<Change> = changed
        .into_iter()
        .map(|(path, new, old)| Change {
            origin: Origin::Staged,
            path,
            new,
            old: old.map(|o| vec![o]).unwrap_or_else(|| deleted.clone()),
        })
        .collect();
    drop(head);
    Ok(StagedChanges {
        repo,
        changes,
        fallback,
    })
}
/// What the index at `index_file` stages relative to `head`, by libgit2's
/// diff of every index entry.
fn libgit2_changes(
    repo: &Repository,
    index_file: &Path,
    head: Option<&git2::Tree<'_>>,
) -> Result<(Vec<ChangedPath>, Vec<Oid>)> {
    let index = git2::Index::open(index_file)
        .with_context(|| format!("cannot read the index {}", index_file.display()))?;
    let diff = repo
        .diff_tree_to_index(head, Some(&index), Some(&mut diff_options()))
        .context("cannot compare the index with HEAD")?;
    Ok(diff_changes(&diff))
}
/// Scans the blobs of staged changes and records the secrets they add.
/// Returns how many blobs could not be read (each reported as an error).
pub fn scan_staged_changes(
    scanner: &Scanner,
    staged: &StagedChanges,
    max_blob_size: u64,
) -> Result<usize> {
    let damage = Damage::new(scanner);
    // A commit stages a handful of blobs: scan them here, with the handle
    // that found them, rather than start workers.
    let mut worker = Worker::default();
    let progress = Progress::start(false, None);
    let mut results: HashMap<Oid, Vec<BlobHit>> = HashMap::new();
    let mut seen: HashSet<Oid> = HashSet::new();
    for change in &staged.changes {
        for blob in std::iter::once(&change.new).chain(&change.old) {
            if !seen.insert(*blob) {
                continue;
            }
            let label = || format!("{} (staged)", change.path);
            if let Some(hits) = scan_blob(
                &staged.repo,
                scanner,
                &damage,
                &mut worker,
                *blob,
                &label,
                max_blob_size,
                &progress,
            ) {
                results.insert(*blob, hits);
            }
        }
    }
    attribute(scanner, &staged.changes, &[], &results);
    Ok(damage.count())
}

#[cfg(test)]
mod tests;
