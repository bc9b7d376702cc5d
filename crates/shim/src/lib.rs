//! # berth-shim
//!
//! Berth's counterpart of libcontainerd's client and
//! containerd-shim-runc-v2, in one crate:
//!
//! - [`ContainerdClient`], the seam the daemon drives containers through,
//!   and [`ShimClient`], its implementation;
//! - the `berth-shim` process (module [`server`]): one per container,
//!   detached from the daemon, linking `berth-runtime` directly. It owns
//!   the container's stdio (json-file log, attach streams), reaps its
//!   processes, records the init's exit on disk before telling anyone, and
//!   serves the [`protocol`] on `<exec_root>/<id>/shim.sock`.
//!
//! Test alone: `cargo test -p berth-shim` (unit tests) and, as root,
//! `cargo test -p integration-tests --test shim`.

pub mod attach;
pub mod client;
pub mod error;
pub mod jsonlog;
pub mod protocol;
pub mod server;
pub mod types;

pub use attach::{Attach, AttachOutput, AttachStdin, OutputStream};
pub use client::{ContainerdClient, ShimClient, ShimConfig};
pub use error::ShimError;
/// The OCI spec types the API takes (`Process` for exec).
pub use oci_spec;
pub use types::{CreateRequest, ExecStdio, ExitStatus, ShimState, Status, StdioOptions};
