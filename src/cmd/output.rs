//! What every command shares on the way out: writing the reports, the
//! diagnostics on standard error, the outcome, and the one writer to
//! standard output that takes a closed pipe (`| head`) as the reader's
//! choice rather than an error.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

use super::Outcome;
use crate::cli::{Common, Format};
use crate::finding::Finding;
use crate::report::advice::Source;
use crate::report::{self, ReportContext};
use crate::rules::FailOn;
use crate::scan::ScanResult;
use crate::settings::{use_color, Args, Setup};
use crate::validate::Status;

/// Writes the report and notes, and decides the outcome.
/// `complete` is false when a path the user named could not be scanned.
pub fn finish(
    common: &Args,
    setup: &Setup,
    result: &mut ScanResult,
    complete: bool,
    source: Source,
) -> Result<Outcome> {
    if let Some(validator) = &setup.validator {
        validator.validate(&mut result.findings);
        if !common.quiet {
            eprintln!("till-scan: {}", validation_summary(&result.findings));
        }
        if setup.only_live {
            result.findings.retain(|f| {
                f.validation
                    .as_ref()
                    .is_some_and(|v| v.status == Status::Live)
            });
        }
    }
    // A secret detected anywhere is masked everywhere else the report
    // repeats it (commit messages, author names, paths), unless asked not to.
    let masked = if common.no_redact {
        None
    } else {
        crate::redact::masked(result)
    };
    let result = masked.as_ref().unwrap_or(result);
    let fail_on = setup.fail_on;
    let failing = result.findings.iter().filter(|f| fails(f, fail_on)).count();
    // A commit or push that goes through (only findings below --fail-on)
    // is not "blocked": its advice is that of files or history.
    let source = match source {
        Source::Commit if failing == 0 => Source::Files,
        Source::Push if failing == 0 => Source::History,
        other => other,
    };
    let ctx = ReportContext {
        result,
        redact: !common.no_redact,
        color: use_color(common, setup.format),
        source,
    };
    write_report(common.output.as_deref(), setup.format, &ctx)?;
    // More formats from the same scan (`--also-write`), never coloured.
    let plain = ReportContext {
        color: false,
        ..ctx
    };
    for extra in &common.also_write {
        write_report(Some(&extra.path), extra.format, &plain)?;
    }
    print_diagnostics(common, result);
    // A blocked commit or push must say what to do where the person
    // committing looks; the human report on the terminal already says it.
    let advised = setup.format == Format::Human && common.output.is_none();
    if matches!(source, Source::Commit | Source::Push) && failing > 0 && !advised && !common.quiet {
        let (heading, lines) = crate::report::advice::advice(result, source);
        eprintln!("till-scan: {heading}");
        for line in lines {
            eprintln!("  - {line}");
        }
    }
    if failing < result.findings.len() && !common.quiet {
        let below = result.findings.len() - failing;
        let why = match fail_on {
            FailOn::Live => "not found live (--fail-on live)".to_string(),
            FailOn::Level(level) => format!("below --fail-on {level}"),
        };
        eprintln!(
            "till-scan: {below} finding{} {why} (reported, not failing)",
            if below == 1 { " is" } else { "s are" }
        );
    }
    Ok(if !complete {
        Outcome::Failed
    } else if failing == 0 {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}

/// Whether `finding` makes the scan fail under `fail_on`.
fn fails(finding: &Finding, fail_on: FailOn) -> bool {
    match fail_on {
        FailOn::Level(level) => finding.rule.severity >= level,
        FailOn::Live => finding
            .validation
            .as_ref()
            .is_some_and(|v| v.status == Status::Live),
    }
}

/// `validated 3 keys: 1 live, 1 dead, 1 unknown`.
fn validation_summary(findings: &[Finding]) -> String {
    let count = |status: Status| {
        findings
            .iter()
            .filter(|f| f.validation.as_ref().is_some_and(|v| v.status == status))
            .count()
    };
    let n = findings.len();
    format!(
        "validated {n} key{}: {} live, {} dead, {} unknown",
        if n == 1 { "" } else { "s" },
        count(Status::Live),
        count(Status::Dead),
        count(Status::Unknown)
    )
}

fn write_report(output: Option<&Path>, format: Format, ctx: &ReportContext<'_>) -> Result<()> {
    match output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot write report to {}", path.display()))?;
            let mut w = std::io::BufWriter::new(file);
            report::write(format, ctx, &mut w)
                .and_then(|_| w.flush())
                .with_context(|| format!("cannot write report to {}", path.display()))
        }
        None => stdout_or("cannot write report to standard output", |out| {
            report::write(format, ctx, out)
        }),
    }
}

/// Errors always; skipped files and unused baseline entries with `-v`.
pub fn print_diagnostics(common: &Common, result: &ScanResult) {
    let s = &result.summary;
    for e in &s.errors {
        eprintln!("till-scan: warning: {}: {}", e.path, e.message);
    }
    if common.quiet {
        return;
    }
    if common.verbose > 0 {
        for skip in &s.skipped {
            eprintln!("till-scan: skipped {}: {}", skip.path, skip.reason);
        }
        for fp in &s.unused_baseline {
            eprintln!("till-scan: baseline entry {fp} matched nothing in this scan (rotated or removed? it can be dropped)");
        }
    } else {
        let large = s
            .skipped
            .iter()
            .filter(|k| matches!(k.reason, crate::scan::SkipReason::TooLarge { .. }))
            .count();
        if large > 0 {
            eprintln!("till-scan: note: skipped {large} file(s) over the size limit (--max-file-size); -v lists them");
        }
    }
}

/// Writes to standard output; a reader that closed the pipe (`| head`) is
/// not an error.
pub fn write_stdout(body: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    stdout_or("cannot write to standard output", body)
}

/// The one buffered writer to standard output: a closed pipe ends the
/// output quietly; any other error is `context`.
fn stdout_or(
    context: &'static str,
    body: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match body(&mut out).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context(context),
    }
}
