//! The outline of a run: check the report targets, hand the command to its
//! module in `cmd`, and say what it found as an [`Outcome`].
//! Settings are resolved in [`crate::settings`]; `main` only maps the
//! outcome to an exit code.

use anyhow::Result;

use crate::cli::{Cli, Command, Common, Format, RulesCommand};
use crate::cmd;
use crate::report;
use crate::settings::{Args, Env};

// What a command found, for the exit code: defined beside the commands,
// which decide it.
pub use crate::cmd::Outcome;

/// Runs `cli` in the environment `env` (captured once, at start).
pub fn run(cli: Cli, env: Env) -> Result<Outcome> {
    let Cli { command, common } = cli;
    let command = command.unwrap_or(Command::Dir { paths: Vec::new() });
    check_outputs(&command, &common)?;
    let args = Args { common, env };
    // A report never replaces a file that is not one (a baseline's target is
    // checked by the baseline reader instead).
    if !matches!(command, Command::Baseline { .. }) {
        for path in args
            .output
            .iter()
            .chain(args.also_write.iter().map(|e| &e.path))
        {
            report::target::ensure_overwritable(path)?;
        }
    }
    match command {
        Command::Dir { paths } => cmd::dir::scan_dir(&args, paths),
        Command::Stdin { path_hint } => cmd::stdin::scan_stdin(&args, path_hint.as_deref()),
        Command::Baseline {
            paths,
            git,
            history,
        } => cmd::baseline::write_baseline(&args, paths, git.then_some(&history)),
        Command::Git {
            repo,
            history,
            pre_push,
        } => cmd::git::scan_git(&args, repo, &history, pre_push),
        Command::Staged { repo } => cmd::staged::scan_staged(&args, repo),
        Command::Rotate(rotate) => cmd::rotate::rotate(&args, rotate),
        Command::Keys(keys) => cmd::keys::keys(&args, keys),
        Command::InstallHook {
            repo,
            pre_push,
            force,
        } => cmd::hook::install_hook(&args, repo, pre_push, force),
        Command::Migrate(m) => cmd::migrate::migrate(&args, &m),
        Command::UninstallHook { repo, pre_push } => {
            cmd::hook::uninstall_hook(&args, repo, pre_push)
        }
        Command::Rules(RulesCommand::List(filter)) => cmd::rules::rules_list(&args, &filter),
        Command::Rules(RulesCommand::Check { dir }) => {
            cmd::rules::rules_check(&args, dir.as_deref())
        }
        Command::Completions { shell } => cmd::completions::completions(shell),
    }
}

/// What a command writes, for `-f` and `--also-write`: its name and the
/// formats it can write (`None`: every report format, the scans).
fn outputs_of(command: &Command) -> (&'static str, Option<&'static [Format]>) {
    use Format::{Human, Json, Markdown};
    match command {
        Command::Dir { .. }
        | Command::Stdin { .. }
        | Command::Git { .. }
        | Command::Staged { .. } => ("scan", None),
        Command::Rules(RulesCommand::List(_)) => ("rules list", Some(&[Human, Json])),
        Command::Rules(RulesCommand::Check { .. }) => ("rules check", Some(&[Human])),
        Command::Baseline { .. } => ("baseline", Some(&[])),
        Command::Rotate(_) => ("rotate", Some(&[Human, Json])),
        Command::Keys(_) => ("keys", Some(&[Human, Json, Markdown])),
        Command::InstallHook { .. } => ("install-hook", Some(&[])),
        Command::UninstallHook { .. } => ("uninstall-hook", Some(&[])),
        Command::Migrate(_) => ("migrate", Some(&[])),
        Command::Completions { .. } => ("completions", Some(&[])),
    }
}

/// A format a command cannot write is an error that says what it writes,
/// instead of output in another format; so is `--also-write` outside scans.
fn check_outputs(command: &Command, common: &Common) -> Result<()> {
    let (name, formats) = outputs_of(command);
    let Some(formats) = formats else {
        return Ok(());
    };
    if let Some(format) = common.format.filter(|f| !formats.contains(f)) {
        let names: Vec<&str> = formats.iter().map(|f| f.name()).collect();
        if names.is_empty() {
            anyhow::bail!(
                "`{name}` writes no report, so -f/--format {} does not apply",
                format.name()
            );
        }
        let list = match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => names.join(""),
        };
        anyhow::bail!("`{name}` writes {list}, not {}", format.name());
    }
    if !common.also_write.is_empty() {
        anyhow::bail!("--also-write applies to scans (dir, stdin, git, staged), not to `{name}`");
    }
    // Validation flags act on a scan's findings; elsewhere they would be
    // ignored without a word (`rotate` validates unless --no-validate).
    let validating =
        common.validate || common.only_live || common.fail_on == Some(crate::rules::FailOn::Live);
    if validating {
        anyhow::bail!(
            "--validate, --only-live and --fail-on live apply to scans (dir, stdin, git, staged), not to `{name}`{}",
            if matches!(command, Command::Rotate(_)) {
                " (rotate checks the keys it would rotate unless --no-validate)"
            } else {
                ""
            }
        );
    }
    Ok(())
}
