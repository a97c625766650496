//! `till-scan keys`: audit the Till keys till-scan minted, and `keys
//! revoke`: revoke some of them. Till is reached as `rotate` reaches it
//! (the same URL, admin key, timeout and retries, from
//! [`Settings::rotate_options`] and [`crate::rotate::connect_till`]), and
//! the repository at PATH is named as `rotate` names it in the keys'
//! metadata ([`crate::rotate::repository_names`]).

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};

use super::output::write_stdout;
use super::Outcome;
use crate::audit::{self, head::Head, revoke, AtHead};
use crate::cli::{Format, KeysArgs, KeysCommand, RevokeArgs, RotateArgs};
use crate::rotate::scrub::Secrets;
use crate::rotate::workspace::Workspace;
use crate::rotate::{connect_till, repository_names, RotateOptions};
use crate::settings::{Args, Settings};

/// `till-scan keys [PATH]` and `till-scan keys revoke`.
pub fn keys(common: &Args, args: KeysArgs) -> Result<Outcome> {
    // Other formats and --also-write are refused before any command runs
    // (app.rs).
    let format = common.format.unwrap_or(Format::Human);
    let secrets = Secrets::new();
    let outcome = match &args.command {
        None => audit_keys(common, &args, format, &secrets),
        Some(KeysCommand::Revoke(revoke)) => revoke_keys(common, &args, revoke, format, &secrets),
    };
    // Belt and braces: the client scrubs what Till says; every error is
    // scrubbed of the run's secrets once more.
    outcome.map_err(|e| anyhow!("{}", secrets.scrub_known(&format!("{e:#}"))))
}

/// Till and the repository's name as `rotate` would resolve them, with
/// the config that applies at `root`.
fn rotate_options(common: &Args, root: &Path, till_url: Option<String>) -> Result<RotateOptions> {
    let settings = Settings::resolve(common, root)?;
    Ok(settings.rotate_options(&RotateArgs {
        till_url,
        ..RotateArgs::default()
    }))
}

fn audit_keys(
    common: &Args,
    args: &KeysArgs,
    format: Format,
    secrets: &Secrets,
) -> Result<Outcome> {
    let root = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    if !root.is_dir() {
        bail!(
            "{}: {}",
            root.display(),
            if root.exists() {
                "not a directory (PATH is the repository's work tree)"
            } else {
                "no such directory"
            }
        );
    }
    let opts = rotate_options(common, &root, args.till_url.clone())?;
    let till = connect_till(&opts, secrets)?;
    let ws = match Workspace::open(&root) {
        Ok(ws) => Some(ws),
        Err(e) => {
            if !common.quiet {
                eprintln!(
                    "till-scan: note: {} is not a git work tree ({e:#}): no key is checked for `gone`",
                    root.display()
                );
            }
            None
        }
    };
    let head = ws
        .as_ref()
        .map(|ws| Head::new(ws, repository_names(ws, &opts)));
    let keys = till.list_keys().context("cannot list the Till keys")?;
    let judge = |key: &crate::rotate::till::Key| match &head {
        Some(head) => head.judge(key),
        None => AtHead::NotChecked("no repository at PATH".into()),
    };
    let audit = audit::audit(
        &keys,
        till.base_url(),
        head.as_ref().map(|h| h.repository.as_str()),
        &audit::Options {
            all: args.all,
            near: args.near,
            idle_days: args.idle_days,
            now: crate::time::now(),
        },
        secrets,
        &judge,
    );
    let text = match format {
        Format::Json => audit::render::json(&audit),
        Format::Markdown => audit::render::markdown(&audit),
        _ => audit::render::human(&audit),
    };
    write(common, &secrets.scrub_known(&text))?;
    Ok(if args.fail_on_flags && audit.summary.needs_attention > 0 {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

fn revoke_keys(
    common: &Args,
    args: &KeysArgs,
    revoke: &RevokeArgs,
    format: Format,
    secrets: &Secrets,
) -> Result<Outcome> {
    use revoke::{KeyResult, Outcome as Done};

    let mut report = revoke::Report {
        version: revoke::JSON_VERSION,
        tool: "till-scan",
        dry_run: revoke.dry_run,
        idle_days: revoke.idle,
        results: Vec::new(),
    };
    if revoke.dry_run && revoke.idle.is_none() {
        // Ids given: nothing to look up, so nothing is contacted.
        report.results = revoke
            .ids
            .iter()
            .map(|id| KeyResult {
                id: id.clone(),
                result: Done::WouldRevoke,
                about: None,
                error: None,
            })
            .collect();
    } else {
        let opts = rotate_options(common, Path::new("."), args.till_url.clone())?;
        let till = connect_till(&opts, secrets)?;
        // (the id sent to Till, the id shown, why it was chosen)
        let chosen: Vec<(String, String, Option<String>)> = match revoke.idle {
            Some(days) => {
                let keys = till.list_keys().context("cannot list the Till keys")?;
                let now = crate::time::now();
                revoke::idle_keys(&keys, days, now)
                    .into_iter()
                    .map(|k| {
                        let about = revoke::describe(k, now, |s| secrets.clean_field(s));
                        (k.id.clone(), secrets.clean_field(&k.id), Some(about))
                    })
                    .collect()
            }
            None => revoke
                .ids
                .iter()
                .map(|id| (id.clone(), id.clone(), None))
                .collect(),
        };
        for (id, shown, about) in chosen {
            let (result, error) = if revoke.dry_run {
                (Done::WouldRevoke, None)
            } else {
                match till.revoke_key(&id) {
                    Ok(_) => (Done::Revoked, None),
                    Err(e) => (Done::Failed, Some(secrets.scrub_known(&e.to_string()))),
                }
            };
            report.results.push(KeyResult {
                id: shown,
                result,
                about,
                error,
            });
        }
    }
    let text = match format {
        Format::Json => revoke::json(&report),
        _ => revoke::human(&report),
    };
    write(common, &secrets.scrub_known(&text))?;
    Ok(if report.failed() > 0 {
        Outcome::Failed
    } else {
        Outcome::Clean
    })
}

/// To `-o FILE`, else standard output.
fn write(common: &Args, text: &str) -> Result<()> {
    match &common.output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
        }
        None => write_stdout(|out| out.write_all(text.as_bytes())),
    }
}
