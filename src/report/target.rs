//! Where a report may be written: a new file, an empty one, a special file
//! (`/dev/stdout`, a pipe), or a file that already holds a till-scan report.
//! Anything else is refused, so `-o app.py` (a typo, or a path that the scan
//! itself reads) never replaces a user's file with a report.

use std::io::Read;
use std::path::Path;

use anyhow::{bail, Context, Result};

/// How much of an existing file's head and tail is read to recognise a
/// report of ours.
const HEAD: u64 = 64 * 1024;
const TAIL: u64 = 4 * 1024;

/// Text every report format carries near its start or end: the tool's name
/// (JSON, SARIF, JUnit, Markdown, GitHub, a human report with findings) or
/// the clean human summary.
const MARKERS: &[&[u8]] = &[b"till-scan", b"No secrets found (scanned "];

/// Fails when writing a report to `path` would replace a file that is not a
/// till-scan report.
pub fn ensure_overwritable(path: &Path) -> Result<()> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot write a report to {}", path.display()))
        }
    };
    if !meta.is_file() || meta.len() == 0 {
        return Ok(());
    }
    if holds_report(path, meta.len()).with_context(|| {
        format!(
            "cannot read {} before writing a report to it",
            path.display()
        )
    })? {
        return Ok(());
    }
    bail!(
        "refusing to write the report to {}: the file exists and is not a till-scan report \
         (a file the scan reads, or a mistyped path?); choose another path or remove it first",
        path.display()
    )
}

fn holds_report(path: &Path, len: u64) -> std::io::Result<bool> {
    let mut file = std::fs::File::open(path)?;
    let mut head = Vec::new();
    (&mut file).take(HEAD).read_to_end(&mut head)?;
    let mut text = head;
    if len > HEAD {
        use std::io::Seek;
        file.seek(std::io::SeekFrom::Start(len.saturating_sub(TAIL).max(HEAD)))?;
        file.take(TAIL).read_to_end(&mut text)?;
    }
    Ok(MARKERS
        .iter()
        .any(|m| memchr::memmem::find(&text, m).is_some()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_empty_and_report_files_may_be_replaced_others_not() {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n);
        assert!(ensure_overwritable(&p("new.json")).is_ok());
        std::fs::write(p("empty"), "").unwrap();
        assert!(ensure_overwritable(&p("empty")).is_ok());
        std::fs::write(
            p("old.json"),
            "{\n  \"tool\": { \"name\": \"till-scan\" }\n}\n",
        )
        .unwrap();
        assert!(ensure_overwritable(&p("old.json")).is_ok());
        std::fs::write(
            p("old.txt"),
            "No secrets found (scanned 3 files, 0.00 MB in 0.00 s)\n",
        )
        .unwrap();
        assert!(ensure_overwritable(&p("old.txt")).is_ok());
        // A long report whose marker is only in its last lines.
        let long = format!("{}\ntill-scan: 1 occurrence(s)\n", "x".repeat(200_000));
        std::fs::write(p("long.log"), long).unwrap();
        assert!(ensure_overwritable(&p("long.log")).is_ok());
        std::fs::write(p("app.py"), "import os\nKEY = os.environ['KEY']\n").unwrap();
        let err = ensure_overwritable(&p("app.py")).unwrap_err().to_string();
        assert!(err.contains("refusing") && err.contains("app.py"), "{err}");
        assert!(ensure_overwritable(Path::new("/dev/null")).is_ok());
    }
}
