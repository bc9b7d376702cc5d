//! A CLI session against a real berthd: a [`DaemonWorld`] (registry,
//! pulled busybox, temp roots), a berthd serving it, and a CLI binary
//! (`berth`, or the real `docker`) pointed at its socket. What every
//! CLI-driven test file needs, in one place.

use std::path::PathBuf;
use std::time::Duration;

use crate::berthd::{cli, text, Berthd};
use crate::daemon_world::{wait_for, DaemonWorld};
use crate::workspace_bin;

/// A world, its berthd, and a CLI pointed at it.
pub struct Session {
    /// The registry, image and roots.
    pub w: DaemonWorld,
    /// The daemon serving the roots.
    pub d: Berthd,
    /// The CLI binary the helpers run.
    pub bin: PathBuf,
}

impl Session {
    /// A fresh world and berthd, driven by `berth`.
    pub fn start() -> Session {
        Session::start_with(&[])
    }

    /// [`Session::start`] with extra berthd `flags`.
    pub fn start_with(flags: &[&str]) -> Session {
        let w = DaemonWorld::new();
        let d = Berthd::start_with(&w, flags);
        Session {
            w,
            d,
            bin: workspace_bin("berth"),
        }
    }

    /// Drives the same daemon with another CLI binary (e.g. `docker`).
    pub fn with_cli(&mut self, bin: PathBuf) {
        self.bin = bin;
    }

    /// `<cli> args`: stdout, stderr, exit code.
    pub fn run(&self, args: &[&str]) -> (String, String, i32) {
        text(&cli(&self.bin, &self.d.sock, args, b""))
    }

    /// `<cli> args` that must succeed: its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let (out, err, code) = self.run(args);
        assert_eq!(
            code,
            0,
            "{} {args:?}: stdout {out:?} stderr {err:?}",
            self.bin.display()
        );
        out
    }

    /// `<cli> args` that must fail: its stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let (out, err, code) = self.run(args);
        assert_ne!(code, 0, "{args:?} succeeded: stdout {out:?}");
        err
    }

    /// `<cli> run --rm <flags> <image> <cmd>` whatever its outcome.
    pub fn try_inside(&self, flags: &[&str], cmd: &[&str]) -> (String, String, i32) {
        let mut args = vec!["run", "--rm"];
        args.extend_from_slice(flags);
        args.push(&self.w.image);
        args.extend_from_slice(cmd);
        self.run(&args)
    }

    /// `<cli> run --rm <flags> <image> <cmd>`, which must exit 0: its stdout.
    pub fn inside(&self, flags: &[&str], cmd: &[&str]) -> String {
        let (out, err, code) = self.try_inside(flags, cmd);
        assert_eq!(code, 0, "{flags:?} {cmd:?}: stdout {out:?} stderr {err:?}");
        out
    }

    /// `<cli> run -d <flags> <image> <cmd>`: the container's ID.
    pub fn detached(&self, flags: &[&str], cmd: &[&str]) -> String {
        let mut args = vec!["run", "-d"];
        args.extend_from_slice(flags);
        args.push(&self.w.image);
        args.extend_from_slice(cmd);
        self.ok(&args).trim().to_string()
    }

    /// `.State.ExitCode` of a stopped container.
    pub fn exit_code(&self, id: &str) -> i32 {
        let code = self.inspect("{{.State.ExitCode}}", id);
        code.parse()
            .unwrap_or_else(|_| panic!("exit code of {id}: {code:?}"))
    }

    /// The value of `key:` in the container's `/proc/self/status` (run
    /// with `flags`).
    pub fn status(&self, flags: &[&str], key: &str) -> String {
        let out = self.inside(flags, &["grep", &format!("^{key}:"), "/proc/self/status"]);
        out.split_whitespace()
            .nth(1)
            .unwrap_or_else(|| panic!("{key} not in {out:?}"))
            .to_string()
    }

    /// `<cli> inspect -f <format> <name>`, trimmed.
    pub fn inspect(&self, format: &str, name: &str) -> String {
        self.ok(&["inspect", "-f", format, name]).trim().to_string()
    }

    /// No container is left behind (a `--rm` one may take a moment to go).
    pub fn assert_no_containers(&self) {
        wait_for("no container left", Duration::from_secs(10), || {
            self.ok(&["ps", "-a", "-q"]).is_empty()
        });
    }
}
