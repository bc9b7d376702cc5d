//! Seccomp: turns an OCI runtime spec's `linux.seccomp` section into a
//! kernel filter with libseccomp.
//!
//! The translation follows runc's `libcontainer/seccomp` closely enough that
//! Docker's default profile (after the daemon has converted it to OCI form)
//! is expressible:
//!
//! * **Actions** (`defaultAction` and each rule's `action`):
//!   `SCMP_ACT_KILL` (= kill thread), `SCMP_ACT_KILL_THREAD`,
//!   `SCMP_ACT_KILL_PROCESS`, `SCMP_ACT_TRAP`, `SCMP_ACT_ERRNO` and
//!   `SCMP_ACT_TRACE` (return code from `errnoRet` / `defaultErrnoRet`,
//!   `EPERM` when absent), `SCMP_ACT_LOG`, `SCMP_ACT_ALLOW`.
//!   `SCMP_ACT_NOTIFY` and the `listenerPath` / `listenerMetadata` fields
//!   are rejected: Berth has no seccomp-agent support.
//! * **Architectures** are added to the filter; the native architecture is
//!   always present, and listing it again is harmless.
//! * **Rules**: a rule whose action equals the default action is skipped
//!   (libseccomp refuses such rules). Syscall names libseccomp cannot
//!   resolve on this architecture are skipped silently, because profiles
//!   list syscalls that do not exist everywhere.
//! * **Arguments**: conditions are ANDed within one rule. If two conditions
//!   test the same argument index, each condition becomes a rule of its own
//!   (so they are ORed), since libseccomp cannot AND two tests of one
//!   argument. For `SCMP_CMP_MASKED_EQ`, `value` is the mask and `valueTwo`
//!   the value the masked argument must equal (as in Docker's `clone` rule).
//! * **Flags**: `SECCOMP_FILTER_FLAG_TSYNC`, `_LOG` and `_SPEC_ALLOW` set the
//!   matching libseccomp attributes.
//! * libseccomp is told *not* to set `no_new_privs` itself; the runtime
//!   decides that from `process.noNewPrivileges`.
//!
//! The spec is validated in full before anything is skipped, so a malformed
//! rule is an error on every host, not only where its syscall exists.
//!
//! Not implemented: runc's `patchbpf` stub, which makes syscalls newer than
//! the profile fail with `ENOSYS` instead of the default action's errno.

use libseccomp::error::SeccompError as LibseccompError;
use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};
use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompFilterFlag,
    LinuxSeccompOperator, LinuxSyscall,
};

/// Linux system calls take at most six arguments.
const SYSCALL_MAX_ARGS: usize = 6;

/// Return code for `SCMP_ACT_ERRNO` / `SCMP_ACT_TRACE` without an explicit one (runc's choice).
const DEFAULT_ERRNO: u32 = libc::EPERM as u32;

/// With more rules than this, libseccomp's binary-tree layout is enabled (runc's threshold).
const BINARY_TREE_MIN_RULES: usize = 32;

/// libseccomp's `SCMP_FLTATR_CTL_OPTIMIZE` level for a binary-tree syscall lookup.
const OPTIMIZE_BINARY_TREE: u32 = 2;

/// Errors turning a spec's seccomp section into a kernel filter.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    /// An architecture name that libseccomp does not know.
    #[error("seccomp: unknown architecture {0:?}")]
    UnknownArchitecture(String),

    /// libseccomp knows the architecture name but could not add it to the filter.
    #[error("seccomp: cannot add architecture {arch:?} to the filter")]
    AddArchitecture {
        /// The `SCMP_ARCH_*` name from `architectures`.
        arch: String,
        /// The libseccomp failure.
        #[source]
        source: LibseccompError,
    },

    /// An action Berth does not implement (`SCMP_ACT_NOTIFY`).
    #[error("seccomp: action {action} is not supported ({field})")]
    UnsupportedAction {
        /// The `SCMP_ACT_*` name.
        action: String,
        /// Where it was used: `defaultAction` or `syscalls[i] (...)`.
        field: String,
    },

    /// A filter flag Berth does not implement.
    #[error("seccomp: flag {0} is not supported")]
    UnsupportedFlag(String),

    /// A known flag that libseccomp or the kernel could not apply.
    #[error("seccomp: cannot set flag {flag}")]
    SetFlag {
        /// The `SECCOMP_FILTER_FLAG_*` name.
        flag: String,
        /// The libseccomp failure (usually a too-old libseccomp or kernel).
        #[source]
        source: LibseccompError,
    },

    /// `listenerPath` or `listenerMetadata` is set; seccomp agents are not supported.
    #[error("seccomp: {0} is not supported (no SCMP_ACT_NOTIFY agent support)")]
    UnsupportedListener(&'static str),

    /// An `errnoRet` / `defaultErrnoRet` that does not fit the 16-bit return data.
    #[error("seccomp: {field} {value} is out of range (maximum {max})", max = u16::MAX)]
    ErrnoOutOfRange {
        /// `defaultErrnoRet` or `syscalls[i].errnoRet`.
        field: String,
        /// The rejected value.
        value: u32,
    },

    /// A rule with an empty `names` list.
    #[error("seccomp: syscalls[{0}]: names must not be empty")]
    EmptySyscallNames(usize),

    /// A rule naming the empty string as a syscall.
    #[error("seccomp: {0}: empty string is not a valid syscall name")]
    EmptySyscallName(String),

    /// An argument condition whose `index` is not below six.
    #[error(
        "seccomp: {field}: argument index {index} is out of range (syscalls take at most {SYSCALL_MAX_ARGS} arguments)"
    )]
    ArgIndexOutOfRange {
        /// `syscalls[i] (...)`.
        field: String,
        /// The rejected argument index.
        index: usize,
    },

    /// libseccomp refused a rule for a syscall.
    #[error("seccomp: cannot add rule for syscall {syscall:?} ({field})")]
    AddRule {
        /// The syscall name.
        syscall: String,
        /// `syscalls[i] (...)`.
        field: String,
        /// The libseccomp failure.
        #[source]
        source: LibseccompError,
    },

    /// Creating or configuring the filter context failed.
    #[error("seccomp: cannot {operation}")]
    Filter {
        /// What was being done, e.g. "create the filter".
        operation: &'static str,
        /// The libseccomp failure.
        #[source]
        source: LibseccompError,
    },

    /// The kernel refused the filter.
    #[error(
        "seccomp: cannot load the filter into the kernel (needs no_new_privs or CAP_SYS_ADMIN)"
    )]
    Load(#[source] LibseccompError),
}

/// Builds the libseccomp filter for `spec` without loading it.
///
/// # Errors
///
/// Returns [`SeccompError`] when the spec uses something unsupported
/// (`SCMP_ACT_NOTIFY`, listeners, unknown flags or architectures), is
/// malformed (empty names, argument index ≥ 6, errno > 65535), or when
/// libseccomp rejects the filter.
pub fn build_filter(spec: &LinuxSeccomp) -> Result<ScmpFilterContext, SeccompError> {
    reject_listener(spec)?;
    let default_action = scmp_action(
        spec.default_action(),
        spec.default_errno_ret(),
        "defaultAction",
        "defaultErrnoRet",
    )?;
    let mut ctx = new_filter(default_action)?;
    add_architectures(
        &mut ctx,
        spec.architectures().as_deref().unwrap_or_default(),
    )?;
    apply_flags(&mut ctx, spec.flags().as_deref().unwrap_or_default())?;
    let mut rules_added = 0;
    for (index, rule) in spec.syscalls().iter().flatten().enumerate() {
        rules_added += add_syscall_rule(&mut ctx, rule, index, default_action)?;
    }
    optimize_large_filter(&mut ctx, rules_added);
    Ok(ctx)
}

/// Builds and loads the filter into the calling thread (applies to the process after exec).
/// Call after prctl(PR_SET_NO_NEW_PRIVS) or while holding CAP_SYS_ADMIN.
///
/// With `SECCOMP_FILTER_FLAG_TSYNC` in the spec, the filter is applied to
/// every thread of the process instead.
///
/// # Errors
///
/// Everything [`build_filter`] reports, plus [`SeccompError::Load`] when the
/// kernel refuses the filter.
pub fn load(spec: &LinuxSeccomp) -> Result<(), SeccompError> {
    build_filter(spec)?.load().map_err(SeccompError::Load)
}

/// Rejects the seccomp-agent fields, which only make sense with `SCMP_ACT_NOTIFY`.
fn reject_listener(spec: &LinuxSeccomp) -> Result<(), SeccompError> {
    if spec
        .listener_path()
        .as_ref()
        .is_some_and(|path| !path.as_os_str().is_empty())
    {
        return Err(SeccompError::UnsupportedListener("listenerPath"));
    }
    if spec
        .listener_metadata()
        .as_ref()
        .is_some_and(|metadata| !metadata.is_empty())
    {
        return Err(SeccompError::UnsupportedListener("listenerMetadata"));
    }
    Ok(())
}

/// Creates the filter context and stops libseccomp from setting `no_new_privs` on load.
fn new_filter(default_action: ScmpAction) -> Result<ScmpFilterContext, SeccompError> {
    let mut ctx =
        ScmpFilterContext::new(default_action).map_err(|source| SeccompError::Filter {
            operation: "create the filter",
            source,
        })?;
    ctx.set_ctl_nnp(false)
        .map_err(|source| SeccompError::Filter {
            operation: "clear the filter's no_new_privs attribute",
            source,
        })?;
    Ok(ctx)
}

/// Maps an OCI action to libseccomp's; `action_field` / `errno_field` name the spec fields for errors.
fn scmp_action(
    action: LinuxSeccompAction,
    errno_ret: Option<u32>,
    action_field: &str,
    errno_field: &str,
) -> Result<ScmpAction, SeccompError> {
    Ok(match action {
        LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => {
            ScmpAction::KillThread
        }
        LinuxSeccompAction::ScmpActKillProcess => ScmpAction::KillProcess,
        LinuxSeccompAction::ScmpActTrap => ScmpAction::Trap,
        LinuxSeccompAction::ScmpActErrno => {
            ScmpAction::Errno(i32::from(return_code(errno_ret, errno_field)?))
        }
        LinuxSeccompAction::ScmpActTrace => ScmpAction::Trace(return_code(errno_ret, errno_field)?),
        LinuxSeccompAction::ScmpActLog => ScmpAction::Log,
        LinuxSeccompAction::ScmpActAllow => ScmpAction::Allow,
        LinuxSeccompAction::ScmpActNotify => {
            return Err(SeccompError::UnsupportedAction {
                action: action.to_string(),
                field: action_field.to_owned(),
            })
        }
    })
}

/// The 16-bit return data for ERRNO/TRACE: `errno_ret`, or `EPERM` when absent.
fn return_code(errno_ret: Option<u32>, field: &str) -> Result<u16, SeccompError> {
    let value = errno_ret.unwrap_or(DEFAULT_ERRNO);
    u16::try_from(value).map_err(|_| SeccompError::ErrnoOutOfRange {
        field: field.to_owned(),
        value,
    })
}

/// Adds every listed architecture to the filter.
fn add_architectures(ctx: &mut ScmpFilterContext, arches: &[Arch]) -> Result<(), SeccompError> {
    for &arch in arches {
        let name = arch.to_string();
        let scmp = arch_from_name(&name)?;
        ctx.add_arch(scmp)
            .map_err(|source| SeccompError::AddArchitecture { arch: name, source })?;
    }
    Ok(())
}

/// Resolves an `SCMP_ARCH_*` name; OCI and libseccomp share these names.
fn arch_from_name(name: &str) -> Result<ScmpArch, SeccompError> {
    name.parse::<ScmpArch>()
        .map_err(|_| SeccompError::UnknownArchitecture(name.to_owned()))
}

/// Sets the filter attribute behind each flag.
fn apply_flags(
    ctx: &mut ScmpFilterContext,
    flags: &[LinuxSeccompFilterFlag],
) -> Result<(), SeccompError> {
    for &flag in flags {
        apply_flag(ctx, flag)?;
    }
    Ok(())
}

/// Sets the filter attribute behind one flag.
fn apply_flag(
    ctx: &mut ScmpFilterContext,
    flag: LinuxSeccompFilterFlag,
) -> Result<(), SeccompError> {
    let result = match flag {
        LinuxSeccompFilterFlag::SeccompFilterFlagTsync => ctx.set_ctl_tsync(true),
        LinuxSeccompFilterFlag::SeccompFilterFlagLog => ctx.set_ctl_log(true),
        LinuxSeccompFilterFlag::SeccompFilterFlagSpecAllow => ctx.set_ctl_ssb(true),
        LinuxSeccompFilterFlag::SeccompFilterFlagWaitKillableRecv => {
            return Err(SeccompError::UnsupportedFlag(flag.to_string()))
        }
    };
    result.map(drop).map_err(|source| SeccompError::SetFlag {
        flag: flag.to_string(),
        source,
    })
}

/// Adds the rules for `syscalls[index]`; returns how many libseccomp rules were added.
fn add_syscall_rule(
    ctx: &mut ScmpFilterContext,
    rule: &LinuxSyscall,
    index: usize,
    default_action: ScmpAction,
) -> Result<usize, SeccompError> {
    let field = rule_field(index, rule.names())?;
    let action = scmp_action(
        rule.action(),
        rule.errno_ret(),
        &field,
        &format!("syscalls[{index}].errnoRet"),
    )?;
    let condition_sets = condition_sets(rule.args().as_deref().unwrap_or_default(), &field)?;
    if action == default_action {
        tracing::debug!(%field, "seccomp: rule has the default action, skipped");
        return Ok(0);
    }
    let mut added = 0;
    for name in rule.names() {
        let Some(syscall) = resolve_syscall(name) else {
            continue;
        };
        for conditions in &condition_sets {
            ctx.add_rule_conditional(action, syscall, conditions)
                .map_err(|source| SeccompError::AddRule {
                    syscall: name.clone(),
                    field: field.clone(),
                    source,
                })?;
            added += 1;
        }
    }
    Ok(added)
}

/// Checks a rule's names and returns a label for it in messages, e.g. `syscalls[3] ("mkdir", ...)`.
fn rule_field(index: usize, names: &[String]) -> Result<String, SeccompError> {
    let first = names
        .first()
        .ok_or(SeccompError::EmptySyscallNames(index))?;
    let more = if names.len() > 1 { ", ..." } else { "" };
    let field = format!("syscalls[{index}] ({first:?}{more})");
    if names.iter().any(String::is_empty) {
        return Err(SeccompError::EmptySyscallName(field));
    }
    Ok(field)
}

/// Resolves a syscall name for the native architecture; `None` if libseccomp doesn't know it.
fn resolve_syscall(name: &str) -> Option<ScmpSyscall> {
    match ScmpSyscall::from_name(name) {
        Ok(syscall) => Some(syscall),
        Err(_) => {
            tracing::debug!(syscall = name, "seccomp: unknown syscall ignored");
            None
        }
    }
}

/// Groups a rule's conditions into libseccomp rules: one ANDed set, or one
/// set per condition when two conditions test the same argument.
fn condition_sets(
    args: &[LinuxSeccompArg],
    field: &str,
) -> Result<Vec<Vec<ScmpArgCompare>>, SeccompError> {
    let conditions = args
        .iter()
        .map(|arg| arg_condition(arg, field))
        .collect::<Result<Vec<_>, _>>()?;
    if repeats_an_index(args) {
        Ok(conditions.into_iter().map(|c| vec![c]).collect())
    } else {
        Ok(vec![conditions])
    }
}

/// True if two conditions test the same argument index.
fn repeats_an_index(args: &[LinuxSeccompArg]) -> bool {
    let mut seen = [false; SYSCALL_MAX_ARGS];
    args.iter().any(|arg| {
        seen.get_mut(arg.index())
            .is_some_and(|slot| std::mem::replace(slot, true))
    })
}

/// Converts one OCI argument condition.
fn arg_condition(arg: &LinuxSeccompArg, field: &str) -> Result<ScmpArgCompare, SeccompError> {
    let index = arg_index(arg.index(), field)?;
    let (op, datum) = comparison(arg);
    Ok(ScmpArgCompare::new(index, op, datum))
}

/// Validates an argument index (0..=5).
fn arg_index(index: usize, field: &str) -> Result<u32, SeccompError> {
    u32::try_from(index)
        .ok()
        .filter(|_| index < SYSCALL_MAX_ARGS)
        .ok_or_else(|| SeccompError::ArgIndexOutOfRange {
            field: field.to_owned(),
            index,
        })
}

/// The libseccomp operator and datum; for MASKED_EQ, `value` is the mask and `valueTwo` the datum.
fn comparison(arg: &LinuxSeccompArg) -> (ScmpCompareOp, u64) {
    let value = arg.value();
    match arg.op() {
        LinuxSeccompOperator::ScmpCmpNe => (ScmpCompareOp::NotEqual, value),
        LinuxSeccompOperator::ScmpCmpLt => (ScmpCompareOp::Less, value),
        LinuxSeccompOperator::ScmpCmpLe => (ScmpCompareOp::LessOrEqual, value),
        LinuxSeccompOperator::ScmpCmpEq => (ScmpCompareOp::Equal, value),
        LinuxSeccompOperator::ScmpCmpGe => (ScmpCompareOp::GreaterEqual, value),
        LinuxSeccompOperator::ScmpCmpGt => (ScmpCompareOp::Greater, value),
        LinuxSeccompOperator::ScmpCmpMaskedEq => (
            ScmpCompareOp::MaskedEqual(value),
            arg.value_two().unwrap_or(0),
        ),
    }
}

/// Enables the binary-tree syscall lookup for long filters; failure only costs speed.
fn optimize_large_filter(ctx: &mut ScmpFilterContext, rules: usize) {
    if rules <= BINARY_TREE_MIN_RULES {
        return;
    }
    if let Err(err) = ctx.set_ctl_optimize(OPTIMIZE_BINARY_TREE) {
        tracing::debug!(error = %err, "seccomp: binary tree optimization not available");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::wait::{waitpid, WaitStatus};
    use nix::unistd::{fork, ForkResult};
    use oci_spec::runtime::{LinuxSeccompArgBuilder, LinuxSeccompBuilder, LinuxSyscallBuilder};
    use std::io::{Read, Seek};
    use std::panic::AssertUnwindSafe;

    const EPERM: u32 = libc::EPERM as u32;

    fn rule(names: &[&str], action: LinuxSeccompAction, errno: Option<u32>) -> LinuxSyscall {
        let builder = LinuxSyscallBuilder::default()
            .names(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .action(action);
        match errno {
            Some(errno) => builder.errno_ret(errno),
            None => builder,
        }
        .build()
        .expect("syscall rule")
    }

    fn rule_with_args(
        names: &[&str],
        action: LinuxSeccompAction,
        errno: u32,
        args: Vec<LinuxSeccompArg>,
    ) -> LinuxSyscall {
        LinuxSyscallBuilder::default()
            .names(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .action(action)
            .errno_ret(errno)
            .args(args)
            .build()
            .expect("syscall rule")
    }

    fn arg(index: usize, op: LinuxSeccompOperator, value: u64, value_two: u64) -> LinuxSeccompArg {
        LinuxSeccompArgBuilder::default()
            .index(index)
            .op(op)
            .value(value)
            .value_two(value_two)
            .build()
            .expect("seccomp arg")
    }

    fn spec(default: LinuxSeccompAction, syscalls: Vec<LinuxSyscall>) -> LinuxSeccomp {
        LinuxSeccompBuilder::default()
            .default_action(default)
            .syscalls(syscalls)
            .build()
            .expect("seccomp spec")
    }

    fn mkdir_eperm_spec() -> LinuxSeccomp {
        spec(
            LinuxSeccompAction::ScmpActAllow,
            vec![rule(
                &["mkdir", "mkdirat"],
                LinuxSeccompAction::ScmpActErrno,
                Some(EPERM),
            )],
        )
    }

    fn pfc(ctx: &ScmpFilterContext) -> String {
        let mut file = tempfile::tempfile().expect("tempfile");
        ctx.export_pfc(&file).expect("export_pfc");
        file.rewind().expect("rewind");
        let mut text = String::new();
        file.read_to_string(&mut text).expect("read pfc");
        text
    }

    fn bpf(ctx: &ScmpFilterContext) -> Vec<(u16, u32)> {
        let mut file = tempfile::tempfile().expect("tempfile");
        ctx.export_bpf(&file).expect("export_bpf");
        file.rewind().expect("rewind");
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).expect("read bpf");
        assert_eq!(bytes.len() % 8, 0, "struct sock_filter is 8 bytes");
        bytes
            .chunks_exact(8)
            .map(|insn| {
                let code = u16::from_ne_bytes([insn[0], insn[1]]);
                let k = u32::from_ne_bytes([insn[4], insn[5], insn[6], insn[7]]);
                (code, k)
            })
            .collect()
    }

    /// Runs `check` in a forked child (so a loaded filter cannot affect the
    /// test process) and returns whether it reported success.
    fn in_child(check: impl FnOnce() -> bool) -> bool {
        // SAFETY: the child only runs `check` and then `_exit`s; it never
        // returns into the test harness.
        match unsafe { fork() }.expect("fork") {
            ForkResult::Child => {
                let ok = std::panic::catch_unwind(AssertUnwindSafe(check)).unwrap_or(false);
                // SAFETY: terminating the forked child without running atexit handlers.
                unsafe { libc::_exit(if ok { 0 } else { 1 }) }
            }
            ForkResult::Parent { child } => {
                matches!(
                    waitpid(child, None).expect("waitpid"),
                    WaitStatus::Exited(_, 0)
                )
            }
        }
    }

    /// Sets no_new_privs and loads `spec`, in a forked child.
    fn set_nnp_and_load(spec: &LinuxSeccomp) -> bool {
        nix::sys::prctl::set_no_new_privs().is_ok() && load(spec).is_ok()
    }

    /// Calls personality(2); `Ok(previous persona)` or the errno.
    fn personality(persona: libc::c_ulong) -> Result<i32, i32> {
        // SAFETY: personality(2) has no memory-safety preconditions.
        let ret = unsafe { libc::personality(persona) };
        if ret == -1 {
            Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
        } else {
            Ok(ret)
        }
    }

    const PERSONALITY_QUERY: libc::c_ulong = 0xffff_ffff;
    const PER_LINUX: libc::c_ulong = 0;
    const PER_LINUX32: libc::c_ulong = 0x0008;

    #[test]
    fn build_filter_exports_the_rule() {
        let ctx = build_filter(&mkdir_eperm_spec()).expect("build_filter");
        let text = pfc(&ctx);
        assert!(text.contains("\"mkdir\""), "{text}");
        assert!(text.contains("\"mkdirat\""), "{text}");
        assert!(text.contains("ERRNO(1)"), "{text}");

        let insns = bpf(&ctx);
        const BPF_JEQ_K: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
        const BPF_RET_K: u16 = (libc::BPF_RET | libc::BPF_K) as u16;
        assert!(insns.contains(&(BPF_JEQ_K, libc::SYS_mkdir as u32)));
        assert!(insns.contains(&(BPF_JEQ_K, libc::SYS_mkdirat as u32)));
        assert!(insns.contains(&(BPF_RET_K, libc::SECCOMP_RET_ERRNO | EPERM)));
        assert!(insns.contains(&(BPF_RET_K, libc::SECCOMP_RET_ALLOW)));
    }

    #[test]
    fn no_new_privs_is_left_to_the_runtime() {
        let ctx = build_filter(&mkdir_eperm_spec()).expect("build_filter");
        assert!(!ctx.get_ctl_nnp().expect("get nnp"));
    }

    #[test]
    fn actions_map_like_runc() {
        let map = |action, errno| scmp_action(action, errno, "a", "e").expect("action");
        use LinuxSeccompAction as A;
        assert_eq!(map(A::ScmpActKill, None), ScmpAction::KillThread);
        assert_eq!(map(A::ScmpActKillThread, None), ScmpAction::KillThread);
        assert_eq!(map(A::ScmpActKillProcess, None), ScmpAction::KillProcess);
        assert_eq!(map(A::ScmpActTrap, None), ScmpAction::Trap);
        assert_eq!(map(A::ScmpActErrno, None), ScmpAction::Errno(libc::EPERM));
        assert_eq!(map(A::ScmpActErrno, Some(38)), ScmpAction::Errno(38));
        assert_eq!(map(A::ScmpActTrace, None), ScmpAction::Trace(EPERM as u16));
        assert_eq!(map(A::ScmpActTrace, Some(7)), ScmpAction::Trace(7));
        assert_eq!(map(A::ScmpActLog, None), ScmpAction::Log);
        assert_eq!(map(A::ScmpActAllow, None), ScmpAction::Allow);
    }

    #[test]
    fn every_default_action_builds() {
        use LinuxSeccompAction as A;
        for default in [
            A::ScmpActKill,
            A::ScmpActKillThread,
            A::ScmpActKillProcess,
            A::ScmpActTrap,
            A::ScmpActErrno,
            A::ScmpActTrace,
            A::ScmpActLog,
            A::ScmpActAllow,
        ] {
            let rule = rule(&["getpid"], A::ScmpActErrno, Some(13));
            build_filter(&spec(default, vec![rule]))
                .unwrap_or_else(|err| panic!("{default}: {err}"));
        }
    }

    #[test]
    fn notify_is_unsupported() {
        let err = build_filter(&spec(LinuxSeccompAction::ScmpActNotify, vec![]))
            .expect_err("NOTIFY default");
        assert!(matches!(err, SeccompError::UnsupportedAction { .. }));
        assert_eq!(
            err.to_string(),
            "seccomp: action SCMP_ACT_NOTIFY is not supported (defaultAction)"
        );

        let rules = vec![rule(&["getpid"], LinuxSeccompAction::ScmpActNotify, None)];
        let err =
            build_filter(&spec(LinuxSeccompAction::ScmpActAllow, rules)).expect_err("NOTIFY rule");
        assert_eq!(
            err.to_string(),
            "seccomp: action SCMP_ACT_NOTIFY is not supported (syscalls[0] (\"getpid\"))"
        );
    }

    #[test]
    fn listener_fields_are_unsupported() {
        let with_path = LinuxSeccompBuilder::default()
            .default_action(LinuxSeccompAction::ScmpActAllow)
            .listener_path("/run/agent.sock")
            .build()
            .expect("spec");
        let err = build_filter(&with_path).expect_err("listenerPath");
        assert!(err.to_string().contains("listenerPath"), "{err}");

        let with_metadata = LinuxSeccompBuilder::default()
            .default_action(LinuxSeccompAction::ScmpActAllow)
            .listener_metadata("meta")
            .build()
            .expect("spec");
        let err = build_filter(&with_metadata).expect_err("listenerMetadata");
        assert!(err.to_string().contains("listenerMetadata"), "{err}");
    }

    #[test]
    fn unknown_architecture_is_rejected() {
        let err = arch_from_name("SCMP_ARCH_FOO").expect_err("unknown arch");
        assert!(matches!(err, SeccompError::UnknownArchitecture(_)));
        assert_eq!(
            err.to_string(),
            "seccomp: unknown architecture \"SCMP_ARCH_FOO\""
        );
    }

    #[test]
    fn every_oci_architecture_has_a_libseccomp_name() {
        for arch in [
            Arch::ScmpArchNative,
            Arch::ScmpArchX86,
            Arch::ScmpArchX86_64,
            Arch::ScmpArchX32,
            Arch::ScmpArchArm,
            Arch::ScmpArchAarch64,
            Arch::ScmpArchMips,
            Arch::ScmpArchMips64,
            Arch::ScmpArchMips64n32,
            Arch::ScmpArchMipsel,
            Arch::ScmpArchMipsel64,
            Arch::ScmpArchMipsel64n32,
            Arch::ScmpArchPpc,
            Arch::ScmpArchPpc64,
            Arch::ScmpArchPpc64le,
            Arch::ScmpArchS390,
            Arch::ScmpArchS390x,
            Arch::ScmpArchParisc,
            Arch::ScmpArchParisc64,
            Arch::ScmpArchRiscv64,
            Arch::ScmpArchLoongarch64,
            Arch::ScmpArchM68k,
            Arch::ScmpArchSh,
            Arch::ScmpArchSheb,
        ] {
            arch_from_name(&arch.to_string()).unwrap_or_else(|err| panic!("{arch}: {err}"));
        }
    }

    #[test]
    fn architectures_are_added_and_native_twice_is_fine() {
        let spec = LinuxSeccompBuilder::default()
            .default_action(LinuxSeccompAction::ScmpActErrno)
            .default_errno_ret(1u32)
            .architectures(vec![
                Arch::ScmpArchNative,
                Arch::ScmpArchX86_64,
                Arch::ScmpArchX86,
                Arch::ScmpArchX32,
                Arch::ScmpArchAarch64,
                Arch::ScmpArchArm,
                Arch::ScmpArchX86, // duplicates are harmless
            ])
            .syscalls(vec![rule(
                &["getpid"],
                LinuxSeccompAction::ScmpActAllow,
                None,
            )])
            .build()
            .expect("spec");
        let ctx = build_filter(&spec).expect("build_filter");
        for arch in [
            ScmpArch::X8664,
            ScmpArch::X86,
            ScmpArch::X32,
            ScmpArch::Aarch64,
        ] {
            assert!(
                ctx.is_arch_present(arch).expect("is_arch_present"),
                "{arch:?}"
            );
        }
        let text = pfc(&ctx);
        assert!(
            text.contains("x86_64") && text.contains("aarch64"),
            "{text}"
        );
    }

    #[test]
    fn unknown_syscall_names_are_skipped() {
        let rules = vec![
            rule(
                &["berth_no_such_syscall", "mkdir"],
                LinuxSeccompAction::ScmpActErrno,
                None,
            ),
            rule(
                &["another_bogus_syscall"],
                LinuxSeccompAction::ScmpActKill,
                None,
            ),
        ];
        let ctx = build_filter(&spec(LinuxSeccompAction::ScmpActAllow, rules))
            .expect("unknown names must be skipped");
        let text = pfc(&ctx);
        assert!(text.contains("\"mkdir\""), "{text}");
        assert!(
            !text.contains("bogus") && !text.contains("no_such"),
            "{text}"
        );
    }

    #[test]
    fn empty_names_are_rejected() {
        let rules = vec![rule(&[], LinuxSeccompAction::ScmpActErrno, None)];
        let err =
            build_filter(&spec(LinuxSeccompAction::ScmpActAllow, rules)).expect_err("empty names");
        assert!(matches!(err, SeccompError::EmptySyscallNames(0)));
        assert_eq!(
            err.to_string(),
            "seccomp: syscalls[0]: names must not be empty"
        );

        let rules = vec![rule(&["mkdir", ""], LinuxSeccompAction::ScmpActErrno, None)];
        let err =
            build_filter(&spec(LinuxSeccompAction::ScmpActAllow, rules)).expect_err("empty name");
        assert!(matches!(err, SeccompError::EmptySyscallName(_)), "{err}");
    }

    #[test]
    fn rules_with_the_default_action_are_skipped() {
        // ERRNO(EPERM) both ways: defaultErrnoRet unset means EPERM.
        let rules = vec![
            rule(&["mkdir"], LinuxSeccompAction::ScmpActErrno, Some(EPERM)),
            rule(&["getpid"], LinuxSeccompAction::ScmpActAllow, None),
        ];
        let ctx = build_filter(&spec(LinuxSeccompAction::ScmpActErrno, rules))
            .expect("redundant rule must be skipped");
        let text = pfc(&ctx);
        assert!(!text.contains("\"mkdir\""), "{text}");
        assert!(text.contains("\"getpid\""), "{text}");
    }

    #[test]
    fn errno_out_of_range_is_rejected() {
        let rules = vec![rule(
            &["mkdir"],
            LinuxSeccompAction::ScmpActErrno,
            Some(70_000),
        )];
        let err = build_filter(&spec(LinuxSeccompAction::ScmpActAllow, rules))
            .expect_err("errno too large");
        assert_eq!(
            err.to_string(),
            "seccomp: syscalls[0].errnoRet 70000 is out of range (maximum 65535)"
        );
    }

    #[test]
    fn argument_index_out_of_range_is_rejected() {
        let args = vec![arg(6, LinuxSeccompOperator::ScmpCmpEq, 0, 0)];
        let rules = vec![rule_with_args(
            &["personality"],
            LinuxSeccompAction::ScmpActErrno,
            EPERM,
            args,
        )];
        let err =
            build_filter(&spec(LinuxSeccompAction::ScmpActAllow, rules)).expect_err("index 6");
        assert!(
            matches!(err, SeccompError::ArgIndexOutOfRange { index: 6, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("personality"), "{err}");
    }

    #[test]
    fn conditions_on_one_index_split_into_rules() {
        use LinuxSeccompOperator as Op;
        let same = [arg(0, Op::ScmpCmpEq, 1, 0), arg(0, Op::ScmpCmpEq, 2, 0)];
        let sets = condition_sets(&same, "f").expect("sets");
        assert_eq!(sets.iter().map(Vec::len).collect::<Vec<_>>(), [1, 1]);

        let different = [arg(0, Op::ScmpCmpEq, 1, 0), arg(2, Op::ScmpCmpGt, 2, 0)];
        let sets = condition_sets(&different, "f").expect("sets");
        assert_eq!(sets.iter().map(Vec::len).collect::<Vec<_>>(), [2]);

        let sets = condition_sets(&[], "f").expect("sets");
        assert_eq!(sets, [Vec::<ScmpArgCompare>::new()]);
    }

    #[test]
    fn operators_map_to_libseccomp() {
        use LinuxSeccompOperator as Op;
        let cases = [
            (Op::ScmpCmpNe, ScmpCompareOp::NotEqual, 5),
            (Op::ScmpCmpLt, ScmpCompareOp::Less, 5),
            (Op::ScmpCmpLe, ScmpCompareOp::LessOrEqual, 5),
            (Op::ScmpCmpEq, ScmpCompareOp::Equal, 5),
            (Op::ScmpCmpGe, ScmpCompareOp::GreaterEqual, 5),
            (Op::ScmpCmpGt, ScmpCompareOp::Greater, 5),
            (Op::ScmpCmpMaskedEq, ScmpCompareOp::MaskedEqual(5), 9),
        ];
        for (op, expected_op, expected_datum) in cases {
            assert_eq!(comparison(&arg(1, op, 5, 9)), (expected_op, expected_datum));
        }
    }

    #[test]
    fn flags_set_filter_attributes() {
        use LinuxSeccompFilterFlag as F;
        let spec = LinuxSeccompBuilder::default()
            .default_action(LinuxSeccompAction::ScmpActAllow)
            .flags(vec![
                F::SeccompFilterFlagTsync,
                F::SeccompFilterFlagLog,
                F::SeccompFilterFlagSpecAllow,
            ])
            .build()
            .expect("spec");
        let ctx = build_filter(&spec).expect("build_filter");
        assert!(ctx.get_ctl_tsync().expect("tsync"));
        assert!(ctx.get_ctl_log().expect("log"));
        assert!(ctx.get_ctl_ssb().expect("ssb"));

        let spec = LinuxSeccompBuilder::default()
            .default_action(LinuxSeccompAction::ScmpActAllow)
            .flags(vec![F::SeccompFilterFlagWaitKillableRecv])
            .build()
            .expect("spec");
        let err = build_filter(&spec).expect_err("unsupported flag");
        assert_eq!(
            err.to_string(),
            "seccomp: flag SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is not supported"
        );
    }

    /// An excerpt of Docker's default profile in the OCI form the daemon produces.
    const DOCKER_LIKE_PROFILE: &str = r#"{
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [
            {"names": ["accept", "accept4", "access", "brk", "close", "execve", "exit",
                       "exit_group", "futex", "getpid", "mmap", "openat", "read", "write",
                       "fchmodat2", "socketcall", "waitpid", "_llseek"],
             "action": "SCMP_ACT_ALLOW"},
            {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},
            {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
            {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 4294967295, "op": "SCMP_CMP_EQ"}]},
            {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 2114060288, "valueTwo": 0,
                       "op": "SCMP_CMP_MASKED_EQ"}]},
            {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
            {"names": ["socket"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 40, "op": "SCMP_CMP_NE"}]}
        ]
    }"#;

    #[test]
    fn docker_like_profile_builds() {
        let spec: LinuxSeccomp = serde_json::from_str(DOCKER_LIKE_PROFILE).expect("profile");
        let ctx = build_filter(&spec).expect("build_filter");
        let text = pfc(&ctx);
        for needle in [
            "\"clone\"",
            "\"clone3\"",
            "\"personality\"",
            "ERRNO(38)",
            "ERRNO(1)",
        ] {
            assert!(text.contains(needle), "{needle} missing:\n{text}");
        }
        // CLONE_NEW* mask from Docker's clone rule.
        assert!(text.contains("0x7e020000"), "{text}");
    }

    #[test]
    fn load_blocks_mkdir_with_eperm() {
        let dir = tempfile::tempdir().expect("tempdir");
        let blocked = dir.path().join("blocked");
        let spec = mkdir_eperm_spec();
        assert!(in_child(|| {
            set_nnp_and_load(&spec)
                && std::fs::create_dir(&blocked)
                    .is_err_and(|err| err.raw_os_error() == Some(libc::EPERM))
        }));
        assert!(!blocked.exists());
        // Without the filter, the same mkdir works.
        std::fs::create_dir(&blocked).expect("mkdir without filter");
    }

    #[test]
    fn load_masked_eq_condition() {
        // personality(arg0) is refused when (arg0 & 0xf) == 0x8: `value` is the
        // mask, `valueTwo` the expected result (asymmetric, so a swap is caught).
        let args = vec![arg(0, LinuxSeccompOperator::ScmpCmpMaskedEq, 0xf, 0x8)];
        let spec = spec(
            LinuxSeccompAction::ScmpActAllow,
            vec![rule_with_args(
                &["personality"],
                LinuxSeccompAction::ScmpActErrno,
                EPERM,
                args,
            )],
        );
        assert!(in_child(|| {
            set_nnp_and_load(&spec)
                && personality(PER_LINUX32) == Err(libc::EPERM)
                && personality(PERSONALITY_QUERY).is_ok()
                && personality(PER_LINUX).is_ok()
        }));
    }

    #[test]
    fn load_same_index_conditions_are_ored() {
        // arg0 == QUERY and arg0 == PER_LINUX32 cannot both hold; runc adds one
        // rule per condition, so either value is refused.
        use LinuxSeccompOperator as Op;
        let args = vec![
            arg(0, Op::ScmpCmpEq, PERSONALITY_QUERY, 0),
            arg(0, Op::ScmpCmpEq, PER_LINUX32, 0),
        ];
        let spec = spec(
            LinuxSeccompAction::ScmpActAllow,
            vec![rule_with_args(
                &["personality"],
                LinuxSeccompAction::ScmpActErrno,
                EPERM,
                args,
            )],
        );
        assert!(in_child(|| {
            set_nnp_and_load(&spec)
                && personality(PERSONALITY_QUERY) == Err(libc::EPERM)
                && personality(PER_LINUX32) == Err(libc::EPERM)
                && personality(PER_LINUX).is_ok()
        }));
    }

    #[test]
    fn load_different_index_conditions_are_anded() {
        // kill(0, 0) is refused only when pid == 0 AND sig == 0.
        use LinuxSeccompOperator as Op;
        let args = vec![arg(0, Op::ScmpCmpEq, 0, 0), arg(1, Op::ScmpCmpEq, 0, 0)];
        let spec = spec(
            LinuxSeccompAction::ScmpActAllow,
            vec![rule_with_args(
                &["kill"],
                LinuxSeccompAction::ScmpActErrno,
                libc::EACCES as u32,
                args,
            )],
        );
        let kill = |pid: libc::pid_t, sig: libc::c_int| {
            // SAFETY: kill(2) with signal 0 only checks permissions.
            let ret = unsafe { libc::kill(pid, sig) };
            (ret == -1).then(|| std::io::Error::last_os_error().raw_os_error())
        };
        assert!(in_child(|| {
            set_nnp_and_load(&spec)
                && kill(0, 0) == Some(Some(libc::EACCES))
                && kill(std::process::id() as libc::pid_t, 0).is_none()
        }));
    }
}
