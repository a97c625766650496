//! The integration tests of till-scan, in one test binary (as ripgrep does):
//! one link step, and every test runs in parallel threads of one process.
//! Hence no test changes the process's current directory or environment
//! (each command gets its own through `Command::current_dir` / `env`), and
//! every test works in its own temp directory.
//!
//! `support` is the one module of shared helpers: the temp project and the
//! runner for the built binary, the isolated `git` helper and repository
//! builders, the shared synthetic keys, and the local HTTP doubles.
//!
//! Cargo finds this binary as `tests/integration/main.rs` (target
//! `integration`); a new `.rs` file directly under `tests/` would be a
//! binary of its own, so new tests go in a module here. Run one area with
//! a filter, e.g. `cargo test --test integration cli::`.

mod support;

mod action;
mod advice;
mod archive;
mod cli;
mod conventions;
mod decode;
mod docs;
mod doubles;
mod gha;
mod git;
mod hardening;
mod install;
mod keys;
mod migrate;
mod pairs;
mod precommit;
mod rotate;
mod rules;
mod validate;
