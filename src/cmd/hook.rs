//! `till-scan install-hook` / `uninstall-hook`, and what a blocking hook
//! tells the user.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::Outcome;
use crate::hook::{self, HookKind};
use crate::settings::Args;

/// What to do when a hook blocks: the three ways out.
fn hook_kind(pre_push: bool) -> HookKind {
    if pre_push {
        HookKind::PrePush
    } else {
        HookKind::PreCommit
    }
}

pub fn install_hook(
    common: &Args,
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

pub fn uninstall_hook(common: &Args, repo: Option<PathBuf>, pre_push: bool) -> Result<Outcome> {
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
