//! Shared harness for Berth's end-to-end tests: locating the built
//! binaries, making bundles from the xtask fixtures, driving a runtime CLI
//! (berth-runc or runc) with its own state root, and checking that a test
//! left nothing behind (cgroups, mounts, processes).
//!
//! Tests run as root against the real kernel. Build the binaries first
//! (`cargo build --workspace`, which the README's test command does).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;
use xtask::fixtures::Fixtures;
pub mod berthd;
pub mod daemon_cleanup;
pub mod daemon_world;
pub mod init_binary;
pub mod registry;
pub mod session;

/// The directory holding the workspace's built binaries (target/<profile>).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current test executable");
    // target/<profile>/deps/<test-binary>
    exe.parent()
        .and_then(Path::parent)
        .expect("test binary lives in target/<profile>/deps")
        .to_path_buf()
}

/// The path of a workspace binary, with a clear message if it is not built.
pub fn workspace_bin(name: &str) -> PathBuf {
    let p = target_dir().join(name);
    assert!(
        p.exists(),
        "{} is not built: run `cargo build --workspace` first (the README's test command does)",
        p.display()
    );
    p
}

/// Whether the tests run as root (they need to).
pub fn require_root() {
    assert!(
        nix_is_root(),
        "the integration tests drive the real kernel and must run as root"
    );
}

fn nix_is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A unique name for this test process and call.
pub fn unique(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// An OCI bundle made from the busybox fixture, with an editable config.
pub struct Bundle {
    _dir: TempDir,
    /// The bundle dir.
    pub path: PathBuf,
    /// The config being edited; written by [`Bundle::save`].
    pub config: Value,
}

impl Bundle {
    /// A fresh bundle whose process runs `args`, with a unique cgroupsPath
    /// under `/berth`.
    pub fn new(args: &[&str]) -> Self {
        require_root();
        let fixtures = Fixtures::ensure_default().expect("build fixtures");
        let dir = tempfile::Builder::new()
            .prefix("berth-it-")
            .tempdir()
            .expect("tempdir");
        let path = fixtures
            .new_bundle(&dir.path().join("bundle"), args)
            .expect("make bundle");
        let config: Value =
            serde_json::from_slice(&fs::read(path.join("config.json")).expect("read config"))
                .expect("parse config");
        let mut b = Bundle {
            _dir: dir,
            path,
            config,
        };
        b.config["linux"]["cgroupsPath"] = Value::String(format!("/berth/{}", unique("it")));
        b.save();
        b
    }

    /// Writes the edited config.json.
    pub fn save(&self) {
        fs::write(
            self.path.join("config.json"),
            serde_json::to_vec_pretty(&self.config).unwrap(),
        )
        .expect("write config");
    }

    /// The bundle's rootfs.
    pub fn rootfs(&self) -> PathBuf {
        self.path.join("rootfs")
    }

    /// The cgroup path below each hierarchy root (no leading slash).
    pub fn cgroup_path(&self) -> String {
        self.config["linux"]["cgroupsPath"]
            .as_str()
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_string()
    }

    /// The container's directory in one v1 controller (e.g. "memory").
    pub fn cgroup_dir(&self, controller: &str) -> PathBuf {
        Path::new("/sys/fs/cgroup")
            .join(controller)
            .join(self.cgroup_path())
    }
}

/// One OCI runtime CLI (berth-runc or runc) with a private state root.
pub struct RuntimeCli {
    bin: PathBuf,
    root: TempDir,
}

impl RuntimeCli {
    /// berth-runc from this workspace.
    pub fn berth() -> Self {
        Self::with_bin(workspace_bin("berth-runc"))
    }

    /// Debian's runc, for differential tests.
    pub fn runc() -> Self {
        let bin = which("runc").expect("runc is not installed (apt-get install runc)");
        Self::with_bin(bin)
    }

    /// Any runc-compatible binary.
    pub fn with_bin(bin: PathBuf) -> Self {
        let root = tempfile::Builder::new()
            .prefix("berth-it-root-")
            .tempdir()
            .expect("tempdir");
        Self { bin, root }
    }

    /// A command for this runtime with `--root` set.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.arg("--root")
            .arg(self.root.path())
            .args(args)
            .stdin(Stdio::null());
        c
    }

    /// Runs a command and returns its output. Output goes through files,
    /// not pipes: a detached container inherits the runtime's stdio, and a
    /// pipe it holds open would never reach EOF.
    pub fn output(&self, args: &[&str]) -> Output {
        output_via_files(self.cmd(args))
    }

    /// Runs a command and insists it succeeds.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.output(args);
        assert!(
            out.status.success(),
            "{} {:?} failed: {}\n{}",
            self.bin.display(),
            args,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `run --bundle <b> <id>`: stdout, stderr and exit code.
    pub fn run(&self, bundle: &Bundle, id: &str) -> (String, String, i32) {
        let out = self.output(&["run", "--bundle", bundle.path.to_str().unwrap(), id]);
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            out.status.code().unwrap_or(-1),
        )
    }

    /// `run -d` of `bundle` under a fresh id starting with `prefix`; returns the id.
    pub fn run_detached(&self, bundle: &Bundle, prefix: &str) -> String {
        let id = unique(prefix);
        self.ok(&["run", "-d", "--bundle", bundle.path.to_str().unwrap(), &id]);
        id
    }

    /// The `status` field of `state <id>`.
    pub fn status(&self, id: &str) -> String {
        let st: Value = serde_json::from_str(&self.ok(&["state", id])).expect("state JSON");
        st["status"].as_str().unwrap_or_default().to_string()
    }

    /// Waits until `state <id>` reports `want`.
    pub fn wait_status(&self, id: &str, want: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let s = self.status(id);
            if s == want {
                return;
            }
            assert!(Instant::now() < deadline, "{id}: status {s}, wanted {want}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Runs `cmd` to completion with stdout and stderr captured in temp files.
pub fn output_via_files(mut cmd: Command) -> Output {
    let out = tempfile::tempfile().expect("stdout file");
    let err = tempfile::tempfile().expect("stderr file");
    let status = cmd
        .stdout(out.try_clone().expect("dup"))
        .stderr(err.try_clone().expect("dup"))
        .status()
        .expect("spawn runtime");
    let read = |mut f: fs::File| {
        use std::io::{Read, Seek};
        let mut v = Vec::new();
        f.seek(std::io::SeekFrom::Start(0)).expect("seek");
        f.read_to_end(&mut v).expect("read");
        v
    };
    Output {
        status,
        stdout: read(out),
        stderr: read(err),
    }
}

/// Finds an executable on PATH.
pub use xtask::find_on_path as which;

/// Checks on drop that a test's container left nothing behind: no cgroup
/// dir in any hierarchy, no mount under the bundle, no process in the cgroup.
pub struct LeakCheck {
    cgroup_path: String,
    bundle: PathBuf,
}

impl LeakCheck {
    /// Watches the resources of containers made from `bundle`.
    pub fn new(bundle: &Bundle) -> Self {
        Self {
            cgroup_path: bundle.cgroup_path(),
            bundle: bundle.path.clone(),
        }
    }

    /// What is left behind, if anything.
    pub fn leftovers(&self) -> Vec<String> {
        let mut found = Vec::new();
        for entry in fs::read_dir("/sys/fs/cgroup")
            .into_iter()
            .flatten()
            .flatten()
        {
            let dir = entry.path().join(&self.cgroup_path);
            if dir.exists() {
                found.push(format!("cgroup {}", dir.display()));
            }
        }
        let bundle = self.bundle.to_string_lossy().into_owned();
        let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        found.extend(
            mounts
                .lines()
                .filter(|l| l.contains(&bundle))
                .map(|l| format!("mount {l}")),
        );
        for p in fs::read_dir("/proc").into_iter().flatten().flatten() {
            let cg = fs::read_to_string(p.path().join("cgroup")).unwrap_or_default();
            if cg
                .lines()
                .any(|l| l.ends_with(&format!("/{}", self.cgroup_path)))
            {
                found.push(format!("process {}", p.file_name().to_string_lossy()));
            }
        }
        found
    }
}

impl Drop for LeakCheck {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        // Killed processes take a moment to leave their cgroup.
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut left = self.leftovers();
        while !left.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
            left = self.leftovers();
        }
        assert!(left.is_empty(), "left behind: {left:#?}");
    }
}

impl Drop for RuntimeCli {
    /// Force-deletes whatever a (possibly failed) test left in this root.
    fn drop(&mut self) {
        let ids = self.output(&["list", "-q"]);
        for id in String::from_utf8_lossy(&ids.stdout).lines() {
            let _ = self.output(&["delete", "--force", id.trim()]);
        }
    }
}
