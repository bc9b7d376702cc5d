//! `cp`: copy files between a container and the host (docker/cli's
//! `container/cp.go`): one side is `CONTAINER:PATH`. A copy out extracts
//! the container's tar, renaming its top entry when the destination does
//! not exist; a copy in tars the source and extracts it into the
//! destination directory (or its parent, under the destination's name).

use std::io::Cursor;
use std::path::{Component, Path, PathBuf};

use berth_client::Client;
use bytes::Bytes;

use crate::cli::CpArgs;
use crate::errors::{CliError, CmdResult};

/// `CONTAINER:PATH` split, or `None` for a host path (a path with a `/`
/// before any `:` is local, as Docker reads it).
fn split_container(arg: &str) -> Option<(&str, &str)> {
    if arg.starts_with('/') || arg.starts_with('.') {
        return None;
    }
    let (c, p) = arg.split_once(':')?;
    (!c.is_empty() && !c.contains('/')).then_some((c, p))
}

/// The last component of `path` (`.` for none).
fn base_name(path: &str) -> String {
    Path::new(path.trim_end_matches('/'))
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| ".".into())
}

/// Runs `cp`.
pub async fn cp(client: &Client, args: &CpArgs) -> CmdResult {
    match (split_container(&args.src), split_container(&args.dest)) {
        (Some((c, path)), None) => copy_out(client, c, path, Path::new(&args.dest)).await,
        (None, Some((c, path))) => copy_in(client, Path::new(&args.src), c, path).await,
        (Some(_), Some(_)) => Err(CliError::msg("copying between containers is not supported")),
        (None, None) => Err(CliError::msg("must specify at least one container source")),
    }
}

async fn copy_out(client: &Client, container: &str, path: &str, dest: &Path) -> CmdResult {
    let (stat, tar) = client.container_archive(container, path).await?;
    // Into an existing directory the entry keeps its name; otherwise it
    // becomes `dest`.
    let (dir, rename) = if dest.is_dir() {
        (dest.to_path_buf(), None)
    } else {
        let parent = dest
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| CliError::msg(format!("invalid destination {}", dest.display())))?;
        (parent, Some(name))
    };
    tokio::task::spawn_blocking(move || extract(tar, &dir, &stat.name, rename.as_deref()))
        .await
        .map_err(|e| CliError::msg(e.to_string()))?
        .map_err(CliError::msg)?;
    Ok(0)
}

/// Extracts `tar` into `dir`, the top entry `top` renamed to `rename`.
/// Entries that would leave `dir` are refused.
fn extract(tar: Bytes, dir: &Path, top: &str, rename: Option<&str>) -> Result<(), String> {
    let mut archive = tar::Archive::new(Cursor::new(tar));
    archive.set_preserve_permissions(true);
    for entry in archive.entries().map_err(|e| e.to_string())? {
        let mut entry = entry.map_err(|e| e.to_string())?;
        let path = entry.path().map_err(|e| e.to_string())?.into_owned();
        if path.components().any(|c| {
            matches!(
                c,
                Component::ParentDir | Component::RootDir | Component::Prefix(_)
            )
        }) {
            return Err(format!("refusing archive entry {}", path.display()));
        }
        let mut target: PathBuf = path.clone();
        if let Some(new) = rename {
            if let Ok(rest) = path.strip_prefix(top) {
                target = if rest.as_os_str().is_empty() {
                    PathBuf::from(new)
                } else {
                    Path::new(new).join(rest)
                };
            }
        }
        let out = dir.join(&target);
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        entry
            .unpack(&out)
            .map_err(|e| format!("{}: {e}", out.display()))?;
    }
    Ok(())
}

async fn copy_in(client: &Client, src: &Path, container: &str, path: &str) -> CmdResult {
    if !src.exists() {
        return Err(CliError::msg(format!(
            "lstat {}: no such file or directory",
            src.display()
        )));
    }
    // Into an existing directory the source keeps its name; otherwise it
    // lands in the parent under the destination's name.
    let (dir, name) = match client.container_stat_path(container, path).await {
        Ok(stat) if stat.mode & berth_api::types::container::MODE_DIR != 0 => {
            (path.to_string(), base_name(&src.to_string_lossy()))
        }
        _ => {
            let p = Path::new(path);
            let parent = p
                .parent()
                .map(|d| d.to_string_lossy().into_owned())
                .filter(|d| !d.is_empty())
                .unwrap_or_else(|| "/".into());
            (parent, base_name(path))
        }
    };
    let src = src.to_path_buf();
    let tar = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
        let mut b = tar::Builder::new(Vec::new());
        b.follow_symlinks(false);
        if src.is_dir() {
            b.append_dir_all(&name, &src)?;
        } else {
            b.append_path_with_name(&src, &name)?;
        }
        b.into_inner()
    })
    .await
    .map_err(|e| CliError::msg(e.to_string()))?
    .map_err(|e| CliError::msg(e.to_string()))?;
    client
        .container_put_archive(container, &dir, Bytes::from(tar))
        .await?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_paths_are_told_from_host_paths() {
        assert_eq!(
            split_container("web:/etc/hosts"),
            Some(("web", "/etc/hosts"))
        );
        assert_eq!(split_container("/tmp/a:b"), None);
        assert_eq!(split_container("./x:y"), None);
        assert_eq!(split_container("file"), None);
        assert_eq!(base_name("/etc/hosts/"), "hosts");
    }

    #[test]
    fn extraction_renames_the_top_entry_and_refuses_escapes() {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(3);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, "hostname", &b"abc"[..]).unwrap();
        let tar = Bytes::from(b.into_inner().unwrap());
        let dir = tempfile::tempdir().unwrap();
        extract(tar.clone(), dir.path(), "hostname", Some("copy")).unwrap();
        assert_eq!(std::fs::read(dir.path().join("copy")).unwrap(), b"abc");
        extract(tar, dir.path(), "hostname", None).unwrap();
        assert_eq!(std::fs::read(dir.path().join("hostname")).unwrap(), b"abc");

        let mut raw = vec![0u8; 512];
        raw[..9].copy_from_slice(b"../escape");
        let mut h = tar::Header::from_byte_slice(&raw).clone();
        h.set_size(0);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        let mut evil = h.as_bytes().to_vec();
        evil.extend(vec![0u8; 1024]);
        let err = extract(Bytes::from(evil), dir.path(), "x", None).unwrap_err();
        assert!(err.contains("refusing"), "{err}");
        assert!(!dir.path().parent().unwrap().join("escape").exists());
    }
}
