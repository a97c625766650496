//! Where a blob came from: a file on disk, standard input, git's index, a
//! commit, a commit's or tag's own text, or an object a ref points at.
//! Sources say it with this type; only the reports turn it into text
//! (`report::path_label`), so a new kind of place (a decoded span) is a new
//! variant here and a new arm there. A member of an archive is
//! [`Provenance::Member`]: the place the outermost archive was read (a file,
//! a blob in a commit, a staged file), wrapped with the member names.

use std::cmp::Ordering;
use std::sync::Arc;

use serde::Serialize;

/// The commit that introduced a blob, for history scans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommitInfo {
    pub id: String,
    pub author_name: String,
    pub author_email: String,
    /// RFC 3339.
    pub date: String,
    pub summary: String,
}

/// Where the text holding a secret was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provenance {
    /// A file read from disk, by its path as the scan reached it (as given
    /// on the command line, or below a directory given there).
    File { path: String },
    /// Standard input or a stream (a FIFO), by the name it is reported under.
    Stream { name: String },
    /// A file staged in git's index, by its repository-relative path.
    Staged { path: String },
    /// A blob in history: the commit that introduced the secret at `path`.
    Commit {
        commit: Arc<CommitInfo>,
        path: String,
    },
    /// A commit object's own text (author, committer, message), with lines
    /// as `git cat-file commit` prints them.
    CommitMessage { commit: Arc<CommitInfo> },
    /// An annotated tag's own text, by the tag's ref name.
    TagMessage { reference: String },
    /// An object a ref points at directly: a blob (`path` is `None`) or a
    /// file of a tree (`path` inside that tree).
    RefTarget {
        reference: String,
        path: Option<String>,
    },
    /// A member of an archive (zip, tar, gzip...) read at `archive`: the
    /// member names from the outermost archive in, so `a.zip` holding
    /// `inner.tgz` holding `pkg/config.js` is `["inner.tgz", "pkg/config.js"]`.
    /// Never nested itself: `archive` is never a `Member`.
    Member {
        archive: Box<Provenance>,
        members: Vec<String>,
    },
}

impl Provenance {
    /// The path of the file the secret is in, on disk or inside a tree;
    /// `None` for text that is not a file (commit and tag messages, a
    /// blob a ref names directly). Path allowlists apply to it. For an
    /// archive member, the path of the archive.
    pub fn path(&self) -> Option<&str> {
        match self {
            Provenance::Member { archive, .. } => archive.path(),
            Provenance::File { path }
            | Provenance::Staged { path }
            | Provenance::Commit { path, .. } => Some(path),
            Provenance::Stream { name } => Some(name),
            Provenance::RefTarget { path, .. } => path.as_deref(),
            Provenance::CommitMessage { .. } | Provenance::TagMessage { .. } => None,
        }
    }

    /// The member names inside an archive, outermost first; empty for a
    /// place that is not in an archive.
    pub fn members(&self) -> &[String] {
        match self {
            Provenance::Member { members, .. } => members,
            _ => &[],
        }
    }

    /// The place the outermost archive was read, or the place itself.
    pub fn container(&self) -> &Provenance {
        match self {
            Provenance::Member { archive, .. } => archive,
            place => place,
        }
    }

    /// The commit of a history finding.
    pub fn commit(&self) -> Option<&CommitInfo> {
        match self {
            Provenance::Member { archive, .. } => archive.commit(),
            Provenance::Commit { commit, .. } | Provenance::CommitMessage { commit } => {
                Some(commit)
            }
            _ => None,
        }
    }

    /// The commit, for the few places that rewrite its fields (redaction).
    pub fn commit_mut(&mut self) -> Option<&mut Arc<CommitInfo>> {
        match self {
            Provenance::Member { archive, .. } => archive.commit_mut(),
            Provenance::Commit { commit, .. } | Provenance::CommitMessage { commit } => {
                Some(commit)
            }
            _ => None,
        }
    }

    /// Every path-like string the place carries (file paths, ref names),
    /// for the few places that rewrite them (redaction).
    pub fn names_mut(&mut self) -> Vec<&mut String> {
        match self {
            Provenance::Member { archive, members } => {
                let mut names = archive.names_mut();
                names.extend(members.iter_mut());
                names
            }
            Provenance::File { path }
            | Provenance::Staged { path }
            | Provenance::Commit { path, .. } => vec![path],
            Provenance::Stream { name } => vec![name],
            Provenance::CommitMessage { .. } => Vec::new(),
            Provenance::TagMessage { reference } => vec![reference],
            Provenance::RefTarget { reference, path } => {
                let mut names = vec![reference];
                names.extend(path.as_mut());
                names
            }
        }
    }

    /// The key places sort by: the file (or ref) they name, then what
    /// distinguishes places of one name. Locations in one file sort together
    /// whichever commit introduced them, as reports list them.
    /// Members of an archive sort after the archive, by member names.
    fn sort_key(&self) -> (&str, &str, &[String]) {
        match self {
            Provenance::File { path }
            | Provenance::Staged { path }
            | Provenance::Commit { path, .. } => (path, "", &[]),
            Provenance::Stream { name } => (name, "", &[]),
            Provenance::CommitMessage { commit } => ("", &commit.id, &[]),
            Provenance::TagMessage { reference } => (reference, "", &[]),
            Provenance::RefTarget { reference, path } => {
                (reference, path.as_deref().unwrap_or(""), &[])
            }
            Provenance::Member { archive, members } => {
                let (a, b, _) = archive.sort_key();
                (a, b, members)
            }
        }
    }

    /// Whether two places are the same file for a report's "in N files".
    pub fn same_file(&self, other: &Provenance) -> bool {
        self.sort_key() == other.sort_key()
    }

    /// The order reports list places in (by file, not by commit). Not an
    /// `Ord`: two commits' copies of one file are different places that
    /// sort as equals.
    pub fn order(&self, other: &Provenance) -> Ordering {
        self.sort_key().cmp(&other.sort_key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(id: &str) -> Arc<CommitInfo> {
        Arc::new(CommitInfo {
            id: id.into(),
            author_name: String::new(),
            author_email: String::new(),
            date: String::new(),
            summary: String::new(),
        })
    }

    #[test]
    fn a_file_in_two_commits_is_one_file_but_two_places() {
        let a = Provenance::Commit {
            commit: commit("1"),
            path: "app.py".into(),
        };
        let b = Provenance::Commit {
            commit: commit("2"),
            path: "app.py".into(),
        };
        assert!(a.same_file(&b));
        assert_ne!(a, b);
        assert_eq!(a.order(&b), Ordering::Equal);
        assert_eq!(a.commit().map(|c| c.id.as_str()), Some("1"));
    }

    #[test]
    fn only_files_have_paths() {
        let message = Provenance::CommitMessage {
            commit: commit("1"),
        };
        assert_eq!(message.path(), None);
        let tagged = Provenance::RefTarget {
            reference: "refs/tags/v1".into(),
            path: Some("conf/.env".into()),
        };
        assert_eq!(tagged.path(), Some("conf/.env"));
        let blob = Provenance::RefTarget {
            reference: "refs/tags/v1".into(),
            path: None,
        };
        assert_eq!(blob.path(), None);
        assert_eq!(blob.order(&tagged), Ordering::Less);
    }

    #[test]
    fn an_archive_member_is_its_own_file_under_the_archive_path() {
        let jar = Provenance::Commit {
            commit: commit("1"),
            path: "dist/app.jar".into(),
        };
        let member = Provenance::Member {
            archive: Box::new(jar.clone()),
            members: vec!["lib/inner.zip".into(), "conf/app.properties".into()],
        };
        assert_eq!(member.path(), Some("dist/app.jar"));
        assert_eq!(member.commit().map(|c| c.id.as_str()), Some("1"));
        assert_eq!(member.members().len(), 2);
        assert_eq!(member.container(), &jar);
        assert!(!member.same_file(&jar));
        assert_eq!(jar.order(&member), Ordering::Less);
        let mut renamed = member.clone();
        assert_eq!(renamed.names_mut().len(), 3);
    }
}
