//! # berth-image
//!
//! Berth's image service (moby image/ + distribution/, containerd content +
//! snapshots). So far: the reference grammar.
//!
//! [`reference`](mod@reference) parses and normalizes image references the way Docker does
//! (github.com/distribution/reference, as used by moby): `busybox` becomes
//! `docker.io/library/busybox:latest`, and bad input is refused with the
//! exact error messages the Docker CLI prints.
//!
//! Test alone: `cargo test -p berth-image`.

pub mod archive;
pub mod config;
pub mod content;
pub mod distribution;
pub mod error;
pub mod manifest;
pub mod platform;
pub mod progress;
pub mod record;
pub mod reference;
pub mod service;
pub mod snapshot;
pub mod store;
mod stream;
pub mod unpack;
