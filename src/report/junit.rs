//! The JUnit XML report, for CI systems that show test results: one failing
//! test case per occurrence, or one passing case when nothing was found.
//! Scan errors and skipped files go to the suite's `<system-err>`.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{decoded_note, path_label, ReportContext};
use crate::finding::{Finding, Occurrence};

/// Escapes text for XML 1.0 content and attribute values. Characters XML 1.0
/// cannot carry at all (most C0 controls) become U+FFFD; line breaks and tabs
/// become character references so attributes keep them.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn failure_message(f: &Finding, redact: bool) -> String {
    format!(
        "{} ({}) found: {}",
        f.rule.name,
        f.rule.provider,
        f.shown(redact)
    )
}

fn failure_details(o: &Occurrence<'_>, redact: bool) -> String {
    let (f, l) = (o.finding, o.location);
    let mut s = String::new();
    let _ = writeln!(s, "Rule: {} ({})", f.rule.id, f.rule.name);
    let _ = writeln!(s, "Provider: {}", f.rule.provider);
    let path = path_label(&l.provenance);
    let _ = writeln!(s, "Location: {}:{}:{}", path, l.line, l.column);
    if let Some(note) = decoded_note(l) {
        let _ = writeln!(s, "Encoding: {note}");
    }
    if let Some(v) = &f.validation {
        let _ = writeln!(s, "Validation: {}", v.summary());
    }
    let _ = writeln!(s, "Secret: {}", f.shown(redact));
    let _ = writeln!(s, "Fingerprint: {}", f.fingerprint);
    if let Some(c) = l.provenance.commit() {
        let _ = writeln!(
            s,
            "Commit: {} by {} <{}> on {}: {}",
            c.id, c.author_name, c.author_email, c.date, c.summary
        );
    }
    s.push_str(
        "How to fix: remove the key and load it from the environment; mark a false positive with a \
         till-scan:allow comment on the line, or add it to the baseline (till-scan baseline).",
    );
    s
}

pub fn write(ctx: &ReportContext<'_>, out: &mut dyn Write) -> io::Result<()> {
    let result = ctx.result;
    let summary = &result.summary;
    let failures = result.occurrence_count();
    let tests = failures.max(1);
    let time = format!("{:.3}", summary.duration.as_secs_f64());

    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="till-scan" tests="{tests}" failures="{failures}" errors="0" time="{time}">"#
    )?;
    writeln!(
        out,
        r#"  <testsuite name="till-scan" tests="{tests}" failures="{failures}" errors="0" skipped="0" time="{time}">"#
    )?;
    if result.findings.is_empty() {
        writeln!(
            out,
            r#"    <testcase name="no secrets found" classname="till-scan" time="0"/>"#
        )?;
    }
    for o in result.occurrences() {
        let (f, l) = (o.finding, o.location);
        let path = path_label(&l.provenance);
        writeln!(
            out,
            r#"    <testcase name="{}" classname="{}" file="{}" line="{}" time="0">"#,
            escape(&format!("{} at {}:{}", f.rule.id, path, l.line)),
            escape(&path),
            escape(&path),
            l.line,
        )?;
        writeln!(
            out,
            r#"      <failure message="{}" type="{}">{}</failure>"#,
            escape(&failure_message(f, ctx.redact)),
            escape(&f.rule.id),
            escape(&failure_details(&o, ctx.redact)),
        )?;
        writeln!(out, "    </testcase>")?;
    }
    if !summary.errors.is_empty() || !summary.skipped.is_empty() {
        let mut notes = String::new();
        for e in &summary.errors {
            let _ = writeln!(notes, "error: {}: {}", e.path, e.message);
        }
        for k in &summary.skipped {
            let _ = writeln!(notes, "skipped: {}: {}", k.path, k.reason);
        }
        writeln!(out, "    <system-err>{}</system-err>", escape(&notes))?;
    }
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}

#[cfg(test)]
mod tests {
    use super::super::sample::{self, ACME_SECRET, OTHER_SECRET};
    use super::*;

    /// Attribute values of `name` on every element called `element`, unescaped
    /// just enough for the tests.
    fn attrs<'a>(xml: &'a str, element: &str, name: &str) -> Vec<&'a str> {
        let open = format!("<{element} ");
        let key = format!(" {name}=\"");
        xml.match_indices(&open)
            .map(|(i, _)| {
                let tag = &xml[i..i + xml[i..].find('>').unwrap()];
                let start = tag.find(&key).unwrap() + key.len();
                &tag[start..start + tag[start..].find('"').unwrap()]
            })
            .collect()
    }

    /// A minimal well-formedness check: tags balance and no stray `<`, `&`.
    fn assert_well_formed(xml: &str) {
        let body = xml
            .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
            .unwrap();
        let mut stack: Vec<&str> = Vec::new();
        let mut rest = body;
        while let Some(i) = rest.find('<') {
            let text = &rest[..i];
            for (j, _) in text.match_indices('&') {
                let entity = &text[j..j + text[j..].find(';').unwrap() + 1];
                assert!(
                    ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#10;", "&#13;", "&#9;"]
                        .contains(&entity),
                    "bad entity {entity}"
                );
            }
            let end = i + rest[i..].find('>').unwrap();
            let tag = &rest[i + 1..end];
            assert!(!tag.contains('<'), "stray < in {tag}");
            assert_eq!(
                tag.matches('"').count() % 2,
                0,
                "unbalanced quotes in {tag}"
            );
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop(), Some(name));
            } else if !tag.ends_with('/') {
                stack.push(tag.split(' ').next().unwrap());
            }
            rest = &rest[end + 1..];
        }
        assert!(stack.is_empty(), "unclosed {stack:?}");
        assert_eq!(rest.trim(), "");
    }

    #[test]
    fn one_failing_case_per_occurrence() {
        let xml = sample::render(write, &sample::result(), true, false);
        assert_well_formed(&xml);
        assert_eq!(attrs(&xml, "testsuite", "tests"), ["3"]);
        assert_eq!(attrs(&xml, "testsuite", "failures"), ["3"]);
        assert_eq!(attrs(&xml, "testsuites", "failures"), ["3"]);
        assert_eq!(xml.matches("<testcase ").count(), 3);
        assert_eq!(xml.matches("<failure ").count(), 3);
        assert_eq!(
            attrs(&xml, "testcase", "name"),
            [
                "acme.api-key at app/main.py:3",
                "other.token at app/main.py:7",
                "acme.api-key at conf dir/we,ird:100%.env:1",
            ]
        );
        assert_eq!(
            attrs(&xml, "failure", "message")[0],
            "Acme API key (Acme) found: acme********"
        );
        assert!(xml.contains("<system-err>error: locked.txt: permission denied"));
        assert!(xml.contains("skipped: logo.png: binary file"));
        assert!(xml.contains("100% sure: really&#10;second line"));
    }

    #[test]
    fn escapes_xml() {
        let xml = sample::render(write, &sample::result(), true, false);
        assert!(xml.contains("Ada &lt;Dev&gt; &amp; Co"));
        assert!(xml.contains("Add &quot;config&quot; &lt;keys&gt; &amp; more"));
        assert_eq!(escape("a\u{1}b\u{1b}c'"), "a\u{fffd}b\u{fffd}c&apos;");
    }

    #[test]
    fn redacts_unless_asked_not_to() {
        let xml = sample::render(write, &sample::result(), true, false);
        assert!(!xml.contains(ACME_SECRET));
        assert!(!xml.contains(OTHER_SECRET));
        let raw = sample::render(write, &sample::result(), false, false);
        assert!(raw.contains(ACME_SECRET));
        assert!(raw.contains(OTHER_SECRET));
    }

    #[test]
    fn clean_scan_is_one_passing_case() {
        let xml = sample::render(write, &sample::empty(), true, false);
        assert_well_formed(&xml);
        assert_eq!(attrs(&xml, "testsuite", "tests"), ["1"]);
        assert_eq!(attrs(&xml, "testsuite", "failures"), ["0"]);
        assert_eq!(attrs(&xml, "testcase", "name"), ["no secrets found"]);
        assert!(!xml.contains("<failure"));
    }
}
