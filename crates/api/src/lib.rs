//! # berth-api
//!
//! The Docker Engine API as Berth speaks it, mirroring moby's `api/types`
//! (and, with the `server` feature, `api/server`).
//!
//! - [`types`]: serde models of the Engine API with Docker's exact JSON
//!   field names, null-versus-absent rules (Go's `omitempty`) and decoding
//!   rules (unknown fields ignored, `null` as the zero value, errors naming
//!   the field). No server or async dependency, so clients and embedders
//!   can use them alone.
//! - [`units`]: go-units sizes and durations as Docker prints them;
//! - [`stdcopy`]: Docker's multiplexed stream framing (logs and attach
//!   without a TTY), for both ends.
//! - `server` (feature `server`): the axum router of the Engine API and the
//!   `*Backend` traits it calls, which the daemon implements.
//!
//! Test alone: `cargo test -p berth-api --all-features`.

#![deny(missing_docs)]

#[cfg(feature = "server")]
pub mod server;
pub mod stdcopy;
pub mod types;
pub mod units;
