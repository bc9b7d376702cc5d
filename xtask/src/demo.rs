//! `cargo xtask demo`: Berth's main job end to end on a fresh machine, the
//! way a user meets it. The fixture images (built from Debian's
//! busybox-static) are pushed to a real local registry; `berthd` starts on
//! a temporary data root, exec root and socket; and the `berth` CLI runs
//! `run --rm <registry>/busybox:latest echo hello` against it with the
//! terminal's stdio, so the pull progress and the container's output show
//! as Docker shows them. Afterwards berthd (SIGTERM by PID) and the
//! registry are stopped and the temporary roots unmounted and removed.
//!
//! `cargo xtask demo --runtime-only` keeps the older, lower-level tour: the
//! image pulled by berth-image in-process, its overlay rootfs mounted, and
//! the container run by `berth-runc` on a bundle, without a daemon.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use berth_image::progress::Progress;
use berth_image::record::ImageRecord;
use berth_image::service::{ImageService, ImageServiceConfig, LocalImageService, PullOptions};
use serde_json::Value;

use crate::bench::cgroups::remove_parent_if_empty;
use crate::bench::dockerd::unmount_under;
use crate::build::{build_bin, Profile};
use crate::fixtures::{spec_with_args, Fixtures};
use crate::registry::{LocalRegistry, FIXTURE_IMAGES};
use crate::workspace_root;

/// What the demo container runs when no command is given.
const DEFAULT_COMMAND: [&str; 2] = ["echo", "hello"];

/// What the `--runtime-only` container runs when no command is given.
const RUNTIME_SCRIPT: &str = "echo \"hello from a berth container\"; \
    echo \"hostname: $(hostname)\"; echo \"pid: $$\"; id; \
    echo \"network: $(ls /sys/class/net)\"";

/// The demo berthd's default bridge, removed when the demo ends.
const DEMO_BRIDGE: &str = "berthdemo0";

/// How long berthd gets to open its socket, and to exit after SIGTERM.
const DAEMON_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `command` (or `echo hello`) with `berth run --rm` against a fresh
/// berthd and returns the container's exit code (what `berth run` exits
/// with).
pub fn run(command: &[String]) -> Result<i32> {
    let bins = build_bins()?;
    let fixtures = Fixtures::ensure_default()?;
    let registry = LocalRegistry::try_start()?;
    for name in FIXTURE_IMAGES {
        registry.try_push_layout(&fixtures.image_layout(name), name, "latest")?;
    }
    let reference = format!("{}/busybox:latest", registry.host());

    // Short prefix: shim sockets live under the exec root and a unix socket
    // path holds at most 108 bytes.
    let scratch = Scratch::new("bdemo-")?;
    let daemon = Daemon::start(&bins, scratch.path())?;
    let host = format!("unix://{}", daemon.sock.display());

    let args = run_args(&host, &reference, command);
    eprintln!("$ berth {}", shell_words(&args));
    let status = Command::new(&bins.berth)
        .args(&args)
        .env_remove("DOCKER_HOST")
        .env_remove("BERTH_HOST")
        .status()
        .context("running berth")?;
    remove_leftovers(&bins.berth, &host);

    let stopped = daemon.stop();
    // The demo's bridge and its rules go with it (a real berthd keeps
    // berth0, as dockerd keeps docker0).
    crate::bench::daemon::berth::remove_daemon_network(
        &scratch.path().join("data"),
        &scratch.path().join("exec"),
    );
    stopped?;
    drop(registry);
    drop(scratch);
    remove_parent_if_empty("berth", "");
    // A container killed by a signal: the CLI exits 128+n, as Docker's.
    Ok(status.code().unwrap_or(1))
}

/// The `berth` arguments: `-H <host> run --rm <image> <command>`.
fn run_args(host: &str, reference: &str, command: &[String]) -> Vec<String> {
    let mut args: Vec<String> = ["-H", host, "run", "--rm", reference]
        .map(String::from)
        .to_vec();
    if command.is_empty() {
        args.extend(DEFAULT_COMMAND.map(String::from));
    } else {
        args.extend(command.iter().cloned());
    }
    args
}

/// `args` as a user could paste them into a shell.
fn shell_words(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+".contains(&b));
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The binaries the demo runs.
struct Bins {
    berthd: PathBuf,
    shim: PathBuf,
    berth: PathBuf,
}

/// Builds berthd, berth-shim and berth (debug) in one cargo invocation.
fn build_bins() -> Result<Bins> {
    let workspace = workspace_root();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("building berthd, berth-shim and berth (debug)...");
    let status = Command::new(&cargo)
        .current_dir(&workspace)
        .args(["build", "-p", "berth-daemon", "--bin", "berthd"])
        .args(["-p", "berth-shim", "--bin", "berth-shim"])
        .args(["-p", "berth-cli", "--bin", "berth"])
        .status()
        .context("running cargo build")?;
    ensure!(status.success(), "building the binaries failed ({status})");
    let dir = workspace.join("target/debug");
    let bins = Bins {
        berthd: dir.join("berthd"),
        shim: dir.join("berth-shim"),
        berth: dir.join("berth"),
    };
    for b in [&bins.berthd, &bins.shim, &bins.berth] {
        ensure!(b.is_file(), "{} missing after the build", b.display());
    }
    Ok(bins)
}

/// A temp dir whose mounts are detached before it is removed.
struct Scratch(tempfile::TempDir);

impl Scratch {
    fn new(prefix: &str) -> Result<Scratch> {
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir()
            .context("creating the demo's temp dir")?;
        Ok(Scratch(dir))
    }

    fn path(&self) -> &Path {
        self.0.path()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        unmount_under(self.0.path());
    }
}

/// berthd on `<dir>/data` and `<dir>/exec`, serving `<dir>/berth.sock`,
/// logging to `<dir>/berthd.log`; SIGTERMed by PID on stop or drop.
struct Daemon {
    child: Option<Child>,
    sock: PathBuf,
    log: PathBuf,
}

impl Daemon {
    fn start(bins: &Bins, dir: &Path) -> Result<Daemon> {
        let sock = dir.join("berth.sock");
        let log = dir.join("berthd.log");
        let out = fs::File::create(&log).context("creating the berthd log")?;
        eprintln!("starting berthd on {}", sock.display());
        let child = Command::new(&bins.berthd)
            .arg("--data-root")
            .arg(dir.join("data"))
            .arg("--exec-root")
            .arg(dir.join("exec"))
            .arg("--pidfile")
            .arg(dir.join("berthd.pid"))
            .arg("-H")
            .arg(format!("unix://{}", sock.display()))
            .args(["--bridge", DEMO_BRIDGE])
            .env("BERTH_SHIM", &bins.shim)
            .stdin(Stdio::null())
            .stdout(out.try_clone().context("duplicating the berthd log")?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("spawning {}", bins.berthd.display()))?;
        let mut daemon = Daemon {
            child: Some(child),
            sock,
            log,
        };
        let deadline = Instant::now() + DAEMON_TIMEOUT;
        while !daemon.sock.exists() {
            if let Some(status) = daemon.child_mut().try_wait()? {
                daemon.child = None;
                bail!(
                    "berthd exited ({status}) before serving its socket; its log:\n{}",
                    fs::read_to_string(&daemon.log).unwrap_or_default()
                );
            }
            ensure!(
                Instant::now() < deadline,
                "berthd did not create {} within {DAEMON_TIMEOUT:?}",
                daemon.sock.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(daemon)
    }

    fn child_mut(&mut self) -> &mut Child {
        self.child.as_mut().expect("berthd is running")
    }

    /// SIGTERM, then wait; SIGKILL past [`DAEMON_TIMEOUT`] (an error).
    fn stop(mut self) -> Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        if let Some(status) = child.try_wait()? {
            bail!(
                "berthd died during the demo ({status}); its log:\n{}",
                fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
        let pid = libc::pid_t::try_from(child.id()).context("berthd's PID")?;
        // SAFETY: kill has no memory-safety preconditions; `pid` is our
        // unreaped child, so it cannot have been reused by another process.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let deadline = Instant::now() + DAEMON_TIMEOUT;
        while Instant::now() < deadline {
            if child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        bail!("berthd did not exit within {DAEMON_TIMEOUT:?} of SIGTERM; killed it")
    }
}

impl Drop for Daemon {
    /// An early return: stop berthd anyway, quietly.
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Ok(pid) = libc::pid_t::try_from(child.id()) {
                if matches!(child.try_wait(), Ok(None)) {
                    // SAFETY: as in `stop`: our unreaped child.
                    unsafe {
                        libc::kill(pid, libc::SIGTERM);
                    }
                }
            }
            let deadline = Instant::now() + DAEMON_TIMEOUT;
            while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Force-removes any container still known to the daemon (none after a
/// `--rm` run; one if the run was interrupted), so no shim outlives it.
fn remove_leftovers(berth: &Path, host: &str) {
    let Ok(out) = Command::new(berth)
        .args(["-H", host, "ps", "-aq"])
        .stderr(Stdio::null())
        .output()
    else {
        return;
    };
    for id in String::from_utf8_lossy(&out.stdout).split_whitespace() {
        eprintln!("removing leftover container {id}");
        let _ = Command::new(berth)
            .args(["-H", host, "rm", "-f", id])
            .stdout(Stdio::null())
            .status();
    }
}

/// The lower-level tour: pull with berth-image in-process, mount the
/// overlay rootfs, run `command` (or a short script) with `berth-runc`.
/// Returns the container's exit code.
pub fn run_runtime_only(command: &[String]) -> Result<i32> {
    let runc = build_bin("berth-runtime", "berth-runc", Profile::Debug)?;
    let fixtures = Fixtures::ensure_default()?;
    let work = tempfile::Builder::new().prefix("berth-demo-").tempdir()?;

    let registry = LocalRegistry::try_start()?;
    let reference = format!("{}/demo/busybox:latest", registry.host());
    registry.try_push_layout(&fixtures.image_layout("busybox"), "demo/busybox", "latest")?;
    eprintln!("$ pull {reference}");
    let service = LocalImageService::open(ImageServiceConfig::new(work.path().join("data")))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let progress = Progress::new(|event| eprintln!("{event}"));
    let image = runtime.block_on(service.pull(&reference, PullOptions::default(), progress))?;

    let id = format!("demo-{}", std::process::id());
    let rootfs = service.prepare_rootfs(&id, &image.id)?;
    let result = (|| {
        rootfs.mount(&rootfs.merged_dir)?;
        let args: Vec<String> = if command.is_empty() {
            ["sh", "-c", RUNTIME_SCRIPT].map(String::from).to_vec()
        } else {
            command.to_vec()
        };
        let bundle = work.path().join("bundle");
        fs::create_dir_all(&bundle)?;
        write_spec(&bundle, &rootfs.merged_dir, &image, &args, &id)?;
        eprintln!("$ berth-runc run --bundle {} {id}", bundle.display());
        Command::new(&runc)
            .arg("--root")
            .arg(work.path().join("state"))
            .args(["run", "--bundle"])
            .arg(&bundle)
            .arg(&id)
            .status()
            .context("running berth-runc")
    })();
    service.remove_rootfs(&id)?;
    remove_parent_if_empty("berth", "demo-");
    let code = result?.code().unwrap_or(1);
    eprintln!("container exited with code {code}");
    Ok(code)
}

/// The bundle's config.json: the fixture defaults, on the mounted rootfs,
/// with the image's environment and working directory.
fn write_spec(
    bundle: &Path,
    rootfs: &Path,
    image: &ImageRecord,
    args: &[String],
    id: &str,
) -> Result<()> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut spec = spec_with_args(&args);
    spec["root"] = serde_json::json!({ "path": rootfs, "readonly": false });
    spec["linux"]["cgroupsPath"] = Value::String(format!("/berth/{id}"));
    if let Some(c) = &image.config.config {
        if let Some(env) = &c.env {
            spec["process"]["env"] = serde_json::json!(env);
        }
        if let Some(dir) = c.working_dir.as_deref().filter(|d| !d.is_empty()) {
            spec["process"]["cwd"] = Value::String(dir.to_string());
        }
    }
    fs::write(
        bundle.join("config.json"),
        serde_json::to_vec_pretty(&spec)?,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn default_command_is_echo_hello() {
        assert_eq!(
            run_args("unix:///s", "r/busybox:latest", &[]),
            strings(&[
                "-H",
                "unix:///s",
                "run",
                "--rm",
                "r/busybox:latest",
                "echo",
                "hello"
            ])
        );
    }

    #[test]
    fn extra_args_replace_the_command() {
        let cmd = strings(&["sh", "-c", "echo hi; exit 3"]);
        assert_eq!(
            run_args("unix:///s", "img", &cmd),
            strings(&[
                "-H",
                "unix:///s",
                "run",
                "--rm",
                "img",
                "sh",
                "-c",
                "echo hi; exit 3"
            ])
        );
    }

    #[test]
    fn shell_words_quote_what_needs_it() {
        assert_eq!(
            shell_words(&strings(&[
                "run",
                "127.0.0.1:5000/busybox:latest",
                "echo hi; it's",
                ""
            ])),
            r"run 127.0.0.1:5000/busybox:latest 'echo hi; it'\''s' ''"
        );
    }
}
