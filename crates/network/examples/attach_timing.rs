//! Times the controller's per-container work (sandbox, veth, addresses,
//! teardown) in a private network namespace: where a `run`'s networking
//! milliseconds go. `cargo run --release -p berth-network --example
//! attach_timing` as root.

use std::time::Instant;

use berth_network::{netns, Attach, ContainerRef, ControllerConfig, NetworkController};

fn main() {
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).expect("unshare");
    let dir = tempfile::tempdir().unwrap();
    let ctl = NetworkController::open(ControllerConfig {
        data_dir: dir.path().join("network"),
        netns_dir: dir.path().join("netns"),
        default_bridge: "timing0".into(),
        default_subnet: None,
        iptables: false,
        host_resolv_conf: dir.path().join("resolv.conf"),
    })
    .unwrap();
    let id = "a".repeat(64);
    let c = ContainerRef { id: &id, name: "a" };
    let bridge = [Attach {
        network: "bridge".into(),
        ..Default::default()
    }];
    let mut rows = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let key = ctl.sandbox_key(&id);
        netns::create(&key).unwrap();
        let t_ns = t.elapsed();
        netns::remove(&key).unwrap();
        let t0 = Instant::now();
        ctl.attach(c, &bridge, &[], &[]).unwrap();
        let t_attach = t0.elapsed();
        let t1 = Instant::now();
        ctl.detach(&id);
        let t_detach = t1.elapsed();
        rows.push((t_ns, t_attach, t_detach));
    }
    for (ns, a, d) in &rows {
        println!("netns create {ns:>10.2?}  attach {a:>10.2?}  detach {d:>10.2?}");
    }
    ctl.teardown();
}
