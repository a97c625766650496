//! `till-scan stdin`: scan standard input as one blob.

use std::path::Path;
use std::time::Instant;

use anyhow::Result;

use super::output::finish;
use super::setup_for;
use super::Outcome;
use crate::matcher::Workload;
use crate::report::advice::Source;
use crate::settings::Args;
use crate::sources;

pub fn scan_stdin(common: &Args, path_hint: Option<&str>) -> Result<Outcome> {
    let setup = setup_for(common, Path::new("."), true, Workload::Small)?;
    let started = Instant::now();
    let input = &mut std::io::stdin().lock();
    let scanned = sources::stdin::scan(&setup.scanner, input, path_hint, setup.max_file_size);
    if let Err(message) = &scanned {
        let name = path_hint.unwrap_or(sources::stdin::DEFAULT_NAME);
        setup.scanner.error(name.to_string(), message.clone());
    }
    let mut result = setup.scanner.finish(started.elapsed());
    finish(common, &setup, &mut result, scanned.is_ok(), Source::Stdin)
}
