//! Attaching clients to containers and execs through the daemon core,
//! against real shims: the `docker run` order (attach, then start, with no
//! output lost), stream selection, log replay, stdin-once, detach keys,
//! and moby's errors.

use std::sync::Arc;
use std::time::Duration;

use berth_daemon::daemon::{
    AttachOptions, AttachSession, Daemon, ExecConfig, InputOutcome, WaitCondition,
};
use berth_daemon::events::EventFilter;
use berth_errdefs::{ErrorKind, HasKind};
use berth_shim::OutputStream;
use integration_tests::daemon_world::{mounts_under, wait_for, DaemonWorld};

fn all_streams() -> AttachOptions {
    AttachOptions {
        stdin: true,
        stdout: true,
        stderr: true,
        stream: true,
        ..AttachOptions::default()
    }
}

/// Creates a container running `cmd` with stdin open (and `tty`).
fn create_interactive(w: &DaemonWorld, d: &Arc<Daemon>, name: &str, tty: bool, cmd: &[&str]) {
    let mut req = w.request(cmd);
    req.config.open_stdin = true;
    req.config.stdin_once = true;
    req.config.attach_stdin = true;
    req.config.tty = tty;
    w.rt.block_on(d.create(Some(name), req)).unwrap();
}

fn collect(w: &DaemonWorld, session: AttachSession) -> (String, String) {
    let (out, err) = w.rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(30), session.output.collect())
            .await
            .expect("output in time")
    });
    (
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

fn teardown(w: &DaemonWorld, d: &Arc<Daemon>) {
    for c in d.list() {
        let id = c.record().id;
        // A container exiting as it is force-removed can have its shim
        // hang up mid-kill (Unavailable); the second try finds it gone.
        if let Err(e) = w.rt.block_on(d.remove(&id, true)) {
            eprintln!("remove {id}: {e}; retrying");
            std::thread::sleep(std::time::Duration::from_millis(200));
            w.rt.block_on(d.remove(&id, true)).unwrap();
        }
    }
    assert_eq!(mounts_under(w.data.path()), 0, "mounts left behind");
}

#[test]
fn attach_before_start_sees_everything_and_stdin_once_closes() {
    let w = DaemonWorld::new();
    let d = w.daemon();
    create_interactive(
        &w,
        &d,
        "run",
        false,
        &["sh", "-c", "echo first; echo oops >&2; cat; echo after-eof"],
    );
    // `docker run -i`: attach, then start.
    let mut session = w.rt.block_on(d.attach("run", all_streams())).unwrap();
    assert!(!session.tty);
    let mut input = session.input.take().expect("stdin attached");
    w.rt.block_on(d.start("run")).unwrap();
    w.rt.block_on(async {
        assert_eq!(input.write(b"typed\n").await.unwrap(), InputOutcome::Sent);
        input.close().await.unwrap();
    });
    let (out, err) = collect(&w, session);
    assert_eq!(out, "first\ntyped\nafter-eof\n");
    assert_eq!(err, "oops\n");
    let code =
        w.rt.block_on(d.wait("run", WaitCondition::NotRunning))
            .unwrap();
    assert_eq!(code, 0);
    teardown(&w, &d);
}

#[test]
fn streams_are_selected_and_logs_replayed() {
    let w = DaemonWorld::new();
    let d = w.daemon();
    let id = w.create(
        &d,
        Some("both"),
        &[
            "sh",
            "-c",
            "echo o1; echo e1 >&2; sleep 0.3; echo o2; echo e2 >&2",
        ],
    );
    let only_err = AttachOptions {
        stderr: true,
        stream: true,
        ..AttachOptions::default()
    };
    let session = w.rt.block_on(d.attach("both", only_err)).unwrap();
    assert!(session.input.is_none(), "stdin was not asked for");
    w.rt.block_on(d.start(&id)).unwrap();
    let (out, err) = collect(&w, session);
    assert_eq!((out.as_str(), err.as_str()), ("", "e1\ne2\n"));

    // Exited: logs=true replays the log, stream=true ends with nothing
    // live until the next start; logs only, stdout only.
    let replay = AttachOptions {
        stdout: true,
        logs: true,
        ..AttachOptions::default()
    };
    let session = w.rt.block_on(d.attach("both", replay)).unwrap();
    let (out, err) = collect(&w, session);
    assert_eq!((out.as_str(), err.as_str()), ("o1\no2\n", ""));
    teardown(&w, &d);
}

#[test]
fn detach_keys_leave_the_container_running() {
    let w = DaemonWorld::new();
    let d = w.daemon();
    create_interactive(&w, &d, "tty", true, &["sh"]);
    w.rt.block_on(d.start("tty")).unwrap();
    let (_, mut events) = d.events().subscribe(EventFilter::default(), None, None);
    let opts = AttachOptions {
        detach_keys: "ctrl-a,d".into(),
        ..all_streams()
    };
    let mut session = w.rt.block_on(d.attach("tty", opts)).unwrap();
    assert!(session.tty);
    let mut input = session.input.take().unwrap();
    let out = w.rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(20), async {
            // Ctrl-A then something else is ordinary input.
            assert_eq!(input.write(&[1]).await.unwrap(), InputOutcome::Sent);
            assert_eq!(
                input.write(b"x; echo mark-$((40+2))\n").await.unwrap(),
                InputOutcome::Sent
            );
            let mut out = Vec::new();
            while !String::from_utf8_lossy(&out).contains("mark-42") {
                let (stream, data) = session.output.next().await.expect("output");
                assert_eq!(stream, OutputStream::Stdout, "a TTY has one stream");
                out.extend(data);
            }
            assert_eq!(
                input.write(&[1, b'd']).await.unwrap(),
                InputOutcome::Detached
            );
            String::from_utf8_lossy(&out).into_owned()
        })
        .await
        .expect("tty output in time")
    });
    assert!(out.contains("mark-42"), "{out:?}");
    drop(session);
    drop(input);
    std::thread::sleep(Duration::from_millis(300));
    assert!(d.get("tty").unwrap().record().state.running);
    let actions: Vec<String> = w.rt.block_on(async {
        let mut a = Vec::new();
        while a.len() < 2 {
            let m = tokio::time::timeout(Duration::from_secs(5), events.next())
                .await
                .expect("events")
                .expect("an event");
            a.push(m.action);
        }
        a
    });
    assert_eq!(actions, ["attach", "detach"]);
    teardown(&w, &d);
}

#[test]
fn exec_attaches_only_its_streams_and_detaches() {
    let w = DaemonWorld::new();
    let d = w.daemon();
    w.run(&d, "box", &["sleep", "1000"]);
    // Only stdout attached: stderr is not sent.
    let id = d
        .exec_create(
            "box",
            ExecConfig {
                attach_stdout: true,
                cmd: Some(vec![
                    "sh".into(),
                    "-c".into(),
                    "echo out; echo err >&2".into(),
                ]),
                ..ExecConfig::default()
            },
        )
        .unwrap();
    let started = w.rt.block_on(d.exec_start(&id, false)).unwrap();
    let (out, err) = collect(&w, started.attach.unwrap());
    assert_eq!((out.as_str(), err.as_str()), ("out\n", ""));

    // Its own detach keys: the exec keeps running after the client goes.
    let id = d
        .exec_create(
            "box",
            ExecConfig {
                attach_stdin: true,
                attach_stdout: true,
                detach_keys: "ctrl-x".into(),
                cmd: Some(vec!["cat".into()]),
                ..ExecConfig::default()
            },
        )
        .unwrap();
    let started = w.rt.block_on(d.exec_start(&id, false)).unwrap();
    let AttachSession {
        input, mut output, ..
    } = started.attach.unwrap();
    let mut input = input.unwrap();
    w.rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(20), async {
            input.write(b"ping\n").await.unwrap();
            let (_, data) = output.next().await.expect("echo");
            assert_eq!(data, b"ping\n");
            assert_eq!(input.write(&[24]).await.unwrap(), InputOutcome::Detached);
        })
        .await
        .expect("exec echo in time")
    });
    drop((input, output));
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        d.exec_inspect(&id).unwrap().running,
        "detaching keeps the exec"
    );

    let bad = ExecConfig {
        detach_keys: "ctrl-1".into(),
        cmd: Some(vec!["true".into()]),
        ..ExecConfig::default()
    };
    let e = d.exec_create("box", bad).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);
    assert_eq!(e.to_string(), "Invalid escape keys (ctrl-1) provided");
    teardown(&w, &d);
}

#[test]
fn attach_errors_and_a_waiting_client_of_a_removed_container() {
    let w = DaemonWorld::new();
    let d = w.daemon();
    let e =
        w.rt.block_on(d.attach("nosuch", all_streams()))
            .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    w.run(&d, "paused", &["sleep", "1000"]);
    let bad = AttachOptions {
        detach_keys: "shift-a".into(),
        ..all_streams()
    };
    let e = w.rt.block_on(d.attach("paused", bad)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);
    assert_eq!(e.to_string(), "Invalid detach keys (shift-a) provided");
    w.rt.block_on(d.pause("paused")).unwrap();
    let e =
        w.rt.block_on(d.attach("paused", all_streams()))
            .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert_eq!(
        e.to_string(),
        "container paused is paused, unpause the container before attach"
    );
    w.rt.block_on(d.unpause("paused")).unwrap();

    // A client waiting for a start that never comes ends on removal.
    w.create(&d, Some("never"), &["true"]);
    let session = w.rt.block_on(d.attach("never", all_streams())).unwrap();
    let remover = {
        let d = d.clone();
        w.rt.spawn(async move { d.remove("never", true).await })
    };
    let (out, err) = collect(&w, session);
    assert_eq!((out.as_str(), err.as_str()), ("", ""));
    w.rt.block_on(remover).unwrap().unwrap();
    wait_for("removal", Duration::from_secs(5), || {
        d.get("never").is_err()
    });
    teardown(&w, &d);
}
