//! A container's mount points (moby `volume/mounts` and
//! `daemon/volumes.go`): what `-v`, `--mount type=bind|volume`,
//! `--volumes-from`, anonymous `-v /path` and the image's VOLUMEs become
//! at create, how they are made ready at start (volumes mounted and
//! pre-filled from the image, missing `-v` bind sources created), and how
//! they are let go at stop and remove.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use berth_api::types::container::Mount as ApiMount;
use berth_volume::{CreateOptions, VolumeStore};
use oci_spec::runtime::Mount as OciMount;
use serde::{Deserialize, Serialize};

use crate::config::{Config, HostConfig};
use crate::error::{DaemonError, Result};

/// One mount of a container, kept in its record (`MountPoints`, keyed by
/// destination) from create to remove.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MountPoint {
    /// `bind` or `volume`.
    #[serde(rename = "Type")]
    pub kind: String,
    /// The host path: the bind source, or the volume's mountpoint.
    #[serde(rename = "Source")]
    pub source: String,
    /// Where it is in the container.
    #[serde(rename = "Destination")]
    pub destination: String,
    /// Mounted read-write.
    #[serde(rename = "RW")]
    pub rw: bool,
    /// The volume's name (volumes only).
    #[serde(rename = "Name")]
    pub name: String,
    /// The volume's driver (volumes only).
    #[serde(rename = "Driver")]
    pub driver: String,
    /// The mode string the user gave (`ro`, `z`, `nocopy`, ...).
    #[serde(rename = "Mode")]
    pub mode: String,
    /// Mount propagation (binds; `rprivate` unless asked otherwise).
    #[serde(rename = "Propagation")]
    pub propagation: String,
    /// The image's content at the destination is still to be copied into
    /// the volume (on the first start, when the volume is empty).
    #[serde(rename = "CopyData")]
    pub copy_data: bool,
    /// A missing bind source is created at start (`-v`); `--mount` refuses
    /// it at create instead.
    #[serde(rename = "CreateSource")]
    pub create_source: bool,
}

impl MountPoint {
    /// Whether this mounts a volume (as opposed to a host path).
    pub fn is_volume(&self) -> bool {
        self.kind == "volume"
    }

    /// The `Mounts` entry of `docker inspect`.
    pub fn to_api(&self) -> berth_api::types::container::MountPoint {
        berth_api::types::container::MountPoint {
            kind: self.kind.clone(),
            name: self.name.clone(),
            source: self.source.clone(),
            destination: self.destination.clone(),
            driver: self.driver.clone(),
            mode: self.mode.clone(),
            rw: self.rw,
            propagation: self.propagation.clone(),
        }
    }

    /// The OCI bind mount of this mount point.
    fn to_oci(&self) -> OciMount {
        let propagation = if self.propagation.is_empty() {
            "rprivate"
        } else {
            &self.propagation
        };
        let rw = if self.rw { "rw" } else { "ro" };
        crate::spec::defaults::mount(
            &self.destination,
            "bind",
            &self.source,
            &["rbind", rw, propagation],
        )
    }
}

/// The mount points of a container, keyed by destination.
pub type MountPoints = BTreeMap<String, MountPoint>;

const PROPAGATIONS: [&str; 6] = [
    "private", "rprivate", "shared", "rshared", "slave", "rslave",
];

/// A volume the container will use, not created yet.
struct VolumeWanted {
    point: MountPoint,
    labels: BTreeMap<String, String>,
    options: BTreeMap<String, String>,
}

/// What the settings ask for, before any volume exists.
enum Planned {
    Ready(MountPoint),
    Volume(VolumeWanted),
}

fn invalid_spec(spec: &str, why: impl std::fmt::Display) -> DaemonError {
    DaemonError::invalid(format!("invalid volume specification: '{spec}': {why}"))
}

/// moby's checks of a mount destination (absolute, not `/`), for every
/// mount type; the error is the message without the kind of failure.
pub(crate) fn check_destination(dst: &str, kind: &str) -> std::result::Result<(), String> {
    if !dst.starts_with('/') {
        return Err(format!(
            "invalid mount config for type \"{kind}\": invalid mount path: '{dst}' mount path must be absolute"
        ));
    }
    if Path::new(dst).components().count() <= 1 {
        return Err(format!(
            "invalid mount config for type \"{kind}\": invalid specification: destination can't be '/'"
        ));
    }
    Ok(())
}

/// `dst` without trailing slashes or `.`/`..` parts (the map key).
fn clean(dst: &str) -> String {
    super::container_fs::display(&super::container_fs::clean(dst))
}

/// Parses one `-v src:dst[:mode]` (`HostConfig.Binds`).
fn parse_bind(spec: &str) -> Result<Planned> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (src, dst, mode) = match parts.as_slice() {
        [s, d] => (*s, *d, ""),
        [s, d, m] => (*s, *d, *m),
        _ => return Err(invalid_spec(spec, "invalid number of fields")),
    };
    if src.is_empty() {
        return Err(invalid_spec(spec, "empty section between colons"));
    }
    let kind = if src.starts_with('/') {
        "bind"
    } else {
        "volume"
    };
    check_destination(dst, kind).map_err(|e| invalid_spec(spec, e))?;
    let mut rw = true;
    let mut copy = true;
    let mut propagation = String::new();
    for m in mode.split(',').filter(|m| !m.is_empty()) {
        match m {
            "ro" => rw = false,
            "rw" => rw = true,
            "nocopy" => copy = false,
            "z" | "Z" | "consistent" | "cached" | "delegated" => {}
            p if PROPAGATIONS.contains(&p) => propagation = p.to_string(),
            _ => return Err(invalid_spec(spec, format!("invalid mode: {mode}"))),
        }
    }
    let point = MountPoint {
        kind: kind.into(),
        destination: clean(dst),
        rw,
        mode: mode.into(),
        ..MountPoint::default()
    };
    if kind == "bind" {
        if !copy {
            return Err(invalid_spec(spec, format!("invalid mode: {mode}")));
        }
        return Ok(Planned::Ready(MountPoint {
            source: src.into(),
            propagation: if propagation.is_empty() {
                "rprivate".into()
            } else {
                propagation
            },
            create_source: true,
            ..point
        }));
    }
    if !propagation.is_empty() {
        return Err(invalid_spec(spec, format!("invalid mode: {mode}")));
    }
    berth_volume::validate_name(src).map_err(DaemonError::layer)?;
    Ok(Planned::Volume(VolumeWanted {
        point: MountPoint {
            name: src.into(),
            copy_data: copy,
            ..point
        },
        labels: BTreeMap::new(),
        options: BTreeMap::new(),
    }))
}

fn string_map(v: Option<&serde_json::Value>) -> BTreeMap<String, String> {
    v.and_then(|v| v.as_object())
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// Parses one `--mount type=bind|volume,...` (`HostConfig.Mounts`);
/// `None` for tmpfs, which the OCI spec builder handles.
fn parse_mount(m: &ApiMount) -> Result<Option<Planned>> {
    let invalid = |why: String| {
        DaemonError::invalid(format!(
            "invalid mount config for type \"{}\": {why}",
            m.kind
        ))
    };
    match m.kind.as_str() {
        "tmpfs" => return Ok(None),
        "bind" | "volume" => {}
        "" => {
            return Err(DaemonError::invalid(
                "invalid mount config: mount type unknown",
            ))
        }
        other => {
            return Err(DaemonError::invalid(format!(
                "invalid mount config: mount type unknown: \"{other}\""
            )))
        }
    }
    check_destination(&m.target, &m.kind).map_err(DaemonError::invalid)?;
    let point = MountPoint {
        kind: m.kind.clone(),
        destination: clean(&m.target),
        rw: !m.read_only,
        ..MountPoint::default()
    };
    if m.kind == "bind" {
        if m.source.is_empty() {
            return Err(invalid("field Source must not be empty".into()));
        }
        if !m.source.starts_with('/') {
            return Err(invalid(format!(
                "invalid mount path: '{}' mount path must be absolute",
                m.source
            )));
        }
        if m.volume_options.is_some() {
            return Err(invalid("field VolumeOptions must not be specified".into()));
        }
        if std::fs::metadata(&m.source).is_err() {
            return Err(invalid(format!(
                "bind source path does not exist: {}",
                m.source
            )));
        }
        let propagation = m
            .bind_options
            .as_ref()
            .and_then(|o| o.get("Propagation"))
            .and_then(|p| p.as_str())
            .filter(|p| !p.is_empty())
            .unwrap_or("rprivate");
        if !PROPAGATIONS.contains(&propagation) {
            return Err(invalid(format!("invalid propagation mode: {propagation}")));
        }
        return Ok(Some(Planned::Ready(MountPoint {
            source: m.source.clone(),
            propagation: propagation.into(),
            ..point
        })));
    }
    if m.bind_options.is_some() {
        return Err(invalid("field BindOptions must not be specified".into()));
    }
    if !m.source.is_empty() {
        berth_volume::validate_name(&m.source).map_err(DaemonError::layer)?;
    }
    let opts = m.volume_options.as_ref();
    let no_copy = opts
        .and_then(|o| o.get("NoCopy"))
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let driver = opts.and_then(|o| o.get("DriverConfig"));
    let driver_name = driver
        .and_then(|d| d.get("Name"))
        .and_then(|n| n.as_str())
        .unwrap_or_default();
    Ok(Some(Planned::Volume(VolumeWanted {
        point: MountPoint {
            name: m.source.clone(),
            driver: driver_name.into(),
            copy_data: !no_copy,
            ..point
        },
        labels: string_map(opts.and_then(|o| o.get("Labels"))),
        options: string_map(driver.and_then(|d| d.get("Options"))),
    })))
}

/// Splits one `--volumes-from container[:ro|rw]`.
fn split_volumes_from(spec: &str) -> Result<(&str, Option<bool>)> {
    match spec.rsplit_once(':') {
        Some((name, "ro")) => Ok((name, Some(false))),
        Some((name, "rw")) => Ok((name, Some(true))),
        Some((_, mode)) if !mode.is_empty() => Err(DaemonError::invalid(format!(
            "invalid mode for volumes-from: {mode}"
        ))),
        Some((name, _)) => Ok((name, None)),
        None => Ok((spec, None)),
    }
}

/// Destinations tmpfs covers (`--tmpfs`, `--mount type=tmpfs`): an image
/// VOLUME there gets no anonymous volume.
fn tmpfs_destinations(h: &HostConfig) -> Vec<String> {
    let mut out: Vec<String> = h.tmpfs.iter().flatten().map(|(d, _)| clean(d)).collect();
    out.extend(
        h.mounts
            .iter()
            .flatten()
            .filter(|m| m.kind == "tmpfs")
            .map(|m| clean(&m.target)),
    );
    out
}

/// Plans every mount point of a new container, in moby's order of
/// precedence: `--volumes-from` first, then `-v` and `--mount` (a
/// destination given twice among these is an error), then anonymous
/// volumes for `Config.Volumes` (which holds the image's VOLUMEs) not
/// already covered. `from` looks up a `--volumes-from` container's mount
/// points by name or ID.
fn plan(
    config: &Config,
    host: &HostConfig,
    from: &dyn Fn(&str) -> Result<MountPoints>,
) -> Result<BTreeMap<String, Planned>> {
    let mut planned: BTreeMap<String, Planned> = BTreeMap::new();
    for spec in host.volumes_from.iter().flatten() {
        let (name, rw) = split_volumes_from(spec)?;
        for (dst, mut point) in from(name)? {
            if let Some(rw) = rw {
                point.rw = rw;
            }
            point.copy_data = false;
            planned.insert(dst, Planned::Ready(point));
        }
    }
    let mut user = Vec::new();
    for spec in host.binds.iter().flatten() {
        user.push(parse_bind(spec)?);
    }
    for m in host.mounts.iter().flatten() {
        user.extend(parse_mount(m)?);
    }
    let mut seen = std::collections::HashSet::new();
    for p in user {
        let dst = match &p {
            Planned::Ready(m) => m.destination.clone(),
            Planned::Volume(v) => v.point.destination.clone(),
        };
        if !seen.insert(dst.clone()) {
            return Err(DaemonError::invalid(format!(
                "Duplicate mount point: {dst}"
            )));
        }
        planned.insert(dst, p);
    }
    let tmpfs = tmpfs_destinations(host);
    for dst in config.volumes.iter().flatten().map(|(d, _)| d) {
        check_destination(dst, "volume").map_err(|e| invalid_spec(dst, e))?;
        let dst = clean(dst);
        if planned.contains_key(&dst) || tmpfs.contains(&dst) {
            continue;
        }
        planned.insert(
            dst.clone(),
            Planned::Volume(VolumeWanted {
                point: MountPoint {
                    kind: "volume".into(),
                    destination: dst,
                    rw: true,
                    copy_data: true,
                    ..MountPoint::default()
                },
                labels: BTreeMap::new(),
                options: BTreeMap::new(),
            }),
        );
    }
    Ok(planned)
}

/// Registers a new container's mount points: creates the volumes it
/// names that do not exist yet (anonymous ones get fresh names) and
/// records the container as their user. On error, everything done is
/// undone.
pub(crate) fn register(
    volumes: &VolumeStore,
    id: &str,
    config: &Config,
    host: &HostConfig,
    from: &dyn Fn(&str) -> Result<MountPoints>,
) -> Result<MountPoints> {
    let planned = plan(config, host, from)?;
    let mut out = MountPoints::new();
    let result = (|| {
        for (dst, p) in planned {
            let point = match p {
                Planned::Ready(point) => point,
                Planned::Volume(v) => {
                    let info = volumes
                        .create(CreateOptions {
                            name: Some(v.point.name.clone()).filter(|n| !n.is_empty()),
                            driver: Some(v.point.driver.clone()).filter(|d| !d.is_empty()),
                            labels: v.labels,
                            options: v.options,
                        })
                        .map_err(DaemonError::layer)?;
                    MountPoint {
                        name: info.name,
                        driver: info.driver,
                        source: info.mountpoint.to_string_lossy().into_owned(),
                        ..v.point
                    }
                }
            };
            if point.is_volume() {
                volumes
                    .add_ref(&point.name, id)
                    .map_err(DaemonError::layer)?;
            }
            out.insert(dst, point);
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok(out),
        Err(e) => {
            release(volumes, id, &out, true);
            Err(e)
        }
    }
}

/// Drops the container's references to its volumes; with
/// `remove_anonymous` (`rm -v`, `--rm`, a failed create) its anonymous
/// volumes no other container uses are removed too.
pub(crate) fn release(
    volumes: &VolumeStore,
    id: &str,
    points: &MountPoints,
    remove_anonymous: bool,
) {
    for p in points.values().filter(|p| p.is_volume()) {
        volumes.remove_ref(&p.name, id);
        if !remove_anonymous {
            continue;
        }
        let anonymous = volumes.get(&p.name).is_ok_and(|v| v.is_anonymous());
        if anonymous && volumes.refs(&p.name).is_empty() {
            if let Err(e) = volumes.remove(&p.name, true) {
                tracing::warn!(volume = %p.name, error = %e, "cannot remove an anonymous volume");
            }
        }
    }
}

/// Makes every mount point ready for a start and returns their OCI bind
/// mounts, parents before children. Volumes are mounted by their driver
/// and, while `CopyData` holds and the volume is empty, filled with what
/// the container's rootfs has at the destination; `points` is updated
/// (source paths, `CopyData` cleared) for the caller to save. On error
/// the volumes mounted here are unmounted again.
pub(crate) fn setup(
    volumes: &VolumeStore,
    id: &str,
    rootfs: &Path,
    points: &mut MountPoints,
) -> Result<Vec<OciMount>> {
    let mut mounted: Vec<String> = Vec::new();
    let result = (|| {
        for p in points.values_mut() {
            if p.is_volume() {
                let path = volumes.mount(&p.name, id).map_err(DaemonError::layer)?;
                mounted.push(p.name.clone());
                p.source = path.to_string_lossy().into_owned();
                if p.copy_data {
                    prefill(rootfs, &p.destination, &path)?;
                    p.copy_data = false;
                }
            } else if p.create_source && std::fs::symlink_metadata(&p.source).is_err() {
                // `-v` creates a missing host path as a directory, as moby.
                std::fs::create_dir_all(&p.source).map_err(|e| {
                    DaemonError::io(format!("creating the bind source {}", p.source), e)
                })?;
            }
        }
        Ok(())
    })();
    if let Err(e) = result {
        for name in mounted {
            let _ = volumes.unmount(&name, id);
        }
        return Err(e);
    }
    // Keyed by cleaned destination, a parent sorts before everything
    // under it, so a mount inside another lands on top of it.
    Ok(points.values().map(MountPoint::to_oci).collect())
}

/// Copies the image's content at `destination` into an empty volume.
fn prefill(rootfs: &Path, destination: &str, volume: &Path) -> Result<()> {
    if !berth_volume::is_empty_dir(volume).map_err(DaemonError::layer)? {
        return Ok(());
    }
    let src: PathBuf = crate::spec::user::resolve_in_root(rootfs, Path::new(destination))?;
    match std::fs::symlink_metadata(&src) {
        Ok(m) if m.is_dir() => {
            berth_volume::copy_dir_contents(&src, volume).map_err(DaemonError::layer)
        }
        _ => Ok(()),
    }
}

/// Undoes [`setup`] when the container stops: unmounts its volumes.
pub(crate) fn teardown(volumes: &VolumeStore, id: &str, points: &MountPoints) {
    for p in points.values().filter(|p| p.is_volume()) {
        if let Err(e) = volumes.unmount(&p.name, id) {
            tracing::warn!(volume = %p.name, error = %e, "cannot unmount a volume");
        }
    }
}

#[cfg(test)]
mod tests;
