//! The entry loop: reads tar entries and materializes them under the layer
//! root using only fd-relative, no-follow syscalls.

use std::collections::HashMap;
use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use tar::EntryType;

use super::fsutil::{self, cstr};
use super::safe_path::{self, Components};
use super::whiteout::{self, Whiteout};
use super::{UnpackError, UnpackStats};

/// Ownership, permissions and times from a tar header (plus PAX overrides).
#[derive(Debug, Clone)]
struct Meta {
    mode: u32,
    uid: u32,
    gid: u32,
    mtime: i64,
    xattrs: Vec<(String, Vec<u8>)>,
}

/// What the archive is being unpacked as.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mode {
    /// An image layer: Docker whiteouts become overlay whiteouts, the root
    /// entry's metadata applies to the layer root.
    Layer,
    /// Files copied into an existing directory (`docker cp`, moby's
    /// `archive.Untar`): no whiteout conversion, the root entry is skipped
    /// and symlinks may not point above the extraction directory.
    Copy(super::ExtractOptions),
}

struct Applier {
    root: OwnedFd,
    is_root: bool,
    mode: Mode,
    /// Directories whose metadata is applied at the end (deepest first).
    dirs: HashMap<Components, Meta>,
    stats: UnpackStats,
}

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> UnpackError {
    let context = context.into();
    move |source| UnpackError::Io { context, source }
}

fn unsafe_entry(entry: &str, reason: impl Into<String>) -> UnpackError {
    UnpackError::Unsafe {
        entry: entry.to_string(),
        reason: reason.into(),
    }
}

fn errno_is(e: &io::Error, codes: &[i32]) -> bool {
    e.raw_os_error().is_some_and(|c| codes.contains(&c))
}

/// Unpacks an already-decompressed tar stream into `dest`.
pub(crate) fn apply(stream: impl Read, dest: &Path) -> Result<UnpackStats, UnpackError> {
    let root = fsutil::open_dir(dest).map_err(io_err(format!("opening {}", dest.display())))?;
    apply_at(stream, root, Mode::Layer)
}

/// Unpacks an already-decompressed tar stream into the directory `root`
/// (an fd, so that nothing between the caller's resolution and the
/// unpacking can swap the directory for a symlink).
pub(crate) fn apply_at(
    stream: impl Read,
    root: OwnedFd,
    mode: Mode,
) -> Result<UnpackStats, UnpackError> {
    let mut ap = Applier {
        root,
        // SAFETY: geteuid has no preconditions.
        is_root: unsafe { libc::geteuid() } == 0,
        mode,
        dirs: HashMap::new(),
        stats: UnpackStats::default(),
    };
    let mut archive = tar::Archive::new(stream);
    let entries = archive.entries().map_err(io_err("reading layer tar"))?;
    for entry in entries {
        let mut entry = entry.map_err(io_err("reading layer tar"))?;
        ap.stats.entries += 1;
        ap.entry(&mut entry)?;
    }
    ap.finish_dirs()?;
    Ok(ap.stats)
}

impl Applier {
    fn root(&self) -> BorrowedFd<'_> {
        self.root.as_fd()
    }

    /// How entries are named in messages.
    fn noun(&self) -> &'static str {
        match self.mode {
            Mode::Layer => "layer",
            Mode::Copy(_) => "archive",
        }
    }

    fn copy_options(&self) -> Option<super::ExtractOptions> {
        match self.mode {
            Mode::Layer => None,
            Mode::Copy(o) => Some(o),
        }
    }

    /// moby's `NoOverwriteDirNonDir`: refuses to replace a directory with
    /// a non-directory or the reverse.
    fn check_overwrite(
        &self,
        existing: Option<&libc::stat>,
        new_is_dir: bool,
        name: &str,
    ) -> Result<(), UnpackError> {
        let Some(st) = existing else { return Ok(()) };
        if !self
            .copy_options()
            .is_some_and(|o| o.no_overwrite_dir_non_dir)
        {
            return Ok(());
        }
        match (fsutil::is_dir(st), new_is_dir) {
            (true, false) => Err(unsafe_entry(
                name,
                "cannot overwrite a directory with a non-directory",
            )),
            (false, true) => Err(unsafe_entry(
                name,
                "cannot overwrite a non-directory with a directory",
            )),
            _ => Ok(()),
        }
    }

    /// Opens the directory holding `comps`' last component, walking every
    /// component with `O_NOFOLLOW | O_DIRECTORY`. Missing directories are
    /// created (0755) when `create` is set.
    fn resolve_parent(
        &self,
        comps: &[Vec<u8>],
        create: bool,
        entry: &str,
    ) -> Result<OwnedFd, UnpackError> {
        let mut cur = self
            .root
            .try_clone()
            .map_err(io_err("duplicating layer root fd"))?;
        let parents = &comps[..comps.len().saturating_sub(1)];
        for (i, comp) in parents.iter().enumerate() {
            let here = || safe_path::display(&comps[..=i]);
            let name = cstr(comp).map_err(io_err(format!("{} entry \"{entry}\"", self.noun())))?;
            let opened = match fsutil::open_dir_at(cur.as_fd(), &name) {
                Err(e) if create && errno_is(&e, &[libc::ENOENT]) => {
                    match fsutil::mkdir_at(cur.as_fd(), &name, 0o755) {
                        Ok(()) => {}
                        Err(e) if errno_is(&e, &[libc::EEXIST]) => {}
                        Err(e) => return Err(io_err(format!("creating {}", here()))(e)),
                    }
                    fsutil::open_dir_at(cur.as_fd(), &name)
                }
                other => other,
            };
            cur = match opened {
                Ok(fd) => fd,
                Err(e) if errno_is(&e, &[libc::ELOOP, libc::ENOTDIR]) => {
                    let st = fsutil::lstat_at(cur.as_fd(), &name)
                        .map_err(io_err(format!("inspecting {}", here())))?;
                    if st.as_ref().is_some_and(fsutil::is_symlink) {
                        return Err(unsafe_entry(entry, "path goes through a symlink"));
                    }
                    return Err(unsafe_entry(
                        entry,
                        format!("parent \"{}\" is not a directory", here()),
                    ));
                }
                Err(e) => {
                    return Err(io_err(format!(
                        "{} entry \"{entry}\": opening {}",
                        self.noun(),
                        here()
                    ))(e))
                }
            };
        }
        Ok(cur)
    }

    fn entry<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<(), UnpackError> {
        let raw = entry.path_bytes().into_owned();
        let name = String::from_utf8_lossy(&raw).into_owned();
        let mut kind = entry.header().entry_type();
        // Old (V7) tars mark directories with a NUL type flag and a trailing
        // slash; Go's archive/tar (hence Docker) reads those as directories.
        if entry.header().as_old().linkflag[0] == 0 && raw.ends_with(b"/") {
            kind = EntryType::Directory;
        }
        if matches!(kind, EntryType::XGlobalHeader) {
            return Ok(());
        }
        if !matches!(
            kind,
            EntryType::Regular
                | EntryType::Continuous
                | EntryType::Directory
                | EntryType::Symlink
                | EntryType::Link
                | EntryType::Char
                | EntryType::Block
                | EntryType::Fifo
        ) {
            return Err(UnpackError::Unsupported {
                entry: name,
                kind: format!("{kind:?}"),
            });
        }
        let layer = matches!(self.mode, Mode::Layer);
        let comps = safe_path::normalize(&raw, layer).map_err(|r| unsafe_entry(&name, r))?;
        let noun = self.noun();
        let ctx = |what: &str| format!("{noun} entry \"{name}\": {what}");
        let meta = self.meta(entry, &name)?;

        // Whiteouts are recognised by name, whatever their type (only in
        // layers: `docker cp` copies `.wh.` files as they are).
        if let Some(last) = comps.last().filter(|_| layer) {
            match whiteout::classify(last).map_err(|r| unsafe_entry(&name, r))? {
                Whiteout::None => {}
                Whiteout::Meta => {
                    tracing::debug!(entry = %name, "skipping whiteout metadata entry");
                    return Ok(());
                }
                Whiteout::Opaque => return self.opaque(&comps[..comps.len() - 1], &name),
                Whiteout::Remove(target) => {
                    let parent = self.resolve_parent(&comps, true, &name)?;
                    let t = cstr(&target).map_err(io_err(ctx("whiteout name")))?;
                    fsutil::remove_all_at(parent.as_fd(), &t)
                        .map_err(io_err(ctx("removing whited-out path")))?;
                    fsutil::mknod_at(parent.as_fd(), &t, libc::S_IFCHR, 0)
                        .map_err(io_err(ctx("creating overlay whiteout")))?;
                    return Ok(());
                }
            }
        }

        if comps.is_empty() {
            if kind.is_dir() {
                // moby's Untar leaves the extraction directory as it is.
                if !layer {
                    return Ok(());
                }
                self.dirs.insert(comps, meta);
                return Ok(());
            }
            return Err(unsafe_entry(
                &name,
                "non-directory entry names the layer root",
            ));
        }

        let parent = self.resolve_parent(&comps, true, &name)?;
        let last = cstr(&comps[comps.len() - 1]).map_err(io_err(ctx("name")))?;
        let pfd = parent.as_fd();

        match kind {
            EntryType::Directory => {
                let existing = fsutil::lstat_at(pfd, &last).map_err(io_err(ctx("stat")))?;
                self.check_overwrite(existing.as_ref(), true, &name)?;
                match existing {
                    Some(st) if fsutil::is_dir(&st) => {}
                    Some(_) => {
                        fsutil::remove_all_at(pfd, &last).map_err(io_err(ctx("replacing")))?;
                        fsutil::mkdir_at(pfd, &last, 0o755).map_err(io_err(ctx("mkdir")))?;
                    }
                    None => fsutil::mkdir_at(pfd, &last, 0o755).map_err(io_err(ctx("mkdir")))?,
                }
                if !meta.xattrs.is_empty() {
                    let fd = fsutil::open_dir_at(pfd, &last).map_err(io_err(ctx("open dir")))?;
                    let f = File::from(fd);
                    for (k, v) in &meta.xattrs {
                        ignore_xattr_denied(xattr::FileExt::set_xattr(&f, k, v), &name, k)?;
                    }
                }
                self.dirs.insert(comps, meta);
            }
            EntryType::Regular | EntryType::Continuous => {
                self.check_non_dir(pfd, &last, &name)?;
                fsutil::remove_all_at(pfd, &last).map_err(io_err(ctx("replacing")))?;
                let mut f = fsutil::create_file_at(pfd, &last).map_err(io_err(ctx("create")))?;
                let n = io::copy(entry, &mut f).map_err(io_err(ctx("writing")))?;
                self.stats.bytes += n;
                if self.is_root {
                    fsutil::fchown(f.as_fd(), meta.uid, meta.gid).map_err(io_err(ctx("chown")))?;
                }
                fsutil::fchmod(f.as_fd(), meta.mode).map_err(io_err(ctx("chmod")))?;
                for (k, v) in &meta.xattrs {
                    ignore_xattr_denied(xattr::FileExt::set_xattr(&f, k, v), &name, k)?;
                }
                fsutil::set_times_fd(f.as_fd(), meta.mtime).map_err(io_err(ctx("utimens")))?;
            }
            EntryType::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .map(|c| c.into_owned())
                    .unwrap_or_default();
                if !layer && symlink_escapes(&comps, &target) {
                    return Err(unsafe_entry(
                        &name,
                        format!(
                            "symlink target \"{}\" points outside the extraction directory",
                            String::from_utf8_lossy(&target)
                        ),
                    ));
                }
                let target = cstr(&target).map_err(io_err(ctx("symlink target")))?;
                self.check_non_dir(pfd, &last, &name)?;
                fsutil::remove_all_at(pfd, &last).map_err(io_err(ctx("replacing")))?;
                fsutil::symlink_at(&target, pfd, &last).map_err(io_err(ctx("symlink")))?;
                self.finish_node(pfd, &last, &meta, &name, false)?;
            }
            EntryType::Link => {
                let target = entry
                    .link_name_bytes()
                    .map(|c| c.into_owned())
                    .unwrap_or_default();
                let tcomps = safe_path::normalize(&target, layer)
                    .map_err(|r| unsafe_entry(&name, format!("hard link target: {r}")))?;
                if tcomps.is_empty() {
                    return Err(unsafe_entry(&name, "hard link target is the layer root"));
                }
                if tcomps == comps {
                    return Ok(());
                }
                let tparent = self
                    .resolve_parent(&tcomps, false, &name)
                    .map_err(|e| match e {
                        UnpackError::Io { source, .. } => UnpackError::Io {
                            context: ctx(&format!(
                                "hard link target \"{}\"",
                                safe_path::display(&tcomps)
                            )),
                            source,
                        },
                        UnpackError::Unsafe { entry, reason } => UnpackError::Unsafe {
                            entry,
                            reason: format!("hard link target: {reason}"),
                        },
                        other => other,
                    })?;
                let tlast = cstr(&tcomps[tcomps.len() - 1]).map_err(io_err(ctx("link")))?;
                match fsutil::lstat_at(tparent.as_fd(), &tlast) {
                    Ok(Some(st)) if fsutil::is_dir(&st) => {
                        return Err(unsafe_entry(&name, "hard link target is a directory"))
                    }
                    Ok(Some(_)) => {}
                    Ok(None) => {
                        return Err(UnpackError::Io {
                            context: ctx(&format!(
                                "hard link target \"{}\"",
                                safe_path::display(&tcomps)
                            )),
                            source: io::Error::from_raw_os_error(libc::ENOENT),
                        })
                    }
                    Err(e) => return Err(io_err(ctx("hard link target"))(e)),
                }
                self.check_non_dir(pfd, &last, &name)?;
                fsutil::remove_all_at(pfd, &last).map_err(io_err(ctx("replacing")))?;
                fsutil::link_at(tparent.as_fd(), &tlast, pfd, &last)
                    .map_err(io_err(ctx("hard link")))?;
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                if !self.is_root {
                    tracing::warn!(entry = %name, "not root: skipping device node / FIFO");
                    return Ok(());
                }
                let fmt = match kind {
                    EntryType::Char => libc::S_IFCHR,
                    EntryType::Block => libc::S_IFBLK,
                    _ => libc::S_IFIFO,
                };
                let dev = if kind == EntryType::Fifo {
                    // FIFOs carry no device number; some writers leave the fields blank.
                    0
                } else {
                    let hdr = entry.header();
                    let major = hdr.device_major().map_err(io_err(ctx("device major")))?;
                    let minor = hdr.device_minor().map_err(io_err(ctx("device minor")))?;
                    libc::makedev(major.unwrap_or(0), minor.unwrap_or(0))
                };
                self.check_non_dir(pfd, &last, &name)?;
                fsutil::remove_all_at(pfd, &last).map_err(io_err(ctx("replacing")))?;
                fsutil::mknod_at(pfd, &last, fmt | meta.mode, dev).map_err(io_err(ctx("mknod")))?;
                self.finish_node(pfd, &last, &meta, &name, true)?;
            }
            other => {
                return Err(UnpackError::Unsupported {
                    entry: name.clone(),
                    kind: format!("{other:?}"),
                })
            }
        }
        Ok(())
    }

    /// Owner, mode (not for symlinks), xattrs and times on a just-created node.
    fn finish_node(
        &self,
        pfd: BorrowedFd<'_>,
        last: &CString,
        meta: &Meta,
        name: &str,
        chmod: bool,
    ) -> Result<(), UnpackError> {
        let noun = self.noun();
        let ctx = |what: &str| format!("{noun} entry \"{name}\": {what}");
        if self.is_root {
            fsutil::lchown_at(pfd, last, meta.uid, meta.gid).map_err(io_err(ctx("lchown")))?;
        }
        if chmod {
            fsutil::chmod_at(pfd, last, meta.mode).map_err(io_err(ctx("chmod")))?;
        }
        if !meta.xattrs.is_empty() {
            let p = fsutil::proc_path(pfd, last);
            for (k, v) in &meta.xattrs {
                ignore_xattr_denied(xattr::set(&p, k, v), name, k)?;
            }
        }
        fsutil::set_times_at(pfd, last, meta.mtime).map_err(io_err(ctx("utimensat")))?;
        Ok(())
    }

    /// Marks `dir` (created if missing) opaque for overlayfs.
    fn opaque(&mut self, dir: &[Vec<u8>], name: &str) -> Result<(), UnpackError> {
        let noun = self.noun();
        let ctx = |what: &str| format!("{noun} entry \"{name}\": {what}");
        let fd = if dir.is_empty() {
            self.root.try_clone().map_err(io_err(ctx("dup root")))?
        } else {
            let parent = self.resolve_parent(dir, true, name)?;
            let last = cstr(&dir[dir.len() - 1]).map_err(io_err(ctx("name")))?;
            match fsutil::lstat_at(parent.as_fd(), &last).map_err(io_err(ctx("stat")))? {
                Some(st) if fsutil::is_symlink(&st) => {
                    return Err(unsafe_entry(name, "path goes through a symlink"))
                }
                Some(st) if !fsutil::is_dir(&st) => {
                    fsutil::remove_all_at(parent.as_fd(), &last)
                        .map_err(io_err(ctx("replacing")))?;
                    fsutil::mkdir_at(parent.as_fd(), &last, 0o755).map_err(io_err(ctx("mkdir")))?;
                }
                Some(_) => {}
                None => {
                    fsutil::mkdir_at(parent.as_fd(), &last, 0o755).map_err(io_err(ctx("mkdir")))?
                }
            }
            fsutil::open_dir_at(parent.as_fd(), &last).map_err(io_err(ctx("open dir")))?
        };
        let f = File::from(fd);
        xattr::FileExt::set_xattr(&f, whiteout::OPAQUE_XATTR, b"y")
            .map_err(io_err(ctx("setting trusted.overlay.opaque")))?;
        Ok(())
    }

    /// Header metadata with PAX overrides (uid, gid, mtime, SCHILY.xattr.*).
    fn meta<R: Read>(
        &self,
        entry: &mut tar::Entry<'_, R>,
        name: &str,
    ) -> Result<Meta, UnpackError> {
        let noun = self.noun();
        let ctx = |what: &str| format!("{noun} entry \"{name}\": {what}");
        let hdr = entry.header();
        let mode = hdr.mode().map_err(io_err(ctx("mode")))? & 0o7777;
        let mut uid = hdr.uid().map_err(io_err(ctx("uid")))?;
        let mut gid = hdr.gid().map_err(io_err(ctx("gid")))?;
        let mut mtime = hdr.mtime().map_err(io_err(ctx("mtime")))? as i64;
        let mut xattrs = Vec::new();
        if let Some(exts) = entry.pax_extensions().map_err(io_err(ctx("pax")))? {
            for ext in exts {
                let ext = ext.map_err(io_err(ctx("pax")))?;
                let Ok(key) = ext.key() else { continue };
                let val = ext.value_bytes();
                let num = || {
                    std::str::from_utf8(val)
                        .ok()
                        .and_then(|s| s.split('.').next())
                        .and_then(|s| s.parse::<i64>().ok())
                };
                if let Some(x) = key.strip_prefix("SCHILY.xattr.") {
                    xattrs.push((x.to_string(), val.to_vec()));
                } else if key == "uid" {
                    uid = num().map_or(uid, |v| v as u64);
                } else if key == "gid" {
                    gid = num().map_or(gid, |v| v as u64);
                } else if key == "mtime" {
                    mtime = num().unwrap_or(mtime);
                }
            }
        }
        let uid = u32::try_from(uid).map_err(|_| unsafe_entry(name, "uid out of range"))?;
        let gid = u32::try_from(gid).map_err(|_| unsafe_entry(name, "gid out of range"))?;
        let (uid, gid) = self
            .copy_options()
            .and_then(|o| o.chown)
            .unwrap_or((uid, gid));
        Ok(Meta {
            mode,
            uid,
            gid,
            mtime,
            xattrs,
        })
    }

    /// Applies directory owner/mode/mtime, deepest first, after all children
    /// were written. Directories since replaced by something else are skipped.
    fn finish_dirs(&mut self) -> Result<(), UnpackError> {
        let mut dirs: Vec<(Components, Meta)> = self.dirs.drain().collect();
        dirs.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        for (comps, meta) in dirs {
            let name = safe_path::display(&comps);
            let noun = self.noun();
            let ctx = |what: &str| format!("{noun} entry \"{name}\": {what}");
            if comps.is_empty() {
                fsutil::fchmod(self.root(), meta.mode).map_err(io_err(ctx("chmod")))?;
                continue;
            }
            let Ok(parent) = self.resolve_parent(&comps, false, &name) else {
                tracing::debug!(entry = %name, "directory replaced; skipping its metadata");
                continue;
            };
            let last = cstr(&comps[comps.len() - 1]).map_err(io_err(ctx("name")))?;
            let fd = match fsutil::open_dir_at(parent.as_fd(), &last) {
                Ok(fd) => fd,
                Err(e) if errno_is(&e, &[libc::ELOOP, libc::ENOTDIR, libc::ENOENT]) => {
                    tracing::debug!(entry = %name, "directory replaced; skipping its metadata");
                    continue;
                }
                Err(e) => return Err(io_err(ctx("open dir"))(e)),
            };
            if self.is_root {
                fsutil::fchown(fd.as_fd(), meta.uid, meta.gid).map_err(io_err(ctx("chown")))?;
            }
            fsutil::fchmod(fd.as_fd(), meta.mode).map_err(io_err(ctx("chmod")))?;
            fsutil::set_times_fd(fd.as_fd(), meta.mtime).map_err(io_err(ctx("utimens")))?;
        }
        Ok(())
    }
}

impl Applier {
    /// [`Applier::check_overwrite`] for a non-directory entry about to
    /// replace `last`.
    fn check_non_dir(
        &self,
        pfd: BorrowedFd<'_>,
        last: &CString,
        name: &str,
    ) -> Result<(), UnpackError> {
        if self.copy_options().is_none() {
            return Ok(());
        }
        let noun = self.noun();
        let existing = fsutil::lstat_at(pfd, last)
            .map_err(io_err(format!("{noun} entry \"{name}\": stat")))?;
        self.check_overwrite(existing.as_ref(), false, name)
    }
}

/// moby's Untar check: a relative symlink target, taken from the link's
/// directory, must not climb above the extraction directory (an absolute
/// one is relative to the container's root and always stays inside it).
fn symlink_escapes(link: &[Vec<u8>], target: &[u8]) -> bool {
    if target.starts_with(b"/") {
        return false;
    }
    let mut depth = link.len().saturating_sub(1) as i64;
    for comp in target.split(|b| *b == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => depth += 1,
        }
    }
    false
}

/// Docker ignores xattrs the kernel refuses for permission or support reasons.
fn ignore_xattr_denied(r: io::Result<()>, entry: &str, key: &str) -> Result<(), UnpackError> {
    match r {
        Ok(()) => Ok(()),
        Err(e) if errno_is(&e, &[libc::EPERM, libc::ENOTSUP, libc::EOPNOTSUPP]) => {
            tracing::debug!(entry, key, error = %e, "ignoring xattr");
            Ok(())
        }
        Err(e) => Err(io_err(format!("layer entry \"{entry}\": setxattr {key}"))(
            e,
        )),
    }
}
