//! A local stand-in for the GitHub Actions runner, for `tests/action.rs`.
#![allow(dead_code)]

pub mod expr;
pub mod runner;
