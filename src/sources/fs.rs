//! The directory source: a parallel walk (`ignore::WalkParallel`) honouring
//! `.gitignore`, `.ignore`, `.till-scanignore` and config excludes; skips
//! `.git/`, symlinks, binary files and files over the size limit; reads every
//! file once into a per-thread buffer.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ignore::gitignore::Gitignore;
use ignore::{WalkBuilder, WalkState};

use crate::config::ignored;
use crate::scan::SkipReason;
use crate::scanner::{looks_binary, Scanner, Worker};

/// Ignore file specific to till-scan, in gitignore syntax.
pub const IGNORE_FILE_NAME: &str = ".till-scanignore";

pub struct FsOptions {
    pub threads: usize,
    pub max_file_size: u64,
    /// Honour .gitignore / .ignore / .till-scanignore.
    pub honour_ignore_files: bool,
    pub excludes: Option<Gitignore>,
}

/// How a path is shown in reports: as given, without a leading `./`.
pub fn display_path(path: &Path) -> String {
    let s = path.to_string_lossy();
    match s.strip_prefix("./") {
        Some(rest) if !rest.is_empty() => rest.to_string(),
        _ => s.into_owned(),
    }
}

/// Scans `roots` (files or directories). Roots that do not exist are reported
/// as errors and counted in the return value; the other roots are still scanned.
pub fn scan(scanner: &Scanner, roots: &[PathBuf], opts: &FsOptions) -> usize {
    let mut existing = Vec::new();
    for root in roots {
        match std::fs::symlink_metadata(root) {
            Ok(_) if root.exists() => existing.push(root.clone()),
            Ok(_) => scanner.error(display_path(root), "broken symbolic link".into()),
            Err(e) => scanner.error(display_path(root), format!("cannot scan: {e}")),
        }
    }
    let missing = roots.len() - existing.len();
    let Some((first, rest)) = existing.split_first() else {
        return missing;
    };
    let mut builder = WalkBuilder::new(first);
    for r in rest {
        builder.add(r);
    }
    let honour = opts.honour_ignore_files;
    builder
        .threads(opts.threads)
        .hidden(false)
        .parents(honour)
        .ignore(honour)
        .git_ignore(honour)
        .git_exclude(honour)
        .git_global(false)
        .require_git(false)
        .follow_links(false)
        .same_file_system(false);
    if honour {
        builder.add_custom_ignore_filename(IGNORE_FILE_NAME);
    }
    let excludes = opts.excludes.clone().map(Arc::new);
    builder.filter_entry(move |entry| {
        if entry.file_name() == ".git" && entry.depth() > 0 {
            return false;
        }
        match &excludes {
            Some(g) => !ignored(
                g,
                entry.path(),
                entry.file_type().is_some_and(|t| t.is_dir()),
            ),
            None => true,
        }
    });
    let max = opts.max_file_size;
    builder.build_parallel().run(|| {
        let mut worker = Worker::default();
        Box::new(move |result| {
            match result {
                Ok(entry) => scan_entry(scanner, &mut worker, &entry, max),
                Err(err) => scanner.error(error_path(&err), err.to_string()),
            }
            WalkState::Continue
        })
    });
    missing
}

/// Files up to this size are read without asking for their size first: most
/// files are small, and an `fstat` per file costs about as much as a read.
const SMALL_FILE: u64 = 256 * 1024;

/// Reads `file` into `buffer`, unless it holds more than `max` bytes; then
/// returns its size. Only a file larger than [`SMALL_FILE`] has its size
/// looked up (`fstat` on the open file) before the rest is read, so a huge
/// file costs one small read, not `max` bytes.
fn read_limited(
    file: &std::fs::File,
    buffer: &mut Vec<u8>,
    max: u64,
) -> std::io::Result<Option<u64>> {
    let first = SMALL_FILE.min(max);
    file.take(first + 1).read_to_end(buffer)?;
    if buffer.len() as u64 > first {
        let size = file.metadata()?.len();
        if size > max {
            return Ok(Some(size));
        }
        // `take` guards against a file that grew past the limit since.
        file.take(max + 1 - buffer.len() as u64)
            .read_to_end(buffer)?;
    }
    if buffer.len() as u64 > max {
        return Ok(Some(buffer.len() as u64));
    }
    Ok(None)
}

fn error_path(err: &ignore::Error) -> String {
    match err {
        ignore::Error::WithPath { path, .. } => display_path(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        _ => String::new(),
    }
}

fn scan_entry(scanner: &Scanner, worker: &mut Worker, entry: &ignore::DirEntry, max: u64) {
    let Some(file_type) = entry.file_type() else {
        return; // standard input; never produced by a directory walk
    };
    if file_type.is_dir() {
        return;
    }
    let path = display_path(entry.path());
    if file_type.is_symlink() {
        scanner.skip(path, SkipReason::Symlink);
        return;
    }
    if !file_type.is_file() {
        return; // sockets, fifos, devices
    }
    let file = match std::fs::File::open(entry.path()) {
        Ok(file) => file,
        Err(e) => {
            // Still report a file too large to scan as such.
            if let Ok(m) = entry.metadata() {
                if m.len() > max {
                    let size = m.len();
                    return scanner.skip(path, SkipReason::TooLarge { size, limit: max });
                }
            }
            return scanner.error(path, format!("cannot read: {e}"));
        }
    };
    worker.buffer.clear();
    match read_limited(&file, &mut worker.buffer, max) {
        Ok(None) => {}
        Ok(Some(size)) => return scanner.skip(path, SkipReason::TooLarge { size, limit: max }),
        Err(e) => return scanner.error(path, format!("cannot read: {e}")),
    }
    if looks_binary(&worker.buffer) {
        scanner.skip(path, SkipReason::Binary);
        return;
    }
    let data = std::mem::take(&mut worker.buffer);
    scanner.scan_blob(worker, &data, &path, None);
    worker.buffer = data;
}
