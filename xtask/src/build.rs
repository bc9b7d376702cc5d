//! Building the workspace's binaries for tasks that run them.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{ensure, Context, Result};

use crate::workspace_root;

/// Debug or release build of a binary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// `target/debug`: quick to build.
    Debug,
    /// `target/release`: what benchmarks measure.
    Release,
}

/// Builds binary `bin` of `package` and returns its path.
pub fn build_bin(package: &str, bin: &str, profile: Profile) -> Result<PathBuf> {
    let workspace = workspace_root();
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let (flag, dir) = match profile {
        Profile::Debug => (None, "debug"),
        Profile::Release => (Some("--release"), "release"),
    };
    eprintln!("building {bin} ({dir})...");
    let status = Command::new(&cargo)
        .current_dir(&workspace)
        .arg("build")
        .args(flag)
        .args(["-p", package, "--bin", bin])
        .status()
        .with_context(|| format!("running {}", Path::new(&cargo).display()))?;
    ensure!(status.success(), "building {bin} failed ({status})");
    let binary = workspace.join("target").join(dir).join(bin);
    ensure!(
        binary.is_file(),
        "{} missing after the build",
        binary.display()
    );
    Ok(binary)
}
