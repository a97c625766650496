//! Hardening regressions: matcher.

#[allow(unused_imports)]
use crate::common::*;
