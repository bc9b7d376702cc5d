//! Building the static `berth-init` that berthd bind-mounts into `--init`
//! containers. A workspace build links it dynamically, which cannot run in
//! an image without a C library, so this build has a target dir of its own
//! (`target/init`) that no workspace build overwrites.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{ensure, Context, Result};

use crate::workspace_root;

/// Where the static build goes: `<workspace>/target/init`.
pub fn init_target_dir() -> PathBuf {
    workspace_root().join("target").join("init")
}

/// The static binary's path once built:
/// `<workspace>/target/init/release/berth-init`.
pub fn static_init_path() -> PathBuf {
    init_target_dir().join("release").join("berth-init")
}

/// Builds `berth-init` as a static (static-pie) release binary and returns
/// its path, after checking it has no ELF interpreter as berthd will.
/// Cargo makes a repeat build a no-op.
pub fn build_static_init() -> Result<PathBuf> {
    let workspace = workspace_root();
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(&cargo)
        .current_dir(&workspace)
        .args(["rustc", "--quiet", "--release", "-p", "berth-init", "--bin"])
        .arg("berth-init")
        .arg("--target-dir")
        .arg(init_target_dir())
        // crt-static on the final link only: std and libc link the C
        // library statically, build scripts stay untouched.
        .args(["--", "-C", "target-feature=+crt-static"])
        .status()
        .with_context(|| format!("running {}", Path::new(&cargo).display()))?;
    ensure!(
        status.success(),
        "building the static berth-init failed ({status})"
    );
    let binary = static_init_path();
    berth_daemon::spec::init::verify_init_binary(&binary)
        .with_context(|| format!("checking {}", binary.display()))?;
    Ok(binary)
}
