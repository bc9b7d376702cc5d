//! Leaves nothing behind after a daemon test, even one that failed half
//! way: every container a daemon on the test's roots knows is force-removed,
//! then any shim still serving under the exec root is killed (by PID) and
//! any runtime container left under it is force-deleted with its cgroup.

use std::path::Path;
use std::sync::Arc;

use berth_daemon::daemon::{Daemon, DaemonConfig, NetworkOptions};
use berth_image::service::{ImageServiceConfig, LocalImageService};
use berth_shim::{ShimClient, ShimConfig};

use crate::workspace_bin;

/// The default bridge of a test daemon on `data`: its own bridge name and
/// /24 (derived from the root, so every daemon opened on it agrees), so
/// tests running side by side never share a bridge or an address.
pub fn test_network(data: &Path) -> NetworkOptions {
    // FNV-1a over the (random) temp dir path.
    let h = data
        .as_os_str()
        .as_encoded_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ *b as u64).wrapping_mul(0x100_0000_01b3)
        });
    let slot = (h % 32_768) as u32; // 10.128.0.0/9 in /24s
    let net = 0x0a80_0000u32 + (slot << 8);
    NetworkOptions {
        bridge: format!("bt{:08x}", (h >> 16) as u32),
        bip: Some(
            format!("{}/24", std::net::Ipv4Addr::from(net + 1))
                .parse()
                .expect("valid CIDR"),
        ),
        iptables: true,
    }
}

/// The config of a test daemon on these roots.
pub fn test_config(data: &Path, exec: &Path) -> DaemonConfig {
    DaemonConfig {
        data_root: data.to_path_buf(),
        exec_root: exec.to_path_buf(),
        network: test_network(data),
        init: Default::default(),
    }
}

/// Best-effort cleanup of a daemon test's `data` and `exec` roots.
pub fn cleanup_daemon_roots(data: &Path, exec: &Path) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    if let Ok(images) = LocalImageService::open(ImageServiceConfig::new(data)) {
        let shims = ShimClient::new(ShimConfig {
            exec_root: exec.join("shims"),
            runtime_root: exec.join("runtime"),
            shim_binary: workspace_bin("berth-shim"),
        });
        let config = test_config(data, exec);
        if let Ok(d) = rt.block_on(Daemon::open(config, Arc::new(images), Arc::new(shims))) {
            for c in d.list() {
                let _ = rt.block_on(d.remove(&c.record().id, true));
            }
            // The test's bridges and their rules go with it.
            d.networks().teardown();
        }
    }
    // Stragglers: shims of this exec root that no daemon could reach.
    let marker = exec.display().to_string();
    for pid in shim_pids_under(&marker) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    let runtime = berth_runtime::Runtime::new(exec.join("runtime"));
    if let Ok(containers) = runtime.list() {
        for c in containers {
            let _ = c.delete(true);
        }
    }
}

fn shim_pids_under(marker: &str) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| {
                    let c = String::from_utf8_lossy(&c);
                    c.contains("berth-shim") && c.contains(marker)
                })
                .unwrap_or(false)
        })
        .collect()
}
