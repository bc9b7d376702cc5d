//! Berth's developer tasks as a library, so tests can build the same fixtures
//! the `cargo xtask` command does.

pub mod bench;
pub mod build;
pub mod demo;
pub mod fixtures;
pub mod init;
pub mod registry;

use std::path::{Path, PathBuf};

/// The workspace root: the parent of the xtask package.
pub fn workspace_root() -> PathBuf {
    let xtask = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().unwrap_or(xtask).to_path_buf()
}

/// The first executable file called `name` in `$PATH`.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| {
            std::fs::metadata(path)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}
