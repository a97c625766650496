//! Regression tests for the hardening pass (issue 11): hostile and unlucky
//! input must end in a clear error or a true result, never a hang, a panic,
//! a silent "clean" or a secret in the output. One module per area; each
//! builds its broken repositories, files and servers inside the test.

mod config;
mod fs;
mod git;
mod matcher;
mod report;
mod rotate;
