//! The daemon core end to end: a real registry, real image pulls, real
//! overlay mounts, real shims running real containers. Create, start,
//! wait, stop, kill, remove with moby's state checks and messages, and live
//! restore: a daemon dropped without stopping anything (as `kill -9` would)
//! is replaced by a new one that finds its containers.

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use berth_daemon::daemon::WaitCondition;
use berth_errdefs::{ErrorKind, HasKind};
use berth_image::service::{ImageService, ImageServiceConfig, LocalImageService};
use integration_tests::daemon_world::{mounts_under, wait_for, DaemonWorld};

type World = DaemonWorld;

fn world() -> World {
    World::new()
}

fn log_lines(path: PathBuf) -> Vec<serde_json::Value> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn run_to_completion_logs_and_remove() {
    let w = world();
    let d = w.daemon();
    let id = w.create(
        &d,
        Some("hello"),
        &["sh", "-c", "echo out; echo err >&2; exit 3"],
    );
    let c = d.get("hello").unwrap();
    assert_eq!(c.record().state.status(), "created");
    assert_eq!(c.record().name, "/hello");
    assert_eq!(d.get(&id[..12]).unwrap().record().id, id, "short ID prefix");

    w.rt.block_on(d.start("hello")).unwrap();
    let code =
        w.rt.block_on(d.wait("hello", WaitCondition::NotRunning))
            .unwrap();
    assert_eq!(code, 3);
    let state = c.record().state;
    assert_eq!(
        (state.status(), state.exit_code, state.pid),
        ("exited", 3, 0)
    );
    let lines = log_lines(c.log_path());
    let streams: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| (l["log"].as_str().unwrap(), l["stream"].as_str().unwrap()))
        .collect();
    assert!(streams.contains(&("out\n", "stdout")), "{streams:?}");
    assert!(streams.contains(&("err\n", "stderr")), "{streams:?}");
    assert_eq!(
        mounts_under(w.data.path()),
        0,
        "rootfs unmounted after exit"
    );

    // Restart from exited works, and the state follows.
    w.rt.block_on(d.start(&id)).unwrap();
    assert_eq!(
        w.rt.block_on(d.wait(&id, WaitCondition::NotRunning))
            .unwrap(),
        3
    );

    w.rt.block_on(d.remove("hello", false)).unwrap();
    let err = d.get("hello").unwrap_err();
    assert_eq!(err.to_string(), "No such container: hello");
    assert!(!w.data.path().join("containers").join(&id).exists());
    assert!(d.list().is_empty());
}

#[test]
fn state_checks_use_mobys_errors() {
    let w = world();
    let d = w.daemon();
    let err =
        w.rt.block_on(d.create(None, {
            let mut r = w.request(&["true"]);
            r.config.image = "nosuchimage".into();
            r
        }))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.to_string(), "No such image: nosuchimage:latest");

    let id = w.create(&d, Some("web"), &["sleep", "1000"]);
    let err =
        w.rt.block_on(d.create(Some("web"), w.request(&["true"])))
            .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(
        err.to_string(),
        format!("Conflict. The container name \"/web\" is already in use by container \"{id}\". You have to remove (or rename) that container to be able to reuse that name.")
    );
    let err =
        w.rt.block_on(d.create(Some("bad name"), w.request(&["true"])))
            .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter);

    w.rt.block_on(d.start("web")).unwrap();
    let err = w.rt.block_on(d.start("web")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotModified);
    let err = w.rt.block_on(d.remove("web", false)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(
        err.to_string(),
        "cannot remove container \"/web\": container is running: stop the container before removing or force remove"
    );
    // sleep as pid 1 ignores SIGTERM: stop escalates to SIGKILL after 1 s.
    w.rt.block_on(d.stop("web", Some(1))).unwrap();
    assert_eq!(d.get("web").unwrap().record().state.exit_code, 137);
    let err = w.rt.block_on(d.stop("web", Some(1))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotModified);
    let err = w.rt.block_on(d.kill("web", None)).unwrap_err();
    assert_eq!(err.to_string(), format!("Container {id} is not running"));

    // kill with a signal name; force-remove a running container.
    w.rt.block_on(d.start("web")).unwrap();
    w.rt.block_on(d.kill("web", Some("SIGKILL"))).unwrap();
    assert_eq!(
        w.rt.block_on(d.wait("web", WaitCondition::NotRunning))
            .unwrap(),
        137
    );
    w.rt.block_on(d.start("web")).unwrap();
    w.rt.block_on(d.remove("web", true)).unwrap();
    assert!(d.get("web").is_err());
    assert_eq!(mounts_under(w.data.path()), 0);
}

#[test]
fn live_restore_after_the_daemon_dies() {
    let mut w = world();
    let d = w.daemon();
    w.create(&d, Some("long"), &["sleep", "1000"]);
    w.create(&d, Some("short"), &["sh", "-c", "sleep 1; exit 7"]);
    w.rt.block_on(d.start("long")).unwrap();
    w.rt.block_on(d.start("short")).unwrap();
    let pid = d.get("long").unwrap().record().state.pid;
    // The daemon dies without stopping anything.
    w.kill_daemon(d);
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        PathBuf::from(format!("/proc/{pid}")).exists(),
        "container died with the daemon"
    );

    let d = w.daemon();
    let long = d.get("long").unwrap().record().state;
    assert_eq!((long.status(), long.pid), ("running", pid));
    let short = d.get("short").unwrap().record().state;
    assert_eq!(
        (short.status(), short.exit_code),
        ("exited", 7),
        "exit code learnt from the shim"
    );

    w.rt.block_on(d.stop("long", Some(1))).unwrap();
    assert_eq!(d.get("long").unwrap().record().state.exit_code, 137);
    for name in ["long", "short"] {
        w.rt.block_on(d.remove(name, true)).unwrap();
    }
    assert_eq!(mounts_under(w.data.path()), 0);
}

#[test]
fn a_create_interrupted_by_a_crash_is_cleaned_up() {
    let w = world();
    // What a crash between "directory created, snapshot prepared" and
    // "config written" leaves.
    let id = "ab".repeat(32);
    let images = LocalImageService::open(ImageServiceConfig::new(w.data.path())).unwrap();
    let image = images.get_image(&w.image).unwrap();
    fs::create_dir_all(w.data.path().join("containers").join(&id)).unwrap();
    images.prepare_rootfs(&id, &image.id).unwrap();
    drop(images);

    let d = w.daemon();
    assert!(d.list().is_empty());
    assert!(!w.data.path().join("containers").join(&id).exists());
    assert!(!w.data.path().join("overlay/active").join(&id).exists());
}

#[test]
fn pause_unpause_and_rename() {
    let mut w = world();
    let d = w.daemon();
    w.create(&d, Some("web"), &["sleep", "1000"]);
    let id = w.create(&d, Some("other"), &["true"]);
    w.rt.block_on(d.start("web")).unwrap();
    w.rt.block_on(d.pause("web")).unwrap();
    assert_eq!(d.get("web").unwrap().record().state.status(), "paused");
    let err = w.rt.block_on(d.pause("web")).unwrap_err();
    assert!(err.to_string().ends_with("is already paused"), "{err}");
    let err = w.rt.block_on(d.start("web")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot start a paused container, try unpause instead"
    );
    w.rt.block_on(d.unpause("web")).unwrap();
    assert_eq!(d.get("web").unwrap().record().state.status(), "running");
    let err = w.rt.block_on(d.unpause("web")).unwrap_err();
    assert!(err.to_string().ends_with("is not paused"), "{err}");
    let err = w.rt.block_on(d.pause("other")).unwrap_err();
    assert_eq!(err.to_string(), format!("Container {id} is not running"));

    w.rt.block_on(d.rename("web", "web2")).unwrap();
    assert!(d.get("web").is_err());
    assert_eq!(d.get("web2").unwrap().record().name, "/web2");
    let err = w.rt.block_on(d.rename("web2", "web2")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    let err = w.rt.block_on(d.rename("web2", "other")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    // The new name survives a daemon restart.
    w.kill_daemon(d);
    let d = w.daemon();
    assert!(d.get("web2").is_ok());
    for name in ["web2", "other"] {
        w.rt.block_on(d.remove(name, true)).unwrap();
    }
    assert_eq!(mounts_under(w.data.path()), 0);
}

#[test]
fn restart_policies() {
    let mut w = world();
    let d = w.daemon();
    let with_policy = |name: &str, policy: &str, max: i64, cmd: &[&str]| {
        let mut req = w.request(cmd);
        let hc = req.host_config.as_mut().unwrap();
        hc.restart_policy.name = policy.into();
        hc.restart_policy.maximum_retry_count = max;
        w.rt.block_on(d.create(Some(name), req)).unwrap();
        w.rt.block_on(d.start(name)).unwrap();
    };
    with_policy("flaky", "on-failure", 2, &["sh", "-c", "exit 1"]);
    with_policy("always", "always", 0, &["sleep", "1000"]);
    with_policy("unless", "unless-stopped", 0, &["sleep", "1000"]);

    // on-failure:2 gives up after two restarts.
    wait_for("two restarts", Duration::from_secs(15), || {
        let r = d.get("flaky").unwrap().record();
        r.restart_count == 2 && !r.state.running && !r.state.restarting
    });
    assert_eq!(d.get("flaky").unwrap().record().state.exit_code, 1);

    // always comes back after its process is killed.
    let pid = d.get("always").unwrap().record().state.pid;
    w.rt.block_on(d.kill("always", None)).unwrap();
    wait_for("a restart", Duration::from_secs(10), || {
        let r = d.get("always").unwrap().record();
        r.restart_count == 1 && r.state.status() == "running" && r.state.pid != pid
    });

    // A user's stop is final for this daemon's life...
    for name in ["always", "unless"] {
        w.rt.block_on(d.stop(name, Some(0))).unwrap();
    }
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(d.get("always").unwrap().record().state.status(), "exited");
    // ...and across a daemon restart, `always` comes back, `unless-stopped` does not.
    w.kill_daemon(d);
    let d = w.daemon();
    assert_eq!(d.get("always").unwrap().record().state.status(), "running");
    assert_eq!(d.get("unless").unwrap().record().state.status(), "exited");
    for name in ["flaky", "always", "unless"] {
        w.rt.block_on(d.remove(name, true)).unwrap();
    }
    assert_eq!(mounts_under(w.data.path()), 0);
}

#[test]
fn lifecycle_events_in_mobys_order() {
    use berth_daemon::events::EventFilter;
    let w = world();
    let d = w.daemon();
    let filter = EventFilter::from_json(r#"{"type":["container"],"container":["ev"]}"#).unwrap();
    let (replayed, mut sub) = d.events().subscribe(filter, None, None);
    assert!(replayed.is_empty());
    let id = w.create(&d, Some("ev"), &["sleep", "1000"]);
    w.rt.block_on(d.start("ev")).unwrap();
    w.rt.block_on(d.pause("ev")).unwrap();
    w.rt.block_on(d.unpause("ev")).unwrap();
    w.rt.block_on(d.rename("ev", "ev2")).unwrap();
    w.rt.block_on(d.stop("ev2", Some(0))).unwrap();
    w.rt.block_on(d.remove("ev2", false)).unwrap();
    let mut seen = Vec::new();
    while let Some(m) = sub.try_next() {
        assert_eq!(m.actor.id, id);
        seen.push((m.action.clone(), m.actor.attributes.clone()));
    }
    let actions: Vec<&str> = seen.iter().map(|(a, _)| a.as_str()).collect();
    // The container filter matches the name by prefix, so "ev2" still counts.
    // stop with no grace: SIGTERM (ignored by sleep as pid 1), SIGKILL, die, stop.
    assert_eq!(
        actions,
        [
            "create", "start", "pause", "unpause", "rename", "kill", "kill", "die", "stop",
            "destroy"
        ],
    );
    assert_eq!(seen[5].1.get("signal").map(String::as_str), Some("15"));
    assert_eq!(seen[7].1.get("exitCode").map(String::as_str), Some("137"));
    let rename = &seen[4].1;
    assert_eq!(rename.get("oldName").map(String::as_str), Some("/ev"));
    assert_eq!(rename.get("name").map(String::as_str), Some("ev2"));
    assert_eq!(
        seen[0].1.get("image").map(String::as_str),
        Some(w.image.as_str())
    );
}

#[test]
fn logs_follow_a_running_container_until_it_exits() {
    use berth_daemon::logs::{LogsOptions, Stream};
    let w = world();
    let d = w.daemon();
    w.create(
        &d,
        Some("talker"),
        &[
            "sh",
            "-c",
            "for i in 1 2 3; do echo line$i; sleep 0.3; done; echo oops >&2",
        ],
    );
    w.rt.block_on(d.start("talker")).unwrap();
    let followed: Vec<(Stream, String)> = w.rt.block_on(async {
        let options = LogsOptions {
            follow: true,
            ..Default::default()
        };
        let mut stream = d.logs("talker", options).await.unwrap();
        let mut out = Vec::new();
        while let Some(m) = stream.recv().await {
            let m = m.unwrap();
            out.push((m.stream, String::from_utf8(m.line).unwrap()));
        }
        out
    });
    assert_eq!(
        followed,
        [
            (Stream::Stdout, "line1\n".to_string()),
            (Stream::Stdout, "line2\n".to_string()),
            (Stream::Stdout, "line3\n".to_string()),
            (Stream::Stderr, "oops\n".to_string()),
        ],
        "follow ends when the container exits"
    );
    // tail and stream selection on the finished log.
    let tail: Vec<String> = w.rt.block_on(async {
        let options = LogsOptions {
            stderr: false,
            tail: Some(2),
            ..Default::default()
        };
        let mut stream = d.logs("talker", options).await.unwrap();
        let mut out = Vec::new();
        while let Some(m) = stream.recv().await {
            out.push(String::from_utf8(m.unwrap().line).unwrap());
        }
        out
    });
    assert_eq!(
        tail,
        ["line3\n"],
        "the last two lines are line3 and oops; only stdout is asked for"
    );
    let err =
        w.rt.block_on(d.logs(
            "talker",
            LogsOptions {
                stdout: false,
                stderr: false,
                ..Default::default()
            },
        ))
        .err()
        .unwrap();
    assert_eq!(err.to_string(), "You must choose at least one stream");
    w.rt.block_on(d.remove("talker", true)).unwrap();
}
