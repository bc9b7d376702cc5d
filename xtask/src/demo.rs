//! `cargo xtask demo`: Berth's main job end to end on a fresh machine: a
//! busybox container built from Debian's busybox-static, run by berth-runc.

use std::process::Command;

use anyhow::{Context, Result};

use crate::bench::cgroups::remove_parent_if_empty;
use crate::build::{build_bin, Profile};
use crate::fixtures::Fixtures;

/// What the demo container runs when no command is given.
const DEFAULT_SCRIPT: &str = "echo \"hello from a berth container\"; \
    echo \"hostname: $(hostname)\"; echo \"pid: $$\"; id; \
    echo \"network: $(ls /sys/class/net)\"";

/// Runs `command` (or a short tour) in a fresh busybox container and
/// returns the container's exit code.
pub fn run(command: &[String]) -> Result<i32> {
    let runc = build_bin("berth-runtime", "berth-runc", Profile::Debug)?;
    let fixtures = Fixtures::ensure_default()?;
    let work = tempfile::Builder::new().prefix("berth-demo-").tempdir()?;
    let args: Vec<&str> = if command.is_empty() {
        vec!["sh", "-c", DEFAULT_SCRIPT]
    } else {
        command.iter().map(String::as_str).collect()
    };
    let bundle = fixtures.new_bundle(&work.path().join("bundle"), &args)?;
    let id = format!("demo-{}", std::process::id());
    set_cgroups_path(&bundle.join("config.json"), &format!("/berth/{id}"))?;
    eprintln!("$ berth-runc run --bundle {} {id}", bundle.display());
    let status = Command::new(&runc)
        .arg("--root")
        .arg(work.path().join("state"))
        .args(["run", "--bundle"])
        .arg(&bundle)
        .arg(&id)
        .status()
        .context("running berth-runc")?;
    remove_parent_if_empty("berth", "demo-");
    let code = status.code().unwrap_or(1);
    eprintln!("container exited with code {code}");
    Ok(code)
}

fn set_cgroups_path(config: &std::path::Path, path: &str) -> Result<()> {
    let mut spec: serde_json::Value = serde_json::from_slice(&std::fs::read(config)?)?;
    spec["linux"]["cgroupsPath"] = serde_json::Value::String(path.to_string());
    std::fs::write(config, serde_json::to_vec_pretty(&spec)?)?;
    Ok(())
}
