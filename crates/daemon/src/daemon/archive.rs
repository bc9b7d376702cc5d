//! `docker cp` (moby's `daemon/archive.go`, `container/archive.go`):
//! `HEAD` / `GET` / `PUT /containers/{id}/archive`, on a running container
//! or on a created / stopped one (whose rootfs is mounted for the
//! operation, see [`super::rootfs_mounts`]).
//!
//! Paths are resolved as moby's `ResolvePath` does: the path is cleaned
//! lexically as an absolute path, its directory part resolved with every
//! symlink followed inside the rootfs, and its last component followed
//! only when the path ends in `/` or `/.`.
//!
//! A path under one of the container's binds or volumes is served from
//! that mount's host directory (moby mounts them into the rootfs for the
//! operation; going to the source needs no mount and works the same on a
//! running container). The mount is chosen lexically, by the longest
//! destination the cleaned path lies under, and symlinks are then followed
//! inside the mount's directory.

use berth_image::unpack::{self, ExtractOptions, UnpackError};
use tokio::io::AsyncRead;

use crate::error::{DaemonError, Result};
use crate::events::action;

use super::container_fs::{self, go_file_mode, go_time, mtime_of, Comps, ContainerFs, Node};
use super::rootfs_mounts::RootfsLease;
use super::tar_stream::{self, TarStream};
use super::{Container, Daemon};

/// `ContainerPathStat` (what `HEAD /containers/{id}/archive` returns) and
/// the options of `PUT /containers/{id}/archive`, as the API defines them.
pub use berth_api::server::ArchivePutOptions;
pub use berth_api::types::container::PathStat;

/// A requested path, split as moby's `ResolvePath` splits it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Request {
    /// The cleaned absolute path.
    comps: Comps,
    /// Ends in `/.`: the directory's contents.
    contents: bool,
    /// Ends in `/` or `/.`: the last component is followed too.
    follow_final: bool,
}

impl Request {
    fn parse(path: &str) -> Request {
        let contents = path == "." || path.ends_with("/.");
        Request {
            comps: container_fs::clean(path),
            contents,
            follow_final: contents || path.ends_with('/'),
        }
    }

    /// `filepath.Base` of the absolute path: the name of the top entry.
    fn base_name(&self) -> Vec<u8> {
        if self.contents {
            return b".".to_vec();
        }
        match self.comps.last() {
            Some(last) => last.clone(),
            None => b"/".to_vec(),
        }
    }
}

fn not_found(path: &str, reference: &str) -> DaemonError {
    DaemonError::NotFound(format!(
        "Could not find the file {path} in container {reference}"
    ))
}

/// Maps a filesystem error on `path` to Docker's errors.
fn fs_error(e: std::io::Error, path: &str, reference: &str) -> DaemonError {
    match e.raw_os_error() {
        Some(libc::ENOENT | libc::ENOTDIR) => not_found(path, reference),
        Some(libc::ELOOP) => DaemonError::invalid(format!(
            "too many levels of symbolic links resolving {path} in container {reference}"
        )),
        _ => DaemonError::io(format!("{path} in container {reference}"), e),
    }
}

/// Where a request lands: the directory to serve it from and the path
/// inside it.
struct Target {
    /// The rootfs (mounted) or a bind's or volume's host directory.
    root: std::path::PathBuf,
    /// The requested components, relative to `root`.
    comps: Comps,
    /// Served from the rootfs (whose `/etc` files come from the
    /// container's directory).
    in_rootfs: bool,
    /// Mounted read-only into the container.
    read_only: bool,
    /// Keeps a volume mounted for the operation.
    hold: Option<VolumeHold>,
}

/// A volume mounted for one archive operation, unmounted when dropped.
struct VolumeHold {
    store: std::sync::Arc<berth_volume::VolumeStore>,
    name: String,
    ref_id: String,
}

impl Drop for VolumeHold {
    fn drop(&mut self) {
        if let Err(e) = self.store.unmount(&self.name, &self.ref_id) {
            tracing::warn!(volume = %self.name, error = %e, "cannot unmount a volume after cp");
        }
    }
}

fn join_err(e: tokio::task::JoinError) -> DaemonError {
    DaemonError::System(format!("the filesystem worker failed: {e}"))
}

impl Daemon {
    /// Where `request` lands in `container` whose rootfs is at `merged`:
    /// under the longest bind or volume destination holding the path, else
    /// the rootfs.
    fn archive_target(
        &self,
        container: &Container,
        request: &Request,
        merged: &std::path::Path,
    ) -> Result<Target> {
        let record = container.record();
        let mount = record
            .mount_points
            .values()
            .map(|m| (container_fs::clean(&m.destination), m))
            .filter(|(dest, _)| request.comps.starts_with(dest))
            .max_by_key(|(dest, _)| dest.len());
        let Some((dest, m)) = mount else {
            return Ok(Target {
                root: merged.to_path_buf(),
                comps: request.comps.clone(),
                in_rootfs: true,
                read_only: container.host_config().readonly_rootfs,
                hold: None,
            });
        };
        let (root, hold) = if m.is_volume() {
            let ref_id = format!("{}-cp-{}", record.id, crate::ids::random_u64());
            let root = self
                .volumes
                .mount(&m.name, &ref_id)
                .map_err(DaemonError::layer)?;
            let hold = VolumeHold {
                store: self.volumes.clone(),
                name: m.name.clone(),
                ref_id,
            };
            (root, Some(hold))
        } else {
            (std::path::PathBuf::from(&m.source), None)
        };
        Ok(Target {
            root,
            comps: request.comps[dest.len()..].to_vec(),
            in_rootfs: false,
            read_only: !m.rw,
            hold,
        })
    }

    /// Mounts (or keeps mounted) the container's rootfs for one operation.
    pub(crate) fn lease_rootfs(&self, container: &Container) -> Result<RootfsLease> {
        let id = container.record().id;
        let rootfs = self.images.rootfs(&id).map_err(DaemonError::layer)?;
        self.rootfs_mounts.lease(&id, &rootfs)
    }

    /// `HEAD /containers/{id}/archive?path=`: stat of `path` in the
    /// container. A missing path is NotFound `Could not find the file
    /// <path> in container <reference>`.
    pub async fn archive_stat(&self, reference: &str, path: &str) -> Result<PathStat> {
        let container = self.get(reference)?;
        let lease = self.lease_rootfs(&container)?;
        let request = Request::parse(path);
        let target = self.archive_target(&container, &request, lease.merged_dir())?;
        let dir = container.dir().to_path_buf();
        let (path, reference) = (path.to_string(), reference.to_string());
        tokio::task::spawn_blocking(move || {
            let fs = open_target(&target, &dir)?;
            let (stat, _) = stat_request(&fs, &request, &target.comps, &path, &reference)?;
            drop((target, lease));
            Ok(stat)
        })
        .await
        .map_err(join_err)?
    }

    /// `GET /containers/{id}/archive?path=`: the stat of `path` and a tar
    /// of it, streamed as it is produced. The tar's top entry is the base
    /// name of `path` (a directory's entries follow under it); a path
    /// ending in `/.` gives the directory's contents under `.`. The rootfs
    /// stays mounted until the stream ends or is dropped. Logs
    /// `archive-path`.
    pub async fn archive_get(&self, reference: &str, path: &str) -> Result<(PathStat, TarStream)> {
        let container = self.get(reference)?;
        let lease = self.lease_rootfs(&container)?;
        let request = Request::parse(path);
        let target = self.archive_target(&container, &request, lease.merged_dir())?;
        let dir = container.dir().to_path_buf();
        let (owned_path, owned_ref) = (path.to_string(), reference.to_string());
        let (stat, fs, node, top) = tokio::task::spawn_blocking(move || {
            let fs = open_target(&target, &dir)?;
            let (stat, node) = stat_request(&fs, &request, &target.comps, &owned_path, &owned_ref)?;
            // The top entry keeps the requested name; for `/` the tree is
            // rooted at `.` (a tar name cannot be absolute).
            let top = match request.base_name() {
                b if b == b"/" => b".".to_vec(),
                b => b,
            };
            Ok::<_, DaemonError>((stat, (fs, (lease, target.hold)), node, top))
        })
        .await
        .map_err(join_err)??;
        let (fs, lease) = fs;
        let stream = spawn_tar(lease, move |out| fs.write_tar(&node, Some(&top), out));
        self.container_event(&container, action::ARCHIVE_PATH, &[]);
        Ok((stat, stream))
    }

    /// `PUT /containers/{id}/archive?path=`: extracts `tar` (plain or
    /// gzip / zstd) into the existing directory `path` (a symlink to a
    /// directory is followed). Errors as moby's: `path` missing (NotFound),
    /// not a directory (`extraction point is not a directory`), a
    /// read-only rootfs (`container rootfs is marked read-only`), an
    /// entry that would land outside `path` (InvalidParameter). Nothing
    /// is ever written outside the container's rootfs. Logs
    /// `extract-to-dir`.
    pub async fn archive_put(
        &self,
        reference: &str,
        path: &str,
        tar: impl AsyncRead + Unpin,
        options: ArchivePutOptions,
    ) -> Result<()> {
        let container = self.get(reference)?;
        let lease = self.lease_rootfs(&container)?;
        let target = self.archive_target(&container, &Request::parse(path), lease.merged_dir())?;
        let dir = container.dir().to_path_buf();
        let user = container.record().config.user.clone();
        let (owned_path, owned_ref) = (path.to_string(), reference.to_string());
        let target = tokio::task::spawn_blocking(move || {
            let fs = open_target(&target, &dir)?;
            let comps = fs
                .resolve(&target.comps, true)
                .map_err(|e| fs_error(e, &owned_path, &owned_ref))?;
            let st = fs
                .lstat(&Node::Rootfs(comps.clone()))
                .map_err(|e| fs_error(e, &owned_path, &owned_ref))?;
            if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
                return Err(DaemonError::invalid("extraction point is not a directory"));
            }
            match (target.read_only, target.in_rootfs) {
                (true, true) => {
                    return Err(DaemonError::invalid("container rootfs is marked read-only"))
                }
                (true, false) => {
                    return Err(DaemonError::invalid("mounted volume is marked read-only"))
                }
                _ => {}
            }
            let chown = if options.copy_uid_gid && !user.is_empty() {
                let u = crate::spec::user::resolve_user(lease.merged_dir(), &user, &[])?;
                Some((u.uid, u.gid))
            } else {
                None
            };
            let fd = container_fs::open_dir_in(fs.root(), &comps)
                .map_err(|e| fs_error(e, &owned_path, &owned_ref))?;
            Ok::<_, DaemonError>((fd, chown, (lease, target.hold)))
        })
        .await
        .map_err(join_err)??;
        let (fd, chown, lease) = target;
        let extract_options = ExtractOptions {
            no_overwrite_dir_non_dir: options.no_overwrite_dir_non_dir,
            chown,
        };
        let result = tar_stream::consume_blocking(tar, move |reader| {
            let r = unpack::extract(reader, fd, extract_options);
            drop(lease);
            r
        })
        .await
        .map_err(|e| DaemonError::io("reading the archive", e))?;
        result.map_err(extract_error)?;
        self.container_event(&container, action::EXTRACT_TO_DIR, &[]);
        Ok(())
    }
}

/// Stats the requested path; returns the stat and the node to archive.
fn stat_request(
    fs: &ContainerFs,
    request: &Request,
    comps: &[Vec<u8>],
    path: &str,
    reference: &str,
) -> Result<(PathStat, Node)> {
    let err = |e| fs_error(e, path, reference);
    let comps = fs.resolve(comps, request.follow_final).map_err(err)?;
    let node = fs.node(&comps);
    let st = fs.lstat(&node).map_err(err)?;
    let link_target = if st.st_mode & libc::S_IFMT == libc::S_IFLNK {
        let target = fs.resolve(&comps, true).map_err(err)?;
        container_fs::display(&target)
    } else {
        String::new()
    };
    let stat = PathStat {
        name: String::from_utf8_lossy(&request.base_name()).into_owned(),
        size: st.st_size,
        mode: go_file_mode(st.st_mode),
        mtime: go_time(mtime_of(&st)),
        link_target,
    };
    Ok((stat, node))
}

/// Opens the target's directory, with the container's `/etc` files when
/// it is the rootfs.
fn open_target(target: &Target, container_dir: &std::path::Path) -> Result<ContainerFs> {
    let etc = target.in_rootfs.then_some(container_dir);
    ContainerFs::open(&target.root, etc)
        .map_err(|e| DaemonError::io("opening the container's filesystem", e))
}

/// Extraction errors: a hostile or conflicting archive is the caller's
/// fault (InvalidParameter); I/O failures are the daemon's.
fn extract_error(e: UnpackError) -> DaemonError {
    match e {
        UnpackError::Unsafe { entry, reason } => {
            DaemonError::invalid(format!("archive entry \"{entry}\": {reason}"))
        }
        UnpackError::Unsupported { entry, kind } => DaemonError::invalid(format!(
            "archive entry \"{entry}\": unsupported entry type {kind}"
        )),
        // No errno: the tar itself is malformed, not the filesystem failing.
        UnpackError::Io { context, source } if source.raw_os_error().is_none() => {
            DaemonError::invalid(format!("{context}: {source}"))
        }
        UnpackError::Io { context, source } => DaemonError::io(context, source),
    }
}

/// Runs `write` on a blocking thread into a new [`TarStream`]; `lease`
/// (the rootfs lease, and any volume held) keeps what is read mounted
/// until the tar is written, failed, or its reader dropped. A failure ends the stream with the error.
pub(crate) fn spawn_tar(
    lease: impl Send + 'static,
    write: impl FnOnce(&mut tar_stream::PipeWriter) -> std::io::Result<&mut tar_stream::PipeWriter>
        + Send
        + 'static,
) -> TarStream {
    let (mut writer, stream) = tar_stream::pipe();
    tokio::task::spawn_blocking(move || {
        let error = match write(&mut writer) {
            Ok(_) => None,
            // The reader went away: nobody to tell.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => None,
            Err(e) => {
                tracing::warn!(error = %e, "writing a container archive failed");
                Some(e)
            }
        };
        writer.finish(error);
        // Unmounts when this was the last holder.
        drop(lease);
    });
    stream
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_split_like_moby() {
        let r = Request::parse("/etc/passwd");
        assert_eq!((r.contents, r.follow_final), (false, false));
        assert_eq!(r.base_name(), b"passwd");
        let r = Request::parse("etc/");
        assert_eq!((r.contents, r.follow_final), (false, true));
        assert_eq!(r.base_name(), b"etc");
        let r = Request::parse("/etc/.");
        assert_eq!((r.contents, r.follow_final), (true, true));
        assert_eq!(r.base_name(), b".");
        assert_eq!(container_fs::display(&r.comps), "/etc");
        let r = Request::parse("/");
        assert_eq!(r.base_name(), b"/");
        let r = Request::parse("/a/../../b");
        assert_eq!(container_fs::display(&r.comps), "/b");
    }

    #[test]
    fn path_stat_uses_dockers_json_names() {
        let s = PathStat {
            name: "x".into(),
            size: 1,
            mode: 0o644,
            mtime: "2023-11-14T22:13:20Z".into(),
            link_target: String::new(),
        };
        let v = serde_json::to_value(&s).unwrap();
        for k in ["name", "size", "mode", "mtime", "linkTarget"] {
            assert!(v.get(k).is_some(), "{k}");
        }
    }
}
