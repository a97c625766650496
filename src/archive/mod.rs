//! Looking inside archives: zip (and jar, war, whl, nupkg, apk, docx...),
//! tar, and gzip, bzip2 and xz streams (a tarball inside one, as in
//! `.tgz` and npm packs, or a single compressed file), nested up to
//! `--max-archive-depth` levels.
//!
//! Sources call [`scan_file`] (a file on disk, read in place: zip seeks in
//! it, streams are read through) or [`scan_bytes`] (a git blob, already in
//! memory) when a blob they would skip as binary starts with an archive's
//! magic bytes ([`sniff`]). Members are read one at a time into a buffer of
//! at most the scan's maximum file size and scanned like files; nothing is
//! ever written to disk, and member names (`../../etc/passwd`, absolute
//! paths) are only labels. The hits come back with their member path
//! ([`BlobHit::member`]) for the source to record at its own place.
//!
//! Archive bombs are held by caps ([`Limits`]): decompressed bytes per
//! outermost archive and per scan, and members per outermost archive. A
//! cap that is hit stops that archive (or every archive after it, for the
//! scan's cap) with a warning that names it; a corrupt or encrypted archive
//! is a warning too, and the scan goes on.

mod detect;
mod tar;
mod zip;

use std::cell::Cell;
use std::io::{self, Cursor, Read, Seek};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

pub use detect::{detect, is_bytecode, is_tar_header, ArchiveKind};

use crate::scan::SkipReason;
use crate::scanner::{decode_text, BlobHit, Scanner, Worker};

/// Archives looked inside by default: a jar in a zip, a tarball in a zip.
pub const DEFAULT_ARCHIVE_DEPTH: usize = 2;
/// Decompressed bytes read from one archive (nested ones included) before
/// the rest of it is given up.
pub const MAX_ARCHIVE_BYTES: u64 = 256 << 20;
/// Decompressed bytes read from all archives of one scan.
pub const MAX_SCAN_ARCHIVE_BYTES: u64 = 4 << 30;
/// Members read from one archive (nested ones included).
pub const MAX_ARCHIVE_MEMBERS: u64 = 100_000;
/// Memory an xz decoder may take for its dictionary, in KiB: xz's own
/// presets use at most 64 MiB; a hostile header may ask for 4 GiB.
const XZ_MEMORY_LIMIT_KIB: u32 = 64 * 1024;

/// How far to look inside archives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Archives nested this deep are opened (0: archives are not opened).
    pub depth: usize,
    /// A member larger than this is skipped like a large file.
    pub max_member_size: u64,
    /// See [`MAX_ARCHIVE_BYTES`].
    pub max_bytes: u64,
    /// See [`MAX_SCAN_ARCHIVE_BYTES`].
    pub max_scan_bytes: u64,
    /// See [`MAX_ARCHIVE_MEMBERS`].
    pub max_members: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            depth: DEFAULT_ARCHIVE_DEPTH,
            max_member_size: 10 << 20,
            max_bytes: MAX_ARCHIVE_BYTES,
            max_scan_bytes: MAX_SCAN_ARCHIVE_BYTES,
            max_members: MAX_ARCHIVE_MEMBERS,
        }
    }
}

/// Counters shared by the threads of one scan.
#[derive(Debug, Default)]
pub struct Tally {
    /// Decompressed bytes read from archives so far (the scan's cap).
    bytes: AtomicU64,
    /// Archives opened, nested ones included.
    pub archives: AtomicU64,
    /// Members read from them.
    pub members: AtomicU64,
    /// The scan's cap was hit and said so.
    scan_cap_noted: AtomicBool,
}

/// The archive `head` (the first bytes of a blob) starts, when archives
/// are looked inside at all.
pub fn sniff(scanner: &Scanner, head: &[u8]) -> Option<ArchiveKind> {
    if scanner.archive_limits().depth == 0 {
        return None;
    }
    detect(head)
}

/// Scans the archive in `file` (of kind `kind`, from [`sniff`]), reported
/// as `label`; the file is read from its start whatever its position.
pub fn scan_file(
    scanner: &Scanner,
    worker: &mut Worker,
    file: &std::fs::File,
    kind: ArchiveKind,
    label: &str,
) -> Vec<BlobHit> {
    let mut file = file;
    if let Err(e) = file.rewind() {
        scanner.error(label.to_string(), format!("cannot read archive: {e}"));
        return Vec::new();
    }
    let mut reader = io::BufReader::with_capacity(64 * 1024, file);
    scan_source(scanner, worker, &mut reader, kind, label)
}

/// Scans the archive held in `data` (a git blob), reported as `label`.
pub fn scan_bytes(
    scanner: &Scanner,
    worker: &mut Worker,
    data: &[u8],
    kind: ArchiveKind,
    label: &str,
) -> Vec<BlobHit> {
    scan_source(scanner, worker, &mut Cursor::new(data), kind, label)
}

fn scan_source(
    scanner: &Scanner,
    worker: &mut Worker,
    source: &mut dyn ReadSeek,
    kind: ArchiveKind,
    label: &str,
) -> Vec<BlobHit> {
    let limits = scanner.archive_limits();
    let tally = scanner.archive_tally();
    if tally.bytes.load(Ordering::Relaxed) > limits.max_scan_bytes {
        scanner.skip(
            label.to_string(),
            SkipReason::Archive(format!(
                "archive not opened: the scan's cap of {} decompressed from archives was reached (archive-bomb guard)",
                size(limits.max_scan_bytes)
            )),
        );
        return Vec::new();
    }
    let budget = Budget::default();
    let mut walk = Walk {
        scanner,
        limits,
        tally,
        label,
        budget: &budget,
        chain: Vec::new(),
        hits: Vec::new(),
    };
    walk.open(worker, kind, source, limits.depth);
    if let Some(cap) = budget.cap.get() {
        walk.note_cap(cap);
    }
    walk.hits
}

/// What a source is read as: zip needs to seek.
pub(crate) trait ReadSeek: Read + Seek {}
impl<T: Read + Seek + ?Sized> ReadSeek for T {}

/// The caps an archive can hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cap {
    Bytes,
    ScanBytes,
    Members,
}

/// What one outermost archive has used so far.
#[derive(Default)]
struct Budget {
    bytes: Cell<u64>,
    members: Cell<u64>,
    /// The cap that stopped it.
    cap: Cell<Option<Cap>>,
}

/// The walk of one outermost archive and everything nested in it.
struct Walk<'s> {
    scanner: &'s Scanner,
    limits: &'s Limits,
    tally: &'s Tally,
    /// How the outermost archive is named in notes.
    label: &'s str,
    budget: &'s Budget,
    /// The members entered to reach the current archive, outermost first.
    chain: Vec<String>,
    hits: Vec<BlobHit>,
}

/// What the container does after a member.
#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Continue,
    /// The member could not be read: a stream cannot go on past it.
    Broken,
    /// A cap was hit: stop everything.
    Stop,
}

impl<'s> Walk<'s> {
    fn stopped(&self) -> bool {
        self.budget.cap.get().is_some()
    }

    /// The label of the current archive, or of `member` inside it.
    fn place(&self, member: Option<&str>) -> String {
        let mut place = self.label.to_string();
        for name in self.chain.iter().map(String::as_str).chain(member) {
            place.push('!');
            place.push_str(name);
        }
        place
    }

    fn warn(&self, member: Option<&str>, message: String) {
        self.scanner.error(self.place(member), message);
    }

    fn note_cap(&self, cap: Cap) {
        let message = match cap {
            Cap::Bytes => format!(
                "stopped after {} decompressed: archive-bomb guard (cap per archive); the rest of this archive was not scanned",
                size(self.limits.max_bytes)
            ),
            Cap::Members => format!(
                "stopped after {} members: archive-bomb guard (cap per archive); the rest of this archive was not scanned",
                self.limits.max_members
            ),
            Cap::ScanBytes => {
                if self.tally.scan_cap_noted.swap(true, Ordering::Relaxed) {
                    return;
                }
                format!(
                    "stopped after {} decompressed from the archives of this scan: archive-bomb guard (cap per scan); this archive and archives after it were not (wholly) scanned",
                    size(self.limits.max_scan_bytes)
                )
            }
        };
        self.scanner.error(self.label.to_string(), message);
    }

    /// A reader that counts what `inner` yields against the caps.
    fn counted<R: Read>(&self, inner: R) -> Counted<'s, R> {
        Counted {
            inner,
            budget: self.budget,
            tally: self.tally,
            limits: self.limits,
        }
    }

    /// Opens an archive of `kind`, with `depth` levels left (this one
    /// included), and scans its members.
    /// A nested archive is read from its member's buffer, so every source
    /// can seek (zip needs to).
    fn open(
        &mut self,
        worker: &mut Worker,
        kind: ArchiveKind,
        source: &mut dyn ReadSeek,
        depth: usize,
    ) {
        self.tally.archives.fetch_add(1, Ordering::Relaxed);
        let result = match kind {
            ArchiveKind::Zip => zip::walk(self, worker, source, depth),
            // A nested tarball's bytes were counted as its member's.
            ArchiveKind::Tar if !self.chain.is_empty() => tar::walk(self, worker, source, depth),
            ArchiveKind::Tar => {
                let mut counted = self.counted(source);
                tar::walk(self, worker, &mut counted, depth)
            }
            ArchiveKind::Gzip | ArchiveKind::Bzip2 | ArchiveKind::Xz => {
                self.decompress(worker, kind, source, depth)
            }
        };
        if let Err(message) = result {
            if !self.stopped() {
                self.warn(
                    None,
                    format!(
                        "corrupt or unreadable {} archive: {message}; the rest of it was not scanned",
                        kind_name(kind)
                    ),
                );
            }
        }
    }

    /// A gzip, bzip2 or xz stream: a tarball inside is walked at this
    /// level (`.tgz`); anything else is its one member.
    fn decompress(
        &mut self,
        worker: &mut Worker,
        kind: ArchiveKind,
        source: &mut dyn Read,
        depth: usize,
    ) -> Result<(), String> {
        let decoder: Box<dyn Read + '_> = match kind {
            ArchiveKind::Gzip => Box::new(flate2::read::MultiGzDecoder::new(source)),
            ArchiveKind::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(source)),
            ArchiveKind::Xz => Box::new(lzma_rust2::XzReader::new_mem_limit(
                source,
                true,
                XZ_MEMORY_LIMIT_KIB,
            )),
            ArchiveKind::Zip | ArchiveKind::Tar => unreachable!("not a compressed stream"),
        };
        let mut counted = self.counted(decoder);
        let mut head = [0u8; 512];
        let filled = fill(&mut counted, &mut head).map_err(|e| e.to_string())?;
        let mut content = Cursor::new(&head[..filled]).chain(counted);
        if is_tar_header(&head[..filled]) {
            return tar::walk(self, worker, &mut content, depth);
        }
        let name = unpacked_name(self.chain.last().map_or(self.label, String::as_str));
        match self.member(worker, name, &mut content, None, depth) {
            Flow::Broken => Err("the compressed data is damaged".into()),
            Flow::Continue | Flow::Stop => Ok(()),
        }
    }

    /// Reads one member (of at most `declared` bytes, if the archive says)
    /// and scans it: as an archive when it is one and `depth` allows, else
    /// as text. `depth` counts the archive holding it.
    fn member(
        &mut self,
        worker: &mut Worker,
        name: String,
        reader: &mut dyn Read,
        declared: Option<u64>,
        depth: usize,
    ) -> Flow {
        let members = self.budget.members.get() + 1;
        self.budget.members.set(members);
        if members > self.limits.max_members {
            self.budget.cap.set(Some(Cap::Members));
            return Flow::Stop;
        }
        self.tally.members.fetch_add(1, Ordering::Relaxed);
        let max = self.limits.max_member_size;
        let too_large = |walk: &Self, size| {
            walk.scanner.skip(
                walk.place(Some(&name)),
                SkipReason::TooLarge { size, limit: max },
            );
            Flow::Continue
        };
        if let Some(size) = declared.filter(|&s| s > max) {
            return too_large(self, size);
        }
        let level = self.chain.len();
        if worker.archive_buffers.len() <= level {
            worker.archive_buffers.resize_with(level + 1, Vec::new);
        }
        let mut buffer = std::mem::take(&mut worker.archive_buffers[level]);
        buffer.clear();
        let read = reader.take(max.saturating_add(1)).read_to_end(&mut buffer);
        let flow = match read {
            _ if self.stopped() => Flow::Stop,
            Err(e) => {
                self.warn(Some(&name), format!("cannot read archive member: {e}"));
                Flow::Broken
            }
            Ok(n) if n as u64 > max => too_large(self, declared.unwrap_or(n as u64)),
            Ok(_) => {
                self.scan_member(worker, name, &buffer, depth);
                if self.stopped() {
                    Flow::Stop
                } else {
                    Flow::Continue
                }
            }
        };
        worker.archive_buffers[level] = buffer;
        flow
    }

    fn scan_member(&mut self, worker: &mut Worker, name: String, data: &[u8], depth: usize) {
        if let Some(kind) = detect(data) {
            if depth > 1 {
                self.chain.push(name);
                self.open(worker, kind, &mut Cursor::new(data), depth - 1);
                self.chain.pop();
            } else {
                self.scanner.skip(
                    self.place(Some(&name)),
                    SkipReason::Archive(format!(
                        "{} archive nested deeper than --max-archive-depth {}, not opened",
                        kind_name(kind),
                        self.limits.depth
                    )),
                );
            }
            return;
        }
        let hits = match decode_text(data) {
            Some(text) => self.scanner.find(worker, &text),
            None if is_bytecode(data) => self.scanner.find(worker, data),
            None => return,
        };
        if hits.is_empty() {
            return;
        }
        let mut path = self.chain.clone();
        path.push(name);
        self.hits.extend(hits.into_iter().map(|mut hit| {
            hit.member = path.clone();
            hit
        }));
    }
}

/// A reader counting the decompressed bytes it yields against the caps:
/// past one, it fails (and the budget says which cap).
struct Counted<'s, R> {
    inner: R,
    budget: &'s Budget,
    tally: &'s Tally,
    limits: &'s Limits,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.budget.cap.get().is_some() {
            return Err(io::Error::other("archive-bomb guard"));
        }
        let n = self.inner.read(buf)?;
        let bytes = self.budget.bytes.get() + n as u64;
        self.budget.bytes.set(bytes);
        let scan = self.tally.bytes.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        let cap = if bytes > self.limits.max_bytes {
            Some(Cap::Bytes)
        } else if scan > self.limits.max_scan_bytes {
            Some(Cap::ScanBytes)
        } else {
            None
        };
        if cap.is_some() {
            self.budget.cap.set(cap);
            return Err(io::Error::other("archive-bomb guard"));
        }
        Ok(n)
    }
}

/// Reads until `buf` is full or the input ends; how much was read.
fn fill(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The name of what a compressed file holds: `app.log` for `logs/app.log.gz`.
fn unpacked_name(container: &str) -> String {
    let base = container
        .rsplit(['/', '\\', '!'])
        .next()
        .unwrap_or(container);
    for suffix in [".gz", ".gzip", ".bz2", ".xz", ".z", ".Z"] {
        if let Some(stem) = base.strip_suffix(suffix).filter(|s| !s.is_empty()) {
            return stem.to_string();
        }
    }
    format!("{base} (decompressed)")
}

fn kind_name(kind: ArchiveKind) -> &'static str {
    match kind {
        ArchiveKind::Zip => "zip",
        ArchiveKind::Tar => "tar",
        ArchiveKind::Gzip => "gzip",
        ArchiveKind::Bzip2 => "bzip2",
        ArchiveKind::Xz => "xz",
    }
}

/// "256 MiB", "4 GiB", "1000 bytes".
fn size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (unit, name) in UNITS {
        if bytes >= unit && bytes.is_multiple_of(unit) {
            return format!("{} {name}", bytes / unit);
        }
    }
    format!("{bytes} bytes")
}

#[cfg(test)]
mod tests;
