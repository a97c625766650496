//! The `till-scan` binary: parse the command line, run the command, map the
//! outcome to an exit code (0 clean, 1 findings, 2 error).

use std::process::ExitCode;

/// Microsoft's mimalloc: see Cargo.toml for why.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = till_scan::cli::Cli::parse_args(std::env::args_os()).unwrap_or_else(|e| e.exit());
    let env = till_scan::settings::Env::capture();
    match till_scan::app::run(cli, env) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(error) => {
            eprintln!("till-scan: error: {error:#}");
            ExitCode::from(2)
        }
    }
}
