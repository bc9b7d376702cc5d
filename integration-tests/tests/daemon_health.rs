//! Health checks through the daemon core against real containers: the
//! probe runs as an exec in the container, `State.Health` follows Docker's
//! rules (starting / healthy / unhealthy, the failing streak, the last five
//! results), probes time out, the start period shields failures, and the
//! monitor comes back after a daemon restart.

use std::sync::Arc;
use std::time::Duration;

use berth_daemon::config::{ContainerCreateRequest, HealthConfig};
use berth_daemon::daemon::{Daemon, Health, HEALTH_HEALTHY, HEALTH_STARTING, HEALTH_UNHEALTHY};
use berth_errdefs::{ErrorKind, HasKind};
use integration_tests::daemon_world::{mounts_under, wait_for, DaemonWorld};

const MS: i64 = 1_000_000;

fn check(test: &[&str], interval_ms: i64, retries: i64) -> HealthConfig {
    HealthConfig {
        test: Some(test.iter().map(|s| s.to_string()).collect()),
        interval: interval_ms * MS,
        retries,
        ..HealthConfig::default()
    }
}

fn request(w: &DaemonWorld, health: HealthConfig) -> ContainerCreateRequest {
    let mut req = w.request(&["sleep", "1000"]);
    req.config.healthcheck = Some(health);
    req
}

fn run(w: &DaemonWorld, d: &Arc<Daemon>, name: &str, health: HealthConfig) -> String {
    let id =
        w.rt.block_on(d.create(Some(name), request(w, health)))
            .unwrap()
            .id;
    w.rt.block_on(d.start(&id)).unwrap();
    id
}

fn health(d: &Daemon, name: &str) -> Health {
    d.get(name)
        .unwrap()
        .record()
        .state
        .health
        .expect("a health state")
}

fn wait_status(d: &Daemon, name: &str, status: &str) -> Health {
    let mut h = Health::default();
    wait_for(status, Duration::from_secs(20), || {
        h = health(d, name);
        h.status == status
    });
    h
}

fn exec(w: &DaemonWorld, d: &Daemon, name: &str, cmd: &[&str]) {
    let id = d
        .exec_create(
            name,
            berth_daemon::daemon::ExecConfig {
                cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
                ..Default::default()
            },
        )
        .unwrap();
    w.rt.block_on(d.exec_start(&id, true)).unwrap();
    assert_eq!(w.rt.block_on(d.exec_wait(&id)).unwrap(), 0);
}

fn teardown(w: &DaemonWorld, d: &Arc<Daemon>) {
    for c in d.list() {
        w.rt.block_on(d.remove(&c.record().id, true)).unwrap();
    }
    assert_eq!(mounts_under(w.data.path()), 0, "mounts left behind");
}

#[test]
fn status_follows_the_probe_with_dockers_fields_and_events() {
    let w = DaemonWorld::new();
    let d = w.daemon();
    let filter = berth_daemon::events::EventFilter::default();
    let (_, mut events) = d.events().subscribe(filter, None, None);
    run(
        &w,
        &d,
        "hc",
        check(&["CMD-SHELL", "test -f /tmp/ok && echo fine"], 200, 2),
    );
    let h = health(&d, "hc");
    assert_eq!(h.status, HEALTH_STARTING);
    assert_eq!(h.failing_streak, 0);

    // Failing probes: unhealthy after `Retries` in a row.
    let h = wait_status(&d, "hc", HEALTH_UNHEALTHY);
    assert!(h.failing_streak >= 2, "{h:?}");
    let last = h.log.last().unwrap();
    assert_eq!(last.exit_code, 1);
    assert!(last.start <= last.end && !last.start.is_empty(), "{last:?}");

    // A passing probe: healthy, streak reset, its output recorded.
    exec(&w, &d, "hc", &["touch", "/tmp/ok"]);
    let h = wait_status(&d, "hc", HEALTH_HEALTHY);
    assert_eq!(h.failing_streak, 0);
    let last = h.log.last().unwrap();
    assert_eq!((last.exit_code, last.output.as_str()), (0, "fine\n"));

    // The log keeps five results at most, and probes leave no exec behind.
    wait_for("a full log", Duration::from_secs(10), || {
        health(&d, "hc").log.len() == 5
    });
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(health(&d, "hc").log.len(), 5);
    let cid = d.get("hc").unwrap().record().id;
    wait_for("no running probe", Duration::from_secs(5), || {
        d.exec_ids_of(&cid).is_empty()
    });

    // The changes of status were events, in order.
    let mut actions = Vec::new();
    w.rt.block_on(async {
        while actions.len() < 2 {
            let m = tokio::time::timeout(Duration::from_secs(5), events.next())
                .await
                .expect("events in time")
                .expect("an event");
            if m.action.starts_with("health_status") {
                actions.push(m.action);
            }
        }
    });
    assert_eq!(
        actions,
        ["health_status: unhealthy", "health_status: healthy"]
    );

    // Persisted with Docker's field names.
    let state = serde_json::to_value(d.get("hc").unwrap().record().state).unwrap();
    let h = &state["Health"];
    assert_eq!(h["Status"], "healthy");
    assert_eq!(h["FailingStreak"], 0);
    for key in ["Start", "End", "ExitCode", "Output"] {
        assert!(h["Log"][0].get(key).is_some(), "{key} in {h}");
    }
    teardown(&w, &d);
}

#[test]
fn a_hung_probe_times_out_and_is_killed() {
    let w = DaemonWorld::new();
    let d = w.daemon();
    let mut hc = check(&["CMD", "sleep", "77"], 100, 1);
    hc.timeout = 300 * MS;
    run(&w, &d, "hung", hc);
    let h = wait_status(&d, "hung", HEALTH_UNHEALTHY);
    let r = h.log.last().unwrap();
    assert_eq!(r.exit_code, -1);
    assert_eq!(r.output, "Health check exceeded timeout (300ms)");
    // Timed-out probes are killed: after several more, at most the one
    // in flight runs.
    std::thread::sleep(Duration::from_millis(1200));
    let top = w.rt.block_on(d.top("hung", "-o pid,args")).unwrap();
    let lingering = top
        .processes
        .iter()
        .filter(|p| p.last().unwrap() == "sleep 77")
        .count();
    assert!(lingering <= 1, "probes pile up: {top:?}");
    teardown(&w, &d);
}

#[test]
fn the_start_period_shields_failures_until_a_success() {
    let w = DaemonWorld::new();
    let d = w.daemon();
    let mut hc = check(&["CMD", "false"], 100, 1);
    hc.start_period = 60_000 * MS;
    hc.start_interval = 100 * MS;
    run(&w, &d, "grace", hc);
    wait_for("three results", Duration::from_secs(10), || {
        health(&d, "grace").log.len() >= 3
    });
    let h = health(&d, "grace");
    assert_eq!((h.status.as_str(), h.failing_streak), (HEALTH_STARTING, 0));
    assert!(h.log.iter().all(|r| r.exit_code == 1), "{h:?}");
    teardown(&w, &d);
}

#[test]
fn no_check_none_and_bad_settings() {
    let w = DaemonWorld::new();
    let d = w.daemon();
    // busybox has no HEALTHCHECK; NONE disables one.
    w.run(&d, "plain", &["sleep", "1000"]);
    run(&w, &d, "none", check(&["NONE"], 0, 0));
    std::thread::sleep(Duration::from_millis(300));
    for name in ["plain", "none"] {
        assert_eq!(d.get(name).unwrap().record().state.health, None, "{name}");
    }
    let bad = [
        (
            check(&["CMD", "true"], 0, -1),
            "Retries in Healthcheck cannot be negative",
        ),
        (
            HealthConfig {
                interval: 500_000,
                ..check(&["CMD", "true"], 0, 0)
            },
            "Interval in Healthcheck cannot be less than 1ms",
        ),
        (
            HealthConfig {
                timeout: 1,
                ..check(&["CMD", "true"], 0, 0)
            },
            "Timeout in Healthcheck cannot be less than 1ms",
        ),
    ];
    for (hc, msg) in bad {
        let err = w.rt.block_on(d.create(None, request(&w, hc))).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidParameter);
        assert_eq!(err.to_string(), msg);
    }
    teardown(&w, &d);
}

#[test]
fn pausing_stops_probes_and_a_restarted_daemon_resumes_them() {
    let mut w = DaemonWorld::new();
    let d = w.daemon();
    run(&w, &d, "keep", check(&["CMD", "true"], 700, 3));
    wait_status(&d, "keep", HEALTH_HEALTHY);

    // Paused: no probe runs, so the log stops moving.
    w.rt.block_on(d.pause("keep")).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let before = health(&d, "keep").log.last().cloned();
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(health(&d, "keep").log.last().cloned(), before);
    w.rt.block_on(d.unpause("keep")).unwrap();
    wait_for("probes again", Duration::from_secs(10), || {
        health(&d, "keep").log.last().cloned() != before
    });

    // kill -9 the daemon: a new one resets the status and probes again.
    w.kill_daemon(d);
    let d = w.daemon();
    assert_eq!(health(&d, "keep").status, HEALTH_STARTING);
    wait_status(&d, "keep", HEALTH_HEALTHY);
    teardown(&w, &d);
}
