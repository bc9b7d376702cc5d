//! Resolving `Config.User` and `HostConfig.GroupAdd` against the image's own
//! `/etc/passwd` and `/etc/group`, as runc's `user.GetExecUser` and moby's
//! `getUser` do. The files are looked up inside the rootfs with symlinks
//! resolved *within* it (like moby's `FollowSymlinkInScope`), so a link to
//! an absolute or `../..` path never reaches the host's files.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

use crate::error::{DaemonError, Result};

/// The identity a container process runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecUser {
    /// User ID.
    pub uid: u32,
    /// Primary group ID.
    pub gid: u32,
    /// Supplementary group IDs: the user's groups from `/etc/group` (when
    /// no group was named explicitly) followed by `GroupAdd`.
    pub additional_gids: Vec<u32>,
    /// The home directory from `/etc/passwd` (`/` when unknown).
    pub home: String,
}

/// One `/etc/passwd` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    /// Login name.
    pub name: String,
    /// User ID.
    pub uid: u32,
    /// Primary group ID.
    pub gid: u32,
    /// Home directory.
    pub home: String,
}

/// One `/etc/group` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    /// Group name.
    pub name: String,
    /// Group ID.
    pub gid: u32,
    /// Member user names.
    pub members: Vec<String>,
}

const MAX_SYMLINKS: usize = 255;
const MAX_FILE: u64 = 16 << 20;

/// Resolves `path` (absolute or relative, as seen inside the container)
/// to a host path under `root`, following symlinks as if `root` were `/`:
/// `..` stops at the root and absolute link targets restart from it. The
/// result may not exist.
pub fn resolve_in_root(root: &Path, path: &Path) -> Result<PathBuf> {
    let mut pending: Vec<PathBuf> = path
        .components()
        .rev()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(PathBuf::from(n)),
            Component::ParentDir => Some(PathBuf::from("..")),
            _ => None,
        })
        .collect();
    let mut current: Vec<std::ffi::OsString> = Vec::new();
    let mut hops = 0;
    while let Some(part) = pending.pop() {
        if part == Path::new("..") {
            current.pop();
            continue;
        }
        let mut candidate = root.to_path_buf();
        candidate.extend(&current);
        candidate.push(&part);
        match std::fs::symlink_metadata(&candidate) {
            Ok(md) if md.file_type().is_symlink() => {
                hops += 1;
                if hops > MAX_SYMLINKS {
                    return Err(DaemonError::invalid(format!(
                        "too many levels of symbolic links resolving {} in the container",
                        path.display()
                    )));
                }
                let target = std::fs::read_link(&candidate)
                    .map_err(|e| DaemonError::io(format!("readlink {}", candidate.display()), e))?;
                if target.is_absolute() {
                    current.clear();
                }
                for c in target.components().rev() {
                    match c {
                        Component::Normal(n) => pending.push(PathBuf::from(n)),
                        Component::ParentDir => pending.push(PathBuf::from("..")),
                        _ => {}
                    }
                }
            }
            _ => current.push(part.into_os_string()),
        }
    }
    let mut out = root.to_path_buf();
    out.extend(&current);
    Ok(out)
}

/// Reads a regular file at `path` inside `rootfs` (see [`resolve_in_root`]);
/// `Ok(None)` when it does not exist. The final open refuses symlinks and
/// non-regular files, and the size is capped at 16 MiB.
pub fn read_file_in_root(rootfs: &Path, path: &str) -> Result<Option<String>> {
    let host = resolve_in_root(rootfs, Path::new(path))?;
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(&host);
    let file: File = match file {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(DaemonError::io(
                format!("opening {path} in the container"),
                e,
            ))
        }
    };
    let md = file
        .metadata()
        .map_err(|e| DaemonError::io(format!("stat {path} in the container"), e))?;
    if !md.is_file() {
        return Ok(None);
    }
    let mut s = String::new();
    file.take(MAX_FILE)
        .read_to_string(&mut s)
        .map_err(|e| DaemonError::io(format!("reading {path} in the container"), e))?;
    Ok(Some(s))
}

fn fields(line: &str) -> Option<Vec<&str>> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() || line.trim_start().starts_with('#') {
        return None;
    }
    Some(line.split(':').collect())
}

/// Parses `/etc/passwd` text, skipping comments and malformed lines.
pub fn parse_passwd(text: &str) -> Vec<PasswdEntry> {
    text.lines()
        .filter_map(fields)
        .filter_map(|f| {
            Some(PasswdEntry {
                name: f.first()?.to_string(),
                uid: f.get(2)?.parse().ok()?,
                gid: f.get(3)?.parse().ok()?,
                home: f.get(5).map(|s| s.to_string()).unwrap_or_default(),
            })
        })
        .collect()
}

/// Parses `/etc/group` text, skipping comments and malformed lines.
pub fn parse_group(text: &str) -> Vec<GroupEntry> {
    text.lines()
        .filter_map(fields)
        .filter_map(|f| {
            Some(GroupEntry {
                name: f.first()?.to_string(),
                gid: f.get(2)?.parse().ok()?,
                members: f
                    .get(3)
                    .map(|m| {
                        m.split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(String::from)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect()
}

fn parse_id(s: &str) -> Option<u32> {
    // runc accepts any int in [0, 2^31-1].
    s.parse::<u32>().ok().filter(|v| *v <= i32::MAX as u32)
}

/// Resolves `user_spec` (`""`, `name`, `uid`, `name:group`, `uid:gid`, ...)
/// and `group_add` against the rootfs' `/etc/passwd` and `/etc/group`.
///
/// Errors (InvalidParameter), worded as runc/moby word them:
/// `unable to find user xyz: no matching entries in passwd file`,
/// `unable to find group g: no matching entries in group file`,
/// `Unable to find group g: no matching entries in group file` (GroupAdd).
pub fn resolve_user(rootfs: &Path, user_spec: &str, group_add: &[String]) -> Result<ExecUser> {
    let passwd = read_file_in_root(rootfs, "/etc/passwd")?.map(|t| parse_passwd(&t));
    let groups = read_file_in_root(rootfs, "/etc/group")?.map(|t| parse_group(&t));
    resolve_user_from(passwd.as_deref(), groups.as_deref(), user_spec, group_add)
}

/// [`resolve_user`] on already-parsed files (`None`: the file is missing).
pub fn resolve_user_from(
    passwd: Option<&[PasswdEntry]>,
    groups: Option<&[GroupEntry]>,
    user_spec: &str,
    group_add: &[String],
) -> Result<ExecUser> {
    let (user_arg, group_arg) = match user_spec.split_once(':') {
        Some((u, g)) => (u, g),
        None => (user_spec, ""),
    };
    let mut out = ExecUser {
        uid: 0,
        gid: 0,
        additional_gids: Vec::new(),
        home: "/".to_string(),
    };
    let uid_arg = parse_id(user_arg);
    let gid_arg = parse_id(group_arg);

    let matched = passwd.unwrap_or_default().iter().find(|u| {
        if user_arg.is_empty() {
            u.uid == 0
        } else if let Some(uid) = uid_arg {
            u.uid == uid
        } else {
            u.name == user_arg
        }
    });
    let mut matched_name = None;
    if let Some(u) = matched {
        out.uid = u.uid;
        out.gid = u.gid;
        if !u.home.is_empty() {
            out.home = u.home.clone();
        }
        matched_name = Some(u.name.clone());
    } else if !user_arg.is_empty() {
        match uid_arg {
            Some(uid) => out.uid = uid,
            None => {
                return Err(DaemonError::invalid(format!(
                    "unable to find user {user_arg}: no matching entries in passwd file"
                )))
            }
        }
    }

    let group_list = groups.unwrap_or_default();
    if !group_arg.is_empty() {
        let g = group_list.iter().find(|g| match gid_arg {
            Some(gid) => g.gid == gid,
            None => g.name == group_arg,
        });
        match (g, gid_arg) {
            (Some(g), _) => out.gid = g.gid,
            (None, Some(gid)) => out.gid = gid,
            (None, None) => {
                return Err(DaemonError::invalid(format!(
                    "unable to find group {group_arg}: no matching entries in group file"
                )))
            }
        }
    } else if let Some(name) = &matched_name {
        out.additional_gids = group_list
            .iter()
            .filter(|g| g.members.iter().any(|m| m == name))
            .map(|g| g.gid)
            .collect();
    }

    for ag in group_add {
        let found = group_list
            .iter()
            .find(|g| g.name == *ag || parse_id(ag) == Some(g.gid));
        match (found, parse_id(ag)) {
            (Some(g), _) => out.additional_gids.push(g.gid),
            (None, Some(gid)) => out.additional_gids.push(gid),
            (None, None) => {
                return Err(DaemonError::invalid(format!(
                    "Unable to find group {ag}: no matching entries in group file"
                )))
            }
        }
    }
    Ok(out)
}
