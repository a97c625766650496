//! Archive format detection by magic bytes.
//!
//! Owns one question: does this blob look like an archive or compressed
//! stream, and which kind? Detection reads magic bytes only, never the file
//! name, so a `.jar`, `.whl`, `.docx` or `.nupkg` is recognised as zip and a
//! `.tgz` or npm pack as gzip.

/// The container kinds till-scan means to look inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKind {
    /// `PK\x03\x04` at offset 0: zip, jar, war, ear, whl, nupkg, apk, docx...
    Zip,
    /// `ustar` at offset 257 (POSIX and GNU tar).
    Tar,
    /// `1f 8b`: a gzip stream; its content may itself be tar.
    Gzip,
    /// `BZh` followed by a block size digit `1`..=`9`.
    Bzip2,
    /// `FD 37 7A 58 5A 00`.
    Xz,
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const TAR_MAGIC_OFFSET: usize = 257;
const TAR_MAGIC: &[u8] = b"ustar";
const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const XZ_MAGIC: &[u8] = &[0xfd, b'7', b'z', b'X', b'Z', 0x00];

/// The archive kind `bytes` starts with, if any.
pub fn detect(bytes: &[u8]) -> Option<ArchiveKind> {
    if bytes.starts_with(ZIP_MAGIC) {
        return Some(ArchiveKind::Zip);
    }
    if bytes.starts_with(GZIP_MAGIC) {
        return Some(ArchiveKind::Gzip);
    }
    if bytes.starts_with(XZ_MAGIC) {
        return Some(ArchiveKind::Xz);
    }
    if bytes.len() >= 4 && bytes.starts_with(b"BZh") && (b'1'..=b'9').contains(&bytes[3]) {
        return Some(ArchiveKind::Bzip2);
    }
    let tar_magic_end = TAR_MAGIC_OFFSET + TAR_MAGIC.len();
    if bytes.len() >= tar_magic_end && &bytes[TAR_MAGIC_OFFSET..tar_magic_end] == TAR_MAGIC {
        return Some(ArchiveKind::Tar);
    }
    None
}

/// Whether a 512-byte block is a tar header (`ustar` at offset 257): what a
/// gzip, bzip2 or xz stream holds when it is a tarball.
pub fn is_tar_header(block: &[u8]) -> bool {
    block.len() >= 512 && detect(block) == Some(ArchiveKind::Tar)
}

/// Compiled code whose strings are stored as plain (modified) UTF-8 among
/// binary tables: a Java class file (`CA FE BA BE`) or Android dex
/// (`dex\n`). Archive members of these kinds are scanned although binary.
pub fn is_bytecode(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xca, 0xfe, 0xba, 0xbe]) || bytes.starts_with(b"dex\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_header() -> Vec<u8> {
        let mut header = vec![0u8; 512];
        header[..8].copy_from_slice(b"file.txt");
        header[257..263].copy_from_slice(b"ustar\0");
        header
    }

    #[test]
    fn archive_detects_each_kind_by_magic() {
        assert_eq!(detect(b"PK\x03\x04rest"), Some(ArchiveKind::Zip));
        assert_eq!(detect(&[0x1f, 0x8b, 0x08, 0x00]), Some(ArchiveKind::Gzip));
        assert_eq!(detect(b"BZh91AY&SY"), Some(ArchiveKind::Bzip2));
        assert_eq!(
            detect(&[0xfd, b'7', b'z', b'X', b'Z', 0x00, 0x00]),
            Some(ArchiveKind::Xz)
        );
        assert_eq!(detect(&tar_header()), Some(ArchiveKind::Tar));
    }

    #[test]
    fn archive_ignores_plain_text_and_near_misses() {
        assert_eq!(detect(b""), None);
        assert_eq!(detect(b"PK"), None);
        assert_eq!(detect(b"PK\x05\x06 empty zip end record"), None);
        assert_eq!(detect(b"BZhx not bzip2"), None);
        assert_eq!(detect(b"OPENAI_API_KEY=sk-..."), None);
        assert_eq!(detect(&tar_header()[..260]), None);
        assert!(!is_tar_header(&tar_header()[..511]));
        assert!(is_tar_header(&tar_header()));
        assert!(is_bytecode(&[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52]));
        assert!(!is_bytecode(b"cafebabe"));
    }
}
