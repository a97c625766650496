//! Plain git hooks that run till-scan. `install` writes into the repository's
//! hooks directory (honouring `core.hooksPath`) and refuses to replace a hook
//! it did not write unless forced; `uninstall` removes only its own hooks.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// First comment line of every hook till-scan writes; how it recognises its own.
pub const MARKER: &str = "# till-scan hook, installed by `till-scan install-hook`";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookKind {
    PreCommit,
    PrePush,
}

impl HookKind {
    pub fn file_name(self) -> &'static str {
        match self {
            HookKind::PreCommit => "pre-commit",
            HookKind::PrePush => "pre-push",
        }
    }

    fn command(self) -> &'static str {
        match self {
            HookKind::PreCommit => "staged",
            HookKind::PrePush => "git --pre-push",
        }
    }
}

/// The hooks directory git uses for this repository.
pub fn hooks_dir(repo: &git2::Repository) -> Result<PathBuf> {
    let configured = repo
        .config()
        .context("cannot read git config")?
        .get_path("core.hooksPath")
        .ok();
    Ok(match configured {
        Some(p) if p.is_absolute() => p,
        // Relative hooksPath is relative to the work tree (the git dir when bare).
        Some(p) => repo.workdir().unwrap_or_else(|| repo.path()).join(p),
        // Linked worktrees share the main repository's hooks.
        None => repo.commondir().join("hooks"),
    })
}

fn script(kind: HookKind, binary: &Path) -> String {
    let quoted = binary.display().to_string().replace('\'', r"'\''");
    format!(
        "#!/bin/sh\n{MARKER}\n\
         # Blocks {what} that add hardcoded API keys. Remove with `till-scan uninstall-hook{flag}`.\n\
         TILL_SCAN=${{TILL_SCAN:-'{quoted}'}}\n\
         [ -x \"$TILL_SCAN\" ] || TILL_SCAN=till-scan\n\
         exec \"$TILL_SCAN\" {command}\n",
        what = if kind == HookKind::PreCommit { "commits" } else { "pushes" },
        flag = if kind == HookKind::PrePush { " --pre-push" } else { "" },
        command = kind.command(),
    )
}

fn is_ours(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|text| text.contains(MARKER))
}

/// Writes the hook; returns its path.
pub fn install(repo_path: &Path, kind: HookKind, force: bool, binary: &Path) -> Result<PathBuf> {
    let repo = crate::sources::git::open(repo_path)?;
    let dir = hooks_dir(&repo)?;
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(kind.file_name());
    if path.exists() && !is_ours(&path) && !force {
        bail!(
            "{} exists and was not written by till-scan; keep it, or replace it with --force",
            path.display()
        );
    }
    std::fs::write(&path, script(kind, binary))
        .with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("cannot make {} executable", path.display()))?;
    }
    Ok(path)
}

/// Removes the hook if till-scan wrote it; returns its path when removed.
pub fn uninstall(repo_path: &Path, kind: HookKind) -> Result<Option<PathBuf>> {
    let repo = crate::sources::git::open(repo_path)?;
    let path = hooks_dir(&repo)?.join(kind.file_name());
    if !path.exists() {
        return Ok(None);
    }
    if !is_ours(&path) {
        bail!(
            "{} was not written by till-scan; not removing it",
            path.display()
        );
    }
    std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
    Ok(Some(path))
}
