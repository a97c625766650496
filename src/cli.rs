//! Command-line definitions only: what the user can type, checked by clap,
//! with no I/O. `config` turns this into the parts that do the work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use crate::report::Format;

#[derive(Debug, Parser)]
#[command(
    name = "till-scan",
    version,
    about = "Find hardcoded provider API keys in files and git history",
    long_about = "Find hardcoded provider API keys in files, git history, staged changes or standard input.\n\
                  With no command, scans the current directory (`till-scan dir .`).\n\
                  Exit codes: 0 no findings, 1 findings, 2 error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and directories (default: the current directory).
    Dir {
        /// Files or directories to scan; a FIFO or pipe (`<(cmd)`, /dev/stdin) is read as a stream.
        paths: Vec<PathBuf>,
    },
    /// Scan standard input (up to --max-file-size).
    Stdin {
        /// Path to show for the input in reports (and to match config path allowlists).
        #[arg(long, value_name = "NAME")]
        path_hint: Option<String>,
    },
    /// List or check rules.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Write a baseline of what a scan finds now; later scans ignore those secrets.
    Baseline {
        /// Files or directories to scan (default: the current directory).
        paths: Vec<PathBuf>,
        /// Baseline a git history scan instead of the files (same selection flags as `git`).
        #[arg(long)]
        git: bool,
        #[command(flatten)]
        history: HistoryArgs,
    },
    /// Scan git history: every blob reachable from all refs, a branch, or a range.
    Git {
        /// Repository (or a directory inside one) [default: .].
        repo: Option<PathBuf>,
        #[command(flatten)]
        history: HistoryArgs,
        /// Act as a pre-push hook: read `<local ref> <local sha> <remote ref> <remote sha>`
        /// lines on standard input and scan the commits being pushed.
        #[arg(long, conflicts_with_all = ["branch", "range"])]
        pre_push: bool,
    },
    /// Scan only what the index adds relative to HEAD (the pre-commit check).
    Staged {
        /// Repository (or a directory inside one) [default: .].
        repo: Option<PathBuf>,
    },
    /// Replace hardcoded AI-provider keys with Till scoped keys, on a new
    /// branch, and open a pull request (see docs/rotation.md).
    Rotate(RotateArgs),
    /// Audit the Till keys till-scan minted (usage, limits, idle, keys the
    /// code no longer holds), or revoke them (see docs/rotation.md).
    Keys(KeysArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish),
    /// e.g. `till-scan completions bash > ~/.local/share/bash-completion/completions/till-scan`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Install a git hook that runs till-scan (pre-commit, or pre-push).
    InstallHook {
        /// Repository [default: .].
        repo: Option<PathBuf>,
        /// Install the pre-push hook instead of the pre-commit hook.
        #[arg(long)]
        pre_push: bool,
        /// Replace an existing hook that till-scan did not write.
        #[arg(long)]
        force: bool,
    },
    /// Write the till-scan files equivalent to a gitleaks or Betterleaks
    /// setup: .till-scan.toml and a rule file from .gitleaks.toml /
    /// .betterleaks.toml, a baseline from .gitleaksignore or a report.
    Migrate(MigrateArgs),
    /// Remove a hook that till-scan installed (never a foreign one).
    UninstallHook {
        /// Repository [default: .].
        repo: Option<PathBuf>,
        /// Remove the pre-push hook instead of the pre-commit hook.
        #[arg(long)]
        pre_push: bool,
    },
}

/// `till-scan rotate`. The Till admin key comes from `TILL_ADMIN_KEY` only,
/// never from the command line.
#[derive(Debug, Args, Clone, Default)]
pub struct RotateArgs {
    /// The repository's work tree (or a directory inside it) [default: .].
    pub path: Option<PathBuf>,
    /// Rotate the findings of this till-scan JSON report (redacted is fine:
    /// the files it names are scanned again) instead of scanning the tree.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Till API base URL [default: $TILL_API_URL, `[rotate] till_url`, https://api.till.ac].
    #[arg(long, value_name = "URL")]
    pub till_url: Option<String>,
    /// Activations each scoped key allows [default: `[rotate] max_activations`, 1000].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_activations: Option<u64>,
    /// Token budget of each scoped key (input + output tokens).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_tokens: Option<u64>,
    /// Spend budget of each scoped key, in US cents.
    #[arg(long, value_name = "CENTS", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_spend_cents: Option<u64>,
    /// Only these IPs or CIDRs may use the scoped keys (repeatable).
    #[arg(long = "ip-whitelist", value_name = "CIDR")]
    pub ip_whitelist: Vec<String>,
    /// Remote to push the branch to [default: `[rotate] remote`, origin].
    #[arg(long, value_name = "NAME")]
    pub remote: Option<String>,
    /// GitHub repository for the pull request [default: $GITHUB_REPOSITORY, else the remote's URL].
    #[arg(long, value_name = "OWNER/NAME")]
    pub github_repo: Option<String>,
    /// Stop after the local commit: no push, no pull request.
    #[arg(long)]
    pub no_pr: bool,
    /// Print the plan; change nothing and contact no service.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask each key's provider whether it is live before rotating
    /// (by default a dead key is not sent to Till but listed for removal).
    #[arg(long)]
    pub no_validate: bool,
    /// Run on a work tree with uncommitted changes (only the rotated files are
    /// touched, and uncommitted edits in them stay out of the commit).
    #[arg(long)]
    pub allow_dirty: bool,
}

/// `till-scan migrate`.
#[derive(Debug, Args, Clone, Default)]
pub struct MigrateArgs {
    /// The repository's root [default: .].
    pub path: Option<PathBuf>,
    /// A gitleaks or Betterleaks JSON report whose findings become baseline entries.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Print what would be written; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Replace an existing .till-scan.toml.
    #[arg(long)]
    pub force: bool,
}

/// `till-scan keys`: the audit. The Till admin key comes from
/// `TILL_ADMIN_KEY` only, never from the command line.
#[derive(Debug, Args, Clone)]
pub struct KeysArgs {
    #[command(subcommand)]
    pub command: Option<KeysCommand>,
    /// The repository's work tree: its keys are checked for `gone` [default: .].
    pub path: Option<PathBuf>,
    /// Till API base URL [default: $TILL_API_URL, `[rotate] till_url`, https://api.till.ac].
    #[arg(long, value_name = "URL", global = true)]
    pub till_url: Option<String>,
    /// Show every key of the account, not only those till-scan minted.
    #[arg(long)]
    pub all: bool,
    /// Flag a key `near-limit` when any counter reaches this share of its
    /// limit (80%, 0.8 or 80).
    #[arg(long, value_name = "SHARE", default_value = "80%", value_parser = crate::audit::flags::parse_near)]
    pub near: f64,
    /// Flag an active key `idle` when unused (or, never used, created) this many days ago.
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub idle_days: u64,
    /// Exit 1 when a key shown is flagged exhausted, near-limit, idle or gone.
    #[arg(long)]
    pub fail_on_flags: bool,
}

#[derive(Debug, Subcommand, Clone)]
pub enum KeysCommand {
    /// Revoke Till keys: the ids given, or (`--idle AGE`) every active key
    /// till-scan minted that has been idle that long.
    Revoke(RevokeArgs),
}

/// `till-scan keys revoke`.
#[derive(Debug, Args, Clone)]
pub struct RevokeArgs {
    /// Ids of the keys to revoke.
    #[arg(
        value_name = "ID",
        required_unless_present = "idle",
        conflicts_with = "idle"
    )]
    pub ids: Vec<String>,
    /// Revoke every active till-scan key unused (or, never used, created)
    /// this long ago: 90d, 90 (days) or 2w.
    #[arg(long, value_name = "AGE", value_parser = crate::audit::flags::parse_age)]
    pub idle: Option<u64>,
    /// Say what would be revoked and revoke nothing (with ids: contact no
    /// service at all; with --idle: only list the keys).
    #[arg(long)]
    pub dry_run: bool,
}

/// Which commits a history scan covers.
#[derive(Debug, Args, Clone, Default)]
pub struct HistoryArgs {
    /// Only commits reachable from this branch (or any revision).
    #[arg(long, value_name = "NAME")]
    pub branch: Option<String>,
    /// Only what BASE..HEAD introduced (what CI needs for a push or pull request).
    #[arg(long, value_name = "BASE..HEAD", conflicts_with = "branch")]
    pub range: Option<String>,
    /// Only commits at or after DATE (YYYY-MM-DD, RFC 3339, or Unix seconds).
    #[arg(long, value_name = "DATE", value_parser = crate::time::parse_since)]
    pub since: Option<i64>,
    /// Scan what can be read and exit 0/1 even when objects of the history
    /// are missing or corrupt (a partial clone, a damaged pack); without it,
    /// such a scan ends with exit 2, since it could not see everything.
    #[arg(long)]
    pub skip_missing: bool,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the rules in force (built-in, --rules and config rule dirs).
    List(RuleFilter),
    /// Compile every rule and prove its examples and negative examples.
    Check {
        /// A directory (or file) of rule files to check instead of the rules in force.
        dir: Option<PathBuf>,
    },
}

/// Which rules `rules list` shows; filters combine (a rule must pass all).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RuleFilter {
    /// Only rules of this provider (case-insensitive; part of the name is
    /// enough: `--provider google` lists Google and Google Cloud).
    #[arg(long, value_name = "NAME")]
    pub provider: Option<String>,
    /// Only rules whose keys Till can proxy (the ones `rotate` can replace).
    #[arg(long)]
    pub till: bool,
    /// Only rules of this catalogue group (`ai`, `cloud`, `code`, ...;
    /// `custom` for user rules).
    #[arg(long, value_name = "GROUP")]
    pub group: Option<String>,
    /// Print rules and providers counted by group instead of the rules.
    #[arg(long)]
    pub summary: bool,
}

/// One more report of the same scan: `--also-write FORMAT=PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraReport {
    pub format: Format,
    pub path: PathBuf,
}

/// Parses `FORMAT=PATH`, e.g. `sarif=results.sarif`.
pub fn parse_extra_report(text: &str) -> Result<ExtraReport, String> {
    let (format, path) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not FORMAT=PATH (e.g. sarif=results.sarif)"))?;
    let format = Format::from_str(format.trim(), true).map_err(|_| {
        format!(
            "unknown format `{format}` in `{text}` (human, json, sarif, junit, github or markdown)"
        )
    })?;
    if path.is_empty() {
        return Err(format!("`{text}` names no file after `=`"));
    }
    Ok(ExtraReport {
        format,
        path: PathBuf::from(path),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct Common {
    /// Report format [default: human, or `format` in the config file].
    #[arg(long, short = 'f', global = true, value_enum)]
    pub format: Option<Format>,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', global = true, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the same scan's report in FORMAT to PATH (repeatable; scan commands),
    /// e.g. `--also-write sarif=results.sarif --also-write markdown=summary.md`.
    #[arg(long = "also-write", global = true, value_name = "FORMAT=PATH", value_parser = parse_extra_report)]
    pub also_write: Vec<ExtraReport>,
    /// Config file [default: .till-scan.toml in the (first) scanned directory].
    #[arg(long, short = 'c', global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Extra rule directory or file (repeatable); loaded after the built-in rules.
    #[arg(long = "rules", global = true, value_name = "DIR")]
    pub rule_dirs: Vec<PathBuf>,
    /// Use only the rules from --rules / config, not the built-in ones.
    #[arg(long, global = true)]
    pub no_builtin_rules: bool,
    /// Run only these rules: ids or globs (`openai.*`, `*.api-key`),
    /// repeatable or comma-separated; over the config's `[rules] enable`.
    #[arg(
        long = "enable-rule",
        global = true,
        value_name = "ID",
        value_delimiter = ','
    )]
    pub enable_rules: Vec<String>,
    /// Never run these rules: ids or globs, repeatable or comma-separated;
    /// added to the config's `[rules] disable`.
    #[arg(
        long = "disable-rule",
        global = true,
        value_name = "ID",
        value_delimiter = ','
    )]
    pub disable_rules: Vec<String>,
    /// Worker threads [default: all cores; at most 4 per core].
    #[arg(long, short = 'j', global = true, value_name = "N")]
    pub threads: Option<usize>,
    /// Print secrets in full instead of redacted.
    #[arg(long, global = true)]
    pub no_redact: bool,
    /// Skip files larger than this (e.g. 10MiB, 500K, 1048576) [default: 10MiB].
    #[arg(long, global = true, value_name = "SIZE", value_parser = parse_size)]
    pub max_file_size: Option<u64>,
    /// Look for keys inside base64, percent-encoding and `\u`/`\x` escapes,
    /// this many encodings deep (0 turns decoding off) [default: 2].
    #[arg(long, global = true, value_name = "N")]
    pub max_decode_depth: Option<usize>,
    /// Look inside archives (zip, jar, whl, docx..., tar, gzip, bzip2, xz),
    /// this many nested levels deep (0 turns archives off) [default: 2].
    #[arg(long, global = true, value_name = "N")]
    pub max_archive_depth: Option<usize>,
    /// Baseline file of accepted secrets [default: .till-scan-baseline.json in the scanned directory].
    #[arg(long, global = true, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Exit 1 only for findings of this severity or above (critical, high,
    /// medium, low), or only for keys validation found live (`live`, which
    /// turns on --validate) [default: medium, or `fail_on` in the config file].
    #[arg(long, global = true, value_name = "LEVEL", value_parser = crate::rules::FailOn::parse)]
    pub fail_on: Option<crate::rules::FailOn>,
    /// Ask each found key's own provider whether it is live (one read-only
    /// request per distinct key; see docs/validation.md). Off by default:
    /// without it no scan touches the network.
    #[arg(long, global = true)]
    pub validate: bool,
    /// Report only keys validation found live (turns on --validate).
    #[arg(long, global = true)]
    pub only_live: bool,
    /// Ignore any baseline file.
    #[arg(long, global = true)]
    pub no_baseline: bool,
    /// Do not honour .gitignore, .ignore and .till-scanignore files.
    #[arg(long, global = true)]
    pub no_ignore: bool,
    /// Colour in human output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// More detail on standard error (skipped files, unused baseline entries).
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print nothing on standard error but errors.
    #[arg(long, short = 'q', global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

impl Cli {
    /// Parses `args` (the program name first). A first word that is not a
    /// command but names a path is scanned as one (`till-scan src` is
    /// `till-scan dir src`), as other scanners take a bare path; so is one
    /// that looks like a path (`./x`, `a/b`, `.env`), so that a missing one
    /// is reported as a missing path rather than an unknown command.
    pub fn parse_args<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        use clap::error::{ContextKind, ContextValue, ErrorKind};
        let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
        let error = match Cli::try_parse_from(&args) {
            Ok(cli) => return Ok(cli),
            Err(e) => e,
        };
        if error.kind() != ErrorKind::InvalidSubcommand {
            return Err(error);
        }
        let Some(ContextValue::String(word)) = error.get(ContextKind::InvalidSubcommand) else {
            return Err(error);
        };
        let looks_like_path = word.contains(['/', '\\']) || word.starts_with('.');
        if !looks_like_path && !std::path::Path::new(word).exists() {
            return Err(error);
        }
        let Some(at) = args.iter().skip(1).position(|a| a == word.as_str()) else {
            return Err(error);
        };
        let mut with_dir = args.clone();
        with_dir.insert(at + 1, "dir".into());
        Cli::try_parse_from(with_dir)
    }
}

/// Parses a size such as `10MiB`, `10M`, `500k`, `2GB` or `1048576` into bytes.
/// Zero is refused: a limit of 0 bytes would skip every file and report a
/// clean scan.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size (try 10MiB, 500K or a number of bytes)"))?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "unknown size unit `{other}` in `{text}` (use K, M or G)"
            ))
        }
    };
    let bytes = (number * factor) as u64;
    if bytes == 0 {
        return Err(format!(
            "a size limit of `{text}` (0 bytes) would skip every file (try 10MiB, 500K or a number of bytes)"
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("10MiB").unwrap(), 10 << 20);
        assert_eq!(parse_size("500k").unwrap(), 500 << 10);
        assert_eq!(parse_size("1048576").unwrap(), 1 << 20);
        assert!(parse_size("ten").is_err());
        assert!(parse_size("10X").is_err());
        assert!(parse_size("0").unwrap_err().contains("skip every file"));
        assert!(parse_size("0.1").unwrap_err().contains("skip every file"));
        assert!(parse_size("-1").is_err());
    }

    #[test]
    fn extra_reports_parse() {
        let r = parse_extra_report("sarif=out/results.sarif").unwrap();
        assert_eq!(r.format, Format::Sarif);
        assert_eq!(r.path, PathBuf::from("out/results.sarif"));
        // Only the first `=` splits: paths may hold one.
        let r = parse_extra_report("Markdown=a=b.md").unwrap();
        assert_eq!(r.format, Format::Markdown);
        assert_eq!(r.path, PathBuf::from("a=b.md"));
        assert!(parse_extra_report("sarif")
            .unwrap_err()
            .contains("FORMAT=PATH"));
        assert!(parse_extra_report("xml=a")
            .unwrap_err()
            .contains("unknown format"));
        assert!(parse_extra_report("json=").is_err());
    }

    #[test]
    fn a_bare_path_is_a_dir_scan_and_a_typo_is_still_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        std::fs::create_dir(&src).unwrap();
        let src = src.to_str().unwrap();
        let cli = Cli::parse_args(["till-scan", "-f", "json", src, "--no-redact"]).unwrap();
        match cli.command {
            Some(Command::Dir { paths }) => assert_eq!(paths, [PathBuf::from(src)]),
            other => panic!("{other:?}"),
        }
        assert!(cli.common.no_redact);
        assert_eq!(cli.common.format, Some(Format::Json));
        // Several paths; a relative one that does not exist is still a path.
        let cli = Cli::parse_args(["till-scan", ".", "./missing"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Dir { paths }) if paths.len() == 2));
        // A word that is neither: clap's error, with its suggestion.
        let e = Cli::parse_args(["till-scan", "stagd"]).unwrap_err();
        assert!(e.to_string().contains("staged"), "{e}");
        // Commands are still commands.
        let cli = Cli::parse_args(["till-scan", "staged"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Staged { .. })));
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
