//! The directory source: a parallel walk (`ignore::WalkParallel`) honouring
//! `.gitignore`, `.ignore`, `.till-scanignore` and config excludes; skips
//! `.git/`, symlinks, binary files, files over the size limit, FIFOs, sockets
//! and devices; reads every file once into a per-thread buffer, UTF-16 files
//! transcoded to UTF-8. A binary file (or one over the size limit) that
//! starts like an archive is read member by member instead ([`archive`]).
//!
//! What the user names on the command line is held to a stricter standard
//! than what a walk comes across: a named FIFO or pipe (`<(cmd)`,
//! `/dev/stdin`) is read as a stream, and a named path that cannot be scanned
//! (missing, unreadable, a device or socket, over the size limit, a broken or
//! looping symbolic link) is an error that makes the scan incomplete.

use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use ignore::gitignore::Gitignore;
use ignore::{WalkBuilder, WalkState};

use crate::archive;
use crate::finding::Provenance;
use crate::scan::SkipReason;
use crate::scanner::{decode_as, Scanner, Text, Worker};
use crate::sources::stdin;
use crate::suppress::{ignored, IGNORE_FILE_NAME};

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

/// What to do with a path named on the command line.
enum Named {
    /// A directory or regular file: handed to the walker.
    Walk,
    /// A FIFO or pipe: read once, as a stream, like standard input.
    Stream,
    /// Not scanned; the message says why.
    Refused(String),
}

fn classify(path: &Path) -> Named {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() || m.is_file() => Named::Walk,
        Ok(m) => match special_kind(&m.file_type()) {
            "FIFO" => Named::Stream,
            kind => Named::Refused(format!(
                "{kind}: not read (reading a device or socket can block forever or never end)"
            )),
        },
        Err(e) => match std::fs::symlink_metadata(path) {
            Ok(l) if l.file_type().is_symlink() => Named::Refused(link_problem(path, &e)),
            _ => Named::Refused(format!("cannot scan: {e}")),
        },
    }
}

/// Names a file that is neither a directory, a regular file nor a symlink.
fn special_kind(file_type: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "FIFO";
        }
        if file_type.is_char_device() {
            return "character device";
        }
        if file_type.is_block_device() {
            return "block device";
        }
        if file_type.is_socket() {
            return "socket";
        }
    }
    let _ = file_type;
    "special file"
}

/// Links followed before a chain is called a loop (Linux's own limit).
const MAX_LINKS: usize = 40;

/// Why the symbolic link `path` leads nowhere: a loop (`a -> b -> a`), a
/// missing target, or `err` as the system reported it.
fn link_problem(path: &Path, err: &std::io::Error) -> String {
    let mut chain = vec![plain(path)];
    for _ in 0..MAX_LINKS {
        let current = &chain[chain.len() - 1];
        let Ok(target) = std::fs::read_link(current) else {
            break;
        };
        let next = plain(&current.parent().unwrap_or(Path::new("")).join(target));
        let seen = chain.contains(&next);
        let exists = std::fs::symlink_metadata(&next);
        chain.push(next);
        let shown = || {
            let names: Vec<String> = chain.iter().map(|p| display_path(p)).collect();
            names.join(" -> ")
        };
        if seen {
            return format!("symbolic link loop: {}", shown());
        }
        match exists {
            Err(_) => return format!("broken symbolic link: {} (does not exist)", shown()),
            Ok(m) if !m.file_type().is_symlink() => break,
            Ok(_) => {}
        }
    }
    if chain.len() > MAX_LINKS {
        return format!("symbolic link loop (more than {MAX_LINKS} links)");
    }
    format!("cannot scan: {err}")
}

/// `path` without `.` components, so `./a` and `a` compare equal.
fn plain(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| *c != Component::CurDir)
        .collect()
}

/// Scans `roots` (files, directories, FIFOs). Returns how many of them could
/// not be scanned (each reported as an error); the others are still scanned.
pub fn scan(scanner: &Scanner, roots: &[PathBuf], opts: &FsOptions) -> usize {
    let failed = AtomicUsize::new(0);
    let fail = |path: &Path, message: String| {
        scanner.error(display_path(path), message);
        failed.fetch_add(1, Ordering::Relaxed);
    };
    let mut walk = Vec::new();
    for root in roots {
        match classify(root) {
            Named::Walk => walk.push(root.clone()),
            Named::Stream => {
                if let Err(message) = scan_stream(scanner, root, opts.max_file_size) {
                    fail(root, message);
                }
            }
            Named::Refused(message) => fail(root, message),
        }
    }
    let Some((first, rest)) = walk.split_first() else {
        return failed.into_inner();
    };
    let honour = opts.honour_ignore_files;
    // The walk itself reads no ignore files: `IgnoreFiles` applies them, with
    // the crate's own precedence, and counts what they leave out.
    let mut builder = walk_builder(first, rest, false);
    builder
        .threads(opts.threads)
        .follow_links(false)
        .same_file_system(false);
    let ignore_files = honour.then(|| IgnoreFiles::new(first, rest));
    let ignore_files = ignore_files.as_ref();
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
    let failed = &failed;
    builder.build_parallel().run(|| {
        let mut worker = Worker::default();
        Box::new(move |result| {
            match result {
                Ok(entry) => {
                    if ignore_files.is_some_and(|files| files.ignores(&entry)) {
                        scanner.count_ignored();
                        // For a directory: not descended into.
                        return WalkState::Skip;
                    }
                    if let Err(message) = scan_entry(scanner, &mut worker, &entry, max) {
                        let path = display_path(entry.path());
                        if entry.depth() == 0 {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                        scanner.error(path, message);
                    }
                }
                Err(err) => {
                    if error_depth(&err) == Some(0) {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                    scanner.error(error_path(&err), error_message(&err));
                }
            }
            WalkState::Continue
        })
    });
    failed.load(Ordering::Relaxed)
}

/// A walk over `first` and `rest` that honours the ignore files or not.
fn walk_builder(first: &Path, rest: &[PathBuf], honour: bool) -> WalkBuilder {
    let mut builder = WalkBuilder::new(first);
    for r in rest {
        builder.add(r);
    }
    builder
        .hidden(false)
        .parents(honour)
        .ignore(honour)
        .git_ignore(honour)
        .git_exclude(honour)
        .git_global(false)
        .require_git(false);
    if honour {
        builder.add_custom_ignore_filename(IGNORE_FILE_NAME);
    }
    builder
}

/// `.gitignore`, `.ignore`, `.git/info/exclude` and `.till-scanignore`, for
/// the walk to apply itself: the `ignore` crate's walker skips what they
/// name without a trace, and the summary says how much was left out.
struct IgnoreFiles {
    roots: Vec<PathBuf>,
    /// One matcher per root, caching each directory's ignore files once
    /// for all worker threads.
    matchers: Mutex<Vec<ignore::IncrementalIgnore>>,
}

impl IgnoreFiles {
    fn new(first: &Path, rest: &[PathBuf]) -> IgnoreFiles {
        let roots = std::iter::once(first.to_path_buf())
            .chain(rest.iter().cloned())
            .collect();
        let matchers = walk_builder(first, rest, true).build_matchers();
        IgnoreFiles {
            roots,
            matchers: Mutex::new(matchers),
        }
    }

    /// Whether the ignore files leave `entry` out. What was named on the
    /// command line (depth 0) never is, as in the crate's own walk.
    fn ignores(&self, entry: &ignore::DirEntry) -> bool {
        if entry.depth() == 0 {
            return false;
        }
        let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
        let path = entry.path();
        let Some((index, relative)) = self
            .roots
            .iter()
            .enumerate()
            .find_map(|(i, root)| Some((i, path.strip_prefix(root).ok()?)))
        else {
            return false;
        };
        let mut matchers = self.matchers.lock().unwrap_or_else(|e| e.into_inner());
        matchers[index].matched(relative, is_dir).is_ignore()
    }
}

/// Reads a FIFO or pipe named on the command line. Opening one blocks until
/// a writer opens it, as `cat` would: the user asked for it.
fn scan_stream(scanner: &Scanner, path: &Path, max: u64) -> Result<(), String> {
    let mut file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let mut worker = Worker::default();
    let provenance = Provenance::File {
        path: display_path(path),
    };
    stdin::scan_stream(scanner, &mut worker, &mut file, &provenance, max)
}

/// Files up to this size are read without asking for their size first: most
/// files are small, and an `fstat` per file costs about as much as a read.
const SMALL_FILE: u64 = 256 * 1024;

/// What [`read_limited`] left in the buffer.
enum Loaded {
    /// The whole file, in this encoding.
    Text(Text),
    /// Binary: only the first part was read.
    Binary,
    /// Over the limit: only the first part was read. The size is the file's
    /// (or, for a file that grew or does not know its size, what was read).
    TooLarge(u64),
}

/// Reads `file` into `buffer` if it is text of at most `max` bytes. A file
/// larger than [`SMALL_FILE`] is read in two steps: after the first, its size
/// is looked up (`fstat` on the open file) and its encoding sniffed, so a
/// huge or binary file costs one small read. No more than `max + 1` bytes are
/// ever read, whatever the size the file reports (0 for `/proc` files) and
/// however it grows meanwhile.
fn read_limited(file: &std::fs::File, buffer: &mut Vec<u8>, max: u64) -> std::io::Result<Loaded> {
    let first = SMALL_FILE.min(max);
    file.take(first + 1).read_to_end(buffer)?;
    let text = Text::sniff(buffer);
    if buffer.len() as u64 > first {
        let size = file.metadata()?.len();
        if size > max {
            return Ok(Loaded::TooLarge(size));
        }
        if text == Text::Binary {
            return Ok(Loaded::Binary);
        }
        file.take(max.saturating_add(1) - buffer.len() as u64)
            .read_to_end(buffer)?;
        if buffer.len() as u64 > max {
            return Ok(Loaded::TooLarge(buffer.len() as u64));
        }
    }
    Ok(match text {
        Text::Binary => Loaded::Binary,
        text => Loaded::Text(text),
    })
}

/// Opens a file found by the walk for reading without blocking: a file that
/// turned into a FIFO since the walk listed it, or a `/proc` file that waits
/// for data (`/proc/kmsg`), must not stall the scan.
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(nonblock::O_NONBLOCK);
    }
    options.open(path)
}

/// `O_NONBLOCK`, spelled out because `libc` is not a direct dependency; the
/// kernel's value for each architecture.
#[cfg(unix)]
mod nonblock {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub const O_NONBLOCK: i32 = if cfg!(any(target_arch = "mips", target_arch = "mips64")) {
        0x80
    } else if cfg!(any(target_arch = "sparc", target_arch = "sparc64")) {
        0x4000
    } else {
        0o4000
    };
    #[cfg(any(
        target_vendor = "apple",
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd",
        target_os = "dragonfly"
    ))]
    pub const O_NONBLOCK: i32 = 0x4;
    /// Elsewhere no flag: reads may block, as they did before.
    #[cfg(not(any(
        target_os = "linux",
        target_os = "android",
        target_vendor = "apple",
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd",
        target_os = "dragonfly"
    )))]
    pub const O_NONBLOCK: i32 = 0;
}

fn read_error(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::WouldBlock {
        "cannot read: it waits for data that may never come (like /proc/kmsg); not read".into()
    } else {
        format!("cannot read: {e}")
    }
}

fn error_path(err: &ignore::Error) -> String {
    match err {
        ignore::Error::WithPath { path, .. } => display_path(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => display_path(child),
        _ => String::new(),
    }
}

fn error_depth(err: &ignore::Error) -> Option<usize> {
    match err {
        ignore::Error::WithDepth { depth, .. } => Some(*depth),
        ignore::Error::WithPath { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_depth(err)
        }
        _ => None,
    }
}

fn error_message(err: &ignore::Error) -> String {
    match err {
        ignore::Error::Loop { ancestor, child } => format!(
            "symbolic link loop: {} -> {}",
            display_path(child),
            display_path(ancestor)
        ),
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. }
            if matches!(**err, ignore::Error::Loop { .. }) =>
        {
            error_message(err)
        }
        _ => err.to_string(),
    }
}

/// Scans one entry of the walk. An `Err` is a file that could not be
/// scanned: a warning inside a directory, an error when it was named.
fn scan_entry(
    scanner: &Scanner,
    worker: &mut Worker,
    entry: &ignore::DirEntry,
    max: u64,
) -> Result<(), String> {
    let Some(file_type) = entry.file_type() else {
        return Ok(()); // standard input; never produced by a directory walk
    };
    if file_type.is_dir() {
        return Ok(());
    }
    let path = display_path(entry.path());
    if file_type.is_symlink() {
        scanner.skip(path, SkipReason::Symlink);
        return Ok(());
    }
    if !file_type.is_file() {
        // Never opened: a FIFO without a writer would block the walk.
        scanner.skip(path, SkipReason::Special(special_kind(&file_type)));
        return Ok(());
    }
    let named = entry.depth() == 0;
    let too_large = |size| {
        let reason = SkipReason::TooLarge { size, limit: max };
        if named {
            return Err(format!("{reason}; not scanned"));
        }
        scanner.skip(path.clone(), reason);
        Ok(())
    };
    let file = match open_nonblocking(entry.path()) {
        Ok(file) => file,
        Err(e) => {
            // Still report a file too large to scan as such.
            if let Ok(m) = entry.metadata() {
                if m.len() > max {
                    return too_large(m.len());
                }
            }
            return Err(read_error(&e));
        }
    };
    worker.buffer.clear();
    let loaded = read_limited(&file, &mut worker.buffer, max).map_err(|e| read_error(&e))?;
    // Archives are binary, and may be larger than the limit: they are read
    // member by member, each member held to it.
    if !matches!(loaded, Loaded::Text(_)) {
        if let Some(kind) = archive::sniff(scanner, &worker.buffer) {
            let hits = archive::scan_file(scanner, worker, &file, kind, &path);
            scanner.record(&hits, &Provenance::File { path });
            return Ok(());
        }
    }
    let text = match loaded {
        Loaded::Text(text) => text,
        Loaded::Binary => {
            scanner.skip(path, SkipReason::Binary);
            return Ok(());
        }
        Loaded::TooLarge(size) => return too_large(size),
    };
    let data = std::mem::take(&mut worker.buffer);
    if let Some(text) = decode_as(text, &data) {
        scanner.scan_blob(worker, &text, &Provenance::File { path });
    }
    worker.buffer = data;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(bytes: &[u8]) -> std::fs::File {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(bytes).unwrap();
        use std::io::Seek;
        f.rewind().unwrap();
        f
    }

    #[test]
    fn small_text_is_read_whole() {
        let mut buffer = Vec::new();
        let loaded = read_limited(&file_with(b"a = 1\n"), &mut buffer, 100).unwrap();
        assert!(matches!(loaded, Loaded::Text(Text::Bytes)));
        assert_eq!(buffer, b"a = 1\n");
    }

    #[test]
    fn large_binary_and_oversize_files_stop_after_the_first_read() {
        let mut binary = vec![0u8; 3 * SMALL_FILE as usize];
        binary[..4].copy_from_slice(b"\x7fELF");
        let mut buffer = Vec::new();
        let loaded = read_limited(&file_with(&binary), &mut buffer, u64::MAX).unwrap();
        assert!(matches!(loaded, Loaded::Binary));
        assert_eq!(buffer.len() as u64, SMALL_FILE + 1);

        let text = vec![b'x'; 3 * SMALL_FILE as usize];
        buffer.clear();
        let loaded = read_limited(&file_with(&text), &mut buffer, SMALL_FILE * 2).unwrap();
        assert!(matches!(loaded, Loaded::TooLarge(n) if n == text.len() as u64));
        assert_eq!(buffer.len() as u64, SMALL_FILE + 1);

        // Without a size limit to speak of, the whole text is read.
        buffer.clear();
        let loaded = read_limited(&file_with(&text), &mut buffer, u64::MAX).unwrap();
        assert!(matches!(loaded, Loaded::Text(Text::Bytes)));
        assert_eq!(buffer.len(), text.len());
    }

    #[test]
    fn a_limit_below_the_first_read_is_exact() {
        let mut buffer = Vec::new();
        let loaded = read_limited(&file_with(b"0123456789"), &mut buffer, 10).unwrap();
        assert!(matches!(loaded, Loaded::Text(_)));
        buffer.clear();
        let loaded = read_limited(&file_with(b"0123456789"), &mut buffer, 9).unwrap();
        assert!(matches!(loaded, Loaded::TooLarge(10)));
    }

    #[cfg(unix)]
    #[test]
    fn link_chains_are_described() {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n);
        std::os::unix::fs::symlink("b", p("a")).unwrap();
        std::os::unix::fs::symlink("./a", p("b")).unwrap();
        std::os::unix::fs::symlink("missing", p("c")).unwrap();
        let err = std::io::Error::other("x");
        let loop_message = link_problem(&p("a"), &err);
        let a = p("a").display().to_string();
        let b = p("b").display().to_string();
        assert_eq!(
            loop_message,
            format!("symbolic link loop: {a} -> {b} -> {a}")
        );
        let broken = link_problem(&p("c"), &err);
        assert!(broken.starts_with("broken symbolic link: "), "{broken}");
    }
}
