//! Git sources: the history reachable from refs (or a branch, a range, the
//! commits of a push) and the staged changes of the index.
//!
//! Commits and their tree diffs are enumerated once, on one thread, to learn
//! which blob each commit put at each path and what was there before. Every
//! unique blob is then read and scanned exactly once, in parallel (one
//! `git2::Repository` per worker: it cannot be shared). A secret is
//! attributed to a commit at a path when the commit's blob there has it and
//! the blob it replaced (in every parent) did not, so a key added in one
//! commit and kept by later edits is found once, at the commit that added it,
//! and lines a commit only deleted are never findings.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use git2::{ObjectType, Oid, Repository, RepositoryOpenFlags, Sort};

use crate::archive;
use crate::finding::{CommitInfo, Provenance};
use crate::scan::SkipReason;
use crate::scanner::{decode_text, BlobHit, Scanner, Worker};

mod commits;
mod progress;
mod refs;
mod staged;

use commits::{
    commit_changes, commit_info, commit_text, drop_excluded, tagged_tree_changes, Change, Origin,
};
use progress::Progress;
pub use refs::parse_push_updates;
use refs::{promisor_remote, push_revisions, walk_around_damage};
pub use staged::{scan_staged_changes, staged_changes, staged_changes_in, StagedChanges};

/// Which commits a history scan covers.
#[derive(Debug, Clone)]
pub enum Revisions {
    /// Everything reachable from any ref (and HEAD).
    AllRefs,
    /// Everything reachable from one branch or revision.
    Branch(String),
    /// What `BASE..HEAD` introduced.
    Range(String),
    /// The commits a push sends: each update is `(local sha, remote sha)`;
    /// a zero remote sha is a new branch (everything not on a remote yet).
    Push(Vec<(String, String)>),
}
pub struct HistoryOptions {
    pub revisions: Revisions,
    /// Only commits at or after this time (seconds since the epoch).
    pub since: Option<i64>,
    pub threads: usize,
    pub max_blob_size: u64,
    /// Show a progress line on standard error.
    pub progress: bool,
    /// Repository-relative paths not to scan (config `exclude`, `.till-scanignore`).
    pub exclude: Option<ignore::gitignore::Gitignore>,
}
/// What a history scan covered, for notes and benchmarks.
#[derive(Debug, Default, Clone)]
pub struct HistoryStats {
    pub commits: usize,
    pub blobs: usize,
    pub shallow: bool,
    /// Objects (commits, trees, blobs, ref targets) that could not be read:
    /// missing or corrupt. Each was reported as an error; a scan with any is
    /// incomplete.
    pub unreadable: usize,
    /// `Some(remote)` when the repository is a partial clone whose missing
    /// objects that remote could supply (`remote.<name>.promisor`).
    pub promisor: Option<String>,
    /// Wall time of the walk, the diffs and the blob scans (they overlap).
    pub elapsed: Duration,
}
/// Opens the repository containing `path` (it may be a subdirectory).
pub fn open(path: &Path) -> Result<Repository> {
    // Objects come from git's own store and are addressed by their hash;
    // re-hashing every object read would double the cost of reading.
    git2::opts::strict_hash_verification(false);
    Repository::open_ext(
        path,
        RepositoryOpenFlags::empty(),
        std::iter::empty::<&std::ffi::OsStr>(),
    )
    .map_err(|e| {
        anyhow::anyhow!(
            "{} is not in a git repository: {}",
            path.display(),
            e.message()
        )
    })
}
/// Counts and reports the objects a scan could not read: the scan goes on,
/// but its result is incomplete and the command says so in its exit code.
struct Damage<'a> {
    scanner: &'a Scanner,
    count: AtomicUsize,
    /// What has been reported, so an object met twice is counted once.
    reported: Mutex<HashSet<String>>,
}
impl<'a> Damage<'a> {
    fn new(scanner: &'a Scanner) -> Damage<'a> {
        Damage {
            scanner,
            count: AtomicUsize::new(0),
            reported: Mutex::new(HashSet::new()),
        }
    }

    fn report(&self, what: String, message: String) {
        if !lock(&self.reported).insert(what.clone()) {
            return;
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.scanner.error(what, message);
    }

    fn count(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }
}
/// Scans the history of the repository at `path`.
pub fn scan_history(scanner: &Scanner, path: &Path, opts: &HistoryOptions) -> Result<HistoryStats> {
    let repo = open(path)?;
    let damage = Damage::new(scanner);
    let mut stats = HistoryStats {
        shallow: repo.is_shallow(),
        promisor: promisor_remote(&repo),
        ..HistoryStats::default()
    };
    let started = Instant::now();
    let mut walk = repo.revwalk()?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)?;
    let targets = push_revisions(&repo, &mut walk, &opts.revisions, &damage)?;
    let mut oids = Vec::new();
    for oid in walk {
        match oid {
            Ok(oid) => oids.push(oid),
            Err(_) => {
                // libgit2's walk stops at the first commit it cannot read:
                // walk again by hand, reporting and stepping over each one.
                oids = walk_around_damage(&repo, &targets.tips, &targets.hidden, &damage);
                break;
            }
        }
    }
    stats.commits = oids.len();
    // A pipeline: this thread walks the commits and diffs their trees (object
    // reads that libgit2 serialises anyway), handing each blob it sees for
    // the first time to workers that read and scan blobs in parallel.
    let git_dir = repo.path().to_path_buf();
    let results: Mutex<HashMap<Oid, Vec<BlobHit>>> = Mutex::new(HashMap::new());
    let progress = Progress::start(opts.progress, None);
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<(Oid, String)>>(256);
    let rx = Mutex::new(rx);
    let mut commits: Vec<Arc<CommitInfo>> = Vec::new();
    let mut changes: Vec<Change> = Vec::new();
    let mut seen: HashSet<Oid> = HashSet::new();
    // Secrets in commit objects' own text (author, message), by commit index.
    let mut message_hits: Vec<(u32, Vec<BlobHit>)> = Vec::new();
    let mut tag_hits: Vec<(String, Vec<BlobHit>)> = Vec::new();
    std::thread::scope(|scope| -> Result<()> {
        for _ in 0..opts.threads.max(1) {
            scope.spawn(|| {
                let repo = match Repository::open(&git_dir) {
                    Ok(r) => r,
                    Err(e) => {
                        return damage.report(
                            git_dir.display().to_string(),
                            format!("cannot open: {}", e.message()),
                        )
                    }
                };
                let mut worker = Worker::default();
                while let Ok(batch) = {
                    let r = lock(&rx);
                    r.recv()
                } {
                    for (oid, label) in batch {
                        if let Some(hits) = scan_blob(
                            &repo,
                            scanner,
                            &damage,
                            &mut worker,
                            oid,
                            &|| label.clone(),
                            opts.max_blob_size,
                            &progress,
                        ) {
                            lock(&results).insert(oid, hits);
                        }
                    }
                }
            });
        }
        let mut batch = Vec::new();
        let mut queue = |change: &Change, batch: &mut Vec<(Oid, String)>, short: &str| {
            for blob in std::iter::once(&change.new).chain(&change.old) {
                if seen.insert(*blob) {
                    let label = if short.is_empty() {
                        change.label()
                    } else {
                        format!("{} (blob {blob} in commit {short})", change.path)
                    };
                    batch.push((*blob, label));
                }
            }
        };
        // Blobs and trees that refs point at directly.
        for tagged in &targets.objects {
            let first = changes.len();
            if tagged.kind == ObjectType::Tree {
                tagged_tree_changes(&repo, &tagged.name, tagged.id, &damage, &mut changes);
            } else {
                changes.push(Change {
                    origin: Origin::Ref(tagged.name.clone()),
                    path: String::new(),
                    new: tagged.id,
                    old: Vec::new(),
                });
            }
            drop_excluded(&mut changes, first, opts.exclude.as_ref());
            for change in &changes[first..] {
                queue(change, &mut batch, "");
            }
        }
        let mut meta_worker = Worker::default();
        for (name, oid) in &targets.tags {
            let odb = repo.odb()?;
            let read = odb.read(*oid);
            match read {
                Ok(tag) => {
                    let hits = scanner.find_metadata(&mut meta_worker, tag.data());
                    if !hits.is_empty() {
                        tag_hits.push((name.clone(), hits));
                    }
                }
                Err(e) => damage.report(
                    format!("ref {name}"),
                    format!("cannot read tag {oid}: {}", e.message()),
                ),
            };
        }
        for oid in &oids {
            let commit = match repo.find_commit(*oid) {
                Ok(c) => c,
                Err(e) => {
                    damage.report(
                        format!("commit {oid}"),
                        format!("cannot read: {}", e.message()),
                    );
                    continue;
                }
            };
            if opts
                .since
                .is_some_and(|since| commit.time().seconds() < since)
            {
                continue;
            }
            let index = commits.len() as u32;
            let first = changes.len();
            if let Err(e) = commit_changes(&repo, &commit, index, &mut changes, &damage) {
                damage.report(format!("commit {oid}"), format!("cannot diff: {e}"));
                changes.truncate(first);
                continue;
            }
            drop_excluded(&mut changes, first, opts.exclude.as_ref());
            let short = &oid.to_string()[..12];
            for change in &changes[first..] {
                queue(change, &mut batch, short);
            }
            if batch.len() >= 64 {
                // A send fails only when every worker is gone (they could not
                // open the repository): each reported that already.
                let _ = tx.send(std::mem::take(&mut batch));
            }
            let hits = scanner.find_metadata(&mut meta_worker, &commit_text(&commit));
            if !hits.is_empty() {
                message_hits.push((index, hits));
            }
            commits.push(Arc::new(commit_info(&commit)));
        }
        let _ = tx.send(batch);
        drop(tx);
        Ok(())
    })?;
    progress.finish();
    stats.blobs = seen.len();
    attribute(
        scanner,
        &changes,
        &commits,
        &results.into_inner().unwrap_or_else(|e| e.into_inner()),
    );
    for (index, hits) in &message_hits {
        let commit = commits[*index as usize].clone();
        scanner.record(hits, &Provenance::CommitMessage { commit });
    }
    for (reference, hits) in tag_hits {
        scanner.record(&hits, &Provenance::TagMessage { reference });
    }
    stats.unreadable = damage.count();
    stats.elapsed = started.elapsed();
    Ok(stats)
}
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
/// Reads one blob and scans it; `None` when it has no secrets or could not
/// be read (reported as a note or warning named by `label`).
#[allow(clippy::too_many_arguments)]
fn scan_blob(
    repo: &Repository,
    scanner: &Scanner,
    damage: &Damage<'_>,
    worker: &mut Worker,
    oid: Oid,
    label: &dyn Fn() -> String,
    max_blob_size: u64,
    progress: &Progress,
) -> Option<Vec<BlobHit>> {
    let size = match repo.odb().and_then(|odb| odb.read_header(oid)) {
        Ok((size, _)) => size as u64,
        Err(e) => {
            damage.report(
                label(),
                format!("missing or corrupt object: {}", e.message()),
            );
            return None;
        }
    };
    if size > max_blob_size {
        scanner.skip(
            label(),
            SkipReason::TooLarge {
                size,
                limit: max_blob_size,
            },
        );
        return None;
    }
    let blob = match repo.find_blob(oid) {
        Ok(b) => b,
        Err(e) => {
            damage.report(
                label(),
                format!("missing or corrupt object: {}", e.message()),
            );
            return None;
        }
    };
    let data = blob.content();
    progress.add(data.len() as u64);
    // UTF-16 blobs are transcoded, as files are; the rest with NULs is binary.
    // A committed archive is opened from the blob's bytes.
    let Some(text) = decode_text(data) else {
        if let Some(kind) = archive::sniff(scanner, data) {
            let hits = archive::scan_bytes(scanner, worker, data, kind, &label());
            return (!hits.is_empty()).then_some(hits);
        }
        scanner.skip(label(), SkipReason::Binary);
        return None;
    };
    let hits = scanner.find(worker, &text);
    (!hits.is_empty()).then_some(hits)
}
/// Records, for each change, the secrets its new blob has and the blobs it
/// replaced did not.
fn attribute(
    scanner: &Scanner,
    changes: &[Change],
    commits: &[Arc<CommitInfo>],
    results: &HashMap<Oid, Vec<BlobHit>>,
) {
    for change in changes {
        let Some(hits) = results.get(&change.new) else {
            continue;
        };
        // Multi-part hits count their parts too: a key ID and secret
        // moved apart (or together) by an edit are not new secrets.
        let before: HashSet<String> = change
            .old
            .iter()
            .filter_map(|o| results.get(o))
            .flatten()
            .flat_map(|h| scanner.fingerprints_of(h))
            .collect();
        let introduced: Vec<BlobHit> = hits
            .iter()
            .filter(|h| scanner.is_new(h, &before))
            .cloned()
            .collect();
        let path = change.path.clone();
        let provenance = match &change.origin {
            Origin::Commit(c) => Provenance::Commit {
                commit: commits[*c as usize].clone(),
                path,
            },
            Origin::Ref(reference) => Provenance::RefTarget {
                reference: reference.clone(),
                path: (!path.is_empty()).then_some(path),
            },
            Origin::Staged => Provenance::Staged { path },
        };
        scanner.record(&introduced, &provenance);
    }
}
