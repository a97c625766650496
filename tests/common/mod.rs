//! Helpers for integration tests: a temp project directory and a way to run
//! the built binary in it.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

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
            .env_remove("TILL_ADMIN_KEY");
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
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn till-scan");
        child.stdin.take().unwrap().write_all(input).unwrap();
        let out = child.wait_with_output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

// ------------------------------------------------------------------ git

/// Date given to every commit the helpers make, so shas are reproducible.
pub const GIT_DATE: &str = "2024-03-01T12:00:00+00:00";

/// Removes environment that would point git, libgit2 or till-scan elsewhere,
/// and gives them a HOME inside the project: no user, system or global git
/// config (hooksPath, signing, default branch) leaks into a test.
pub fn isolate(c: &mut Command, p: &Project) {
    for var in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_CEILING_DIRECTORIES",
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "PRE_COMMIT_FROM_REF",
        "PRE_COMMIT_TO_REF",
        "PRE_COMMIT_LOCAL_BRANCH",
        "TILL_SCAN",
    ] {
        c.env_remove(var);
    }
    let home = p.path(".home");
    std::fs::create_dir_all(&home).unwrap();
    c.env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_AUTHOR_DATE", GIT_DATE)
        .env("GIT_COMMITTER_DATE", GIT_DATE);
}

impl Project {
    /// Runs git in `dir` (relative to the project), isolated; asserts
    /// success and returns trimmed stdout.
    pub fn git(&self, dir: &str, args: &[&str]) -> String {
        let mut c = Command::new("git");
        c.args(args).current_dir(self.path(dir));
        isolate(&mut c, self);
        let out = c.output().expect("run git");
        assert!(
            out.status.success(),
            "git {args:?} in {dir} failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
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
        self.git(dir, &["add", "-A"]);
        self.git(
            dir,
            &["commit", "-q", "--no-verify", "--allow-empty", "-m", msg],
        );
        self.git(dir, &["rev-parse", "HEAD"])
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
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn till-scan");
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
