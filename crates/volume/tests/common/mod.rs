//! Helpers shared by the volume crate's tests: mount checks and a guard
//! that takes a test's mounts down even when an assertion fails.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The mount at exactly `path` per /proc/self/mountinfo: (fstype, super
/// options), or None.
pub fn mount_at(path: &Path) -> Option<(String, String)> {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    // A later line for the same point is the one on top.
    info.lines().rev().find_map(|line| {
        let fields: Vec<&str> = line.split(' ').collect();
        if Path::new(fields[4]) != path {
            return None;
        }
        let sep = fields.iter().position(|f| *f == "-")?;
        Some((fields[sep + 1].to_owned(), fields[sep + 3].to_owned()))
    })
}

/// Whether anything is mounted at `path`.
pub fn is_mounted(path: &Path) -> bool {
    mount_at(path).is_some()
}

/// Lazily unmounts every listed path (repeatedly, for stacked mounts) on
/// drop, so a failing test leaves no mount behind.
#[derive(Default)]
pub struct MountGuard(pub Vec<PathBuf>);

impl MountGuard {
    /// Adds a path to clean up.
    pub fn watch(&mut self, p: impl Into<PathBuf>) {
        self.0.push(p.into());
    }
}

impl Drop for MountGuard {
    fn drop(&mut self) {
        for p in &self.0 {
            for _ in 0..8 {
                if !is_mounted(p) {
                    break;
                }
                let _ = nix::mount::umount2(p.as_path(), nix::mount::MntFlags::MNT_DETACH);
            }
        }
    }
}

/// Options from `k=v` pairs.
pub fn opts(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
