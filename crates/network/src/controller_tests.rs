//! The controller end to end in a private network namespace: real bridge,
//! veths, sandboxes, iptables and DNS, none of it on the host.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use super::*;

/// Runs `f` on a thread in a fresh network namespace (so are the threads
/// and tools it starts).
fn in_private_netns<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).expect("unshare netns");
            f()
        })
        .join()
        .expect("test thread")
    })
}

fn config(dir: &Path) -> ControllerConfig {
    ControllerConfig {
        data_dir: dir.join("network"),
        netns_dir: dir.join("netns"),
        default_bridge: "berthtest0".into(),
        default_subnet: None,
        iptables: true,
        host_resolv_conf: dir.join("resolv.conf"),
    }
}

fn container(id: &str) -> ContainerRef<'_> {
    ContainerRef { id, name: &id[..4] }
}

#[test]
fn containers_on_a_user_network_reach_and_resolve_each_other() {
    let dir = tempfile::tempdir().unwrap();
    in_private_netns(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _guard = rt.enter();
        let ctl = NetworkController::open(config(dir.path())).unwrap();
        let names: Vec<String> = ctl.networks().into_iter().map(|n| n.name).collect();
        for n in ["bridge", "host", "none"] {
            assert!(names.contains(&n.to_string()), "{names:?}");
        }
        let default = ctl.network("bridge").unwrap();
        assert_eq!(
            default.pool.as_ref().unwrap().subnet,
            "172.17.0.0/16".parse::<Ipv4Net>().unwrap(),
            "a namespace without routes gets Docker's first pool"
        );
        let net = ctl
            .create_network(CreateNetwork {
                name: "appnet".into(),
                subnet: Some("10.77.0.0/24".parse().unwrap()),
                ..Default::default()
            })
            .unwrap();
        let dup = ctl.create_network(CreateNetwork {
            name: "appnet".into(),
            ..Default::default()
        });
        assert!(matches!(dup, Err(NetworkError::Conflict(_))));

        let a_id = "a".repeat(64);
        let b_id = "b".repeat(64);
        let on_app = |alias: &str| Attach {
            network: "appnet".into(),
            aliases: vec![alias.into()],
            ..Default::default()
        };
        let a = ctl
            .attach(container(&a_id), &[on_app("alpha")], &[], &[])
            .unwrap();
        let b = ctl
            .attach(
                container(&b_id),
                &[
                    on_app("beta"),
                    Attach {
                        network: "bridge".into(),
                        ..Default::default()
                    },
                ],
                &[],
                &[],
            )
            .unwrap();
        assert!(a.embedded_dns && b.embedded_dns);
        assert_eq!(a.endpoints[0].address.to_string(), "10.77.0.2/24");
        assert_eq!(b.endpoints[1].ifname, "eth1");
        let b_ip = b.endpoints[0].address.addr();

        // B listens inside its namespace; A connects from inside its own.
        let listener = netns::run_in(&b.sandbox_key, || {
            Ok(TcpListener::bind((b_ip, 8080)).unwrap())
        })
        .unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.write_all(b"hello from b").unwrap();
        });
        let got = netns::run_in(&a.sandbox_key, || {
            let mut s =
                TcpStream::connect((b_ip, 8080)).map_err(|e| NetworkError::io("connect", e))?;
            let mut buf = String::new();
            s.read_to_string(&mut buf).unwrap();
            Ok(buf)
        })
        .unwrap();
        server.join().unwrap();
        assert_eq!(got, "hello from b");

        let names = ContainerNames {
            ctl: Arc::downgrade(&ctl),
            container_id: a_id.clone(),
        };
        assert_eq!(names.lookup_v4("bbbb"), vec![b_ip]);
        assert_eq!(names.lookup_v4("beta"), vec![b_ip]);
        assert_eq!(names.lookup_v4("bbbbbbbbbbbb"), vec![b_ip], "short ID");
        assert_eq!(names.lookup_v4("beta.appnet"), vec![b_ip]);
        assert!(names.lookup_v4("nobody").is_empty());
        assert_eq!(names.lookup_ptr(b_ip).as_deref(), Some("bbbb.appnet"));

        // In use: refused; predefined: refused.
        assert!(matches!(
            ctl.remove_network("appnet"),
            Err(NetworkError::Forbidden(_))
        ));
        assert!(matches!(
            ctl.remove_network("bridge"),
            Err(NetworkError::Forbidden(_))
        ));

        // Disconnect B from appnet while "running", then detach both.
        ctl.disconnect(&b_id, "appnet").unwrap();
        assert_eq!(ctl.container_endpoints(&b_id).len(), 1);
        ctl.detach(&a_id);
        ctl.detach(&b_id);
        ctl.settle();
        assert!(!a.sandbox_key.exists());
        assert!(ctl.network_endpoints(&net.id).is_empty());
        let pool = ctl.network("appnet").unwrap().pool.unwrap();
        assert!(
            pool.leases.is_empty(),
            "every lease returned: {:?}",
            pool.leases
        );
        ctl.remove_network("appnet").unwrap();
        let mut nl = Netlink::open().unwrap();
        assert_eq!(nl.link_index(&net.bridge).unwrap(), None, "bridge removed");
        ctl.teardown();
        assert_eq!(nl.link_index("berthtest0").unwrap(), None);
    });
}

#[test]
fn reconcile_restores_live_and_cleans_dead() {
    let dir = tempfile::tempdir().unwrap();
    in_private_netns(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _guard = rt.enter();
        let live = "1".repeat(64);
        let dead = "2".repeat(64);
        {
            let ctl = NetworkController::open(config(dir.path())).unwrap();
            let bridge = Attach {
                network: "bridge".into(),
                ..Default::default()
            };
            ctl.attach(container(&live), std::slice::from_ref(&bridge), &[], &[])
                .unwrap();
            ctl.attach(container(&dead), &[bridge], &[], &[]).unwrap();
            // The daemon dies here: nothing is undone.
        }
        let ctl = NetworkController::open(config(dir.path())).unwrap();
        ctl.reconcile(|id| id == live);
        ctl.settle();
        assert_eq!(ctl.container_endpoints(&live).len(), 1);
        assert!(ctl.container_endpoints(&dead).is_empty());
        assert!(netns::is_pinned(&ctl.sandbox_key(&live)));
        assert!(!ctl.sandbox_key(&dead).exists());
        let leases = ctl.network("bridge").unwrap().pool.unwrap().leases;
        assert_eq!(leases.len(), 1, "only the live container keeps its address");
        ctl.teardown();
    });
}
