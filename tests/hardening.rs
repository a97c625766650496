//! Regression tests for the hardening pass (issue 11): hostile and unlucky
//! input must end in a clear error or a true result, never a hang, a panic,
//! a silent "clean" or a secret in the output. One module per area; each
//! builds its broken repositories, files and servers inside the test.

mod common;
#[path = "support/mod.rs"]
mod support;

#[path = "hardening/config.rs"]
mod config;
#[path = "hardening/fs.rs"]
mod fs;
#[path = "hardening/git.rs"]
mod git;
#[path = "hardening/matcher.rs"]
mod matcher;
#[path = "hardening/report.rs"]
mod report;
#[path = "hardening/rotate.rs"]
mod rotate;
