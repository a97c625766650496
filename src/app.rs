//! The outline of a run: check the report targets, hand the command to its
//! module in `cmd`, and say what it found as an [`Outcome`].
//! Settings are resolved in [`crate::settings`]; `main` only maps the
//! outcome to an exit code.

use anyhow::Result;

use crate::cli::{Cli, Command, RulesCommand};
use crate::cmd;
use crate::report;
use crate::settings::{Args, Env};

// What a command found, for the exit code: defined beside the commands,
// which decide it.
pub use crate::cmd::Outcome;

/// Runs `cli` in the environment `env` (captured once, at start).
pub fn run(cli: Cli, env: Env) -> Result<Outcome> {
    let Cli { command, common } = cli;
    let args = Args { common, env };
    // A report never replaces a file that is not one (a baseline's target is
    // checked by the baseline reader instead).
    if !matches!(command, Some(Command::Baseline { .. })) {
        for path in args
            .output
            .iter()
            .chain(args.also_write.iter().map(|e| &e.path))
        {
            report::target::ensure_overwritable(path)?;
        }
    }
    match command.unwrap_or(Command::Dir { paths: Vec::new() }) {
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
    }
}
