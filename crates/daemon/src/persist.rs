//! On-disk container state: `containers/<id>/config.v2.json` and
//! `hostconfig.json`, written atomically (temp file, fsync, rename, fsync of
//! the directory) so a crash leaves the old or the new file, never a torn one.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{de::DeserializeOwned, Serialize};

use crate::config::{Config, HostConfig};
use crate::error::{DaemonError, Result};
use crate::ids::is_full_id;

/// The file name of a container's main config (moby's `config.v2.json`).
pub const CONFIG_FILE: &str = "config.v2.json";
/// The file name of a container's host config.
pub const HOSTCONFIG_FILE: &str = "hostconfig.json";

/// What `config.v2.json` holds so far: identity and the container `Config`.
/// (moby's file also carries State, network settings, mount points...; the
/// state machine will add them.)
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ContainerRecord {
    /// The full ID.
    #[serde(rename = "ID")]
    pub id: String,
    /// The canonical name (`/name`).
    #[serde(rename = "Name")]
    pub name: String,
    /// Creation time, RFC 3339.
    #[serde(rename = "Created")]
    pub created: String,
    /// The image ID (`sha256:...`) the container was created from.
    #[serde(rename = "Image")]
    pub image: String,
    /// The container configuration.
    #[serde(rename = "Config")]
    pub config: Config,
    /// The run state (Docker keeps it in `config.v2.json` too).
    #[serde(rename = "State", default)]
    pub state: crate::daemon::State,
    /// How many times a restart policy restarted it.
    #[serde(rename = "RestartCount", default)]
    pub restart_count: u32,
    /// Stopped by the user (`unless-stopped` then keeps it down).
    #[serde(rename = "HasBeenManuallyStopped", default)]
    pub manually_stopped: bool,
    /// The networks asked for and, while running, the endpoints on them.
    #[serde(rename = "NetworkSettings", default)]
    pub network_settings: berth_api::types::container::NetworkSettings,
    /// The container's binds and volumes, keyed by destination.
    #[serde(rename = "MountPoints", default)]
    pub mount_points: crate::daemon::mounts::MountPoints,
}

/// `<data root>/containers/<id>`, refusing an `id` that is not a full
/// 64-hex ID (so a caller cannot escape the containers directory).
pub fn container_dir(data_root: &Path, id: &str) -> Result<PathBuf> {
    if !is_full_id(id) {
        return Err(DaemonError::invalid(format!(
            "invalid container ID: {id:?}"
        )));
    }
    Ok(data_root.join("containers").join(id))
}

/// Writes `bytes` to `path` atomically and durably: a temp file in the
/// same directory, fsync, rename over `path`, fsync of the directory. On
/// failure the temp file is removed. For the container's own state, which
/// a crash must not tear or lose.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    replace_file(path, bytes, true)
}

/// Writes `bytes` to `path` atomically (a reader sees the old or the new
/// file, never a torn one) but without fsync: for files rebuilt on every
/// start (the OCI bundle, /etc/hostname, hosts, resolv.conf), where a crash
/// loses nothing that is not written again, and each fsync costs a `run`.
pub fn write_replace(path: &Path, bytes: &[u8]) -> Result<()> {
    replace_file(path, bytes, false)
}

fn replace_file(path: &Path, bytes: &[u8], durable: bool) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| DaemonError::System(format!("{} has no parent", path.display())))?;
    let name = path
        .file_name()
        .ok_or_else(|| DaemonError::System(format!("{} has no file name", path.display())))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        crate::ids::random_u64()
    ));
    let result = (|| -> std::io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        if durable {
            f.sync_all()?;
        }
        drop(f);
        fs::rename(&tmp, path)?;
        if durable {
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(DaemonError::io(format!("writing {}", path.display()), e));
    }
    Ok(())
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let bytes = serde_json::to_vec(value)
        .map_err(|e| DaemonError::System(format!("encoding {}: {e}", path.display())))?;
    write_atomic(path, &bytes)
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = fs::read(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            DaemonError::NotFound(format!("{} does not exist", path.display()))
        } else {
            DaemonError::io(format!("reading {}", path.display()), e)
        }
    })?;
    let de = &mut serde_json::Deserializer::from_slice(&bytes);
    serde_path_to_error::deserialize(de)
        .map_err(|e| DaemonError::System(format!("corrupt {}: {e}", path.display())))
}

/// Writes `config.v2.json` and `hostconfig.json` into the container's
/// directory (created with mode 0700 if missing). Returns the directory.
pub fn save(
    data_root: &Path,
    record: &ContainerRecord,
    host_config: &HostConfig,
) -> Result<PathBuf> {
    let dir = container_dir(data_root, &record.id)?;
    create_private_dir(&dir)?;
    write_json(&dir.join(CONFIG_FILE), record)?;
    write_json(&dir.join(HOSTCONFIG_FILE), host_config)?;
    Ok(dir)
}

/// Reads a container's `config.v2.json` and `hostconfig.json` back.
/// A missing file is NotFound; a corrupt one is System.
pub fn load(data_root: &Path, id: &str) -> Result<(ContainerRecord, HostConfig)> {
    let dir = container_dir(data_root, id)?;
    let record: ContainerRecord = read_json(&dir.join(CONFIG_FILE))?;
    let host: HostConfig = read_json(&dir.join(HOSTCONFIG_FILE))?;
    Ok((record, host))
}

/// The IDs of every container directory under `<data root>/containers`
/// (entries that are not full IDs are skipped).
pub fn list_ids(data_root: &Path) -> Result<Vec<String>> {
    let dir = data_root.join("containers");
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(DaemonError::io(format!("reading {}", dir.display()), e)),
    };
    let mut ids: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| is_full_id(n))
        .collect();
    ids.sort();
    Ok(ids)
}

fn create_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| DaemonError::io(format!("creating {}", dir.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::StrSlice;

    fn record() -> (ContainerRecord, HostConfig) {
        let id = "ab".repeat(32);
        let rec = ContainerRecord {
            id,
            name: "/web".into(),
            created: "2026-01-01T00:00:00Z".into(),
            image: format!("sha256:{}", "cd".repeat(32)),
            config: Config {
                image: "busybox".into(),
                cmd: Some(StrSlice(vec!["sh".into()])),
                env: Some(vec!["A=1".into()]),
                ..Default::default()
            },
            ..Default::default()
        };
        let host = HostConfig {
            memory: 1 << 20,
            privileged: true,
            binds: Some(vec!["/a:/b".into()]),
            ..Default::default()
        };
        (rec, host)
    }

    #[test]
    fn round_trip_leaves_no_temp_files() {
        let root = tempfile::tempdir().unwrap();
        let (rec, host) = record();
        let dir = save(root.path(), &rec, &host).unwrap();
        // Overwrite once more: the rename path over an existing file.
        save(root.path(), &rec, &host).unwrap();
        let (rec2, host2) = load(root.path(), &rec.id).unwrap();
        assert_eq!(rec2, rec);
        assert_eq!(host2, host);
        let mut names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, [CONFIG_FILE, HOSTCONFIG_FILE]);
        assert_eq!(list_ids(root.path()).unwrap(), vec![rec.id.clone()]);
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }

    #[test]
    fn errors() {
        let root = tempfile::tempdir().unwrap();
        assert!(matches!(
            container_dir(root.path(), "../etc"),
            Err(DaemonError::InvalidParameter(_))
        ));
        let id = "ef".repeat(32);
        assert!(matches!(
            load(root.path(), &id),
            Err(DaemonError::NotFound(_))
        ));
        let dir = container_dir(root.path(), &id).unwrap();
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(CONFIG_FILE), b"{\"ID\": 3}").unwrap();
        assert!(matches!(
            load(root.path(), &id),
            Err(DaemonError::System(_))
        ));
        assert!(list_ids(&root.path().join("nope")).unwrap().is_empty());
    }
}
