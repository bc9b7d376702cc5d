//! The container's cgroup, through cgroups-rs (v1, v2 and hybrid hosts).
//!
//! `cgroupsPath` is interpreted below the hierarchy root: an absolute path
//! `/a/b` and a relative `a/b` both name `<mount>/a/b`. An empty path becomes
//! `/berth/<id>`, so Berth only ever creates cgroups under its own parent and
//! never inside a subtree the host's own tooling owns.

use std::fs;
use std::path::{Path, PathBuf};

use cgroups_rs::manager::{FsManager, Manager};
use cgroups_rs::{CgroupPid, FreezerState};
use oci_spec::runtime::{
    LinuxDevice, LinuxDeviceCgroup, LinuxDeviceCgroupBuilder, LinuxDeviceType, LinuxResources,
};

use crate::error::{Error, Result};

/// The parent under which default cgroup paths are created.
pub const DEFAULT_PARENT: &str = "berth";

/// A container's cgroup across every mounted controller.
pub struct Cgroup {
    manager: FsManager,
    path: String,
}

fn cg_err(what: &str, path: &str, e: impl std::fmt::Display) -> Error {
    Error::Cgroup(format!("{what} {path:?}: {e}"))
}

/// The cgroup path (relative to each hierarchy's root) for a container.
pub fn resolve_path(spec_path: Option<&Path>, id: &str) -> String {
    match spec_path.map(|p| p.to_string_lossy().trim_matches('/').to_string()) {
        Some(p) if !p.is_empty() => p,
        _ => format!("{DEFAULT_PARENT}/{id}"),
    }
}

impl Cgroup {
    /// Opens (without creating) the cgroup at `path`.
    pub fn open(path: &str) -> Result<Self> {
        if path.contains(':') {
            return Err(Error::Unsupported(format!(
                "cgroupsPath {path:?} looks like a systemd slice; the systemd cgroup driver is not supported"
            )));
        }
        let manager = FsManager::new(path).map_err(|e| cg_err("open", path, e))?;
        Ok(Self {
            manager,
            path: path.to_string(),
        })
    }

    /// Creates the cgroup (in every hierarchy, cpuset copied from the
    /// parent) without putting any process in it.
    pub fn create(path: &str) -> Result<Self> {
        let hierarchy = cgroups_rs::fs::hierarchies::auto();
        cgroups_rs::fs::Cgroup::new(hierarchy, path).map_err(|e| cg_err("create", path, e))?;
        Self::open(path)
    }

    /// On cgroup v1, the `tasks` file of every hierarchy: a single-threaded
    /// process that writes `0` to them moves itself without taking the
    /// kernel's global threadgroup lock, whose first use waits for an RCU
    /// grace period (~10 ms). `None` on v2, where the runtime attaches.
    pub fn self_attach_files(&self) -> Option<Vec<PathBuf>> {
        if self.manager.v2() {
            return None;
        }
        let mut files: Vec<PathBuf> = self
            .manager
            .mounts()
            .values()
            .map(|m| Path::new(m).join(&self.path).join("tasks"))
            .filter(|f| f.exists())
            .collect();
        files.sort();
        files.dedup();
        Some(files)
    }

    /// The path relative to each hierarchy root.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Moves `pid` into the cgroup, creating the cgroup first if needed.
    pub fn add_process(&mut self, pid: i32) -> Result<()> {
        self.manager
            .add_proc(CgroupPid::from(pid as u64))
            .map_err(|e| cg_err("add process to", &self.path, e))
    }

    /// Applies the spec's resource limits.
    pub fn set_resources(&mut self, resources: &LinuxResources) -> Result<()> {
        self.manager
            .set(resources)
            .map_err(|e| cg_err("set resources of", &self.path, e))
    }

    /// Every process (thread group) in the cgroup.
    pub fn pids(&self) -> Vec<i32> {
        let Some(dir) = self
            .controller_dir("pids")
            .or_else(|| self.controller_dir("memory"))
        else {
            return Vec::new();
        };
        fs::read_to_string(dir.join("cgroup.procs"))
            .map(|s| s.lines().filter_map(|l| l.trim().parse().ok()).collect())
            .unwrap_or_default()
    }

    /// Freezes (pause) or thaws (resume) every process in the cgroup.
    pub fn set_frozen(&self, frozen: bool) -> Result<()> {
        let state = if frozen {
            FreezerState::Frozen
        } else {
            FreezerState::Thawed
        };
        self.manager
            .freeze(state)
            .map_err(|e| cg_err("freeze/thaw", &self.path, e))?;
        if frozen {
            self.wait_frozen()?;
        }
        Ok(())
    }

    /// Waits until the kernel reports every task frozen: writing FROZEN only
    /// starts the freeze (v1 reads FREEZING meanwhile), and a task caught
    /// mid-fork can stall it, so the write is repeated now and then as runc
    /// does. Gives up, thawed again, after about two seconds.
    fn wait_frozen(&self) -> Result<()> {
        for attempt in 1..=200 {
            if self.is_frozen() {
                return Ok(());
            }
            if attempt % 50 == 0 {
                let _ = self.manager.freeze(FreezerState::Thawed);
                let _ = self.manager.freeze(FreezerState::Frozen);
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let _ = self.manager.freeze(FreezerState::Thawed);
        Err(cg_err(
            "freeze",
            &self.path,
            "tasks did not freeze within 2s; thawed again",
        ))
    }

    /// Whether the cgroup is frozen.
    pub fn is_frozen(&self) -> bool {
        if self.manager.v2() {
            let Some(dir) = self.controller_dir("") else {
                return false;
            };
            // cgroup.freeze is the request; cgroup.events says when it is done.
            return fs::read_to_string(dir.join("cgroup.events"))
                .is_ok_and(|s| s.lines().any(|l| l.trim() == "frozen 1"));
        }
        self.controller_dir("freezer").is_some_and(|dir| {
            fs::read_to_string(dir.join("freezer.state")).is_ok_and(|s| s.trim() == "FROZEN")
        })
    }

    /// The directory of one controller (v1) or the unified directory (v2).
    pub fn controller_dir(&self, controller: &str) -> Option<PathBuf> {
        // FsManager::cgroup_path reports the caller's own cgroup, so build the
        // path from the controller's mount point instead.
        let mount = if self.manager.v2() {
            PathBuf::from("/sys/fs/cgroup")
        } else {
            PathBuf::from(self.manager.mounts().get(controller)?)
        };
        let p = mount.join(&self.path);
        p.exists().then_some(p)
    }

    /// Removes the cgroup from every hierarchy. Processes must be gone.
    pub fn destroy(&mut self) -> Result<()> {
        self.manager
            .destroy()
            .map_err(|e| cg_err("remove", &self.path, e))
    }
}

/// The device rules every container gets after the spec's own, as runc
/// appends them: mknod of anything, the standard devices, ptys, tun.
const ALLOWED_DEVICES: &[(LinuxDeviceType, Option<i64>, Option<i64>, &str)] = &[
    (LinuxDeviceType::C, None, None, "m"),
    (LinuxDeviceType::B, None, None, "m"),
    (LinuxDeviceType::C, Some(1), Some(3), "rwm"),
    (LinuxDeviceType::C, Some(1), Some(5), "rwm"),
    (LinuxDeviceType::C, Some(1), Some(7), "rwm"),
    (LinuxDeviceType::C, Some(1), Some(8), "rwm"),
    (LinuxDeviceType::C, Some(1), Some(9), "rwm"),
    (LinuxDeviceType::C, Some(5), Some(0), "rwm"),
    (LinuxDeviceType::C, Some(5), Some(1), "rwm"),
    (LinuxDeviceType::C, Some(5), Some(2), "rwm"),
    (LinuxDeviceType::C, Some(136), None, "rwm"),
    (LinuxDeviceType::C, Some(10), Some(200), "rwm"),
];

fn allow_rule(
    typ: LinuxDeviceType,
    major: Option<i64>,
    minor: Option<i64>,
    access: &str,
) -> LinuxDeviceCgroup {
    let mut b = LinuxDeviceCgroupBuilder::default()
        .allow(true)
        .typ(typ)
        .access(access);
    if let Some(m) = major {
        b = b.major(m);
    }
    if let Some(m) = minor {
        b = b.minor(m);
    }
    b.build().expect("every field of a device rule is set")
}

/// The spec's resources with the default device rules and one allow rule
/// per `linux.devices` entry appended (what runc's specconv does).
pub fn effective_resources(
    resources: Option<&LinuxResources>,
    devices: &[LinuxDevice],
) -> LinuxResources {
    let mut res = resources.cloned().unwrap_or_default();
    let mut rules = res.devices().clone().unwrap_or_default();
    rules.extend(
        ALLOWED_DEVICES
            .iter()
            .map(|&(t, ma, mi, a)| allow_rule(t, ma, mi, a)),
    );
    rules.extend(
        devices
            .iter()
            .map(|d| allow_rule(d.typ(), Some(d.major()), Some(d.minor()), "rwm")),
    );
    res.set_devices(Some(rules));
    res
}

/// Moves the calling thread into a cgroup through [`Cgroup::self_attach_files`].
/// Only for a single-threaded process (a container's init before exec).
pub fn attach_self(tasks_files: &[PathBuf]) -> Result<()> {
    for f in tasks_files {
        fs::write(f, "0").map_err(|e| cg_err("join", &f.to_string_lossy(), e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_path_is_under_berth() {
        assert_eq!(resolve_path(None, "abc"), "berth/abc");
        assert_eq!(resolve_path(Some(Path::new("")), "abc"), "berth/abc");
        assert_eq!(resolve_path(Some(Path::new("/x/y")), "abc"), "x/y");
        assert_eq!(resolve_path(Some(Path::new("x/y/")), "abc"), "x/y");
    }
}
