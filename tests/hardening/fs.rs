//! Hardening regressions: fs.

#[allow(unused_imports)]
use crate::common::*;
