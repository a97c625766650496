//! Coming from gitleaks or Betterleaks: their config (`.gitleaks.toml`,
//! `.betterleaks.toml`), ignore files (`.gitleaksignore`,
//! `.betterleaksignore`) and JSON reports, read in till-scan's terms, so a
//! switch keeps what the team had accepted. Settings read the config when
//! the root has no `.till-scan.toml`; `till-scan migrate` writes the same
//! translation out as till-scan files ([`write`]).

mod allowlist;
pub mod gitleaks_config;
pub mod ignore_file;
pub mod pattern;
pub mod report;
pub mod write;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub use gitleaks_config::{rule_id, Translated, Translation};

/// The config files read at the scanned root when it has no
/// `.till-scan.toml`, in this order.
pub const CONFIG_FILES: &[&str] = &[".gitleaks.toml", ".betterleaks.toml"];

/// The gitleaks or Betterleaks config at `root`, if there is one.
pub fn find_config(root: &Path) -> Option<PathBuf> {
    CONFIG_FILES
        .iter()
        .map(|name| root.join(name))
        .find(|p| p.is_file())
}

/// Reads and translates a gitleaks config; a file that is not valid TOML
/// (or has a key of the wrong type) is an error naming the file and line.
pub fn load(path: &Path) -> anyhow::Result<Translation> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let label = path.display().to_string();
    let file = gitleaks_config::parse(&text).map_err(|m| anyhow::anyhow!("{label}{m}"))?;
    Ok(gitleaks_config::translate(file, &label, &text))
}

/// One line saying what was read from `path`, and what was not understood.
pub fn note(path: &Path, t: &Translation) -> String {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut text = format!(
        "using {name} (no {}): {}, {}",
        crate::config::CONFIG_FILE_NAME,
        plural(t.rules.len(), "rule"),
        plural(t.allowlists, "allowlist"),
    );
    text.push_str(if t.use_default {
        ", with till-scan's built-in rules"
    } else {
        ", without till-scan's built-in rules (no [extend] useDefault)"
    });
    for remark in &t.remarks {
        text.push_str("; ");
        text.push_str(remark);
    }
    if !t.not_understood.is_empty() {
        text.push_str("; not understood: ");
        text.push_str(&t.not_understood.join(", "));
    }
    text
}

/// `n` and `one`, plural when `n` is not 1 ("1 rule", "2 rules").
pub fn plural(n: usize, one: &str) -> String {
    format!("{n} {one}{}", if n == 1 { "" } else { "s" })
}

/// Prints `message` on standard error once per process, however many
/// times the settings are resolved.
pub fn say_once(message: &str) {
    static SAID: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let mut said = SAID.lock().unwrap_or_else(|e| e.into_inner());
    if said
        .get_or_insert_with(HashSet::new)
        .insert(message.to_string())
    {
        eprintln!("till-scan: {message}");
    }
}

/// The places of the ignore files at `root`, and a line saying what they
/// held (`None` when there are none).
pub fn ignore_places(root: &Path) -> anyhow::Result<(Vec<crate::baseline::Place>, Option<String>)> {
    let files = ignore_file::load(root)?;
    let mut places = Vec::new();
    let mut said = Vec::new();
    for f in files {
        let name = f
            .path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let mut line = format!("using {name}: {} fingerprints", f.places.len());
        if !f.bad_lines.is_empty() {
            let lines: Vec<String> = f.bad_lines.iter().map(usize::to_string).collect();
            line.push_str(&format!(
                " (lines that are not one, skipped: {})",
                lines.join(", ")
            ));
        }
        said.push(line);
        places.extend(f.places);
    }
    Ok((places, (!said.is_empty()).then(|| said.join("; "))))
}
