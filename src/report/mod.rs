//! Reports: each format is a function from a finished [`ScanResult`] (its
//! findings) to a writer. Scanning code never knows the output format; the
//! text that names a place ([`path_label`]) is built here, once.

use std::borrow::Cow;
use std::io::{self, Write};

use crate::finding::Provenance;
use crate::rules::Rule;
use crate::scan::ScanResult;

pub mod advice;
pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
#[cfg(test)]
pub(crate) mod sample;
pub mod sarif;
pub mod target;

/// The report formats (`--format`, `--also-write FORMAT=PATH`, config
/// `format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Human,
    Json,
    Sarif,
    Junit,
    Github,
    /// Markdown for a GitHub job summary: redacted table, counts per rule, how to fix.
    Markdown,
}

impl Format {
    /// The name `-f` takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
            Format::Github => "github",
            Format::Markdown => "markdown",
        }
    }
}

/// Everything a report needs besides the writer.
pub struct ReportContext<'a> {
    pub result: &'a ScanResult,
    /// Redact secrets (the default; `--no-redact` turns it off).
    pub redact: bool,
    /// Use ANSI colour (human format only).
    pub color: bool,
    /// Where the findings came from: the human report's advice depends on it.
    pub source: advice::Source,
}

pub fn write(format: Format, ctx: &ReportContext<'_>, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Human => human::write(ctx, out),
        Format::Json => json::write(ctx, out),
        Format::Sarif => sarif::write(ctx, out),
        Format::Junit => junit::write(ctx, out),
        Format::Github => github::write(ctx, out),
        Format::Markdown => markdown::write(ctx, out),
    }
}

/// The path reports give a secret found in a commit's own text (author,
/// committer, message): its lines are those of `git cat-file commit <sha>`.
pub const COMMIT_MESSAGE_PATH: &str = "(commit message)";

/// How every format names a place in its path field: the file's path; for
/// history, the path in the commit's tree (the commit has fields of its
/// own); `(commit message)`; `REF (tag message)`; `REF` or `REF:PATH` for
/// what a ref points at directly; for a member of an archive, the archive's
/// label and the member names, each after a `!`
/// (`dist/app.jar!lib/inner.zip!conf/app.properties`).
pub fn path_label(provenance: &Provenance) -> Cow<'_, str> {
    match provenance {
        Provenance::Member { archive, members } => {
            let mut label = path_label(archive).into_owned();
            for m in members {
                label.push('!');
                label.push_str(m);
            }
            Cow::Owned(label)
        }
        Provenance::File { path }
        | Provenance::Staged { path }
        | Provenance::Commit { path, .. } => Cow::Borrowed(path),
        Provenance::Stream { name } => Cow::Borrowed(name),
        Provenance::CommitMessage { .. } => Cow::Borrowed(COMMIT_MESSAGE_PATH),
        Provenance::TagMessage { reference } => Cow::Owned(format!("{reference} (tag message)")),
        Provenance::RefTarget {
            reference,
            path: None,
        } => Cow::Borrowed(reference),
        Provenance::RefTarget {
            reference,
            path: Some(path),
        } => Cow::Owned(format!("{reference}:{path}")),
    }
}

/// The summary line about what ignore files left out of a directory scan,
/// with the way to scan it anyway; `None` when they left out nothing.
pub fn ignored_note(ignored: u64) -> Option<String> {
    (ignored > 0).then(|| {
        let what = if ignored == 1 {
            "1 file or directory".to_string()
        } else {
            format!("{ignored} files and directories")
        };
        format!(
            "{what} left out by .gitignore, .ignore or .till-scanignore (--no-ignore scans them)"
        )
    })
}

/// The label of the file a place is in: for an archive member, the
/// outermost archive's (the file on disk or in the repository).
pub fn container_label(provenance: &Provenance) -> Cow<'_, str> {
    path_label(provenance.container())
}

/// "in archive member lib/inner.zip!conf/app.properties": where inside an
/// archive the secret is, or `None` outside archives.
pub fn member_note(provenance: &Provenance) -> Option<String> {
    let members = provenance.members();
    (!members.is_empty()).then(|| format!("in archive member {}", members.join("!")))
}

/// "decoded from base64", "decoded from base64, then percent": how the
/// secret was encoded at this place, or `None` when it was plain text.
pub fn decoded_note(location: &crate::finding::Location) -> Option<String> {
    if location.decoded.is_empty() {
        return None;
    }
    let names: Vec<&str> = location.decoded.iter().map(|e| e.name()).collect();
    Some(format!("decoded from {}", names.join(", then ")))
}

/// "1 file", "2 files".
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The first `http(s)://` reference of a rule (trimmed, without spaces):
/// the vendor page every format links to.
pub fn first_web_reference(rule: &Rule) -> Option<&str> {
    rule.references.iter().map(|r| r.trim()).find(|r| {
        (r.starts_with("https://") || r.starts_with("http://")) && !r.contains(char::is_whitespace)
    })
}

#[cfg(test)]
mod multi_part_tests {
    use super::sample::{self, PAIR_ID, PAIR_SECRET};
    use super::*;
    use crate::finding::Secret;

    type Writer = fn(&ReportContext<'_>, &mut dyn Write) -> io::Result<()>;
    const FORMATS: [(&str, Writer); 6] = [
        ("human", human::write),
        ("json", json::write),
        ("sarif", sarif::write),
        ("junit", junit::write),
        ("github", github::write),
        ("markdown", markdown::write),
    ];

    #[test]
    fn every_format_names_the_parts_and_redacts_each_like_a_secret() {
        let result = sample::multi_part_result();
        let shown_id = Secret::new(PAIR_ID.as_bytes()).redacted();
        let shown_secret = Secret::new(PAIR_SECRET.as_bytes()).redacted();
        for (name, write) in FORMATS {
            let text = sample::render(write, &result, true, false);
            assert!(!text.contains(PAIR_ID), "{name}: {text}");
            assert!(!text.contains(PAIR_SECRET), "{name}: {text}");
            assert!(text.contains("Acme key pair"), "{name}: {text}");
            let id = format!("id {shown_id}");
            let secret = format!("secret {shown_secret}");
            let named = |t: &str| t.contains(&id) && t.contains(&secret);
            // JSON and SARIF carry the parts as fields; the text of the
            // others (and SARIF's message) names them.
            let fields = text.contains("\"name\": \"id\"") && text.contains(&shown_secret);
            assert!(named(&text) || fields, "{name}: {text}");
            let raw = sample::render(write, &result, false, false);
            assert!(
                raw.contains(PAIR_ID) && raw.contains(PAIR_SECRET),
                "{name}: {raw}"
            );
        }
    }
}
