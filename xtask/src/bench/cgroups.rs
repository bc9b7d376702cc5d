//! Cleanup of the cgroups benchmarks make containers create.

use std::fs;
use std::path::{Path, PathBuf};

/// Where cgroup hierarchies are mounted.
const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// Removes the cgroup directory `parent` (e.g. `berth`, from containers'
/// `cgroupsPath` `/berth/<id>`) in every hierarchy (cgroup v2, or each v1
/// controller) where it exists and is empty; `rmdir(2)` refuses a cgroup
/// with children, so one still in use (say, by concurrent tests) stays.
/// Returns the children named `<prefix>*` that remain below `parent`: the
/// cgroups a runtime under test left behind.
pub fn remove_parent_if_empty(parent: &str, prefix: &str) -> Vec<PathBuf> {
    let mut leftovers = Vec::new();
    for dir in candidates(parent) {
        if fs::remove_dir(&dir).is_ok() {
            continue;
        }
        let Ok(children) = fs::read_dir(&dir) else {
            continue;
        };
        leftovers.extend(children.flatten().filter_map(|child| {
            let ours = child.file_name().to_string_lossy().starts_with(prefix);
            let is_dir = child.file_type().is_ok_and(|t| t.is_dir());
            (ours && is_dir).then(|| child.path())
        }));
    }
    leftovers.sort();
    leftovers
}

/// `<root>/<parent>` (cgroup v2) and `<root>/<hierarchy>/<parent>` (v1),
/// those that exist.
fn candidates(parent: &str) -> Vec<PathBuf> {
    let root = Path::new(CGROUP_ROOT);
    let mut candidates = vec![root.join(parent)];
    if let Ok(hierarchies) = fs::read_dir(root) {
        candidates.extend(
            hierarchies
                .flatten()
                .filter(|h| h.file_type().is_ok_and(|t| t.is_dir()))
                .map(|h| h.path().join(parent)),
        );
    }
    candidates.sort();
    candidates.dedup();
    candidates.retain(|dir| dir.is_dir());
    candidates
}
