//! # berth-runtime
//!
//! Berth's low-level OCI runtime, the counterpart of runc / libcontainer.
//! It turns an OCI bundle (a rootfs and a `config.json`) into a running
//! container: namespaces, mounts and pivot_root, cgroups (v1, v2 and
//! hybrid, through cgroups-rs), capabilities, rlimits, seccomp, hooks and
//! a console handed over a unix socket.
//!
//! The public API is [`Runtime`] (create, load, list) and [`Container`]
//! (start, kill, delete, pause, resume, exec, state). `berth-runc` is a
//! thin CLI over it that accepts runc's commands and flags.
//!
//! Before any process enters a container, call
//! [`cloned_binary::ensure_cloned`] once at program start (CVE-2019-5736).
//!
//! Test alone: `cargo test -p berth-runtime` (unit tests) and, as root,
//! `cargo test -p integration-tests --test runtime`.

pub mod cgroups;
pub mod cloned_binary;
pub mod console;
mod container;
pub mod error;
pub mod fds;
pub mod hooks;
pub mod namespaces;
pub mod process;
pub mod rootfs;
pub mod seccomp;
pub mod spec;
pub mod state;
pub mod sync;

pub use container::{validate_id, Container, CreateOptions, ExecOptions, Runtime};
pub use error::{Error, Result};
pub use state::{OciState, Status};
