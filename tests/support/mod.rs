//! Local stand-ins for the services rotation talks to, for integration tests
//! that must not touch the network. Include with
//! `#[path = "support/mod.rs"] mod support;`; each test binary uses a subset,
//! hence the `dead_code` allowances.

#[allow(dead_code)]
pub mod github_double;
#[allow(dead_code)]
pub mod http;
#[allow(dead_code)]
pub mod till_double;
