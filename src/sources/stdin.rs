//! Standard input as one blob, reported under `--path-hint` or `<stdin>`.

use std::io::Read;

use crate::scan::SkipReason;
use crate::scanner::{looks_binary, Scanner, Worker};

pub const DEFAULT_NAME: &str = "<stdin>";

pub fn scan(
    scanner: &Scanner,
    input: &mut dyn Read,
    path_hint: Option<&str>,
) -> std::io::Result<()> {
    let name = path_hint.unwrap_or(DEFAULT_NAME);
    let mut worker = Worker::default();
    let mut data = Vec::new();
    input.read_to_end(&mut data)?;
    if looks_binary(&data) {
        scanner.skip(name.to_string(), SkipReason::Binary);
        return Ok(());
    }
    scanner.scan_blob(&mut worker, &data, name, None);
    Ok(())
}
