//! A local stand-in for the GitHub Actions runner, for the `action` tests:
//! an expression evaluator (`expr`) and a runner for `action.yml` (`runner`).
#![allow(dead_code)]

pub mod expr;
pub mod runner;
