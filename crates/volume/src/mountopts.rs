//! The `o` option of a local volume, split as mount(8) does into the flags
//! mount(2) takes and the data string the filesystem parses.

use nix::mount::MsFlags;

/// `o` split into mount flags and filesystem data.
#[derive(Debug, PartialEq)]
pub(crate) struct MountOpts {
    /// Flags for mount(2) (`ro`, `nosuid`, `bind`, ...).
    pub flags: MsFlags,
    /// Everything else, comma-joined, passed as mount(2)'s data
    /// (`size=64m`, `uid=1000`, `addr=...`).
    pub data: String,
}

impl MountOpts {
    /// Whether `o` asked for a bind mount (`bind` or `rbind`).
    pub fn is_bind(&self) -> bool {
        self.flags.contains(MsFlags::MS_BIND)
    }

    /// The flags a bind mount must be remounted with to take effect: the
    /// kernel ignores `ro`, `nosuid`, ... on the initial MS_BIND.
    pub fn bind_remount_flags(&self) -> Option<MsFlags> {
        let extra = self.flags - (MsFlags::MS_BIND | MsFlags::MS_REC);
        (!extra.is_empty()).then_some(extra | MsFlags::MS_BIND | MsFlags::MS_REMOUNT)
    }
}

/// Parses `o` (`size=64m,uid=1000`, `bind,ro`).
pub(crate) fn parse(o: &str) -> MountOpts {
    let mut out = MountOpts {
        flags: MsFlags::empty(),
        data: String::new(),
    };
    let mut data = Vec::new();
    for opt in o.split(',').filter(|s| !s.is_empty()) {
        let (set, clear) = match opt {
            "ro" => (MsFlags::MS_RDONLY, MsFlags::empty()),
            "rw" => (MsFlags::empty(), MsFlags::MS_RDONLY),
            "nosuid" => (MsFlags::MS_NOSUID, MsFlags::empty()),
            "suid" => (MsFlags::empty(), MsFlags::MS_NOSUID),
            "nodev" => (MsFlags::MS_NODEV, MsFlags::empty()),
            "dev" => (MsFlags::empty(), MsFlags::MS_NODEV),
            "noexec" => (MsFlags::MS_NOEXEC, MsFlags::empty()),
            "exec" => (MsFlags::empty(), MsFlags::MS_NOEXEC),
            "sync" => (MsFlags::MS_SYNCHRONOUS, MsFlags::empty()),
            "async" => (MsFlags::empty(), MsFlags::MS_SYNCHRONOUS),
            "dirsync" => (MsFlags::MS_DIRSYNC, MsFlags::empty()),
            "noatime" => (MsFlags::MS_NOATIME, MsFlags::empty()),
            "atime" => (MsFlags::empty(), MsFlags::MS_NOATIME),
            "nodiratime" => (MsFlags::MS_NODIRATIME, MsFlags::empty()),
            "diratime" => (MsFlags::empty(), MsFlags::MS_NODIRATIME),
            "relatime" => (MsFlags::MS_RELATIME, MsFlags::empty()),
            "norelatime" => (MsFlags::empty(), MsFlags::MS_RELATIME),
            "strictatime" => (MsFlags::MS_STRICTATIME, MsFlags::empty()),
            "bind" => (MsFlags::MS_BIND, MsFlags::empty()),
            "rbind" => (MsFlags::MS_BIND | MsFlags::MS_REC, MsFlags::empty()),
            "defaults" => (MsFlags::empty(), MsFlags::empty()),
            other => {
                data.push(other);
                continue;
            }
        };
        out.flags = (out.flags - clear) | set;
    }
    out.data = data.join(",");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_flags_from_data() {
        let o = parse("size=64m,ro,uid=1000,nosuid");
        assert_eq!(o.flags, MsFlags::MS_RDONLY | MsFlags::MS_NOSUID);
        assert_eq!(o.data, "size=64m,uid=1000");
        assert!(!o.is_bind());
    }

    #[test]
    fn bind_with_ro_needs_a_remount() {
        let o = parse("bind,ro");
        assert!(o.is_bind());
        assert_eq!(
            o.bind_remount_flags(),
            Some(MsFlags::MS_RDONLY | MsFlags::MS_BIND | MsFlags::MS_REMOUNT)
        );
        assert_eq!(parse("rbind").bind_remount_flags(), None);
        assert_eq!(parse("ro,rw").flags, MsFlags::empty());
    }
}
