//! `--init` (moby's `WithInit` in `daemon/oci_linux.go`): the daemon's
//! init binary is bind-mounted read-only at `/sbin/docker-init`, the path
//! Docker uses, and runs as pid 1 with `--` and the container's command.
//!
//! The binary must be static: images such as busybox carry no C library,
//! so a dynamically linked init would fail inside the container with an
//! exec error that names neither the cause nor the fix. It is checked at
//! every start instead.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use oci_spec::runtime::Mount;

use crate::config::HostConfig;
use crate::error::{DaemonError, Result};

/// Where the init is mounted in the container, as Docker does.
pub const CONTAINER_INIT_PATH: &str = "/sbin/docker-init";

/// The init binary's file name (the `berth-init` crate's binary).
pub const INIT_BINARY_NAME: &str = "berth-init";

/// How to get a usable init binary, appended to every refusal.
pub const BUILD_HINT: &str = "build the static berth-init with `cargo xtask build-init` \
     and start berthd with --init-path pointing at it";

/// The daemon's `--init` settings (dockerd's `--init` and `--init-path`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitOptions {
    /// `--init`: containers whose `HostConfig.Init` is null run with the
    /// init.
    pub default_init: bool,
    /// `--init-path`: the static init binary on the host.
    pub path: PathBuf,
}

impl Default for InitOptions {
    /// No init by default, and the binary [`locate_init_binary`] finds.
    fn default() -> Self {
        InitOptions {
            default_init: false,
            path: locate_init_binary(),
        }
    }
}

/// Where berthd looks for its init when `--init-path` is not given, in
/// order: next to the berthd executable (`exe`), the static build of a
/// source checkout (`target/init/release`, next to `target/<profile>`, where
/// `cargo xtask build-init` puts it), `/usr/local/libexec/berth`,
/// `/usr/libexec/berth`, then `PATH`.
pub fn init_candidates(exe: Option<&Path>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(dir) = exe.and_then(Path::parent) {
        out.push(dir.join(INIT_BINARY_NAME));
        if let Some(target) = dir.parent() {
            out.push(target.join("init/release").join(INIT_BINARY_NAME));
        }
    }
    for dir in ["/usr/local/libexec/berth", "/usr/libexec/berth"] {
        out.push(Path::new(dir).join(INIT_BINARY_NAME));
    }
    if let Some(paths) = std::env::var_os("PATH") {
        out.extend(std::env::split_paths(&paths).map(|d| d.join(INIT_BINARY_NAME)));
    }
    out
}

/// The default init binary: the first of [`init_candidates`] that is
/// usable; else the first that exists (a workspace build leaves a dynamic
/// one next to berthd), so the refusal names it; else the first candidate.
pub fn locate_init_binary() -> PathBuf {
    let exe = std::env::current_exe().ok();
    let candidates = init_candidates(exe.as_deref());
    candidates
        .iter()
        .find(|p| verify_init_binary(p).is_ok())
        .or_else(|| candidates.iter().find(|p| p.exists()))
        .or(candidates.first())
        .cloned()
        .unwrap_or_else(|| Path::new("/usr/local/libexec/berth").join(INIT_BINARY_NAME))
}

/// Whether a container runs with the init: its `HostConfig.Init`, or the
/// daemon's `--init` when that is null.
pub fn uses_init(host: &HostConfig, daemon_default: bool) -> bool {
    host.init.unwrap_or(daemon_default)
}

/// The init binary a container runs with, checked; `None` when it runs
/// without one. `options` are the daemon's settings (`None`: a daemon
/// without an init binary, which refuses `Init: true`).
pub fn container_init<'a>(
    host: &HostConfig,
    options: Option<&'a InitOptions>,
) -> Result<Option<&'a Path>> {
    let default = options.is_some_and(|o| o.default_init);
    if !uses_init(host, default) {
        return Ok(None);
    }
    let Some(options) = options else {
        return Err(DaemonError::System(format!(
            "--init: this daemon has no init binary configured: {BUILD_HINT}"
        )));
    };
    verify_init_binary(&options.path)?;
    Ok(Some(&options.path))
}

/// Checks that `path` is an executable static ELF file (no `PT_INTERP`
/// program header). A refusal is System (500): the daemon's setup, not
/// the request, is at fault; the message names the path and the fix.
pub fn verify_init_binary(path: &Path) -> Result<()> {
    let refuse = |why: String| {
        Err(DaemonError::System(format!(
            "the --init binary {} {why}: {BUILD_HINT}",
            path.display()
        )))
    };
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return refuse("does not exist".into())
        }
        Err(e) => return refuse(format!("cannot be read ({e})")),
    };
    use std::os::unix::fs::PermissionsExt;
    if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
        return refuse("is not an executable file".into());
    }
    match elf_has_interpreter(path) {
        Ok(Some(false)) => Ok(()),
        Ok(Some(true)) => refuse(
            "is dynamically linked (it names an ELF interpreter) and cannot run in \
             images without a C library"
                .into(),
        ),
        Ok(None) => refuse("is not an ELF executable".into()),
        Err(e) => refuse(format!("cannot be read ({e})")),
    }
}

/// Whether the ELF file at `path` has a `PT_INTERP` program header (it is
/// dynamically linked); `None` when it is not an ELF file.
pub fn elf_has_interpreter(path: &Path) -> std::io::Result<Option<bool>> {
    const PT_INTERP: u32 = 3;
    // Program header tables are a few hundred bytes; anything larger is
    // not a binary worth trusting.
    const MAX_TABLE: u64 = 64 * 1024;
    let mut f = File::open(path)?;
    let mut header = [0u8; 64];
    let n = read_up_to(&mut f, &mut header)?;
    if n < 52 || header[..4] != *b"\x7fELF" {
        return Ok(None);
    }
    let little = match header[5] {
        1 => true,
        2 => false,
        _ => return Ok(None),
    };
    let u16_at = |b: &[u8], o: usize| {
        let v = [b[o], b[o + 1]];
        u64::from(if little {
            u16::from_le_bytes(v)
        } else {
            u16::from_be_bytes(v)
        })
    };
    let u32_at = |b: &[u8], o: usize| {
        let v = [b[o], b[o + 1], b[o + 2], b[o + 3]];
        if little {
            u32::from_le_bytes(v)
        } else {
            u32::from_be_bytes(v)
        }
    };
    let (phoff, phentsize, phnum) = match header[4] {
        // ELFCLASS32
        1 => (
            u64::from(u32_at(&header, 0x1c)),
            u16_at(&header, 0x2a),
            u16_at(&header, 0x2c),
        ),
        // ELFCLASS64
        2 if n == 64 => {
            let lo = u64::from(u32_at(&header, 0x20));
            let hi = u64::from(u32_at(&header, 0x24));
            let off = if little { lo | hi << 32 } else { hi | lo << 32 };
            (off, u16_at(&header, 0x36), u16_at(&header, 0x38))
        }
        _ => return Ok(None),
    };
    let size = phentsize * phnum;
    if phentsize < 4 || size > MAX_TABLE {
        return Ok(None);
    }
    let mut table = vec![0u8; size as usize];
    f.seek(SeekFrom::Start(phoff))?;
    if read_up_to(&mut f, &mut table)? < table.len() {
        return Ok(None);
    }
    Ok(Some(
        table
            .chunks_exact(phentsize as usize)
            .any(|ph| u32_at(ph, 0) == PT_INTERP),
    ))
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
fn read_up_to(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// The process arguments under the init: `/sbin/docker-init -- <args>`.
pub fn wrap_args(args: Vec<String>) -> Vec<String> {
    let mut out = vec![CONTAINER_INIT_PATH.to_string(), "--".to_string()];
    out.extend(args);
    out
}

/// The read-only bind mount of the host's init at [`CONTAINER_INIT_PATH`].
pub fn init_mount(binary: &Path) -> Mount {
    super::defaults::mount(
        CONTAINER_INIT_PATH,
        "bind",
        &binary.to_string_lossy(),
        &["bind", "ro"],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A minimal 64-bit little-endian ELF header with `types` as its
    /// program headers' types.
    fn elf64(types: &[u32]) -> Vec<u8> {
        let mut b = vec![0u8; 64];
        b[..4].copy_from_slice(b"\x7fELF");
        b[4] = 2;
        b[5] = 1;
        b[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
        b[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        b[0x38..0x3a].copy_from_slice(&(types.len() as u16).to_le_bytes());
        for t in types {
            let mut ph = vec![0u8; 56];
            ph[..4].copy_from_slice(&t.to_le_bytes());
            b.extend(ph);
        }
        b
    }

    /// A minimal 32-bit big-endian ELF header, likewise.
    fn elf32_be(types: &[u32]) -> Vec<u8> {
        let mut b = vec![0u8; 52];
        b[..4].copy_from_slice(b"\x7fELF");
        b[4] = 1;
        b[5] = 2;
        b[0x1c..0x20].copy_from_slice(&52u32.to_be_bytes());
        b[0x2a..0x2c].copy_from_slice(&32u16.to_be_bytes());
        b[0x2c..0x2e].copy_from_slice(&(types.len() as u16).to_be_bytes());
        for t in types {
            let mut ph = vec![0u8; 32];
            ph[..4].copy_from_slice(&t.to_be_bytes());
            b.extend(ph);
        }
        b
    }

    fn write_exe(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    #[test]
    fn static_and_dynamic_elf_files_are_told_apart() {
        let d = tempfile::tempdir().unwrap();
        let stat = write_exe(d.path(), "static", &elf64(&[1, 1, 4]));
        let dynamic = write_exe(d.path(), "dyn", &elf64(&[6, 3, 1]));
        assert_eq!(elf_has_interpreter(&stat).unwrap(), Some(false));
        assert_eq!(elf_has_interpreter(&dynamic).unwrap(), Some(true));
        let be = write_exe(d.path(), "be", &elf32_be(&[1, 3]));
        assert_eq!(elf_has_interpreter(&be).unwrap(), Some(true));
        let be = write_exe(d.path(), "be-static", &elf32_be(&[1]));
        assert_eq!(elf_has_interpreter(&be).unwrap(), Some(false));
        let script = write_exe(d.path(), "sh", b"#!/bin/sh\n");
        assert_eq!(elf_has_interpreter(&script).unwrap(), None);
        let mut cut = elf64(&[1, 3]);
        cut.truncate(80);
        let cut = write_exe(d.path(), "cut", &cut);
        assert_eq!(elf_has_interpreter(&cut).unwrap(), None);
        // This test binary is a real dynamically linked executable.
        let me = std::env::current_exe().unwrap();
        assert_eq!(elf_has_interpreter(&me).unwrap(), Some(true));
    }

    #[test]
    fn refusals_name_the_path_and_the_fix() {
        let d = tempfile::tempdir().unwrap();
        let check = |p: &Path| verify_init_binary(p).unwrap_err().to_string();
        let missing = d.path().join("missing");
        assert_eq!(
            check(&missing),
            format!(
                "the --init binary {} does not exist: build the static berth-init with \
                 `cargo xtask build-init` and start berthd with --init-path pointing at it",
                missing.display()
            )
        );
        let me = std::env::current_exe().unwrap();
        assert!(
            check(&me).contains("is dynamically linked"),
            "{}",
            check(&me)
        );
        let script = write_exe(d.path(), "sh", b"#!/bin/sh\n");
        assert!(check(&script).contains("is not an ELF executable"));
        let plain = d.path().join("plain");
        std::fs::write(&plain, elf64(&[1])).unwrap();
        assert!(check(&plain).contains("is not an executable file"));
        assert!(check(d.path()).contains("is not an executable file"));
        let ok = write_exe(d.path(), "ok", &elf64(&[1]));
        verify_init_binary(&ok).unwrap();
        let e = verify_init_binary(&missing).unwrap_err();
        assert_eq!(
            berth_errdefs::HasKind::kind(&e),
            berth_errdefs::ErrorKind::System
        );
    }

    #[test]
    fn init_is_the_containers_choice_else_the_daemons() {
        let d = tempfile::tempdir().unwrap();
        let ok = write_exe(d.path(), "ok", &elf64(&[1]));
        let opts = |default_init| InitOptions {
            default_init,
            path: ok.clone(),
        };
        let host = |init| HostConfig {
            init,
            ..Default::default()
        };
        assert_eq!(
            container_init(&host(None), Some(&opts(false))).unwrap(),
            None
        );
        assert_eq!(
            container_init(&host(None), Some(&opts(true))).unwrap(),
            Some(ok.as_path())
        );
        assert_eq!(
            container_init(&host(Some(true)), Some(&opts(false))).unwrap(),
            Some(ok.as_path())
        );
        assert_eq!(
            container_init(&host(Some(false)), Some(&opts(true))).unwrap(),
            None
        );
        assert_eq!(container_init(&host(None), None).unwrap(), None);
        assert!(container_init(&host(Some(true)), None)
            .unwrap_err()
            .to_string()
            .contains("cargo xtask build-init"));
    }

    #[test]
    fn the_command_runs_under_docker_init() {
        assert_eq!(
            wrap_args(vec!["sh".into(), "-c".into(), "exit 7".into()]),
            ["/sbin/docker-init", "--", "sh", "-c", "exit 7"]
        );
        let m = init_mount(Path::new("/opt/berth-init"));
        assert_eq!(m.destination(), Path::new("/sbin/docker-init"));
        assert_eq!(m.source().as_deref(), Some(Path::new("/opt/berth-init")));
        assert_eq!(m.typ().as_deref(), Some("bind"));
        assert_eq!(
            m.options().as_deref(),
            Some(&["bind".to_string(), "ro".to_string()][..])
        );
    }

    #[test]
    fn build_spec_runs_the_command_under_the_mounted_init() {
        use crate::config::Config;
        use berth_image::config::ImageConfigFile;
        let d = tempfile::tempdir().unwrap();
        let rootfs = d.path().join("rootfs");
        std::fs::create_dir_all(rootfs.join("etc")).unwrap();
        std::fs::write(rootfs.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
        let image = ImageConfigFile::parse(
            br#"{"architecture":"amd64","os":"linux","config":{"Cmd":["sh"]},
                "rootfs":{"type":"layers","diff_ids":[]}}"#,
        )
        .unwrap();
        let config = Config {
            cmd: Some(crate::config::StrSlice(vec!["sleep".into(), "9".into()])),
            ..Default::default()
        };
        let binary = write_exe(d.path(), "berth-init", &elf64(&[1]));
        let options = InitOptions {
            default_init: false,
            path: binary.clone(),
        };
        let dir = d.path().join("container");
        let spec_for = |init: Option<bool>, options: Option<&InitOptions>| {
            let host = HostConfig {
                init,
                ..Default::default()
            };
            let mut input =
                super::super::SpecInput::new("c1", &image, &config, &host, &rootfs, &dir);
            input.init = options;
            super::super::build_spec(&input)
        };
        let args =
            |s: &oci_spec::runtime::Spec| s.process().as_ref().unwrap().args().clone().unwrap();
        let has_init_mount = |s: &oci_spec::runtime::Spec| {
            s.mounts()
                .as_ref()
                .unwrap()
                .iter()
                .any(|m| m.destination() == Path::new(CONTAINER_INIT_PATH))
        };

        let with = spec_for(Some(true), Some(&options)).unwrap();
        assert_eq!(args(&with), ["/sbin/docker-init", "--", "sleep", "9"]);
        assert!(has_init_mount(&with));
        let without = spec_for(None, Some(&options)).unwrap();
        assert_eq!(args(&without), ["sleep", "9"]);
        assert!(!has_init_mount(&without));

        // A missing binary is refused before anything is written.
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_file(&binary).unwrap();
        let e = spec_for(Some(true), Some(&options)).unwrap_err();
        assert!(e.to_string().contains("does not exist"), "{e}");
        assert!(!dir.exists());
    }

    #[test]
    fn candidates_start_next_to_the_daemon() {
        let c = init_candidates(Some(Path::new("/w/target/debug/berthd")));
        assert_eq!(c[0], Path::new("/w/target/debug/berth-init"));
        assert_eq!(c[1], Path::new("/w/target/init/release/berth-init"));
        assert_eq!(c[2], Path::new("/usr/local/libexec/berth/berth-init"));
        assert_eq!(c[3], Path::new("/usr/libexec/berth/berth-init"));
    }
}
