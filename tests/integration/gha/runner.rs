//! Runs `action.yml` the way the GitHub runner runs a composite action, on a
//! temp repository ([`Fixture`]): inputs from defaults and `with:`, each
//! step's `if:` and `${{ }}` evaluated, each `run:` step executed with
//! `bash --noprofile --norc -eo pipefail` and its own `GITHUB_OUTPUT` and
//! `GITHUB_STEP_SUMMARY`, `uses:` steps recorded but not run.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use super::expr::Contexts;

// Synthetic Groq keys (rotatable to Till), random, never real.
/// Committed before the pull request's base: a PR scan must not report it.
pub const K_OLD: &str = crate::support::keys::K1;
/// Committed in the pull request.
pub const K_NEW: &str = crate::support::keys::K2;
pub const ZERO: &str = "0000000000000000000000000000000000000000";
/// Stands in for `github.token`; not a credential anywhere.
pub const FAKE_TOKEN: &str = "ghs_fake_token_for_tests_0000";
pub const REPOSITORY: &str = "acme/widgets";

pub fn action_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn action() -> Value {
    yaml(&action_path().join("action.yml"))
}

pub fn steps(action: &Value) -> &Vec<Value> {
    action["runs"]["steps"].as_array().expect("runs.steps")
}

pub fn str_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), v)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// What one run of the action did.
#[derive(Debug, Default)]
pub struct ActionRun {
    /// Names of the `run:` steps executed, in order.
    pub ran: Vec<String>,
    /// `uses:` steps that would run, with their evaluated `with:`.
    pub uses: Vec<(String, BTreeMap<String, String>)>,
    /// The step that failed (and its exit code), if any.
    pub failed: Option<(String, i32)>,
    /// Each step's `GITHUB_OUTPUT` file as written, by step id.
    pub output_files: BTreeMap<String, String>,
    /// The job summary: every step's `GITHUB_STEP_SUMMARY`, in order.
    pub summary: String,
    /// Standard output and error of every step.
    pub log: String,
    /// The action's outputs, evaluated after the last step.
    pub outputs: BTreeMap<String, String>,
}

impl ActionRun {
    pub fn step_outputs(&self, id: &str) -> BTreeMap<String, String> {
        parse_output_file(self.output_files.get(id).map_or("", String::as_str))
    }

    pub fn output(&self, name: &str) -> &str {
        self.outputs
            .get(name)
            .unwrap_or_else(|| panic!("no output {name}: {self}"))
    }

    pub fn report(&self) -> Value {
        let text = std::fs::read_to_string(self.output("report-file"))
            .unwrap_or_else(|e| panic!("report-file: {e}\n{self}"));
        serde_json::from_str(&text).unwrap()
    }

    /// The paths of the findings in the JSON report (it is redacted, so
    /// the two keys are told apart by the file each was committed to).
    pub fn finding_paths(&self) -> BTreeSet<String> {
        self.report()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap().to_string())
            .collect()
    }
}

impl std::fmt::Display for ActionRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ran {:?}, uses {:?}, failed {:?}\noutputs {:?}\n--- log\n{}\n--- summary\n{}",
            self.ran, self.uses, self.failed, self.outputs, self.log, self.summary
        )
    }
}

/// `GITHUB_OUTPUT` syntax: `name=value` lines and `name<<DELIM` blocks.
pub fn parse_output_file(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delim)) = line.split_once("<<") {
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delim {
                    break;
                }
                value.push(l);
            }
            out.insert(name.to_string(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            out.insert(name.to_string(), value.to_string());
        } else if !line.is_empty() {
            panic!("bad GITHUB_OUTPUT line {line:?}");
        }
    }
    out
}

/// A temp origin, a workspace cloned from it, and the runner's directories.
pub struct Fixture {
    pub project: crate::support::Project,
    /// The commit before the base: adds `old.env` with K_OLD.
    pub first: String,
    /// The pull request's base (main).
    pub base: String,
    /// The pull request's first commit: adds `new.env` with K_NEW.
    pub key_commit: String,
    /// The pull request's head.
    pub head: String,
}

impl Fixture {
    pub fn path(&self, rel: &str) -> PathBuf {
        self.project.path(rel)
    }

    pub fn git(&self, dir: &str, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(self.path(dir))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(self.base_env())
            .env("GIT_AUTHOR_DATE", "2024-03-01T12:00:00+00:00")
            .env("GIT_COMMITTER_DATE", "2024-03-01T12:00:00+00:00")
            .output()
            .expect("run git");
        assert!(
            out.status.success(),
            "git {args:?} in {dir}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Environment every process gets: no user or system git config.
    pub fn base_env(&self) -> Vec<(String, String)> {
        let home = self.path("home");
        [
            ("HOME", home.display().to_string()),
            (
                "XDG_CONFIG_HOME",
                home.join(".config").display().to_string(),
            ),
            ("GIT_CONFIG_NOSYSTEM", "1".into()),
            ("GIT_CONFIG_GLOBAL", "/dev/null".into()),
            ("GIT_TERMINAL_PROMPT", "0".into()),
            ("GIT_AUTHOR_NAME", "Alice Tester".into()),
            ("GIT_AUTHOR_EMAIL", "alice@tests.invalid".into()),
            ("GIT_COMMITTER_NAME", "Alice Tester".into()),
            ("GIT_COMMITTER_EMAIL", "alice@tests.invalid".into()),
            ("NO_COLOR", "1".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    pub fn commit(&self, msg: &str) -> String {
        self.git("seed", &["add", "-A"]);
        self.git("seed", &["commit", "-q", "--no-verify", "-m", msg]);
        self.git("seed", &["rev-parse", "HEAD"])
    }

    /// main: `first` (old key), `base`; feature: `key_commit` (new key), `head`.
    /// Both pushed to a bare `origin.git`; `ws` is a full clone at `head`.
    pub fn new() -> Fixture {
        let project = crate::support::Project::new();
        std::fs::create_dir_all(project.path("home")).unwrap();
        std::fs::create_dir_all(project.path("seed")).unwrap();
        std::fs::create_dir_all(project.path("runner-temp")).unwrap();
        let mut f = Fixture {
            project,
            first: String::new(),
            base: String::new(),
            key_commit: String::new(),
            head: String::new(),
        };
        f.git("seed", &["-c", "init.defaultBranch=main", "init", "-q"]);
        f.git("seed", &["config", "commit.gpgsign", "false"]);
        f.project
            .write("seed/old.env", &format!("GROQ_API_KEY={K_OLD}\n"));
        f.first = f.commit("add the old config");
        f.project.write("seed/README.md", "# widgets\n");
        f.base = f.commit("docs");
        f.git("seed", &["checkout", "-q", "-b", "feature"]);
        f.project
            .write("seed/new.env", &format!("GROQ_API_KEY={K_NEW}\n"));
        f.key_commit = f.commit("add the new client");
        f.project
            .write("seed/README.md", "# widgets\n\nNow with a client.\n");
        f.head = f.commit("docs for the client");
        f.git(".", &["init", "-q", "--bare", "origin.git"]);
        f.git("seed", &["push", "-q", "../origin.git", "main", "feature"]);
        f.clone_workspace(&[]);
        f
    }

    pub fn origin_url(&self) -> String {
        format!("file://{}", self.path("origin.git").display())
    }

    /// (Re)creates the workspace `ws` as a clone of origin at `head`
    /// (`extra` clone flags, e.g. `--depth 1`).
    pub fn clone_workspace(&self, extra: &[&str]) {
        let _ = std::fs::remove_dir_all(self.path("ws"));
        let url = self.origin_url();
        let mut args = vec!["clone", "-q", "--branch", "feature"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&[&url, "ws"]);
        self.git(".", &args);
    }

    pub fn pull_request_payload(&self) -> Value {
        json!({
            "action": "synchronize",
            "number": 7,
            "pull_request": {
                "number": 7,
                "base": { "ref": "main", "sha": self.base, "repo": { "full_name": REPOSITORY, "fork": false } },
                "head": { "ref": "feature", "sha": self.head, "repo": { "full_name": REPOSITORY, "fork": false } },
            },
            "repository": { "full_name": REPOSITORY, "default_branch": "main" },
        })
    }

    pub fn push_payload(&self, before: &str, after: &str, git_ref: &str) -> Value {
        json!({
            "ref": git_ref,
            "before": before,
            "after": after,
            "created": before == ZERO,
            "deleted": after == ZERO,
            "repository": { "full_name": REPOSITORY, "default_branch": "main" },
        })
    }

    /// Runs the action's steps for `event` with `payload` and `with:` inputs.
    pub fn run(&self, event: &str, payload: &Value, with: &[(&str, &str)]) -> ActionRun {
        run_action(self, event, payload, with, &[], &[])
    }

    /// As [`Fixture::run`], with `env` set for every step over the runner's
    /// defaults (e.g. `GITHUB_API_URL` pointing at a test double).
    pub fn run_with_env(
        &self,
        event: &str,
        payload: &Value,
        with: &[(&str, &str)],
        env: &[(&str, &str)],
    ) -> ActionRun {
        run_action(self, event, payload, with, env, &[])
    }

    /// As [`Fixture::run_with_env`], with more fields of the `github`
    /// context (e.g. `action_ref`, as when the workflow says `@v0.2.0`).
    pub fn run_with_github(
        &self,
        event: &str,
        payload: &Value,
        with: &[(&str, &str)],
        env: &[(&str, &str)],
        github: &[(&str, &str)],
    ) -> ActionRun {
        run_action(self, event, payload, with, env, github)
    }
}

pub fn run_action(
    fx: &Fixture,
    event: &str,
    payload: &Value,
    with: &[(&str, &str)],
    env_overrides: &[(&str, &str)],
    github_fields: &[(&str, &str)],
) -> ActionRun {
    let action = action();
    let workspace = fx.path("ws");
    let runner_temp = fx.path("runner-temp");
    let files = tempfile::tempdir_in(fx.path(".")).unwrap();
    let event_path = files.path().join("event.json");
    std::fs::write(&event_path, serde_json::to_string_pretty(payload).unwrap()).unwrap();
    let git_ref = payload["ref"]
        .as_str()
        .or(payload["merge_group"]["head_ref"].as_str())
        .map(str::to_string)
        .unwrap_or_else(|| format!("refs/pull/{}/merge", payload["number"]));
    let sha = payload["after"]
        .as_str()
        .or(payload["pull_request"]["head"]["sha"].as_str())
        .or(payload["merge_group"]["head_sha"].as_str())
        .unwrap_or(&fx.head)
        .to_string();
    let github = json!({
        "token": FAKE_TOKEN,
        "event_name": event,
        "event": payload,
        "ref": git_ref,
        "sha": sha,
        "repository": REPOSITORY,
        "workspace": workspace.display().to_string(),
        "action_path": action_path().display().to_string(),
    });
    let mut github = github;
    for (name, value) in github_fields {
        github[*name] = json!(value);
    }
    let runner: BTreeMap<String, String> = [
        ("os", "Linux".to_string()),
        ("arch", "X64".to_string()),
        ("temp", runner_temp.display().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let mut ctx = Contexts {
        inputs: BTreeMap::new(),
        steps: BTreeMap::new(),
        github,
        runner,
        failed: false,
    };

    // Inputs: `with:` over the defaults (which may hold expressions).
    let declared = action["inputs"].as_object().expect("inputs");
    for (name, _) in with {
        assert!(declared.contains_key(*name), "input {name} is not declared");
    }
    for (name, spec) in declared {
        let default = ctx.substitute(spec["default"].as_str().unwrap_or(""));
        let value = with
            .iter()
            .find(|(n, _)| n == name)
            .map_or(default, |(_, v)| v.to_string());
        ctx.inputs.insert(name.clone(), value);
    }

    let mut env: Vec<(String, String)> = fx.base_env();
    env.extend(
        [
            ("PATH", std::env::var("PATH").unwrap_or_default()),
            ("CI", "true".into()),
            ("GITHUB_ACTIONS", "true".into()),
            ("GITHUB_EVENT_NAME", event.into()),
            ("GITHUB_EVENT_PATH", event_path.display().to_string()),
            ("GITHUB_REF", git_ref.clone()),
            (
                "GITHUB_REF_NAME",
                git_ref.rsplit('/').next().unwrap_or("").into(),
            ),
            ("GITHUB_SHA", sha.clone()),
            ("GITHUB_REPOSITORY", REPOSITORY.into()),
            ("GITHUB_WORKSPACE", workspace.display().to_string()),
            ("GITHUB_ACTION_PATH", action_path().display().to_string()),
            // Nothing listens there: a test that reached out would fail.
            ("GITHUB_API_URL", "http://127.0.0.1:9".into()),
            ("TILL_API_URL", "http://127.0.0.1:9".into()),
            ("RUNNER_TEMP", runner_temp.display().to_string()),
            ("RUNNER_OS", "Linux".into()),
            ("RUNNER_ARCH", "X64".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v)),
    );
    for (name, value) in env_overrides {
        env.retain(|(k, _)| k != name);
        env.push((name.to_string(), value.to_string()));
    }

    let mut run = ActionRun::default();
    for (n, step) in steps(&action).iter().enumerate() {
        let name = step["name"].as_str().unwrap_or("step").to_string();
        let id = step["id"].as_str().map(str::to_string);
        if !ctx.condition(step["if"].as_str()) {
            continue;
        }
        if let Some(uses) = step["uses"].as_str() {
            let with: BTreeMap<String, String> = str_map(&step["with"])
                .into_iter()
                .map(|(k, v)| (k, ctx.substitute(&v)))
                .collect();
            run.uses.push((uses.to_string(), with));
            if let Some(id) = id {
                ctx.steps.insert(id, BTreeMap::new());
            }
            continue;
        }
        let script = step["run"].as_str().expect("a step is run: or uses:");
        assert_eq!(step["shell"], "bash", "step {name} needs shell: bash");
        let script_path = files.path().join(format!("step-{n}.sh"));
        std::fs::write(&script_path, ctx.substitute(script)).unwrap();
        let output_file = files.path().join(format!("output-{n}"));
        let summary_file = files.path().join(format!("summary-{n}"));
        std::fs::write(&output_file, "").unwrap();
        std::fs::write(&summary_file, "").unwrap();
        let mut c = Command::new("bash");
        c.args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script_path)
            .current_dir(&workspace)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("GITHUB_OUTPUT", &output_file)
            .env("GITHUB_STEP_SUMMARY", &summary_file);
        for (k, v) in str_map(&step["env"]) {
            c.env(k, ctx.substitute(&v));
        }
        let out = c.output().expect("run bash");
        run.ran.push(name.clone());
        run.log.push_str(&format!(
            "## {name}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
        run.summary
            .push_str(&std::fs::read_to_string(&summary_file).unwrap());
        let outputs_text = std::fs::read_to_string(&output_file).unwrap();
        if let Some(id) = id {
            ctx.steps
                .insert(id.clone(), parse_output_file(&outputs_text));
            run.output_files.insert(id, outputs_text);
        }
        if !out.status.success() {
            ctx.failed = true;
            if run.failed.is_none() {
                run.failed = Some((name, out.status.code().unwrap_or(-1)));
            }
        }
    }
    for (name, spec) in action["outputs"].as_object().expect("outputs") {
        let value = ctx.substitute(spec["value"].as_str().expect("output value"));
        run.outputs.insert(name.clone(), value);
    }
    run
}
