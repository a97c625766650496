//! The steps of one rotation, in order: check everything that can be
//! checked without minting a key, then mint, commit on a new branch, push
//! and open the pull request. Each step that changes the world records its
//! undo in one [`UndoLog`], which runs on any failure after the checks.

use std::collections::BTreeSet;

use anyhow::{anyhow, bail, Result};

use crate::finding::Secret;

use super::check::{check, Checked, Forge};
use super::plan::Plan;
use super::rewrite::Replacer;
use super::scrub::Secrets;
use super::till::{NewKey, TillClient};
use super::undo::UndoLog;
use super::workspace::{LocalChange, Workspace};
use super::{pr, Log, RotateOptions, RotationReport};

/// A key minted in this run.
struct Minted {
    id: String,
    scoped: Secret,
}

/// Rotates `plan` (not empty, not a dry run), filling in `report`.
pub(super) fn rotate(
    ws: &Workspace,
    plan: &Plan,
    opts: &RotateOptions,
    mut report: RotationReport,
    secrets: &Secrets,
    log: Log<'_>,
) -> Result<RotationReport> {
    let Some(checked) = check(ws, plan, opts, &mut report, secrets, log)? else {
        return Ok(report);
    };
    let mut undo = UndoLog::new();
    match change(ws, plan, opts, &checked, &mut report, &mut undo, log) {
        Ok(()) => Ok(report),
        Err(e) => Err(undo.fail(e)),
    }
}

/// The steps that change the world, each recording its undo.
fn change<'a>(
    ws: &'a Workspace,
    plan: &Plan,
    opts: &'a RotateOptions,
    checked: &'a Checked,
    report: &mut RotationReport,
    undo: &mut UndoLog<'a>,
    log: Log<'_>,
) -> Result<()> {
    let minted = mint(plan, opts, checked, undo, log)?;
    for (key, m) in report.rotations.iter_mut().zip(&minted) {
        key.till_key_id = Some(m.id.clone());
    }
    commit(ws, plan, checked, &minted, report, undo, log)?;
    let Some(forge) = &checked.forge else {
        return Ok(());
    };
    push(
        ws,
        forge,
        &checked.branch,
        opts.github_token.as_ref(),
        undo,
        log,
    )?;
    open_pull_request(forge, &checked.branch, &checked.till, report, log)
}

/// Step 2: one scoped key per rotation. Undo: revoke every key of this run, the
/// ones whose create answer was lost included (recorded even if the first
/// create fails).
fn mint<'a>(
    plan: &Plan,
    opts: &RotateOptions,
    checked: &'a Checked,
    undo: &mut UndoLog<'a>,
    log: Log<'_>,
) -> Result<Vec<Minted>> {
    let Checked {
        branch,
        till,
        repository,
        run_id,
        ..
    } = checked;
    let mut minted: Vec<Minted> = Vec::new();
    let mut failed = None;
    for rotation in &plan.rotations {
        let first = &rotation.spots[0];
        let metadata = serde_json::json!({
            "name": format!("till-scan: {} in {}/{}", rotation.rule_id, repository, first.path),
            "source": "till-scan",
            "till_scan_version": env!("CARGO_PKG_VERSION"),
            "repository": repository,
            "path": first.path,
            "line": first.line,
            "paths": rotation.spots.iter().map(|s| s.path.clone()).collect::<BTreeSet<_>>(),
            "rule": rotation.rule_id,
            "fingerprint": rotation.fingerprint,
            "branch": branch,
            "run_id": run_id,
        });
        let new = NewKey {
            provider: &rotation.till_provider,
            upstream_key: &rotation.secret,
            max_activations: opts.limits.max_activations,
            max_tokens: opts.limits.max_tokens,
            max_spend_cents: opts.limits.max_spend_cents,
            ip_whitelist: &opts.limits.ip_whitelist,
            metadata,
        };
        match till.create_key(&new) {
            Ok(key) => {
                log(&format!(
                    "minted Till key {} for {} ({})",
                    key.id, rotation.rule_id, first
                ));
                minted.push(Minted {
                    scoped: key.scoped_key.clone().unwrap_or_else(|| Secret::new(b"")),
                    id: key.id,
                });
            }
            Err(e) => {
                failed = Some(anyhow!(e).context(format!(
                    "minting a Till key for {} ({first}) failed",
                    rotation.rule_id
                )));
                break;
            }
        }
    }
    let ids: Vec<String> = minted.iter().map(|m| m.id.clone()).collect();
    undo.push(move || revoke_all(till, &ids, run_id));
    match failed {
        Some(e) => Err(e),
        None => Ok(minted),
    }
}

/// Step 3: the keys replaced in the tracked files, committed on the new branch,
/// which HEAD switches to. Undo: put files, index, HEAD back; delete the
/// branch.
fn commit<'a>(
    ws: &'a Workspace,
    plan: &Plan,
    checked: &Checked,
    minted: &[Minted],
    report: &mut RotationReport,
    undo: &mut UndoLog<'a>,
    log: Log<'_>,
) -> Result<()> {
    let branch = &checked.branch;
    let pairs: Vec<(&[u8], &[u8])> = plan
        .rotations
        .iter()
        .zip(minted)
        .map(|(r, m)| (r.secret.expose().as_bytes(), m.scoped.expose().as_bytes()))
        .collect();
    let replacer = Replacer::new(&pairs);
    let (rewrites, binary) = ws.plan_rewrites(&checked.tracked, &replacer);
    report.binary_files_skipped = binary;
    if rewrites.is_empty() {
        bail!("none of the keys is in the work tree any more (edited since the scan?); nothing to commit");
    }
    let mut local = LocalChange::new(ws);
    let applied = local.apply(
        &rewrites,
        &replacer,
        branch,
        &pr::commit_message(&report.rotations),
    );
    // Recorded even if `apply` failed half-way: the rollback undoes what it
    // did.
    undo.push(move || local.rollback());
    let commit = applied?;
    report.commit = Some(commit.to_string());
    log(&format!(
        "committed {} file(s) on branch {branch} ({})",
        rewrites.len(),
        &commit.to_string()[..12]
    ));
    Ok(())
}

/// Step 4: the branch pushed. Undo: delete it on the remote.
fn push<'a>(
    ws: &'a Workspace,
    forge: &'a Forge,
    branch: &'a str,
    token: Option<&'a Secret>,
    undo: &mut UndoLog<'a>,
    log: Log<'_>,
) -> Result<()> {
    let Forge {
        remote, push_url, ..
    } = forge;
    ws.push(remote, push_url.as_deref(), branch, token)?;
    undo.push(
        move || match ws.delete_remote_branch(remote, push_url.as_deref(), branch, token) {
            Ok(()) => Vec::new(),
            Err(e) => vec![e.to_string()],
        },
    );
    log(&format!("pushed {branch} to {remote}"));
    Ok(())
}

/// Step 5: the pull request; the last step, so it has nothing to undo.
fn open_pull_request(
    forge: &Forge,
    branch: &str,
    till: &TillClient,
    report: &mut RotationReport,
    log: Log<'_>,
) -> Result<()> {
    let body = pr::body(report, till.base_url());
    let pr = forge.github.create_pull_request(
        &pr::title(&report.rotations),
        branch,
        &forge.base,
        &body,
    )?;
    log(&format!("opened pull request #{}: {}", pr.number, pr.url));
    report.pr_url = Some(pr.url);
    Ok(())
}

/// Revokes the keys minted in this run, including any whose create answer
/// was lost (found by this run's id in their metadata). Returns what could
/// not be revoked.
fn revoke_all(till: &TillClient, minted: &[String], run_id: &str) -> Vec<String> {
    let mut ids: Vec<String> = minted.to_vec();
    if let Ok(keys) = till.list_keys() {
        for k in keys {
            if k.is_active() && k.metadata_str("run_id") == Some(run_id) && !ids.contains(&k.id) {
                ids.push(k.id);
            }
        }
    }
    let mut problems = Vec::new();
    for id in ids {
        if let Err(e) = till.revoke_key(&id) {
            problems.push(format!(
                "Till key {id} could not be revoked ({e}): revoke it yourself"
            ));
        }
    }
    problems
}
