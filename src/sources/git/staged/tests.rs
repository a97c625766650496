//! The fast index reader against libgit2's full diff, on repositories built
//! by the `git` command line, and the reasons it gives when it declines.

use std::path::PathBuf;
use std::process::{Command, Output};

use git2::{Oid, Repository};

use super::{libgit2_changes, staged_changes};
use crate::sources::index::{self, Declined};
use crate::sources::tree::ChangedPath;

/// A repository in a temporary directory, driven by `git` and isolated
/// from the user's and the system's configuration.
struct Git {
    dir: tempfile::TempDir,
}

impl Git {
    /// A repository without commits.
    fn empty() -> Git {
        let git = Git {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir_all(git.path()).unwrap();
        std::fs::create_dir_all(git.dir.path().join("home")).unwrap();
        git.run(&["init", "-q"]);
        git
    }

    /// A repository whose one commit has files at the top and in nested
    /// directories, an executable and a symlink.
    fn new() -> Git {
        let git = Git::empty();
        for (path, text) in [
            ("a.txt", "a\n"),
            ("b.txt", "b\n"),
            ("c.txt", "c\n"),
            ("run.sh", "#!/bin/sh\n"),
            ("docs/readme.md", "docs\n"),
            ("docs/guide.md", "guide\n"),
            ("src/lib.rs", "fn main() {}\n"),
            ("src/deep/x.txt", "x\n"),
            ("src/deep/deeper/y.txt", "y\n"),
            ("keep/k.txt", "k\n"),
            ("gone/g1.txt", "g1\n"),
            ("gone/sub/g2.txt", "g2\n"),
            ("old/name.txt", "a file that moves\n"),
            ("moving/m.txt", "m\n"),
            ("moving/inner/n.txt", "n\n"),
            ("file_to_dir", "a file\n"),
            ("dir_to_file/f.txt", "f\n"),
        ] {
            git.write(path, text);
        }
        git.symlink("a.txt", "link");
        git.run(&["update-index", "--add", "--chmod=+x", "run.sh"]);
        git.run(&["add", "-A"]);
        git.run(&["commit", "-q", "-m", "first"]);
        git
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    fn index(&self) -> PathBuf {
        self.path().join(".git/index")
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn symlink(&self, target: &str, rel: &str) {
        let p = self.path().join(rel);
        let _ = std::fs::remove_file(&p);
        std::os::unix::fs::symlink(target, p).unwrap();
    }

    fn command(&self, args: &[&str]) -> Output {
        let home = self.dir.path().join("home");
        let mut c = Command::new("git");
        c.args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@tests.invalid",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "gc.auto=0",
        ])
        .args(args)
        .current_dir(self.path())
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null");
        for var in [
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
            "GIT_INDEX_VERSION",
            "GIT_OBJECT_DIRECTORY",
        ] {
            c.env_remove(var);
        }
        c.output().expect("run git")
    }

    fn run(&self, args: &[&str]) -> String {
        let out = self.command(args);
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// What the fast reader and libgit2 find staged, each sorted.
    fn both(&self) -> Result<(Changes, Changes), Declined> {
        let repo = Repository::open(self.path()).unwrap();
        let head = repo.head().ok().map(|h| h.peel_to_tree().unwrap());
        let fast = index::staged_changes(&repo, &self.index(), head.as_ref())?;
        let slow = libgit2_changes(&repo, &self.index(), head.as_ref()).unwrap();
        Ok((sorted(fast), sorted(slow)))
    }

    /// Why the fast reader declines this repository's index.
    fn declined(&self) -> Option<Declined> {
        let repo = Repository::open(self.path()).unwrap();
        let head = repo.head().ok().map(|h| h.peel_to_tree().unwrap());
        index::staged_changes(&repo, &self.index(), head.as_ref()).err()
    }
}

type Changes = (Vec<ChangedPath>, Vec<Oid>);

fn sorted((mut changed, mut deleted): Changes) -> Changes {
    changed.sort();
    deleted.sort();
    (changed, deleted)
}

/// A name, and what it stages on top of [`Git::new`].
type Scenario = (&'static str, fn(&Git));

fn modify(g: &Git) {
    g.write("src/lib.rs", "fn main() { changed() }\n");
    g.run(&["add", "src/lib.rs"]);
}

/// Leaves `keep/`'s cache-tree entry invalid with nothing staged in it.
fn change_and_change_back(g: &Git) {
    g.write("keep/k.txt", "other\n");
    g.run(&["add", "keep/k.txt"]);
    g.write("keep/k.txt", "k\n");
    g.run(&["add", "keep/k.txt"]);
}

/// Staged changes of every kind, each on its own paths, so that they also
/// apply all at once.
const SCENARIOS: &[Scenario] = &[
    ("modified", modify),
    ("added, in new nested directories", |g| {
        g.write("src/new.txt", "new\n");
        g.write("new/a/b/c.txt", "c\n");
        g.run(&["add", "-A"]);
    }),
    ("deleted", |g| {
        g.run(&["rm", "-q", "a.txt"]);
    }),
    ("renamed", |g| {
        g.run(&["mv", "docs/guide.md", "src/deep/guide.md"]);
    }),
    ("executable bit set and cleared", |g| {
        g.run(&["update-index", "--chmod=+x", "c.txt"]);
        g.run(&["update-index", "--chmod=-x", "run.sh"]);
    }),
    // The directory (and its subdirectory) leaves the index whole.
    ("a directory deleted", |g| {
        g.run(&["rm", "-rq", "gone"]);
    }),
    ("renamed out of a directory that empties", |g| {
        g.run(&["mv", "old/name.txt", "src/name.txt"]);
    }),
    ("a directory renamed", |g| {
        g.run(&["mv", "moving", "src/moved"]);
    }),
    ("a file replaced by a directory", |g| {
        g.run(&["rm", "-q", "file_to_dir"]);
        g.write("file_to_dir/inner.txt", "inner\n");
        g.run(&["add", "-A"]);
    }),
    ("a directory replaced by a file", |g| {
        g.run(&["rm", "-rq", "dir_to_file"]);
        g.write("dir_to_file", "now a file\n");
        g.run(&["add", "-A"]);
    }),
    ("changed three directories down", |g| {
        g.write("src/deep/deeper/y.txt", "y changed\n");
        g.run(&["add", "-A"]);
    }),
    ("changed and changed back", change_and_change_back),
    ("symlink to file and file to symlink", |g| {
        std::fs::remove_file(g.path().join("link")).unwrap();
        g.write("link", "now a file\n");
        g.symlink("a.txt", "b.txt");
        g.run(&["add", "-A"]);
    }),
    (
        "staged, then git write-tree (a valid cache-tree unlike HEAD)",
        |g| {
            g.write("src/deep/x.txt", "x changed\n");
            g.write("docs/more.md", "more\n");
            g.run(&["add", "-A"]);
            g.run(&["write-tree"]);
        },
    ),
];

fn apply_all(g: &Git) {
    for (_, apply) in SCENARIOS {
        apply(g);
    }
}

#[test]
fn the_fast_reader_finds_what_libgit2_finds() {
    let all = [("all of them at once", apply_all as fn(&Git))];
    for (name, apply) in SCENARIOS.iter().chain(&all) {
        let git = Git::new();
        apply(&git);
        let (fast, slow) = git
            .both()
            .unwrap_or_else(|why| panic!("{name}: the fast reader declined: {why}"));
        assert_eq!(fast, slow, "{name}");
    }
}

#[test]
fn changed_and_changed_back_stages_nothing() {
    let git = Git::new();
    change_and_change_back(&git);
    assert_eq!(git.both().unwrap().0, (vec![], vec![]));
}

#[test]
fn a_first_commit_after_write_tree_takes_the_fast_path() {
    let git = Git::empty();
    git.write("a.txt", "a\n");
    git.write("src/lib.rs", "fn main() {}\n");
    git.run(&["add", "-A"]);
    // `git add` in a new repository writes no cache-tree.
    assert_eq!(git.declined(), Some(Declined::NoCacheTree));
    git.run(&["write-tree"]);
    let (fast, slow) = git.both().unwrap();
    assert_eq!(fast, slow);
    assert_eq!(fast.0.len(), 2);
}

#[test]
fn the_fast_reader_says_why_it_declines() {
    let git = Git::new();
    git.run(&["update-index", "--index-version", "4"]);
    assert_eq!(git.declined(), Some(Declined::Version(4)));

    let git = Git::new();
    git.run(&["update-index", "--skip-worktree", "a.txt"]);
    assert_eq!(git.declined(), Some(Declined::SkipWorktree));

    let git = Git::new();
    git.run(&["sparse-checkout", "set", "--cone", "--sparse-index", "docs"]);
    assert_eq!(git.declined(), Some(Declined::SparseIndex));

    let git = Git::new();
    git.run(&["update-index", "--split-index"]);
    assert_eq!(git.declined(), Some(Declined::SplitIndex));

    let git = Git::new();
    std::fs::remove_file(git.index()).unwrap();
    git.run(&["reset", "-q"]);
    assert_eq!(git.declined(), Some(Declined::NoCacheTree));

    let git = Git::new();
    git.run(&["checkout", "-q", "-b", "other"]);
    git.write("a.txt", "theirs\n");
    git.run(&["commit", "-q", "-am", "theirs"]);
    git.run(&["checkout", "-q", "main"]);
    git.write("a.txt", "ours\n");
    git.run(&["commit", "-q", "-am", "ours"]);
    assert!(!git.command(&["merge", "-q", "other"]).status.success());
    assert_eq!(git.declined(), Some(Declined::Unmerged));

    // A HEAD tree the fast reader must read is missing.
    let git = Git::new();
    let src = git.run(&["rev-parse", "HEAD:src"]);
    std::fs::remove_file(
        git.path()
            .join(".git/objects")
            .join(&src[..2])
            .join(&src[2..]),
    )
    .unwrap();
    git.write("src/lib.rs", "changed\n");
    git.run(&["add", "src/lib.rs"]);
    assert_eq!(git.declined(), Some(Declined::HeadTree));

    let git = Git::new();
    let data = std::fs::read(git.index()).unwrap();
    std::fs::write(git.index(), &data[..data.len() - 1]).unwrap();
    assert_eq!(git.declined(), Some(Declined::Malformed));

    // A size check, not a read: the file is sparse.
    let git = Git::new();
    let file = std::fs::File::options()
        .write(true)
        .open(git.index())
        .unwrap();
    file.set_len(index::MAX_INDEX_SIZE + 1).unwrap();
    assert_eq!(git.declined(), Some(Declined::TooLarge));

    let git = Git::new();
    std::fs::remove_file(git.index()).unwrap();
    assert_eq!(git.declined(), Some(Declined::Unreadable));
}

#[test]
fn staged_changes_records_the_fallback() {
    let git = Git::new();
    modify(&git);
    let fast = staged_changes(&git.path()).unwrap();
    assert_eq!(fast.fallback, None);
    git.run(&["update-index", "--index-version", "4"]);
    let slow = staged_changes(&git.path()).unwrap();
    assert_eq!(slow.fallback, Some(Declined::Version(4)));
    let paths =
        |s: &super::StagedChanges| s.changes.iter().map(|c| c.path.clone()).collect::<Vec<_>>();
    assert_eq!(paths(&fast), ["src/lib.rs"]);
    assert_eq!(paths(&slow), paths(&fast));
}

#[test]
fn the_reasons_read_as_short_notes() {
    assert_eq!(Declined::Version(4).to_string(), "index v4");
    assert_eq!(Declined::TooLarge.to_string(), "the index is over 256 MiB");
    assert_eq!(
        Declined::TooDeep.to_string(),
        "directories nested deeper than 200"
    );
}
