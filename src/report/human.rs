//! The human report (the default on a terminal): occurrences grouped by file,
//! the commit under history findings, a summary line, skipped files and
//! errors, and a short "how to fix". ANSI colour only when the caller says so.

use std::io::{self, Write};

use super::{decoded_note, path_label, plural, ReportContext};
use crate::finding::Occurrence;
use crate::scan::Summary;
use crate::validate::Status;

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const HEADER: &str = "\x1b[1;4m";
const RED: &str = "\x1b[31m";
const BOLD_RED: &str = "\x1b[1;31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const CYAN: &str = "\x1b[36m";

struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, style: &str, text: &str) -> String {
        if self.color {
            format!("{style}{text}{RESET}")
        } else {
            text.to_string()
        }
    }
}

/// Escapes control characters so that file names, commit messages and
/// errors from a scanned repository cannot drive the terminal.
pub(super) fn clean(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn pad(text: &str, width: usize) -> String {
    let n = text.chars().count();
    let mut s = text.to_string();
    s.extend(std::iter::repeat_n(' ', width.saturating_sub(n)));
    s
}

/// "scanned 12 files, 2.50 MB in 1.23 s"
fn scanned(s: &Summary) -> String {
    format!(
        "scanned {}, {:.2} MB in {:.2} s",
        plural(s.files_scanned as usize, "file", "files"),
        s.bytes_scanned as f64 / 1_000_000.0,
        s.duration.as_secs_f64()
    )
}

/// "id at 2:21, secret at 3:25": where each part of a multi-part finding
/// is at this place.
fn parts_note(o: &Occurrence<'_>) -> Option<String> {
    if o.finding.parts.is_empty() {
        return None;
    }
    let at: Vec<String> = o
        .finding
        .parts
        .iter()
        .zip(&o.location.parts)
        .map(|(p, l)| format!("{} at {}:{}", clean(&p.name), l.line, l.column))
        .collect();
    Some(at.join(", "))
}

/// One occurrence, with its columns already formatted.
struct Row<'a> {
    occurrence: Occurrence<'a>,
    position: String,
    rule_id: String,
    rule_name: String,
    secret: String,
}

pub fn write(ctx: &ReportContext<'_>, out: &mut dyn Write) -> io::Result<()> {
    let p = Painter { color: ctx.color };
    let result = ctx.result;
    let summary = &result.summary;

    let files: Vec<(String, Vec<Row<'_>>)> = result
        .by_file()
        .into_iter()
        .map(|file| {
            let path = path_label(&file[0].location.provenance).into_owned();
            let rows = file
                .into_iter()
                .map(|o| Row {
                    occurrence: o,
                    position: format!("{}:{}", o.location.line, o.location.column),
                    rule_id: clean(&o.finding.rule.id),
                    rule_name: clean(&o.finding.rule.name),
                    secret: clean(&o.finding.shown(ctx.redact)),
                })
                .collect();
            (path, rows)
        })
        .collect();

    // Column widths across the whole report, so that every row lines up.
    let (mut w_pos, mut w_id, mut w_name, mut w_secret) = (0, 0, 0, 0);
    for r in files.iter().flat_map(|(_, rows)| rows) {
        w_pos = w_pos.max(r.position.chars().count());
        w_id = w_id.max(r.rule_id.chars().count());
        w_name = w_name.max(r.rule_name.chars().count());
        w_secret = w_secret.max(r.secret.chars().count());
    }

    let validated = result.findings.iter().any(|f| f.validation.is_some());
    for (path, rows) in &files {
        writeln!(out, "{}", p.paint(HEADER, &clean(path)))?;
        for r in rows {
            let fingerprint: String = r.occurrence.finding.fingerprint.chars().take(8).collect();
            // With --validate, what the provider said, after the severity.
            let status = match &r.occurrence.finding.validation {
                Some(v) => {
                    let colour = match v.status {
                        Status::Live => RED,
                        Status::Dead => GREEN,
                        Status::Unknown => DIM,
                    };
                    format!("{}  ", p.paint(colour, &pad(v.status.name(), 7)))
                }
                None if validated => format!("{}  ", pad("", 7)),
                None => String::new(),
            };
            writeln!(
                out,
                "  {}  {}  {status}{}  {}  {}  {}",
                p.paint(DIM, &pad(&r.position, w_pos)),
                p.paint(YELLOW, &pad(r.occurrence.finding.rule.severity.name(), 8)),
                p.paint(CYAN, &pad(&r.rule_id, w_id)),
                p.paint(BOLD, &pad(&r.rule_name, w_name)),
                p.paint(RED, &pad(&r.secret, w_secret)),
                p.paint(DIM, &fingerprint),
            )?;
            if let Some(context) = &r.occurrence.location.context {
                let line = clean(&context.shown(ctx.redact));
                writeln!(
                    out,
                    "  {}  {}",
                    pad("", w_pos),
                    p.paint(DIM, &format!("| {line}"))
                )?;
            }
            if let Some(v) = &r.occurrence.finding.validation {
                let note = format!("validation: {}", clean(&v.summary()));
                writeln!(out, "  {}  {}", pad("", w_pos), p.paint(DIM, &note))?;
            }
            if let Some(note) = decoded_note(r.occurrence.location) {
                writeln!(out, "  {}  {}", pad("", w_pos), p.paint(DIM, &note))?;
            }
            if let Some(note) = parts_note(&r.occurrence) {
                writeln!(out, "  {}  {}", pad("", w_pos), p.paint(DIM, &note))?;
            }
            if let Some(c) = r.occurrence.location.provenance.commit() {
                let short: String = c.id.chars().take(8).collect();
                writeln!(
                    out,
                    "  {}  {} {}  {}  {}  {}",
                    pad("", w_pos),
                    p.paint(DIM, "commit"),
                    p.paint(YELLOW, &clean(&short)),
                    clean(&c.author_name),
                    p.paint(DIM, &clean(&c.date)),
                    clean(&c.summary),
                )?;
            }
        }
        writeln!(out)?;
    }

    if result.findings.is_empty() {
        writeln!(
            out,
            "{} ({})",
            p.paint(GREEN, "No secrets found"),
            scanned(summary)
        )?;
    } else {
        let headline = format!(
            "{} of {} in {}",
            plural(result.occurrence_count(), "occurrence", "occurrences"),
            plural(result.findings.len(), "distinct secret", "distinct secrets"),
            plural(files.len(), "file", "files"),
        );
        writeln!(
            out,
            "{} ({})",
            p.paint(BOLD_RED, &headline),
            scanned(summary)
        )?;
    }

    let mut not_reported = Vec::new();
    if summary.allowed_inline > 0 {
        not_reported.push(format!("{} allowed inline", summary.allowed_inline));
    }
    if summary.allowed_by_config > 0 {
        not_reported.push(format!("{} allowed by config", summary.allowed_by_config));
    }
    if summary.baselined > 0 {
        not_reported.push(format!("{} in the baseline", summary.baselined));
    }
    if !not_reported.is_empty() {
        writeln!(out, "Not reported: {}", not_reported.join(", "))?;
    }

    if let Some(line) = super::ignored_note(summary.ignored) {
        writeln!(out, "{line}")?;
    }
    if !summary.skipped.is_empty() {
        writeln!(
            out,
            "{} (binary, over the size limit, symbolic links or special files; --format json lists them)",
            plural(summary.skipped.len(), "file skipped", "files skipped"),
        )?;
    }
    if !summary.errors.is_empty() {
        let count = plural(summary.errors.len(), "error", "errors");
        writeln!(out, "{}:", p.paint(YELLOW, &count))?;
        for e in &summary.errors {
            writeln!(out, "  {}: {}", clean(&e.path), clean(&e.message))?;
        }
    }

    if !result.findings.is_empty() {
        let (heading, lines) = super::advice::advice(result, ctx.source);
        writeln!(out)?;
        writeln!(out, "{}", p.paint(BOLD, &heading))?;
        for line in lines {
            writeln!(out, "  - {line}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::sample::{self, ACME_SECRET, ODD_PATH, OTHER_SECRET};
    use super::*;

    fn render(redact: bool, color: bool) -> String {
        sample::render(write, &sample::result(), redact, color)
    }

    #[test]
    fn groups_by_file_with_commit_and_summary() {
        let text = render(true, false);
        let main = text.find("app/main.py\n").unwrap();
        let odd = text.find(&format!("{ODD_PATH}\n")).unwrap();
        assert!(main < odd);
        assert_eq!(text.matches("app/main.py\n").count(), 1);
        assert!(text.contains("  3:11  high      acme.api-key  Acme API key"));
        assert!(text.contains("  7:5   high      other.token   Other token "));
        assert!(text.contains(
            "commit 01234567  Ada <Dev> & Co  2024-05-06T07:08:09+00:00  Add \"config\""
        ));
        assert!(text.contains(
            "3 occurrences of 2 distinct secrets in 2 files (scanned 12 files, 2.50 MB in 1.23 s)"
        ));
        assert!(text.contains("1 file skipped"));
        assert!(text.contains("1 error:\n  locked.txt: permission denied"));
        assert!(text.contains("1 allowed inline, 2 allowed by config, 3 in the baseline"));
        assert!(text.contains("How to fix"));
        assert!(text.contains("till-scan:allow"));
        assert!(text.contains("till-scan baseline"));
        let fp: String = sample::result().findings[0]
            .fingerprint
            .chars()
            .take(8)
            .collect();
        assert!(text.contains(&fp));
    }

    #[test]
    fn redacts_unless_asked_not_to() {
        let text = render(true, false);
        assert!(!text.contains(ACME_SECRET));
        assert!(!text.contains(OTHER_SECRET));
        assert!(text.contains("acme********"));
        let raw = render(false, false);
        assert!(raw.contains(ACME_SECRET));
        assert!(raw.contains(OTHER_SECRET));
    }

    #[test]
    fn colour_only_when_asked() {
        assert!(!render(true, false).contains('\x1b'));
        let coloured = render(true, true);
        assert!(coloured.contains("\x1b[1;4mapp/main.py\x1b[0m"));
        assert!(!coloured.contains(ACME_SECRET));
    }

    #[test]
    fn control_characters_are_escaped() {
        let mut result = sample::result();
        sample::set_first_path(&mut result, "evil\x1b[2Jname");
        let text = sample::render(write, &result, true, false);
        assert!(!text.contains('\x1b'));
        assert!(text.contains("evil\\u{1b}[2Jname"));
        // The error message's newline stays on one line too.
        assert!(text.contains("really\\nsecond line"));
    }

    #[test]
    fn clean_scan() {
        let text = sample::render(write, &sample::empty(), true, false);
        assert_eq!(
            text,
            "No secrets found (scanned 4 files, 0.00 MB in 0.02 s)\n"
        );
    }
}
