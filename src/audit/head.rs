//! Whether the repository at PATH still holds a key rotation wrote into it:
//! the key's metadata names the repository and the files; at HEAD, a file
//! that is gone or holds no `till_sk_` token any more means the code no
//! longer uses the key, and it can be revoked. Keys of other repositories
//! are not judged.

use git2::{ObjectType, Tree};

use crate::rotate::till::Key;
use crate::rotate::workspace::Workspace;

use super::{key_paths, AtHead};

/// What every scoped key starts with.
const SCOPED_PREFIX: &[u8] = b"till_sk_";

/// The repository at PATH, as the audit judges keys against it.
pub struct Head<'a> {
    /// The name rotation writes in `repository` (e.g. `owner/name`).
    pub repository: String,
    /// Other names it may have written (the directory's, for a rotation
    /// with no pull request).
    aliases: Vec<String>,
    repo: &'a git2::Repository,
    /// HEAD's tree; `None` before the first commit.
    tree: Option<Tree<'a>>,
}

impl<'a> Head<'a> {
    /// HEAD of `ws`, known to rotation by `names` (the usual one first).
    pub fn new(ws: &'a Workspace, mut names: Vec<String>) -> Head<'a> {
        let tree = ws.head_commit().ok().and_then(|c| c.tree().ok());
        let repository = if names.is_empty() {
            String::new()
        } else {
            names.remove(0)
        };
        Head {
            repository,
            aliases: names,
            repo: &ws.repo,
            tree,
        }
    }

    /// Where `key` stands at HEAD.
    pub fn judge(&self, key: &Key) -> AtHead {
        match key.metadata_str("repository") {
            Some(r)
                if std::iter::once(&self.repository)
                    .chain(&self.aliases)
                    .any(|name| same_repository(r, name)) => {}
            Some(_) => return AtHead::OtherRepository,
            None => return AtHead::NotChecked("no repository in its metadata".into()),
        }
        let Some(tree) = &self.tree else {
            return AtHead::NotChecked("the repository has no commit".into());
        };
        let paths = key_paths(key);
        if paths.is_empty() {
            return AtHead::NotChecked("no path in its metadata".into());
        }
        let holds = paths.iter().any(|path| {
            tree.get_path(std::path::Path::new(path))
                .ok()
                .filter(|entry| entry.kind() == Some(ObjectType::Blob))
                .and_then(|entry| entry.to_object(self.repo).ok())
                .and_then(|object| object.into_blob().ok())
                .is_some_and(|blob| memchr::memmem::find(blob.content(), SCOPED_PREFIX).is_some())
        });
        if holds {
            AtHead::Present
        } else {
            AtHead::Gone
        }
    }
}

/// GitHub names are case-insensitive.
fn same_repository(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}
