//! A temp project directory per test, the runner for the built binary in
//! it, and the one isolated `git` helper with the repository builders. Every
//! test gets its own directory; nothing changes the test process's current
//! directory or environment (each command gets its own).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct Project {
    pub dir: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {self}"))
    }
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_till-scan")
}

impl Project {
    pub fn new() -> Project {
        Project {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) {
        self.write_bytes(rel, text.as_bytes());
    }

    pub fn write_bytes(&self, rel: &str, bytes: &[u8]) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        c.args(args)
            .current_dir(self.dir.path())
            .env("NO_COLOR", "1")
            .env_remove("GITHUB_TOKEN")
            .env_remove("TILL_ADMIN_KEY")
            // Would make every scan without a .till-scan.toml read it.
            .env_remove("GITLEAKS_CONFIG");
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_stdin(args, b"")
    }

    pub fn run_stdin(&self, args: &[&str], input: &[u8]) -> Run {
        run_command(self.command(args), input)
    }
}

/// Runs a prepared command with `input` on standard input.
pub fn run_command(mut command: Command, input: &[u8]) -> Run {
    {
        let mut child = spawn_piped(&mut command);
        child.stdin.take().unwrap().write_all(input).unwrap();
        let out = child.wait_with_output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Starts `command` with all three standard streams piped.
fn spawn_piped(command: &mut Command) -> std::process::Child {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn till-scan")
}

// ------------------------------------------------------------------ git

/// Date given to every commit the helpers make, so shas are reproducible.
pub const GIT_DATE: &str = "2024-03-01T12:00:00+00:00";

/// Inherited variables that would point git, libgit2, pre-commit or
/// till-scan at another repository, index, object store, identity, range or
/// hook state (set, for one, when the tests run from inside a git hook).
const INHERITED: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_PREFIX",
    "GIT_NAMESPACE",
    "GIT_CEILING_DIRECTORIES",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_AUTHOR_DATE",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "GIT_COMMITTER_DATE",
    "PRE_COMMIT",
    "PRE_COMMIT_FROM_REF",
    "PRE_COMMIT_TO_REF",
    "PRE_COMMIT_LOCAL_BRANCH",
    "PRE_COMMIT_ORIGIN",
    "PRE_COMMIT_SOURCE",
    "PRE_COMMIT_ALLOW_NO_CONFIG",
    "PRE_COMMIT_NO_CONCURRENCY",
    "SKIP",
    "TILL_SCAN",
];

/// Removes the [`INHERITED`] variables and turns off system and global git
/// config and git's credential prompt. Leaves HOME alone: for commands that
/// need the user's toolchains (the pre-commit tests' `cargo install`).
pub fn clean_env(c: &mut Command) -> &mut Command {
    for var in INHERITED {
        c.env_remove(var);
    }
    c.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
}

/// [`clean_env`], HOME and XDG_CONFIG_HOME in `home` (libgit2 reads its
/// global config from there) and the fixed commit dates.
pub fn isolate_home<'c>(c: &'c mut Command, home: &Path) -> &'c mut Command {
    std::fs::create_dir_all(home).unwrap();
    clean_env(c)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("GIT_AUTHOR_DATE", GIT_DATE)
        .env("GIT_COMMITTER_DATE", GIT_DATE)
}

/// [`isolate_home`] with the home `.home` inside the project: no user, system
/// or global git config (hooksPath, signing, default branch) and no inherited
/// repository leaks into a test.
pub fn isolate(c: &mut Command, p: &Project) {
    isolate_home(c, &p.path(".home"));
}

/// Asserts that git succeeded, naming the command, directory and output.
fn assert_git_ok(out: &Output, args: &[&str], dir: &Path) {
    assert!(
        out.status.success(),
        "git {args:?} in {} failed: {}\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Project {
    /// Runs git in `dir` (relative to the project), isolated, with `envs`
    /// added; returns its output whether it succeeded or not.
    pub fn git_output(&self, dir: &str, args: &[&str], envs: &[(&str, &str)]) -> Output {
        let mut c = Command::new("git");
        c.args(args).current_dir(self.path(dir));
        isolate(&mut c, self);
        c.envs(envs.iter().copied());
        c.output().expect("run git")
    }

    /// [`Project::git_output`], asserting success; returns stdout.
    pub fn git_bytes_env(&self, dir: &str, args: &[&str], envs: &[(&str, &str)]) -> Vec<u8> {
        let out = self.git_output(dir, args, envs);
        assert_git_ok(&out, args, &self.path(dir));
        out.stdout
    }

    /// Raw stdout of a successful isolated git run in `dir`.
    pub fn git_bytes(&self, dir: &str, args: &[&str]) -> Vec<u8> {
        self.git_bytes_env(dir, args, &[])
    }

    /// Stdout (with trailing white space trimmed) of a successful isolated
    /// git run in `dir`, with `envs` added.
    pub fn git_env(&self, dir: &str, args: &[&str], envs: &[(&str, &str)]) -> String {
        let out = self.git_bytes_env(dir, args, envs);
        String::from_utf8_lossy(&out).trim_end().to_string()
    }

    /// Runs git in `dir` (relative to the project), isolated; asserts
    /// success and returns stdout with trailing white space trimmed.
    pub fn git(&self, dir: &str, args: &[&str]) -> String {
        self.git_env(dir, args, &[])
    }

    /// A new repository at `dir` with branch `main` and a fixed identity.
    pub fn git_init(&self, dir: &str) {
        std::fs::create_dir_all(self.path(dir)).unwrap();
        self.git(dir, &["-c", "init.defaultBranch=main", "init", "-q"]);
        self.git(dir, &["config", "user.name", "Alice Tester"]);
        self.git(dir, &["config", "user.email", "alice@tests.invalid"]);
        self.git(dir, &["config", "commit.gpgsign", "false"]);
        self.git(dir, &["config", "gc.auto", "0"]);
    }

    /// `git add -A && git commit -m msg` in `dir`; returns the new sha.
    pub fn git_commit(&self, dir: &str, msg: &str) -> String {
        self.git_commit_at(dir, msg, GIT_DATE)
    }

    /// [`Project::git_commit`] with author and committer date `date`.
    pub fn git_commit_at(&self, dir: &str, msg: &str, date: &str) -> String {
        let envs = [("GIT_AUTHOR_DATE", date), ("GIT_COMMITTER_DATE", date)];
        self.git_env(dir, &["add", "-A"], &envs);
        self.git_env(
            dir,
            &["commit", "-q", "--no-verify", "--allow-empty", "-m", msg],
            &envs,
        );
        self.git(dir, &["rev-parse", "HEAD"])
    }

    /// A bare repository at `dir` whose default branch is `main`.
    pub fn git_init_bare(&self, dir: &str) {
        std::fs::create_dir_all(self.path(dir)).unwrap();
        self.git(
            dir,
            &["-c", "init.defaultBranch=main", "init", "-q", "--bare"],
        );
    }

    /// Runs till-scan in `dir` (relative to the project), isolated like
    /// [`Project::git`], with `input` on standard input and `envs` added.
    pub fn run_in_env(&self, dir: &str, args: &[&str], input: &[u8], envs: &[(&str, &str)]) -> Run {
        let mut c = self.command(args);
        c.current_dir(self.path(dir));
        isolate(&mut c, self);
        c.envs(envs.iter().copied());
        run_command(c, input)
    }

    /// [`Project::run_in_env`] with no extra environment.
    pub fn run_in(&self, dir: &str, args: &[&str], input: &[u8]) -> Run {
        self.run_in_env(dir, args, input, &[])
    }

    /// Runs till-scan in `dir` (relative to the project), isolated like
    /// [`Project::git`], with `input` on standard input, and fails the test
    /// (killing the process) if it runs longer than `limit`: for input that
    /// once made it hang.
    pub fn run_in_within(
        &self,
        dir: &str,
        args: &[&str],
        input: &[u8],
        limit: std::time::Duration,
    ) -> Run {
        let mut c = self.command(args);
        c.current_dir(self.path(dir));
        isolate(&mut c, self);
        run_within(c, input, limit)
    }
}

/// Runs a prepared command like [`run_command`], but kills it and fails the
/// test when it takes longer than `limit`.
pub fn run_within(mut command: Command, input: &[u8], limit: std::time::Duration) -> Run {
    let mut child = spawn_piped(&mut command);
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // Write from a thread: a child that never reads must not block the test.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    // Drain both pipes from threads: a child with a lot to say must not
    // block on a full pipe and look like a hang.
    let drain = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for till-scan") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "till-scan {:?} still running after {limit:?} (killed)\n--- stderr\n{}",
                command.get_args().collect::<Vec<_>>(),
                stderr.join().unwrap_or_default()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let _ = writer.join();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}
