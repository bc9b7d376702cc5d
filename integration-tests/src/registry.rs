//! The local test registry, now shared with the benches: see
//! [`xtask::registry`]. Re-exported so tests keep using
//! `integration_tests::registry::*`.

pub use xtask::registry::*;
