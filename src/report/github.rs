//! The GitHub Actions report: one `::error` workflow command per occurrence,
//! so findings show as annotations on the pull request, `::warning` for files
//! that could not be scanned, then a plain summary line for the log.

use std::io::{self, Write};

use super::{container_label, decoded_note, member_note, ReportContext};
use crate::finding::Occurrence;

/// Escapes a workflow command's message (the part after `::`). Line breaks
/// are encoded as GitHub expects; every other control character (an escape
/// sequence in a commit message or a file name would otherwise reach the
/// job log, which interprets it) is shown as a `\u{..}` escape.
pub fn escape_data(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c if c.is_control() => out.extend(c.escape_unicode()),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a workflow command property value (`file=`, `title=`, ...).
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

fn message(o: &Occurrence<'_>, redact: bool) -> String {
    let f = o.finding;
    let mut m = format!(
        "{} ({}) found: {}.",
        f.rule.name,
        f.rule.provider,
        f.shown(redact)
    );
    if let Some(note) = member_note(&o.location.provenance) {
        let l = o.location;
        m.push_str(&format!(
            " It is {note}, line {}, column {}.",
            l.line, l.column
        ));
    }
    if let Some(note) = decoded_note(o.location) {
        m.push_str(&format!(" The key is encoded there ({note})."));
    }
    if let Some(v) = &o.finding.validation {
        m.push_str(&format!(" Validation: {}.", v.summary()));
    }
    if let Some(c) = o.location.provenance.commit() {
        let short: String = c.id.chars().take(8).collect();
        m.push_str(&format!(
            " Introduced in commit {short} by {} on {}: {}.",
            c.author_name, c.date, c.summary
        ));
    }
    m.push_str(" Remove the key, load it from the environment, or mark a false positive with till-scan:allow.");
    m
}

pub fn write(ctx: &ReportContext<'_>, out: &mut dyn Write) -> io::Result<()> {
    let result = ctx.result;
    for o in result.occurrences() {
        let l = o.location;
        // GitHub places annotations on files of the repository: a secret
        // inside an archive is shown on the archive's first line, and the
        // message says where in which member it is.
        let path = container_label(&l.provenance);
        let in_archive = !l.provenance.members().is_empty();
        let line = if in_archive { 1 } else { l.line };
        let mut props = format!("file={},line={}", escape_property(&path), line);
        // GitHub only places columns when the annotation is on one line.
        if in_archive {
            // No columns: they would be the member's.
        } else if l.end_line == l.line {
            props.push_str(&format!(
                ",col={},endLine={},endColumn={}",
                l.column, l.end_line, l.end_column
            ));
        } else {
            props.push_str(&format!(",endLine={}", l.end_line));
        }
        props.push_str(&format!(",title={}", escape_property(&o.finding.rule.name)));
        writeln!(
            out,
            "::error {props}::{}",
            escape_data(&message(&o, ctx.redact))
        )?;
    }
    for e in &result.summary.errors {
        writeln!(
            out,
            "::warning file={},title={}::{}",
            escape_property(&e.path),
            escape_property("till-scan could not scan this file"),
            escape_data(&format!("{}: {}", e.path, e.message)),
        )?;
    }
    let s = &result.summary;
    writeln!(
        out,
        "till-scan: {} occurrence(s) of {} distinct secret(s); scanned {} file(s), {} skipped, {} error(s)",
        result.occurrence_count(),
        result.findings.len(),
        s.files_scanned,
        s.skipped.len(),
        s.errors.len(),
    )
}

#[cfg(test)]
mod tests {
    use super::super::sample::{self, ACME_SECRET, OTHER_SECRET};
    use super::*;

    #[test]
    fn control_characters_never_reach_the_log() {
        let hostile = "evil\x1b]8;;https://x\x07link\x1b[2J\r\n::error::forged\u{9b}31m";
        for escaped in [escape_data(hostile), escape_property(hostile)] {
            assert!(!escaped.chars().any(char::is_control), "{escaped:?}");
            // A forged workflow command cannot start a line of its own.
            assert!(!escaped.contains('\n'));
        }
        assert_eq!(escape_data("a\x1bb"), "a\\u{1b}b");
    }

    #[test]
    fn one_error_command_per_occurrence() {
        let text = sample::render(write, &sample::result(), true, false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines.iter().filter(|l| l.starts_with("::error ")).count(),
            3
        );
        assert_eq!(
            lines[0],
            "::error file=app/main.py,line=3,col=11,endLine=3,endColumn=32,title=Acme API key::\
             Acme API key (Acme) found: acme********. Remove the key, load it from the environment, \
             or mark a false positive with till-scan:allow."
        );
        assert!(lines[1].starts_with("::error file=app/main.py,line=7,col=5,"));
        assert!(lines[1].contains("Introduced in commit 01234567 by Ada <Dev> & Co"));
        // Properties escape `%`, `:` and `,`; the message keeps them except `%`.
        assert!(lines[2].starts_with("::error file=conf dir/we%2Cird%3A100%25.env,line=1,col=9,"));
        assert_eq!(
            lines[3],
            "::warning file=locked.txt,title=till-scan could not scan this file::\
             locked.txt: permission denied, 100%25 sure: really%0Asecond line"
        );
        assert_eq!(lines.len(), 5);
        assert!(lines[4].starts_with("till-scan: 3 occurrence(s) of 2 distinct secret(s)"));
    }

    #[test]
    fn escaping() {
        assert_eq!(escape_data("a%b\r\nc:d,e"), "a%25b%0D%0Ac:d,e");
        assert_eq!(escape_property("a%b\r\nc:d,e"), "a%25b%0D%0Ac%3Ad%2Ce");
        // Nothing in the output can start a second command.
        let mut result = sample::result();
        sample::set_first_path(&mut result, "x\n::error::injected");
        std::sync::Arc::make_mut(&mut result.findings[0].rule).name = "Name\n::warning::x".into();
        let text = sample::render(write, &result, true, false);
        assert!(text
            .lines()
            .all(|l| !l.starts_with("::error::") && !l.starts_with("::warning::")));
    }

    #[test]
    fn multi_line_regions_drop_columns() {
        let mut result = sample::result();
        result.findings[0].locations[0].end_line = 4;
        let text = sample::render(write, &result, true, false);
        assert!(text.starts_with("::error file=app/main.py,line=3,endLine=4,title=Acme API key::"));
    }

    #[test]
    fn a_secret_in_an_archive_is_annotated_on_the_archive_file() {
        let mut result = sample::result();
        sample::set_first_members(&mut result, &["lib/inner.tgz", "package/config.js"]);
        let text = sample::render(write, &result, true, false);
        let first = text.lines().find(|l| l.contains("archive member")).unwrap();
        assert!(
            first.starts_with("::error file=app/main.py,line=1,title=Acme API key::"),
            "{first}"
        );
        assert!(
            first.contains(
                "It is in archive member lib/inner.tgz!package/config.js, line 3, column 11."
            ),
            "{first}"
        );
    }

    #[test]
    fn redacts_unless_asked_not_to() {
        let text = sample::render(write, &sample::result(), true, false);
        assert!(!text.contains(ACME_SECRET));
        assert!(!text.contains(OTHER_SECRET));
        let raw = sample::render(write, &sample::result(), false, false);
        assert!(raw.contains(ACME_SECRET));
        assert!(raw.contains(OTHER_SECRET));
    }

    #[test]
    fn clean_scan_prints_only_the_summary() {
        let text = sample::render(write, &sample::empty(), true, false);
        assert_eq!(
            text,
            "till-scan: 0 occurrence(s) of 0 distinct secret(s); scanned 4 file(s), 0 skipped, 0 error(s)\n"
        );
    }
}
