//! What each commit changed: the blob it put at each path and the blobs it
//! replaced there, the commit's own text, and the blobs of a tree a ref
//! points at.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Result;
use git2::{Delta, DiffOptions, FileMode, ObjectType, Oid, Repository};

use super::super::tree::ChangedPath;
use super::Damage;
use crate::finding::CommitInfo;

/// Drops the changes from `from` on whose path is excluded.
pub(super) fn drop_excluded(
    changes: &mut Vec<Change>,
    from: usize,
    exclude: Option<&ignore::gitignore::Gitignore>,
) {
    if let Some(g) = exclude {
        let mut i = from;
        while i < changes.len() {
            let path = &changes[i].path;
            if !path.is_empty() && crate::suppress::ignored(g, Path::new(path), false) {
                changes.swap_remove(i);
            } else {
                i += 1;
            }
        }
    }
}
/// One path a commit (or the index) changed: the new blob and the blobs it
/// replaced (one per parent; for an added path, the blobs deleted in the same
/// change, so a rename does not re-report the secrets it carried).
pub(super) struct Change {
    pub(super) origin: Origin,
    /// The path in the commit's (or ref's) tree; empty for a blob a ref
    /// names directly.
    pub(super) path: String,
    pub(super) new: Oid,
    pub(super) old: Vec<Oid>,
}
/// What a change belongs to.
#[derive(Clone)]
pub(super) enum Origin {
    /// The commit of this index in the scan's list of commits.
    Commit(u32),
    /// A ref that points at a blob or a tree, by name.
    Ref(String),
    /// Git's index: staged for the next commit.
    Staged,
}
impl Change {
    /// How notes about the blob name it: the path, or `ref:path` for an
    /// object a ref points at.
    pub(super) fn label(&self) -> String {
        match &self.origin {
            Origin::Ref(name) if self.path.is_empty() => name.clone(),
            Origin::Ref(name) => format!("{name}:{}", self.path),
            Origin::Commit(_) | Origin::Staged => self.path.clone(),
        }
    }
}
pub(super) fn is_blob(mode: FileMode) -> bool {
    crate::sources::is_blob_mode(u32::from(mode))
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
pub(super) fn diff_changes(diff: &git2::Diff<'_>) -> (Vec<ChangedPath>, Vec<Oid>) {
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
pub(super) fn diff_options() -> DiffOptions {
    let mut opts = DiffOptions::new();
    opts.skip_binary_check(true)
        .ignore_submodules(true)
        .include_typechange(true);
    opts
}
/// The changes one commit made, relative to all its parents.
pub(super) fn commit_changes(
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
        super::super::tree::changes(&odb, Some(parent), tree).map_err(|e| {
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
                origin: Origin::Commit(index),
                path,
                new,
                old,
            });
        }
    }
    Ok(())
}
/// The changes of a commit compared with nothing: every blob it has.
fn commit_as_root(odb: &git2::Odb<'_>, tree: Oid, index: u32, out: &mut Vec<Change>) -> Result<()> {
    push_changes(super::super::tree::changes(odb, None, tree)?, index, out);
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
            origin: Origin::Commit(index),
            path,
            new,
            old,
        });
    }
}
pub(super) fn commit_info(commit: &git2::Commit<'_>) -> CommitInfo {
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
/// The text of a commit object as `git cat-file commit` prints it: the
/// headers (tree, parents, author, committer, ...), a blank line, the
/// message. Secrets in it are findings like any other.
pub(super) fn commit_text(commit: &git2::Commit<'_>) -> Vec<u8> {
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
pub(super) fn tagged_tree_changes(
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
            && crate::sources::is_blob_mode(entry.filemode() as u32)
        {
            let file = String::from_utf8_lossy(entry.name_bytes());
            out.push(Change {
                origin: Origin::Ref(name.to_string()),
                path: format!("{dir}{file}"),
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
