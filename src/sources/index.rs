//! What the index stages relative to HEAD, fast: reads `.git/index` directly
//! and uses git's cache-tree extension (`TREE`), which records the tree id
//! of every directory whose entries are unchanged since the last write-tree.
//! A directory whose recorded id equals HEAD's is skipped without reading a
//! single object, so a 10-file commit in a 100,000-file repository reads a
//! handful of trees and never walks the rest.
//!
//! Declines, saying why ([`Declined`]), whenever the index is something this
//! reader does not handle (index v4 path compression, split or sparse
//! indexes, unmerged entries, no cache-tree, a file over [`MAX_INDEX_SIZE`],
//! directories nested deeper than [`MAX_DEPTH`], anything that does not
//! parse): the caller then asks libgit2 for the full diff, which explains a
//! broken index.
//! The file is read into memory, not mapped: a mapped file truncated under
//! us would kill the process with SIGBUS. Every read is bounds-checked. The
//! trailing SHA-1 is not verified here: git verifies it when `git commit`
//! reads the index, before the hook runs, and hashing an 8 MB index (100,000
//! files) cost 3.5 ms of a 20 ms hook; an index that parses but is corrupt
//! names blobs that cannot be read, which the scan reports (exit 2).

use std::collections::HashSet;

use git2::{Oid, Repository};

use super::is_blob_mode;
use super::tree::ChangedPath;

/// Larger indexes (millions of entries) go the libgit2 way.
pub const MAX_INDEX_SIZE: u64 = 256 << 20;

/// Deeper directory nesting goes the libgit2 way: the reader recurses once
/// per level, on a hook thread's stack.
pub const MAX_DEPTH: usize = 200;

/// Why the fast reader left an index to libgit2. Its `Display` is a short
/// phrase for a note ("index v4", "unmerged entries", ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Declined {
    #[error("the index file cannot be read")]
    Unreadable,
    #[error("the index is over {} MiB", MAX_INDEX_SIZE >> 20)]
    TooLarge,
    #[error("the index does not parse")]
    Malformed,
    #[error("index v{0}")]
    Version(u32),
    #[error("unmerged entries")]
    Unmerged,
    #[error("sparse checkout (skip-worktree entries)")]
    SkipWorktree,
    #[error("sparse index")]
    SparseIndex,
    #[error("split index")]
    SplitIndex,
    #[error("no cache-tree")]
    NoCacheTree,
    #[error("directories nested deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("a tree of HEAD cannot be read")]
    HeadTree,
}

/// One index entry; the object id stays raw bytes until it is needed.
struct Entry<'a> {
    path: &'a [u8],
    mode: u32,
    oid: &'a [u8],
}

impl Entry<'_> {
    fn oid(&self) -> Oid {
        Oid::from_bytes(self.oid).unwrap_or_else(|_| Oid::zero())
    }
}

/// One directory of the cache-tree: `valid` when `oid` is current.
struct CacheNode<'a> {
    name: &'a [u8],
    oid: Option<Oid>,
    /// Index entries under this directory (meaningful when `oid` is set).
    entry_count: usize,
    children: Vec<CacheNode<'a>>,
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// Parses the entries and the cache-tree, or says why not.
fn parse(data: &[u8]) -> Result<(Vec<Entry<'_>>, CacheNode<'_>), Declined> {
    use Declined::Malformed;
    if data.len() < 12 + 20 || &data[..4] != b"DIRC" {
        return Err(Malformed);
    }
    let version = be32(&data[4..]);
    if version != 2 && version != 3 {
        return Err(Declined::Version(version));
    }
    let count = be32(&data[8..]) as usize;
    let body_end = data.len() - 20; // trailing checksum
    let mut pos = 12;
    // Every entry takes 64 bytes or more: a count the file cannot hold is
    // not allowed to reserve gigabytes.
    let mut entries = Vec::with_capacity(count.min(data.len() / 64));
    for _ in 0..count {
        let fixed = data.get(pos..pos + 62).ok_or(Malformed)?;
        let mode = be32(&fixed[24..]);
        let oid = &fixed[40..60];
        let flags = u16::from_be_bytes([fixed[60], fixed[61]]);
        if (flags >> 12) & 3 != 0 {
            return Err(Declined::Unmerged); // let libgit2 explain
        }
        let mut header = 62;
        if flags & 0x4000 != 0 {
            if version < 3 {
                return Err(Malformed);
            }
            let extended = data.get(pos + 62..pos + 64).ok_or(Malformed)?;
            if u16::from_be_bytes([extended[0], extended[1]]) & 0x4000 != 0 {
                // skip-worktree: sparse checkouts go the slow way. A
                // directory entry is what a sparse index collapses to.
                return Err(match mode {
                    0o040000 => Declined::SparseIndex,
                    _ => Declined::SkipWorktree,
                });
            }
            header = 64;
        }
        let name_start = pos + header;
        // The low 12 bits of the flags hold the name length, or 0xFFF when
        // the name is longer and only its NUL terminator tells.
        let name_len = match (flags & 0xFFF) as usize {
            0xFFF => data
                .get(name_start..body_end)
                .and_then(|rest| memchr::memchr(0, rest))
                .ok_or(Malformed)?,
            n => n,
        };
        let path = data
            .get(name_start..name_start + name_len)
            .ok_or(Malformed)?;
        // Entries are padded with 1-8 NULs to a multiple of 8 bytes.
        let entry_len = (header + name_len + 8) & !7;
        pos += entry_len;
        entries.push(Entry { path, mode, oid });
    }
    let mut tree = None;
    while pos + 8 <= body_end {
        let signature = &data[pos..pos + 4];
        let size = be32(&data[pos + 4..]) as usize;
        // Extensions end exactly where the checksum starts: one that runs
        // into it means a cut or damaged file.
        let end = (pos + 8)
            .checked_add(size)
            .filter(|&end| end <= body_end)
            .ok_or(Malformed)?;
        let ext = &data[pos + 8..end];
        match signature {
            b"TREE" => tree = Some(parse_cache_tree(ext)?),
            b"link" => return Err(Declined::SplitIndex),
            b"sdir" => return Err(Declined::SparseIndex),
            _ => {}
        }
        pos += 8 + size;
    }
    if pos != body_end {
        return Err(Malformed);
    }
    Ok((entries, tree.ok_or(Declined::NoCacheTree)?))
}

fn parse_cache_tree(ext: &[u8]) -> Result<CacheNode<'_>, Declined> {
    let mut pos = 0;
    parse_node(ext, &mut pos, 0)
}

fn parse_node<'a>(ext: &'a [u8], pos: &mut usize, depth: usize) -> Result<CacheNode<'a>, Declined> {
    use Declined::Malformed;
    if depth > MAX_DEPTH {
        return Err(Declined::TooDeep);
    }
    let nul = ext
        .get(*pos..)
        .and_then(|rest| memchr::memchr(0, rest))
        .ok_or(Malformed)?;
    let name = &ext[*pos..*pos + nul];
    *pos += nul + 1;
    let nl = memchr::memchr(b'\n', &ext[*pos..]).ok_or(Malformed)?;
    let header = std::str::from_utf8(&ext[*pos..*pos + nl]).map_err(|_| Malformed)?;
    *pos += nl + 1;
    let (count, subtrees) = header.split_once(' ').ok_or(Malformed)?;
    let count: i64 = count.parse().map_err(|_| Malformed)?;
    let subtrees: usize = subtrees.parse().map_err(|_| Malformed)?;
    let oid = if count >= 0 {
        let raw = ext.get(*pos..*pos + 20).ok_or(Malformed)?;
        let oid = Oid::from_bytes(raw).map_err(|_| Malformed)?;
        *pos += 20;
        Some(oid)
    } else {
        None
    };
    // Every node takes 5 bytes or more (`\0-1 0\n` is 7).
    let mut children = Vec::with_capacity(subtrees.min((ext.len() - *pos) / 5));
    for _ in 0..subtrees {
        children.push(parse_node(ext, pos, depth + 1)?);
    }
    Ok(CacheNode {
        name,
        oid,
        entry_count: count.max(0) as usize,
        children,
    })
}

/// The staged changes relative to `head` (None: no commits yet), plus the
/// blobs of deleted files; or why this index needs the slow path.
pub fn staged_changes(
    repo: &Repository,
    index_file: &std::path::Path,
    head: Option<&git2::Tree<'_>>,
) -> Result<(Vec<ChangedPath>, Vec<Oid>), Declined> {
    let file = std::fs::File::open(index_file).map_err(|_| Declined::Unreadable)?;
    let meta = file.metadata().map_err(|_| Declined::Unreadable)?;
    if !meta.is_file() {
        return Err(Declined::Unreadable);
    }
    let len = meta.len();
    if len > MAX_INDEX_SIZE {
        return Err(Declined::TooLarge);
    }
    // Mapped, as git itself reads it: copying a 100,000-file index (9 MB)
    // into fresh memory took longer than comparing it with HEAD. Git
    // replaces the index by renaming `index.lock` over it and never
    // rewrites the file in place, so the mapped bytes do not change under us.
    // SAFETY: see above; the map is read-only and dropped before returning.
    let data = unsafe { memmap2::MmapOptions::new().populate().map(&file) }
        .map_err(|_| Declined::Unreadable)?;
    if data.len() as u64 != len {
        return Err(Declined::Unreadable);
    }
    changes_in(repo, &data, head)
}

/// [`staged_changes`] of an index already read.
fn changes_in(
    repo: &Repository,
    data: &[u8],
    head: Option<&git2::Tree<'_>>,
) -> Result<(Vec<ChangedPath>, Vec<Oid>), Declined> {
    let (entries, root) = parse(data)?;
    let mut out = (Vec::new(), Vec::new());
    compare_dir(repo, Some(&root), head, &entries, &mut Vec::new(), &mut out)?;
    Ok(out)
}

/// The entry of `tree` called `name`. A name with a NUL byte (git2 panics
/// on one) means a damaged index that still passed git's checksum.
fn entry_named<'t>(
    tree: Option<&'t git2::Tree<'_>>,
    name: &[u8],
) -> Result<Option<git2::TreeEntry<'t>>, Declined> {
    if memchr::memchr(0, name).is_some() {
        return Err(Declined::Malformed);
    }
    Ok(tree.and_then(|t| t.get_name_bytes(name)))
}

/// Directories in `prefix` (`a/b/` is two).
fn prefix_depth(prefix: &[u8]) -> usize {
    memchr::memchr_iter(b'/', prefix).count()
}

/// Adds the blobs of every file under `tree` (a directory of HEAD the index
/// no longer has, `depth` levels down) to `deleted`.
fn deleted_dir(
    repo: &Repository,
    tree: &git2::Tree<'_>,
    deleted: &mut Vec<Oid>,
    depth: usize,
) -> Result<(), Declined> {
    if depth > MAX_DEPTH {
        return Err(Declined::TooDeep);
    }
    for e in tree.iter() {
        if e.kind() == Some(git2::ObjectType::Tree) {
            let sub = repo.find_tree(e.id()).map_err(|_| Declined::HeadTree)?;
            deleted_dir(repo, &sub, deleted, depth + 1)?;
        } else if is_blob_mode(e.filemode() as u32) {
            deleted.push(e.id());
        }
    }
    Ok(())
}

/// True when `rest` (an entry's path below the current directory) is
/// inside its subdirectory `dir`.
fn in_dir(rest: &[u8], dir: &[u8]) -> bool {
    rest.len() > dir.len() && rest.starts_with(dir) && rest[dir.len()] == b'/'
}

/// Compares the index entries of one directory (`entries`, all under
/// `prefix`) with the HEAD tree of that directory.
fn compare_dir<'e>(
    repo: &Repository,
    node: Option<&CacheNode<'_>>,
    head: Option<&git2::Tree<'_>>,
    entries: &[Entry<'e>],
    prefix: &mut Vec<u8>,
    out: &mut (Vec<ChangedPath>, Vec<Oid>),
) -> Result<(), Declined> {
    if let (Some(node), Some(head)) = (node, head) {
        if node.oid == Some(head.id()) {
            return Ok(()); // unchanged since HEAD: skip the whole directory
        }
    }
    let base = prefix.len();
    if prefix_depth(prefix) >= MAX_DEPTH {
        return Err(Declined::TooDeep);
    }
    let children: std::collections::HashMap<&[u8], &CacheNode<'_>> = node
        .map(|n| n.children.iter().map(|c| (c.name, c)).collect())
        .unwrap_or_default();
    // Names the index has here, as directories and as files: a HEAD file
    // that became a directory (or the reverse) is deleted all the same.
    let mut dirs: HashSet<&'e [u8]> = HashSet::new();
    let mut files: HashSet<&'e [u8]> = HashSet::new();
    let mut i = 0;
    while i < entries.len() {
        let rest = &entries[i].path[base..];
        match memchr::memchr(b'/', rest) {
            Some(slash) => {
                // A subdirectory: its entries are contiguous (the index is sorted).
                let dir = &rest[..slash];
                let child = children.get(dir).copied();
                let head_entry = entry_named(head, dir)?;
                dirs.insert(dir);
                if let (Some(c), Some(h)) = (child, &head_entry) {
                    // The recorded count must end exactly where the
                    // directory's entries end, or the skip would pass over
                    // a neighbour's files.
                    let end = i.checked_add(c.entry_count).filter(|&e| e > i);
                    let exact = end.is_some_and(|end| {
                        end <= entries.len()
                            && in_dir(&entries[end - 1].path[base..], dir)
                            && entries
                                .get(end)
                                .is_none_or(|e| !in_dir(&e.path[base..], dir))
                    });
                    if c.oid == Some(h.id()) && exact {
                        // Unchanged since HEAD: skip it without reading its tree.
                        i = end.unwrap_or(i + 1);
                        continue;
                    }
                }
                let mut j = i + 1;
                while j < entries.len() && in_dir(&entries[j].path[base..], dir) {
                    j += 1;
                }
                let head_sub = match head_entry {
                    Some(e) if e.kind() == Some(git2::ObjectType::Tree) => {
                        Some(repo.find_tree(e.id()).map_err(|_| Declined::HeadTree)?)
                    }
                    _ => None,
                };
                prefix.truncate(base);
                prefix.extend_from_slice(dir);
                prefix.push(b'/');
                let sub_base = prefix.len();
                debug_assert!(entries[i..j].iter().all(|e| e.path.len() >= sub_base));
                compare_dir(repo, child, head_sub.as_ref(), &entries[i..j], prefix, out)?;
                prefix.truncate(base);
                i = j;
            }
            None => {
                let entry = &entries[i];
                files.insert(rest);
                if is_blob_mode(entry.mode) {
                    let before = entry_named(head, rest)?;
                    let unchanged = before.as_ref().is_some_and(|b| {
                        b.id().as_bytes() == entry.oid && b.filemode() as u32 == entry.mode
                    });
                    if !unchanged {
                        let old = before
                            .filter(|b| is_blob_mode(b.filemode() as u32))
                            .map(|b| b.id());
                        out.0.push((
                            String::from_utf8_lossy(entry.path).into_owned(),
                            entry.oid(),
                            old,
                        ));
                    }
                }
                i += 1;
            }
        }
    }
    // Files HEAD has here that the index no longer does: deleted (their blobs
    // let an added path recognise a rename), with every file of a directory
    // the index no longer has, as libgit2's diff reports them.
    if let Some(head) = head {
        for e in head.iter() {
            let name = e.name_bytes();
            if e.kind() == Some(git2::ObjectType::Tree) {
                if !dirs.contains(name) {
                    let tree = repo.find_tree(e.id()).map_err(|_| Declined::HeadTree)?;
                    deleted_dir(repo, &tree, &mut out.1, 1 + prefix_depth(prefix))?;
                }
            } else if is_blob_mode(e.filemode() as u32) && !files.contains(name) {
                out.1.push(e.id());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::fuzz;
    use proptest::prelude::*;

    /// A repository with one commit and, staged on top, a changed file, a
    /// new file and a deleted one; libgit2 writes the index with a
    /// cache-tree (valid for `docs/`, invalid for `src/`).
    fn sample() -> (tempfile::TempDir, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let repo = Repository::init(root).unwrap();
        let write = |rel: &str, text: &str| {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        write("a.txt", "a\n");
        write("docs/readme.md", "docs\n");
        write("src/lib.rs", "fn main() {}\n");
        write("src/deep/x.txt", "x\n");
        let mut index = repo.index().unwrap();
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::new("t", "t@example.com", &git2::Time::new(0, 0)).unwrap();
        repo.commit(Some("HEAD"), &sig, &sig, "first", &tree, &[])
            .unwrap();
        write("src/lib.rs", "fn main() { changed() }\n");
        write("src/new.txt", "new\n");
        index.add_path(Path::new("src/lib.rs")).unwrap();
        index.add_path(Path::new("src/new.txt")).unwrap();
        index.remove_path(Path::new("a.txt")).unwrap();
        index.write().unwrap();
        let data = std::fs::read(repo.path().join("index")).unwrap();
        (dir, data)
    }

    use std::path::Path;

    fn with_checksum(mut data: Vec<u8>) -> Vec<u8> {
        use sha1::{Digest, Sha1};
        if data.len() >= 20 {
            let body = data.len() - 20;
            let sum = Sha1::digest(&data[..body]);
            data[body..].copy_from_slice(&sum);
        }
        data
    }

    #[test]
    fn reads_what_libgit2_writes() {
        let (dir, data) = sample();
        let repo = Repository::open(dir.path()).unwrap();
        let head = repo.head().unwrap().peel_to_tree().unwrap();
        let (changed, deleted) = changes_in(&repo, &data, Some(&head)).expect("fast path");
        let mut paths: Vec<&str> = changed.iter().map(|c| c.0.as_str()).collect();
        paths.sort();
        assert_eq!(paths, ["src/lib.rs", "src/new.txt"]);
        assert_eq!(deleted.len(), 1, "a.txt");
        // Through the file too.
        assert!(staged_changes(&repo, &repo.path().join("index"), Some(&head)).is_ok());
    }

    #[test]
    fn a_corrupt_or_truncated_index_goes_the_slow_way() {
        let (dir, data) = sample();
        let repo = Repository::open(dir.path()).unwrap();
        assert_eq!(
            parse(&data[..data.len() / 2]).err(),
            Some(Declined::Malformed)
        );
        assert_eq!(parse(&data[..31]).err(), Some(Declined::Malformed));
        let file = repo.path().join("index");
        std::fs::write(&file, &data[..data.len() - 7]).unwrap();
        assert_eq!(
            staged_changes(&repo, &file, None).err(),
            Some(Declined::Malformed)
        );
    }

    #[test]
    fn a_nul_in_a_path_is_declined_not_a_panic() {
        let (dir, mut data) = sample();
        let repo = Repository::open(dir.path()).unwrap();
        let head = repo.head().unwrap().peel_to_tree().unwrap();
        let at = memchr::memmem::find(&data, b"src/new.txt").unwrap();
        data[at + 4] = 0;
        let data = with_checksum(data);
        assert_eq!(
            changes_in(&repo, &data, Some(&head)).err(),
            Some(Declined::Malformed)
        );
    }

    #[test]
    fn absurd_counts_reserve_nothing_and_deep_trees_are_refused() {
        // A cache-tree claiming 2^63 subtrees, then one nested too deep.
        assert_eq!(
            parse_cache_tree(b"\x009 9223372036854775807\n").err(),
            Some(Declined::Malformed)
        );
        let mut deep = Vec::new();
        for _ in 0..=MAX_DEPTH + 1 {
            deep.extend_from_slice(b"d\0-1 1\n");
        }
        assert_eq!(parse_cache_tree(&deep).err(), Some(Declined::TooDeep));
        // An index header claiming 4 billion entries.
        let mut data = b"DIRC\0\0\0\x02\xff\xff\xff\xff".to_vec();
        data.extend_from_slice(&[0; 20]);
        assert_eq!(parse(&with_checksum(data)).err(), Some(Declined::Malformed));
    }

    proptest! {
        #![proptest_config(fuzz::config(512))]

        /// Random bytes and mutated indexes, with the checksum left broken
        /// or made to match: never a panic, and whatever parses can be
        /// compared with HEAD.
        #[test]
        fn index_bytes_never_panic(
            bytes in fuzz::bytes_like(sample().1),
            fix in any::<bool>(),
        ) {
            let bytes = if fix { with_checksum(bytes) } else { bytes };
            let _ = parse(&bytes);
        }
    }

    #[test]
    fn mutated_indexes_compare_with_head_without_panicking() {
        let (dir, data) = sample();
        let repo = Repository::open(dir.path()).unwrap();
        let head = repo.head().unwrap().peel_to_tree().unwrap();
        let mut runner = proptest::test_runner::TestRunner::new(fuzz::config(256));
        runner
            .run(&fuzz::bytes_like(data), |bytes| {
                let bytes = with_checksum(bytes);
                let _ = changes_in(&repo, &bytes, Some(&head));
                let _ = changes_in(&repo, &bytes, None);
                Ok(())
            })
            .unwrap();
    }
}
