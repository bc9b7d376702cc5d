//! Spooling an untrusted archive to disk.
//!
//! Every entry name is normalized first: an absolute name or one with a
//! `..` component is refused. Only regular files and directories are
//! created on disk, so nothing below the spool directory is ever a link and
//! a normalized name can never reach outside it. Symbolic and hard links
//! (the legacy format uses them for layers shared by several images) are
//! only recorded, and resolved lexically, inside the archive, when a name is
//! looked up. Anything else (devices, FIFOs) is refused.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::ImageError;

/// Links followed while resolving one name before giving up (as `ELOOP`).
const MAX_LINK_HOPS: usize = 40;

static SPOOL_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A link entry, recorded but not created.
#[derive(Debug, Clone)]
enum Link {
    /// A symlink's raw target, relative to the link's directory.
    Symbolic(String),
    /// A hard link's target, an archive name (normalized).
    Hard(String),
}

/// An archive extracted into a private directory, removed on drop.
#[derive(Debug)]
pub(super) struct Spool {
    dir: PathBuf,
    files: BTreeSet<String>,
    links: BTreeMap<String, Link>,
}

impl Drop for Spool {
    fn drop(&mut self) {
        if let Err(e) = fs::remove_dir_all(&self.dir) {
            if e.kind() != io::ErrorKind::NotFound {
                tracing::warn!(path = %self.dir.display(), error = %e, "removing load spool directory");
            }
        }
    }
}

fn bad_entry(name: &str, why: impl std::fmt::Display) -> ImageError {
    ImageError::InvalidParameter(format!("invalid archive entry {name:?}: {why}"))
}

/// `a/./b//c` -> `a/b/c`; refuses absolute names and `..` components.
/// The empty string stands for the archive root.
fn normalize(raw: &[u8]) -> Result<String, String> {
    let s = std::str::from_utf8(raw).map_err(|_| "the name is not UTF-8".to_string())?;
    if s.starts_with('/') {
        return Err("absolute paths are not allowed".into());
    }
    let mut parts = Vec::new();
    for c in s.split('/') {
        match c {
            "" | "." => {}
            ".." => return Err("'..' path components are not allowed".into()),
            c => parts.push(c),
        }
    }
    Ok(parts.join("/"))
}

impl Spool {
    /// Reads the whole tar from `input` into a new directory under `parent`.
    pub(super) fn extract(parent: &Path, input: &mut dyn Read) -> Result<Spool, ImageError> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let dir = parent.join(format!(
            "load-{}-{}-{nanos}",
            std::process::id(),
            SPOOL_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .map_err(ImageError::io(format!("creating {}", dir.display())))?;
        // From here on, Drop removes the directory whatever happens.
        let mut spool = Spool {
            dir,
            files: BTreeSet::new(),
            links: BTreeMap::new(),
        };
        spool.read_entries(input)?;
        Ok(spool)
    }

    fn read_entries(&mut self, input: &mut dyn Read) -> Result<(), ImageError> {
        let mut archive = tar::Archive::new(input);
        let entries = archive
            .entries()
            .map_err(ImageError::io("reading the archive"))?;
        for entry in entries {
            let mut entry = entry.map_err(ImageError::io("reading the archive"))?;
            let raw = entry.path_bytes().into_owned();
            let shown = String::from_utf8_lossy(&raw).into_owned();
            let name = normalize(&raw).map_err(|why| bad_entry(&shown, why))?;
            let kind = entry.header().entry_type();
            match kind {
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    if name.is_empty() {
                        return Err(bad_entry(&shown, "a file cannot be the archive root"));
                    }
                    let path = self.dir.join(&name);
                    if let Some(parent) = path.parent() {
                        fs::create_dir_all(parent).map_err(|e| bad_entry(&shown, e))?;
                    }
                    let mut file = File::create(&path).map_err(|e| bad_entry(&shown, e))?;
                    io::copy(&mut entry, &mut file).map_err(ImageError::io(format!(
                        "extracting archive entry {shown:?}"
                    )))?;
                    self.links.remove(&name);
                    self.files.insert(name);
                }
                tar::EntryType::Directory => {
                    if self.files.contains(&name) {
                        return Err(bad_entry(&shown, "a directory replaces a file"));
                    }
                    fs::create_dir_all(self.dir.join(&name)).map_err(|e| bad_entry(&shown, e))?;
                }
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    if name.is_empty() {
                        return Err(bad_entry(&shown, "a link cannot be the archive root"));
                    }
                    let target = entry
                        .link_name_bytes()
                        .ok_or_else(|| bad_entry(&shown, "link without a target"))?
                        .into_owned();
                    let link = if kind == tar::EntryType::Symlink {
                        let t = String::from_utf8(target)
                            .map_err(|_| bad_entry(&shown, "the link target is not UTF-8"))?;
                        Link::Symbolic(t)
                    } else {
                        let t = normalize(&target)
                            .map_err(|why| bad_entry(&shown, format!("hard link target: {why}")))?;
                        Link::Hard(t)
                    };
                    self.files.remove(&name);
                    self.links.insert(name, link);
                }
                tar::EntryType::XGlobalHeader
                | tar::EntryType::XHeader
                | tar::EntryType::GNULongName
                | tar::EntryType::GNULongLink => {}
                other => {
                    return Err(bad_entry(
                        &shown,
                        format!(
                            "unsupported entry type {other:?} (only files, directories and links)"
                        ),
                    ))
                }
            }
        }
        Ok(())
    }

    /// The archive name `name` (as written in `manifest.json`, say) refers
    /// to once links are followed. Errors name the entry and the link.
    fn resolve(&self, name: &str) -> Result<String, ImageError> {
        let mut pending: VecDeque<String> = name.split('/').map(str::to_string).collect();
        if name.starts_with('/') {
            return Err(bad_entry(name, "absolute paths are not allowed"));
        }
        let mut out: Vec<String> = Vec::new();
        let mut hops = 0;
        let mut via: Option<String> = None;
        while let Some(c) = pending.pop_front() {
            match c.as_str() {
                "" | "." => {}
                ".." => {
                    if out.pop().is_none() {
                        return Err(match &via {
                            Some(link) => bad_entry(
                                link,
                                format!("link points outside the archive (resolving {name:?})"),
                            ),
                            None => bad_entry(name, "the path leads outside the archive"),
                        });
                    }
                }
                _ => {
                    out.push(c);
                    let key = out.join("/");
                    let Some(link) = self.links.get(&key) else {
                        continue;
                    };
                    hops += 1;
                    if hops > MAX_LINK_HOPS {
                        return Err(bad_entry(name, "too many levels of links"));
                    }
                    out.pop();
                    let target = match link {
                        Link::Symbolic(t) => {
                            if t.starts_with('/') {
                                return Err(bad_entry(
                                    &key,
                                    format!("link points outside the archive (to {t:?})"),
                                ));
                            }
                            t
                        }
                        Link::Hard(t) => {
                            out.clear();
                            t
                        }
                    };
                    for part in target.split('/').rev() {
                        pending.push_front(part.to_string());
                    }
                    via = Some(key);
                }
            }
        }
        Ok(out.join("/"))
    }

    /// Whether `name` is (or links to) a regular file of the archive.
    pub(super) fn has_file(&self, name: &str) -> bool {
        self.resolve(name)
            .is_ok_and(|resolved| self.files.contains(&resolved))
    }

    /// The spooled file `name` refers to.
    pub(super) fn path_of(&self, name: &str) -> Result<PathBuf, ImageError> {
        let resolved = self.resolve(name)?;
        if !self.files.contains(&resolved) {
            return Err(ImageError::InvalidParameter(format!(
                "invalid archive: no file {name:?} in the archive"
            )));
        }
        Ok(self.dir.join(resolved))
    }

    /// Reads the small file `name`, refusing more than `limit` bytes.
    pub(super) fn read_small(&self, name: &str, limit: u64) -> Result<Vec<u8>, ImageError> {
        let path = self.path_of(name)?;
        let file = File::open(&path).map_err(ImageError::io(format!("reading {name:?}")))?;
        let mut buf = Vec::new();
        file.take(limit.saturating_add(1))
            .read_to_end(&mut buf)
            .map_err(ImageError::io(format!("reading {name:?}")))?;
        if buf.len() as u64 > limit {
            return Err(bad_entry(name, format!("larger than {limit} bytes")));
        }
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spool_with(links: &[(&str, Link)], files: &[&str]) -> Spool {
        Spool {
            dir: PathBuf::from("/nonexistent-spool"),
            files: files.iter().map(|s| s.to_string()).collect(),
            links: links
                .iter()
                .map(|(n, l)| (n.to_string(), l.clone()))
                .collect(),
        }
    }

    #[test]
    fn normalize_refuses_escapes() {
        assert_eq!(normalize(b"./a//b/./c").unwrap(), "a/b/c");
        assert_eq!(normalize(b"./").unwrap(), "");
        assert!(normalize(b"/etc/passwd").unwrap_err().contains("absolute"));
        assert!(normalize(b"a/../../evil").unwrap_err().contains(".."));
    }

    #[test]
    fn resolves_links_inside_the_archive_only() {
        let s = spool_with(
            &[
                ("b/layer.tar", Link::Symbolic("../a/layer.tar".into())),
                ("c/layer.tar", Link::Hard("a/layer.tar".into())),
                ("d", Link::Symbolic("a".into())),
                ("evil", Link::Symbolic("/etc/passwd".into())),
                ("up", Link::Symbolic("../../etc/passwd".into())),
                ("loop", Link::Symbolic("loop".into())),
            ],
            &["a/layer.tar"],
        );
        assert_eq!(s.resolve("b/layer.tar").unwrap(), "a/layer.tar");
        assert_eq!(s.resolve("c/layer.tar").unwrap(), "a/layer.tar");
        assert_eq!(s.resolve("d/layer.tar").unwrap(), "a/layer.tar");
        assert!(s.has_file("b/layer.tar"));
        let err = s.resolve("evil").unwrap_err().to_string();
        assert!(err.contains("\"evil\"") && err.contains("outside"), "{err}");
        let err = s.resolve("up").unwrap_err().to_string();
        assert!(err.contains("\"up\"") && err.contains("outside"), "{err}");
        let err = s.resolve("../x").unwrap_err().to_string();
        assert!(err.contains("outside"), "{err}");
        let err = s.resolve("loop").unwrap_err().to_string();
        assert!(err.contains("too many"), "{err}");
        assert!(!s.has_file("a"));
    }
}
