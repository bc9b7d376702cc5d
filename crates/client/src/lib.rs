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
//!   demultiplexed container output ([`stdcopy`]);
//! - typed endpoints as `Client` methods, named after docker/cli's client:
//!   containers (`container_create`, `container_start`, `container_stop`,
//!   `container_restart`, `container_kill`, `container_wait` /
//!   `container_wait_begin` ([`Waiter`]), `container_remove`,
//!   `container_inspect`, `container_list`, `container_logs`,
//!   `container_attach`, `container_resize`, `container_pause`,
//!   `container_unpause`, `container_rename`, `container_top`,
//!   `container_stats`, `containers_prune`, `container_update`,
//!   `container_diff`, `container_export`), exec (`exec_create`,
//!   `exec_start_attached`, `exec_start_detached`, `exec_inspect`,
//!   `exec_resize`), system (`ping`, `version`, `info`, `events` with
//!   [`EventsOptions`], `disk_usage`), images (`image_pull` with
//!   `X-Registry-Auth`, `image_create`, `image_list`, `image_inspect` /
//!   `image_inspect_raw`, `image_history`, `image_tag`, `image_remove`,
//!   `images_prune`, `image_save` (a tar as a [`stream::ByteStream`]),
//!   `image_load` (a tar uploaded as it is read)), and volumes and
//!   networks (`volume_*`, `network_*`, `*_prune`: JSON values until their
//!   models exist; the daemon answers 501 for now).
//!
//! Request and answer bodies are `berth_api::types` models.
//!
//! Test alone: `cargo test -p berth-client` (a local HTTP server on a unix
//! socket plays the daemon).

mod archive;
mod client;
mod containers;
pub mod error;
mod exec;
pub mod host;
mod image_archive;
mod images;
mod networks;
pub mod stream;
mod system;
mod transport;
pub mod version;
mod volumes;

pub use berth_api::stdcopy;
pub use client::{Call, Client, Hijacked, Ping};
pub use containers::Waiter;
pub use error::{ClientError, Result};
pub use host::Host;
pub use http::Method;
pub use system::EventsOptions;
