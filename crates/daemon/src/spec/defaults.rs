//! The defaults moby's `oci/defaults.go` gives every Linux container: the
//! standard mounts, masked and read-only paths, namespaces and device rules.

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType, Mount};

/// Default `PATH` (moby's `oci.DefaultPathEnv("linux")`).
pub const DEFAULT_PATH_ENV: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Default `/dev/shm` size: 64 MiB (moby's `config.DefaultShmSize`).
pub const DEFAULT_SHM_SIZE: i64 = 64 * 1024 * 1024;

/// Paths masked in every unprivileged container (moby master's
/// `oci/defaults.go`; the per-CPU `thermal_throttle` entries are added by
/// [`masked_paths`] from the host).
pub const MASKED_PATHS: [&str; 12] = [
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Paths mounted read-only in every unprivileged container.
pub const READONLY_PATHS: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// [`MASKED_PATHS`] plus the host's `/sys/devices/system/cpu/cpu*/thermal_throttle`
/// directories, as moby masks them.
pub fn masked_paths() -> Vec<String> {
    let mut out: Vec<String> = MASKED_PATHS.iter().map(|s| s.to_string()).collect();
    if let Ok(rd) = std::fs::read_dir("/sys/devices/system/cpu") {
        let mut extra: Vec<String> = rd
            .filter_map(|e| e.ok())
            .filter(|e| {
                let n = e.file_name();
                let n = n.to_string_lossy();
                n.strip_prefix("cpu")
                    .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
            })
            .map(|e| e.path().join("thermal_throttle"))
            .filter(|p| p.exists())
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        extra.sort();
        out.extend(extra);
    }
    out
}

pub(crate) fn mount(dest: &str, kind: &str, source: &str, opts: &[&str]) -> Mount {
    let mut m = Mount::default();
    m.set_destination(dest.into());
    m.set_typ(Some(kind.to_string()));
    m.set_source(Some(source.into()));
    m.set_options(Some(opts.iter().map(|s| s.to_string()).collect()));
    m
}

/// The standard mounts; `/dev/shm` gets `size=<shm_size>`.
pub fn default_mounts(shm_size: i64) -> Vec<Mount> {
    let shm = format!("size={shm_size}");
    vec![
        mount("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"]),
        mount(
            "/dev",
            "tmpfs",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        ),
        mount(
            "/dev/pts",
            "devpts",
            "devpts",
            &[
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
                "gid=5",
            ],
        ),
        mount(
            "/sys",
            "sysfs",
            "sysfs",
            &["nosuid", "noexec", "nodev", "ro"],
        ),
        mount(
            "/sys/fs/cgroup",
            "cgroup",
            "cgroup",
            &["ro", "nosuid", "noexec", "nodev"],
        ),
        mount(
            "/dev/mqueue",
            "mqueue",
            "mqueue",
            &["nosuid", "noexec", "nodev"],
        ),
        mount(
            "/dev/shm",
            "tmpfs",
            "shm",
            &["nosuid", "noexec", "nodev", "mode=1777", &shm],
        ),
    ]
}

fn dev_rule(
    allow: bool,
    kind: Option<LinuxDeviceType>,
    major: Option<i64>,
    minor: Option<i64>,
) -> LinuxDeviceCgroup {
    let mut r = LinuxDeviceCgroup::default();
    r.set_allow(allow);
    r.set_typ(kind);
    r.set_major(major);
    r.set_minor(minor);
    r.set_access(Some("rwm".to_string()));
    r
}

/// The device cgroup rules: deny everything, then allow the standard
/// character devices (null, zero, full, tty, urandom, random, ptmx, pts),
/// denying /dev/net/tun (10:229) unless asked for; privileged allows all.
pub fn default_device_rules(privileged: bool) -> Vec<LinuxDeviceCgroup> {
    if privileged {
        return vec![dev_rule(true, Some(LinuxDeviceType::A), None, None)];
    }
    let c = Some(LinuxDeviceType::C);
    vec![
        dev_rule(false, Some(LinuxDeviceType::A), None, None),
        dev_rule(true, c, Some(1), Some(5)),
        dev_rule(true, c, Some(1), Some(3)),
        dev_rule(true, c, Some(1), Some(9)),
        dev_rule(true, c, Some(1), Some(8)),
        dev_rule(true, c, Some(5), Some(0)),
        dev_rule(true, c, Some(5), Some(1)),
        dev_rule(false, c, Some(10), Some(229)),
        dev_rule(true, c, Some(1), Some(7)),
        dev_rule(true, c, Some(5), Some(2)),
        dev_rule(true, c, Some(136), None),
    ]
}
