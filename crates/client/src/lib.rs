//! # berth-client
//!
//! A typed async client of the Docker Engine API as Berth's daemon serves
//! it (docker/cli's `client` package), usable by embedders on its own.
//!
//! - [`Host`]: `unix:///path` or `tcp://host:port`, from `BERTH_HOST`, else
//!   `DOCKER_HOST`, else `unix:///run/berth.sock`;
//! - [`Client`]: API version negotiation through `/_ping`, requests with
//!   the `/vX.Y` prefix, Docker's `{"message": ...}` errors as
//!   [`ClientError::Api`] (classified by `berth_errdefs` kind), JSON
//!   bodies, and hijacked connections for attach and exec;
//! - [`stream`]: bodies as raw chunks, newline-delimited JSON messages, or
//!   demultiplexed container output ([`stdcopy`]).
//!
//! Test alone: `cargo test -p berth-client` (a local HTTP server on a unix
//! socket plays the daemon).

mod client;
pub mod error;
pub mod host;
pub mod stream;
mod transport;
pub mod version;

pub use client::{Call, Client, Hijacked, Ping};
pub use error::{ClientError, Result};
pub use berth_api::stdcopy;
pub use host::Host;
pub use http::Method;
