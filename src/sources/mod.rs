//! Sources read blobs and hand them to the [`Scanner`](crate::scanner::Scanner):
//! the file system (`fs`) and standard input (`stdin`).

pub mod fs;
pub mod git;
pub mod index;
pub mod stdin;
pub mod tree;

/// True for the tree-entry modes git gives a regular file: `100644`,
/// `100755`, and `100664` (group-writable, written by git before 2007 and
/// still found in old histories). Symlinks (`120000`), submodules (`160000`)
/// and trees are not blobs to scan. The one definition every source uses.
pub fn is_blob_mode(mode: u32) -> bool {
    matches!(mode, 0o100644 | 0o100755 | 0o100664)
}
