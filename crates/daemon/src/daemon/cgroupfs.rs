//! Finding a container's cgroup on the host: the hierarchies
//! from `/proc/self/mountinfo`, the container's directory in each, and the
//! processes in it. Used by `top` and `stats` (and by `update`, which
//! writes the limits there).
//!
//! The runtime interprets the spec's `cgroupsPath` (`/berth/<id>`, or
//! `<CgroupParent>/<id>`) below each hierarchy's root, so on cgroup v1 the
//! container lives in `<mount of controller>/berth/<id>` for every
//! controller, and on a pure v2 host in `<cgroup2 mount>/berth/<id>`. On a
//! hybrid host (v1 controllers plus an empty `unified` v2 mount) the v1
//! hierarchies are the ones that hold the processes and the accounting.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::config::HostConfig;

/// The container's cgroup directories.
#[derive(Debug, Clone, Default)]
pub(crate) struct ContainerCgroup {
    /// v1: (controllers of the hierarchy, the container's dir in it).
    v1: Vec<(Vec<String>, PathBuf)>,
    /// v2: the container's dir in the unified hierarchy, when the host has
    /// no v1 controllers.
    v2: Option<PathBuf>,
}

/// The cgroup path of container `id` below each hierarchy's root (what the
/// spec builder puts in `cgroupsPath`, without the leading `/`).
pub(crate) fn relative_path(host: &HostConfig, id: &str) -> String {
    let parent = host.cgroup_parent.trim_matches('/');
    let parent = if parent.is_empty() { "berth" } else { parent };
    format!("{parent}/{id}")
}

impl ContainerCgroup {
    /// Locates the cgroup of container `id` (directories that do not exist,
    /// e.g. for a stopped container, are still listed; readers find them
    /// empty).
    pub(crate) fn locate(host: &HostConfig, id: &str) -> ContainerCgroup {
        let rel = relative_path(host, id);
        let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let mut cg = ContainerCgroup::default();
        let mut unified = None;
        for line in mountinfo.lines() {
            let Some((pre, post)) = line.split_once(" - ") else {
                continue;
            };
            let Some(mount_point) = pre.split(' ').nth(4) else {
                continue;
            };
            let mut post = post.split(' ');
            let fstype = post.next().unwrap_or("");
            let super_opts = post.nth(1).unwrap_or("");
            let mount_point = unescape(mount_point);
            match fstype {
                "cgroup" => {
                    let controllers: Vec<String> = super_opts
                        .split(',')
                        .filter(|o| !matches!(*o, "rw" | "ro") && !o.contains('='))
                        .map(str::to_string)
                        .collect();
                    if !controllers.is_empty() {
                        cg.v1
                            .push((controllers, Path::new(&mount_point).join(&rel)));
                    }
                }
                "cgroup2" => unified = Some(Path::new(&mount_point).join(&rel)),
                _ => {}
            }
        }
        if cg.v1.is_empty() {
            cg.v2 = unified;
        }
        cg
    }

    /// A cgroup made of the given v1 hierarchies (tests point it at temp
    /// directories).
    #[cfg(test)]
    pub(crate) fn from_v1(v1: Vec<(Vec<String>, PathBuf)>) -> ContainerCgroup {
        ContainerCgroup { v1, v2: None }
    }

    /// The container's directory in the v1 hierarchy holding `controller`.
    pub(crate) fn v1_dir(&self, controller: &str) -> Option<&Path> {
        self.v1
            .iter()
            .find(|(c, _)| c.iter().any(|c| c == controller))
            .map(|(_, d)| d.as_path())
    }

    /// The container's directory in the unified hierarchy (v2 hosts).
    pub(crate) fn v2_dir(&self) -> Option<&Path> {
        self.v2.as_deref()
    }

    /// Every process in the container's cgroup (the union of `cgroup.procs`
    /// over the hierarchies), sorted.
    pub(crate) fn pids(&self) -> Vec<u32> {
        let dirs = self
            .v1
            .iter()
            .map(|(_, d)| d.as_path())
            .chain(self.v2.as_deref());
        let mut pids = BTreeSet::new();
        for dir in dirs {
            let Ok(text) = fs::read_to_string(dir.join("cgroup.procs")) else {
                continue;
            };
            pids.extend(text.lines().filter_map(|l| l.trim().parse::<u32>().ok()));
        }
        pids.into_iter().collect()
    }
}

/// Undoes mountinfo's octal escapes (`\040` for a space).
fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let digits = bytes.get(i + 1..i + 4);
        if bytes[i] == b'\\' && digits.is_some_and(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)))
        {
            let d = digits.unwrap_or_default();
            let v = d.iter().fold(0u32, |acc, b| acc * 8 + u32::from(b - b'0'));
            out.push(v as u8);
            i += 4;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads a file holding one unsigned number (`max` reads as `None`).
pub(crate) fn read_u64(path: &Path) -> Option<u64> {
    let text = fs::read_to_string(path).ok()?;
    text.trim().parse().ok()
}

/// Reads a flat-keyed file (`memory.stat`, `cpu.stat`): `key value` lines.
pub(crate) fn read_keyed(path: &Path) -> Vec<(String, u64)> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_follow_the_spec() {
        let mut h = HostConfig::default();
        assert_eq!(relative_path(&h, "abc"), "berth/abc");
        h.cgroup_parent = "/my/parent/".into();
        assert_eq!(relative_path(&h, "abc"), "my/parent/abc");
    }

    #[test]
    fn unescapes_mountinfo() {
        assert_eq!(unescape("/a\\040b"), "/a b");
        assert_eq!(unescape("/plain"), "/plain");
        assert_eq!(unescape("/x\\"), "/x\\");
    }
}
