//! The daemon's container operations beyond the lifecycle, end to end
//! against real containers: `top` (the host's `ps` filtered by the
//! container's cgroup), `stats` (the cgroup's accounting), `changes`
//! (`docker diff` over the overlay upper dir), `prune` and `restart`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use berth_daemon::daemon::{Daemon, PruneFilters, WaitCondition, ZERO_TIME};
use berth_errdefs::{ErrorKind, HasKind};
use integration_tests::daemon_world::{mounts_under, wait_for, DaemonWorld};

type World = DaemonWorld;

fn world() -> World {
    World::new()
}

/// Force-removes every container and checks nothing stays mounted.
fn teardown(w: &World, d: &Arc<Daemon>) {
    for c in d.list() {
        let id = c.record().id;
        w.rt.block_on(d.remove(&id, true)).unwrap();
    }
    assert!(d.list().is_empty());
    assert_eq!(mounts_under(w.data.path()), 0, "mounts left behind");
}

#[test]
fn top_lists_only_the_containers_processes() {
    let w = world();
    let d = w.daemon();
    let id = w.run(&d, "top", &["sh", "-c", "sleep 1000 & sleep 1001"]);
    let mut top = Default::default();
    wait_for("both sleeps", Duration::from_secs(10), || {
        top = w.rt.block_on(d.top("top", "")).unwrap();
        let cmds: Vec<&str> = top
            .processes
            .iter()
            .map(|p| p.last().unwrap().as_str())
            .collect();
        cmds.contains(&"sleep 1000") && cmds.contains(&"sleep 1001")
    });
    assert_eq!(
        top.titles,
        ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    );
    let pids: Vec<u32> = top
        .processes
        .iter()
        .map(|p| p[1].parse().unwrap())
        .collect();
    let init = d.get(&id).unwrap().record().state.pid;
    assert!(pids.contains(&init), "init {init} in {pids:?}");
    assert!(!pids.contains(&1), "the host's init is not the container's");
    assert!(!pids.contains(&std::process::id()));
    assert!(pids.len() <= 3, "{top:?}");
    assert!(top.processes.iter().all(|p| p.len() == top.titles.len()));

    // Custom columns.
    let custom = w.rt.block_on(d.top("top", "-o pid,comm")).unwrap();
    assert_eq!(custom.titles, ["PID", "COMMAND"]);
    assert_eq!(custom.processes.len(), pids.len());
    // The PID column must stay findable.
    let err = w.rt.block_on(d.top("top", "-o comm")).unwrap_err();
    assert_eq!(err.to_string(), "Couldn't find PID field in ps output");
    let err = w.rt.block_on(d.top("top", "-o foo=PID")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter);

    // Stopped: Conflict, Docker's message.
    w.rt.block_on(d.stop("top", Some(0))).unwrap();
    let err = w.rt.block_on(d.top("top", "")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(err.to_string(), format!("Container {id} is not running"));
    let err = w.rt.block_on(d.top("nosuch", "")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    teardown(&w, &d);
}

#[test]
fn stats_read_the_cgroup() {
    let w = world();
    let d = w.daemon();
    let id = w.run(&d, "plain", &["sleep", "1000"]);
    let mut req = w.request(&["sleep", "1000"]);
    req.host_config.as_mut().unwrap().memory = 64 << 20;
    w.rt.block_on(d.create(Some("limited"), req)).unwrap();
    w.rt.block_on(d.start("limited")).unwrap();

    let s = w.rt.block_on(d.stats("plain")).unwrap();
    assert_eq!((s.name.as_str(), s.id.as_str()), ("/plain", id.as_str()));
    assert_ne!(s.read, ZERO_TIME);
    assert!(s.memory_stats.usage > 0, "{s:?}");
    assert!(s.memory_stats.limit > 64 << 20, "unlimited: host memory");
    assert!(s.pids_stats.current >= 1, "{s:?}");
    assert!(s.cpu_stats.cpu_usage.total_usage > 0, "{s:?}");
    assert!(s.cpu_stats.system_cpu_usage > 0);
    assert!(s.cpu_stats.online_cpus >= 1);
    let v = serde_json::to_value(&s).unwrap();
    for key in [
        "read",
        "preread",
        "pids_stats",
        "cpu_stats",
        "precpu_stats",
        "memory_stats",
        "name",
        "id",
    ] {
        assert!(v.get(key).is_some(), "{key}");
    }
    assert!(v["memory_stats"]["usage"].as_u64().unwrap() > 0);

    let s = w.rt.block_on(d.stats("limited")).unwrap();
    assert_eq!(s.memory_stats.limit, 64 << 20);

    // A stream: one sample a tick, `preread` chaining them; ends on exit.
    let mut rx = {
        let _guard = w.rt.enter();
        d.stats_stream("plain", Duration::from_millis(200)).unwrap()
    };
    let first = w.rt.block_on(rx.recv()).unwrap();
    let second = w.rt.block_on(rx.recv()).unwrap();
    assert_eq!(first.preread, ZERO_TIME);
    assert_eq!(second.preread, first.read);
    assert_eq!(second.precpu_stats, first.cpu_stats);
    w.rt.block_on(d.stop("plain", Some(0))).unwrap();
    let rest: Vec<_> = w.rt.block_on(async {
        let mut rest = Vec::new();
        while let Some(s) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("stream ends after the exit")
        {
            rest.push(s);
        }
        rest
    });
    assert_eq!(rest.last().map(|s| s.read.as_str()), Some(ZERO_TIME));

    // Stopped: Docker's zeroed sample, not an error.
    let s = w.rt.block_on(d.stats("plain")).unwrap();
    assert_eq!(s.read, ZERO_TIME);
    assert_eq!((s.memory_stats.usage, s.pids_stats.current), (0, 0));
    assert_eq!(s.name, "/plain");
    teardown(&w, &d);
}

#[test]
fn changes_show_the_upper_dir_like_docker_diff() {
    let w = world();
    let d = w.daemon();
    let id = w.create(
        &d,
        Some("diff"),
        &[
            "sh",
            "-c",
            "echo x > /newfile; rm /bin/true; echo y >> /etc/passwd; mkdir -p /d/e; rm -rf /home",
        ],
    );
    // Fresh from create: nothing the command did yet.
    let before = w.rt.block_on(d.changes(&id)).unwrap();
    assert!(before.is_empty(), "{before:?}");

    w.rt.block_on(d.start(&id)).unwrap();
    assert_eq!(
        w.rt.block_on(d.wait(&id, WaitCondition::NotRunning))
            .unwrap(),
        0
    );
    let changes = w.rt.block_on(d.changes("diff")).unwrap();
    let got: Vec<String> = changes
        .iter()
        .map(|c| format!("{} {}", c.letter(), c.path))
        .collect();
    assert_eq!(
        got,
        [
            "C /bin",
            "D /bin/true",
            "A /d",
            "A /d/e",
            "C /etc",
            "C /etc/passwd",
            "D /home",
            "A /newfile",
        ],
        "the runtime's mount points (/etc/hostname...) are not changes"
    );
    // Parents come before their children; the root itself is not listed.
    let pos = |p: &str| got.iter().position(|g| g == p).unwrap();
    assert!(pos("C /etc") < pos("C /etc/passwd"));
    assert!(pos("C /bin") < pos("D /bin/true"));
    assert!(!got.iter().any(|g| g.ends_with(" /")));
    assert!(!got.iter().any(|g| g.starts_with("D /bin/sh")));
    let v = serde_json::to_value(&changes[0]).unwrap();
    assert!(v.get("Path").is_some() && v.get("Kind").is_some());
    teardown(&w, &d);
}

#[test]
fn prune_removes_stopped_containers_only() {
    let w = world();
    let d = w.daemon();
    let running = w.run(&d, "running", &["sleep", "1000"]);
    let exited = w.run(&d, "exited", &["true"]);
    let created = w.create(&d, Some("created"), &["true"]);
    let mut req = w.request(&["true"]);
    req.config.labels = Some(BTreeMap::from([("keep".to_string(), "no".to_string())]));
    let labeled = w.rt.block_on(d.create(Some("labeled"), req)).unwrap().id;
    w.rt.block_on(d.start(&labeled)).unwrap();
    for id in [&exited, &labeled] {
        w.rt.block_on(d.wait(id, WaitCondition::NotRunning))
            .unwrap();
    }

    // Filters: a label, then an `until` before everything, then a bad key.
    let report =
        w.rt.block_on(d.prune(&PruneFilters::all().with("label", "keep=no")))
            .unwrap();
    assert_eq!(report.containers_deleted, [labeled]);
    let report =
        w.rt.block_on(d.prune(&PruneFilters::all().with("until", "2000-01-01")))
            .unwrap();
    assert!(report.containers_deleted.is_empty());
    let err =
        w.rt.block_on(d.prune(&PruneFilters::all().with("name", "x")))
            .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    assert_eq!(err.to_string(), "invalid filter 'name'");

    let report = w.rt.block_on(d.prune(&PruneFilters::all())).unwrap();
    let mut deleted = report.containers_deleted.clone();
    deleted.sort();
    let mut want = vec![exited.clone(), created.clone()];
    want.sort();
    assert_eq!(deleted, want);
    assert!(d.get(&exited).is_err() && d.get(&created).is_err());
    assert!(!w.data.path().join("containers").join(&exited).exists());
    assert_eq!(d.get(&running).unwrap().record().state.status(), "running");
    let pruned = d
        .events()
        .buffered()
        .into_iter()
        .filter(|m| m.action == "prune")
        .count();
    assert_eq!(pruned, 3, "one event per successful prune");
    teardown(&w, &d);
}

#[test]
fn restart_gives_a_new_process_and_keeps_running() {
    let w = world();
    let d = w.daemon();
    let id = w.run(&d, "rs", &["sleep", "1000"]);
    let pid = d.get(&id).unwrap().record().state.pid;
    w.rt.block_on(d.restart("rs", Some(1))).unwrap();
    let state = d.get(&id).unwrap().record().state;
    assert_eq!(state.status(), "running");
    assert_ne!(state.pid, pid);
    assert!(state.pid > 0);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(d.get(&id).unwrap().record().state.status(), "running");
    let actions: Vec<String> = d
        .events()
        .buffered()
        .into_iter()
        .filter(|m| m.actor.id == id)
        .map(|m| m.action)
        .collect();
    let tail: Vec<&str> = actions
        .iter()
        .rev()
        .take(4)
        .rev()
        .map(String::as_str)
        .collect();
    assert_eq!(tail, ["die", "stop", "start", "restart"], "{actions:?}");

    // A stopped container just starts.
    w.rt.block_on(d.stop("rs", Some(0))).unwrap();
    w.rt.block_on(d.restart("rs", None)).unwrap();
    assert_eq!(d.get(&id).unwrap().record().state.status(), "running");
    let err = w.rt.block_on(d.restart("nosuch", None)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    teardown(&w, &d);
}
