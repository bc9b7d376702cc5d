//! Networks as kept on disk: one JSON record per network under
//! `<data root>/network/networks/<id>.json`, written atomically (temp file,
//! fsync, rename) so a crash leaves the old record or the new one.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{NetworkError, Result};
use crate::ipam::Pool;

/// The `bridge` driver.
pub const DRIVER_BRIDGE: &str = "bridge";
/// The `host` driver: the host's own namespace.
pub const DRIVER_HOST: &str = "host";
/// The `null` driver: only a loopback.
pub const DRIVER_NULL: &str = "null";

/// One network's configuration and address leases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkRecord {
    /// 64 hex characters.
    pub id: String,
    /// The unique name (`bridge`, `host`, `none`, or the user's).
    pub name: String,
    /// `bridge`, `host` or `null`.
    pub driver: String,
    /// When it was created (RFC 3339).
    pub created: String,
    /// No traffic in or out of the network (`--internal`).
    #[serde(default)]
    pub internal: bool,
    /// `--attachable` (kept for inspect; every local network is attachable).
    #[serde(default)]
    pub attachable: bool,
    /// `--label`s.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Driver options (`-o`).
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// The Linux bridge's name (bridge driver only).
    #[serde(default)]
    pub bridge: String,
    /// The MTU of the bridge and its veths.
    #[serde(default)]
    pub mtu: Option<u32>,
    /// The address pool and its leases (bridge driver only).
    #[serde(default)]
    pub pool: Option<Pool>,
}

impl NetworkRecord {
    /// Whether this is one of the networks the daemon makes itself.
    pub fn is_predefined(&self) -> bool {
        matches!(self.name.as_str(), "bridge" | "host" | "none")
    }
}

/// The directory of network records.
#[derive(Debug, Clone)]
pub struct NetworkStore {
    dir: PathBuf,
}

impl NetworkStore {
    /// The store at `dir` (created on first save).
    pub fn new(dir: impl Into<PathBuf>) -> NetworkStore {
        NetworkStore { dir: dir.into() }
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Every record; unreadable files are skipped with a warning.
    pub fn load_all(&self) -> Result<Vec<NetworkRecord>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(NetworkError::io(
                    format!("reading {}", self.dir.display()),
                    e,
                ))
            }
        };
        let mut out = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            match std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| {
                    serde_json::from_slice::<NetworkRecord>(&b).map_err(|e| e.to_string())
                }) {
                Ok(r) => out.push(r),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "skipping a bad network record")
                }
            }
        }
        Ok(out)
    }

    /// Writes `record` atomically.
    pub fn save(&self, record: &NetworkRecord) -> Result<()> {
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| NetworkError::io(format!("creating {}", self.dir.display()), e))?;
        let bytes = serde_json::to_vec(record)
            .map_err(|e| NetworkError::System(format!("encoding network {}: {e}", record.name)))?;
        write_atomic(&self.path(&record.id), &bytes)
    }

    /// Deletes the record of `id` (missing is fine).
    pub fn delete(&self, id: &str) -> Result<()> {
        match std::fs::remove_file(self.path(id)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(NetworkError::io(format!("removing network {id}"), e)),
        }
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("json.tmp");
    let io = |e| NetworkError::io(format!("writing {}", path.display()), e);
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_load_delete() {
        let dir = tempfile::tempdir().unwrap();
        let store = NetworkStore::new(dir.path().join("networks"));
        assert!(store.load_all().unwrap().is_empty());
        let rec = NetworkRecord {
            id: "a".repeat(64),
            name: "n1".into(),
            driver: DRIVER_BRIDGE.into(),
            created: "2026-01-01T00:00:00Z".into(),
            internal: true,
            attachable: false,
            labels: [("k".to_string(), "v".to_string())].into(),
            options: BTreeMap::new(),
            bridge: "berth-aaaa".into(),
            mtu: Some(1400),
            pool: Some(Pool::new("10.5.0.0/24".parse().unwrap(), None, None).unwrap()),
        };
        store.save(&rec).unwrap();
        std::fs::write(dir.path().join("networks/junk.json"), b"{").unwrap();
        assert_eq!(store.load_all().unwrap(), vec![rec.clone()]);
        store.delete(&rec.id).unwrap();
        store.delete(&rec.id).unwrap();
        assert!(store.load_all().unwrap().is_empty());
    }
}
