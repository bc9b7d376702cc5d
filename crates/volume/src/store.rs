//! The volume store (moby `volume/service`): every volume's name, driver,
//! labels and creation time, and which containers reference it.
//! References are kept in memory only; the daemon rebuilds them from its
//! container records when it opens.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::driver::VolumeDriver;
use crate::error::{Result, VolumeError};
use crate::fsx;
use crate::local::LocalDriver;
use crate::name::{anonymous_name, validate_name};
use crate::usage;

/// The label moby puts on volumes made for `-v /path`, `--mount
/// type=volume` without a source and the image's VOLUMEs; `rm -v`, `--rm`
/// and a default `volume prune` remove only these.
pub const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";

/// What the store knows of one volume.
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeInfo {
    /// The volume's name (64 hex digits for an anonymous one).
    pub name: String,
    /// The driver's name (`local`).
    pub driver: String,
    /// Where its data lives on the host.
    pub mountpoint: PathBuf,
    /// When it was created.
    pub created_at: SystemTime,
    /// User labels, plus [`ANONYMOUS_LABEL`] for anonymous volumes.
    pub labels: BTreeMap<String, String>,
    /// The driver options it was created with.
    pub options: BTreeMap<String, String>,
}

impl VolumeInfo {
    /// Whether the volume was made without a name (carries [`ANONYMOUS_LABEL`]).
    pub fn is_anonymous(&self) -> bool {
        self.labels.contains_key(ANONYMOUS_LABEL)
    }
}

/// A request to create a volume (`POST /volumes/create`, or a container's
/// mount of a volume that does not exist yet).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreateOptions {
    /// The name; `None` or empty makes an anonymous volume with a random
    /// 64-hex name and [`ANONYMOUS_LABEL`].
    pub name: Option<String>,
    /// The driver; `None` or empty means `local`.
    pub driver: Option<String>,
    /// User labels.
    pub labels: BTreeMap<String, String>,
    /// Driver options (`local`: `type`, `device`, `o`).
    pub options: BTreeMap<String, String>,
}

/// The volume store: drivers, metadata under `<root>/_meta/` (a name no
/// volume can have, as names start with an alphanumeric), and in-memory
/// references. Safe to share between threads.
pub struct VolumeStore {
    meta_dir: PathBuf,
    state: Mutex<State>,
}

/// Everything behind the store's lock.
struct State {
    drivers: BTreeMap<String, Arc<dyn VolumeDriver>>,
    volumes: BTreeMap<String, Record>,
    refs: BTreeMap<String, BTreeSet<String>>,
}

/// What the store remembers of a volume beyond its driver's data.
#[derive(Debug, Clone)]
struct Record {
    driver: String,
    labels: BTreeMap<String, String>,
    options: BTreeMap<String, String>,
    created_at: SystemTime,
}

/// `<root>/_meta/<name>.json`.
#[derive(Debug, Serialize, Deserialize)]
struct MetaFile {
    name: String,
    driver: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    options: BTreeMap<String, String>,
    /// RFC 3339 with nanoseconds, UTC.
    created_at: String,
}

/// The directory under the store root holding the metadata files.
const META_DIR: &str = "_meta";

impl VolumeStore {
    /// Opens (creating if needed) the store rooted at `root` (the data
    /// root's `volumes/`), with the local driver keeping data in
    /// `<root>/<name>/_data`. Volumes found on disk without metadata are
    /// adopted with their directory's mtime as creation time.
    pub fn open(root: &Path) -> Result<Self> {
        let local = LocalDriver::open(root)?;
        let meta_dir = root.join(META_DIR);
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&meta_dir)
            .map_err(|e| VolumeError::io(format!("create {}", meta_dir.display()), e))?;
        let mut drivers: BTreeMap<String, Arc<dyn VolumeDriver>> = BTreeMap::new();
        drivers.insert(local.name().to_owned(), Arc::new(local));
        let store = VolumeStore {
            meta_dir,
            state: Mutex::new(State {
                drivers,
                volumes: BTreeMap::new(),
                refs: BTreeMap::new(),
            }),
        };
        {
            let mut st = store.lock();
            store.load_meta(&mut st)?;
            store.adopt_all(&mut st)?;
        }
        Ok(store)
    }

    /// Adds a driver next to `local`, for tests of driver conflicts.
    #[cfg(test)]
    pub(crate) fn register_driver(&self, driver: Arc<dyn VolumeDriver>) {
        self.lock().drivers.insert(driver.name().to_owned(), driver);
    }

    /// Creates a volume, or returns the existing one of that name (as moby
    /// does, ignoring the new labels and options) unless it belongs to
    /// another driver (Conflict). An invalid name is InvalidParameter with
    /// moby's message. With no driver asked for, an existing volume is
    /// returned whatever its driver (moby, for a container's `-v name:/p`).
    pub fn create(&self, opts: CreateOptions) -> Result<VolumeInfo> {
        // moby: with no driver asked for, an existing volume of any driver
        // is the answer; a new one is `local`.
        let asked_driver = opts.driver.filter(|d| !d.is_empty());
        let driver_name = asked_driver.clone().unwrap_or_else(|| "local".to_owned());
        let mut labels = opts.labels;
        let name = match opts.name.filter(|n| !n.is_empty()) {
            Some(name) => name,
            None => {
                labels.insert(ANONYMOUS_LABEL.to_owned(), String::new());
                anonymous_name()
            }
        };
        validate_name(&name)?;
        let mut st = self.lock();
        let Some(driver) = st.drivers.get(&driver_name).cloned() else {
            return Err(VolumeError::NotFound(format!(
                "create {name}: error looking up volume plugin {driver_name}: plugin {driver_name:?} not found"
            )));
        };
        if let Some(rec) = st.volumes.get(&name).cloned() {
            match self.info(&st, &name, &rec) {
                Ok(_) if asked_driver.is_some() && rec.driver != driver_name => {
                    return Err(VolumeError::Conflict(format!(
                        "create {name}: driver '{}' already has volume '{name}': volume name must be unique",
                        rec.driver
                    )));
                }
                Ok(info) => return Ok(info),
                Err(VolumeError::NotFound(_))
                    if st.refs.get(&name).is_some_and(|r| !r.is_empty()) =>
                {
                    return Err(VolumeError::Conflict(format!(
                        "create {name}: found references to volume '{name}' in driver '{}' but the volume was not found in the driver -- you may need to remove containers referencing this volume or force remove the volume to re-create it",
                        rec.driver
                    )));
                }
                Err(VolumeError::NotFound(_)) => self.purge(&mut st, &name),
                Err(e) => return Err(e),
            }
        }
        // A volume the driver has but we have no record of (made behind our
        // back since open) is taken over rather than created again.
        let (options, made) = match driver.path(&name) {
            Ok(_) => (
                driver
                    .options(&name)
                    .map_err(|e| wrap("create", &name, e))?,
                false,
            ),
            Err(VolumeError::NotFound(_)) => {
                driver
                    .create(&name, &opts.options)
                    .map_err(|e| wrap("create", &name, e))?;
                (opts.options, true)
            }
            Err(e) => return Err(wrap("create", &name, e)),
        };
        let rec = Record {
            driver: driver_name,
            labels,
            options,
            created_at: SystemTime::now(),
        };
        let saved = self
            .write_meta(&name, &rec)
            .and_then(|()| self.info(&st, &name, &rec));
        match saved {
            Ok(info) => {
                st.volumes.insert(name, rec);
                Ok(info)
            }
            Err(e) => {
                // No half-created volume: undo what the driver made.
                if made {
                    if let Err(undo) = driver.remove(&name) {
                        tracing::warn!(volume = %name, error = %undo, "cannot undo a failed volume create");
                    }
                }
                let _ = std::fs::remove_file(self.meta_path(&name));
                Err(wrap("create", &name, e))
            }
        }
    }

    /// The volume `name`; NotFound `get <name>: no such volume`.
    pub fn get(&self, name: &str) -> Result<VolumeInfo> {
        let mut st = self.lock();
        let Some(rec) = st.volumes.get(name).cloned() else {
            return Err(no_such_volume(name));
        };
        match self.info(&st, name, &rec) {
            Ok(info) => Ok(info),
            Err(VolumeError::NotFound(_)) => {
                // Its data went away behind our back (moby purges too).
                if st.refs.get(name).is_none_or(|r| r.is_empty()) {
                    self.purge(&mut st, name);
                }
                Err(no_such_volume(name))
            }
            Err(e) => Err(wrap("get", name, e)),
        }
    }

    /// Every volume, sorted by name.
    pub fn list(&self) -> Result<Vec<VolumeInfo>> {
        let mut st = self.lock();
        self.adopt_all(&mut st)?;
        let mut out = Vec::with_capacity(st.volumes.len());
        let mut gone = Vec::new();
        for (name, rec) in &st.volumes {
            match self.info(&st, name, rec) {
                Ok(info) => out.push(info),
                Err(VolumeError::NotFound(_)) => gone.push(name.clone()),
                Err(e) => return Err(wrap("list", name, e)),
            }
        }
        for name in gone {
            if st.refs.get(&name).is_none_or(|r| r.is_empty()) {
                self.purge(&mut st, &name);
            }
        }
        Ok(out)
    }

    /// Removes the volume and its data. Conflict `remove <name>: volume is
    /// in use - [<ids>]` while any container references it (`force` does not
    /// override that, as in moby); with `force` a missing volume is not an
    /// error.
    pub fn remove(&self, name: &str, force: bool) -> Result<()> {
        let mut st = self.lock();
        if let Some(refs) = st.refs.get(name).filter(|r| !r.is_empty()) {
            let ids: Vec<&str> = refs.iter().map(String::as_str).collect();
            return Err(VolumeError::Conflict(format!(
                "remove {name}: volume is in use - [{}]",
                ids.join(", ")
            )));
        }
        let Some(rec) = st.volumes.get(name).cloned() else {
            return if force {
                Ok(())
            } else {
                Err(no_such_volume(name))
            };
        };
        if let Some(driver) = st.drivers.get(&rec.driver).cloned() {
            match driver.remove(name) {
                Ok(()) | Err(VolumeError::NotFound(_)) => {}
                Err(e) => return Err(wrap("remove", name, e)),
            }
        }
        self.purge(&mut st, name);
        Ok(())
    }

    /// Records that container `ref_id` uses the volume (from create to
    /// remove of the container). NotFound for an unknown volume.
    pub fn add_ref(&self, name: &str, ref_id: &str) -> Result<()> {
        let mut st = self.lock();
        if !st.volumes.contains_key(name) {
            return Err(no_such_volume(name));
        }
        st.refs
            .entry(name.to_owned())
            .or_default()
            .insert(ref_id.to_owned());
        Ok(())
    }

    /// Drops `ref_id`'s reference; unknown ones are ignored.
    pub fn remove_ref(&self, name: &str, ref_id: &str) {
        let mut st = self.lock();
        if let Some(refs) = st.refs.get_mut(name) {
            refs.remove(ref_id);
            if refs.is_empty() {
                st.refs.remove(name);
            }
        }
    }

    /// The containers referencing the volume, sorted.
    pub fn refs(&self, name: &str) -> Vec<String> {
        let st = self.lock();
        st.refs
            .get(name)
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Mounts the volume for a starting container (driver `mount`) and
    /// returns the host path to bind into it.
    pub fn mount(&self, name: &str, ref_id: &str) -> Result<PathBuf> {
        // Not under the store lock: a network mount may take long and
        // must not stall every other volume call.
        let driver = self.driver_of(name)?;
        driver
            .mount(name, ref_id)
            .map_err(|e| not_found_as_get(name, e))
    }

    /// Undoes [`VolumeStore::mount`] when the container stops.
    pub fn unmount(&self, name: &str, ref_id: &str) -> Result<()> {
        let driver = self.driver_of(name)?;
        driver
            .unmount(name, ref_id)
            .map_err(|e| not_found_as_get(name, e))
    }

    /// Bytes used by the volume's data (for `system df -v`), counting each
    /// hard-linked inode once.
    pub fn usage(&self, name: &str) -> Result<u64> {
        let driver = self.driver_of(name)?;
        let path = driver.path(name).map_err(|e| not_found_as_get(name, e))?;
        usage::dir_size(&path)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn driver_of(&self, name: &str) -> Result<Arc<dyn VolumeDriver>> {
        let st = self.lock();
        let rec = st.volumes.get(name).ok_or_else(|| no_such_volume(name))?;
        st.drivers
            .get(&rec.driver)
            .cloned()
            .ok_or_else(|| no_such_volume(name))
    }

    /// The public view of a record; NotFound when its driver no longer has it.
    fn info(&self, st: &State, name: &str, rec: &Record) -> Result<VolumeInfo> {
        let driver = st
            .drivers
            .get(&rec.driver)
            .ok_or_else(|| no_such_volume(name))?;
        Ok(VolumeInfo {
            name: name.to_owned(),
            driver: rec.driver.clone(),
            mountpoint: driver.path(name)?,
            created_at: rec.created_at,
            labels: rec.labels.clone(),
            options: rec.options.clone(),
        })
    }

    /// Forgets a volume: its record, its references and its metadata file.
    fn purge(&self, st: &mut State, name: &str) {
        st.volumes.remove(name);
        st.refs.remove(name);
        match std::fs::remove_file(self.meta_path(name)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(volume = name, error = %e, "cannot remove volume metadata"),
        }
    }

    fn meta_path(&self, name: &str) -> PathBuf {
        self.meta_dir.join(format!("{name}.json"))
    }

    fn write_meta(&self, name: &str, rec: &Record) -> Result<()> {
        let meta = MetaFile {
            name: name.to_owned(),
            driver: rec.driver.clone(),
            labels: rec.labels.clone(),
            options: rec.options.clone(),
            created_at: humantime::format_rfc3339_nanos(rec.created_at).to_string(),
        };
        let json = serde_json::to_vec_pretty(&meta)
            .map_err(|e| VolumeError::System(format!("encode volume metadata: {e}")))?;
        fsx::write_atomic(&self.meta_path(name), &json, 0o600)
    }

    /// Reads `_meta/`, keeping the records whose volume its driver still
    /// has; the rest (and temporary files of an interrupted write) go.
    fn load_meta(&self, st: &mut State) -> Result<()> {
        let rd = std::fs::read_dir(&self.meta_dir)
            .map_err(|e| VolumeError::io(format!("read {}", self.meta_dir.display()), e))?;
        for entry in rd.flatten() {
            let path = entry.path();
            let file_name = entry.file_name().to_string_lossy().into_owned();
            if file_name.starts_with('.') && file_name.ends_with(".tmp") {
                let _ = std::fs::remove_file(&path);
                continue;
            }
            let Some(name) = file_name.strip_suffix(".json") else {
                continue;
            };
            let meta = match std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|d| serde_json::from_slice::<MetaFile>(&d).map_err(|e| e.to_string()))
            {
                Ok(m) if m.name == name => m,
                Ok(_) | Err(_) => {
                    // Re-made from the volume directory by the adoption below.
                    tracing::warn!(path = %path.display(), "ignoring unreadable volume metadata");
                    continue;
                }
            };
            let keep = st
                .drivers
                .get(&meta.driver)
                .is_some_and(|d| d.path(name).is_ok());
            if !keep {
                tracing::info!(volume = name, driver = %meta.driver, "dropping metadata of a volume that is gone");
                let _ = std::fs::remove_file(&path);
                continue;
            }
            let created_at = humantime::parse_rfc3339(&meta.created_at).unwrap_or_else(|_| {
                tracing::warn!(volume = name, "bad created_at in volume metadata");
                SystemTime::UNIX_EPOCH
            });
            st.volumes.insert(
                name.to_owned(),
                Record {
                    driver: meta.driver,
                    labels: meta.labels,
                    options: meta.options,
                    created_at,
                },
            );
        }
        Ok(())
    }

    /// Takes in every volume a driver holds that has no record (left by an
    /// older daemon, or made by hand), dated by its directory's mtime.
    fn adopt_all(&self, st: &mut State) -> Result<()> {
        let drivers: Vec<_> = st.drivers.values().cloned().collect();
        for driver in drivers {
            for name in driver.list()? {
                if st.volumes.contains_key(&name) {
                    continue;
                }
                let Ok(data) = driver.path(&name) else {
                    continue;
                };
                let dir = data.parent().unwrap_or(&data);
                let created_at = std::fs::symlink_metadata(dir)
                    .and_then(|m| m.modified())
                    .unwrap_or_else(|_| SystemTime::now());
                let rec = Record {
                    driver: driver.name().to_owned(),
                    labels: BTreeMap::new(),
                    options: driver.options(&name).unwrap_or_default(),
                    created_at,
                };
                self.write_meta(&name, &rec)?;
                st.volumes.insert(name, rec);
            }
        }
        Ok(())
    }
}

/// moby's `OpErr` text for an error of `op` on `name`, keeping its kind.
fn wrap(op: &str, name: &str, e: VolumeError) -> VolumeError {
    let msg = format!("{op} {name}: {e}");
    match e {
        VolumeError::InvalidParameter(_) => VolumeError::InvalidParameter(msg),
        VolumeError::NotFound(_) => VolumeError::NotFound(msg),
        VolumeError::Conflict(_) => VolumeError::Conflict(msg),
        VolumeError::System(_) => VolumeError::System(msg),
    }
}

fn no_such_volume(name: &str) -> VolumeError {
    VolumeError::NotFound(format!("get {name}: no such volume"))
}

/// A driver's NotFound shown as the store's; other errors as they are.
fn not_found_as_get(name: &str, e: VolumeError) -> VolumeError {
    match e {
        VolumeError::NotFound(_) => no_such_volume(name),
        e => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A second driver that keeps its volumes in memory, so the store's
    /// handling of two drivers can be tested.
    struct FakeDriver(Mutex<BTreeSet<String>>);

    impl VolumeDriver for FakeDriver {
        fn name(&self) -> &str {
            "fake"
        }
        fn create(&self, name: &str, _: &BTreeMap<String, String>) -> Result<PathBuf> {
            self.0.lock().unwrap().insert(name.to_owned());
            self.path(name)
        }
        fn remove(&self, name: &str) -> Result<()> {
            match self.0.lock().unwrap().remove(name) {
                true => Ok(()),
                false => Err(VolumeError::NotFound(name.to_owned())),
            }
        }
        fn list(&self) -> Result<Vec<String>> {
            Ok(self.0.lock().unwrap().iter().cloned().collect())
        }
        fn path(&self, name: &str) -> Result<PathBuf> {
            match self.0.lock().unwrap().contains(name) {
                true => Ok(PathBuf::from("/fake").join(name)),
                false => Err(VolumeError::NotFound(name.to_owned())),
            }
        }
        fn options(&self, _: &str) -> Result<BTreeMap<String, String>> {
            Ok(BTreeMap::new())
        }
        fn mount(&self, name: &str, _: &str) -> Result<PathBuf> {
            self.path(name)
        }
        fn unmount(&self, _: &str, _: &str) -> Result<()> {
            Ok(())
        }
    }

    fn create(store: &VolumeStore, name: &str, driver: &str) -> Result<VolumeInfo> {
        store.create(CreateOptions {
            name: Some(name.into()),
            driver: Some(driver.into()),
            ..Default::default()
        })
    }

    #[test]
    fn the_store_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<VolumeStore>();
        shareable::<LocalDriver>();
    }

    #[test]
    fn a_name_taken_by_another_driver_is_a_conflict() {
        let root = tempfile::tempdir().unwrap();
        let store = VolumeStore::open(root.path()).unwrap();
        store.register_driver(Arc::new(FakeDriver(Mutex::new(BTreeSet::new()))));

        create(&store, "both", "local").unwrap();
        let err = create(&store, "both", "fake").unwrap_err();
        assert!(matches!(err, VolumeError::Conflict(_)), "{err:?}");
        assert_eq!(
            err.to_string(),
            "create both: driver 'local' already has volume 'both': volume name must be unique"
        );

        let fake = create(&store, "other", "fake").unwrap();
        assert_eq!(fake.driver, "fake");
        assert_eq!(fake.mountpoint, PathBuf::from("/fake/other"));
        let err = create(&store, "other", "local").unwrap_err();
        assert_eq!(
            err.to_string(),
            "create other: driver 'fake' already has volume 'other': volume name must be unique"
        );
        // No driver given (a container's `-v other:/x`): the existing
        // volume, whatever its driver.
        let found = store.create(CreateOptions {
            name: Some("other".into()),
            ..Default::default()
        });
        assert_eq!(found.unwrap(), fake);
        let names: Vec<_> = store
            .list()
            .unwrap()
            .into_iter()
            .map(|v| (v.name, v.driver))
            .collect();
        assert_eq!(
            names,
            vec![
                ("both".into(), "local".into()),
                ("other".into(), "fake".into())
            ]
        );
        store.remove("other", false).unwrap();
        assert!(store.get("other").is_err());
    }
}
