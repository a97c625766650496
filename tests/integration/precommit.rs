//! The real pre-commit framework (https://pre-commit.com) running this
//! repository's `.pre-commit-hooks.yaml` against a throwaway "user" repository.
//!
//! pre-commit is taken from PATH when it is 3.2.0 or newer, else from
//! `target/test-tools/venv` (which `.ci/run` fills), and installed there from
//! PyPI when neither has it, so a plain `cargo test` works on a fresh machine
//! with python3 and git.
//!
//! pre-commit wants the hook repository to be a git repository at a commit,
//! and the working copy may have uncommitted changes, so each test copies the
//! crate's sources into a fresh repository and commits them there.
//!
//! The `language: system` hook runs the binary this `cargo test` built (its
//! directory is put first on PATH): those tests are fast. The `language: rust`
//! hooks make pre-commit `cargo install` the crate (a release build with fat
//! LTO, about two minutes cold); one test does that, with the hook repository
//! at a fixed path and a reproducible commit, `PRE_COMMIT_HOME` and
//! `CARGO_TARGET_DIR` under `target/test-tools`, so a later run with the same
//! sources reuses the built hook environment and takes seconds.
#![cfg(unix)]

use std::ffi::OsStr;
use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Oldest pre-commit that knows the stage names `pre-commit` and `pre-push`
/// (the manifest's `minimum_pre_commit_version`).
const MIN_PRE_COMMIT: (u32, u32, u32) = (3, 2, 0);

/// What the crate needs to build (Cargo.toml's `include`), plus the manifest.
const HOOK_REPO_FILES: &[&str] = &[
    ".pre-commit-hooks.yaml",
    "Cargo.toml",
    "Cargo.lock",
    "build.rs",
    "README.md",
    "src",
    "rules",
    "vendor",
];

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where the tests keep pre-commit, its hook environments and their builds.
fn tools_dir() -> PathBuf {
    let dir = manifest_dir().join("target").join("test-tools");
    fs::create_dir_all(&dir).expect("create target/test-tools");
    dir
}

use crate::support::bin as till_scan_bin;

// ---------------------------------------------------------------------------
// Running commands

/// Exit status and stdout + stderr of a finished command.
struct Out {
    ok: bool,
    code: Option<i32>,
    text: String,
}

impl std::fmt::Display for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {:?}\n--- output\n{}", self.code, self.text)
    }
}

fn run(cmd: &mut Command) -> Out {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Out {
        ok: out.status.success(),
        code: out.status.code(),
        text,
    }
}

fn run_ok(cmd: &mut Command) -> Out {
    let out = run(cmd);
    assert!(out.ok, "{cmd:?} failed: {out}");
    out
}

/// A command with an environment that does not leak the caller's git or
/// pre-commit state into the test: no GIT_DIR and friends (set when the tests
/// themselves run from a git hook), no global or system git config, no
/// SKIP list, no colour.
fn command(program: impl AsRef<OsStr>, dir: &Path) -> Command {
    let mut c = Command::new(program);
    c.current_dir(dir);
    // HOME stays: pre-commit's `cargo install` needs the user's toolchains.
    crate::support::clean_env(&mut c)
        .env("PRE_COMMIT_COLOR", "never")
        .env("NO_COLOR", "1")
        .env("CI", "true")
        .env("PIP_NO_INPUT", "1")
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1");
    c
}

fn git(dir: &Path, args: &[&str]) -> Command {
    let mut c = command("git", dir);
    c.args([
        "-c",
        "init.defaultBranch=main",
        "-c",
        "commit.gpgsign=false",
    ])
    .args(args);
    c
}

/// PATH with `dir` first.
fn path_with(dir: &Path) -> std::ffi::OsString {
    let mut dirs = vec![dir.to_path_buf()];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).expect("PATH")
}

// ---------------------------------------------------------------------------
// A lock shared by threads and by concurrent `cargo test` processes

/// A lock file made with `create_new`; removed on drop (also when a test
/// panics). One left by a killed process is taken over: on Linux as soon as
/// its process is gone, elsewhere after [`FileLock::STALE`].
struct FileLock(PathBuf);

impl FileLock {
    const STALE: Duration = Duration::from_secs(30 * 60);
    const WAIT: Duration = Duration::from_secs(40 * 60);

    fn acquire(path: PathBuf) -> FileLock {
        let started = Instant::now();
        loop {
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut file) => {
                    let _ = writeln!(file, "{}", std::process::id());
                    return FileLock(path);
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    if Self::is_stale(&path) {
                        let _ = fs::remove_file(&path);
                        continue;
                    }
                    assert!(
                        started.elapsed() < Self::WAIT,
                        "waited {:?} for {}; remove it if no test is running",
                        Self::WAIT,
                        path.display()
                    );
                    std::thread::sleep(Duration::from_millis(250));
                }
                Err(e) => panic!("cannot create {}: {e}", path.display()),
            }
        }
    }

    fn is_stale(path: &Path) -> bool {
        let owner_gone = fs::read_to_string(path)
            .ok()
            .and_then(|text| text.trim().parse::<u32>().ok())
            .is_some_and(|pid| {
                Path::new("/proc/self").exists() && !Path::new(&format!("/proc/{pid}")).exists()
            });
        let old = fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > Self::STALE);
        owner_gone || old
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

// ---------------------------------------------------------------------------
// Finding or installing pre-commit

fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    // `pre-commit 4.0.1`
    let version = text.split_whitespace().nth(1)?;
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    Some((
        parts.next()??,
        parts.next()??,
        parts.next().flatten().unwrap_or(0),
    ))
}

/// The version of a working pre-commit at `path`, or None.
fn pre_commit_version(path: &Path) -> Option<(u32, u32, u32)> {
    if !path.is_file() {
        return None;
    }
    let out = run(command(path, &tools_dir()).arg("--version"));
    if !out.ok {
        return None;
    }
    parse_version(&out.text)
}

fn usable(path: &Path) -> bool {
    pre_commit_version(path).is_some_and(|v| v >= MIN_PRE_COMMIT)
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// pre-commit: from PATH, else from the test-tools venv, else installed into
/// that venv from PyPI (once per process, and under a lock file so parallel
/// `cargo test` runs do not build the same venv at once).
fn pre_commit() -> &'static Path {
    static PRE_COMMIT: OnceLock<PathBuf> = OnceLock::new();
    PRE_COMMIT.get_or_init(|| {
        if let Some(p) = on_path("pre-commit").filter(|p| usable(p)) {
            return p;
        }
        let venv = tools_dir().join("venv");
        let bin = venv.join("bin").join("pre-commit");
        if usable(&bin) {
            return bin;
        }
        let _lock = FileLock::acquire(tools_dir().join("venv.lock"));
        if usable(&bin) {
            return bin; // another process installed it while we waited
        }
        eprintln!("installing pre-commit into {}", venv.display());
        if venv.exists() {
            // Left half-made by an interrupted install, or too old.
            fs::remove_dir_all(&venv).expect("remove the old venv");
        }
        let python = ["python3", "python"]
            .into_iter()
            .find(|p| on_path(p).is_some())
            .expect("pre-commit is not installed and there is no python3 to install it with");
        run_ok(
            command(python, &tools_dir())
                .arg("-m")
                .arg("venv")
                .arg(&venv),
        );
        run_ok(command(venv.join("bin").join("pip"), &tools_dir()).args([
            "install",
            "-q",
            "pre-commit>=3.2.0",
        ]));
        assert!(
            usable(&bin),
            "{} does not work after installing it",
            bin.display()
        );
        bin
    })
}

// ---------------------------------------------------------------------------
// Repositories

/// A git repository in a temp dir.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    /// An empty repository with a committer identity.
    fn new() -> Repo {
        let dir = tempfile::tempdir().expect("temp dir");
        run_ok(&mut git(dir.path(), &["init", "-q"]));
        run_ok(&mut git(dir.path(), &["config", "user.name", "Test User"]));
        run_ok(&mut git(
            dir.path(),
            &["config", "user.email", "test@localhost"],
        ));
        Repo { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, rel: &str, text: &str) {
        fs::write(self.path().join(rel), text).expect("write file");
    }

    fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path().join(rel)).expect("read file")
    }

    fn git_ok(&self, args: &[&str]) -> Out {
        run_ok(&mut git(self.path(), args))
    }

    fn head(&self) -> String {
        self.git_ok(&["rev-parse", "HEAD"]).text.trim().to_string()
    }

    /// A repository with one clean commit.
    fn with_initial_commit(files: &[(&str, &str)]) -> Repo {
        let repo = Repo::new();
        repo.write("README.md", "# demo\n\nNothing secret here.\n");
        for (rel, text) in files {
            repo.write(rel, text);
        }
        repo.git_ok(&["add", "-A"]);
        repo.git_ok(&["commit", "-q", "--no-verify", "-m", "initial commit"]);
        repo
    }

    /// A new bare repository in a temp dir, added as this one's `origin`.
    fn bare_origin(&self) -> tempfile::TempDir {
        let remote = tempfile::tempdir().expect("temp dir");
        run_ok(&mut git(remote.path(), &["init", "-q", "--bare"]));
        self.git_ok(&[
            "remote",
            "add",
            "origin",
            &remote.path().display().to_string(),
        ]);
        remote
    }

    /// `pre-commit ARGS` run in this repository.
    fn pre_commit(&self, args: &[&str]) -> Command {
        let mut c = command(pre_commit(), self.path());
        c.args(args);
        c
    }
}

fn copy_tree(from: &Path, to: &Path) {
    if from.is_dir() {
        fs::create_dir_all(to).expect("create dir");
        let mut entries: Vec<_> = fs::read_dir(from)
            .expect("read dir")
            .map(|e| e.expect("dir entry").path())
            .collect();
        entries.sort();
        for entry in entries {
            let name = entry.file_name().expect("file name");
            // Editor swap files and the like are no part of the crate.
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            copy_tree(&entry, &to.join(name));
        }
    } else {
        fs::copy(from, to).unwrap_or_else(|e| panic!("cannot copy {}: {e}", from.display()));
    }
}

/// Makes `dest` a git repository holding this crate's sources and manifest at
/// one commit, and returns that commit. Identity, dates and message are fixed,
/// so the same sources give the same commit (which pre-commit's cache keys on).
fn make_hook_repo(dest: &Path) -> String {
    if dest.exists() {
        fs::remove_dir_all(dest).expect("remove old hook repo");
    }
    fs::create_dir_all(dest).expect("create hook repo");
    for rel in HOOK_REPO_FILES {
        copy_tree(&manifest_dir().join(rel), &dest.join(rel));
    }
    run_ok(&mut git(dest, &["init", "-q"]));
    run_ok(&mut git(dest, &["add", "-A"]));
    run_ok(
        git(
            dest,
            &["commit", "-q", "--no-verify", "-m", "till-scan hook repo"],
        )
        .env("GIT_AUTHOR_NAME", "till-scan tests")
        .env("GIT_AUTHOR_EMAIL", "tests@localhost")
        .env("GIT_AUTHOR_DATE", "2000-01-01T00:00:00Z")
        .env("GIT_COMMITTER_NAME", "till-scan tests")
        .env("GIT_COMMITTER_EMAIL", "tests@localhost")
        .env("GIT_COMMITTER_DATE", "2000-01-01T00:00:00Z"),
    );
    let out = run_ok(&mut git(dest, &["rev-parse", "HEAD"]));
    out.text.trim().to_string()
}

/// A `.pre-commit-config.yaml` using `hooks` from the repository at `repo`.
fn config_yaml(repo: &Path, rev: &str, hooks: &[&str]) -> String {
    let mut yaml = format!(
        "repos:\n  - repo: {:?}\n    rev: {rev}\n    hooks:\n",
        repo.display().to_string()
    );
    for id in hooks {
        yaml.push_str(&format!("      - id: {id}\n"));
    }
    yaml
}

// ---------------------------------------------------------------------------
// Synthetic keys

/// A synthetic Groq-format key (`gsk_` + 52 alphanumerics), new on every call
/// so no key-shaped literal lives in this file. It avoids what till-scan
/// takes for a placeholder: repeated runs, counting sequences, and words such
/// as "example", "sample" or "fake".
fn synthetic_groq_key() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const WORDS: &[&str] = &[
        "example",
        "sample",
        "fake",
        "dummy",
        "test",
        "your",
        "xxx",
        "placeholder",
        "redacted",
        "changeme",
        "qwerty",
    ];
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_nanos() as u64;
    let mut state = nanos
        ^ (u64::from(std::process::id()) << 32)
        ^ CALLS
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        | 1;
    loop {
        let body: Vec<u8> = (0..52)
            .map(|_| {
                // xorshift64*
                state ^= state >> 12;
                state ^= state << 25;
                state ^= state >> 27;
                let r = state.wrapping_mul(0x2545_F491_4F6C_DD1D);
                ALPHABET[(r >> 33) as usize % ALPHABET.len()]
            })
            .collect();
        let repeats = body.windows(3).any(|w| w[0] == w[1] && w[1] == w[2]);
        let counts = body.windows(3).any(|w| {
            let (a, b, c) = (i16::from(w[0]), i16::from(w[1]), i16::from(w[2]));
            (b - a).abs() == 1 && c - b == b - a
        });
        let text = String::from_utf8(body).expect("ascii");
        let lower = text.to_ascii_lowercase();
        if !repeats && !counts && !WORDS.iter().any(|w| lower.contains(w)) {
            return format!("gsk_{text}");
        }
    }
}

/// A file line with a fresh key, checked to be found by the built binary
/// itself, so a hook test fails only for a hook reason.
fn leaked_line() -> (String, String) {
    let key = synthetic_groq_key();
    let line = format!("GROQ_API_KEY={key}\n");
    let mut child = command(till_scan_bin(), &tools_dir())
        .args(["stdin", "--no-baseline", "--no-ignore"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn till-scan");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(line.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("till-scan stdin");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.code() == Some(1) && stdout.contains("groq.api-key"),
        "till-scan does not find the synthetic key {key}: {:?}\n{stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    (key, line)
}

const CLEAN_CONFIG: &str = "# Read the key from the environment.\nGROQ_API_KEY=\n";

/// Stages a fresh key in `config.env`: `commit` must be refused, its output
/// holding each of `needles` and not the key, and HEAD must not move. Then
/// stages a clean `config.env`: `commit` must succeed and make a commit.
/// Returns the key.
fn commit_is_blocked_then_clean_passes(
    user: &Repo,
    needles: &[&str],
    commit: impl Fn(&str) -> Out,
) -> String {
    let before = user.head();
    let (key, line) = leaked_line();
    user.write("config.env", &line);
    user.git_ok(&["add", "config.env"]);
    let blocked = commit("add config");
    eprintln!("--- git commit, key staged:\n{blocked}");
    assert!(!blocked.ok, "git commit went through with a key: {blocked}");
    for needle in needles {
        assert!(blocked.text.contains(needle), "no `{needle}` in: {blocked}");
    }
    assert!(!blocked.text.contains(&key), "key printed: {blocked}");
    assert_eq!(user.head(), before, "a commit was made");

    user.write("config.env", CLEAN_CONFIG);
    user.git_ok(&["add", "config.env"]);
    let committed = commit("add config");
    assert!(
        committed.ok,
        "git commit of a clean file failed: {committed}"
    );
    assert_ne!(user.head(), before, "no commit was made");
    key
}

// ---------------------------------------------------------------------------
// Tests

#[test]
fn manifest_is_valid_and_defines_the_three_hooks() {
    let manifest = manifest_dir().join(".pre-commit-hooks.yaml");
    let out = run_ok(
        command(pre_commit(), &manifest_dir())
            .arg("validate-manifest")
            .arg(&manifest),
    );
    assert!(
        !out.text.contains("deprecated"),
        "manifest uses deprecated names: {out}"
    );
    let text = fs::read_to_string(&manifest).expect("read manifest");
    for id in ["till-scan", "till-scan-pre-push", "till-scan-system"] {
        assert!(
            text.contains(&format!("- id: {id}\n")),
            "no hook `{id}` in the manifest"
        );
    }
}

/// `pre-commit try-repo` with the `language: system` hook: a staged key fails
/// the hook and the output names the file and rule; a clean index passes,
/// also when the key is still in the work tree but not staged.
#[test]
fn try_repo_system_hook_blocks_a_staged_key_and_passes_a_clean_index() {
    let hooks = tempfile::tempdir().expect("temp dir");
    let home = tempfile::tempdir().expect("temp dir");
    make_hook_repo(hooks.path());
    let user = Repo::with_initial_commit(&[]);
    let bin_dir = Path::new(till_scan_bin()).parent().expect("bin dir");
    let try_repo = || {
        let mut c = user.pre_commit(&["try-repo"]);
        c.arg(hooks.path())
            .args(["till-scan-system", "--verbose"])
            .env("PATH", path_with(bin_dir))
            .env("PRE_COMMIT_HOME", home.path());
        run(&mut c)
    };

    let (key, line) = leaked_line();
    user.write("config.env", &line);
    user.git_ok(&["add", "config.env"]);
    let blocked = try_repo();
    eprintln!("--- try-repo, key staged:\n{blocked}");
    assert!(!blocked.ok, "the hook passed a staged key: {blocked}");
    assert_eq!(blocked.code, Some(1), "{blocked}");
    for needle in [
        "- hook id: till-scan-system",
        "Failed",
        "config.env",
        "groq.api-key",
    ] {
        assert!(blocked.text.contains(needle), "no `{needle}` in: {blocked}");
    }
    assert!(
        !blocked.text.contains(&key),
        "the hook printed the key unredacted: {blocked}"
    );

    user.write("config.env", CLEAN_CONFIG);
    user.git_ok(&["add", "config.env"]);
    let clean = try_repo();
    eprintln!("--- try-repo, clean file staged:\n{clean}");
    assert!(clean.ok, "the hook failed a clean index: {clean}");
    assert!(clean.text.contains("Passed"), "{clean}");

    // The key back in the work tree, not staged: what would be committed is
    // clean, and pre-commit puts the unstaged change back afterwards.
    user.write("config.env", &format!("{CLEAN_CONFIG}{line}"));
    let unstaged = try_repo();
    assert!(
        unstaged.ok,
        "the hook failed on an unstaged key: {unstaged}"
    );
    assert!(
        user.read("config.env").contains(&key),
        "pre-commit lost the unstaged change"
    );
}

/// The `language: system` hook installed with `pre-commit install`: a real
/// `git commit` of a key is refused and leaves HEAD where it was.
#[test]
fn installed_system_hook_blocks_git_commit() {
    let hooks = tempfile::tempdir().expect("temp dir");
    let home = tempfile::tempdir().expect("temp dir");
    let rev = make_hook_repo(hooks.path());
    let user = Repo::with_initial_commit(&[(
        ".pre-commit-config.yaml",
        &config_yaml(hooks.path(), &rev, &["till-scan-system"]),
    )]);
    let bin_dir = Path::new(till_scan_bin()).parent().expect("bin dir");
    let path = path_with(bin_dir);
    run_ok(
        user.pre_commit(&["install"])
            .env("PATH", &path)
            .env("PRE_COMMIT_HOME", home.path()),
    );
    let commit = |message: &str| {
        run(git(user.path(), &["commit", "-q", "-m", message])
            .env("PATH", &path)
            .env("PRE_COMMIT_HOME", home.path()))
    };

    commit_is_blocked_then_clean_passes(
        &user,
        &["config.env", "groq.api-key", "This commit is blocked"],
        commit,
    );
}

/// The `language: rust` hooks, built by pre-commit with `cargo install`:
/// `git commit` of a key and `git push` of a commit with a key are refused.
/// The hook repository sits at a fixed path with a reproducible commit and
/// `PRE_COMMIT_HOME` / `CARGO_TARGET_DIR` are kept under target/test-tools,
/// so the build is done once per version of the sources.
#[test]
fn rust_hooks_build_and_block_commit_and_push() {
    let test_started = Instant::now();
    let tools = tools_dir();
    let _lock = FileLock::acquire(tools.join("rust-hook.lock"));
    let hook_repo = tools.join("hook-repo");
    let home = tools.join("pre-commit-home");
    let cargo_target = tools.join("cargo-target");
    let rev = make_hook_repo(&hook_repo);

    let user = Repo::with_initial_commit(&[(
        ".pre-commit-config.yaml",
        &config_yaml(&hook_repo, &rev, &["till-scan", "till-scan-pre-push"]),
    )]);
    let remote = user.bare_origin();

    // No till-scan of ours on PATH: the hooks must run the one pre-commit built.
    let env = |c: &mut Command| {
        c.env("PRE_COMMIT_HOME", &home)
            .env("CARGO_TARGET_DIR", &cargo_target)
            .env("CARGO_TERM_COLOR", "never");
    };
    let mut install = user.pre_commit(&["install", "-t", "pre-commit", "-t", "pre-push"]);
    env(&mut install);
    run_ok(&mut install);

    let started = Instant::now();
    let mut install_hooks = user.pre_commit(&["install-hooks"]);
    env(&mut install_hooks);
    let built = run(&mut install_hooks);
    let log = fs::read_to_string(home.join("pre-commit.log")).unwrap_or_default();
    assert!(
        built.ok,
        "pre-commit could not build the hook: {built}\n{log}"
    );
    eprintln!(
        "language: rust hook environment for {} at {rev} ready in {:.1} s",
        hook_repo.display(),
        started.elapsed().as_secs_f64()
    );
    let built_binary = fs::read_dir(&home)
        .expect("read PRE_COMMIT_HOME")
        .filter_map(|e| e.ok())
        .flat_map(|e| fs::read_dir(e.path()).into_iter().flatten().flatten())
        .map(|e| e.path().join("bin").join("till-scan"))
        .any(|p| p.starts_with(&home) && p.is_file() && p.to_string_lossy().contains("rustenv"));
    assert!(
        built_binary,
        "no rustenv-*/bin/till-scan under {}",
        home.display()
    );

    let git_with_hooks = |args: &[&str]| {
        let mut c = git(user.path(), args);
        env(&mut c);
        run(&mut c)
    };

    // pre-commit stage: a staged key blocks the commit.
    let key = commit_is_blocked_then_clean_passes(
        &user,
        &["- hook id: till-scan", "config.env", "groq.api-key"],
        |message| git_with_hooks(&["commit", "-q", "-m", message]),
    );

    // pre-push stage: a clean history pushes ...
    let pushed = git_with_hooks(&["push", "-q", "origin", "HEAD:refs/heads/main"]);
    assert!(pushed.ok, "push of a clean history failed: {pushed}");
    let remote_head = || {
        run_ok(&mut git(remote.path(), &["rev-parse", "refs/heads/main"]))
            .text
            .trim()
            .to_string()
    };
    let published = remote_head();
    assert_eq!(published, user.head());

    // ... and a commit that adds a key (made past the commit hook) does not.
    user.write("settings.py", &format!("GROQ_API_KEY = \"{key}\"\n"));
    user.git_ok(&["add", "settings.py"]);
    user.git_ok(&["commit", "-q", "--no-verify", "-m", "add settings"]);
    let refused = git_with_hooks(&["push", "-q", "origin", "HEAD:refs/heads/main"]);
    eprintln!("--- git push, a pushed commit adds a key:\n{refused}");
    assert!(!refused.ok, "push of a key went through: {refused}");
    for needle in [
        "- hook id: till-scan-pre-push",
        "settings.py",
        "groq.api-key",
    ] {
        assert!(refused.text.contains(needle), "no `{needle}` in: {refused}");
    }
    assert!(!refused.text.contains(&key), "key printed: {refused}");
    assert_eq!(remote_head(), published, "the remote branch moved");
    eprintln!(
        "language: rust hooks test done in {:.1} s",
        test_started.elapsed().as_secs_f64()
    );
}

/// The first push of a new repository whose root commit holds a key. For a
/// push that includes the root commit pre-commit sets no PRE_COMMIT_FROM_REF /
/// PRE_COMMIT_TO_REF (it runs the hook as for `--all-files`) and has already
/// read git's ref lines from standard input, so `till-scan git --pre-push`
/// gets no range and empty input, scans no commit and lets the push through.
#[test]
fn pre_push_under_pre_commit_scans_the_first_push_of_a_repository() {
    let home = tempfile::tempdir().expect("temp dir");
    let (_key, line) = leaked_line();
    let config = "repos:\n  - repo: local\n    hooks:\n      - id: till-scan-pre-push\n        \
                  name: till-scan pre-push\n        entry: till-scan git --pre-push\n        \
                  language: system\n        pass_filenames: false\n        always_run: true\n        \
                  stages: [pre-push]\n";
    let user =
        Repo::with_initial_commit(&[(".pre-commit-config.yaml", config), ("config.env", &line)]);
    let _remote = user.bare_origin();
    let bin_dir = Path::new(till_scan_bin()).parent().expect("bin dir");
    let path = path_with(bin_dir);
    run_ok(
        user.pre_commit(&["install", "-t", "pre-push"])
            .env("PATH", &path)
            .env("PRE_COMMIT_HOME", home.path()),
    );
    let push = run(git(
        user.path(),
        &["push", "-q", "origin", "HEAD:refs/heads/main"],
    )
    .env("PATH", &path)
    .env("PRE_COMMIT_HOME", home.path()));
    assert!(!push.ok, "the first push of a key went through: {push}");
}
