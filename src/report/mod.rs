//! Reports: each format is a function from a finished [`ScanResult`] to a
//! writer. Scanning code never knows the output format.

use std::io::{self, Write};

use crate::rules::Rule;
use crate::scan::ScanResult;

pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
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

/// Everything a report needs besides the writer.
pub struct ReportContext<'a> {
    pub result: &'a ScanResult,
    /// The rules in force (SARIF lists them; reports look up help text).
    pub rules: &'a [Rule],
    /// Redact secrets (the default; `--no-redact` turns it off).
    pub redact: bool,
    /// Use ANSI colour (human format only).
    pub color: bool,
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
