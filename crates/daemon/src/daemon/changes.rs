//! `docker diff` (moby `daemon/changes.go`, `pkg/archive/changes.go` with
//! the overlay whiteout rules): what the container changed in its root
//! filesystem, read from the snapshot's upper (writable) directory against
//! its lower layers.

use std::collections::{BTreeSet, HashSet};
use std::fs::{self, Metadata};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::error::{DaemonError, Result};

use super::Daemon;

pub use berth_api::types::container::{Change, CHANGE_ADD, CHANGE_DELETE, CHANGE_MODIFY};

/// What moby's init layer holds (`daemon/initlayer`): mount points and
/// files the runtime creates in every container's root filesystem. Docker
/// keeps them in a layer below the container's, so `docker diff` never
/// shows them; Berth creates them in the upper dir and leaves them out here
/// when they are new.
pub const INIT_PATHS: &[&str] = &[
    "/dev/pts",
    "/dev/shm",
    "/proc",
    "/sys",
    "/.dockerenv",
    "/etc/resolv.conf",
    "/etc/hosts",
    "/etc/hostname",
    "/dev/console",
    "/etc/mtab",
];

impl Daemon {
    /// The container's filesystem changes (running or not), parents before
    /// children. Errors: no such container; its snapshot is gone (the image
    /// service's error).
    pub async fn changes(&self, reference: &str) -> Result<Vec<Change>> {
        let container = self.get(reference)?;
        let record = container.record();
        let rootfs = self.images.rootfs(&record.id).map_err(DaemonError::layer)?;
        let (upper, lowers) = (rootfs.upper_dir, rootfs.lower_dirs);
        tokio::task::spawn_blocking(move || overlay_changes(&upper, &lowers))
            .await
            .map_err(|e| DaemonError::System(format!("computing changes: {e}")))?
    }
}

/// Walks `upper` (parents before children, names sorted) and classifies
/// every entry against `lowers` (top first). See the module docs.
pub(crate) fn overlay_changes(upper: &Path, lowers: &[PathBuf]) -> Result<Vec<Change>> {
    let mut walk = ChangeWalk {
        lowers,
        changes: Vec::new(),
        reported: HashSet::new(),
    };
    walk.dir(upper, "", false)?;
    Ok(walk.changes)
}

struct ChangeWalk<'a> {
    lowers: &'a [PathBuf],
    changes: Vec<Change>,
    reported: HashSet<String>,
}

impl ChangeWalk<'_> {
    /// Visits the children of upper dir `dir`, whose container path is
    /// `rel` (`""` for the root). `opaque`: the lower layers' content of
    /// `rel` is hidden.
    fn dir(&mut self, dir: &Path, rel: &str, opaque: bool) -> Result<()> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .map_err(|e| DaemonError::io(format!("reading {}", dir.display()), e))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let upper_names: HashSet<&str> = names.iter().map(String::as_str).collect();
        if opaque {
            // Whatever the image had here and the upper dir lacks is gone.
            for name in lower_children(self.lowers, rel) {
                if !upper_names.contains(name.as_str()) {
                    self.record(format!("{rel}/{name}"), CHANGE_DELETE);
                }
            }
        }
        for name in &names {
            let path = dir.join(name);
            let crel = format!("{rel}/{name}");
            let meta = fs::symlink_metadata(&path)
                .map_err(|e| DaemonError::io(format!("reading {}", path.display()), e))?;
            if is_whiteout(&meta) {
                self.record(crel, CHANGE_DELETE);
                continue;
            }
            let lower = if opaque {
                None
            } else {
                lower_lookup(self.lowers, &crel)
            };
            if meta.is_dir() {
                let child_opaque = opaque || is_opaque(&path);
                match &lower {
                    None => self.record(crel.clone(), CHANGE_ADD),
                    Some(l) if child_opaque || !same_dir(&meta, l) => {
                        self.record(crel.clone(), CHANGE_MODIFY)
                    }
                    // A copied-up parent: reported when something in it
                    // changed (its mtime and size moved then too).
                    Some(_) => {}
                }
                self.dir(&path, &crel, child_opaque)?;
            } else {
                let kind = if lower.is_some() {
                    CHANGE_MODIFY
                } else {
                    CHANGE_ADD
                };
                self.record(crel, kind);
            }
        }
        Ok(())
    }

    /// Records a change, after its parent (as modified) if not reported
    /// yet. Mount points the runtime added ([`INIT_PATHS`]) are not changes.
    fn record(&mut self, path: String, kind: u8) {
        if self.reported.contains(&path) || (kind == CHANGE_ADD && INIT_PATHS.contains(&&*path)) {
            return;
        }
        if let Some((parent, _)) = path.rsplit_once('/') {
            if !parent.is_empty() && !self.reported.contains(parent) {
                self.record(parent.to_string(), CHANGE_MODIFY);
            }
        }
        self.reported.insert(path.clone());
        self.changes.push(Change { path, kind });
    }
}

/// An overlay whiteout: a character device 0/0.
fn is_whiteout(meta: &Metadata) -> bool {
    meta.file_type().is_char_device() && meta.rdev() == 0
}

/// `trusted.overlay.opaque` (or `user.overlay.opaque`) is `y`.
fn is_opaque(path: &Path) -> bool {
    ["trusted.overlay.opaque", "user.overlay.opaque"]
        .iter()
        .any(|attr| get_xattr(path, attr).as_deref() == Some(b"y".as_slice()))
}

fn get_xattr(path: &Path, name: &str) -> Option<Vec<u8>> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let cpath = CString::new(path.as_os_str().as_bytes()).ok()?;
    let cname = CString::new(name).ok()?;
    let mut buf = [0u8; 16];
    // SAFETY: both strings are NUL-terminated and live across the call; the
    // buffer's length is passed with it.
    let n = unsafe {
        libc::lgetxattr(
            cpath.as_ptr(),
            cname.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    (n >= 0).then(|| buf[..n as usize].to_vec())
}

/// Whether a copied-up directory is unchanged itself: same mode and owner
/// as in the image. moby also compares size and mtime, but here the
/// runtime creates its mount points (`/etc/hostname`...) in the upper dir
/// (Docker has an init layer for them), which moves the parent's mtime and
/// size; a directory whose content changed is reported as the parent of
/// that change anyway.
fn same_dir(upper: &Metadata, lower: &Metadata) -> bool {
    lower.is_dir()
        && upper.mode() == lower.mode()
        && upper.uid() == lower.uid()
        && upper.gid() == lower.gid()
}

/// What the image (the merged lower layers, top first) has at `rel`,
/// honouring whiteouts and opaque directories in the lower layers.
fn lower_lookup(lowers: &[PathBuf], rel: &str) -> Option<Metadata> {
    for layer in lowers {
        match fs::symlink_metadata(layer.join(rel.trim_start_matches('/'))) {
            Ok(meta) if is_whiteout(&meta) => return None,
            Ok(meta) => return Some(meta),
            Err(_) => {
                if hidden_below(layer, rel) {
                    return None;
                }
            }
        }
    }
    None
}

/// True when an ancestor of `rel` in `layer` is a whiteout, an opaque
/// directory or not a directory: the layers below cannot show `rel`.
fn hidden_below(layer: &Path, rel: &str) -> bool {
    let mut path = layer.to_path_buf();
    let parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty()).collect();
    for part in parts.iter().take(parts.len().saturating_sub(1)) {
        path.push(part);
        match fs::symlink_metadata(&path) {
            Ok(meta) if is_whiteout(&meta) || !meta.is_dir() => return true,
            Ok(_) if is_opaque(&path) => return true,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}

/// The names the image shows in directory `rel` (the union of the lower
/// layers, minus whiteouts, stopping at an opaque directory).
fn lower_children(lowers: &[PathBuf], rel: &str) -> BTreeSet<String> {
    let mut shown = BTreeSet::new();
    let mut hidden = BTreeSet::new();
    for layer in lowers {
        let dir = layer.join(rel.trim_start_matches('/'));
        let Ok(meta) = fs::symlink_metadata(&dir) else {
            if hidden_below(layer, rel) {
                break;
            }
            continue;
        };
        if !meta.is_dir() {
            break;
        }
        for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if shown.contains(&name) || hidden.contains(&name) {
                continue;
            }
            match entry.metadata() {
                Ok(m) if is_whiteout(&m) => {
                    hidden.insert(name);
                }
                _ => {
                    shown.insert(name);
                }
            }
        }
        if is_opaque(&dir) {
            break;
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whiteout(path: &Path) -> bool {
        let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: a NUL-terminated path.
        unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o600, 0) == 0 }
    }

    #[test]
    fn classifies_like_docker_diff() {
        let tmp = tempfile::tempdir().unwrap();
        let lower = tmp.path().join("lower");
        let upper = tmp.path().join("upper");
        for d in [lower.join("etc"), lower.join("bin"), upper.join("bin")] {
            fs::create_dir_all(d).unwrap();
        }
        fs::write(lower.join("etc/passwd"), "root\n").unwrap();
        fs::write(lower.join("bin/true"), "").unwrap();
        fs::write(lower.join("bin/sh"), "").unwrap();
        fs::create_dir_all(upper.join("etc")).unwrap();
        fs::write(upper.join("etc/passwd"), "root\ny\n").unwrap();
        fs::write(upper.join("newfile"), "x\n").unwrap();
        fs::write(upper.join("etc/hostname"), "").unwrap();
        fs::create_dir(upper.join("home")).unwrap();
        fs::create_dir(lower.join("home")).unwrap();
        if !whiteout(&upper.join("bin/true")) {
            eprintln!("skipping: mknod needs CAP_MKNOD");
            return;
        }
        let changes = overlay_changes(&upper, &[lower]).unwrap();
        let got: Vec<String> = changes
            .iter()
            .map(|c| format!("{} {}", c.letter(), c.path))
            .collect();
        assert_eq!(
            got,
            [
                "C /bin",
                "D /bin/true",
                "C /etc",
                "C /etc/passwd",
                "A /newfile"
            ]
        );
    }
}
