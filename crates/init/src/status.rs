//! Exit codes: the child's wait status as a shell reports it, and what a
//! failed exec means.

/// The exit code for a `waitpid` status: the child's own code, or 128+N
/// when signal N killed it (what a shell and Docker report).
pub fn exit_code(wait_status: i32) -> i32 {
    if libc::WIFEXITED(wait_status) {
        libc::WEXITSTATUS(wait_status)
    } else if libc::WIFSIGNALED(wait_status) {
        128 + libc::WTERMSIG(wait_status)
    } else {
        // Stopped or continued: not an exit; callers only pass exits.
        1
    }
}

/// The exit code and message for an exec of `program` that failed with
/// `errno`: 127 when it does not exist (as a shell says "not found"), 126
/// when it exists but cannot be run (permission denied, not an
/// executable format, a directory...).
pub fn exec_failure(program: &str, errno: i32) -> (i32, String) {
    let not_found = matches!(errno, libc::ENOENT | libc::ENOTDIR);
    let code = if not_found { 127 } else { 126 };
    let reason = if errno == libc::ENOENT && !program.contains('/') {
        // execvp searched PATH: say so, as Docker's own error does.
        "executable file not found in $PATH".to_string()
    } else {
        std::io::Error::from_raw_os_error(errno)
            .to_string()
            .split(" (os error")
            .next()
            .unwrap_or_default()
            .to_string()
    };
    (code, format!("berth-init: exec: {program}: {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A wait status as the kernel encodes it.
    fn exited(code: i32) -> i32 {
        (code & 0xff) << 8
    }

    #[test]
    fn exits_and_signals() {
        assert_eq!(exit_code(exited(0)), 0);
        assert_eq!(exit_code(exited(7)), 7);
        assert_eq!(exit_code(exited(255)), 255);
        assert_eq!(exit_code(libc::SIGTERM), 143);
        assert_eq!(exit_code(libc::SIGKILL), 137);
        // Core dumped is still killed by the signal.
        assert_eq!(exit_code(libc::SIGSEGV | 0x80), 139);
    }

    #[test]
    fn exec_failures() {
        assert_eq!(
            exec_failure("nope", libc::ENOENT),
            (
                127,
                "berth-init: exec: nope: executable file not found in $PATH".into()
            )
        );
        assert_eq!(
            exec_failure("/bin/nope", libc::ENOENT),
            (
                127,
                "berth-init: exec: /bin/nope: No such file or directory".into()
            )
        );
        assert_eq!(
            exec_failure("/etc/passwd", libc::EACCES),
            (
                126,
                "berth-init: exec: /etc/passwd: Permission denied".into()
            )
        );
        assert_eq!(exec_failure("/x", libc::ENOEXEC).0, 126);
    }
}
