//! Seccomp profiles in Docker's format (moby's `profiles/seccomp`), turned
//! into the OCI `linux.seccomp` section the runtime compiles into a filter.
//!
//! Docker's format is the OCI one plus conditions the daemon resolves for
//! each container, so the runtime never sees them:
//!
//! * `archMap` lists each architecture with its sub-architectures; only the
//!   entry of the daemon's native architecture is kept (x86_64 brings x86
//!   and x32, aarch64 brings arm), because those are the ABIs a process on
//!   this host can call the kernel through.
//! * each `syscalls[]` rule may carry `includes` and `excludes` filters on
//!   `caps` (the container's effective capability set, after cap-add and
//!   cap-drop), `arches` (Go's architecture names: `amd64`, `arm64`...) and
//!   `minKernel` (`<kernel>.<major>`, compared with the running kernel). A
//!   rule is kept when no exclude matches and every include matches; this
//!   is how the default profile opens `mount`, `unshare`, `setns`... only to
//!   containers holding `CAP_SYS_ADMIN`.
//! * `name` is the old single-name spelling of `names`.
//!
//! Which profile a container gets ([`container_profile`]) follows moby's
//! `WithSeccomp`: none for `seccomp=unconfined`, none for a privileged
//! container unless it names its own profile, the built-in one for
//! `seccomp=builtin` or no option, else the JSON given as the option's value
//! (the CLI reads the file and sends its content).

use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompFilterFlag, LinuxSyscall,
};
use serde::{Deserialize, Deserializer};

use crate::error::{DaemonError, Result};

/// Docker's default profile (moby's `profiles/seccomp/default.json`).
pub const DEFAULT_PROFILE_JSON: &str = include_str!("seccomp_default.json");

/// The `seccomp=` value that selects the built-in profile explicitly.
pub const PROFILE_BUILTIN: &str = "builtin";

/// The `seccomp=` value that turns seccomp off.
pub const PROFILE_UNCONFINED: &str = "unconfined";

/// A seccomp profile as Docker's JSON spells it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// What a syscall no rule matches gets; absent with no rules means "no filter".
    #[serde(default)]
    pub default_action: Option<LinuxSeccompAction>,
    /// The errno `SCMP_ACT_ERRNO` returns by default (`EPERM` when absent).
    #[serde(default)]
    pub default_errno_ret: Option<u32>,
    /// Architectures to add to the filter as they are (exclusive with `archMap`).
    #[serde(default, deserialize_with = "null_default")]
    pub architectures: Vec<Arch>,
    /// Architectures with their sub-architectures; the native one is kept.
    #[serde(default, deserialize_with = "null_default")]
    pub arch_map: Vec<ArchEntry>,
    /// `SECCOMP_FILTER_FLAG_*` flags, passed through.
    #[serde(default, deserialize_with = "null_default")]
    pub flags: Vec<LinuxSeccompFilterFlag>,
    /// A seccomp agent's socket, passed through (the runtime refuses it).
    #[serde(default)]
    pub listener_path: Option<String>,
    /// Metadata for the seccomp agent, passed through.
    #[serde(default)]
    pub listener_metadata: Option<String>,
    /// The rules, each with its conditions.
    #[serde(default, deserialize_with = "null_default")]
    pub syscalls: Vec<Rule>,
}

/// One `archMap` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchEntry {
    /// The main architecture (`SCMP_ARCH_X86_64`).
    pub architecture: Arch,
    /// The ABIs that come with it (`SCMP_ARCH_X86`, `SCMP_ARCH_X32`).
    #[serde(default, deserialize_with = "null_default")]
    pub sub_architectures: Vec<Arch>,
}

/// One `syscalls[]` rule in Docker's format.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// The old single-name form; exclusive with `names`.
    #[serde(default)]
    pub name: Option<String>,
    /// The syscalls the rule applies to.
    #[serde(default, deserialize_with = "null_default")]
    pub names: Vec<String>,
    /// What a matching call gets.
    pub action: LinuxSeccompAction,
    /// The errno for `SCMP_ACT_ERRNO` (the profile's default when absent).
    #[serde(default)]
    pub errno_ret: Option<u32>,
    /// Argument conditions, ANDed.
    #[serde(default, deserialize_with = "null_default")]
    pub args: Vec<LinuxSeccompArg>,
    /// Conditions that must all hold for the rule to be kept.
    #[serde(default)]
    pub includes: Option<Conditions>,
    /// Conditions any of which drops the rule.
    #[serde(default)]
    pub excludes: Option<Conditions>,
}

/// A rule's `includes` / `excludes`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conditions {
    /// Capabilities (`CAP_SYS_ADMIN`) of the container.
    #[serde(default, deserialize_with = "null_default")]
    pub caps: Vec<String>,
    /// Architectures in Go's spelling (`amd64`, `arm64`, `x32`).
    #[serde(default, deserialize_with = "null_default")]
    pub arches: Vec<String>,
    /// The kernel the rule needs (includes) or is not needed from (excludes).
    #[serde(default, deserialize_with = "min_kernel")]
    pub min_kernel: Option<KernelVersion>,
}

/// A `<kernel>.<major>` version; minor revisions and suffixes do not count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KernelVersion {
    /// The `6` of `6.1.0-13-amd64`.
    pub kernel: u8,
    /// The `1` of `6.1.0-13-amd64`.
    pub major: u8,
}

/// Reads `minKernel`: a string, where `""` and `null` mean no condition.
fn min_kernel<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<KernelVersion>, D::Error> {
    match Option::<String>::deserialize(d)?.as_deref() {
        None | Some("") => Ok(None),
        Some(raw) => KernelVersion::parse_profile(raw)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

impl KernelVersion {
    /// Parses a profile's `minKernel`: exactly `<kernel>.<major>`, not `0.0`
    /// (moby's rules and wording).
    fn parse_profile(raw: &str) -> std::result::Result<KernelVersion, String> {
        let bad = |why: &str| {
            format!("invalid kernel version: {raw:?}, expected \"<kernel>.<major>\"{why}")
        };
        let parts: Vec<&str> = raw.splitn(3, '.').collect();
        if parts.len() != 2 {
            return Err(bad(""));
        }
        let num = |s: &str| s.parse::<u8>().map_err(|e| bad(&format!(": {e}")));
        let v = KernelVersion {
            kernel: num(parts[0])?,
            major: num(parts[1])?,
        };
        if v.kernel == 0 && v.major == 0 {
            return Err(bad(": version cannot be 0.0"));
        }
        Ok(v)
    }

    /// Reads a kernel release (`6.18.44-fc-v782`, `3.12-1-amd64`): the
    /// leading `<kernel>.<major>` digits, the rest ignored.
    pub fn from_release(release: &str) -> Option<KernelVersion> {
        let mut it = release.trim().split(['.', '-']);
        let kernel = it.next()?.parse().ok()?;
        let major: String = it
            .next()?
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        Some(KernelVersion {
            kernel,
            major: major.parse().ok()?,
        })
    }

    /// The running kernel's version, from `/proc/sys/kernel/osrelease`.
    pub fn running() -> Result<KernelVersion> {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_err(|e| DaemonError::io("reading the kernel version", e))?;
        KernelVersion::from_release(&release).ok_or_else(|| {
            DaemonError::System(format!(
                "cannot parse the kernel release {:?}",
                release.trim()
            ))
        })
    }
}

/// The host facts a profile's conditions are resolved against.
#[derive(Debug, Clone)]
pub struct Host {
    /// Go's name of the daemon's architecture (`amd64`, `arm64`).
    pub arch: &'static str,
    /// The OCI name of that architecture, when Docker's profiles know it.
    pub seccomp_arch: Option<Arch>,
    /// The running kernel.
    pub kernel: KernelVersion,
}

impl Host {
    /// This machine: the architecture Berth was built for and the running kernel.
    pub fn current() -> Result<Host> {
        let (arch, seccomp_arch) = native_arch();
        Ok(Host {
            arch,
            seccomp_arch,
            kernel: KernelVersion::running()?,
        })
    }
}

/// The build target's architecture in Go's spelling (what `arches` filters
/// use) and as a seccomp architecture (what `archMap` entries are keyed by).
fn native_arch() -> (&'static str, Option<Arch>) {
    match std::env::consts::ARCH {
        "x86_64" => ("amd64", Some(Arch::ScmpArchX86_64)),
        "x86" => ("x86", Some(Arch::ScmpArchX86)),
        "aarch64" => ("arm64", Some(Arch::ScmpArchAarch64)),
        "arm" => ("arm", Some(Arch::ScmpArchArm)),
        "riscv64" => ("riscv64", Some(Arch::ScmpArchRiscv64)),
        "s390x" => ("s390x", Some(Arch::ScmpArchS390x)),
        "loongarch64" => ("loongarch64", Some(Arch::ScmpArchLoongarch64)),
        "powerpc64" if cfg!(target_endian = "little") => ("ppc64le", Some(Arch::ScmpArchPpc64le)),
        "powerpc64" => ("ppc64", Some(Arch::ScmpArchPpc64)),
        other => (other, None),
    }
}

/// Reads a profile in Docker's JSON format; a document that does not fit
/// is InvalidParameter `Decoding seccomp profile failed: ...` (moby's words).
pub fn decode(body: &str) -> Result<Profile> {
    serde_json::from_str(body)
        .map_err(|e| DaemonError::invalid(format!("Decoding seccomp profile failed: {e}")))
}

/// The built-in default profile, decoded.
pub fn default_profile() -> Profile {
    decode(DEFAULT_PROFILE_JSON).expect("the built-in seccomp profile is valid")
}

/// Checks a `seccomp=` option's value at create time, so a profile that
/// cannot be read fails the create rather than the start.
pub fn validate_option(value: &str) -> Result<()> {
    if value == PROFILE_BUILTIN || value == PROFILE_UNCONFINED {
        return Ok(());
    }
    let profile = decode(value)?;
    check_shape(&profile)
}

/// Shape errors moby reports once the document is decoded.
fn check_shape(p: &Profile) -> Result<()> {
    if !p.architectures.is_empty() && !p.arch_map.is_empty() {
        return Err(DaemonError::invalid(
            "both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'",
        ));
    }
    if p.syscalls
        .iter()
        .any(|r| r.name.as_deref().is_some_and(|n| !n.is_empty()) && !r.names.is_empty())
    {
        return Err(DaemonError::invalid(
            "both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'",
        ));
    }
    if p.default_action.is_none() && !p.syscalls.is_empty() {
        return Err(DaemonError::invalid(
            "Decoding seccomp profile failed: defaultAction is required when syscalls are listed",
        ));
    }
    Ok(())
}

/// Resolves `profile` for a container holding `caps` (`CAP_`-prefixed, the
/// effective set) on `host`: the OCI section, or `None` when the profile
/// asks for no filter (no default action and no rules).
pub fn to_oci(profile: &Profile, caps: &[String], host: &Host) -> Result<Option<LinuxSeccomp>> {
    check_shape(profile)?;
    let Some(default_action) = profile.default_action else {
        return Ok(None);
    };
    let mut arches = profile.architectures.clone();
    if let Some(native) = host.seccomp_arch {
        if let Some(entry) = profile.arch_map.iter().find(|e| e.architecture == native) {
            arches.push(entry.architecture);
            arches.extend(entry.sub_architectures.iter().copied());
        }
    }
    let has_cap = |c: &String| caps.iter().any(|have| have == c);
    let mut syscalls = Vec::new();
    for rule in &profile.syscalls {
        if let Some(ex) = &rule.excludes {
            if ex.arches.iter().any(|a| a == host.arch)
                || ex.caps.iter().any(has_cap)
                || ex.min_kernel.is_some_and(|k| host.kernel >= k)
            {
                continue;
            }
        }
        if let Some(inc) = &rule.includes {
            if (!inc.arches.is_empty() && !inc.arches.iter().any(|a| a == host.arch))
                || !inc.caps.iter().all(has_cap)
                || inc.min_kernel.is_some_and(|k| host.kernel < k)
            {
                continue;
            }
        }
        let names = match rule.name.as_deref() {
            Some(n) if !n.is_empty() => vec![n.to_string()],
            _ => rule.names.clone(),
        };
        let mut sc = LinuxSyscall::default();
        sc.set_names(names);
        sc.set_action(rule.action);
        sc.set_errno_ret(rule.errno_ret);
        sc.set_args((!rule.args.is_empty()).then(|| rule.args.clone()));
        syscalls.push(sc);
    }
    let mut out = LinuxSeccomp::default();
    out.set_default_action(default_action);
    out.set_default_errno_ret(profile.default_errno_ret);
    out.set_architectures((!arches.is_empty()).then_some(arches));
    out.set_flags((!profile.flags.is_empty()).then(|| profile.flags.clone()));
    out.set_listener_path(profile.listener_path.clone().map(Into::into));
    out.set_listener_metadata(profile.listener_metadata.clone());
    out.set_syscalls(Some(syscalls));
    Ok(Some(out))
}

/// The seccomp section of a container's spec (moby's `WithSeccomp`):
/// `option` is the `seccomp=` value if any, `caps` the container's
/// effective capabilities.
pub fn container_profile(
    option: Option<&str>,
    privileged: bool,
    caps: &[String],
) -> Result<Option<LinuxSeccomp>> {
    let custom = match option {
        Some(PROFILE_UNCONFINED) => return Ok(None),
        None | Some(PROFILE_BUILTIN) => None,
        Some(json) => Some(json),
    };
    // A privileged container runs unfiltered unless it brought its own profile.
    if privileged && custom.is_none() {
        return Ok(None);
    }
    let profile = match custom {
        Some(json) => decode(json)?,
        None => default_profile(),
    };
    to_oci(&profile, caps, &Host::current()?)
}

/// Reads `null` as the type's default, as Go's decoder does for slices.
fn null_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::LinuxSeccompOperator;

    fn amd64(kernel: u8, major: u8) -> Host {
        Host {
            arch: "amd64",
            seccomp_arch: Some(Arch::ScmpArchX86_64),
            kernel: KernelVersion { kernel, major },
        }
    }

    fn caps(extra: &[&str]) -> Vec<String> {
        crate::spec::caps::DEFAULT_CAPABILITIES
            .iter()
            .chain(extra)
            .map(|s| s.to_string())
            .collect()
    }

    /// The default profile for `caps` on `host`.
    fn default_for(caps: &[String], host: &Host) -> LinuxSeccomp {
        to_oci(&default_profile(), caps, host).unwrap().unwrap()
    }

    /// The rules of `s` that name `syscall`.
    fn rules_for<'a>(s: &'a LinuxSeccomp, syscall: &str) -> Vec<&'a LinuxSyscall> {
        s.syscalls()
            .as_deref()
            .unwrap_or_default()
            .iter()
            .filter(|r| r.names().iter().any(|n| n == syscall))
            .collect()
    }

    /// Whether `s` allows `syscall` whatever its arguments.
    fn allows(s: &LinuxSeccomp, syscall: &str) -> bool {
        rules_for(s, syscall)
            .iter()
            .any(|r| r.action() == LinuxSeccompAction::ScmpActAllow && r.args().is_none())
    }

    fn invalid_message(r: Result<impl std::fmt::Debug>) -> String {
        match r.unwrap_err() {
            DaemonError::InvalidParameter(m) => m,
            other => panic!("expected InvalidParameter, got {other:?}"),
        }
    }

    #[test]
    fn default_profile_denies_with_eperm_and_keeps_native_abis() {
        let s = default_for(&caps(&[]), &amd64(6, 1));
        assert_eq!(s.default_action(), LinuxSeccompAction::ScmpActErrno);
        assert_eq!(s.default_errno_ret(), Some(1));
        assert_eq!(
            s.architectures().as_deref(),
            Some(&[Arch::ScmpArchX86_64, Arch::ScmpArchX86, Arch::ScmpArchX32][..])
        );
        for ok in ["read", "write", "execve", "mkdir", "arch_prctl", "chroot"] {
            assert!(allows(&s, ok), "{ok} should be allowed");
        }
        for denied in [
            "mount", "unshare", "setns", "keyctl", "add_key", "bpf", "reboot",
        ] {
            assert!(!allows(&s, denied), "{denied} should be denied");
        }
        // s390 and arm rules are not for this host.
        assert!(!allows(&s, "s390_runtime_instr"));
        assert!(!allows(&s, "arm_fadvise64_64"));

        let arm = Host {
            arch: "arm64",
            seccomp_arch: Some(Arch::ScmpArchAarch64),
            kernel: KernelVersion {
                kernel: 6,
                major: 1,
            },
        };
        let s = default_for(&caps(&[]), &arm);
        assert_eq!(
            s.architectures().as_deref(),
            Some(&[Arch::ScmpArchAarch64, Arch::ScmpArchArm][..])
        );
        assert!(allows(&s, "arm_fadvise64_64"));
        assert!(!allows(&s, "arch_prctl"));
    }

    #[test]
    fn clone_is_limited_to_threads_and_forks_without_sys_admin() {
        let s = default_for(&caps(&[]), &amd64(6, 1));
        let clone = rules_for(&s, "clone");
        assert_eq!(clone.len(), 1, "{clone:?}");
        let args = clone[0].args().as_deref().unwrap();
        assert_eq!(args.len(), 1);
        assert_eq!(args[0].index(), 0);
        assert_eq!(args[0].op(), LinuxSeccompOperator::ScmpCmpMaskedEq);
        assert_eq!(args[0].value(), 2114060288);
        // clone3 cannot be filtered on its flags, so it answers ENOSYS and
        // libc falls back to clone.
        let clone3 = rules_for(&s, "clone3");
        assert_eq!(clone3.len(), 1);
        assert_eq!(clone3[0].action(), LinuxSeccompAction::ScmpActErrno);
        assert_eq!(clone3[0].errno_ret(), Some(libc::ENOSYS as u32));
    }

    #[test]
    fn sys_admin_opens_mount_unshare_and_clone() {
        let s = default_for(&caps(&["CAP_SYS_ADMIN"]), &amd64(6, 1));
        for ok in ["mount", "umount2", "unshare", "setns", "clone", "clone3"] {
            assert!(allows(&s, ok), "{ok} should be allowed with CAP_SYS_ADMIN");
        }
        assert!(rules_for(&s, "clone3")
            .iter()
            .all(|r| r.action() == LinuxSeccompAction::ScmpActAllow));
        assert!(!allows(&s, "keyctl"));
        assert!(!allows(&s, "reboot"), "reboot needs CAP_SYS_BOOT");

        // Dropping a default capability closes its syscalls.
        let mut no_chroot = caps(&[]);
        no_chroot.retain(|c| c != "CAP_SYS_CHROOT");
        assert!(!allows(&default_for(&no_chroot, &amd64(6, 1)), "chroot"));
    }

    #[test]
    fn min_kernel_conditions_follow_the_running_kernel() {
        assert!(allows(&default_for(&caps(&[]), &amd64(4, 8)), "ptrace"));
        assert!(allows(&default_for(&caps(&[]), &amd64(6, 18)), "ptrace"));
        assert!(!allows(&default_for(&caps(&[]), &amd64(4, 4)), "ptrace"));
        let ptracer = caps(&["CAP_SYS_PTRACE"]);
        assert!(allows(&default_for(&ptracer, &amd64(4, 4)), "ptrace"));
    }

    #[test]
    fn kernel_releases_and_profile_versions_parse() {
        let v = |k, m| {
            Some(KernelVersion {
                kernel: k,
                major: m,
            })
        };
        assert_eq!(KernelVersion::from_release("6.18.44-fc-v782\n"), v(6, 18));
        assert_eq!(KernelVersion::from_release("3.12-1-amd64"), v(3, 12));
        assert_eq!(KernelVersion::from_release("5.10rc1"), v(5, 10));
        assert_eq!(KernelVersion::from_release("garbage"), None);
        assert!(KernelVersion::running().is_ok());

        let m = invalid_message(decode(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"4"}}]}"#,
        ));
        assert!(
            m.starts_with(r#"Decoding seccomp profile failed: invalid kernel version: "4", expected "<kernel>.<major>""#),
            "{m}"
        );
        let m = invalid_message(decode(
            r#"{"syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW","excludes":{"minKernel":"0.0"}}]}"#,
        ));
        assert!(m.contains("version cannot be 0.0"), "{m}");
        // An empty minKernel is no condition at all.
        let p = decode(
            r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":""}}]}"#,
        )
        .unwrap();
        assert!(allows(
            &to_oci(&p, &[], &amd64(3, 10)).unwrap().unwrap(),
            "x"
        ));
    }

    #[test]
    fn unconfined_builtin_and_privileged_choose_as_moby_does() {
        let c = caps(&[]);
        assert_eq!(
            container_profile(Some("unconfined"), false, &c).unwrap(),
            None
        );
        assert_eq!(container_profile(None, true, &c).unwrap(), None);
        assert_eq!(container_profile(Some("builtin"), true, &c).unwrap(), None);
        let builtin = container_profile(Some("builtin"), false, &c)
            .unwrap()
            .unwrap();
        assert_eq!(
            builtin,
            container_profile(None, false, &c).unwrap().unwrap()
        );
        assert_eq!(builtin.default_action(), LinuxSeccompAction::ScmpActErrno);
        // A privileged container still gets a profile it names.
        let own = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}"#;
        let s = container_profile(Some(own), true, &c).unwrap().unwrap();
        assert_eq!(s.default_action(), LinuxSeccompAction::ScmpActAllow);
    }

    #[test]
    fn custom_profiles_convert_rules_names_and_errnos() {
        let body = r#"{
            "defaultAction": "SCMP_ACT_ALLOW",
            "architectures": ["SCMP_ARCH_X86_64"],
            "flags": ["SECCOMP_FILTER_FLAG_LOG"],
            "syscalls": [
                {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
                {"name": "chmod", "action": "SCMP_ACT_KILL", "comment": "old spelling"},
                {"names": ["personality"], "action": "SCMP_ACT_ERRNO",
                 "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_NE"}]},
                {"names": ["mount"], "action": "SCMP_ACT_ERRNO", "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
                {"names": ["uname"], "action": "SCMP_ACT_ERRNO", "includes": {"arches": ["s390x"]}}
            ],
            "someFutureField": true
        }"#;
        validate_option(body).unwrap();
        let s = to_oci(&decode(body).unwrap(), &caps(&[]), &amd64(6, 1))
            .unwrap()
            .unwrap();
        assert_eq!(
            s.architectures().as_deref(),
            Some(&[Arch::ScmpArchX86_64][..])
        );
        assert_eq!(
            s.flags().as_deref(),
            Some(&[LinuxSeccompFilterFlag::SeccompFilterFlagLog][..])
        );
        let rules = s.syscalls().as_deref().unwrap();
        assert_eq!(rules.len(), 4, "{rules:?}");
        assert_eq!(rules[0].names(), &["mkdir", "mkdirat"]);
        assert_eq!(rules[0].errno_ret(), Some(13));
        assert_eq!(rules[1].names(), &["chmod"]);
        assert_eq!(rules[1].action(), LinuxSeccompAction::ScmpActKill);
        assert_eq!(rules[2].args().as_deref().unwrap()[0].value(), 8);
        assert_eq!(rules[3].names(), &["mount"]);
        // With CAP_SYS_ADMIN the excluded rule goes.
        let admin = to_oci(
            &decode(body).unwrap(),
            &caps(&["CAP_SYS_ADMIN"]),
            &amd64(6, 1),
        )
        .unwrap()
        .unwrap();
        assert!(rules_for(&admin, "mount").is_empty());

        // Nothing to filter: no section at all, as moby.
        assert_eq!(
            to_oci(&decode("{}").unwrap(), &[], &amd64(6, 1)).unwrap(),
            None
        );
    }

    #[test]
    fn malformed_profiles_are_invalid_parameter_with_mobys_wording() {
        for body in [
            "not json",
            r#"{"defaultAction": 5}"#,
            r#"{"defaultAction": "SCMP_ACT_MAYBE"}"#,
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["x"]}]}"#,
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": {}}"#,
        ] {
            let m = invalid_message(validate_option(body));
            assert!(
                m.starts_with("Decoding seccomp profile failed: "),
                "{body}: {m}"
            );
            assert!(container_profile(Some(body), false, &caps(&[])).is_err());
        }
        let m = invalid_message(validate_option(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86"],"archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":null}]}"#,
        ));
        assert_eq!(m, "both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'");
        let m = invalid_message(validate_option(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"a","names":["b"],"action":"SCMP_ACT_ERRNO"}]}"#,
        ));
        assert_eq!(m, "both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'");
        let m = invalid_message(validate_option(
            r#"{"syscalls":[{"names":["b"],"action":"SCMP_ACT_ERRNO"}]}"#,
        ));
        assert!(m.contains("defaultAction"), "{m}");
        // The special values are not JSON and need none.
        validate_option("unconfined").unwrap();
        validate_option("builtin").unwrap();
    }
}
