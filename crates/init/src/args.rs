//! The command line: `berth-init [--] PROGRAM [ARGS...]`, as Docker writes
//! it (`/sbin/docker-init -- <entrypoint+cmd>`).

use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStringExt;

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// Run this program (argv, the program first) under the init.
    Run(Vec<CString>),
    /// `-h` / `--help`: print the usage.
    Help,
    /// `--version`: print the version.
    Version,
}

/// The usage text, also printed (to stderr) for a bad command line.
pub const USAGE: &str = "Usage: berth-init [--] PROGRAM [ARGS...]\n\n\
Runs PROGRAM as the child of a minimal init: signals are forwarded to it,\n\
zombies are reaped, and the exit status is PROGRAM's (128+N if it was\n\
killed by signal N).\n";

/// Parses the arguments after argv[0]. Options are only recognised before
/// `--`; everything after it (or from the first non-option on) is the
/// command, passed through untouched.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Invocation, String> {
    let mut args = args.into_iter().peekable();
    match args.peek().map(|a| a.to_string_lossy().into_owned()) {
        None => return Err("no command given".into()),
        Some(first) => match first.as_str() {
            "--" => {
                args.next();
            }
            "-h" | "--help" => return Ok(Invocation::Help),
            "--version" => return Ok(Invocation::Version),
            o if o.starts_with('-') && o.len() > 1 => {
                return Err(format!("unknown option {o:?}"));
            }
            _ => {}
        },
    }
    let argv = args
        .map(|a| {
            CString::new(a.into_vec()).map_err(|_| "an argument contains a NUL byte".to_string())
        })
        .collect::<Result<Vec<_>, _>>()?;
    if argv.is_empty() {
        return Err("no command given".into());
    }
    Ok(Invocation::Run(argv))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Invocation, String> {
        parse(args.iter().map(OsString::from))
    }

    fn run(args: &[&str]) -> Invocation {
        Invocation::Run(args.iter().map(|a| CString::new(*a).unwrap()).collect())
    }

    #[test]
    fn the_command_follows_the_double_dash_untouched() {
        assert_eq!(
            p(&["--", "sh", "-c", "exit 7"]).unwrap(),
            run(&["sh", "-c", "exit 7"])
        );
        // Options after `--` belong to the command, even `--` itself.
        assert_eq!(p(&["--", "--help"]).unwrap(), run(&["--help"]));
        assert_eq!(p(&["--", "echo", "--"]).unwrap(), run(&["echo", "--"]));
    }

    #[test]
    fn a_command_without_double_dash_is_accepted() {
        assert_eq!(p(&["sleep", "1"]).unwrap(), run(&["sleep", "1"]));
        assert_eq!(p(&["-"]).unwrap(), run(&["-"]));
    }

    #[test]
    fn options_and_errors() {
        assert_eq!(p(&["-h"]).unwrap(), Invocation::Help);
        assert_eq!(p(&["--version"]).unwrap(), Invocation::Version);
        assert_eq!(p(&[]).unwrap_err(), "no command given");
        assert_eq!(p(&["--"]).unwrap_err(), "no command given");
        assert_eq!(p(&["-s", "x"]).unwrap_err(), "unknown option \"-s\"");
    }
}
