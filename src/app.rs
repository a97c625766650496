//! Runs a parsed command: resolves the configuration (command line, then
//! `.till-scan.toml`, then defaults), builds the rules, matcher and scanner,
//! runs a source and hands the result to a report. `main` only maps the
//! outcome to an exit code.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};

use crate::baseline::{self, Baseline, BASELINE_FILE_NAME};
use crate::cli::{
    Cli, ColorChoice, Command, Common, Format, HistoryArgs, RotateArgs, RulesCommand,
};
use crate::config::{Config, DEFAULT_MAX_FILE_SIZE};
use crate::hook::{self, HookKind};
use crate::matcher::{self, Matcher, Workload};
use crate::report::{self, ReportContext};
use crate::rules::RuleSet;
use crate::scan::ScanResult;
use crate::scanner::Scanner;
use crate::sources;
use crate::sources::git::{self, HistoryOptions, Revisions};

/// What a command found, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Clean,
    Findings,
    /// The command ran but something it was asked to do failed.
    Failed,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Clean => 0,
            Outcome::Findings => 1,
            Outcome::Failed => 2,
        }
    }
}

pub fn run(cli: Cli) -> Result<Outcome> {
    let Cli { command, common } = cli;
    // A report never replaces a file that is not one (a baseline's target is
    // checked by the baseline reader instead).
    if !matches!(command, Some(Command::Baseline { .. })) {
        for path in common
            .output
            .iter()
            .chain(common.also_write.iter().map(|e| &e.path))
        {
            report::target::ensure_overwritable(path)?;
        }
    }
    match command.unwrap_or(Command::Dir { paths: Vec::new() }) {
        Command::Dir { paths } => scan_dir(&common, paths),
        Command::Stdin { path_hint } => scan_stdin(&common, path_hint.as_deref()),
        Command::Baseline {
            paths,
            git,
            history,
        } => write_baseline(&common, paths, git.then_some(&history)),
        Command::Git {
            repo,
            history,
            pre_push,
        } => scan_git(&common, repo, &history, pre_push),
        Command::Staged { repo } => scan_staged(&common, repo),
        Command::Rotate(args) => rotate(&common, args),
        Command::InstallHook {
            repo,
            pre_push,
            force,
        } => install_hook(&common, repo, pre_push, force),
        Command::UninstallHook { repo, pre_push } => uninstall_hook(&common, repo, pre_push),
        Command::Rules(RulesCommand::List) => rules_list(&common),
        Command::Rules(RulesCommand::Check { dir }) => rules_check(&common, dir.as_deref()),
    }
}

/// The parts a scan needs, resolved from the command line and config.
struct Setup {
    config: Config,
    scanner: Scanner,
    format: Format,
    max_file_size: u64,
    threads: usize,
}

/// The directory whose config and baseline apply: the first path if it is a
/// directory, else its parent, else the current directory.
fn scan_root(paths: &[PathBuf]) -> PathBuf {
    match paths.first() {
        Some(p) if p.is_dir() => p.clone(),
        Some(p) => p
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(".")),
        None => PathBuf::from("."),
    }
}

/// Built-in rules (unless disabled), then config rule dirs, then `--rules`.
fn load_rules(common: &Common, config: &Config) -> Result<RuleSet> {
    let mut set = if common.no_builtin_rules {
        RuleSet::default()
    } else {
        RuleSet::builtin().context("built-in rules")?
    };
    for dir in config.rule_dirs().iter().chain(&common.rule_dirs) {
        let extra = if dir.is_dir() {
            RuleSet::load_dir(dir)?
        } else {
            RuleSet::load_file(dir)?
        };
        set.extend(extra.rules)?;
    }
    config.select_rules(&mut set)?;
    if set.is_empty() {
        anyhow::bail!(
            "no rules to run (check --rules, --no-builtin-rules and [rules] in the config)"
        );
    }
    Ok(set)
}

fn load_baseline(common: &Common, config: &Config, root: &Path) -> Result<Option<Baseline>> {
    if common.no_baseline {
        return Ok(None);
    }
    if let Some(path) = &common.baseline {
        if !path.exists() {
            anyhow::bail!("--baseline {}: no such file", path.display());
        }
        return Baseline::load(path).map(Some);
    }
    // `till-scan baseline` writes the configured file and never loads it
    // here; a scan that cannot find it would drop the team's accepted list.
    if let Some(path) = config.baseline_path() {
        if !path.exists() {
            anyhow::bail!(
                "{}: `baseline` names {}, which does not exist (write it with `till-scan baseline`, or remove the key)",
                config.label(),
                path.display()
            );
        }
        return Baseline::load(&path).map(Some);
    }
    let default = root.join(BASELINE_FILE_NAME);
    if default.is_file() {
        return Baseline::load(&default).map(Some);
    }
    Ok(None)
}

fn setup(common: &Common, root: &Path, use_baseline: bool) -> Result<Setup> {
    setup_for(common, root, use_baseline, Workload::Large)
}

fn setup_for(
    common: &Common,
    root: &Path,
    use_baseline: bool,
    workload: Workload,
) -> Result<Setup> {
    let config = Config::load(common.config.as_deref(), root)?;
    let set = load_rules(common, &config)?;
    let matcher = Matcher::for_workload(&set, workload)?;
    // A user rule that parses but does not compile (e.g. too large) would
    // otherwise be skipped silently at scan time.
    let errors = matcher.compile_where(|r| !r.builtin);
    if !errors.is_empty() {
        anyhow::bail!("rules that do not compile:\n  {}", errors.join("\n  "));
    }
    let baseline = if use_baseline {
        load_baseline(common, &config, root)?
    } else {
        None
    };
    let allowlist = config.allowlist(root)?;
    let max_file_size = match common.max_file_size {
        Some(n) => n,
        None => config.max_file_size()?.unwrap_or(DEFAULT_MAX_FILE_SIZE),
    };
    let threads = thread_count(common);
    let format = common
        .format
        .or(config.file.format)
        .unwrap_or(Format::Human);
    Ok(Setup {
        scanner: Scanner::new(matcher, allowlist, baseline),
        config,
        format,
        max_file_size,
        threads,
    })
}

/// `-j` is capped at this many threads per core: more only adds start-up
/// time and memory (`-j 8000` took over a minute).
const MAX_THREADS_PER_CORE: usize = 4;

/// Worker threads: `-j N` (0 or none: one per core), at most
/// [`MAX_THREADS_PER_CORE`] per core; a note with `-v` when capped.
fn thread_count(common: &Common) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cap = cores * MAX_THREADS_PER_CORE;
    match common.threads {
        Some(0) | None => cores,
        Some(n) if n > cap => {
            if common.verbose > 0 && !common.quiet {
                eprintln!("till-scan: note: -j {n} capped at {cap} threads ({MAX_THREADS_PER_CORE} per core, {cores} cores)");
            }
            cap
        }
        Some(n) => n,
    }
}

/// Scans paths; the flag says whether every path given could be scanned.
fn scan_paths(common: &Common, paths: &[PathBuf], setup: &Setup) -> Result<(ScanResult, bool)> {
    let root = scan_root(paths);
    let opts = sources::fs::FsOptions {
        threads: setup.threads,
        max_file_size: setup.max_file_size,
        honour_ignore_files: !common.no_ignore,
        excludes: setup.config.excludes(&root)?,
    };
    let started = Instant::now();
    let failed = sources::fs::scan(&setup.scanner, paths, &opts);
    Ok((setup.scanner.finish(started.elapsed()), failed == 0))
}

fn default_paths(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths
    }
}

fn scan_dir(common: &Common, paths: Vec<PathBuf>) -> Result<Outcome> {
    let paths = default_paths(paths);
    let root = scan_root(&paths);
    let setup = setup(common, &root, true)?;
    let (result, complete) = scan_paths(common, &paths, &setup)?;
    let outcome = finish(common, &setup, &result, complete);
    exit_without_freeing(setup);
    outcome
}

/// The scan is over and the process is about to exit: freeing the compiled
/// regexes and their caches one allocation at a time would only delay it.
fn exit_without_freeing(setup: Setup) {
    std::mem::forget(setup);
}

fn scan_stdin(common: &Common, path_hint: Option<&str>) -> Result<Outcome> {
    let setup = setup_for(common, Path::new("."), true, Workload::Small)?;
    let started = Instant::now();
    let input = &mut std::io::stdin().lock();
    let scanned = sources::stdin::scan(&setup.scanner, input, path_hint, setup.max_file_size);
    if let Err(message) = &scanned {
        let name = path_hint.unwrap_or(sources::stdin::DEFAULT_NAME);
        setup.scanner.error(name.to_string(), message.clone());
    }
    let result = setup.scanner.finish(started.elapsed());
    finish(common, &setup, &result, scanned.is_ok())
}

fn write_baseline(
    common: &Common,
    paths: Vec<PathBuf>,
    history: Option<&HistoryArgs>,
) -> Result<Outcome> {
    let paths = default_paths(paths);
    let (root, setup, result, complete) = match history {
        Some(h) => {
            let root = repo_root(paths.first().map(PathBuf::as_path))?;
            let setup = setup(common, &root, false)?;
            let (result, stats) = run_history(common, &setup, &root, revisions(h, None)?, h.since)?;
            let gap = history_gap(
                common,
                stats.unreadable,
                stats.promisor.as_deref(),
                h.skip_missing,
            );
            if let Some(message) = &gap {
                eprintln!("{message}");
            }
            (root, setup, result, gap.is_none())
        }
        None => {
            let root = scan_root(&paths);
            let setup = setup(common, &root, false)?;
            let (result, complete) = scan_paths(common, &paths, &setup)?;
            (root, setup, result, complete)
        }
    };
    if !complete {
        print_diagnostics(common, &result);
        anyhow::bail!("not every path could be scanned; no baseline written");
    }
    let target = common
        .output
        .clone()
        .or_else(|| setup.config.baseline_path())
        .unwrap_or_else(|| root.join(BASELINE_FILE_NAME));
    let file = baseline::from_scan(&result, baseline::read_file(&target)?);
    baseline::write_file(&target, &file)?;
    print_diagnostics(common, &result);
    if !common.quiet {
        let default = root.join(BASELINE_FILE_NAME);
        let hint = if target == default || Some(&target) == setup.config.baseline_path().as_ref() {
            "later scans of this directory ignore them".to_string()
        } else {
            format!(
                "pass --baseline {} to later scans to ignore them",
                target.display()
            )
        };
        eprintln!(
            "till-scan: wrote {} ({} accepted secrets); {hint}",
            target.display(),
            file.entries.len()
        );
    }
    Ok(Outcome::Clean)
}

/// The work tree of the repository at `path` (or the git dir of a bare one):
/// where the config and baseline of a history scan live.
fn repo_root(path: Option<&Path>) -> Result<PathBuf> {
    let path = path.unwrap_or(Path::new("."));
    let repo = git::open(path)?;
    Ok(repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf())
}

fn revisions(args: &HistoryArgs, push_input: Option<&str>) -> Result<Revisions> {
    if let Some(input) = push_input {
        return Ok(Revisions::Push(git::parse_push_updates(input)?));
    }
    Ok(match (&args.branch, &args.range) {
        (_, Some(range)) => Revisions::Range(range.clone()),
        (Some(branch), None) => Revisions::Branch(branch.clone()),
        (None, None) => Revisions::AllRefs,
    })
}

fn run_history(
    common: &Common,
    setup: &Setup,
    root: &Path,
    revisions: Revisions,
    since: Option<i64>,
) -> Result<(ScanResult, git::HistoryStats)> {
    let opts = HistoryOptions {
        revisions,
        since,
        threads: setup.threads,
        max_blob_size: setup.max_file_size,
        progress: !common.quiet,
        exclude: setup.config.history_excludes(root, !common.no_ignore)?,
    };
    let started = Instant::now();
    let stats = git::scan_history(&setup.scanner, root, &opts)?;
    if !common.quiet {
        if stats.shallow {
            eprintln!("till-scan: note: shallow clone: commits before the shallow boundary are not scanned (git fetch --unshallow)");
        }
        if stats.commits == 0 {
            eprintln!("till-scan: note: no commits to scan");
        }
        if common.verbose > 0 {
            eprintln!(
                "till-scan: {} commits, {} unique blobs read and scanned in {:.2} s",
                stats.commits,
                stats.blobs,
                stats.elapsed.as_secs_f64()
            );
        }
    }
    Ok((setup.scanner.finish(started.elapsed()), stats))
}

/// What to tell the user when objects of the history could not be read and
/// they did not accept that with `--skip-missing`: such a scan did not see
/// everything, so it must not end as if it had (the caller exits 2).
fn history_gap(
    common: &Common,
    unreadable: usize,
    promisor: Option<&str>,
    skip_missing: bool,
) -> Option<String> {
    if unreadable == 0 {
        return None;
    }
    let objects = if unreadable == 1 {
        "1 object".to_string()
    } else {
        format!("{unreadable} objects")
    };
    if skip_missing {
        if !common.quiet {
            eprintln!("till-scan: note: {objects} could not be read and were skipped (--skip-missing); the warnings above name them");
        }
        return None;
    }
    let mut message = format!(
        "till-scan: error: {objects} of the history could not be read (the warnings above name them): this scan is incomplete"
    );
    match promisor {
        Some(remote) => message.push_str(&format!(
            ".\n  This is a partial clone: remote `{remote}` has the missing objects. Fetch them with\n    git fetch --refetch --no-filter {remote}\n  (in GitHub Actions: actions/checkout with fetch-depth: 0 and no filter), then scan again;\n  or pass --skip-missing to scan only what is here."
        )),
        None => message.push_str(
            ".\n  The repository is damaged (`git fsck` lists what is broken). Pass --skip-missing to scan what can be read.",
        ),
    }
    Some(message)
}

fn scan_git(
    common: &Common,
    repo: Option<PathBuf>,
    history: &HistoryArgs,
    pre_push: bool,
) -> Result<Outcome> {
    let root = repo_root(repo.as_deref())?;
    let setup = setup(common, &root, true)?;
    let revisions = if pre_push {
        // Under the pre-commit framework the range comes in the environment;
        // as a plain git hook, the refs come on standard input.
        match (
            std::env::var("PRE_COMMIT_FROM_REF"),
            std::env::var("PRE_COMMIT_TO_REF"),
        ) {
            (Ok(from), Ok(to)) if !from.is_empty() && !to.is_empty() => {
                Revisions::Range(format!("{from}..{to}"))
            }
            _ => {
                let mut input = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut input)
                    .context("cannot read the pushed refs from standard input")?;
                match std::env::var("PRE_COMMIT_LOCAL_BRANCH") {
                    // pre-commit has consumed git's input and gives no range
                    // for a push that creates the remote branch (the first
                    // push of a repository): scan what no remote has yet.
                    Ok(branch) if input.trim().is_empty() && !branch.is_empty() => {
                        let repo = git::open(&root)?;
                        let local = repo
                            .revparse_single(&branch)
                            .and_then(|o| o.peel_to_commit())
                            .map_err(|e| {
                                anyhow::anyhow!(
                                    "cannot resolve pushed branch `{branch}`: {}",
                                    e.message()
                                )
                            })?;
                        Revisions::Push(vec![(local.id().to_string(), "0".repeat(40))])
                    }
                    _ => revisions(history, Some(&input))?,
                }
            }
        }
    } else {
        revisions(history, None)?
    };
    let (result, stats) = run_history(common, &setup, &root, revisions, history.since)?;
    let gap = history_gap(
        common,
        stats.unreadable,
        stats.promisor.as_deref(),
        history.skip_missing,
    );
    let outcome = finish(common, &setup, &result, gap.is_none())?;
    if let Some(message) = gap {
        eprintln!("{message}");
    }
    exit_without_freeing(setup);
    if pre_push && outcome == Outcome::Findings && !common.quiet {
        eprintln!("{}", ways_out("push"));
    }
    Ok(outcome)
}

fn scan_staged(common: &Common, repo: Option<PathBuf>) -> Result<Outcome> {
    let root = repo_root(repo.as_deref())?;
    let started = Instant::now();
    // Reading the index and loading the rules are independent: overlap them,
    // a commit hook's latency is the sum otherwise.
    let (staged, setup) = std::thread::scope(|s| {
        let staged = s.spawn(|| git::staged_changes(&root));
        let setup = setup_for(common, &root, true, Workload::Small);
        let staged = staged
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("reading the index failed")));
        (staged, setup)
    });
    let (mut staged, setup) = (staged?, setup?);
    if let Some(why) = &staged.fallback {
        if common.verbose > 0 && !common.quiet {
            eprintln!("till-scan: note: staged: the fast index reader declined ({why}); using libgit2's full diff");
        }
    }
    staged.retain_paths(
        setup
            .config
            .history_excludes(&root, !common.no_ignore)?
            .as_ref(),
    );
    let unreadable = git::scan_staged_changes(&setup.scanner, &staged, setup.max_file_size)?;
    let result = setup.scanner.finish(started.elapsed());
    let gap = history_gap(common, unreadable, None, false);
    let outcome = finish(common, &setup, &result, gap.is_none())?;
    if let Some(message) = gap {
        eprintln!("{message}");
    }
    if outcome == Outcome::Findings && !common.quiet {
        eprintln!("{}", ways_out("commit"));
    }
    Ok(outcome)
}

/// `till-scan rotate`: scan the work tree (or re-scan the files a report
/// names), plan, and hand over to [`crate::rotate::run`].
fn rotate(common: &Common, args: RotateArgs) -> Result<Outcome> {
    use crate::rotate::{self, plan::Plan, workspace::Workspace};

    let ws = Workspace::open(args.path.as_deref().unwrap_or(Path::new(".")))?;
    let root = ws.workdir.clone();
    let setup = setup(common, &root, true)?;
    let (mut findings, wanted) = match &args.report {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read report {}", file.display()))?;
            let findings = report::json::read_findings(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let mut paths: Vec<PathBuf> = findings
                .iter()
                .map(|f| {
                    let p = PathBuf::from(&f.path);
                    if p.is_absolute() || !root.join(&p).exists() && p.exists() {
                        p
                    } else {
                        root.join(p)
                    }
                })
                .collect();
            paths.sort();
            paths.dedup();
            paths.retain(|p| p.exists());
            let wanted: std::collections::BTreeSet<String> =
                findings.into_iter().map(|f| f.fingerprint).collect();
            (
                scan_for_rotation(common, &setup, &root, &paths)?,
                Some(wanted),
            )
        }
        None => (
            scan_for_rotation(common, &setup, &root, std::slice::from_ref(&root))?,
            None,
        ),
    };
    if let Some(wanted) = &wanted {
        findings.retain(|f| wanted.contains(&f.fingerprint));
        let found: std::collections::BTreeSet<&str> =
            findings.iter().map(|f| f.fingerprint.as_str()).collect();
        let gone = wanted
            .iter()
            .filter(|f| !found.contains(f.as_str()))
            .count();
        if gone > 0 && !common.quiet {
            eprintln!("till-scan: note: {gone} finding(s) of the report are no longer in the files it names; not rotated");
        }
    }
    let tracked = ws.tracked_files()?;
    let relative = |shown: &str| -> (String, bool) {
        match Path::new(shown).strip_prefix(&root) {
            Ok(rel) => {
                let rel = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                let tracked = tracked.contains(&rel);
                (rel, tracked)
            }
            Err(_) => (shown.to_string(), false),
        }
    };
    let plan = Plan::build(&findings, relative, |tp| {
        rotate::providers::get(tp).is_some()
    });

    let rc = &setup.config.file.rotate;
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    // The host alone: no user info, port or path (remote URLs are matched
    // by host, and the GitHub token goes only to this host and the API's).
    let github_host = env("GITHUB_SERVER_URL")
        .and_then(|u| rotate::endpoint::host_of(&u))
        .unwrap_or_else(|| "github.com".to_string());
    let seconds = |name: &str, default: f64| {
        env(name)
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|s| *s > 0.0)
            .unwrap_or(default)
    };
    let opts = rotate::RotateOptions {
        till_url: args
            .till_url
            .clone()
            .or_else(|| env("TILL_API_URL"))
            .or_else(|| rc.till_url.clone())
            .unwrap_or_else(|| rotate::till::DEFAULT_TILL_URL.to_string()),
        admin_key: env("TILL_ADMIN_KEY").map(|k| crate::finding::Secret::new(k.as_bytes())),
        limits: rotate::Limits {
            max_activations: args.max_activations.or(rc.max_activations).unwrap_or(1000),
            max_tokens: args.max_tokens.or(rc.max_tokens),
            max_spend_cents: args.max_spend_cents.or(rc.max_spend_cents),
            ip_whitelist: if args.ip_whitelist.is_empty() {
                rc.ip_whitelist.clone()
            } else {
                args.ip_whitelist.clone()
            },
        },
        remote: args
            .remote
            .clone()
            .or_else(|| rc.remote.clone())
            .unwrap_or_else(|| "origin".to_string()),
        github_repo: args
            .github_repo
            .clone()
            .or_else(|| env("GITHUB_REPOSITORY")),
        github_api: env("GITHUB_API_URL")
            .unwrap_or_else(|| rotate::github::DEFAULT_API_URL.to_string()),
        github_host,
        github_token: env("GITHUB_TOKEN").map(|t| crate::finding::Secret::new(t.as_bytes())),
        no_pr: args.no_pr,
        dry_run: args.dry_run,
        allow_dirty: args.allow_dirty,
        timeout: std::time::Duration::from_secs_f64(seconds("TILL_SCAN_HTTP_TIMEOUT", 30.0)),
        retry_backoff: std::time::Duration::from_secs_f64(
            seconds("TILL_SCAN_RETRY_BACKOFF_MS", 500.0) / 1000.0,
        ),
    };
    let quiet = common.quiet;
    let mut log = |line: &str| {
        if !quiet {
            eprintln!("till-scan: {line}");
        }
    };
    let report = rotate::run(&ws, &plan, &opts, &mut log)?;
    let json = common.format.or(setup.config.file.format) == Some(Format::Json);
    let text = if json {
        serde_json::to_string_pretty(&report)? + "\n"
    } else {
        rotate::pr::summary(&report)
    };
    match &common.output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => write_stdout(|out| out.write_all(text.as_bytes()))?,
    }
    Ok(Outcome::Clean)
}

/// The engine of `dir`, over `paths` with the work tree's config.
fn scan_for_rotation(
    common: &Common,
    setup: &Setup,
    root: &Path,
    paths: &[PathBuf],
) -> Result<Vec<crate::finding::Finding>> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let opts = sources::fs::FsOptions {
        threads: setup.threads,
        max_file_size: setup.max_file_size,
        honour_ignore_files: !common.no_ignore,
        excludes: setup.config.excludes(root)?,
    };
    sources::fs::scan(&setup.scanner, paths, &opts);
    let result = setup.scanner.finish(std::time::Duration::ZERO);
    print_diagnostics(common, &result);
    Ok(result.findings)
}

/// What to do when a hook blocks: the three ways out.
fn ways_out(action: &str) -> String {
    format!(
        "till-scan: this {action} is blocked: it adds the secrets listed above. Ways out:
  1. Remove the key from the file and load it from the environment instead
     (e.g. os.environ[\"OPENAI_API_KEY\"]), then `git add` the file again.
  2. Not a secret? Add a `till-scan:allow` comment on that line (or accept it: `till-scan baseline`).
  3. Run `till-scan rotate` to swap an AI-provider key for a scoped, limited Till key."
    )
}

fn hook_kind(pre_push: bool) -> HookKind {
    if pre_push {
        HookKind::PrePush
    } else {
        HookKind::PreCommit
    }
}

fn install_hook(
    common: &Common,
    repo: Option<PathBuf>,
    pre_push: bool,
    force: bool,
) -> Result<Outcome> {
    let binary = std::env::current_exe().context("cannot find the till-scan binary's path")?;
    let path = hook::install(
        repo.as_deref().unwrap_or(Path::new(".")),
        hook_kind(pre_push),
        force,
        &binary,
    )?;
    if !common.quiet {
        eprintln!("till-scan: installed {}", path.display());
    }
    Ok(Outcome::Clean)
}

fn uninstall_hook(common: &Common, repo: Option<PathBuf>, pre_push: bool) -> Result<Outcome> {
    let removed = hook::uninstall(
        repo.as_deref().unwrap_or(Path::new(".")),
        hook_kind(pre_push),
    )?;
    if !common.quiet {
        match removed {
            Some(path) => eprintln!("till-scan: removed {}", path.display()),
            None => eprintln!(
                "till-scan: no {} hook installed",
                hook_kind(pre_push).file_name()
            ),
        }
    }
    Ok(Outcome::Clean)
}

fn use_color(common: &Common, format: Format) -> bool {
    if format != Format::Human {
        return false;
    }
    match common.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            common.output.is_none()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}

/// Writes the report and notes, and decides the outcome.
/// `complete` is false when a path the user named could not be scanned.
fn finish(common: &Common, setup: &Setup, result: &ScanResult, complete: bool) -> Result<Outcome> {
    // A secret detected anywhere is masked everywhere else the report
    // repeats it (commit messages, author names, paths), unless asked not to.
    let masked = if common.no_redact {
        None
    } else {
        crate::redact::masked(result)
    };
    let result = masked.as_ref().unwrap_or(result);
    let ctx = ReportContext {
        result,
        redact: !common.no_redact,
        color: use_color(common, setup.format),
    };
    write_report(common.output.as_deref(), setup.format, &ctx)?;
    // More formats from the same scan (`--also-write`), never coloured.
    let plain = ReportContext {
        color: false,
        ..ctx
    };
    for extra in &common.also_write {
        write_report(Some(&extra.path), extra.format, &plain)?;
    }
    print_diagnostics(common, result);
    Ok(if !complete {
        Outcome::Failed
    } else if result.findings.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}

fn write_report(output: Option<&Path>, format: Format, ctx: &ReportContext<'_>) -> Result<()> {
    match output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot write report to {}", path.display()))?;
            let mut w = std::io::BufWriter::new(file);
            report::write(format, ctx, &mut w)
                .and_then(|_| w.flush())
                .with_context(|| format!("cannot write report to {}", path.display()))
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            match report::write(format, ctx, &mut w).and_then(|_| w.flush()) {
                // A closed pipe (`| head`) is the reader's choice, not an error.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => other.context("cannot write report to standard output"),
            }
        }
    }
}

/// Errors always; skipped files and unused baseline entries with `-v`.
fn print_diagnostics(common: &Common, result: &ScanResult) {
    let s = &result.summary;
    for e in &s.errors {
        eprintln!("till-scan: warning: {}: {}", e.path, e.message);
    }
    if common.quiet {
        return;
    }
    if common.verbose > 0 {
        for skip in &s.skipped {
            eprintln!("till-scan: skipped {}: {}", skip.path, skip.reason);
        }
        for fp in &s.unused_baseline {
            eprintln!("till-scan: baseline entry {fp} matched nothing in this scan (rotated or removed? it can be dropped)");
        }
    } else {
        let large = s
            .skipped
            .iter()
            .filter(|k| matches!(k.reason, crate::scan::SkipReason::TooLarge { .. }))
            .count();
        if large > 0 {
            eprintln!("till-scan: note: skipped {large} file(s) over the size limit (--max-file-size); -v lists them");
        }
    }
}

fn rules_for_listing(common: &Common) -> Result<RuleSet> {
    let root = PathBuf::from(".");
    let config = Config::load(common.config.as_deref(), &root)?;
    load_rules(common, &config)
}

fn rules_list(common: &Common) -> Result<Outcome> {
    let set = rules_for_listing(common)?;
    let json = common.format == Some(Format::Json);
    write_stdout(|out| {
        if json {
            let list: Vec<_> = set
                .rules
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id, "name": r.name, "provider": r.provider,
                        "till_provider": r.till_provider, "keywords": r.keywords,
                        "references": r.references, "origin": r.origin,
                    })
                })
                .collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
        } else {
            for r in &set.rules {
                let till = r
                    .till_provider
                    .as_deref()
                    .map(|t| format!("  [rotatable: {t}]"))
                    .unwrap_or_default();
                writeln!(out, "{:40} {:24} {}{till}", r.id, r.provider, r.name)?;
            }
            let providers: std::collections::BTreeSet<_> =
                set.rules.iter().map(|r| r.provider.as_str()).collect();
            writeln!(out, "{} rules, {} providers", set.len(), providers.len())?;
        }
        Ok(())
    })?;
    Ok(Outcome::Clean)
}

/// Writes to standard output; a reader that closed the pipe (`| head`) is
/// not an error.
fn write_stdout(body: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match body(&mut out).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to standard output"),
    }
}

fn rules_check(common: &Common, dir: Option<&Path>) -> Result<Outcome> {
    let set = match dir {
        Some(d) => {
            let set = if d.is_dir() {
                RuleSet::load_dir(d)?
            } else {
                RuleSet::load_file(d)?
            };
            // A scan with `--rules DIR` refuses an id the built-in rules
            // already use; so does the check.
            if !common.no_builtin_rules {
                RuleSet::builtin()
                    .context("built-in rules")?
                    .extend(set.rules.clone())?;
            }
            set
        }
        None => rules_for_listing(common)?,
    };
    let failures: Vec<(String, String, Vec<String>)> = {
        use rayon::prelude::*;
        set.rules
            .par_iter()
            .filter_map(|rule| {
                matcher::check_examples(rule)
                    .err()
                    .map(|f| (rule.id.clone(), rule.origin.clone(), f))
            })
            .collect()
    };
    let providers: std::collections::BTreeSet<_> =
        set.rules.iter().map(|r| r.provider.as_str()).collect();
    write_stdout(|out| {
        for (id, origin, messages) in &failures {
            for m in messages {
                writeln!(out, "FAIL {id} ({origin}): {m}")?;
            }
        }
        writeln!(
            out,
            "{} rules for {} providers checked: {} passed, {} failed",
            set.len(),
            providers.len(),
            set.len() - failures.len(),
            failures.len()
        )
    })?;
    Ok(if failures.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Failed
    })
}
