//! The Markdown report, for a GitHub Actions job summary
//! (`$GITHUB_STEP_SUMMARY`) or a pull request comment: a headline, a table of
//! occurrences (secrets redacted unless `--no-redact`), counts per rule, and
//! how to fix or allow each finding.
//!
//! Everything taken from the scanned repository (paths, commit summaries,
//! rule names from user rules) is escaped, so a file name cannot inject
//! Markdown or HTML into the page. The occurrence table stops after
//! [`MAX_ROWS`] rows: GitHub truncates a step summary over 1 MiB.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::{decoded_note, first_web_reference, path_label, plural, ReportContext};
use crate::finding::Finding;
use crate::rules::Rule;

/// Rows of the occurrence table before it is cut short.
pub const MAX_ROWS: usize = 200;

/// Escapes text for Markdown outside code spans: control characters become
/// spaces and punctuation that Markdown, HTML, math or mentions would act on
/// gets a backslash (CommonMark renders `\X` as `X` for ASCII punctuation).
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            c if c.is_control() => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '&' | '~' | '$' | '#' | '@'
            | '!' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A code span for a table cell: fenced with more backticks than any run in
/// `s`, control characters as spaces, and `|` escaped (GFM splits table cells
/// on `|` before it parses code spans).
pub fn code_cell(s: &str) -> String {
    if s.is_empty() {
        return String::new();
    }
    let body: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .replace('|', "\\|");
    let mut longest = 0;
    let mut run = 0;
    for c in body.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if body.starts_with('`') || body.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{body}{pad}{fence}")
}

/// Occurrences and distinct secrets of one rule.
struct RuleCount<'a> {
    rule: &'a Rule,
    occurrences: usize,
    secrets: usize,
}

/// The findings' rules, by id, with what each found.
fn per_rule<'a>(findings: &'a [Finding]) -> BTreeMap<&'a str, RuleCount<'a>> {
    let mut counts: BTreeMap<&str, RuleCount<'_>> = BTreeMap::new();
    for f in findings {
        let c = counts.entry(f.rule.id.as_str()).or_insert(RuleCount {
            rule: &f.rule,
            occurrences: 0,
            secrets: 0,
        });
        c.occurrences += f.locations.len();
        c.secrets += 1;
    }
    counts
}

pub fn write(ctx: &ReportContext<'_>, out: &mut dyn Write) -> io::Result<()> {
    let result = ctx.result;
    let s = &result.summary;
    let scanned = format!(
        "scanned {}, {:.2} MB in {:.2} s",
        plural(s.files_scanned as usize, "file", "files"),
        s.bytes_scanned as f64 / 1_000_000.0,
        s.duration.as_secs_f64()
    );

    let distinct = result.findings.len();
    if result.findings.is_empty() {
        writeln!(out, "## till-scan: no secrets found\n")?;
        writeln!(out, "No secrets found ({scanned}).")?;
    } else {
        writeln!(
            out,
            "## till-scan: {} found\n",
            plural(distinct, "secret", "secrets")
        )?;
        writeln!(
            out,
            "{} of {} in {} ({scanned}).",
            plural(result.occurrence_count(), "occurrence", "occurrences"),
            plural(distinct, "distinct secret", "distinct secrets"),
            plural(result.file_count(), "file", "files"),
        )?;
    }
    let mut not_reported = Vec::new();
    if s.allowed_inline > 0 {
        not_reported.push(format!("{} allowed inline", s.allowed_inline));
    }
    if s.allowed_by_config > 0 {
        not_reported.push(format!("{} allowed by config", s.allowed_by_config));
    }
    if s.baselined > 0 {
        not_reported.push(format!("{} in the baseline", s.baselined));
    }
    if !not_reported.is_empty() {
        writeln!(out, "Not reported: {}.", not_reported.join(", "))?;
    }
    if let Some(line) = super::ignored_note(s.ignored) {
        writeln!(out, "{line}.")?;
    }

    if !result.findings.is_empty() {
        write_table(ctx, out)?;
        write_rules(ctx, out)?;
        write_advice(out)?;
    }

    if !s.skipped.is_empty() || !s.errors.is_empty() {
        writeln!(out)?;
        if !s.skipped.is_empty() {
            writeln!(
                out,
                "{} (binary, over the size limit, symbolic links or special files; the JSON report lists them).",
                plural(s.skipped.len(), "file skipped", "files skipped")
            )?;
        }
        if !s.errors.is_empty() {
            writeln!(
                out,
                "{} could not be scanned:\n",
                plural(s.errors.len(), "file", "files")
            )?;
            for e in &s.errors {
                writeln!(out, "- {}: {}", text(&e.path), text(&e.message))?;
            }
        }
    }
    Ok(())
}

fn write_table(ctx: &ReportContext<'_>, out: &mut dyn Write) -> io::Result<()> {
    let occurrences = ctx.result.occurrences();
    let history = occurrences
        .iter()
        .any(|o| o.location.provenance.commit().is_some());
    let validated = occurrences.iter().any(|o| o.finding.validation.is_some());
    writeln!(out, "\n### Findings\n")?;
    let mut header = String::from("| File | Line | Rule | Secret | Fingerprint |");
    let mut rule = String::from("| --- | ---: | --- | --- | --- |");
    if validated {
        header.push_str(" Live? |");
        rule.push_str(" --- |");
    }
    if history {
        header.push_str(" Commit |");
        rule.push_str(" --- |");
    }
    writeln!(out, "{header}")?;
    writeln!(out, "{rule}")?;
    for o in occurrences.iter().take(MAX_ROWS) {
        let (f, l) = (o.finding, o.location);
        let fingerprint: String = f.fingerprint.chars().take(8).collect();
        let mut row = format!(
            "| {} | {}:{} | {} ({}, {}) | {} | {} |",
            code_cell(&path_label(&l.provenance)),
            l.line,
            l.column,
            match decoded_note(l) {
                Some(note) => format!("{}, {note}", text(&f.rule.name)),
                None => text(&f.rule.name),
            },
            code_cell(&f.rule.id),
            f.rule.severity,
            code_cell(&f.shown(ctx.redact)),
            code_cell(&fingerprint),
        );
        if validated {
            let cell = f.validation.as_ref().map_or(String::new(), |v| {
                format!("{} ({})", v.status, text(&v.reason))
            });
            row.push_str(&format!(" {cell} |"));
        }
        if history {
            let commit = l.provenance.commit().map_or(String::new(), |c| {
                let short: String = c.id.chars().take(8).collect();
                format!("{} {}", code_cell(&short), text(&c.summary))
            });
            row.push_str(&format!(" {commit} |"));
        }
        writeln!(out, "{row}")?;
    }
    if occurrences.len() > MAX_ROWS {
        writeln!(
            out,
            "\n… and {} more {} (the JSON and SARIF reports list every occurrence).",
            occurrences.len() - MAX_ROWS,
            if occurrences.len() - MAX_ROWS == 1 {
                "occurrence"
            } else {
                "occurrences"
            }
        )?;
    }
    Ok(())
}

fn write_rules(ctx: &ReportContext<'_>, out: &mut dyn Write) -> io::Result<()> {
    let counts = per_rule(&ctx.result.findings);
    writeln!(out, "\n### Per rule\n")?;
    writeln!(
        out,
        "| Rule | Provider | Occurrences | Distinct secrets | How to fix |"
    )?;
    writeln!(out, "| --- | --- | ---: | ---: | --- |")?;
    for (id, c) in &counts {
        let rule = c.rule;
        let mut fix = format!(
            "Revoke it at {} and load it from the environment",
            text(&rule.provider)
        );
        // A `)` would end the link early: such a page is left out.
        if let Some(uri) = first_web_reference(rule).filter(|u| !u.contains(')')) {
            fix.push_str(&format!(" ([docs]({uri}))"));
        }
        fix.push('.');
        if let Some(till) = &rule.till_provider {
            fix.push_str(&format!(
                " Rotatable to Till ({}): `till-scan rotate`.",
                text(till)
            ));
        }
        writeln!(
            out,
            "| {} ({}) | {} | {} | {} | {fix} |",
            text(&rule.name),
            code_cell(id),
            text(&rule.provider),
            c.occurrences,
            c.secrets,
        )?;
    }
    Ok(())
}

fn write_advice(out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "\n### How to fix or allow\n")?;
    writeln!(
        out,
        "- **A real key:** remove it from the code, load it from the environment or a secret \
         manager, and revoke it at the provider. Once pushed it stays in git history, so \
         deleting the line is not enough."
    )?;
    writeln!(
        out,
        "- **A false positive:** add a `till-scan:allow` comment on its line, or list the path \
         or pattern under `[allowlist]` in `.till-scan.toml`."
    )?;
    writeln!(
        out,
        "- **Accept what is there today:** run `till-scan baseline` and commit \
         `.till-scan-baseline.json`; later scans skip those secrets."
    )
}

#[cfg(test)]
mod tests {
    use super::super::sample::{self, ACME_SECRET, ODD_PATH, OTHER_SECRET};
    use super::*;

    fn render(redact: bool) -> String {
        sample::render(write, &sample::result(), redact, false)
    }

    #[test]
    fn headline_table_rules_and_advice() {
        let md = render(true);
        assert!(md.starts_with("## till-scan: 2 secrets found\n\n"));
        assert!(md.contains(
            "3 occurrences of 2 distinct secrets in 2 files (scanned 12 files, 2.50 MB in 1.23 s)."
        ));
        assert!(
            md.contains("Not reported: 1 allowed inline, 2 allowed by config, 3 in the baseline.")
        );
        assert!(md.contains("| File | Line | Rule | Secret | Fingerprint | Commit |"));
        let fp: String = sample::result().findings[0]
            .fingerprint
            .chars()
            .take(8)
            .collect();
        assert!(md.contains(&format!(
            "| `app/main.py` | 3:11 | Acme API key (`acme.api-key`, high) | `acme********` | `{fp}` |  |"
        )));
        // The history finding names its commit; the summary is escaped.
        assert!(md.contains("`01234567` Add \"config\" \\<keys\\> \\& more |"));
        // Per rule: counts, provider docs, and Till rotation where possible.
        assert!(md.contains(
            "| Acme API key (`acme.api-key`) | Acme | 2 | 1 | Revoke it at Acme and load it from the \
             environment ([docs](https://acme.example/docs/keys)). Rotatable to Till (acme): `till-scan rotate`. |"
        ));
        assert!(md.contains("| Other token (`other.token`) | Other | 1 | 1 | Revoke it at Other and load it from the environment. |"));
        assert!(!md.contains("unused.key"));
        assert!(md.contains("till-scan:allow"));
        assert!(md.contains("till-scan baseline"));
        assert!(md.contains("1 file skipped"));
        assert!(md.contains("- locked.txt: permission denied, 100% sure: really second line"));
    }

    #[test]
    fn redacts_unless_asked_not_to() {
        let md = render(true);
        assert!(!md.contains(ACME_SECRET));
        assert!(!md.contains(OTHER_SECRET));
        let raw = render(false);
        assert!(raw.contains(ACME_SECRET));
        assert!(raw.contains(OTHER_SECRET));
    }

    #[test]
    fn odd_paths_stay_in_their_cell() {
        let md = render(true);
        assert!(md.contains(&format!("| `{ODD_PATH}` | 1:9 |")));
        let mut result = sample::result();
        sample::set_first_path(&mut result, "a|b`c\n<img src=x>.env");
        let md = sample::render(write, &result, true, false);
        let row = md
            .lines()
            .find(|l| l.contains("<img"))
            .expect("the row is on one line");
        assert!(
            row.starts_with("| ``a\\|b`c <img src=x>.env`` | 3:11 |"),
            "{row}"
        );
    }

    #[test]
    fn escaping() {
        assert_eq!(
            text("a_b *c* [d](e) <f> @g $h$ | \\"),
            "a\\_b \\*c\\* \\[d\\](e) \\<f\\> \\@g \\$h\\$ \\| \\\\"
        );
        assert_eq!(text("x\ny\tz"), "x y z");
        assert_eq!(code_cell("plain"), "`plain`");
        assert_eq!(code_cell("a`b"), "``a`b``");
        assert_eq!(code_cell("`x"), "`` `x ``");
        assert_eq!(code_cell("a|b"), "`a\\|b`");
        assert_eq!(code_cell(""), "");
    }

    #[test]
    fn long_tables_are_cut_short() {
        let mut result = sample::result();
        let first = result.findings[0].locations[0].clone();
        result.findings.truncate(1);
        result.findings[0].locations = (0..MAX_ROWS + 5)
            .map(|i| {
                let mut l = first.clone();
                l.line = i + 1;
                l
            })
            .collect();
        let md = sample::render(write, &result, true, false);
        let rows = md
            .lines()
            .filter(|l| l.starts_with("| `app/main.py`"))
            .count();
        assert_eq!(rows, MAX_ROWS);
        assert!(md.contains("… and 5 more occurrences"));
    }

    #[test]
    fn clean_scan() {
        let md = sample::render(write, &sample::empty(), true, false);
        assert_eq!(
            md,
            "## till-scan: no secrets found\n\nNo secrets found (scanned 4 files, 0.00 MB in 0.02 s).\n"
        );
    }
}
