//! Image operations through the daemon core log moby's image events:
//! `pull` under the reference, `tag` / `untag` / `delete` / `save` /
//! `load` under the image ID, against a real registry.

use std::time::Duration;

use berth_daemon::events::{EventFilter, EventType};
use berth_image::progress::Progress;
use berth_image::service::{DeleteItem, PullOptions};
use integration_tests::daemon_world::DaemonWorld;

#[test]
fn image_operations_log_mobys_events() {
    let w = DaemonWorld::new();
    let d = w.daemon();
    let (_, mut sub) = d.events().subscribe(EventFilter::default(), None, None);
    let reference = format!("{}/multilayer", w.reg.host());

    let image =
        w.rt.block_on(d.pull_image(&reference, PullOptions::default(), Progress::discard()))
            .unwrap();
    let id = image.id.to_string();
    d.tag_image(&reference, "example.test/renamed:v1").unwrap();

    let mut archive = Vec::new();
    d.save_images(std::slice::from_ref(&reference), &mut archive)
        .unwrap();

    // Untag the extra name, then remove the last one: untags + delete.
    let items = d.remove_image("example.test/renamed:v1", false).unwrap();
    assert_eq!(
        items,
        [DeleteItem::Untagged("example.test/renamed:v1".into())]
    );
    let items = d.remove_image(&reference, false).unwrap();
    assert!(
        items.contains(&DeleteItem::Deleted(id.clone())),
        "{items:?}"
    );

    let lines = d.load_images(&mut archive.as_slice()).unwrap();
    assert_eq!(lines, [format!("Loaded image: {reference}:latest")]);

    let mut seen = Vec::new();
    w.rt.block_on(async {
        while seen.len() < 8 {
            let m = tokio::time::timeout(Duration::from_secs(5), sub.next())
                .await
                .expect("events in time")
                .expect("an event");
            assert_eq!(m.event_type, EventType::Image, "{m:?}");
            seen.push((m.action, m.actor.id, m.actor.attributes["name"].clone()));
        }
    });
    let pulled = format!("{reference}:latest");
    let expect = |a: &str, i: &str, n: &str| (a.to_string(), i.to_string(), n.to_string());
    assert_eq!(
        seen,
        [
            expect("pull", &pulled, &pulled),
            expect("tag", &id, "example.test/renamed:v1"),
            expect("save", &id, &id),
            expect("untag", &id, &id),
            // The last tag and the repository digest it was pulled by.
            expect("untag", &id, &id),
            expect("untag", &id, &id),
            expect("delete", &id, &id),
            expect("load", &id, &id),
        ]
    );

    // A failed operation logs nothing.
    assert!(d.remove_image("nosuch:tag", false).is_err());
    assert!(d.tag_image("nosuch:tag", "x:y").is_err());
    let none =
        w.rt.block_on(async { tokio::time::timeout(Duration::from_millis(300), sub.next()).await });
    assert!(none.is_err(), "unexpected event {none:?}");
}
