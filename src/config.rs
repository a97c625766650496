//! `.till-scan.toml`: rule selection, extra rule directories, excludes,
//! allowlists, size limit, default format and rotation defaults. Unknown keys are errors that
//! name the key, the file and the line, and so are settings that would
//! switch checks off unnoticed: an empty stopword, an allowlist regex that
//! matches every secret, a size limit of 0.

use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use regex::bytes::Regex;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use crate::cli::parse_size;
use crate::report::Format;
use crate::rules::RuleSet;
use crate::suppress::Allowlist;

mod scoped;

/// The config file looked for at the scanned root.
pub const CONFIG_FILE_NAME: &str = ".till-scan.toml";

/// Default `--max-file-size`: 10 MiB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 << 20;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Default report format.
    #[serde(default, deserialize_with = "format_value")]
    pub format: Option<Format>,
    /// Skip files larger than this ("10MiB", "500K" or bytes; never 0).
    #[serde(default, deserialize_with = "size_value")]
    pub max_file_size: Option<u64>,
    /// Encodings deep to look for keys (0 turns decoding off).
    pub max_decode_depth: Option<usize>,
    /// Nested archives deep to look inside (0 turns archives off).
    pub max_archive_depth: Option<usize>,
    /// Decompressed bytes read from one archive before the rest of it is
    /// given up (archive-bomb guard; never 0).
    #[serde(default, deserialize_with = "archive_size_value")]
    pub max_archive_size: Option<u64>,
    /// Decompressed bytes read from all the archives of one scan.
    #[serde(default, deserialize_with = "archive_total_value")]
    pub max_archive_total: Option<u64>,
    /// Members read from one archive, nested ones included.
    pub max_archive_members: Option<u64>,
    /// Gitignore-style patterns of paths not to scan.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Extra rule directories (relative to the config file).
    #[serde(default)]
    pub rule_dirs: Vec<PathBuf>,
    /// Baseline file (relative to the config file).
    pub baseline: Option<PathBuf>,
    #[serde(default)]
    pub rules: RuleSelection,
    /// Severity of rules by id or glob (`"generic.*" = "low"`), over the
    /// rules' own.
    #[serde(default)]
    pub severity: std::collections::BTreeMap<String, crate::rules::Severity>,
    /// The lowest severity that makes a scan fail, or `live` (`--fail-on`).
    pub fail_on: Option<crate::rules::FailOn>,
    #[serde(default)]
    pub allowlist: AllowlistConfig,
    /// More allowlists, each possibly for some rules only (`rules`), as
    /// gitleaks' `[[allowlists]]` and `[[rules.allowlists]]`.
    #[serde(default)]
    pub allowlists: Vec<AllowlistConfig>,
    #[serde(default)]
    pub rotate: RotateConfig,
    #[serde(default)]
    pub validate: ValidateConfig,
}

/// `[validate]`: how `--validate` runs.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidateConfig {
    /// Provider check name -> base URL used instead of the provider's host
    /// (a proxy, a self-hosted GitLab, a test server; http only to this
    /// machine).
    #[serde(default)]
    pub base_url: std::collections::BTreeMap<String, String>,
    /// Per request, connection included ("10s", "500ms" or seconds).
    #[serde(default, deserialize_with = "duration_value")]
    pub timeout: Option<std::time::Duration>,
    /// Requests in flight at once [default: 8].
    pub concurrency: Option<usize>,
    /// Extra tries after a 429 or 5xx answer [default: 2].
    pub retries: Option<u32>,
    /// The longest wait before a retry; a `Retry-After` past it gives up
    /// [default: 10s].
    #[serde(default, deserialize_with = "duration_value")]
    pub max_retry_wait: Option<std::time::Duration>,
}

/// A duration: "10s", "500ms", "2m", or a number of seconds; never 0.
fn duration_value<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<std::time::Duration>, D::Error> {
    let v = toml::Value::deserialize(d)?;
    let parsed = match &v {
        toml::Value::Integer(n) if *n > 0 => Some(std::time::Duration::from_secs(*n as u64)),
        toml::Value::Float(f) if *f > 0.0 => Some(std::time::Duration::from_secs_f64(*f)),
        toml::Value::String(s) => parse_duration(s),
        _ => None,
    };
    parsed.map(Some).ok_or_else(|| {
        D::Error::custom(format!(
            "a duration must be like \"10s\", \"500ms\" or \"2m\", and more than 0 (got {})",
            shown(&v)
        ))
    })
}

/// "10s", "500ms", "2m", "1.5s" or "10" (seconds); `None` if not one, or 0.
pub fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number.parse().ok()?;
    let seconds = match unit.trim() {
        "" | "s" => number,
        "ms" => number / 1000.0,
        "m" => number * 60.0,
        _ => return None,
    };
    (seconds > 0.0 && seconds.is_finite()).then(|| std::time::Duration::from_secs_f64(seconds))
}

/// `[rotate]`: defaults for `till-scan rotate` (command-line flags win).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateConfig {
    /// Till API base URL.
    pub till_url: Option<String>,
    /// Activations each minted key allows [default: 1000].
    pub max_activations: Option<u64>,
    pub max_tokens: Option<u64>,
    pub max_spend_cents: Option<u64>,
    #[serde(default)]
    pub ip_whitelist: Vec<String>,
    /// The remote to push the rotation branch to [default: origin].
    pub remote: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSelection {
    /// If non-empty, only these rule ids run (`*` at the end matches a prefix).
    #[serde(default)]
    pub enable: Vec<String>,
    /// These rule ids never run (`*` at the end matches a prefix).
    #[serde(default)]
    pub disable: Vec<String>,
    /// Rule id -> a regex on the path (relative to the scanned root): the
    /// rule reports only in matching files (a gitleaks rule's `path`).
    #[serde(default, deserialize_with = "scoped::rule_paths")]
    pub paths: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowlistConfig {
    /// Gitignore-style path patterns whose findings are ignored.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Regexes; a secret matching one is ignored. None may match the empty
    /// string (it would match every secret).
    #[serde(default, deserialize_with = "allow_regexes")]
    pub regexes: Vec<String>,
    /// Substrings (case-insensitive); a secret containing one is ignored.
    /// None may be blank (the empty one is in every secret).
    #[serde(default, deserialize_with = "stopwords")]
    pub stopwords: Vec<String>,
    /// Regexes on the path relative to the scanned root (gitleaks' paths).
    #[serde(default, deserialize_with = "scoped::path_regexes")]
    pub path_regexes: Vec<String>,
    /// Regexes on the whole match (gitleaks' `regexTarget = "match"`).
    #[serde(default, deserialize_with = "scoped::content_regexes")]
    pub match_regexes: Vec<String>,
    /// Regexes on the line of the match (gitleaks' `regexTarget = "line"`).
    #[serde(default, deserialize_with = "scoped::content_regexes")]
    pub line_regexes: Vec<String>,
    /// Commits (full ids, or prefixes of 7+ hex digits) whose findings are
    /// ignored in history scans.
    #[serde(default, deserialize_with = "scoped::commits")]
    pub commits: Vec<String>,
    /// In `[[allowlists]]`: the rule ids or globs (as `[rules]` reads them)
    /// the allowlist applies to; empty: every rule.
    #[serde(default)]
    pub rules: Vec<String>,
}

/// A loaded config file and where it came from.
#[derive(Debug, Default)]
pub struct Config {
    pub file: ConfigFile,
    /// Directory of the config file; relative paths in it resolve from here.
    pub dir: PathBuf,
    pub path: Option<PathBuf>,
}

impl Config {
    /// Loads `explicit`, or `.till-scan.toml` in `root` if it exists, or defaults.
    pub fn load(explicit: Option<&Path>, root: &Path) -> anyhow::Result<Config> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => {
                let candidate = root.join(CONFIG_FILE_NAME);
                if !candidate.is_file() {
                    return Ok(Config {
                        dir: root.to_path_buf(),
                        ..Config::default()
                    });
                }
                candidate
            }
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| anyhow::anyhow!("cannot read config file {}: {e}", path.display()))?;
        let file = parse(&text).map_err(|m| anyhow::anyhow!("{}{m}", path.display()))?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(Config {
            file,
            dir,
            path: Some(path),
        })
    }

    /// `max_file_size`, checked when the file was parsed.
    pub fn max_file_size(&self) -> anyhow::Result<Option<u64>> {
        Ok(self.file.max_file_size)
    }

    /// The config file as error messages name it.
    pub fn label(&self) -> String {
        self.path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| CONFIG_FILE_NAME.into())
    }

    pub fn rule_dirs(&self) -> Vec<PathBuf> {
        self.file
            .rule_dirs
            .iter()
            .map(|d| self.dir.join(d))
            .collect()
    }

    pub fn baseline_path(&self) -> Option<PathBuf> {
        self.file.baseline.as_ref().map(|b| self.dir.join(b))
    }

    /// Applies `[rules] enable/disable`; an entry that names no rule is an error
    /// (a typo would otherwise silently disable nothing).
    /// Narrows `set` to the rules to run: `--enable-rule` (else the
    /// config's `[rules] enable`), if any, less the config's `disable` and
    /// `--disable-rule`. A pattern that matches no rule is an error, so a
    /// typo cannot silently change nothing.
    pub fn select_rules(
        &self,
        set: &mut RuleSet,
        cli_enable: &[String],
        cli_disable: &[String],
    ) -> anyhow::Result<()> {
        let sel = &self.file.rules;
        for pattern in sel.enable.iter().chain(&sel.disable) {
            if !set.rules.iter().any(|r| id_matches(pattern, &r.id)) {
                anyhow::bail!("{}: [rules] names `{pattern}`, which matches no rule (see `till-scan rules list`)", self.label());
            }
        }
        for (flag, patterns) in [
            ("--enable-rule", cli_enable),
            ("--disable-rule", cli_disable),
        ] {
            for pattern in patterns {
                if !set.rules.iter().any(|r| id_matches(pattern, &r.id)) {
                    anyhow::bail!(
                        "{flag} `{pattern}` matches no rule (see `till-scan rules list`)"
                    );
                }
            }
        }
        self.check_scoped_rules(set)?;
        let enable = if cli_enable.is_empty() {
            &sel.enable[..]
        } else {
            cli_enable
        };
        if !enable.is_empty() {
            set.retain(|r| enable.iter().any(|p| id_matches(p, &r.id)));
        }
        set.retain(|r| {
            !sel.disable
                .iter()
                .chain(cli_disable)
                .any(|p| id_matches(p, &r.id))
        });
        Ok(())
    }

    /// Applies `[severity]`: the last pattern (in key order) that matches a
    /// rule's id sets its severity. A pattern that matches no rule is an
    /// error, as in `[rules]`.
    pub fn apply_severity(&self, set: &mut RuleSet) -> anyhow::Result<()> {
        for (pattern, &severity) in &self.file.severity {
            let mut matched = false;
            for rule in set.rules.iter_mut().filter(|r| id_matches(pattern, &r.id)) {
                rule.severity = severity;
                matched = true;
            }
            if !matched {
                anyhow::bail!("{}: [severity] names `{pattern}`, which matches no rule (see `till-scan rules list`)", self.label());
            }
        }
        Ok(())
    }

    /// Builds the gitignore-style matcher of `exclude` patterns, rooted at `root`.
    pub fn excludes(&self, root: &Path) -> anyhow::Result<Option<Gitignore>> {
        gitignore(
            root,
            &self.file.exclude,
            &format!("{}: exclude", self.label()),
        )
    }

    /// Excludes for git scans, whose paths are relative to the repository
    /// root: the config's `exclude` patterns plus the root `.till-scanignore`
    /// (unless ignore files are off).
    pub fn history_excludes(
        &self,
        root: &Path,
        ignore_file: bool,
    ) -> anyhow::Result<Option<Gitignore>> {
        let file = root.join(crate::suppress::IGNORE_FILE_NAME);
        let use_file = ignore_file && file.is_file();
        if self.file.exclude.is_empty() && !use_file {
            return Ok(None);
        }
        let mut b = GitignoreBuilder::new(root);
        for p in &self.file.exclude {
            b.add_line(None, p)
                .map_err(|e| anyhow::anyhow!("{}: exclude: {e}", self.label()))?;
        }
        // The ignore crate's errors already name the file (and line).
        if use_file {
            if let Some(e) = b.add(&file) {
                anyhow::bail!("{e}");
            }
        }
        Ok(Some(b.build()?))
    }

    pub fn allowlist(&self, root: &Path) -> anyhow::Result<Allowlist> {
        let scoped = self.scoped(root)?;
        let a = &self.file.allowlist;
        let regexes = a
            .regexes
            .iter()
            .map(|r| {
                Regex::new(r)
                    .map_err(|e| anyhow::anyhow!("{}: allowlist.regexes: {e}", self.label()))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Allowlist::new(
            gitignore(
                root,
                &a.paths,
                &format!("{}: allowlist.paths", self.label()),
            )?,
            regexes,
            a.stopwords
                .iter()
                .map(|s| s.to_ascii_lowercase().into_bytes())
                .collect(),
        )
        .with_scoped(scoped))
    }
}

/// Parses the text of a config file; the error starts with `:LINE: ` when
/// the line is known, for the caller to put the file name in front.
pub fn parse(text: &str) -> Result<ConfigFile, String> {
    toml::from_str(text).map_err(|e| {
        let (line, message) = crate::rules::toml_error(text, &e);
        let line = line.map(|l| format!(":{l}")).unwrap_or_default();
        format!("{line}: {message}")
    })
}

const FORMATS: &str = "human, json, sarif, junit, github or markdown";

/// A value as a message shows it: scalars as written, not serde's names.
fn shown(v: &toml::Value) -> String {
    match v {
        toml::Value::Array(_) => "a list".into(),
        toml::Value::Table(_) => "a table".into(),
        v => v.to_string(),
    }
}

fn format_value<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Format>, D::Error> {
    use clap::ValueEnum;
    let v = toml::Value::deserialize(d)?;
    v.as_str()
        .and_then(|s| Format::from_str(s, false).ok())
        .map(Some)
        .ok_or_else(|| {
            D::Error::custom(format!(
                "`format` must be one of {FORMATS} (got {})",
                shown(&v)
            ))
        })
}

fn size_value<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    sized(d, "max_file_size", "skip every file", "10MiB")
}

fn archive_size_value<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    sized(d, "max_archive_size", "stop every archive", "256MiB")
}

fn archive_total_value<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    sized(d, "max_archive_total", "stop every archive", "4GiB")
}

/// A size key: "10MiB", "500K" or a number of bytes, never 0.
fn sized<'de, D: Deserializer<'de>>(
    d: D,
    key: &str,
    zero: &str,
    default: &str,
) -> Result<Option<u64>, D::Error> {
    let v = toml::Value::deserialize(d)?;
    let bytes = match &v {
        toml::Value::Integer(0) => Err(format!(
            "0 would {zero}; remove the key for the default ({default})"
        )),
        toml::Value::Integer(n) => u64::try_from(*n).map_err(|_| {
            format!("must be a size such as \"10MiB\", \"500K\" or a number of bytes (got {n})")
        }),
        toml::Value::String(t) => parse_size(t),
        other => Err(format!(
            "must be a size such as \"10MiB\", \"500K\" or a number of bytes (got {})",
            shown(other)
        )),
    };
    bytes
        .map(Some)
        .map_err(|m| D::Error::custom(format!("`{key}`: {m}")))
}

fn stopwords<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let words = Vec::<String>::deserialize(d)?;
    if let Some(i) = words.iter().position(|w| w.trim().is_empty()) {
        return Err(D::Error::custom(format!(
            "allowlist.stopwords[{i}] is blank: it would allow every finding"
        )));
    }
    Ok(words)
}

fn allow_regexes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let regexes = Vec::<String>::deserialize(d)?;
    for (i, r) in regexes.iter().enumerate() {
        let re = Regex::new(r).map_err(|e| {
            D::Error::custom(format!("allowlist.regexes[{i}] is not a valid regex: {e}"))
        })?;
        if crate::rules::matches_everything(&re) {
            return Err(D::Error::custom(format!(
                "allowlist.regexes[{i}] (`{r}`) matches the empty string: it would allow every finding"
            )));
        }
    }
    Ok(regexes)
}

/// A rule id against an id or a glob: `*` is any run of characters
/// (`openai.*`, `*.api-key`, `aws.*-key`), `?` one character.
pub fn id_matches(pattern: &str, id: &str) -> bool {
    fn glob(p: &[u8], s: &[u8]) -> bool {
        // Iterative wildcard match with one backtrack point: linear in
        // practice, never exponential.
        let (mut pi, mut si) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while si < s.len() {
            match p.get(pi) {
                Some(b'*') => {
                    star = Some((pi, si));
                    pi += 1;
                }
                Some(&c) if c == b'?' || c == s[si] => {
                    pi += 1;
                    si += 1;
                }
                _ => match star {
                    Some((sp, ss)) => {
                        pi = sp + 1;
                        si = ss + 1;
                        star = Some((sp, ss + 1));
                    }
                    None => return false,
                },
            }
        }
        p[pi..].iter().all(|&c| c == b'*')
    }
    glob(pattern.as_bytes(), id.as_bytes())
}

fn gitignore(root: &Path, patterns: &[String], what: &str) -> anyhow::Result<Option<Gitignore>> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut b = GitignoreBuilder::new(root);
    for p in patterns {
        // The error quotes the pattern: "error parsing glob '[': ...".
        b.add_line(None, p)
            .map_err(|e| anyhow::anyhow!("{what}: {e}"))?;
    }
    Ok(Some(b.build().map_err(|e| anyhow::anyhow!("{what}: {e}"))?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let err = parse("format = \"json\"\nexlude = [\"x\"]\n").unwrap_err();
        assert!(err.starts_with(":2:"), "{err}");
        assert!(err.contains("exlude"), "{err}");
        let err = parse("[allowlist]\npath = []\n").unwrap_err();
        assert!(err.contains("path"), "{err}");
    }

    #[test]
    fn full_config_parses() {
        let c = parse(
            r#"
format = "sarif"
max_file_size = "2MiB"
exclude = ["vendor/", "*.min.js"]
rule_dirs = ["rules"]
baseline = "b.json"
[rules]
enable = ["openai.*"]
disable = ["openai.legacy-key"]
[allowlist]
paths = ["fixtures/"]
regexes = ["^sk-test"]
stopwords = ["localdev"]
"#,
        )
        .unwrap();
        assert_eq!(c.format, Some(Format::Sarif));
        assert_eq!(c.exclude.len(), 2);
    }

    #[test]
    fn allowlist_matches_paths_regexes_and_stopwords() {
        let config = Config {
            file: parse("[allowlist]\npaths = [\"fixtures/\"]\nregexes = [\"^abc\"]\nstopwords = [\"LocalDev\"]\n").unwrap(),
            dir: PathBuf::from("."),
            path: None,
        };
        let a = config.allowlist(Path::new("/repo")).unwrap();
        assert!(a.path_allowed("/repo/fixtures/keys.txt"));
        assert!(!a.path_allowed("/repo/src/keys.txt"));
        assert!(a.path_allowed("fixtures/keys.txt"));
        assert!(!a.path_allowed("/elsewhere/fixtures/keys.txt"));
        assert!(a.secret_allowed(b"abcdef"));
        assert!(a.secret_allowed(b"zz-localdev-zz"));
        assert!(!a.secret_allowed(b"zzz"));
    }

    #[test]
    fn settings_that_switch_checks_off_are_errors_naming_the_key() {
        for (text, key) in [
            (
                "[allowlist]\nstopwords = [\"\"]\n",
                "allowlist.stopwords[0]",
            ),
            (
                "[allowlist]\nstopwords = [\"a\", \"  \"]\n",
                "allowlist.stopwords[1]",
            ),
            ("[allowlist]\nregexes = [\"\"]\n", "allowlist.regexes[0]"),
            ("[allowlist]\nregexes = [\".*\"]\n", "allowlist.regexes[0]"),
            ("[allowlist]\nregexes = [\"^x|\"]\n", "allowlist.regexes[0]"),
            ("max_file_size = 0\n", "max_file_size"),
            ("max_file_size = \"0MiB\"\n", "max_file_size"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(key), "{text}: {err}");
            assert!(err.starts_with(":1:") || err.starts_with(":2:"), "{err}");
        }
        // Anchored at both ends, the empty regex allows only the empty secret.
        assert!(parse("[allowlist]\nregexes = [\"^$\", \"^sk-test\"]\n").is_ok());
    }

    #[test]
    fn wrong_values_get_plain_messages() {
        let err = parse("\nformat = 5\n").unwrap_err();
        assert_eq!(
            err,
            ":2: `format` must be one of human, json, sarif, junit, github or markdown (got 5)"
        );
        let err = parse("max_file_size = -1\n").unwrap_err();
        assert!(err.starts_with(":1: `max_file_size`"), "{err}");
        assert!(err.contains("(got -1)"), "{err}");
        let err = parse("exclude = \"vendor\"\n").unwrap_err();
        assert!(err.contains("`exclude` must be a list"), "{err}");
        assert_eq!(
            parse("max_file_size = 2048").unwrap().max_file_size,
            Some(2048)
        );
        assert_eq!(
            parse("max_file_size = \"1K\"").unwrap().max_file_size,
            Some(1024)
        );
    }

    const FULL: &str = r#"
format = "sarif"
max_file_size = "2MiB"
exclude = ["vendor/", "*.min.js"]
rule_dirs = ["rules"]
baseline = "b.json"
[rules]
enable = ["openai.*"]
disable = ["openai.legacy-key"]
[allowlist]
paths = ["fixtures/"]
regexes = ["^sk-test"]
stopwords = ["localdev"]
[rotate]
till_url = "http://localhost:1"
max_activations = 10
ip_whitelist = ["10.0.0.0/8"]
"#;

    proptest::proptest! {
        #![proptest_config(crate::rules::fuzz::config(512))]

        /// Any text, and any mutation of a full config, parses or fails with
        /// a message; what parses builds its matchers without panicking.
        #[test]
        fn config_text_never_panics(text in crate::rules::fuzz::text_like(FULL)) {
            match parse(&text) {
                Ok(file) => {
                    let config = Config { file, dir: PathBuf::from("."), path: None };
                    let root = Path::new("/repo");
                    let _ = config.allowlist(root);
                    let _ = config.excludes(root);
                    let _ = config.history_excludes(root, false);
                    if let Some(size) = config.max_file_size().unwrap() {
                        proptest::prop_assert!(size > 0);
                    }
                }
                Err(e) => {
                    proptest::prop_assert!(e.len() > 2, "{}", e);
                    proptest::prop_assert!(e.starts_with(':'), "{}", e);
                }
            }
        }
    }

    #[test]
    fn rule_ids_match_exactly_or_by_glob() {
        assert!(id_matches("openai.*", "openai.project-key"));
        assert!(id_matches("openai.project-key", "openai.project-key"));
        assert!(!id_matches("openai.project", "openai.project-key"));
        assert!(id_matches("*.api-key", "groq.api-key"));
        assert!(!id_matches("*.api-key", "groq.api-key-2"));
        assert!(id_matches("aws.*-key*", "aws.secret-access-key"));
        assert!(id_matches("g?oq.*", "groq.api-key"));
        assert!(id_matches("*", "anything"));
        assert!(!id_matches("", "x"));
        // Many stars on a long id stay fast (no exponential backtracking).
        let id = "a".repeat(200);
        assert!(!id_matches(&format!("{}b", "*a".repeat(50)), &id));
    }
}
