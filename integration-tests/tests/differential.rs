//! The same bundles through Debian's runc and berth-runc: what the
//! container observes (identity, capabilities, limits, env, devices,
//! mounts, network, fds) must match.

use integration_tests::{unique, Bundle, LeakCheck, RuntimeCli};
use serde_json::{json, Value};

/// Prints what a container can see of its own setup, section by section.
const OBSERVER: &str = r#"
echo "== id"; id
echo "== hostname"; hostname
echo "== pid"; echo $$
echo "== status"; grep -E '^(Cap|NoNewPrivs|Seccomp:)' /proc/self/status
echo "== umask"; umask
echo "== limits"; ulimit -n; ulimit -Hn
echo "== cwd"; pwd
echo "== env"; env | sort
echo "== dev"; cd /dev && for f in *; do stat -c '%A %u %g %t %T %n' "$f"; done; cd /
echo "== mounts"; awk '{p=""; for(i=7;i<=NF;i++){ if($i=="-"){print $5, $(i+1), $6, p; break} sub(/:.*/,"",$i); p=p $i}}' /proc/self/mountinfo | sort
echo "== net"; ls /sys/class/net
echo "== fds"; ls /proc/self/fd
echo "== oom"; cat /proc/self/oom_score_adj
echo "== masked"; wc -c < /proc/kcore 2>&1
echo "== write-root"; touch /probe 2>&1 | sed 's/.*: //'
"#;

/// Runs the observer through one runtime with the bundle edited by `edit`.
fn observe(rt: &RuntimeCli, edit: &dyn Fn(&mut Value)) -> String {
    let mut b = Bundle::new(&["sh", "-c", OBSERVER]);
    edit(&mut b.config);
    b.save();
    let _leak = LeakCheck::new(&b);
    let (out, err, code) = rt.run(&b, &unique("diff"));
    assert_eq!(code, 0, "observer failed: {err}\n{out}");
    out
}

fn compare(edit: &dyn Fn(&mut Value)) {
    let berth = observe(&RuntimeCli::berth(), edit);
    let runc = observe(&RuntimeCli::runc(), edit);
    if berth != runc {
        let b: Vec<&str> = berth.lines().collect();
        let r: Vec<&str> = runc.lines().collect();
        let only_b: Vec<_> = b.iter().filter(|l| !r.contains(l)).collect();
        let only_r: Vec<_> = r.iter().filter(|l| !b.contains(l)).collect();
        panic!("berth-runc and runc differ\nonly berth-runc: {only_b:#?}\nonly runc: {only_r:#?}");
    }
}

#[test]
fn default_bundle_matches_runc() {
    compare(&|_| {});
}

#[test]
fn hardened_bundle_matches_runc() {
    compare(&|c| {
        c["root"]["readonly"] = json!(true);
        c["hostname"] = json!("hardened");
        c["process"]["user"] =
            json!({"uid": 1000, "gid": 1000, "additionalGids": [50], "umask": 63});
        c["process"]["cwd"] = json!("/tmp");
        c["process"]["env"] = json!(["PATH=/bin:/usr/bin", "FOO=bar"]);
        c["process"]["oomScoreAdj"] = json!(500);
        c["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "soft": 200, "hard": 300}]);
        let caps = json!(["CAP_CHOWN", "CAP_SETUID", "CAP_NET_RAW"]);
        c["process"]["capabilities"] = json!({"bounding": caps, "effective": caps, "permitted": caps, "inheritable": caps, "ambient": caps});
        c["linux"]["maskedPaths"] = json!(["/proc/kcore", "/sys/firmware", "/proc/scsi"]);
        c["linux"]["readonlyPaths"] = json!(["/proc/sys", "/proc/irq", "/proc/bus"]);
    });
}

#[test]
fn cgroup_namespace_and_cgroup_mount_match_runc() {
    compare(&|c| {
        let ns = c["linux"]["namespaces"].as_array_mut().unwrap();
        ns.retain(|n| n["type"] != json!("cgroup"));
        ns.push(json!({"type": "cgroup"}));
    });
}
