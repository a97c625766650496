//! Tree diffs for history scans, on raw tree objects: entries are parsed from
//! the object bytes in Rust rather than fetched one call at a time through
//! libgit2, and only subtrees whose ids differ are read. A commit that edits
//! one file in a large repository costs a few tree reads and a merge-join of
//! the directories on its path.

use std::cmp::Ordering;

use git2::{ObjectType, Odb, Oid};

/// A changed path: its new blob and, when modified, the blob it replaced.
pub type ChangedPath = (String, Oid, Option<Oid>);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Blob,
    Tree,
    /// Symlinks and submodules: never scanned.
    Other,
}

#[derive(Clone, Copy)]
struct RawEntry<'a> {
    kind: Kind,
    mode: &'a [u8],
    name: &'a [u8],
    id: &'a [u8],
}

/// Iterates the entries of a raw tree object: `<mode> <name>\0<20-byte id>`.
struct Entries<'a> {
    data: &'a [u8],
}

impl<'a> Iterator for Entries<'a> {
    type Item = RawEntry<'a>;

    fn next(&mut self) -> Option<RawEntry<'a>> {
        let space = memchr::memchr(b' ', self.data)?;
        let nul = space + 1 + memchr::memchr(0, &self.data[space + 1..])?;
        let id = self.data.get(nul + 1..nul + 21)?;
        let mode = &self.data[..space];
        let kind = match mode {
            b"40000" | b"040000" => Kind::Tree,
            // The text of the modes `sources::is_blob_mode` accepts, matched
            // as bytes: this runs for every entry of every tree diffed.
            b"100644" | b"100755" | b"100664" => Kind::Blob,
            _ => Kind::Other,
        };
        let entry = RawEntry {
            kind,
            mode,
            name: &self.data[space + 1..nul],
            id,
        };
        self.data = &self.data[nul + 21..];
        Some(entry)
    }
}

/// Git's tree order: names compare as bytes, a tree's name as if it ended in `/`.
fn git_order(a: &RawEntry<'_>, b: &RawEntry<'_>) -> Ordering {
    let tail = |e: &RawEntry<'_>| (e.kind == Kind::Tree).then_some(b'/');
    let a_bytes = a.name.iter().copied().chain(tail(a));
    let b_bytes = b.name.iter().copied().chain(tail(b));
    a_bytes.cmp(b_bytes)
}

fn read_tree<'o>(odb: &'o Odb<'_>, id: Oid) -> Result<git2::OdbObject<'o>, git2::Error> {
    let object = odb.read(id)?;
    if object.kind() != ObjectType::Tree {
        return Err(git2::Error::from_str(&format!("{id} is not a tree")));
    }
    Ok(object)
}

fn oid(bytes: &[u8]) -> Oid {
    Oid::from_bytes(bytes).unwrap_or_else(|_| Oid::zero())
}

/// The blobs `new` adds or changes relative to `old` (None = empty tree),
/// and the blobs of files it deletes.
pub fn changes(
    odb: &Odb<'_>,
    old: Option<Oid>,
    new: Oid,
) -> Result<(Vec<ChangedPath>, Vec<Oid>), git2::Error> {
    let mut out = (Vec::new(), Vec::new());
    diff(odb, old, Some(new), &mut Vec::new(), &mut out)?;
    Ok(out)
}

fn diff(
    odb: &Odb<'_>,
    old: Option<Oid>,
    new: Option<Oid>,
    prefix: &mut Vec<u8>,
    out: &mut (Vec<ChangedPath>, Vec<Oid>),
) -> Result<(), git2::Error> {
    if old == new {
        return Ok(());
    }
    let old_tree = old.map(|id| read_tree(odb, id)).transpose()?;
    let new_tree = new.map(|id| read_tree(odb, id)).transpose()?;
    fn data<'t>(tree: &'t Option<git2::OdbObject<'_>>) -> &'t [u8] {
        tree.as_ref().map_or(&[], |t| t.data())
    }
    let mut olds = Entries {
        data: data(&old_tree),
    }
    .peekable();
    let mut news = Entries {
        data: data(&new_tree),
    }
    .peekable();
    loop {
        let order = match (olds.peek(), news.peek()) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(o), Some(n)) => git_order(o, n),
        };
        let (o, n) = match order {
            Ordering::Less => (olds.next(), None),
            Ordering::Greater => (None, news.next()),
            Ordering::Equal => (olds.next(), news.next()),
        };
        if let (Some(o), Some(n)) = (&o, &n) {
            if o.id == n.id && o.mode == n.mode {
                continue;
            }
        }
        let Some(name) = n.or(o).map(|e| e.name) else {
            continue;
        };
        let len = prefix.len();
        if len > 0 {
            prefix.push(b'/');
        }
        prefix.extend_from_slice(name);
        match (o, n) {
            (before, Some(n)) if n.kind == Kind::Tree => {
                let old_sub = before.filter(|b| b.kind == Kind::Tree).map(|b| oid(b.id));
                diff(odb, old_sub, Some(oid(n.id)), prefix, out)?;
            }
            (before, Some(n)) if n.kind == Kind::Blob => {
                let old_blob = before.filter(|b| b.kind == Kind::Blob).map(|b| oid(b.id));
                out.0.push((
                    String::from_utf8_lossy(prefix).into_owned(),
                    oid(n.id),
                    old_blob,
                ));
            }
            (Some(o), None) if o.kind == Kind::Tree => {
                diff(odb, Some(oid(o.id)), None, prefix, out)?
            }
            (Some(o), None) if o.kind == Kind::Blob => out.1.push(oid(o.id)),
            _ => {}
        }
        prefix.truncate(len);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn blob_modes_agree_with_sources_is_blob_mode() {
        for mode in [
            0o100644u32,
            0o100755,
            0o100664,
            0o120000,
            0o160000,
            0o40000,
            0o100600,
        ] {
            let text = format!("{mode:o}");
            let mut raw = text.clone().into_bytes();
            raw.extend_from_slice(b" f\0");
            raw.extend_from_slice(&[0u8; 20]);
            let entry = super::Entries { data: &raw }.next().unwrap();
            assert_eq!(
                matches!(entry.kind, super::Kind::Blob),
                crate::sources::is_blob_mode(mode),
                "{text}"
            );
        }
    }

    use super::*;

    fn raw(entries: &[(&str, &str, u8)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (mode, name, id) in entries {
            out.extend_from_slice(mode.as_bytes());
            out.push(b' ');
            out.extend_from_slice(name.as_bytes());
            out.push(0);
            out.extend_from_slice(&[*id; 20]);
        }
        out
    }

    #[test]
    fn parses_raw_entries_and_orders_trees_after_same_named_files() {
        let data = raw(&[
            ("100644", "a.txt", 1),
            ("40000", "dir", 2),
            ("120000", "link", 3),
        ]);
        let entries: Vec<_> = Entries { data: &data }.collect();
        assert_eq!(entries.len(), 3);
        assert!(
            entries[0].kind == Kind::Blob
                && entries[1].kind == Kind::Tree
                && entries[2].kind == Kind::Other
        );
        assert_eq!(entries[1].name, b"dir");
        let file = RawEntry {
            kind: Kind::Blob,
            mode: b"100644",
            name: b"foo.c",
            id: &[0; 20],
        };
        let dir = RawEntry {
            kind: Kind::Tree,
            mode: b"40000",
            name: b"foo",
            id: &[0; 20],
        };
        // "foo/" sorts after "foo.c" because '/' > '.'.
        assert_eq!(git_order(&file, &dir), Ordering::Less);
    }

    #[test]
    fn truncated_data_ends_iteration() {
        let mut data = raw(&[("100644", "a", 1)]);
        data.truncate(data.len() - 3);
        assert_eq!(Entries { data: &data }.count(), 0);
    }
}
