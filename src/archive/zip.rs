//! The members of a zip archive (jar, war, whl, nupkg, apk, docx, xlsx...),
//! read through its central directory. Directories and symbolic links are
//! passed over; encrypted members are counted and named in one warning.

use std::io::{Read, Seek};

use ::zip::ZipArchive;

use super::{Flow, Walk};
use crate::scanner::Worker;

pub(super) fn walk<R: Read + Seek>(
    walk: &mut Walk<'_>,
    worker: &mut Worker,
    source: R,
    depth: usize,
) -> Result<(), String> {
    let mut archive = ZipArchive::new(source).map_err(|e| e.to_string())?;
    let mut encrypted: Vec<String> = Vec::new();
    for index in 0..archive.len() {
        if walk.stopped() {
            break;
        }
        let (name, declared) = {
            let entry = match archive.by_index_data(index) {
                Ok(entry) => entry,
                Err(e) => return Err(format!("entry {index}: {e}")),
            };
            if entry.is_dir() || entry.is_symlink() {
                continue;
            }
            let name = match entry.name() {
                Ok(name) => name.into_owned(),
                Err(_) => format!("(entry {index})"),
            };
            if entry.encrypted() {
                encrypted.push(name);
                continue;
            }
            (name, entry.size())
        };
        let mut file = match archive.by_index(index) {
            Ok(file) => file,
            Err(e) => {
                walk.warn(Some(&name), format!("cannot read archive member: {e}"));
                continue;
            }
        };
        let mut counted = walk.counted(&mut file);
        if walk.member(worker, name, &mut counted, Some(declared), depth) == Flow::Stop {
            break;
        }
    }
    if let Some(first) = encrypted.first() {
        let message = match encrypted.len() {
            1 => "encrypted member, not scanned".to_string(),
            n => format!(
                "encrypted, not scanned, with {} more encrypted member(s) of this archive",
                n - 1
            ),
        };
        walk.warn(Some(first), message);
    }
    Ok(())
}
