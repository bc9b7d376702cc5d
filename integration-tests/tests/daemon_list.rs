//! `docker ps` selection through the daemon core against real containers:
//! order, `all`, `limit`, and moby's filters (name, id, label, status,
//! exited, before/since, ancestor, health), with its errors.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use berth_daemon::daemon::{Daemon, ListOptions, WaitCondition};
use berth_daemon::filters::Filters;
use berth_errdefs::{ErrorKind, HasKind};
use integration_tests::daemon_world::{mounts_under, DaemonWorld};

fn names(d: &Daemon, all: bool, limit: i64, filters: Filters) -> Vec<String> {
    let opts = ListOptions {
        all,
        limit,
        filters,
    };
    d.list_containers(&opts)
        .unwrap()
        .into_iter()
        .map(|r| r.name.trim_start_matches('/').to_string())
        .collect()
}

fn f(pairs: &[(&str, &str)]) -> Filters {
    pairs.iter().fold(Filters::new(), |f, (k, v)| f.with(k, v))
}

fn labelled(w: &DaemonWorld, d: &Arc<Daemon>, name: &str, cmd: &[&str], labels: &[(&str, &str)]) {
    let mut req = w.request(cmd);
    let l: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    req.config.labels = Some(l);
    w.rt.block_on(d.create(Some(name), req)).unwrap();
    // Distinct creation times keep the order well defined.
    std::thread::sleep(Duration::from_millis(20));
}

#[test]
fn ps_selects_and_orders_like_docker() {
    let w = DaemonWorld::new();
    let d = w.daemon();
    labelled(
        &w,
        &d,
        "old-exited",
        &["sh", "-c", "exit 3"],
        &[("tier", "db")],
    );
    labelled(
        &w,
        &d,
        "web-1",
        &["sleep", "1000"],
        &[("tier", "web"), ("x", "")],
    );
    labelled(&w, &d, "fresh", &["true"], &[]);
    w.rt.block_on(d.start("old-exited")).unwrap();
    assert_eq!(
        w.rt.block_on(d.wait("old-exited", WaitCondition::NotRunning))
            .unwrap(),
        3
    );
    w.rt.block_on(d.start("web-1")).unwrap();

    // Running only by default; newest first with all.
    assert_eq!(names(&d, false, 0, Filters::new()), ["web-1"]);
    assert_eq!(
        names(&d, true, 0, Filters::new()),
        ["fresh", "web-1", "old-exited"]
    );
    // A limit implies all.
    assert_eq!(names(&d, false, 2, Filters::new()), ["fresh", "web-1"]);

    assert_eq!(names(&d, true, 0, f(&[("name", "web")])), ["web-1"]);
    assert_eq!(names(&d, true, 0, f(&[("name", "^/?fresh$")])), ["fresh"]);
    let web_id = d.get("web-1").unwrap().record().id;
    assert_eq!(names(&d, true, 0, f(&[("id", &web_id[..10])])), ["web-1"]);
    assert_eq!(
        names(&d, true, 0, f(&[("label", "tier")])),
        ["web-1", "old-exited"]
    );
    assert_eq!(
        names(&d, true, 0, f(&[("label", "tier=web"), ("label", "x")])),
        ["web-1"]
    );
    // A status filter implies all.
    assert_eq!(
        names(&d, false, 0, f(&[("status", "exited")])),
        ["old-exited"]
    );
    assert_eq!(names(&d, false, 0, f(&[("status", "created")])), ["fresh"]);
    assert_eq!(names(&d, true, 0, f(&[("exited", "3")])), ["old-exited"]);
    assert!(names(&d, true, 0, f(&[("exited", "0")])).is_empty());
    assert_eq!(
        names(&d, true, 0, f(&[("before", "fresh")])),
        ["web-1", "old-exited"]
    );
    assert_eq!(
        names(&d, true, 0, f(&[("since", "old-exited")])),
        ["fresh", "web-1"]
    );
    assert_eq!(
        names(&d, true, 0, f(&[("ancestor", &w.image)])),
        ["fresh", "web-1", "old-exited"]
    );
    assert!(names(&d, true, 0, f(&[("ancestor", "nosuch:image")])).is_empty());
    assert_eq!(names(&d, true, 0, f(&[("health", "none")])).len(), 3);
    assert!(names(&d, true, 0, f(&[("health", "healthy")])).is_empty());

    // Errors as moby words them.
    let err = |filters: Filters| {
        d.list_containers(&ListOptions {
            all: true,
            limit: 0,
            filters,
        })
        .unwrap_err()
    };
    let e = err(f(&[("bogus", "1")]));
    assert_eq!(
        (e.kind(), e.to_string()),
        (ErrorKind::InvalidParameter, "invalid filter 'bogus'".into())
    );
    let e = err(f(&[("status", "sleeping")]));
    assert_eq!(e.to_string(), "invalid filter 'status=sleeping'");
    let e = err(f(&[("exited", "x")]));
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);
    let e = err(f(&[("before", "nosuch")]));
    assert_eq!(e.kind(), ErrorKind::NotFound);

    for c in d.list() {
        w.rt.block_on(d.remove(&c.record().id, true)).unwrap();
    }
    assert_eq!(mounts_under(w.data.path()), 0);
}
