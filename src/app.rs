//! Runs a parsed command: resolves the configuration (command line, then
//! `.till-scan.toml`, then defaults), builds the rules, matcher and scanner,
//! runs a source and hands the result to a report. `main` only maps the
//! outcome to an exit code.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};

use crate::baseline::{self, Baseline, BASELINE_FILE_NAME};
use crate::cli::{Cli, ColorChoice, Command, Common, Format, RulesCommand};
use crate::config::{Config, DEFAULT_MAX_FILE_SIZE};
use crate::matcher::{self, Matcher};
use crate::report::{self, ReportContext};
use crate::rules::{Rule, RuleSet};
use crate::scan::ScanResult;
use crate::scanner::Scanner;
use crate::sources;

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
    match command.unwrap_or(Command::Dir { paths: Vec::new() }) {
        Command::Dir { paths } => scan_dir(&common, paths),
        Command::Stdin { path_hint } => scan_stdin(&common, path_hint.as_deref()),
        Command::Baseline { paths } => write_baseline(&common, paths),
        Command::Rules(RulesCommand::List) => rules_list(&common),
        Command::Rules(RulesCommand::Check { dir }) => rules_check(&common, dir.as_deref()),
    }
}

/// The parts a scan needs, resolved from the command line and config.
struct Setup {
    config: Config,
    rules: Vec<Rule>,
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
    if let Some(path) = common.baseline.clone().or_else(|| config.baseline_path()) {
        return Baseline::load(&path).map(Some);
    }
    let default = root.join(BASELINE_FILE_NAME);
    if default.is_file() {
        return Baseline::load(&default).map(Some);
    }
    Ok(None)
}

fn setup(common: &Common, root: &Path, use_baseline: bool) -> Result<Setup> {
    let config = Config::load(common.config.as_deref(), root)?;
    let set = load_rules(common, &config)?;
    let matcher = Matcher::new(&set)?;
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
    let threads = match common.threads {
        Some(0) | None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        Some(n) => n,
    };
    let format = common
        .format
        .or(config.file.format)
        .unwrap_or(Format::Human);
    Ok(Setup {
        rules: set.rules,
        scanner: Scanner::new(matcher, allowlist, baseline),
        config,
        format,
        max_file_size,
        threads,
    })
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
    let missing = sources::fs::scan(&setup.scanner, paths, &opts);
    Ok((setup.scanner.finish(started.elapsed()), missing == 0))
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
    finish(common, &setup, &result, complete)
}

fn scan_stdin(common: &Common, path_hint: Option<&str>) -> Result<Outcome> {
    let setup = setup(common, Path::new("."), true)?;
    let started = Instant::now();
    sources::stdin::scan(&setup.scanner, &mut std::io::stdin().lock(), path_hint)
        .context("cannot read standard input")?;
    let result = setup.scanner.finish(started.elapsed());
    finish(common, &setup, &result, true)
}

fn write_baseline(common: &Common, paths: Vec<PathBuf>) -> Result<Outcome> {
    let paths = default_paths(paths);
    let root = scan_root(&paths);
    let setup = setup(common, &root, false)?;
    let (result, complete) = scan_paths(common, &paths, &setup)?;
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
        eprintln!(
            "till-scan: wrote {} ({} accepted secrets); later scans of this directory ignore them",
            target.display(),
            file.entries.len()
        );
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
    let ctx = ReportContext {
        result,
        rules: &setup.rules,
        redact: !common.no_redact,
        color: use_color(common, setup.format),
    };
    write_report(common.output.as_deref(), setup.format, &ctx)?;
    print_diagnostics(common, result);
    Ok(if !complete {
        Outcome::Failed
    } else if result.occurrences.is_empty() {
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
    let mut out = std::io::stdout().lock();
    if common.format == Some(Format::Json) {
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
    Ok(Outcome::Clean)
}

fn rules_check(common: &Common, dir: Option<&Path>) -> Result<Outcome> {
    let set = match dir {
        Some(d) if d.is_dir() => RuleSet::load_dir(d)?,
        Some(f) => RuleSet::load_file(f)?,
        None => rules_for_listing(common)?,
    };
    let mut failed = 0;
    for rule in &set.rules {
        if let Err(failures) = matcher::check_examples(rule) {
            failed += 1;
            for f in failures {
                println!("FAIL {} ({}): {f}", rule.id, rule.origin);
            }
        }
    }
    let providers: std::collections::BTreeSet<_> =
        set.rules.iter().map(|r| r.provider.as_str()).collect();
    println!(
        "{} rules for {} providers checked: {} passed, {} failed",
        set.len(),
        providers.len(),
        set.len() - failed,
        failed
    );
    Ok(if failed == 0 {
        Outcome::Clean
    } else {
        Outcome::Failed
    })
}
