//! What the index stages relative to HEAD, fast: reads `.git/index` directly
//! and uses git's cache-tree extension (`TREE`), which records the tree id
//! of every directory whose entries are unchanged since the last write-tree.
//! A directory whose recorded id equals HEAD's is skipped without reading a
//! single object, so a 10-file commit in a 100,000-file repository reads a
//! handful of trees and never walks the rest.
//!
//! Returns `None` whenever the index is something this reader does not
//! handle (index v4 path compression, split or sparse indexes, unmerged
//! entries, no cache-tree): the caller then asks libgit2 for the full diff.

use std::collections::HashSet;

use git2::{Oid, Repository};

use super::tree::ChangedPath;

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

fn is_blob_mode(mode: u32) -> bool {
    mode == 0o100644 || mode == 0o100755
}

/// Parses the entries and the cache-tree, or `None` if unsupported.
fn parse(data: &[u8]) -> Option<(Vec<Entry<'_>>, CacheNode<'_>)> {
    if data.len() < 12 + 20 || &data[..4] != b"DIRC" {
        return None;
    }
    let version = be32(&data[4..]);
    if version != 2 && version != 3 {
        return None;
    }
    let count = be32(&data[8..]) as usize;
    let body_end = data.len() - 20; // trailing checksum
    let mut pos = 12;
    let mut entries = Vec::with_capacity(count);
    for _ in 0..count {
        let fixed = data.get(pos..pos + 62)?;
        let mode = be32(&fixed[24..]);
        let oid = &fixed[40..60];
        let flags = u16::from_be_bytes([fixed[60], fixed[61]]);
        if (flags >> 12) & 3 != 0 {
            return None; // unmerged: let libgit2 explain
        }
        let mut header = 62;
        if flags & 0x4000 != 0 {
            if version < 3 {
                return None;
            }
            let extended = u16::from_be_bytes(*data.get(pos + 62..pos + 64)?.first_chunk::<2>()?);
            if extended & 0x4000 != 0 {
                return None; // skip-worktree: sparse checkouts go the slow way
            }
            header = 64;
        }
        let name_start = pos + header;
        // The low 12 bits of the flags hold the name length, or 0xFFF when
        // the name is longer and only its NUL terminator tells.
        let name_len = match (flags & 0xFFF) as usize {
            0xFFF => memchr::memchr(0, data.get(name_start..body_end)?)?,
            n => n,
        };
        data.get(name_start..name_start + name_len)?;
        let path = &data[name_start..name_start + name_len];
        // Entries are padded with 1-8 NULs to a multiple of 8 bytes.
        let entry_len = (header + name_len + 8) & !7;
        pos += entry_len;
        entries.push(Entry { path, mode, oid });
    }
    let mut tree = None;
    while pos + 8 <= body_end {
        let signature = &data[pos..pos + 4];
        let size = be32(&data[pos + 4..]) as usize;
        let ext = data.get(pos + 8..pos + 8 + size)?;
        match signature {
            b"TREE" => tree = Some(parse_cache_tree(ext)?),
            b"link" | b"sdir" => return None,
            _ => {}
        }
        pos += 8 + size;
    }
    Some((entries, tree?))
}

fn parse_cache_tree(ext: &[u8]) -> Option<CacheNode<'_>> {
    let mut pos = 0;
    let node = parse_node(ext, &mut pos)?;
    Some(node)
}

fn parse_node<'a>(ext: &'a [u8], pos: &mut usize) -> Option<CacheNode<'a>> {
    let nul = memchr::memchr(0, &ext[*pos..])?;
    let name = &ext[*pos..*pos + nul];
    *pos += nul + 1;
    let nl = memchr::memchr(b'\n', &ext[*pos..])?;
    let header = std::str::from_utf8(&ext[*pos..*pos + nl]).ok()?;
    *pos += nl + 1;
    let (count, subtrees) = header.split_once(' ')?;
    let count: i64 = count.parse().ok()?;
    let subtrees: usize = subtrees.parse().ok()?;
    let oid = if count >= 0 {
        let oid = Oid::from_bytes(ext.get(*pos..*pos + 20)?).ok()?;
        *pos += 20;
        Some(oid)
    } else {
        None
    };
    let mut children = Vec::with_capacity(subtrees);
    for _ in 0..subtrees {
        children.push(parse_node(ext, pos)?);
    }
    Some(CacheNode {
        name,
        oid,
        entry_count: count.max(0) as usize,
        children,
    })
}

/// The staged changes relative to `head` (None: no commits yet), plus the
/// blobs of deleted files; `None` if this index needs the slow path.
pub fn staged_changes(
    repo: &Repository,
    index_file: &std::path::Path,
    head: Option<&git2::Tree<'_>>,
) -> Option<(Vec<ChangedPath>, Vec<Oid>)> {
    let file = std::fs::File::open(index_file).ok()?;
    // SAFETY: git replaces the index by renaming a new file over it, never by
    // writing in place, so the mapped bytes do not change under us; a
    // truncated or concurrently rewritten file only fails the parse.
    let data = unsafe { memmap2::Mmap::map(&file) }.ok()?;
    let (entries, root) = parse(&data)?;
    let mut out = (Vec::new(), Vec::new());
    compare_dir(repo, Some(&root), head, &entries, &mut Vec::new(), &mut out).ok()?;
    Some(out)
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
) -> Result<(), git2::Error> {
    if let (Some(node), Some(head)) = (node, head) {
        if node.oid == Some(head.id()) {
            return Ok(()); // unchanged since HEAD: skip the whole directory
        }
    }
    let base = prefix.len();
    let children: std::collections::HashMap<&[u8], &CacheNode<'_>> = node
        .map(|n| n.children.iter().map(|c| (c.name, c)).collect())
        .unwrap_or_default();
    let mut present: HashSet<&'e [u8]> = HashSet::new();
    let mut i = 0;
    while i < entries.len() {
        let rest = &entries[i].path[base..];
        match memchr::memchr(b'/', rest) {
            Some(slash) => {
                // A subdirectory: its entries are contiguous (the index is sorted).
                let dir = &rest[..slash];
                let child = children.get(dir).copied();
                let head_entry = head.and_then(|t| t.get_name_bytes(dir));
                present.insert(dir);
                if let (Some(c), Some(h)) = (child, &head_entry) {
                    if c.oid == Some(h.id()) && i + c.entry_count <= entries.len() {
                        // Unchanged since HEAD: skip it without reading its tree.
                        i += c.entry_count.max(1);
                        continue;
                    }
                }
                let mut j = i + 1;
                while j < entries.len() {
                    let r = &entries[j].path[base..];
                    if r.len() > slash && &r[..slash] == dir && r[slash] == b'/' {
                        j += 1;
                    } else {
                        break;
                    }
                }
                let head_sub = match head_entry {
                    Some(e) if e.kind() == Some(git2::ObjectType::Tree) => {
                        Some(repo.find_tree(e.id())?)
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
                present.insert(rest);
                if is_blob_mode(entry.mode) {
                    let before = head.and_then(|t| t.get_name_bytes(rest));
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
    // let an added path recognise a rename).
    if let Some(head) = head {
        for e in head.iter() {
            if is_blob_mode(e.filemode() as u32) && !present.contains(e.name_bytes()) {
                out.1.push(e.id());
            }
        }
    }
    Ok(())
}
