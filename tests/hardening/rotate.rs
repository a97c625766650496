//! Hardening regressions: rotate.

#[allow(unused_imports)]
use crate::common::*;
