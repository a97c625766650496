//! Sources read blobs and hand them to the [`Scanner`](crate::scanner::Scanner):
//! the file system (`fs`) and standard input (`stdin`).

pub mod fs;
pub mod git;
pub mod index;
pub mod stdin;
pub mod tree;
