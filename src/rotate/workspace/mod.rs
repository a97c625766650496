//! The local git side of a rotation: which files are tracked, whether the
//! tree is clean, the rewrite of the work tree, the commit on a new branch,
//! the push, and the exact undo of all of it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use git2::{BranchType, Oid, Repository, Status, StatusOptions};
use rayon::prelude::*;

use super::rewrite::Replacer;

mod push;

/// A repository with a work tree.
pub struct Workspace {
    pub repo: Repository,
    pub workdir: PathBuf,
}

/// A work-tree file whose bytes change.
#[derive(Debug)]
pub struct FileRewrite {
    /// Relative to the work tree, `/`-separated.
    pub path: String,
    pub before: Vec<u8>,
    pub after: Vec<u8>,
}

enum HeadState {
    Branch(String),
    Detached(Oid),
}

impl Workspace {
    pub fn open(path: &Path) -> Result<Workspace> {
        let repo = crate::sources::git::open(path)?;
        let workdir = repo
            .workdir()
            .ok_or_else(|| {
                anyhow!(
                    "{} is a bare repository: rotation needs a work tree",
                    path.display()
                )
            })?
            .to_path_buf();
        Ok(Workspace { repo, workdir })
    }

    /// Paths of regular files in the index.
    pub fn tracked_files(&self) -> Result<BTreeSet<String>> {
        let index = self.repo.index().context("cannot read the git index")?;
        Ok(index
            .iter()
            .filter(|e| {
                let stage = (e.flags >> 12) & 0x3;
                let kind = e.mode & 0o170000;
                stage == 0 && kind == 0o100000
            })
            .filter_map(|e| String::from_utf8(e.path).ok())
            .collect())
    }

    /// Tracked files with uncommitted changes (staged or not). Untracked and
    /// ignored files do not count: rotation never touches them.
    pub fn dirty_paths(&self) -> Result<Vec<String>> {
        let mut opts = StatusOptions::new();
        opts.include_untracked(false).include_ignored(false);
        let statuses = self
            .repo
            .statuses(Some(&mut opts))
            .context("cannot read the work tree's status")?;
        Ok(statuses
            .iter()
            .filter(|s| !s.status().is_empty() && s.status() != Status::CURRENT)
            .filter_map(|s| s.path().map(str::to_string))
            .collect())
    }

    pub fn check_state(&self) -> Result<()> {
        if self.repo.state() != git2::RepositoryState::Clean {
            bail!(
                "the repository is in the middle of a {:?}; finish or abort it first",
                self.repo.state()
            );
        }
        Ok(())
    }

    pub fn head_commit(&self) -> Result<git2::Commit<'_>> {
        self.repo
            .head()
            .and_then(|h| h.peel_to_commit())
            .map_err(|e| {
                anyhow!(
                    "the repository has no commit to branch from: {}",
                    e.message()
                )
            })
    }

    pub fn local_branch_exists(&self, name: &str) -> bool {
        self.repo.find_branch(name, BranchType::Local).is_ok()
    }

    pub fn remote_url(&self, remote: &str) -> Result<String> {
        let r = self.repo.find_remote(remote).map_err(|_| {
            let names: Vec<String> = self
                .repo
                .remotes()
                .map(|a| a.iter().flatten().map(str::to_string).collect())
                .unwrap_or_default();
            if names.is_empty() {
                anyhow!("the repository has no remote `{remote}` (it has no remotes at all): add one with `git remote add {remote} URL`, or use --no-pr")
            } else {
                anyhow!("the repository has no remote `{remote}` (it has: {}); pass --remote NAME, or use --no-pr", names.join(", "))
            }
        })?;
        r.url()
            .map(str::to_string)
            .ok_or_else(|| anyhow!("remote `{remote}` has no URL git can read"))
    }

    /// The first commit not yet on `remote` that adds one of the secrets:
    /// pushing the rotation branch would publish it.
    pub fn unpublished_commit_with_secret(
        &self,
        remote: &str,
        replacer: &Replacer,
    ) -> Result<Option<String>> {
        let mut walk = self.repo.revwalk()?;
        walk.push_head()?;
        let prefix = format!("refs/remotes/{remote}/");
        for r in self.repo.references()?.flatten() {
            if r.name().is_some_and(|n| n.starts_with(&prefix)) {
                if let Ok(c) = r.peel_to_commit() {
                    walk.hide(c.id())?;
                }
            }
        }
        for oid in walk {
            let commit = self.repo.find_commit(oid?)?;
            let tree = commit.tree()?;
            let parent_tree = commit.parent(0).ok().and_then(|p| p.tree().ok());
            let diff = self
                .repo
                .diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), None)?;
            for delta in diff.deltas() {
                let blob = self.repo.find_blob(delta.new_file().id());
                if blob.is_ok_and(|b| replacer.occurs_in(b.content())) {
                    return Ok(Some(commit.id().to_string()));
                }
            }
        }
        Ok(None)
    }

    /// Reads every tracked file and computes its rewrite, for files that
    /// contain a secret. Binary files are left alone and named in the
    /// second list.
    pub fn plan_rewrites(
        &self,
        tracked: &BTreeSet<String>,
        replacer: &Replacer,
    ) -> (Vec<FileRewrite>, Vec<String>) {
        let workdir = &self.workdir;
        let results: Vec<(Option<FileRewrite>, Option<String>)> = tracked
            .par_iter()
            .map(|path| {
                let full = workdir.join(path);
                let Ok(meta) = std::fs::symlink_metadata(&full) else {
                    return (None, None);
                };
                if !meta.is_file() {
                    return (None, None);
                }
                let Ok(before) = std::fs::read(&full) else {
                    return (None, None);
                };
                match replacer.apply(&before) {
                    Some(_) if is_binary(&before) => (None, Some(path.clone())),
                    Some((after, _)) => (
                        Some(FileRewrite {
                            path: path.clone(),
                            before,
                            after,
                        }),
                        None,
                    ),
                    None => (None, None),
                }
            })
            .collect();
        let mut rewrites = Vec::new();
        let mut binary = Vec::new();
        for (r, b) in results {
            rewrites.extend(r);
            binary.extend(b);
        }
        (rewrites, binary)
    }
}

/// A NUL byte in the first 8 KiB, as the scanners decide.
fn is_binary(data: &[u8]) -> bool {
    memchr::memchr(0, &data[..data.len().min(8192)]).is_some()
}

/// The local changes of one rotation, applied so that every one can be
/// undone: work-tree files, the index, a new branch and HEAD.
pub struct LocalChange<'a> {
    ws: &'a Workspace,
    index_backup: Option<Vec<u8>>,
    head: Option<HeadState>,
    written: Vec<(PathBuf, Vec<u8>)>,
    branch: Option<String>,
}

impl<'a> LocalChange<'a> {
    pub fn new(ws: &'a Workspace) -> LocalChange<'a> {
        LocalChange {
            ws,
            index_backup: None,
            head: None,
            written: Vec::new(),
            branch: None,
        }
    }

    /// Commits HEAD's versions of the files with the secrets replaced, on
    /// new branch `branch` (never including the user's uncommitted edits),
    /// rewrites the work-tree files and the index entries the same way, and
    /// switches HEAD to the branch. Returns the commit id.
    pub fn apply(
        &mut self,
        rewrites: &[FileRewrite],
        replacer: &Replacer,
        branch: &str,
        message: &str,
    ) -> Result<Oid> {
        let repo = &self.ws.repo;
        let head = self.ws.head_commit()?;
        let head_tree = head.tree()?;

        // The commit: HEAD's blobs, rewritten.
        let mut update = git2::build::TreeUpdateBuilder::new();
        let mut committed = 0;
        let mut new_blobs = std::collections::HashMap::new();
        for rw in rewrites {
            let Ok(entry) = head_tree.get_path(Path::new(&rw.path)) else {
                continue;
            };
            let blob = repo.find_blob(entry.id())?;
            if let Some((content, _)) = replacer.apply(blob.content()) {
                let oid = repo.blob(&content)?;
                let mode = match entry.filemode() {
                    0o100755 => git2::FileMode::BlobExecutable,
                    _ => git2::FileMode::Blob,
                };
                update.upsert(&rw.path, oid, mode);
                new_blobs.insert(entry.id(), oid);
                committed += 1;
            }
        }
        if committed == 0 {
            bail!("the secrets occur only in uncommitted changes, not in HEAD: remove them from those files instead (they were never committed)");
        }
        let tree_id = update.create_updated(repo, &head_tree)?;
        let tree = repo.find_tree(tree_id)?;
        let sig = repo
            .signature()
            .or_else(|_| git2::Signature::now("till-scan", "till-scan@users.noreply.github.com"))?;
        let commit_id = repo.commit(None, &sig, &sig, message, &tree, &[&head])?;
        let commit = repo.find_commit(commit_id)?;

        // The branch.
        if self.ws.local_branch_exists(branch) {
            bail!("a local branch {branch} already exists (from an earlier rotation?): delete it with `git branch -D {branch}` or push it");
        }
        repo.branch(branch, &commit, false)
            .with_context(|| format!("cannot create branch {branch}"))?;
        self.branch = Some(branch.to_string());

        // Remember HEAD and the index before touching them.
        let head_ref = repo.find_reference("HEAD")?;
        self.head = Some(match head_ref.symbolic_target() {
            Some(name) => HeadState::Branch(name.to_string()),
            None => HeadState::Detached(head.id()),
        });
        let index_path = repo.path().join("index");
        self.index_backup = std::fs::read(&index_path).ok();

        // The work tree: re-read each file; a file edited since the scan is
        // rewritten from its current bytes, or left alone if the secret is gone.
        for rw in rewrites {
            let full = self.ws.workdir.join(&rw.path);
            let current =
                std::fs::read(&full).with_context(|| format!("cannot re-read {}", rw.path))?;
            let after = if current == rw.before {
                rw.after.clone()
            } else {
                match replacer.apply(&current) {
                    Some((after, _)) => after,
                    None => continue,
                }
            };
            write_preserving_mode(&full, &after)
                .with_context(|| format!("cannot rewrite {}", rw.path))?;
            self.written.push((full, current));
        }

        // The index: entries that matched HEAD now match the new commit;
        // staged edits keep their other changes.
        let mut index = repo.index()?;
        for rw in rewrites {
            let Some(mut entry) = index.get_path(Path::new(&rw.path), 0) else {
                continue;
            };
            let new_id = match new_blobs.get(&entry.id) {
                Some(id) => *id,
                None => {
                    let blob = repo.find_blob(entry.id)?;
                    match replacer.apply(blob.content()) {
                        Some((content, _)) => repo.blob(&content)?,
                        None => continue,
                    }
                }
            };
            let size = repo.find_blob(new_id)?.size();
            entry.id = new_id;
            entry.file_size = size as u32;
            index.add(&entry)?;
        }
        index.write().context("cannot write the git index")?;

        repo.set_head(&format!("refs/heads/{branch}"))
            .with_context(|| format!("cannot switch to branch {branch}"))?;
        Ok(commit_id)
    }

    /// Puts everything back as it was. Returns what could not be undone.
    pub fn rollback(mut self) -> Vec<String> {
        let mut problems = Vec::new();
        let repo = &self.ws.repo;
        match self.head.take() {
            Some(HeadState::Branch(name)) => {
                if let Err(e) = repo.set_head(&name) {
                    problems.push(format!(
                        "cannot switch HEAD back to {name}: {}",
                        e.message()
                    ));
                }
            }
            Some(HeadState::Detached(oid)) => {
                if let Err(e) = repo.set_head_detached(oid) {
                    problems.push(format!("cannot detach HEAD back at {oid}: {}", e.message()));
                }
            }
            None => {}
        }
        if let Some(bytes) = self.index_backup.take() {
            if let Err(e) = std::fs::write(repo.path().join("index"), bytes) {
                problems.push(format!("cannot restore the git index: {e}"));
            }
        }
        for (path, before) in self.written.drain(..).rev() {
            if let Err(e) = write_preserving_mode(&path, &before) {
                problems.push(format!("cannot restore {}: {e}", path.display()));
            }
        }
        if let Some(branch) = self.branch.take() {
            let deleted = repo
                .find_branch(&branch, BranchType::Local)
                .and_then(|mut b| b.delete());
            if let Err(e) = deleted {
                problems.push(format!("cannot delete branch {branch}: {}", e.message()));
            }
        }
        problems
    }
}

/// Replaces a file's bytes through a temporary file in the same directory,
/// keeping its permissions.
fn write_preserving_mode(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let perms = std::fs::metadata(path)?.permissions();
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.till-scan-{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::set_permissions(&tmp, perms)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
