//! # berth-daemon
//!
//! The pure, testable core of Berth's daemon, mirroring moby's `daemon/`
//! package for the `create` path:
//!
//! - [`api`]: the Engine API backends over the daemon (what the router calls);
//! - [`config`]: Docker's container `Config` and `HostConfig`, re-exported
//!   from `berth_api::types::container` (where the Engine API models live),
//!   and their decoders with errors mapped to [`DaemonError`];
//! - [`ids`]: random 64-hex container IDs and their 12-char short form;
//! - [`names`]: Docker's container-name rules, generated names and a
//!   thread-safe name registry;
//! - [`store`]: the in-memory container index (full ID, unique ID prefix, name);
//! - [`spec`]: the OCI runtime spec a container runs with, built the way
//!   moby's `daemon/oci_linux.go` and `oci/defaults.go` build it;
//! - [`persist`]: atomic `config.v2.json` / `hostconfig.json` files;
//! - [`error`]: [`DaemonError`], classified into `berth_errdefs` kinds;
//! - [`daemon`]: the [`daemon::Daemon`] state machine (create, start, stop,
//!   kill, wait, remove) over the image service and the shims, with live
//!   restore on open;
//! - [`detach_keys`]: Docker's detach-key syntax and the stdin filter that
//!   watches for it;
//! - [`filters`]: Docker's `filters` query (moby's `filters.Args`);
//! - [`options`]: berthd's flags and config file (dockerd's names);
//! - [`pidfile`]: the locked pidfile that keeps one daemon per data root;
//! - [`listeners`]: the `-H` sockets (unix, tcp, `fd://`), serving the router.
//!
//! The `berthd` binary wires these together.
//!
//! Test alone: `cargo test -p berth-daemon`.

pub mod api;
pub mod config;
pub mod daemon;
pub mod detach_keys;
pub mod error;
pub mod events;
pub mod failpoint;
pub mod filters;
pub mod ids;
pub mod listeners;
pub mod logs;
pub mod names;
pub mod options;
pub mod persist;
pub mod pidfile;
pub mod spec;
pub mod store;

pub use error::DaemonError;
