//! Hardening regressions: git.

#[allow(unused_imports)]
use crate::common::*;
