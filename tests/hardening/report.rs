//! Hardening regressions: report.

#[allow(unused_imports)]
use crate::common::*;
