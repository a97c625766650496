//! Archive format detection by magic bytes (issue 14, item 2, first step).
//!
//! Owns one question: does this blob look like an archive or compressed
//! stream, and which kind? Detection reads magic bytes only, never the file
//! name, so a `.jar`, `.whl`, `.docx` or `.nupkg` is recognised as zip and a
//! `.tgz` or npm pack as gzip. Extraction, caps and nesting are not built
//! yet; nothing calls this module so far.

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
    }
}
