//! The `local` driver (moby `volume/local`): a directory per volume,
//! `<root>/<name>/_data`, optionally mounted from a device with the
//! `type`, `device` and `o` options (`--opt type=tmpfs --opt device=tmpfs
//! --opt o=size=64m`), with the options kept in `<root>/<name>/opts.json`.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use nix::errno::Errno;
use nix::mount::{mount, umount2, MntFlags};

use crate::driver::VolumeDriver;
use crate::error::{Result, VolumeError};
use crate::fsx;
use crate::mountopts;
use crate::name;

/// Where a volume's data lives inside its directory (moby's name, so a
/// moby volumes directory reads the same).
const DATA_DIR: &str = "_data";
/// The options file inside a volume's directory, present only when options
/// were given.
const OPTS_FILE: &str = "opts.json";
/// Prefix of a volume directory being deleted: renamed first so a removal
/// that fails half way leaves no half-volume in the list; swept on open.
const REMOVING_PREFIX: &str = "_removing.";
/// The options the local driver understands (moby's Linux set minus `size`,
/// which needs project quotas Berth does not manage).
const VALID_OPTS: [&str; 3] = ["type", "device", "o"];

/// The local driver over one root directory.
pub struct LocalDriver {
    root: PathBuf,
    volumes: Mutex<BTreeMap<String, LocalVolume>>,
}

/// What the driver keeps per volume in memory.
#[derive(Debug, Default)]
struct LocalVolume {
    opts: BTreeMap<String, String>,
    /// Containers currently using the mount (a set, so a repeated mount or
    /// unmount for one container is harmless).
    refs: BTreeSet<String>,
    /// Whether `_data` carries our mount now.
    mounted: bool,
}

impl LocalVolume {
    /// moby `needsMount`: a device or a type means `_data` is a mountpoint.
    fn needs_mount(&self) -> bool {
        self.opts.get("type").is_some_and(|v| !v.is_empty())
            || self.opts.get("device").is_some_and(|v| !v.is_empty())
    }
}

impl LocalDriver {
    /// The driver keeping volumes under `root` (created if missing).
    pub fn open(root: &Path) -> Result<Self> {
        if !root.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o701)
                .create(root)
                .map_err(|e| VolumeError::io(format!("create {}", root.display()), e))?;
        }
        // Canonical, so mountinfo (which shows real paths) can be matched.
        let root = std::fs::canonicalize(root)
            .map_err(|e| VolumeError::io(format!("resolve {}", root.display()), e))?;
        let driver = LocalDriver {
            root,
            volumes: Mutex::new(BTreeMap::new()),
        };
        driver.sweep_removing();
        let mut volumes = driver.lock();
        for name in driver.scan()? {
            let vol = driver.load(&name)?;
            volumes.insert(name, vol);
        }
        drop(volumes);
        Ok(driver)
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, LocalVolume>> {
        self.volumes.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn volume_dir(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    fn data_dir(&self, name: &str) -> PathBuf {
        self.root.join(name).join(DATA_DIR)
    }

    /// Names of the volume directories on disk: a valid volume name holding
    /// a real `_data` directory (so `_meta`, leftovers and stray files are
    /// skipped).
    fn scan(&self) -> Result<Vec<String>> {
        let rd = std::fs::read_dir(&self.root)
            .map_err(|e| VolumeError::io(format!("read {}", self.root.display()), e))?;
        let mut names = Vec::new();
        for entry in rd {
            let entry =
                entry.map_err(|e| VolumeError::io(format!("read {}", self.root.display()), e))?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if name::is_valid(&name) && self.on_disk(&name) {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    /// Whether `<root>/<name>/_data` is a directory (no symlink followed).
    fn on_disk(&self, name: &str) -> bool {
        let dir_ok = std::fs::symlink_metadata(self.volume_dir(name)).is_ok_and(|m| m.is_dir());
        dir_ok && std::fs::symlink_metadata(self.data_dir(name)).is_ok_and(|m| m.is_dir())
    }

    /// Reads a volume's state from disk: its options, and whether a mount
    /// from an earlier run is still on `_data` (moby `restoreIfMounted`),
    /// so the last unmount takes it down instead of mounting twice.
    fn load(&self, name: &str) -> Result<LocalVolume> {
        let opts_path = self.volume_dir(name).join(OPTS_FILE);
        let opts = match std::fs::read(&opts_path) {
            Ok(data) => serde_json::from_slice(&data).unwrap_or_else(|e| {
                tracing::warn!(volume = name, error = %e, "ignoring unreadable {OPTS_FILE}");
                BTreeMap::new()
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(VolumeError::io(format!("read {}", opts_path.display()), e)),
        };
        let mut vol = LocalVolume {
            opts,
            ..Default::default()
        };
        if vol.needs_mount() {
            vol.mounted = fsx::is_mounted(&self.data_dir(name))?;
        }
        Ok(vol)
    }

    /// The in-memory volume, picking up one created on disk behind our back
    /// and forgetting one whose directory is gone.
    fn lookup<'a>(
        &self,
        volumes: &'a mut BTreeMap<String, LocalVolume>,
        name: &str,
    ) -> Result<&'a mut LocalVolume> {
        if !name::is_valid(name) || !self.on_disk(name) {
            volumes.remove(name);
            return Err(not_found(name));
        }
        if !volumes.contains_key(name) {
            let vol = self.load(name)?;
            volumes.insert(name.to_owned(), vol);
        }
        Ok(volumes.get_mut(name).expect("inserted above"))
    }

    /// Deletes what a failed removal left behind in an earlier run.
    fn sweep_removing(&self) {
        let Ok(rd) = std::fs::read_dir(&self.root) else {
            return;
        };
        for entry in rd.flatten() {
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with(REMOVING_PREFIX)
            {
                if let Err(e) = fsx::remove_tree(&entry.path()) {
                    tracing::warn!(path = %entry.path().display(), error = %e, "cannot remove leftover volume directory");
                }
            }
        }
    }

    /// Mounts `device` on `_data` as the options say.
    fn do_mount(&self, name: &str, vol: &LocalVolume) -> Result<()> {
        let target = self.data_dir(name);
        let fstype = vol.opts.get("type").map(String::as_str).unwrap_or("");
        let device = vol.opts.get("device").map(String::as_str).unwrap_or("");
        if device.is_empty() {
            return Err(VolumeError::System(
                "missing device in volume options".into(),
            ));
        }
        let o = mountopts::parse(vol.opts.get("o").map(String::as_str).unwrap_or(""));
        let data = (!o.data.is_empty()).then_some(o.data.as_str());
        let fstype = (!fstype.is_empty() && !o.is_bind()).then_some(fstype);
        // moby's wording: `mount <dev>:<target>, flags: 0x.., data: ..: <errno>`.
        let mut what = format!("mount {device}:{}", target.display());
        if !o.flags.is_empty() {
            what.push_str(&format!(", flags: {:#x}", o.flags.bits()));
        }
        if let Some(data) = data {
            what.push_str(&format!(", data: {}", hide_password(data)));
        }
        let failed = |e: Errno| {
            VolumeError::System(format!(
                "failed to mount local volume: {what}: {}",
                e.desc().to_lowercase()
            ))
        };
        mount(Some(device), &target, fstype, o.flags, data).map_err(failed)?;
        if o.is_bind() {
            if let Some(flags) = o.bind_remount_flags() {
                if let Err(e) = mount(None::<&str>, &target, None::<&str>, flags, None::<&str>) {
                    let _ = umount2(&target, MntFlags::MNT_DETACH);
                    return Err(failed(e));
                }
            }
        }
        Ok(())
    }

    /// Takes our mount off `_data`; a mount already gone is fine.
    fn do_unmount(&self, name: &str) -> Result<()> {
        let target = self.data_dir(name);
        match umount2(&target, MntFlags::empty()) {
            Ok(()) => Ok(()),
            Err(Errno::EINVAL) | Err(Errno::ENOENT) if !fsx::is_mounted(&target)? => Ok(()),
            Err(Errno::EBUSY) => umount2(&target, MntFlags::MNT_DETACH)
                .map_err(|e| fsx::sys(format!("unmount {}", target.display()), e)),
            Err(e) => Err(fsx::sys(format!("unmount {}", target.display()), e)),
        }
    }
}

/// `o` with a CIFS `password=` value masked, as moby shows it in errors.
fn hide_password(data: &str) -> String {
    data.split(',')
        .map(|kv| match kv.strip_prefix("password=") {
            Some(_) => "password=********",
            None => kv,
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// moby's checks of local driver options: known keys only, and `type`,
/// `device` and `o` only together with what they need.
fn validate_opts(opts: &BTreeMap<String, String>) -> Result<()> {
    for key in opts.keys() {
        if !VALID_OPTS.contains(&key.as_str()) {
            return Err(VolumeError::InvalidParameter(format!(
                "invalid option: {key:?}"
            )));
        }
    }
    let required: [(&str, &[&str]); 3] = [
        ("type", &["device"]),
        ("device", &["type"]),
        ("o", &["device", "type"]),
    ];
    for (opt, needs) in required {
        if opts.contains_key(opt) {
            if let Some(missing) = needs.iter().find(|n| !opts.contains_key(**n)) {
                return Err(VolumeError::InvalidParameter(format!(
                    "missing required option: {missing:?}"
                )));
            }
        }
    }
    Ok(())
}

fn not_found(name: &str) -> VolumeError {
    VolumeError::NotFound(format!("no such volume: {name}"))
}

impl VolumeDriver for LocalDriver {
    fn name(&self) -> &str {
        "local"
    }

    fn create(&self, name: &str, opts: &BTreeMap<String, String>) -> Result<PathBuf> {
        name::validate_name(name)?;
        validate_opts(opts)?;
        let mut volumes = self.lock();
        let dir = self.volume_dir(name);
        if volumes.contains_key(name) || std::fs::symlink_metadata(&dir).is_ok() {
            return Err(VolumeError::Conflict(format!(
                "volume already exists under {}",
                dir.display()
            )));
        }
        let made = (|| -> Result<()> {
            std::fs::DirBuilder::new()
                .mode(0o701)
                .create(&dir)
                .map_err(|e| VolumeError::io(format!("create {}", dir.display()), e))?;
            // Explicit modes: the daemon's umask must not change them.
            std::fs::set_permissions(&dir, PermissionsExt::from_mode(0o701))
                .map_err(|e| VolumeError::io(format!("chmod {}", dir.display()), e))?;
            let data = dir.join(DATA_DIR);
            std::fs::DirBuilder::new()
                .mode(0o755)
                .create(&data)
                .map_err(|e| VolumeError::io(format!("create {}", data.display()), e))?;
            std::fs::set_permissions(&data, PermissionsExt::from_mode(0o755))
                .map_err(|e| VolumeError::io(format!("chmod {}", data.display()), e))?;
            if !opts.is_empty() {
                let json = serde_json::to_vec(opts)
                    .map_err(|e| VolumeError::System(format!("encode options: {e}")))?;
                fsx::write_atomic(&dir.join(OPTS_FILE), &json, 0o600)?;
            }
            Ok(())
        })();
        if let Err(e) = made {
            let _ = fsx::remove_tree(&dir);
            return Err(e);
        }
        volumes.insert(
            name.to_owned(),
            LocalVolume {
                opts: opts.clone(),
                ..Default::default()
            },
        );
        Ok(self.data_dir(name))
    }

    fn remove(&self, name: &str) -> Result<()> {
        let mut volumes = self.lock();
        let vol = self.lookup(&mut volumes, name)?;
        if vol.needs_mount() && (vol.mounted || fsx::is_mounted(&self.data_dir(name))?) {
            self.do_unmount(name)?;
            vol.mounted = false;
            vol.refs.clear();
        }
        let dir = self.volume_dir(name);
        // Checked before anything moves, so a refused removal leaves the
        // volume as it was (remove_tree checks again, for races).
        if let Some(mp) = fsx::mount_under(&dir)? {
            return Err(fsx::foreign_mount(&mp));
        }
        let mut doomed = self.root.join(format!("{REMOVING_PREFIX}{name}"));
        if doomed.exists() {
            doomed = self.root.join(format!(
                "{REMOVING_PREFIX}{name}.{}",
                &name::anonymous_name()[..12]
            ));
        }
        std::fs::rename(&dir, &doomed)
            .map_err(|e| VolumeError::io(format!("remove {}", dir.display()), e))?;
        volumes.remove(name);
        drop(volumes);
        fsx::remove_tree(&doomed)
    }

    fn list(&self) -> Result<Vec<String>> {
        self.scan()
    }

    fn path(&self, name: &str) -> Result<PathBuf> {
        let mut volumes = self.lock();
        self.lookup(&mut volumes, name)?;
        Ok(self.data_dir(name))
    }

    fn options(&self, name: &str) -> Result<BTreeMap<String, String>> {
        let mut volumes = self.lock();
        Ok(self.lookup(&mut volumes, name)?.opts.clone())
    }

    fn mount(&self, name: &str, ref_id: &str) -> Result<PathBuf> {
        let mut volumes = self.lock();
        let vol = self.lookup(&mut volumes, name)?;
        if vol.needs_mount() && !vol.mounted {
            self.do_mount(name, vol)?;
            vol.mounted = true;
        }
        vol.refs.insert(ref_id.to_owned());
        Ok(self.data_dir(name))
    }

    fn unmount(&self, name: &str, ref_id: &str) -> Result<()> {
        let mut volumes = self.lock();
        let vol = self.lookup(&mut volumes, name)?;
        if !vol.refs.remove(ref_id) {
            return Ok(());
        }
        if vol.refs.is_empty() && vol.mounted {
            if let Err(e) = self.do_unmount(name) {
                // Still mounted: keep the reference so a retry unmounts.
                vol.refs.insert(ref_id.to_owned());
                return Err(e);
            }
            vol.mounted = false;
        }
        Ok(())
    }
}
