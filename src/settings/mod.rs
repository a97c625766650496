//! Settings in two stages, as ripgrep resolves its arguments. Stage one,
//! [`Args`], is what the user typed (the parsed `cli::Common`) and the
//! environment they ran it in ([`Env`]), captured once: no decisions, no I/O.
//! Stage two, [`Settings`], loads the `.till-scan.toml` that applies and
//! decides once, here, which setting wins (flag, then config file, then
//! default). `Settings` then builds the parts: the rule set, the matcher and
//! scanner ([`Setup`]), the source options and the rotation options.
//!
//! This is the one module that knows every other: the commands (`cmd`) ask
//! it for parts and never decide a setting themselves.

pub mod env;
pub mod imported;

use std::ops::Deref;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::baseline::{Baseline, BASELINE_FILE_NAME};
use crate::cli::{ColorChoice, Common, Format, RotateArgs};
use crate::config::{Config, DEFAULT_MAX_FILE_SIZE};
use crate::matcher::{Matcher, Workload};
use crate::rotate;
use crate::rules::{FailOn, RuleSet};
use crate::scanner::Scanner;
use crate::sources::fs::FsOptions;
use crate::sources::git::{HistoryOptions, Revisions};
use crate::validate::Validator;

pub use env::Env;

/// Stage one: the command line's common flags and the environment. Derefs
/// to the flags, so a command reads `args.quiet`.
#[derive(Debug)]
pub struct Args {
    pub common: Common,
    pub env: Env,
}

impl Deref for Args {
    type Target = Common;

    fn deref(&self) -> &Common {
        &self.common
    }
}

/// Where the baseline comes from, in the order that wins.
#[derive(Debug, Clone, PartialEq, Eq)]
enum BaselineSource {
    /// `--no-baseline`.
    Off,
    /// `--baseline FILE`: it must exist.
    Flag(PathBuf),
    /// `baseline` in the config file: it must exist.
    Config(PathBuf),
    /// `.till-scan-baseline.json` in the scanned root, if it is there.
    Default(PathBuf),
}

/// Stage two: every setting resolved for one scanned root.
#[derive(Debug)]
pub struct Settings {
    /// The config file that applies (or its defaults).
    pub config: Config,
    /// The directory whose config and baseline apply.
    pub root: PathBuf,
    pub format: Format,
    pub max_file_size: u64,
    /// `--max-decode-depth`, else config `max_decode_depth`, else 2.
    pub max_decode_depth: usize,
    /// `--max-archive-depth`, else config `max_archive_depth`, else 2;
    /// the caps from config `max_archive_size`, `max_archive_total` and
    /// `max_archive_members`; members held to `max_file_size`.
    pub archive_limits: crate::archive::Limits,
    pub threads: usize,
    /// Said under `-v` when the scanner is built: `-j` was capped.
    threads_note: Option<String>,
    /// `-v` without `--quiet`: say which prefilter the matcher runs.
    verbose: bool,
    pub honour_ignore_files: bool,
    /// Progress and notes on standard error (not `--quiet`).
    pub progress: bool,
    builtin_rules: bool,
    /// Config `rule_dirs`, then `--rules`.
    rule_dirs: Vec<PathBuf>,
    baseline: BaselineSource,
    env: Env,
    /// `--fail-on`, else config `fail_on`, else medium.
    pub fail_on: FailOn,
    /// `--validate`, `--only-live` or `--fail-on live`.
    pub validate: bool,
    /// `--only-live`: reports keep only keys found live.
    pub only_live: bool,
    /// `--enable-rule` / `--disable-rule` (ids or globs).
    enable_rules: Vec<String>,
    disable_rules: Vec<String>,
    /// The rules of a gitleaks config read in place of `.till-scan.toml`.
    imported: Option<imported::Imported>,
    /// Places from `.gitleaksignore` / `.betterleaksignore` (not read under
    /// `--no-baseline`), which join the baseline.
    ignore_places: Vec<crate::baseline::Place>,
}

/// The parts a scan runs with, built from its [`Settings`] (which it derefs
/// to, so a command reads `setup.threads` beside `setup.scanner`).
pub struct Setup {
    pub scanner: Scanner,
    pub settings: Settings,
    /// When the user asked for validation.
    pub validator: Option<Validator>,
}

impl Deref for Setup {
    type Target = Settings;

    fn deref(&self) -> &Settings {
        &self.settings
    }
}

impl Settings {
    /// Loads the config that applies at `root` (`--config` wins over the
    /// root's `.till-scan.toml`) and resolves every setting against it.
    pub fn resolve(args: &Args, root: &Path) -> Result<Settings> {
        let (config, imported) = imported::load_config(
            args.config.as_deref(),
            args.env.gitleaks_config.as_deref(),
            root,
            args.quiet,
        )?;
        Self::resolve_with(args, root, config, imported)
    }

    /// Resolves every setting against `config` (and the rules of the
    /// gitleaks config it came from, if it did).
    pub fn resolve_with(
        args: &Args,
        root: &Path,
        config: Config,
        imported: Option<imported::Imported>,
    ) -> Result<Settings> {
        let ignore_places = if args.no_baseline {
            Vec::new()
        } else {
            imported::ignore_places(root, args.quiet)?
        };
        let max_file_size = match args.max_file_size {
            Some(n) => n,
            None => config.max_file_size()?.unwrap_or(DEFAULT_MAX_FILE_SIZE),
        };
        let format = args.format.or(config.file.format).unwrap_or(Format::Human);
        let (threads, threads_note) = thread_count(args.threads);
        let baseline = if args.no_baseline {
            BaselineSource::Off
        } else if let Some(path) = &args.baseline {
            BaselineSource::Flag(path.clone())
        } else if let Some(path) = config.baseline_path() {
            BaselineSource::Config(path)
        } else {
            BaselineSource::Default(root.join(BASELINE_FILE_NAME))
        };
        let rule_dirs = config
            .rule_dirs()
            .into_iter()
            .chain(args.rule_dirs.iter().cloned())
            .collect();
        Ok(Settings {
            root: root.to_path_buf(),
            format,
            max_file_size,
            max_decode_depth: args
                .max_decode_depth
                .or(config.file.max_decode_depth)
                .unwrap_or(crate::scanner::DEFAULT_DECODE_DEPTH),
            archive_limits: archive_limits(args, &config, max_file_size),
            threads,
            threads_note: threads_note.filter(|_| args.verbose > 0 && !args.quiet),
            verbose: args.verbose > 0 && !args.quiet,
            honour_ignore_files: !args.no_ignore,
            progress: !args.quiet,
            builtin_rules: !args.no_builtin_rules,
            rule_dirs,
            baseline,
            env: args.env.clone(),
            fail_on: args.fail_on.or(config.file.fail_on).unwrap_or_default(),
            validate: args.validate
                || args.only_live
                || args.fail_on.or(config.file.fail_on) == Some(FailOn::Live),
            only_live: args.only_live,
            enable_rules: args.enable_rules.clone(),
            disable_rules: args.disable_rules.clone(),
            config,
            imported,
            ignore_places,
        })
    }

    /// How validation runs: config `[validate]` over the defaults.
    pub fn validate_options(&self) -> crate::validate::Options {
        let vc = &self.config.file.validate;
        let defaults = crate::validate::Options::default();
        crate::validate::Options {
            base_urls: vc.base_url.clone(),
            timeout: vc.timeout.unwrap_or(defaults.timeout),
            concurrency: vc.concurrency.unwrap_or(defaults.concurrency),
            retries: vc.retries.unwrap_or(defaults.retries),
            max_retry_wait: vc.max_retry_wait.unwrap_or(defaults.max_retry_wait),
            backoff: self.env.retry_backoff_ms.map_or(defaults.backoff, |ms| {
                std::time::Duration::from_secs_f64(ms / 1000.0)
            }),
        }
    }

    /// The validator, when the user asked for validation; a bad
    /// `[validate]` table is an error before any scan runs.
    pub fn validator(&self) -> Result<Option<Validator>> {
        if !self.validate {
            return Ok(None);
        }
        Validator::new(self.validate_options())
            .with_context(|| self.config.label())
            .map(Some)
    }

    /// Built-in rules (unless disabled), then config rule dirs, then
    /// `--rules`, narrowed by the config's `[rules]`.
    pub fn rule_set(&self) -> Result<RuleSet> {
        let builtin = self.builtin_rules && self.imported.as_ref().is_none_or(|i| i.use_default);
        let mut set = if builtin {
            RuleSet::builtin_for_scanning().context("built-in rules")?
        } else {
            RuleSet::default()
        };
        for dir in &self.rule_dirs {
            let extra = if dir.is_dir() {
                RuleSet::load_dir(dir)?
            } else {
                RuleSet::load_file(dir)?
            };
            set.extend(extra.rules)?;
        }
        if let Some(imported) = &self.imported {
            set.extend(imported.rules.clone())?;
        }
        set.check_parts()?;
        self.config
            .select_rules(&mut set, &self.enable_rules, &self.disable_rules)?;
        self.config.apply_severity(&mut set)?;
        if set.is_empty() {
            anyhow::bail!(
                "no rules to run (check --rules, --no-builtin-rules and [rules] in the config)"
            );
        }
        Ok(set)
    }

    /// The matcher of `set`, tuned for `workload`; every user rule must
    /// compile.
    pub fn matcher(&self, set: RuleSet, workload: Workload) -> Result<Matcher> {
        let matcher = Matcher::from_rules(set, workload)?;
        // A user rule that parses but does not compile (e.g. too large) would
        // otherwise be skipped silently at scan time.
        let errors = matcher.compile_where(|r| !r.builtin);
        if !errors.is_empty() {
            anyhow::bail!("rules that do not compile:\n  {}", errors.join("\n  "));
        }
        Ok(matcher)
    }

    /// The baseline that applies, if any: `--baseline`, else the config's,
    /// else the root's default file when it exists.
    pub fn baseline(&self) -> Result<Option<Baseline>> {
        match &self.baseline {
            BaselineSource::Off => Ok(None),
            BaselineSource::Flag(path) => {
                if !path.exists() {
                    anyhow::bail!("--baseline {}: no such file", path.display());
                }
                Baseline::load(path).map(Some)
            }
            // `till-scan baseline` writes the configured file and never loads
            // it here; a scan that cannot find it would drop the team's
            // accepted list.
            BaselineSource::Config(path) => {
                if !path.exists() {
                    anyhow::bail!(
                        "{}: `baseline` names {}, which does not exist (write it with `till-scan baseline`, or remove the key)",
                        self.config.label(),
                        path.display()
                    );
                }
                Baseline::load(path).map(Some)
            }
            BaselineSource::Default(path) if path.is_file() => Baseline::load(path).map(Some),
            BaselineSource::Default(_) => Ok(None),
        }
    }

    /// The scanner over `matcher`, with the config's allowlist and (when
    /// `use_baseline`) the baseline.
    pub fn scanner(&self, matcher: Matcher, use_baseline: bool) -> Result<Scanner> {
        let baseline = if use_baseline {
            let ids = matcher.rules().iter().map(|c| c.rule.id.as_str()).collect();
            imported::with_places(self.baseline()?, &self.ignore_places, &self.root, &ids)
        } else {
            None
        };
        let allowlist = self.config.allowlist(&self.root)?;
        Ok(Scanner::new(matcher, allowlist, baseline)
            .with_decode_depth(self.max_decode_depth)
            .with_archive_limits(self.archive_limits.clone()))
    }

    /// Rules, matcher and scanner, in that order (the first error wins).
    pub fn build(self, workload: Workload, use_baseline: bool) -> Result<Setup> {
        let set = self.rule_set()?;
        let matcher = self.matcher(set, workload)?;
        if self.verbose {
            if let Some(note) = &crate::prefilter::selection().note {
                eprintln!("till-scan: note: {note}");
            }
            eprintln!("till-scan: prefilter: {}", matcher.prefilter_kind());
        }
        let scanner = self.scanner(matcher, use_baseline)?;
        let validator = self.validator()?;
        if let Some(note) = &self.threads_note {
            eprintln!("{note}");
        }
        Ok(Setup {
            scanner,
            settings: self,
            validator,
        })
    }

    /// How to walk paths under `root`.
    pub fn fs_options(&self, root: &Path) -> Result<FsOptions> {
        Ok(FsOptions {
            threads: self.threads,
            max_file_size: self.max_file_size,
            honour_ignore_files: self.honour_ignore_files,
            excludes: self.config.excludes(root)?,
        })
    }

    /// Repository-relative paths a git scan of `root` skips.
    pub fn history_excludes(&self, root: &Path) -> Result<Option<ignore::gitignore::Gitignore>> {
        self.config.history_excludes(root, self.honour_ignore_files)
    }

    /// How to walk the history of the repository at `root`.
    pub fn history_options(
        &self,
        root: &Path,
        revisions: Revisions,
        since: Option<i64>,
    ) -> Result<HistoryOptions> {
        Ok(HistoryOptions {
            revisions,
            since,
            threads: self.threads,
            max_blob_size: self.max_file_size,
            progress: self.progress,
            exclude: self.history_excludes(root)?,
        })
    }

    /// Rotation: each flag wins over the environment, which wins over the
    /// config's `[rotate]`, which wins over the default.
    pub fn rotate_options(&self, args: &RotateArgs) -> rotate::RotateOptions {
        let rc = &self.config.file.rotate;
        let env = &self.env;
        // The host alone: no user info, port or path (remote URLs are matched
        // by host, and the GitHub token goes only to this host and the API's).
        let github_host = env
            .github_server_url
            .as_deref()
            .and_then(rotate::endpoint::host_of)
            .unwrap_or_else(|| "github.com".to_string());
        rotate::RotateOptions {
            till_url: args
                .till_url
                .clone()
                .or_else(|| env.till_api_url.clone())
                .or_else(|| rc.till_url.clone())
                .unwrap_or_else(|| rotate::till::DEFAULT_TILL_URL.to_string()),
            admin_key: env.till_admin_key.clone(),
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
                .or_else(|| env.github_repository.clone()),
            github_api: env
                .github_api_url
                .clone()
                .unwrap_or_else(|| rotate::github::DEFAULT_API_URL.to_string()),
            github_host,
            github_token: env.github_token.clone(),
            no_pr: args.no_pr,
            dry_run: args.dry_run,
            allow_dirty: args.allow_dirty,
            timeout: std::time::Duration::from_secs_f64(env.http_timeout_secs.unwrap_or(30.0)),
            retry_backoff: std::time::Duration::from_secs_f64(
                env.retry_backoff_ms.unwrap_or(500.0) / 1000.0,
            ),
        }
    }
}

/// Colour in a report of `format`: `--color`, else (for `auto`) only to a
/// terminal and not when `NO_COLOR` is set.
pub fn use_color(args: &Args, format: Format) -> bool {
    if format != Format::Human {
        return false;
    }
    match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            use std::io::IsTerminal;
            args.output.is_none() && !args.env.no_color && std::io::stdout().is_terminal()
        }
    }
}

/// `-j` is capped at this many threads per core: more only adds start-up
/// time and memory (`-j 8000` took over a minute).
const MAX_THREADS_PER_CORE: usize = 4;

/// Worker threads: `-j N` (0 or none: one per core), at most
/// [`MAX_THREADS_PER_CORE`] per core; with a note when capped.
/// How far to look inside archives: the flag, else the config, else the
/// defaults; each member is held to the scan's maximum file size.
fn archive_limits(args: &Args, config: &Config, max_file_size: u64) -> crate::archive::Limits {
    use crate::archive::Limits;
    let file = &config.file;
    let defaults = Limits::default();
    Limits {
        depth: args
            .max_archive_depth
            .or(file.max_archive_depth)
            .unwrap_or(defaults.depth),
        max_member_size: max_file_size,
        max_bytes: file.max_archive_size.unwrap_or(defaults.max_bytes),
        max_scan_bytes: file.max_archive_total.unwrap_or(defaults.max_scan_bytes),
        max_members: file.max_archive_members.unwrap_or(defaults.max_members),
    }
}

fn thread_count(threads: Option<usize>) -> (usize, Option<String>) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cap = cores * MAX_THREADS_PER_CORE;
    match threads {
        Some(0) | None => (cores, None),
        Some(n) if n > cap => (
            cap,
            Some(format!("till-scan: note: -j {n} capped at {cap} threads ({MAX_THREADS_PER_CORE} per core, {cores} cores)")),
        ),
        Some(n) => (n, None),
    }
}
