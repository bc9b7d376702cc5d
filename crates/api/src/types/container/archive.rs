//! `HEAD`/`GET /containers/{id}/archive` (`docker cp`): the stat of a path
//! in a container, sent base64-encoded in the
//! [`PATH_STAT_HEADER`] header (moby `container.PathStat`).

use serde::{Deserialize, Serialize};

use crate::types::null_default;

/// The response header carrying the base64 of a [`PathStat`]'s JSON.
pub const PATH_STAT_HEADER: &str = "X-Docker-Container-Path-Stat";

/// A file's stat, as `docker cp` reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PathStat {
    /// The file or directory name.
    #[serde(rename = "name", deserialize_with = "null_default")]
    pub name: String,
    /// Its size in bytes.
    #[serde(rename = "size", deserialize_with = "null_default")]
    pub size: i64,
    /// Go's `os.FileMode`: permission bits plus Go's type bits
    /// (directory `1 << 31`, symlink `1 << 27`, ...).
    #[serde(rename = "mode", deserialize_with = "null_default")]
    pub mode: u32,
    /// Modification time (RFC 3339 with nanoseconds).
    #[serde(rename = "mtime", deserialize_with = "null_default")]
    pub mtime: String,
    /// A symlink's target (empty otherwise).
    #[serde(rename = "linkTarget", deserialize_with = "null_default")]
    pub link_target: String,
}

/// Go's `os.ModeDir` bit in [`PathStat::mode`].
pub const MODE_DIR: u32 = 1 << 31;
/// Go's `os.ModeSymlink` bit in [`PathStat::mode`].
pub const MODE_SYMLINK: u32 = 1 << 27;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_case_wire_names() {
        let s = PathStat {
            name: "etc".into(),
            size: 4096,
            mode: MODE_DIR | 0o755,
            mtime: "2025-06-01T10:00:00Z".into(),
            link_target: String::new(),
        };
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"name":"etc","size":4096,"mode":2147484141,"mtime":"2025-06-01T10:00:00Z","linkTarget":""}"#
        );
    }
}
