//! # berth-cli
//!
//! The `berth` command line: Docker's commands, flags and output shapes over
//! the Engine API (docker/cli), through [`berth_client`].
//!
//! - [`format`]: `--format` Go templates over JSON values, Docker's aligned
//!   tables, go-units sizes and durations.
//!
//! Test alone: `cargo test -p berth-cli`.

pub mod format;
