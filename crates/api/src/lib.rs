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
//!
//! Test alone: `cargo test -p berth-api`.

pub mod types;
