//! till-scan: find hardcoded provider API keys, block them at commit time and
//! rotate them to Till scoped keys.
//!
//! Data flows rules -> matcher -> sources -> scanner -> findings -> reports;
//! `settings` resolves the command line, environment and config and builds
//! the parts; `cmd` holds one module per command; `app` dispatches.

pub mod app;
pub mod archive;
pub mod audit;
pub mod baseline;
pub mod cli;
mod cmd;
pub mod config;
pub mod decode;
pub mod filter;
pub mod finding;
pub mod hook;
pub mod matcher;
pub mod migrate;
pub mod prefilter;
pub mod progress;
pub mod provenance;
pub mod redact;
pub mod report;
pub mod rotate;
pub mod rules;
pub mod scan;
pub mod scanner;
pub mod settings;
pub mod sources;
pub mod suppress;
pub mod time;
pub mod validate;
