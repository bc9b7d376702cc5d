//! A container's filesystem as `docker cp` and `docker export` see it:
//! paths resolved inside the mounted rootfs as if it were `/` (Go's
//! `securejoin` / moby's `FollowSymlinkInScope`), every open done relative
//! to a directory fd with `O_NOFOLLOW`, so neither a hostile symlink nor a
//! container process swapping a directory for a symlink mid-way can lead a
//! read or a write out of the rootfs; and the tar writer of moby's
//! `archive.TarWithOptions` over such a tree.
//!
//! The files Docker bind-mounts over `/etc` (`hostname`, `hosts`,
//! `resolv.conf`) live in the container's directory; [`ContainerFs`] maps
//! those container paths to them, as the container itself sees them.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{FileStat, Mode};
use tar::{EntryType, Header};

/// A normalized path inside the container: no `.`, `..` or empty parts;
/// no components is `/`.
pub(crate) type Comps = Vec<Vec<u8>>;

/// Most symlinks followed while resolving one path (as Linux' `MAXSYMLINKS`
/// and securejoin).
const MAX_SYMLINKS: usize = 255;

/// Go's `os.FileMode` type bits (`io/fs`), which Docker puts in
/// `ContainerPathStat.mode`.
pub mod go_mode {
    /// `ModeDir`.
    pub const DIR: u32 = 1 << 31;
    /// `ModeSymlink`.
    pub const SYMLINK: u32 = 1 << 27;
    /// `ModeDevice`.
    pub const DEVICE: u32 = 1 << 26;
    /// `ModeNamedPipe`.
    pub const NAMED_PIPE: u32 = 1 << 25;
    /// `ModeSocket`.
    pub const SOCKET: u32 = 1 << 24;
    /// `ModeSetuid`.
    pub const SETUID: u32 = 1 << 23;
    /// `ModeSetgid`.
    pub const SETGID: u32 = 1 << 22;
    /// `ModeCharDevice`.
    pub const CHAR_DEVICE: u32 = 1 << 21;
    /// `ModeSticky`.
    pub const STICKY: u32 = 1 << 20;
}

/// A Linux `st_mode` as Go's `os.FileMode` (what `os.Lstat` returns:
/// permission bits, one type bit, and setuid / setgid / sticky moved to
/// their Go positions).
pub fn go_file_mode(st_mode: u32) -> u32 {
    let mut mode = st_mode & 0o777;
    mode |= match st_mode & libc::S_IFMT {
        libc::S_IFBLK => go_mode::DEVICE,
        libc::S_IFCHR => go_mode::DEVICE | go_mode::CHAR_DEVICE,
        libc::S_IFDIR => go_mode::DIR,
        libc::S_IFIFO => go_mode::NAMED_PIPE,
        libc::S_IFLNK => go_mode::SYMLINK,
        libc::S_IFSOCK => go_mode::SOCKET,
        _ => 0,
    };
    if st_mode & libc::S_ISUID != 0 {
        mode |= go_mode::SETUID;
    }
    if st_mode & libc::S_ISGID != 0 {
        mode |= go_mode::SETGID;
    }
    if st_mode & libc::S_ISVTX != 0 {
        mode |= go_mode::STICKY;
    }
    mode
}

/// A time as Go's `time.Time` marshals to JSON (RFC 3339 with the
/// fraction's trailing zeros dropped), in UTC.
pub fn go_time(t: SystemTime) -> String {
    let s = humantime::format_rfc3339_nanos(t).to_string();
    // `2024-01-02T03:04:05.120000000Z` -> `2024-01-02T03:04:05.12Z`
    match s.split_once('.') {
        Some((secs, frac)) => {
            let digits = frac.trim_end_matches('Z').trim_end_matches('0');
            if digits.is_empty() {
                format!("{secs}Z")
            } else {
                format!("{secs}.{digits}Z")
            }
        }
        None => s,
    }
}

/// The modification time of a stat.
pub(crate) fn mtime_of(st: &FileStat) -> SystemTime {
    let secs = Duration::new(st.st_mtime.max(0) as u64, st.st_mtime_nsec as u32);
    UNIX_EPOCH + secs
}

/// Lexically cleans a container path as Go's `filepath.Join("/", path)`
/// does: `.` and empty parts vanish, `..` drops the previous part and
/// stops at `/`.
pub fn clean(path: &str) -> Comps {
    let mut out = Comps::new();
    for part in path.as_bytes().split(|b| *b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                out.pop();
            }
            p => out.push(p.to_vec()),
        }
    }
    out
}

/// Renders components as an absolute container path.
pub fn display(comps: &[Vec<u8>]) -> String {
    let mut s = String::from("/");
    s.push_str(&String::from_utf8_lossy(&comps.join(&b'/')));
    s
}

fn flags_dir() -> OFlag {
    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC
}

/// Opens directory `comps` under `root`, refusing any symlink on the way
/// (`ELOOP` / `ENOTDIR`).
pub(crate) fn open_dir_in(root: BorrowedFd<'_>, comps: &[Vec<u8>]) -> io::Result<OwnedFd> {
    let mut cur = root.try_clone_to_owned()?;
    for c in comps {
        cur = nix::fcntl::openat(cur.as_fd(), c.as_slice(), flags_dir(), Mode::empty())?;
    }
    Ok(cur)
}

/// `lstat` of `comps` under `root` (the root itself for no components).
pub(crate) fn lstat_in(root: BorrowedFd<'_>, comps: &[Vec<u8>]) -> io::Result<FileStat> {
    match comps.split_last() {
        None => Ok(nix::sys::stat::fstat(root)?),
        Some((last, parents)) => {
            let dir = open_dir_in(root, parents)?;
            Ok(nix::sys::stat::fstatat(
                dir.as_fd(),
                last.as_slice(),
                AtFlags::AT_SYMLINK_NOFOLLOW,
            )?)
        }
    }
}

fn is_kind(st: &FileStat, kind: u32) -> bool {
    st.st_mode & libc::S_IFMT == kind
}

/// Resolves `comps` inside `root` as if `root` were `/`: every symlink on
/// the way is followed within the root (`..` stops at it, absolute
/// targets restart from it); the last component is followed only when
/// `follow_final`. Missing components are kept as they are (the caller's
/// stat reports them). The result names no symlink except, when not
/// `follow_final`, possibly the last component.
pub fn resolve_in_root(
    root: BorrowedFd<'_>,
    comps: &[Vec<u8>],
    follow_final: bool,
) -> io::Result<Comps> {
    // A stack of the parts still to walk, next on top.
    let mut pending: Vec<Vec<u8>> = comps.iter().rev().cloned().collect();
    let mut resolved = Comps::new();
    let mut hops = 0;
    while let Some(part) = pending.pop() {
        match part.as_slice() {
            b"" | b"." => continue,
            b".." => {
                resolved.pop();
                continue;
            }
            _ => {}
        }
        let last = pending.iter().all(|p| p.is_empty() || p == b".");
        if last && !follow_final {
            resolved.push(part);
            continue;
        }
        resolved.push(part);
        let st = match lstat_in(root, &resolved) {
            Ok(st) => st,
            // Gone or under a non-directory: keep walking lexically.
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => continue,
            Err(e) => return Err(e),
        };
        if !is_kind(&st, libc::S_IFLNK) {
            continue;
        }
        hops += 1;
        if hops > MAX_SYMLINKS {
            return Err(io::Error::from_raw_os_error(libc::ELOOP));
        }
        let name = resolved.pop().unwrap_or_default();
        let dir = open_dir_in(root, &resolved)?;
        let target = nix::fcntl::readlinkat(dir.as_fd(), name.as_slice())?.into_vec();
        if target.starts_with(b"/") {
            resolved.clear();
        }
        for t in target.split(|b| *b == b'/').rev() {
            pending.push(t.to_vec());
        }
    }
    Ok(resolved)
}

/// One file Docker bind-mounts into the container, by its resolved
/// container path.
#[derive(Debug, Clone)]
struct MappedFile {
    at: Comps,
    host: PathBuf,
}

/// The container paths Docker bind-mounts from the container's directory.
pub(crate) const ETC_FILES: [(&str, &str); 3] = [
    ("/etc/hostname", "hostname"),
    ("/etc/hosts", "hosts"),
    ("/etc/resolv.conf", "resolv.conf"),
];

/// A node of the container's filesystem.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    /// In the rootfs, at these (resolved) components.
    Rootfs(Comps),
    /// A file bind-mounted from the container's directory.
    Host(PathBuf),
}

/// The mounted rootfs (as a directory fd) plus the bind-mounted files.
#[derive(Debug)]
pub(crate) struct ContainerFs {
    root: OwnedFd,
    mapped: Vec<MappedFile>,
}

impl ContainerFs {
    /// Opens the rootfs mounted at `merged`; maps the `/etc` files found
    /// in `container_dir` (a container that never started has none; no
    /// directory maps nothing).
    pub(crate) fn open(merged: &Path, container_dir: Option<&Path>) -> io::Result<ContainerFs> {
        let root = nix::fcntl::open(merged, flags_dir(), Mode::empty())?;
        let mut fs = ContainerFs {
            root,
            mapped: Vec::new(),
        };
        for (at, file) in ETC_FILES.iter().filter(|_| container_dir.is_some()) {
            let host = container_dir.unwrap_or(merged).join(file);
            if std::fs::symlink_metadata(&host).is_ok_and(|m| m.is_file()) {
                // The runtime resolves a mount destination in scope too.
                let at = fs.resolve(&clean(at), true)?;
                fs.mapped.push(MappedFile { at, host });
            }
        }
        Ok(fs)
    }

    /// The rootfs directory fd.
    pub(crate) fn root(&self) -> BorrowedFd<'_> {
        self.root.as_fd()
    }

    /// [`resolve_in_root`] in this rootfs.
    pub(crate) fn resolve(&self, comps: &[Vec<u8>], follow_final: bool) -> io::Result<Comps> {
        resolve_in_root(self.root(), comps, follow_final)
    }

    /// The node at resolved `comps`: a bind-mounted file or the rootfs.
    pub(crate) fn node(&self, comps: &[Vec<u8>]) -> Node {
        match self.mapped.iter().find(|m| m.at == comps) {
            Some(m) => Node::Host(m.host.clone()),
            None => Node::Rootfs(comps.to_vec()),
        }
    }

    /// `lstat` of a node.
    pub(crate) fn lstat(&self, node: &Node) -> io::Result<FileStat> {
        match node {
            Node::Rootfs(comps) => lstat_in(self.root(), comps),
            Node::Host(path) => Ok(nix::sys::stat::lstat(path)?),
        }
    }

    /// Writes `node` as a tar to `out`: the node itself named `top` (when
    /// given), then, for a directory, everything under it as `top/<path>`
    /// (or `<path>` without a top), parents first, names sorted; moby's
    /// `TarWithOptions` with a rebase. Entries that vanish while walking
    /// are skipped, as moby skips them.
    pub(crate) fn write_tar<W: Write>(
        &self,
        node: &Node,
        top: Option<&[u8]>,
        out: W,
    ) -> io::Result<W> {
        let mut walk = TarWalk {
            out: tar::Builder::new(out),
            fs: self,
            links: HashMap::new(),
        };
        match node {
            Node::Host(path) => {
                let name = top.unwrap_or(b"");
                walk.host_file(path, name)?;
            }
            Node::Rootfs(comps) => {
                let mut comps = comps.clone();
                match (comps.split_last(), top) {
                    (_, None) => {
                        let dir = open_dir_in(self.root(), &comps)?;
                        walk.children(dir, &mut comps, b"")?;
                    }
                    (None, Some(top)) => {
                        let st = nix::sys::stat::fstat(self.root())?;
                        walk.dir(self.root().try_clone_to_owned()?, &st, &mut comps, top)?;
                    }
                    (Some((last, parents)), Some(top)) => {
                        let last = last.clone();
                        let parent = open_dir_in(self.root(), parents)?;
                        comps.pop();
                        walk.node(parent.as_fd(), &last, &mut comps, top)?;
                    }
                }
            }
        }
        walk.out.into_inner()
    }
}

/// The state of one tar walk.
struct TarWalk<'a, W: Write> {
    out: tar::Builder<W>,
    fs: &'a ContainerFs,
    /// First tar name of each multiply-linked file, by (device, inode).
    links: HashMap<(u64, u64), Vec<u8>>,
}

fn join_name(parent: &[u8], name: &[u8]) -> Vec<u8> {
    if parent.is_empty() {
        return name.to_vec();
    }
    let mut out = parent.to_vec();
    if !out.ends_with(b"/") {
        out.push(b'/');
    }
    out.extend_from_slice(name);
    out
}

fn vanished(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOENT))
}

impl<W: Write> TarWalk<'_, W> {
    /// Adds `name` of directory `parent` (whose container path is `comps`)
    /// as `tar_name`.
    fn node(
        &mut self,
        parent: BorrowedFd<'_>,
        name: &[u8],
        comps: &mut Comps,
        tar_name: &[u8],
    ) -> io::Result<()> {
        comps.push(name.to_vec());
        let r = self.node_inner(parent, name, comps, tar_name);
        comps.pop();
        match r {
            Err(e) if vanished(&e) => Ok(()),
            other => other,
        }
    }

    fn node_inner(
        &mut self,
        parent: BorrowedFd<'_>,
        name: &[u8],
        comps: &mut Comps,
        tar_name: &[u8],
    ) -> io::Result<()> {
        if let Node::Host(path) = self.fs.node(comps) {
            return self.host_file(&path, tar_name);
        }
        let st = nix::sys::stat::fstatat(parent, name, AtFlags::AT_SYMLINK_NOFOLLOW)?;
        match st.st_mode & libc::S_IFMT {
            libc::S_IFDIR => {
                let dir = nix::fcntl::openat(parent, name, flags_dir(), Mode::empty())?;
                self.dir(dir, &st, comps, tar_name)
            }
            libc::S_IFREG => {
                let file = nix::fcntl::openat(
                    parent,
                    name,
                    OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
                    Mode::empty(),
                )?;
                self.file(std::fs::File::from(file), tar_name)
            }
            libc::S_IFLNK => {
                let target = nix::fcntl::readlinkat(parent, name)?;
                let mut h = header(&st, EntryType::Symlink);
                self.append(&mut h, tar_name, Some(target.as_bytes()), io::empty())
            }
            libc::S_IFCHR | libc::S_IFBLK | libc::S_IFIFO => {
                let kind = match st.st_mode & libc::S_IFMT {
                    libc::S_IFCHR => EntryType::Char,
                    libc::S_IFBLK => EntryType::Block,
                    _ => EntryType::Fifo,
                };
                let mut h = header(&st, kind);
                if kind != EntryType::Fifo {
                    h.set_device_major(nix::sys::stat::major(st.st_rdev) as u32)?;
                    h.set_device_minor(nix::sys::stat::minor(st.st_rdev) as u32)?;
                }
                self.append(&mut h, tar_name, None, io::empty())
            }
            // Sockets are not archived (as in moby).
            _ => Ok(()),
        }
    }

    /// A directory entry, then its children.
    fn dir(
        &mut self,
        dir: OwnedFd,
        st: &FileStat,
        comps: &mut Comps,
        tar_name: &[u8],
    ) -> io::Result<()> {
        let mut h = header(st, EntryType::Directory);
        let mut name = tar_name.to_vec();
        if !name.ends_with(b"/") {
            name.push(b'/');
        }
        self.append(&mut h, &name, None, io::empty())?;
        self.children(dir, comps, tar_name)
    }

    /// Every child of `dir`, sorted by name.
    fn children(&mut self, dir: OwnedFd, comps: &mut Comps, tar_name: &[u8]) -> io::Result<()> {
        let mut names: Vec<Vec<u8>> = Vec::new();
        for entry in nix::dir::Dir::from_fd(dir.try_clone()?)? {
            let entry = entry?;
            let n = entry.file_name().to_bytes();
            if n != b"." && n != b".." {
                names.push(n.to_vec());
            }
        }
        names.sort();
        for n in names {
            let child = join_name(tar_name, &n);
            self.node(dir.as_fd(), &n, comps, &child)?;
        }
        Ok(())
    }

    /// A regular file (or a hard link to one already archived).
    fn file(&mut self, file: std::fs::File, tar_name: &[u8]) -> io::Result<()> {
        let st = nix::sys::stat::fstat(file.as_fd())?;
        if !is_kind(&st, libc::S_IFREG) {
            // Swapped between the stat and the open: not what was listed.
            return Ok(());
        }
        if st.st_nlink > 1 {
            let key = (st.st_dev, st.st_ino);
            if let Some(first) = self.links.get(&key).cloned() {
                let mut h = header(&st, EntryType::Link);
                h.set_size(0);
                return self.append(&mut h, tar_name, Some(&first), io::empty());
            }
            self.links.insert(key, tar_name.to_vec());
        }
        let size = st.st_size.max(0) as u64;
        let mut h = header(&st, EntryType::Regular);
        h.set_size(size);
        // Exactly `size` bytes even if the file changes meanwhile.
        let data = file.take(size).chain(io::repeat(0)).take(size);
        self.append(&mut h, tar_name, None, data)
    }

    /// A file bind-mounted from the container's directory.
    fn host_file(&mut self, path: &Path, tar_name: &[u8]) -> io::Result<()> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(path)?;
        self.file(file, tar_name)
    }

    /// Appends one entry with exactly `name` (and `link`), using GNU long
    /// name records when they do not fit the header.
    fn append(
        &mut self,
        h: &mut Header,
        name: &[u8],
        link: Option<&[u8]>,
        data: impl Read,
    ) -> io::Result<()> {
        if name.len() > 100 {
            self.long_record(b'L', name)?;
        }
        if let Some(link) = link.filter(|l| l.len() > 100) {
            self.long_record(b'K', link)?;
        }
        let gnu = h
            .as_gnu_mut()
            .ok_or_else(|| io::Error::other("not a GNU header"))?;
        fill(&mut gnu.name, name);
        if let Some(link) = link {
            fill(&mut gnu.linkname, link);
        }
        h.set_cksum();
        self.out.append(h, data)
    }

    /// A GNU `././@LongLink` record carrying a name (`L`) or link (`K`).
    fn long_record(&mut self, kind: u8, value: &[u8]) -> io::Result<()> {
        let mut h = Header::new_gnu();
        let mut data = value.to_vec();
        data.push(0);
        h.set_size(data.len() as u64);
        h.set_entry_type(EntryType::new(kind));
        h.set_mode(0o644);
        fill(
            &mut h.as_gnu_mut().expect("GNU header").name,
            b"././@LongLink",
        );
        h.set_cksum();
        self.out.append(&h, data.as_slice())
    }
}

/// Copies as much of `value` as fits into a NUL-padded header field.
fn fill(field: &mut [u8], value: &[u8]) {
    field.fill(0);
    let n = value.len().min(field.len());
    field[..n].copy_from_slice(&value[..n]);
}

/// A GNU header with the stat's owner, permissions and mtime.
fn header(st: &FileStat, kind: EntryType) -> Header {
    let mut h = Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(st.st_mode & 0o7777);
    h.set_uid(st.st_uid as u64);
    h.set_gid(st.st_gid as u64);
    h.set_mtime(st.st_mtime.max(0) as u64);
    h.set_size(0);
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn root(dir: &Path) -> OwnedFd {
        nix::fcntl::open(dir, flags_dir(), Mode::empty()).unwrap()
    }

    fn res(root: &OwnedFd, path: &str, follow: bool) -> String {
        display(&resolve_in_root(root.as_fd(), &clean(path), follow).unwrap())
    }

    #[test]
    fn clean_is_gos_join_with_root() {
        assert_eq!(display(&clean("")), "/");
        assert_eq!(display(&clean("/")), "/");
        assert_eq!(display(&clean("a/./b//c/")), "/a/b/c");
        assert_eq!(display(&clean("/../../x")), "/x");
        assert_eq!(display(&clean("a/b/../../../c")), "/c");
    }

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let tmp = tempfile::tempdir().unwrap();
        let r = tmp.path().join("rootfs");
        std::fs::create_dir_all(r.join("etc/real")).unwrap();
        std::fs::create_dir_all(r.join("usr/lib")).unwrap();
        symlink("/../../../host", r.join("etc/abs-out")).unwrap();
        symlink("../../../../../../etc", r.join("usr/lib/rel-out")).unwrap();
        symlink("real", r.join("etc/rel")).unwrap();
        symlink("/usr/lib", r.join("lib")).unwrap();
        symlink("loop2", r.join("loop1")).unwrap();
        symlink("loop1", r.join("loop2")).unwrap();
        symlink("/etc/rel/file", r.join("etc/final")).unwrap();
        let fd = root(&r);

        // An absolute target restarts at the rootfs; `..` stops at it.
        assert_eq!(res(&fd, "/etc/abs-out/x", false), "/host/x");
        assert_eq!(res(&fd, "/usr/lib/rel-out/passwd", false), "/etc/passwd");
        assert_eq!(res(&fd, "/lib/rel-out", true), "/etc");
        assert_eq!(res(&fd, "/etc/rel/a", false), "/etc/real/a");
        // The last component is followed only when asked.
        assert_eq!(res(&fd, "/etc/final", false), "/etc/final");
        assert_eq!(res(&fd, "/etc/final", true), "/etc/real/file");
        assert_eq!(res(&fd, "/etc/abs-out", true), "/host");
        // Missing parts stay lexical.
        assert_eq!(res(&fd, "/nope/../etc/rel", true), "/etc/real");
        // Loops end with ELOOP instead of spinning.
        let e = resolve_in_root(fd.as_fd(), &clean("/loop1/x"), false).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ELOOP));
    }

    #[test]
    fn opening_refuses_symlinks_on_the_way() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("d")).unwrap();
        symlink("/", tmp.path().join("out")).unwrap();
        let fd = root(tmp.path());
        assert!(open_dir_in(fd.as_fd(), &clean("/d")).is_ok());
        let e = open_dir_in(fd.as_fd(), &clean("/out")).unwrap_err();
        assert!(matches!(
            e.raw_os_error(),
            Some(libc::ELOOP | libc::ENOTDIR)
        ));
        let e = lstat_in(fd.as_fd(), &clean("/out/etc")).unwrap_err();
        assert!(matches!(
            e.raw_os_error(),
            Some(libc::ELOOP | libc::ENOTDIR)
        ));
    }

    #[test]
    fn file_modes_match_go() {
        // Values from Go: uint32(fi.Mode()) of lstat results.
        assert_eq!(go_file_mode(libc::S_IFDIR | 0o755), 2147484141);
        assert_eq!(go_file_mode(libc::S_IFREG | 0o644), 0o644);
        assert_eq!(go_file_mode(libc::S_IFLNK | 0o777), 134218239);
        assert_eq!(
            go_file_mode(libc::S_IFDIR | libc::S_ISVTX | 0o777),
            (1 << 31) | (1 << 20) | 0o777
        );
        assert_eq!(
            go_file_mode(libc::S_IFREG | libc::S_ISUID | 0o755),
            (1 << 23) | 0o755
        );
        assert_eq!(
            go_file_mode(libc::S_IFREG | libc::S_ISGID | 0o755),
            (1 << 22) | 0o755
        );
        assert_eq!(
            go_file_mode(libc::S_IFCHR | 0o666),
            (1 << 26) | (1 << 21) | 0o666
        );
        assert_eq!(go_file_mode(libc::S_IFBLK | 0o660), (1 << 26) | 0o660);
        assert_eq!(go_file_mode(libc::S_IFIFO | 0o600), (1 << 25) | 0o600);
        assert_eq!(go_file_mode(libc::S_IFSOCK | 0o755), (1 << 24) | 0o755);
    }

    #[test]
    fn times_format_like_go_json() {
        let t = UNIX_EPOCH + Duration::new(1_700_000_000, 120_000_000);
        assert_eq!(go_time(t), "2023-11-14T22:13:20.12Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(go_time(t), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn tar_of_a_tree_names_entries_like_moby() {
        let tmp = tempfile::tempdir().unwrap();
        let r = tmp.path().join("rootfs");
        std::fs::create_dir_all(r.join("d/sub")).unwrap();
        std::fs::write(r.join("d/a"), "hello").unwrap();
        std::fs::hard_link(r.join("d/a"), r.join("d/b")).unwrap();
        symlink("/etc/passwd", r.join("d/link")).unwrap();
        let long = "x".repeat(150);
        std::fs::write(r.join("d/sub").join(&long), "").unwrap();
        let fs = ContainerFs::open(&r, None).unwrap();
        let node = fs.node(&clean("/d"));
        let bytes = fs.write_tar(&node, Some(b"d"), Vec::new()).unwrap();
        let mut archive = tar::Archive::new(bytes.as_slice());
        let mut got = Vec::new();
        for e in archive.entries().unwrap() {
            let mut e = e.unwrap();
            let name = String::from_utf8(e.path_bytes().into_owned()).unwrap();
            let kind = e.header().entry_type();
            let link = e
                .link_name_bytes()
                .map(|l| String::from_utf8(l.into_owned()).unwrap());
            let mut body = String::new();
            e.read_to_string(&mut body).unwrap();
            got.push((name, kind, link, body));
        }
        let names: Vec<&str> = got.iter().map(|g| g.0.as_str()).collect();
        let long_name = format!("d/sub/{long}");
        assert_eq!(names, ["d/", "d/a", "d/b", "d/link", "d/sub/", &long_name]);
        assert_eq!(got[1].3, "hello");
        assert_eq!(got[2].1, EntryType::Link);
        assert_eq!(got[2].2.as_deref(), Some("d/a"));
        assert_eq!(got[3].1, EntryType::Symlink);
        assert_eq!(got[3].2.as_deref(), Some("/etc/passwd"));

        // Without a top entry (export): names relative to the node.
        let bytes = fs.write_tar(&fs.node(&[]), None, Vec::new()).unwrap();
        let mut archive = tar::Archive::new(bytes.as_slice());
        let first = archive.entries().unwrap().next().unwrap().unwrap();
        assert_eq!(&*first.path_bytes(), b"d/");
    }
}
