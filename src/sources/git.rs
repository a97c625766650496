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
use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use git2::{Delta, DiffOptions, FileMode, ObjectType, Oid, Repository, RepositoryOpenFlags, Sort};

use super::tree::ChangedPath;
use crate::finding::CommitInfo;
use crate::scan::SkipReason;
use crate::scanner::{decode_text, BlobHit, Scanner, Worker};

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

/// Drops the changes from `from` on whose path is excluded.
fn drop_excluded(
    changes: &mut Vec<Change>,
    from: usize,
    exclude: Option<&ignore::gitignore::Gitignore>,
) {
    if let Some(g) = exclude {
        let mut i = from;
        while i < changes.len() {
            if crate::config::ignored(g, Path::new(&changes[i].path), false) {
                changes.swap_remove(i);
            } else {
                i += 1;
            }
        }
    }
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

const ZERO_SHA: &str = "0000000000000000000000000000000000000000";

/// The path reports give a secret found in a commit's own text (author,
/// committer, message): its lines are those of `git cat-file commit <sha>`.
pub const COMMIT_MESSAGE_PATH: &str = "(commit message)";

/// The remote a partial clone fetches missing objects from, if any.
fn promisor_remote(repo: &Repository) -> Option<String> {
    let config = repo.config().ok()?;
    let mut entries = config.entries(None).ok()?;
    let mut promisor = None;
    while let Some(Ok(entry)) = entries.next() {
        let (Some(name), Some(value)) = (entry.name(), entry.value()) else {
            continue;
        };
        if name.eq_ignore_ascii_case("extensions.partialclone") {
            return Some(value.to_string());
        }
        let remote = name
            .get(..7)
            .filter(|p| p.eq_ignore_ascii_case("remote."))
            .and_then(|_| name.get(7..name.len().checked_sub(9)?))
            .filter(|_| {
                name.get(name.len() - 9..)
                    .is_some_and(|s| s.eq_ignore_ascii_case(".promisor"))
            });
        if let Some(remote) = remote {
            if value.eq_ignore_ascii_case("true") && promisor.is_none() {
                promisor = Some(remote.to_string());
            }
        }
    }
    promisor
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

/// One path a commit (or the index) changed: the new blob and the blobs it
/// replaced (one per parent; for an added path, the blobs deleted in the same
/// change, so a rename does not re-report the secrets it carried).
struct Change {
    commit: Option<u32>,
    path: String,
    new: Oid,
    old: Vec<Oid>,
}

fn is_blob(mode: FileMode) -> bool {
    matches!(mode, FileMode::Blob | FileMode::BlobExecutable)
}

fn path_of(delta: &git2::DiffDelta<'_>) -> String {
    let file = delta.new_file();
    let bytes = file
        .path_bytes()
        .or_else(|| delta.old_file().path_bytes())
        .unwrap_or_default();
    String::from_utf8_lossy(bytes).into_owned()
}

/// Changes between `old` (None = empty tree) and `new` in one diff.
fn diff_changes(diff: &git2::Diff<'_>) -> (Vec<ChangedPath>, Vec<Oid>) {
    let mut changed = Vec::new();
    let mut deleted = Vec::new();
    for delta in diff.deltas() {
        match delta.status() {
            Delta::Added | Delta::Modified | Delta::Typechange | Delta::Renamed | Delta::Copied => {
                if !is_blob(delta.new_file().mode()) {
                    continue; // submodules (commits) and symlinks
                }
                let old = delta.old_file();
                let old_id = (is_blob(old.mode()) && !old.id().is_zero()).then(|| old.id());
                changed.push((path_of(&delta), delta.new_file().id(), old_id));
            }
            Delta::Deleted if is_blob(delta.old_file().mode()) => {
                deleted.push(delta.old_file().id())
            }
            _ => {}
        }
    }
    (changed, deleted)
}

fn diff_options() -> DiffOptions {
    let mut opts = DiffOptions::new();
    opts.skip_binary_check(true)
        .ignore_submodules(true)
        .include_typechange(true);
    opts
}

/// The changes one commit made, relative to all its parents.
fn commit_changes(
    repo: &Repository,
    commit: &git2::Commit<'_>,
    index: u32,
    out: &mut Vec<Change>,
    damage: &Damage<'_>,
) -> Result<()> {
    let odb = repo.odb()?;
    let tree = commit.tree_id();
    // A parent that cannot be read (reported here) is left out: the commit
    // is compared with the others, or with nothing, so what it holds is
    // still scanned rather than lost with the parent.
    let parents: Vec<Oid> = commit
        .parent_ids()
        .filter_map(|p| match repo.find_commit(p) {
            Ok(c) => Some(c.tree_id()),
            Err(e) => {
                damage.report(
                    format!("commit {p}"),
                    format!("cannot read (parent of {}): {}", commit.id(), e.message()),
                );
                None
            }
        })
        .collect();
    // Likewise a parent whose tree cannot be read: compare with nothing.
    let compare = |parent: Oid| {
        super::tree::changes(&odb, Some(parent), tree).map_err(|e| {
            damage.report(
                format!("tree {parent}"),
                format!("cannot compare {} with its parent: {e}", commit.id()),
            )
        })
    };
    if parents.len() <= 1 {
        let found = match parents.first().map(|p| compare(*p)) {
            Some(Ok(found)) => found,
            None | Some(Err(())) => return commit_as_root(&odb, tree, index, out),
        };
        push_changes(found, index, out);
        return Ok(());
    }
    // A merge introduces only what differs from every parent (conflict
    // resolutions, evil merges); the rest came with the merged commits.
    let mut per_path: HashMap<String, (Oid, Vec<Oid>, usize)> = HashMap::new();
    let mut compared = 0;
    for parent in &parents {
        let Ok((changed, _)) = compare(*parent) else {
            continue;
        };
        compared += 1;
        for (path, new, old) in changed {
            let entry = per_path.entry(path).or_insert((new, Vec::new(), 0));
            entry.1.extend(old);
            entry.2 += 1;
        }
    }
    if compared == 0 {
        return commit_as_root(&odb, tree, index, out);
    }
    for (path, (new, old, seen)) in per_path {
        if seen == compared {
            out.push(Change {
                commit: Some(index),
                path,
                new,
                old,
            });
        }
    }
    Ok(())
}

/// A ref whose target, after peeling annotated tags, is a blob or a tree
/// rather than a commit (`git tag v1 <blob>`): its content is scanned too.
struct TaggedObject {
    name: String,
    id: Oid,
    kind: ObjectType,
}

/// What resolving the refs of an all-refs scan found besides commits.
#[derive(Default)]
struct RefTargets {
    /// Blobs and trees that refs point at directly.
    objects: Vec<TaggedObject>,
    /// Annotated tag objects met on the way (their messages are scanned).
    tags: Vec<(String, Oid)>,
    /// The commits pushed onto the walk and hidden from it, kept to walk
    /// again around unreadable commits should libgit2's walk fail.
    tips: Vec<Oid>,
    hidden: Vec<Oid>,
}

/// Follows `oid` (the target of ref `name`) through annotated tags and
/// pushes the commit it ends at onto `walk`; records blobs, trees and tag
/// objects in `targets`. A target that cannot be read is reported.
fn follow_ref(
    repo: &Repository,
    walk: &mut git2::Revwalk<'_>,
    name: &str,
    mut oid: Oid,
    targets: &mut RefTargets,
    damage: &Damage<'_>,
) {
    // Tags cannot form a cycle (they are addressed by hash); the bound is
    // only there so a corrupt store cannot keep this loop going.
    for _ in 0..64 {
        let kind = match repo.odb().and_then(|odb| odb.read_header(oid)) {
            Ok((_, kind)) => kind,
            Err(e) => {
                return damage.report(
                    format!("ref {name}"),
                    format!("points at {oid}, which cannot be read: {}", e.message()),
                )
            }
        };
        match kind {
            ObjectType::Commit => {
                targets.tips.push(oid);
                if let Err(e) = walk.push(oid) {
                    damage.report(
                        format!("ref {name}"),
                        format!("cannot read commit {oid}: {}", e.message()),
                    );
                }
                return;
            }
            ObjectType::Tag => match repo.find_tag(oid) {
                Ok(tag) => {
                    targets.tags.push((name.to_string(), oid));
                    oid = tag.target_id();
                }
                Err(e) => {
                    return damage.report(
                        format!("ref {name}"),
                        format!("cannot read tag {oid}: {}", e.message()),
                    )
                }
            },
            ObjectType::Blob | ObjectType::Tree => {
                return targets.objects.push(TaggedObject {
                    name: name.to_string(),
                    id: oid,
                    kind,
                })
            }
            _ => return,
        }
    }
}

/// The changes of a commit compared with nothing: every blob it has.
fn commit_as_root(odb: &git2::Odb<'_>, tree: Oid, index: u32, out: &mut Vec<Change>) -> Result<()> {
    push_changes(super::tree::changes(odb, None, tree)?, index, out);
    Ok(())
}

/// Records a one-parent diff's changes; an added path's old blobs are the
/// ones deleted in the same diff (renames do not re-report a secret).
fn push_changes(
    (changed, deleted): (Vec<ChangedPath>, Vec<Oid>),
    index: u32,
    out: &mut Vec<Change>,
) {
    for (path, new, old) in changed {
        let old = match old {
            Some(o) => vec![o],
            None => deleted.clone(),
        };
        out.push(Change {
            commit: Some(index),
            path,
            new,
            old,
        });
    }
}

fn push_revisions(
    repo: &Repository,
    walk: &mut git2::Revwalk<'_>,
    revisions: &Revisions,
    damage: &Damage<'_>,
) -> Result<RefTargets> {
    let mut targets = RefTargets::default();
    match revisions {
        Revisions::AllRefs => {
            for reference in repo.references()? {
                let reference = match reference {
                    Ok(r) => r,
                    Err(e) => {
                        damage.report("refs".into(), format!("cannot read a ref: {}", e.message()));
                        continue;
                    }
                };
                let name = String::from_utf8_lossy(reference.name_bytes()).into_owned();
                match reference.resolve().map(|r| r.target()) {
                    Ok(Some(oid)) => follow_ref(repo, walk, &name, oid, &mut targets, damage),
                    Ok(None) => {}
                    Err(e) => damage.report(
                        format!("ref {name}"),
                        format!("cannot be resolved: {}", e.message()),
                    ),
                }
            }
            match repo.head() {
                Ok(head) => {
                    if let Some(oid) = head.target() {
                        follow_ref(repo, walk, "HEAD", oid, &mut targets, damage);
                    }
                }
                Err(e)
                    if e.code() == git2::ErrorCode::UnbornBranch
                        || e.code() == git2::ErrorCode::NotFound => {}
                Err(e) => damage.report(
                    "HEAD".into(),
                    format!("cannot be resolved: {}", e.message()),
                ),
            }
        }
        Revisions::Branch(name) => {
            let commit = repo
                .revparse_single(name)
                .and_then(|o| o.peel_to_commit())
                .map_err(|e| anyhow::anyhow!("no branch or revision `{name}`: {}", e.message()))?;
            targets.tips.push(commit.id());
            walk.push(commit.id())?;
        }
        Revisions::Range(range) => {
            let Some((base, head)) = range.split_once("..") else {
                bail!("`{range}` is not a range: use BASE..HEAD");
            };
            let resolve = |rev: &str| {
                repo.revparse_single(rev)
                    .and_then(|o| o.peel_to_commit())
                    .map(|c| c.id())
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "cannot resolve `{rev}` in range `{range}`: {}",
                            e.message()
                        )
                    })
            };
            if head.starts_with('.') {
                bail!("`{range}`: symmetric ranges (A...B) are not supported; use BASE..HEAD");
            }
            // As in git, an omitted side means HEAD.
            fn side(rev: &str) -> &str {
                if rev.is_empty() {
                    "HEAD"
                } else {
                    rev
                }
            }
            let (head, base) = (resolve(side(head))?, resolve(side(base))?);
            targets.tips.push(head);
            targets.hidden.push(base);
            walk.push(head)?;
            walk.hide(base)?;
        }
        Revisions::Push(updates) => {
            for (local, remote) in updates {
                if local == ZERO_SHA {
                    continue; // a deletion pushes no commits
                }
                let local_id =
                    Oid::from_str(local).with_context(|| format!("bad sha `{local}` from git"))?;
                targets.tips.push(local_id);
                walk.push(local_id)?;
                let known_remote = (remote != ZERO_SHA)
                    .then(|| Oid::from_str(remote).ok())
                    .flatten()
                    .filter(|id| repo.find_commit(*id).is_ok());
                match known_remote {
                    Some(id) => {
                        targets.hidden.push(id);
                        walk.hide(id)?
                    }
                    // A new branch: what no remote-tracking branch has yet.
                    None => {
                        for r in repo.references_glob("refs/remotes/*")?.flatten() {
                            if let Ok(c) = r.peel_to_commit() {
                                targets.hidden.push(c.id());
                            }
                        }
                        walk.hide_glob("refs/remotes/*")?
                    }
                }
            }
        }
    }
    Ok(targets)
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

fn commit_info(commit: &git2::Commit<'_>) -> CommitInfo {
    let author = commit.author();
    CommitInfo {
        id: commit.id().to_string(),
        author_name: String::from_utf8_lossy(author.name_bytes()).into_owned(),
        author_email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
        date: crate::time::rfc3339(author.when().seconds(), author.when().offset_minutes()),
        summary: commit
            .summary_bytes()
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .unwrap_or_default(),
    }
}

/// The commits reachable from `tips` and not from `hidden`, parents first
/// where it can tell, found without libgit2's walk: every commit that cannot
/// be read is reported and stepped over (its parents are unknown, so what
/// only it leads to is not scanned; the report says the scan is incomplete).
fn walk_around_damage(
    repo: &Repository,
    tips: &[Oid],
    hidden: &[Oid],
    damage: &Damage<'_>,
) -> Vec<Oid> {
    let reachable = |starts: &[Oid], stop: &HashSet<Oid>, report: bool| -> Vec<Oid> {
        let mut seen: HashSet<Oid> = HashSet::new();
        let mut order = Vec::new();
        let mut stack: Vec<Oid> = starts.to_vec();
        while let Some(oid) = stack.pop() {
            if stop.contains(&oid) || !seen.insert(oid) {
                continue;
            }
            match repo.find_commit(oid) {
                Ok(commit) => {
                    order.push(oid);
                    stack.extend(commit.parent_ids());
                }
                Err(e) if report => damage.report(
                    format!("commit {oid}"),
                    format!("cannot read: {}", e.message()),
                ),
                Err(_) => {}
            }
        }
        order
    };
    let hidden: HashSet<Oid> = reachable(hidden, &HashSet::new(), false)
        .into_iter()
        .collect();
    let mut order = reachable(tips, &hidden, true);
    order.reverse();
    order
}

/// The text of a commit object as `git cat-file commit` prints it: the
/// headers (tree, parents, author, committer, ...), a blank line, the
/// message. Secrets in it are findings like any other.
fn commit_text(commit: &git2::Commit<'_>) -> Vec<u8> {
    let header = commit.raw_header_bytes();
    let message = commit.message_raw_bytes();
    let mut text = Vec::with_capacity(header.len() + message.len() + 2);
    text.extend_from_slice(header);
    if !header.ends_with(b"\n") {
        text.push(b'\n');
    }
    text.push(b'\n');
    text.extend_from_slice(message);
    text
}

/// The blobs of a tree a ref points at, as changes with no commit, under
/// `ref:path` labels.
fn tagged_tree_changes(
    repo: &Repository,
    name: &str,
    tree: Oid,
    damage: &Damage<'_>,
    out: &mut Vec<Change>,
) {
    let tree = match repo.find_tree(tree) {
        Ok(t) => t,
        Err(e) => {
            return damage.report(
                format!("ref {name}"),
                format!("cannot read tree {tree}: {}", e.message()),
            )
        }
    };
    let walked = tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        if entry.kind() == Some(ObjectType::Blob)
            && matches!(entry.filemode(), 0o100644 | 0o100755 | 0o100664)
        {
            let file = String::from_utf8_lossy(entry.name_bytes());
            out.push(Change {
                commit: None,
                path: format!("{name}:{dir}{file}"),
                new: entry.id(),
                old: Vec::new(),
            });
        }
        git2::TreeWalkResult::Ok
    });
    if let Err(e) = walked {
        damage.report(
            format!("ref {name}"),
            format!("cannot read tree {}: {}", tree.id(), e.message()),
        );
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
    let mut commits: Vec<CommitInfo> = Vec::new();
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
                        change.path.clone()
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
                    commit: None,
                    path: tagged.name.clone(),
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
                        tag_hits.push((format!("{name} (tag message)"), hits));
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
            commits.push(commit_info(&commit));
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
        scanner.record(hits, COMMIT_MESSAGE_PATH, Some(&commits[*index as usize]));
    }
    for (label, hits) in &tag_hits {
        scanner.record(hits, label, None);
    }
    stats.unreadable = damage.count();
    stats.elapsed = started.elapsed();
    Ok(stats)
}

/// What the index stages relative to HEAD, ready to scan.
pub struct StagedChanges {
    repo: Repository,
    changes: Vec<Change>,
}

impl StagedChanges {
    /// Drops the changes whose path is excluded.
    pub fn retain_paths(&mut self, exclude: Option<&ignore::gitignore::Gitignore>) {
        drop_excluded(&mut self.changes, 0, exclude);
    }
}

/// Finds what the index stages (reads no blob).
pub fn staged_changes(path: &Path) -> Result<StagedChanges> {
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
    // `git commit -a` and `git commit <path>` build a temporary index and
    // tell hooks where it is; a plain commit uses the repository's own.
    let index_file = match std::env::var_os("GIT_INDEX_FILE") {
        Some(f) if !f.is_empty() => std::path::PathBuf::from(f),
        _ => repo.path().join("index"),
    };
    // The cache-tree fast path reads a handful of objects; libgit2's diff
    // compares every index entry and is the fallback for unusual indexes.
    let (changed, deleted) = match super::index::staged_changes(&repo, &index_file, head.as_ref()) {
        Some(found) => found,
        None => {
            let index = git2::Index::open(&index_file)
                .with_context(|| format!("cannot read the index {}", index_file.display()))?;
            let diff = repo
                .diff_tree_to_index(head.as_ref(), Some(&index), Some(&mut diff_options()))
                .context("cannot compare the index with HEAD")?;
            diff_changes(&diff)
        }
    };
    let changes: Vec<Change> = changed
        .into_iter()
        .map(|(path, new, old)| Change {
            commit: None,
            path,
            new,
            old: old.map(|o| vec![o]).unwrap_or_else(|| deleted.clone()),
        })
        .collect();
    drop(head);
    Ok(StagedChanges { repo, changes })
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
    let Some(text) = decode_text(data) else {
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
    commits: &[CommitInfo],
    results: &HashMap<Oid, Vec<BlobHit>>,
) {
    for change in changes {
        let Some(hits) = results.get(&change.new) else {
            continue;
        };
        let before: HashSet<&str> = change
            .old
            .iter()
            .filter_map(|o| results.get(o))
            .flatten()
            .map(|h| h.fingerprint.as_str())
            .collect();
        let introduced: Vec<BlobHit> = hits
            .iter()
            .filter(|h| !before.contains(h.fingerprint.as_str()))
            .cloned()
            .collect();
        let commit = change.commit.map(|c| &commits[c as usize]);
        scanner.record(&introduced, &change.path, commit);
    }
}

/// A progress line on standard error: blobs done and MB/s.
struct Progress {
    state: Option<Arc<ProgressState>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct ProgressState {
    done: AtomicU64,
    bytes: AtomicU64,
    total: u64,
    stop: AtomicBool,
}

impl Progress {
    /// `total` is the number of blobs when known up front.
    fn start(enabled: bool, total: Option<usize>) -> Progress {
        if !enabled || !std::io::stderr().is_terminal() {
            return Progress {
                state: None,
                thread: None,
            };
        }
        let state = Arc::new(ProgressState {
            done: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            total: total.map_or(0, |t| t as u64),
            stop: AtomicBool::new(false),
        });
        let s = Arc::clone(&state);
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            while !s.stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                let mb = s.bytes.load(Ordering::Relaxed) as f64 / 1e6;
                let secs = started.elapsed().as_secs_f64().max(1e-3);
                let done = s.done.load(Ordering::Relaxed);
                let of = if s.total > 0 {
                    format!("/{}", s.total)
                } else {
                    String::new()
                };
                eprint!(
                    "\r\x1b[2Ktill-scan: {done}{of} blobs, {mb:.0} MB, {:.0} MB/s",
                    mb / secs
                );
            }
            eprint!("\r\x1b[2K");
        });
        Progress {
            state: Some(state),
            thread: Some(thread),
        }
    }

    fn add(&self, bytes: u64) {
        if let Some(s) = &self.state {
            s.done.fetch_add(1, Ordering::Relaxed);
            s.bytes.fetch_add(bytes, Ordering::Relaxed);
        }
    }

    fn finish(mut self) {
        if let Some(s) = &self.state {
            s.stop.store(true, Ordering::Relaxed);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// An object id as git prints it: 40 (SHA-1) or 64 (SHA-256) hex digits.
fn is_sha(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The refs a `pre-push` hook receives on standard input:
/// `<local ref> <local sha> <remote ref> <remote sha>` per line.
pub fn parse_push_updates(input: &str) -> Result<Vec<(String, String)>> {
    input
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            match fields.as_slice() {
                [_, local, _, remote] if is_sha(local) && is_sha(remote) => {
                    Ok((local.to_string(), remote.to_string()))
                }
                _ => bail!("unexpected pre-push input line `{line}` (want `<local ref> <local sha> <remote ref> <remote sha>`, shas of 40 or 64 hex digits)"),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_updates_parse() {
        let input = format!(
            "refs/heads/main {} refs/heads/main {}\n\n",
            "a".repeat(40),
            ZERO_SHA
        );
        let updates = parse_push_updates(&input).unwrap();
        assert_eq!(updates, vec![("a".repeat(40), ZERO_SHA.to_string())]);
        assert!(parse_push_updates("garbage").is_err());
        // Four fields are not enough: the shas must be shas.
        assert!(parse_push_updates("a b c d").is_err());
        let bad = format!(
            "refs/heads/main {} refs/heads/main {}",
            "g".repeat(40),
            ZERO_SHA
        );
        assert!(parse_push_updates(&bad).is_err());
    }
}
