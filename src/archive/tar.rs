//! The members of a tar stream, read in order. Only regular files are
//! members; links, directories and devices are passed over (a link is a
//! name, not data, and is never followed).

use std::io::Read;

use ::tar::{Archive, EntryType};

use super::{Flow, Walk};
use crate::scanner::Worker;

pub(super) fn walk(
    walk: &mut Walk<'_>,
    worker: &mut Worker,
    source: &mut dyn Read,
    depth: usize,
) -> Result<(), String> {
    let mut archive = Archive::new(source);
    let entries = archive.entries().map_err(|e| e.to_string())?;
    for entry in entries {
        if walk.stopped() {
            break;
        }
        let mut entry = entry.map_err(|e| e.to_string())?;
        let kind = entry.header().entry_type();
        if !matches!(kind, EntryType::Regular | EntryType::Continuous) {
            continue;
        }
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let declared = entry.size();
        match walk.member(worker, name, &mut entry, Some(declared), depth) {
            Flow::Continue => {}
            Flow::Broken | Flow::Stop => break,
        }
    }
    Ok(())
}
