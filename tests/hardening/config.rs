//! Hardening regressions: config.

#[allow(unused_imports)]
use crate::common::*;
