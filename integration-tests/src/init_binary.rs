//! The static `berth-init` the `--init` tests hand to berthd: built once per
//! test process with the same command as `cargo xtask build-init`, so
//! `cargo test` works on a fresh clone.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The static init binary (`target/init/release/berth-init`), built on
/// first use.
pub fn static_init() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        xtask::init::build_static_init()
            .unwrap_or_else(|e| panic!("building the static berth-init: {e:#}"))
    })
}
