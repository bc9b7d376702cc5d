//! # berth-cli
//!
//! The `berth` command line (docker/cli): Docker's commands, flags, output
//! shapes and exit codes over the Engine API, through [`berth_client`].
//!
//! What it owns:
//!
//! - [`cli`]: the clap grammar (`run`, `create`, `start`, `stop`,
//!   `restart`, `kill`, `rm`, `wait`, `pause`, `unpause`, `rename`,
//!   `logs`, `exec`, `attach`, `top`, `inspect`, `ps`, `port`, `stats`,
//!   `version`, `info`, `events`, `container ...`, `system ...`; the
//!   image commands `pull`, `images`, `rmi`, `tag`, `history`, `save`,
//!   `load`, `image ...`, whose flags live in [`commands::image::args`]);
//! - [`opts`]: the `run`/`create` flags and their conversion into the
//!   create request, as docker/cli's `opts` parses them;
//! - [`commands`]: the commands; [`commands::run`] holds the `run` flow
//!   behind the [`commands::run::Engine`] seam (the client, or a fake);
//! - [`stdio`]: hijacked stream pumping, detach keys, raw terminal;
//! - [`progress`]: Docker's progress display for pull and load (shared by
//!   `pull` and `run`); [`reference`]: image references;
//! - [`errors`]: exit statuses (1, 125, 126, 127, the container's own);
//! - [`format`]: `--format` Go templates, Docker's tables, go-units sizes;
//!   [`timefmt`]: `--since`/`--until` and event times.
//!
//! Test alone: `cargo test -p berth-cli` (unit tests over fakes at the
//! seams; `tests/cli.rs` runs the built binary against no daemon).

pub mod cli;
pub mod commands;
pub mod errors;
pub mod format;
pub mod opts;
pub mod progress;
pub mod reference;
pub mod stdio;
pub mod timefmt;
