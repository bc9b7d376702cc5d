use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use berth_errdefs::{ErrorKind, HasKind};

use super::*;

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn ctr(action: &str, id: &str, name: &str) -> Message {
    Message::container(action, id, name, "busybox:latest", None, &[])
}

fn filter(json: &str) -> EventFilter {
    EventFilter::from_json(json).unwrap()
}

fn ids(msgs: &[Message]) -> Vec<String> {
    msgs.iter().map(|m| m.actor.id.clone()).collect()
}

#[test]
fn json_field_names() {
    let m = Message::container(
        action::DIE,
        "abc123",
        "/web",
        "busybox",
        Some(&labels(&[("app", "x")])),
        &[("exitCode", "137")],
    );
    let v = serde_json::to_value(&m).unwrap();
    assert_eq!(v["Type"], "container");
    assert_eq!(v["Action"], "die");
    assert_eq!(v["Actor"]["ID"], "abc123");
    assert_eq!(v["Actor"]["Attributes"]["name"], "web");
    assert_eq!(v["Actor"]["Attributes"]["image"], "busybox");
    assert_eq!(v["Actor"]["Attributes"]["app"], "x");
    assert_eq!(v["Actor"]["Attributes"]["exitCode"], "137");
    assert_eq!(v["scope"], "local");
    assert_eq!(v["status"], "die");
    assert_eq!(v["id"], "abc123");
    assert_eq!(v["from"], "busybox");
    assert!(v["time"].as_i64().unwrap() > 1_600_000_000);
    let nano = v["timeNano"].as_i64().unwrap();
    assert_eq!(nano / 1_000_000_000, v["time"].as_i64().unwrap());
    let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
    for k in [
        "status", "id", "from", "Type", "Action", "Actor", "scope", "time", "timeNano",
    ] {
        assert!(keys.contains(&k.to_string()), "{k} missing from {keys:?}");
    }
    assert_eq!(keys.len(), 9);
    // Round trip.
    let back: Message = serde_json::from_value(v).unwrap();
    assert_eq!(back, m);
}

#[test]
fn legacy_fields_only_for_container_and_image() {
    let img = Message::image(action::PULL, "busybox:latest", &[]);
    let v = serde_json::to_value(&img).unwrap();
    assert_eq!(v["status"], "pull");
    assert_eq!(v["id"], "busybox:latest");
    assert!(v.get("from").is_none());
    assert_eq!(v["Actor"]["Attributes"]["name"], "busybox:latest");

    let net = Message::new(EventType::Network, action::CONNECT, "n1", BTreeMap::new());
    let v = serde_json::to_value(&net).unwrap();
    assert_eq!(v["Type"], "network");
    assert!(v.get("status").is_none() && v.get("id").is_none() && v.get("from").is_none());
    assert_eq!(v["Actor"]["Attributes"], serde_json::json!({}));
}

#[test]
fn container_attribute_precedence() {
    // extra < labels < image/name, as LogContainerEventWithAttributes.
    let m = Message::container(
        action::KILL,
        "id1",
        "/c1",
        "alpine",
        Some(&labels(&[("signal", "label-wins"), ("name", "nope")])),
        &[("signal", "9")],
    );
    let a = &m.actor.attributes;
    assert_eq!(a["signal"], "label-wins");
    assert_eq!(a["name"], "c1");
    assert_eq!(a["image"], "alpine");
    // No image: no attribute, empty `from`.
    let m = Message::container(action::CREATE, "id1", "c1", "", None, &[]);
    assert!(!m.actor.attributes.contains_key("image"));
    assert_eq!(m.from, "");
}

#[test]
fn image_tag_name_override() {
    let m = Message::image(action::TAG, "sha256:aaa", &[("name", "me/app:v1")]);
    assert_eq!(m.actor.id, "sha256:aaa");
    assert_eq!(m.actor.attributes["name"], "me/app:v1");
    assert_eq!(m.id, "sha256:aaa");
    assert_eq!(m.status, "tag");
}

#[test]
fn ring_buffer_bound_and_order() {
    let ev = Events::with_limits(4, 16);
    for i in 0..10 {
        ev.log(ctr(action::START, &format!("c{i}"), "n"));
    }
    let buf = ev.buffered();
    assert_eq!(ids(&buf), ["c6", "c7", "c8", "c9"]);
    assert!(buf.windows(2).all(|w| w[0].time_nano <= w[1].time_nano));
    // Default limit is moby's 256.
    let ev = Events::new();
    for i in 0..300 {
        ev.log(ctr(action::START, &format!("c{i}"), "n"));
    }
    let buf = ev.buffered();
    assert_eq!(buf.len(), EVENTS_LIMIT);
    assert_eq!(buf[0].actor.id, "c44");
    assert_eq!(buf[255].actor.id, "c299");
}

#[test]
fn log_stamps_and_fills_legacy() {
    let ev = Events::new();
    let mut m = ctr(action::START, "c1", "n");
    m.time = 5;
    m.time_nano = 5_000_000_000;
    m.status.clear();
    m.scope.clear();
    let before = SystemTime::now();
    ev.log(m);
    let got = &ev.buffered()[0];
    assert!(got.time_nano >= before.duration_since(UNIX_EPOCH).unwrap().as_nanos() as i64);
    assert_eq!(got.status, "start");
    assert_eq!(got.scope, "local");
    // publish keeps the time as given.
    let mut m = ctr(action::STOP, "c2", "n");
    m.stamp(UNIX_EPOCH + Duration::from_secs(7));
    ev.publish(m);
    assert_eq!(ev.buffered()[1].time, 7);
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn timed_events() -> Events {
    let ev = Events::with_limits(10, 16);
    for (i, t) in [100u64, 200, 300, 400].iter().enumerate() {
        let mut m = ctr(action::START, &format!("c{i}"), "n");
        m.stamp(at(*t));
        ev.publish(m);
    }
    ev
}

#[test]
fn no_replay_without_since_or_until() {
    let ev = timed_events();
    let (replay, sub) = ev.subscribe(EventFilter::all(), None, None);
    assert!(replay.is_empty());
    assert!(!sub.is_finished());
}

#[tokio::test]
async fn since_until_windows() {
    let ev = timed_events();
    let (r, _s) = ev.subscribe(EventFilter::all(), Some(at(200)), None);
    assert_eq!(ids(&r), ["c1", "c2", "c3"]);
    let (r, mut s) = ev.subscribe(EventFilter::all(), Some(at(150)), Some(at(300)));
    assert_eq!(ids(&r), ["c1", "c2"]);
    // until in the past: replay only, stream over at once.
    assert!(s.is_finished());
    assert_eq!(s.next().await, None);
    assert_eq!(ev.subscriber_count(), 1); // only the first one
    let (r, _) = ev.subscribe(EventFilter::all(), None, Some(at(250)));
    assert_eq!(ids(&r), ["c0", "c1"]);
    let (r, _) = ev.subscribe(EventFilter::all(), Some(at(0)), None);
    assert_eq!(r.len(), 4);
    let (r, _) = ev.subscribe(EventFilter::all(), Some(SystemTime::now()), None);
    assert!(r.is_empty());
    // Replay honours the filter too.
    let (r, _) = ev.subscribe(filter(r#"{"container":["c2"]}"#), Some(at(0)), None);
    assert_eq!(ids(&r), ["c2"]);
}

#[tokio::test]
async fn replay_then_live_no_gap_no_duplicate() {
    let ev = Events::new();
    ev.log(ctr(action::CREATE, "a", "n"));
    let (r, mut s) = ev.subscribe(EventFilter::all(), Some(UNIX_EPOCH), None);
    ev.log(ctr(action::START, "b", "n"));
    assert_eq!(ids(&r), ["a"]);
    assert_eq!(s.next().await.unwrap().actor.id, "b");
    assert!(s.try_next().is_none());
}

#[tokio::test]
async fn until_in_future_ends_stream() {
    let ev = Events::new();
    let until = SystemTime::now() + Duration::from_millis(300);
    let (_, mut s) = ev.subscribe(EventFilter::all(), None, Some(until));
    ev.log(ctr(action::START, "a", "n"));
    assert_eq!(s.next().await.unwrap().actor.id, "a");
    let t = Instant::now();
    assert_eq!(s.next().await, None);
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(s.is_finished());
    assert_eq!(ev.subscriber_count(), 0);
    // Events after the end are not delivered.
    ev.log(ctr(action::STOP, "b", "n"));
    assert_eq!(s.next().await, None);
}

#[tokio::test]
async fn live_filtering() {
    let ev = Events::new();
    let (_, mut s) = ev.subscribe(
        filter(r#"{"type":{"container":true},"event":{"die":true}}"#),
        None,
        None,
    );
    ev.log(ctr(action::START, "a", "n"));
    ev.log(Message::image(action::DELETE, "sha256:x", &[]));
    ev.log(ctr(action::DIE, "b", "n"));
    assert_eq!(s.next().await.unwrap().actor.id, "b");
    assert!(s.try_next().is_none());
}

#[test]
fn filter_forms_and_errors() {
    let a = filter(r#"{"type":{"container":true},"event":{"start":true,"die":false}}"#);
    let b = filter(r#"{"type":["container"],"event":["start"]}"#);
    assert_eq!(a, b);
    assert_eq!(filter(""), EventFilter::all());
    assert_eq!(filter("{}"), EventFilter::all());
    assert_eq!(
        EventFilter::all()
            .with("type", "container")
            .with("event", "start"),
        a
    );

    let e = EventFilter::from_json(r#"{"bogus":["x"]}"#).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);
    assert_eq!(e.to_string(), "invalid filter 'bogus'");
    let e = EventFilter::from_json(r#"{"type":{"container":true},"zzz":{"a":true}}"#).unwrap_err();
    assert_eq!(e.to_string(), "invalid filter 'zzz'");
    let e = EventFilter::from_json("not json").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);
    assert!(EventFilter::from_json(r#"{"type":"container"}"#).is_err());
    for k in ACCEPTED_FILTERS {
        assert!(EventFilter::all().with(k, "x").validate().is_ok());
    }
}

#[test]
fn filter_type() {
    let f = filter(r#"{"type":["image","volume"]}"#);
    assert!(!f.include(&ctr(action::START, "a", "n")));
    assert!(f.include(&Message::image(action::PULL, "busybox", &[])));
    assert!(f.include(&Message::new(
        EventType::Volume,
        action::MOUNT,
        "v",
        BTreeMap::new()
    )));
}

#[test]
fn filter_event_and_fuzzy_exec_health() {
    let f = filter(r#"{"event":["start","die"]}"#);
    assert!(f.include(&ctr("start", "a", "n")));
    assert!(f.include(&ctr("die", "a", "n")));
    assert!(!f.include(&ctr("stop", "a", "n")));
    assert!(!f.include(&ctr("start_x", "a", "n"))); // exact without fuzzy keys

    let f = filter(r#"{"event":["exec_start"]}"#);
    assert!(f.include(&ctr("exec_start: sh -c true", "a", "n")));
    assert!(!f.include(&ctr("exec_create: sh", "a", "n")));
    let f = filter(r#"{"event":["health_status"]}"#);
    assert!(f.include(&ctr("health_status: healthy", "a", "n")));
    assert!(!f.include(&ctr("die", "a", "n")));
    // Exact form of a suffixed action still matches exactly.
    let f = filter(r#"{"event":["health_status: unhealthy"]}"#);
    assert!(f.include(&ctr("health_status: unhealthy", "a", "n")));
    assert!(!f.include(&ctr("health_status: healthy", "a", "n")));
}

#[test]
fn filter_container_by_id_prefix_or_name() {
    let id = "0123456789abcdef";
    let m = ctr(action::START, id, "/web");
    assert!(filter(r#"{"container":["0123456789abcdef"]}"#).include(&m));
    assert!(filter(r#"{"container":["0123"]}"#).include(&m));
    assert!(filter(r#"{"container":["web"]}"#).include(&m));
    assert!(filter(r#"{"container":["other","web"]}"#).include(&m));
    assert!(!filter(r#"{"container":["db"]}"#).include(&m));
    // A container filter excludes events about other kinds of objects.
    assert!(!filter(r#"{"container":["web"]}"#).include(&Message::image(
        action::PULL,
        "busybox",
        &[]
    )));
}

#[test]
fn filter_image() {
    let m = Message::container(action::START, "cid", "c", "busybox:latest", None, &[]);
    assert!(filter(r#"{"image":["busybox:latest"]}"#).include(&m));
    assert!(filter(r#"{"image":["busybox"]}"#).include(&m)); // tag stripped
    assert!(!filter(r#"{"image":["alpine"]}"#).include(&m));
    // Fully qualified attribute, familiar filter.
    let m = Message::container(
        action::START,
        "cid",
        "c",
        "docker.io/library/redis:7",
        None,
        &[],
    );
    assert!(filter(r#"{"image":["redis"]}"#).include(&m));
    // Image events: the actor ID or the `name` attribute.
    let img = Message::image(action::TAG, "sha256:abc", &[("name", "me/app:v2")]);
    assert!(filter(r#"{"image":["sha256:abc"]}"#).include(&img));
    assert!(filter(r#"{"image":["me/app:v2"]}"#).include(&img));
    assert!(filter(r#"{"image":["me/app"]}"#).include(&img));
    assert!(!filter(r#"{"image":["me/other"]}"#).include(&img));
    let pull = Message::image(action::PULL, "alpine:3.19", &[]);
    assert!(filter(r#"{"image":["alpine"]}"#).include(&pull));
    // Image filter is exact, no prefix match.
    assert!(!filter(r#"{"image":["sha256:ab"]}"#).include(&img));
}

#[test]
fn filter_labels() {
    let m = Message::container(
        action::START,
        "cid",
        "c",
        "busybox",
        Some(&labels(&[("env", "prod"), ("team", "a")])),
        &[],
    );
    assert!(filter(r#"{"label":["env"]}"#).include(&m));
    assert!(filter(r#"{"label":["env=prod"]}"#).include(&m));
    assert!(filter(r#"{"label":["env=prod","team"]}"#).include(&m));
    assert!(!filter(r#"{"label":["env=dev"]}"#).include(&m));
    assert!(!filter(r#"{"label":["env","missing"]}"#).include(&m));
    // Attributes count as labels (moby matches against all attributes).
    assert!(filter(r#"{"label":["name=c"]}"#).include(&m));
    let bare = Message::new(EventType::Network, "create", "n", BTreeMap::new());
    assert!(!filter(r#"{"label":["env"]}"#).include(&bare));
}

#[test]
fn filter_other_names_scope_and_combination() {
    let mut attrs = BTreeMap::new();
    attrs.insert("name".to_string(), "mynet".to_string());
    let net = Message::new(EventType::Network, action::CREATE, "netid1", attrs);
    assert!(filter(r#"{"network":["mynet"]}"#).include(&net));
    assert!(filter(r#"{"network":["netid"]}"#).include(&net));
    assert!(!filter(r#"{"volume":["mynet2"]}"#).include(&net));
    assert!(filter(r#"{"scope":["local"]}"#).include(&net));
    assert!(!filter(r#"{"scope":["swarm"]}"#).include(&net));
    let daemon = Message::new(EventType::Daemon, action::RELOAD, "DID", BTreeMap::new());
    assert!(filter(r#"{"daemon":["DID"]}"#).include(&daemon));

    // All keys must match (AND), values within a key are OR.
    let f = filter(r#"{"type":["container"],"event":["die"],"container":["web"]}"#);
    assert!(f.include(&ctr("die", "x", "web")));
    assert!(!f.include(&ctr("start", "x", "web")));
    assert!(!f.include(&ctr("die", "x", "db")));
}

#[test]
fn time_parsing() {
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    assert_eq!(parse_event_time("", now).unwrap(), None);
    assert_eq!(parse_event_time("0", now).unwrap(), Some(UNIX_EPOCH));
    assert_eq!(
        parse_event_time("1600000000", now).unwrap(),
        Some(UNIX_EPOCH + Duration::from_secs(1_600_000_000))
    );
    assert_eq!(
        parse_event_time("1600000000.25", now).unwrap(),
        Some(UNIX_EPOCH + Duration::from_millis(1_600_000_000_250))
    );
    assert_eq!(
        parse_event_time("2023-11-14T22:13:20Z", now).unwrap(),
        Some(now)
    );
    assert_eq!(
        parse_event_time("2023-11-14T23:13:20+01:00", now).unwrap(),
        Some(now)
    );
    assert_eq!(
        parse_event_time("10m", now).unwrap(),
        Some(now - Duration::from_secs(600))
    );
    assert_eq!(
        parse_event_time("1h30m", now).unwrap(),
        Some(now - Duration::from_secs(5400))
    );
    let e = parse_event_time("yesterday", now).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);
}

#[test]
fn query_parsing() {
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let q = EventsQuery::parse(
        Some("10m"),
        Some("1700000000"),
        Some(r#"{"type":["image"]}"#),
        now,
    )
    .unwrap();
    assert_eq!(q.since, Some(now - Duration::from_secs(600)));
    assert_eq!(q.until, Some(now));
    assert_eq!(q.filter, EventFilter::all().with("type", "image"));
    let q = EventsQuery::parse(None, Some(""), None, now).unwrap();
    assert!(q.since.is_none() && q.until.is_none() && q.filter.is_empty());
    let e = EventsQuery::parse(Some("200"), Some("100"), None, now).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);
    assert_eq!(
        e.to_string(),
        "`since` time (200) cannot be after `until` time (100)"
    );
    let e = EventsQuery::parse(None, None, Some(r#"{"nope":["1"]}"#), now).unwrap_err();
    assert_eq!(e.to_string(), "invalid filter 'nope'");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_logging() {
    let ev = Events::with_limits(10_000, 10_000);
    let (_, mut s) = ev.subscribe(EventFilter::all(), None, None);
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let ev = ev.clone();
            std::thread::spawn(move || {
                for i in 0..500 {
                    ev.log(ctr(action::START, &format!("t{t}-{i}"), "n"));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let buf = ev.buffered();
    assert_eq!(buf.len(), 4000);
    assert!(buf.windows(2).all(|w| w[0].time_nano <= w[1].time_nano));
    // Each thread's events stay in its own order.
    for t in 0..8 {
        let mine: Vec<_> = buf
            .iter()
            .filter(|m| m.actor.id.starts_with(&format!("t{t}-")))
            .map(|m| m.actor.id.clone())
            .collect();
        let want: Vec<_> = (0..500).map(|i| format!("t{t}-{i}")).collect();
        assert_eq!(mine, want);
    }
    let mut live = 0;
    while s.try_next().is_some() {
        live += 1;
    }
    assert_eq!(live, 4000);
    assert_eq!(s.dropped(), 0);
}

#[test]
fn slow_subscriber_never_blocks_log() {
    let ev = Events::with_limits(8, 4);
    // Never read from; queue of 4.
    let (_, mut slow) = ev.subscribe(EventFilter::all(), None, None);
    // Filtered out subscriber: unaffected by events it does not want.
    let (_, mut picky) = ev.subscribe(filter(r#"{"event":["die"]}"#), None, None);
    let t = Instant::now();
    for i in 0..10_000 {
        ev.log(ctr(action::START, &format!("c{i}"), "n"));
    }
    ev.log(ctr(action::DIE, "last", "n"));
    assert!(t.elapsed() < Duration::from_secs(5));
    assert_eq!(slow.dropped(), 10_001 - 4);
    // The slow one got the first 4, then nothing.
    let got: Vec<_> = std::iter::from_fn(|| slow.try_next()).collect();
    assert_eq!(ids(&got), ["c0", "c1", "c2", "c3"]);
    assert_eq!(picky.dropped(), 0);
    assert_eq!(picky.try_next().unwrap().actor.id, "last");
    // The buffer is still bounded.
    assert_eq!(ev.buffered().len(), 8);
}

#[test]
fn dropped_subscription_is_removed() {
    let ev = Events::new();
    let (_, s1) = ev.subscribe(EventFilter::all(), None, None);
    let (_, s2) = ev.subscribe(EventFilter::all(), None, None);
    assert_eq!(ev.subscriber_count(), 2);
    drop(s1);
    assert_eq!(ev.subscriber_count(), 1);
    ev.log(ctr(action::START, "a", "n"));
    drop(s2);
    ev.log(ctr(action::START, "b", "n"));
    assert_eq!(ev.subscriber_count(), 0);
}

#[tokio::test]
async fn subscription_ends_when_service_dropped() {
    let ev = Events::new();
    let (_, mut s) = ev.subscribe(EventFilter::all(), None, None);
    let ev2 = Arc::new(ev);
    drop(ev2);
    assert_eq!(s.next().await, None);
    assert!(s.is_finished());
}
