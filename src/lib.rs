//! till-scan: find hardcoded provider API keys, block them at commit time and
//! rotate them to Till scoped keys.
//!
//! Data flows rules -> matcher -> sources -> scanner -> findings -> reports;
//! `app` resolves the command line and config and wires the parts together.

pub mod app;
pub mod baseline;
pub mod cli;
pub mod config;
pub mod filter;
pub mod finding;
pub mod hook;
pub mod matcher;
pub mod prefilter;
pub mod provenance;
pub mod redact;
pub mod report;
pub mod rotate;
pub mod rules;
pub mod scan;
pub mod scanner;
pub mod sources;
pub mod suppress;
pub mod time;
