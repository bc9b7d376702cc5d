//! `berth-init`: the small init Berth bind-mounts at `/sbin/docker-init`
//! for `--init` containers (Docker's tini). Run as pid 1 it spawns its
//! command as a child, forwards every catchable signal to it, reaps every
//! zombie re-parented to it, and exits with the child's status.
//!
//! Synchronous, std + libc only, so that `cargo xtask build-init` can link
//! it statically and it runs in images without a C library.

pub mod args;
pub mod signals;
pub mod status;
pub mod supervise;

pub use args::{parse, Invocation};
pub use status::{exec_failure, exit_code};
pub use supervise::run;
