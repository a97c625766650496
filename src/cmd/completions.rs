//! `till-scan completions SHELL`: the shell completion script, generated
//! from the same clap definition the parser uses.

use anyhow::Result;
use clap::CommandFactory;

use super::output::write_stdout;
use super::Outcome;
use crate::cli::Cli;

pub fn completions(shell: clap_complete::Shell) -> Result<Outcome> {
    let mut command = Cli::command();
    write_stdout(|out| {
        clap_complete::generate(shell, &mut command, "till-scan", out);
        Ok(())
    })?;
    Ok(Outcome::Clean)
}
