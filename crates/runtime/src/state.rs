//! What the runtime remembers about a container between commands, and how
//! its status is derived from the live system.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use oci_spec::runtime::Spec;
use serde::{Deserialize, Serialize};

use crate::error::{Context, Error, Result};

/// The file name of the persisted state inside a container's state dir.
const STATE_FILE: &str = "state.json";
/// The FIFO the init blocks on until `start` (runc's `exec.fifo`).
pub const EXEC_FIFO: &str = "exec.fifo";

/// A container's status as the OCI runtime spec names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The init is being set up.
    Creating,
    /// The init is set up and waits for `start`.
    Created,
    /// The user's process runs.
    Running,
    /// Every process is frozen.
    Paused,
    /// The init has exited.
    Stopped,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        };
        f.write_str(s)
    }
}

/// The runtime's record of one container, kept in `<root>/<id>/state.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerState {
    /// The container id.
    pub id: String,
    /// The init's pid in the runtime's pid namespace.
    pub pid: i32,
    /// The init's start time (clock ticks since boot), to detect pid reuse.
    pub pid_start_time: u64,
    /// Absolute path of the bundle.
    pub bundle: PathBuf,
    /// Absolute path of the rootfs.
    pub rootfs: PathBuf,
    /// When the container was created, RFC 3339.
    pub created: String,
    /// The cgroup path below each hierarchy root.
    pub cgroup_path: String,
    /// The spec the container was created from, so later commands (exec,
    /// delete's poststop hooks) work even if the bundle has changed.
    pub config: Spec,
}

/// The state JSON the OCI spec (and runc's `state`) prints.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OciState {
    /// The OCI spec version of the container's config.
    pub oci_version: String,
    /// The container id.
    pub id: String,
    /// The init's pid, 0 once stopped.
    pub pid: i32,
    /// The current status.
    pub status: Status,
    /// Absolute path of the bundle.
    pub bundle: PathBuf,
    /// Absolute path of the rootfs.
    pub rootfs: PathBuf,
    /// Creation time, RFC 3339.
    pub created: String,
    /// The owner of the container (empty for root, as runc prints it).
    pub owner: String,
    /// The config's annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl ContainerState {
    /// The container's state dir under the runtime root.
    pub fn dir(root: &Path, id: &str) -> PathBuf {
        root.join(id)
    }

    /// Reads the state of `id` under `root`.
    pub fn load(root: &Path, id: &str) -> Result<Self> {
        let path = Self::dir(root, id).join(STATE_FILE);
        let data = match fs::read(&path) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NotFound(id.to_string()))
            }
            Err(e) => return Err(e).context_with(|| format!("read {}", path.display())),
        };
        serde_json::from_slice(&data)
            .map_err(|e| Error::Spec(format!("corrupt state file {}: {e}", path.display())))
    }

    /// Writes the state atomically: temp file, rename.
    pub fn save(&self, root: &Path) -> Result<()> {
        let dir = Self::dir(root, &self.id);
        let data = serde_json::to_vec(self).map_err(|e| Error::Spec(e.to_string()))?;
        write_atomic(&dir.join(STATE_FILE), &data)
    }

    /// The status derived from the live system.
    pub fn status(&self, root: &Path) -> Status {
        if !process_alive(self.pid, self.pid_start_time) {
            return Status::Stopped;
        }
        if Self::dir(root, &self.id).join(EXEC_FIFO).exists() {
            return Status::Created;
        }
        let frozen = crate::cgroups::Cgroup::open(&self.cgroup_path)
            .map(|c| c.is_frozen())
            .unwrap_or(false);
        if frozen {
            Status::Paused
        } else {
            Status::Running
        }
    }

    /// The OCI state document for this container.
    pub fn oci_state(&self, root: &Path) -> OciState {
        let mut st = self.oci_state_with(self.status(root));
        if st.status == Status::Stopped {
            st.pid = 0;
        }
        st
    }

    /// The OCI state with a given status (for hooks run during a transition).
    pub fn oci_state_with(&self, status: Status) -> OciState {
        OciState {
            oci_version: self.config.version().clone(),
            id: self.id.clone(),
            pid: self.pid,
            status,
            bundle: self.bundle.clone(),
            rootfs: self.rootfs.clone(),
            created: self.created.clone(),
            owner: String::new(),
            annotations: self
                .config
                .annotations()
                .clone()
                .unwrap_or_default()
                .into_iter()
                .collect(),
        }
    }
}

/// Writes `data` to `path` so that a crash of any process leaves the old
/// or the new file (temp file, rename). No fsync, as runc: this is run-time
/// state under the state root (`/run`), which a machine crash makes moot
/// along with the processes it describes, and a process crash cannot tear.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = fs::File::create(&tmp).context_with(|| format!("create {}", tmp.display()))?;
    f.write_all(data)
        .context_with(|| format!("write {}", tmp.display()))?;
    fs::rename(&tmp, path).context_with(|| format!("rename to {}", path.display()))
}

/// Reads a process's state letter and start time from `/proc/<pid>/stat`.
pub fn proc_stat(pid: i32) -> Option<(char, u64)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces or parens: parse after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    // starttime is field 22 overall, i.e. the 20th after the state.
    let start = fields.nth(18)?.parse().ok()?;
    Some((state, start))
}

/// Whether `pid` is the same live (non-zombie) process that started at `start_time`.
pub fn process_alive(pid: i32, start_time: u64) -> bool {
    match proc_stat(pid) {
        Some((state, start)) => start == start_time && state != 'Z' && state != 'X',
        None => false,
    }
}

/// The current time as RFC 3339 with nanoseconds, as runc prints `created`.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_nanos(SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_is_alive_and_reuse_is_detected() {
        let pid = std::process::id() as i32;
        let (state, start) = proc_stat(pid).unwrap();
        assert_ne!(state, 'Z');
        assert!(process_alive(pid, start));
        assert!(!process_alive(pid, start + 1));
        assert!(!process_alive(i32::MAX, 0));
    }

    #[test]
    fn atomic_write_replaces_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert!(!p.with_extension("tmp").exists());
    }
}
