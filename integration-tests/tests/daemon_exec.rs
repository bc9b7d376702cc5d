//! `docker exec` through the daemon core, end to end: a real registry, a
//! real busybox pull, real shims. Attached and detached execs, exit codes,
//! env / working dir / user, TTYs, and moby's state checks and messages.

use std::sync::Arc;
use std::time::Duration;

use berth_daemon::config::{Config, ContainerCreateRequest, HostConfig, StrSlice};
use berth_daemon::daemon::AttachSession;
use berth_daemon::daemon::{Daemon, ExecConfig};
use berth_errdefs::{ErrorKind, HasKind};
use berth_shim::OutputStream;
use integration_tests::daemon_world::{mounts_under, DaemonWorld};

/// The shared daemon world plus one daemon on it.
struct World {
    // Declared first: the daemon goes before the world cleans up.
    d: Arc<Daemon>,
    base: DaemonWorld,
}

impl std::ops::Deref for World {
    type Target = DaemonWorld;

    fn deref(&self) -> &DaemonWorld {
        &self.base
    }
}

fn world() -> World {
    let base = DaemonWorld::new();
    World {
        d: base.daemon(),
        base,
    }
}

impl World {
    /// Creates and starts a long-running container.
    fn run(&self, name: &str) -> String {
        let req = ContainerCreateRequest {
            config: Config {
                image: self.image.clone(),
                cmd: Some(StrSlice(vec!["sleep".into(), "300".into()])),
                ..Default::default()
            },
            host_config: Some(HostConfig::default()),
            networking_config: None,
        };
        let id = self.rt.block_on(self.d.create(Some(name), req)).unwrap().id;
        self.rt.block_on(self.d.start(name)).unwrap();
        id
    }

    /// Creates an exec, starts it attached, and collects its output and code.
    fn exec(&self, container: &str, config: ExecConfig) -> (String, String, i32, String) {
        let id = self.d.exec_create(container, config).unwrap();
        let started = self.rt.block_on(self.d.exec_start(&id, false)).unwrap();
        assert!(started.pid > 0);
        let attach = started
            .attach
            .expect("an attached start returns the stream");
        let (out, err) = self
            .rt
            .block_on(async {
                tokio::time::timeout(Duration::from_secs(30), attach.output.collect()).await
            })
            .expect("exec output in time");
        let code = self.wait(&id);
        (
            String::from_utf8_lossy(&out).into_owned(),
            String::from_utf8_lossy(&err).into_owned(),
            code,
            id,
        )
    }

    fn wait(&self, exec_id: &str) -> i32 {
        self.rt
            .block_on(async {
                tokio::time::timeout(Duration::from_secs(30), self.d.exec_wait(exec_id)).await
            })
            .expect("exec exit in time")
            .unwrap()
    }

    fn cleanup(&self, names: &[&str]) {
        for name in names {
            self.rt.block_on(self.d.remove(name, true)).unwrap();
        }
        assert_eq!(mounts_under(self.data.path()), 0, "mounts left behind");
    }
}

fn cmd(args: &[&str]) -> Option<Vec<String>> {
    Some(args.iter().map(|s| s.to_string()).collect())
}

fn attached(args: &[&str]) -> ExecConfig {
    ExecConfig {
        attach_stdout: true,
        attach_stderr: true,
        cmd: cmd(args),
        ..Default::default()
    }
}

#[test]
fn attached_detached_env_user_and_tty() {
    let w = world();
    let cid = w.run("box");

    // Attached: stdout and stderr apart, the exit code recorded.
    let (out, err, code, id) = w.exec(
        "box",
        attached(&["sh", "-c", "echo out; echo err >&2; exit 5"]),
    );
    assert_eq!(out, "out\n");
    assert_eq!(err, "err\n");
    assert_eq!(code, 5);
    let i = w.d.exec_inspect(&id).unwrap();
    assert_eq!(i.exit_code, Some(5));
    assert!(!i.running);
    assert!(i.pid > 0);
    assert!(i.can_remove);
    assert_eq!(i.container_id, cid);
    assert_eq!(i.process_config.entrypoint, "sh");
    assert_eq!(
        i.process_config.arguments,
        ["-c", "echo out; echo err >&2; exit 5"]
    );
    assert!(i.open_stdout && i.open_stderr && !i.open_stdin);
    let v = serde_json::to_value(&i).unwrap();
    assert_eq!(v["ExitCode"], 5);
    assert_eq!(v["ID"], id.as_str());

    // Starting it again is a Conflict.
    let e = w.rt.block_on(w.d.exec_start(&id, false)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert_eq!(
        e.to_string(),
        format!("Error: Exec command {id} has already run")
    );

    // Detached: a file left behind for the next exec.
    let touch =
        w.d.exec_create(
            "box",
            ExecConfig {
                cmd: cmd(&["touch", "/tmp/x"]),
                ..Default::default()
            },
        )
        .unwrap();
    let before = w.d.exec_inspect(&touch).unwrap();
    assert_eq!(before.exit_code, None);
    assert_eq!(before.pid, 0);
    assert!(!before.running);
    assert_eq!(w.d.exec_ids_of(&cid), vec![touch.clone()]);
    let v = serde_json::to_value(&before).unwrap();
    assert!(v["ExitCode"].is_null());
    let started = w.rt.block_on(w.d.exec_start(&touch, true)).unwrap();
    assert!(started.attach.is_none());
    assert!(started.pid > 0);
    assert_eq!(w.wait(&touch), 0);
    assert!(w.d.exec_ids_of(&cid).is_empty());
    let (_, _, code, _) = w.exec("box", attached(&["test", "-f", "/tmp/x"]));
    assert_eq!(code, 0);

    // Env, WorkingDir and User.
    let (out, err, code, _) = w.exec(
        "box",
        ExecConfig {
            env: Some(vec!["GREETING=hi".into(), "PATH=/bin:/usr/bin".into()]),
            working_dir: "/tmp".into(),
            user: "1000".into(),
            ..attached(&[
                "sh",
                "-c",
                "echo $GREETING; pwd; id -u; id -g; echo $HOME; echo $PATH",
            ])
        },
    );
    assert_eq!(err, "");
    assert_eq!(code, 0);
    assert_eq!(out, "hi\n/tmp\n1000\n1000\n/home/user\n/bin:/usr/bin\n");
    let (out, _, _, _) = w.exec("box", attached(&["sh", "-c", "id -u; pwd; echo $HOME"]));
    assert_eq!(out, "0\n/\n/root\n", "defaults are the container's");

    // A TTY: everything arrives on stdout, through the terminal, sized as
    // asked and then resized; stdin reaches the process.
    let id =
        w.d.exec_create(
            "box",
            ExecConfig {
                tty: true,
                attach_stdin: true,
                console_size: Some([30, 100]),
                ..attached(&[
                    "sh",
                    "-c",
                    "tty; echo $TERM; stty size; read x; echo got-$x; stty size; echo to-err >&2",
                ])
            },
        )
        .unwrap();
    let started = w.rt.block_on(w.d.exec_start(&id, false)).unwrap();
    let AttachSession {
        input, mut output, ..
    } = started.attach.unwrap();
    let mut stdin = input.expect("stdin attached");
    let out = w.rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(30), async {
            let mut out = Vec::new();
            while !String::from_utf8_lossy(&out).contains("30 100") {
                let (stream, data) = output.next().await.expect("output");
                assert_eq!(stream, OutputStream::Stdout);
                out.extend(data);
            }
            w.d.exec_resize(&id, 40, 120).await.unwrap();
            stdin.write(b"go\n").await.unwrap();
            let (rest, err) = output.collect().await;
            assert!(err.is_empty(), "a TTY has no separate stderr");
            out.extend(rest);
            String::from_utf8_lossy(&out).replace('\r', "")
        })
        .await
        .expect("tty exec output in time")
    });
    assert_eq!(w.wait(&id), 0);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("/dev/pts/"), "{out:?}");
    assert_eq!(lines[1], "xterm");
    assert_eq!(lines[2], "30 100");
    assert!(out.contains("got-go\n40 120\nto-err\n"), "{out:?}");
    let i = w.d.exec_inspect(&id).unwrap();
    assert!(i.process_config.tty && i.open_stdin);

    // A privileged exec has every capability; an ordinary one does not.
    let (plain, _, _, _) = w.exec(
        "box",
        attached(&["sh", "-c", "grep CapEff /proc/self/status"]),
    );
    let (privileged, _, _, _) = w.exec(
        "box",
        ExecConfig {
            privileged: true,
            ..attached(&["sh", "-c", "grep CapEff /proc/self/status"])
        },
    );
    assert_ne!(plain, privileged);

    w.cleanup(&["box"]);
    let e = w.d.exec_inspect(&touch).unwrap_err();
    assert_eq!(
        e.kind(),
        ErrorKind::NotFound,
        "execs go with their container"
    );
}

#[test]
fn state_checks_and_messages() {
    let w = world();
    let d = &w.d;

    // No command.
    w.run("live");
    let e = d.exec_create("live", ExecConfig::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);
    assert_eq!(e.to_string(), "No exec command specified");
    let e = d
        .exec_create(
            "live",
            ExecConfig {
                cmd: Some(vec![]),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);

    // Unknown container and unknown exec.
    let e = d.exec_create("nope", attached(&["true"])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(e.to_string(), "No such container: nope");
    let e = d.exec_inspect("deadbeef").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(e.to_string(), "No such exec instance: deadbeef");
    let e = w.rt.block_on(d.exec_start("deadbeef", true)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let e = w.rt.block_on(d.exec_resize("deadbeef", 1, 1)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);

    // Starting while it still runs.
    let id = d.exec_create("live", attached(&["sleep", "2"])).unwrap();
    let started = w.rt.block_on(d.exec_start(&id, true)).unwrap();
    let i = d.exec_inspect(&id).unwrap();
    assert!(i.running);
    assert_eq!(i.pid, started.pid);
    let e = w.rt.block_on(d.exec_start(&id, true)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert_eq!(
        e.to_string(),
        format!("Error: Exec command {id} is already running")
    );
    assert_eq!(w.wait(&id), 0);

    // Paused: create and start refused.
    let pending = d.exec_create("live", attached(&["true"])).unwrap();
    w.rt.block_on(d.pause("live")).unwrap();
    let e = d.exec_create("live", attached(&["true"])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert_eq!(
        e.to_string(),
        "Container live is paused, unpause the container before exec"
    );
    let e = w.rt.block_on(d.exec_start(&pending, true)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert!(e.to_string().contains("is paused"), "{e}");
    w.rt.block_on(d.unpause("live")).unwrap();
    let started = w.rt.block_on(d.exec_start(&pending, true)).unwrap();
    assert!(started.pid > 0);
    assert_eq!(w.wait(&pending), 0);

    // An exec running when the container stops is recorded as ended.
    let long = d.exec_create("live", attached(&["sleep", "300"])).unwrap();
    w.rt.block_on(d.exec_start(&long, true)).unwrap();

    // Stopped: create refused, with the container's ID.
    let stopped = d.exec_create("live", attached(&["true"])).unwrap();
    let cid = d.get("live").unwrap().record().id;
    w.rt.block_on(d.stop("live", Some(1))).unwrap();
    let code = w.wait(&long);
    assert_ne!(code, 0, "the exec died with its container");
    assert!(!d.exec_inspect(&long).unwrap().running);
    let e = d.exec_create("live", attached(&["true"])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert_eq!(e.to_string(), format!("Container {cid} is not running"));
    let e = w.rt.block_on(d.exec_start(&stopped, true)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert_eq!(e.to_string(), format!("Container {cid} is not running"));

    // Created, never started: not running either.
    let req = ContainerCreateRequest {
        config: Config {
            image: w.image.clone(),
            cmd: Some(StrSlice(vec!["true".into()])),
            ..Default::default()
        },
        host_config: Some(HostConfig::default()),
        networking_config: None,
    };
    w.rt.block_on(d.create(Some("fresh"), req)).unwrap();
    let e = d.exec_create("fresh", attached(&["true"])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);

    w.cleanup(&["live", "fresh"]);
}

/// berth-runtime binds an exec's pty onto /dev/console, as for an init:
/// once the first TTY exec has exited that bind points at a gone pty and
/// the next TTY exec fails (`bind /dev/console: No such file or
/// directory`). runc binds /dev/console only for the init.
#[test]
fn two_tty_execs() {
    let w = world();
    w.run("tty2");
    for _ in 0..2 {
        let (out, _, code, _) = w.exec(
            "tty2",
            ExecConfig {
                tty: true,
                ..attached(&["tty"])
            },
        );
        assert_eq!(code, 0);
        assert!(out.starts_with("/dev/pts/"), "{out:?}");
    }
    w.cleanup(&["tty2"]);
}
