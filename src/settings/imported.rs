//! Settings from gitleaks' files: the config that applies when a root has
//! no `.till-scan.toml` and no `--config` is given (`.gitleaks.toml`, then
//! `.betterleaks.toml`), and the places of `.gitleaksignore` and
//! `.betterleaksignore`, which join the baseline. Which wins: `--config`,
//! then `.till-scan.toml`, then `GITLEAKS_CONFIG`, then `.gitleaks.toml`,
//! then `.betterleaks.toml`, then the defaults.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::baseline::{Baseline, Foreign, Place};
use crate::config::Config;
use crate::migrate;
use crate::rules::Rule;

/// What a gitleaks config adds besides the config: its rules, and whether
/// till-scan's built-in rules run beside them.
#[derive(Debug, Clone)]
pub struct Imported {
    pub use_default: bool,
    pub rules: Vec<Rule>,
}

/// The config that applies at `root`, and the gitleaks rules when it came
/// from a gitleaks config (said once on standard error unless `quiet`):
/// `GITLEAKS_CONFIG` (`env_config`, which must exist), else the root's
/// `.gitleaks.toml`, else its `.betterleaks.toml`.
pub fn load_config(
    explicit: Option<&Path>,
    env_config: Option<&Path>,
    root: &Path,
    quiet: bool,
) -> Result<(Config, Option<Imported>)> {
    let config = Config::load(explicit, root)?;
    if explicit.is_some() || config.path.is_some() {
        return Ok((config, None));
    }
    if let Some(path) = env_config.filter(|p| !p.is_file()) {
        anyhow::bail!(
            "GITLEAKS_CONFIG names {}, which is not a file",
            path.display()
        );
    }
    let found = env_config
        .map(Path::to_path_buf)
        .or_else(|| migrate::find_config(root));
    let Some(path) = found else {
        return Ok((config, None));
    };
    let (config, imported) = from_file(&path, root)?;
    if !quiet {
        migrate::say_once(&imported.1);
    }
    Ok((config, Some(imported.0)))
}

/// The gitleaks config at `path` as a [`Config`] rooted at `root`, its
/// rules, and the line that says what was read.
pub fn from_file(path: &Path, root: &Path) -> Result<(Config, (Imported, String))> {
    let t = migrate::load(path)?;
    let note = migrate::note(path, &t);
    let migrate::Translation {
        use_default,
        rules,
        config,
        ..
    } = t;
    Ok((
        Config {
            file: config,
            dir: root.to_path_buf(),
            path: Some(PathBuf::from(path)),
        },
        (
            Imported {
                use_default,
                rules: rules.into_iter().map(|r| r.rule).collect(),
            },
            note,
        ),
    ))
}

/// The places of the ignore files at `root` (said once unless `quiet`).
pub fn ignore_places(root: &Path, quiet: bool) -> Result<Vec<Place>> {
    let (places, note) = migrate::ignore_places(root)?;
    if let (Some(note), false) = (note, quiet) {
        migrate::say_once(&note);
    }
    Ok(places)
}

/// `baseline` with the ignore files' places added, its paths rooted at
/// `root`, and the rule ids of the foreign lists mapped to the loaded
/// rules' (`rule_ids`).
pub fn with_places(
    baseline: Option<Baseline>,
    places: &[Place],
    root: &Path,
    rule_ids: &HashSet<&str>,
) -> Option<Baseline> {
    let mut baseline = match (baseline, places.is_empty()) {
        (None, true) => return None,
        (Some(b), _) => b,
        (None, false) => Baseline::from_foreign(Foreign::default()),
    };
    if !places.is_empty() {
        baseline
            .foreign_mut()
            .merge(Foreign::new(Vec::new(), places.to_vec()));
    }
    let map = baseline
        .foreign()
        .place_rules()
        .filter_map(|tool| {
            let ours = migrate::rule_id(tool);
            rule_ids
                .contains(ours.as_str())
                .then(|| (tool.to_string(), ours))
        })
        .collect();
    baseline.foreign_mut().set_rule_map(map);
    Some(baseline.with_root(root))
}
