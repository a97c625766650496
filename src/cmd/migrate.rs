//! `till-scan migrate [PATH]`: writes the till-scan files equivalent to a
//! repository's gitleaks or Betterleaks setup: `.till-scan.toml` from
//! `.gitleaks.toml` / `.betterleaks.toml`, the custom rules into
//! `.till-scan/rules/migrated.toml`, and `.till-scan-baseline.json` from
//! `.gitleaksignore` / `.betterleaksignore` or a JSON report (`--report`),
//! by scanning the files and keeping the findings those accepted. Prints
//! what it converted and what it could not; `--dry-run` writes nothing.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::Outcome;
use crate::baseline::{self, Foreign};
use crate::cli::MigrateArgs;
use crate::config::{Config, CONFIG_FILE_NAME};
use crate::matcher::Workload;
use crate::migrate::{self, write};
use crate::scan::ScanResult;
use crate::settings::imported::{self, Imported};
use crate::settings::{Args, Settings};

/// What the baseline part found: entries and what they came from.
struct BaselinePlan {
    file: baseline::BaselineFile,
    /// Sources, for the summary (".gitleaksignore: 3 fingerprints").
    sources: Vec<String>,
    /// Places (ignore-file fingerprints, report entries) that matched no
    /// finding of the scan.
    unmatched: usize,
}

pub fn migrate(args: &Args, m: &MigrateArgs) -> Result<Outcome> {
    let root = m.path.clone().unwrap_or_else(|| PathBuf::from("."));
    if !root.is_dir() {
        anyhow::bail!("{}: not a directory", root.display());
    }
    let config_path = migrate::find_config(&root);
    let (places, _) = migrate::ignore_places(&root)?;
    let ignore_names: Vec<String> = migrate::ignore_file::IGNORE_FILES
        .iter()
        .filter(|n| root.join(n).is_file())
        .map(|n| n.to_string())
        .collect();
    if config_path.is_none() && ignore_names.is_empty() && m.report.is_none() {
        anyhow::bail!(
            "nothing to migrate in {}: no {}, {} (and no --report)",
            root.display(),
            migrate::CONFIG_FILES.join(", "),
            migrate::ignore_file::IGNORE_FILES.join(", ")
        );
    }
    let target = root.join(CONFIG_FILE_NAME);
    let writes_config = config_path.is_some();
    if writes_config && target.exists() && !m.force && !m.dry_run {
        anyhow::bail!(
            "{} exists: migrate would replace it (use --force, or --dry-run to see what it would write)",
            target.display()
        );
    }
    // The translation, and the settings a scan with it would run with.
    let (config, imported, translation) = match &config_path {
        Some(path) => {
            let t = migrate::load(path)?;
            let (config, (imported, _)) = imported::from_file(path, &root)?;
            (config, Some(imported), Some((path.clone(), t)))
        }
        None => (
            Config {
                dir: root.clone(),
                ..Config::default()
            },
            None,
            None,
        ),
    };
    let mut out = String::new();
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    if let Some((path, t)) = &translation {
        let source = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let rules = write::rules_file(t, &source);
        let config_text = write::config_text(t, &source, &rules.written);
        out.push_str(&format!(
            "From {source}: {} (of {} translated), {}{}.\n",
            migrate::plural(rules.written.len(), "rule"),
            t.rules.len(),
            migrate::plural(t.allowlists, "allowlist"),
            if t.use_default {
                ", with till-scan's built-in rules"
            } else {
                ", only these rules (no [extend] useDefault)"
            }
        ));
        for remark in &t.remarks {
            out.push_str(&format!("  note: {remark}\n"));
        }
        let missing: Vec<&String> = t
            .not_understood
            .iter()
            .chain(&rules.not_converted)
            .collect();
        for what in &missing {
            out.push_str(&format!("  not converted: {what}\n"));
        }
        files.push((target.clone(), config_text));
        if !rules.written.is_empty() || !rules.not_converted.is_empty() {
            files.push((
                root.join(write::RULES_DIR).join(write::RULES_FILE),
                rules.text,
            ));
        }
    }
    if let Some(plan) = plan_baseline(args, m, &root, config, imported, places, &ignore_names)? {
        out.push_str(&format!(
            "Baseline: {} entries from {}.\n",
            plan.file.entries.len(),
            plan.sources.join(", ")
        ));
        if plan.unmatched > 0 {
            let keeps = if ignore_names.is_empty() {
                "pass the report as --baseline to `till-scan git` for those".to_string()
            } else {
                format!(
                    "till-scan keeps reading {} and honours them in `till-scan git`",
                    ignore_names.join(" and ")
                )
            };
            out.push_str(&format!(
                "  not converted: {} fingerprints or report entries match no finding in the files (those of history scans name commits; {keeps})\n",
                plan.unmatched
            ));
        }
        let mut text = serde_json::to_string_pretty(&plan.file)?;
        text.push('\n');
        files.push((root.join(baseline::BASELINE_FILE_NAME), text));
    }
    for (path, text) in &files {
        if m.dry_run {
            out.push_str(&format!(
                "\n--- {} (not written: --dry-run)\n{text}",
                path.display()
            ));
            continue;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
        out.push_str(&format!("Wrote {}\n", path.display()));
    }
    print!("{out}");
    Ok(Outcome::Clean)
}

/// The baseline of the findings that the ignore files or the report
/// accepted, merged with the root's existing baseline; `None` when there
/// is nothing to convert.
fn plan_baseline(
    args: &Args,
    m: &MigrateArgs,
    root: &Path,
    config: Config,
    imported: Option<Imported>,
    places: Vec<baseline::Place>,
    ignore_names: &[String],
) -> Result<Option<BaselinePlan>> {
    let mut foreign = Foreign::new(Vec::new(), places.clone());
    let mut sources: Vec<String> = ignore_names.to_vec();
    if let Some(report) = &m.report {
        let text = std::fs::read_to_string(report)
            .with_context(|| format!("cannot read report {}", report.display()))?;
        let parsed = migrate::report::parse(&text)
            .map_err(|e| anyhow::anyhow!("{}{e}", report.display()))?;
        foreign.merge(parsed);
        sources.push(report.display().to_string());
    }
    if foreign.is_empty() {
        return Ok(None);
    }
    let settings = Settings::resolve_with(args, root, config, imported)?;
    let setup = settings.build(Workload::Large, false)?;
    let ids = setup
        .scanner
        .matcher
        .rules()
        .iter()
        .map(|c| c.rule.id.as_str())
        .collect();
    let accepted = imported::with_places(
        Some(baseline::Baseline::from_foreign(foreign)),
        &[],
        root,
        &ids,
    )
    .unwrap_or_default();
    let (result, _) = super::dir::scan_paths(&[root.to_path_buf()], &setup)?;
    let foreign = accepted.foreign();
    let mut used = vec![false; foreign.places().len()];
    let mut kept = ScanResult::default();
    for f in result.findings {
        let mut hit = foreign.contains_secret(f.secret.expose().as_bytes());
        for l in &f.locations {
            let Some(path) = l.provenance.path() else {
                continue;
            };
            let rel = crate::suppress::scoped::relative(root, path);
            let commit = l.provenance.commit().map(|c| c.id.as_str());
            if let Some(i) = foreign.matching_place(&f.rule.id, rel, l.line, commit) {
                used[i] = true;
                hit = true;
            }
        }
        if hit {
            kept.findings.push(f);
        }
    }
    let unmatched = used.iter().filter(|u| !**u).count();
    let previous = baseline::read_file(&root.join(baseline::BASELINE_FILE_NAME))?;
    Ok(Some(BaselinePlan {
        file: baseline::from_scan(&kept, previous),
        sources,
        unmatched,
    }))
}
