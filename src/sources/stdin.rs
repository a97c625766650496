//! Standard input as one blob, reported under `--path-hint` or `<stdin>`;
//! also any stream named on the command line (a FIFO, `<(cmd)`).
//! A stream's size is unknown until it ends, so it is read up to the size
//! limit and one byte more: more than the limit is an error, never a blob
//! read whole or a silent "clean".

use std::io::Read;

use crate::finding::Provenance;
use crate::scan::SkipReason;
use crate::scanner::{decode_text, Scanner, Worker};

pub const DEFAULT_NAME: &str = "<stdin>";

/// Scans standard input. `Err` says why it was not scanned: closed, too
/// large or unreadable.
pub fn scan(
    scanner: &Scanner,
    input: &mut dyn Read,
    path_hint: Option<&str>,
    max: u64,
) -> Result<(), String> {
    if stdin_is_closed() {
        return Err(
            "standard input is closed (or /dev/null): nothing to scan; pipe the input in, e.g. `till-scan stdin < file`"
                .into(),
        );
    }
    let provenance = Provenance::Stream {
        name: path_hint.unwrap_or(DEFAULT_NAME).to_string(),
    };
    scan_stream(scanner, &mut Worker::default(), input, &provenance, max)
}

/// Reads `input` to its end, at most `max` bytes, and scans it as read at
/// `provenance`. `Err` says why it was not scanned.
pub fn scan_stream(
    scanner: &Scanner,
    worker: &mut Worker,
    input: &mut dyn Read,
    provenance: &Provenance,
    max: u64,
) -> Result<(), String> {
    let mut data = Vec::new();
    input
        .take(max.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(|e| format!("cannot read: {e}"))?;
    if data.len() as u64 > max {
        return Err(format!(
            "more than the size limit of {max} bytes (--max-file-size); not scanned"
        ));
    }
    match decode_text(&data) {
        Some(text) => scanner.scan_blob(worker, &text, provenance),
        None => scanner.skip(
            provenance.path().unwrap_or_default().to_string(),
            SkipReason::Binary,
        ),
    }
    Ok(())
}

/// True when standard input was closed when the process started (`<&-`).
/// Rust's runtime then opens `/dev/null` in its place, so the two look the
/// same: both are taken as a mistake, since neither has anything to scan
/// (a CI step that runs `till-scan stdin` without a pipe gets `/dev/null`).
#[cfg(unix)]
fn stdin_is_closed() -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let Ok(fd) = std::io::stdin().as_fd().try_clone_to_owned() else {
        return true;
    };
    let (Ok(input), Ok(null)) = (
        std::fs::File::from(fd).metadata(),
        std::fs::metadata("/dev/null"),
    ) else {
        return false;
    };
    input.file_type().is_char_device() && input.rdev() == null.rdev()
}

#[cfg(not(unix))]
fn stdin_is_closed() -> bool {
    false
}
