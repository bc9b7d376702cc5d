//! A private Linux bridge for dockerd's default network, and everything
//! dockerd does to the host around it undone on drop: veths left on the
//! bridge, the bridge, the iptables rules and chains it added (see
//! [`super::iptables`]), nf_tables tables that did not exist before, and
//! the sysctls it flips (`ip_forward`, `bridge-nf-call-*`).

use std::fs;
use std::io::Write as _;
use std::process::{Command, Stdio};

use anyhow::{bail, ensure, Context, Result};

use super::iptables::{self, Dump};

/// The bridge's name: ours alone (never `docker0`).
pub const BRIDGE: &str = "berthbench0";

/// Candidate subnets for the bridge (`x.y.z`), the first unused one wins.
const SUBNETS: [&str; 3] = ["10.213.37", "172.31.213", "192.168.213"];

/// Sysctls dockerd may change when it sets up bridge networking.
const SYSCTLS: [&str; 3] = [
    "/proc/sys/net/ipv4/ip_forward",
    "/proc/sys/net/bridge/bridge-nf-call-iptables",
    "/proc/sys/net/bridge/bridge-nf-call-ip6tables",
];

/// The bridge, with the host state to put back when it is dropped.
pub struct PrivateBridge {
    subnet: String,
    iptables_before: Dump,
    sysctls_before: Vec<(&'static str, Option<String>)>,
    nf_tables: bool,
}

impl PrivateBridge {
    /// Snapshots iptables and the sysctls, then creates [`BRIDGE`] with the
    /// first free subnet of [`SUBNETS`] (gateway `.1`) and brings it up.
    pub fn create() -> Result<PrivateBridge> {
        if link_exists(BRIDGE) {
            bail!(
                "{BRIDGE} already exists (left by an interrupted bench?); \
                 remove it with `ip link delete {BRIDGE}` and check `iptables-save`"
            );
        }
        let routes = output("ip", &["-4", "addr"])? + &output("ip", &["-4", "route"])?;
        let prefix = SUBNETS
            .iter()
            .find(|p| !routes.contains(&format!("{p}.")))
            .context("no free subnet for the bench bridge")?;
        let version = output("iptables", &["--version"]).unwrap_or_default();
        let bridge = PrivateBridge {
            subnet: format!("{prefix}.0/24"),
            iptables_before: Dump::parse(&output("iptables-save", &[])?),
            sysctls_before: SYSCTLS
                .iter()
                .map(|p| (*p, fs::read_to_string(p).ok()))
                .collect(),
            nf_tables: version.contains("nf_tables"),
        };
        // From here on, dropping `bridge` undoes whatever happened.
        run("ip", &["link", "add", "name", BRIDGE, "type", "bridge"])?;
        run(
            "ip",
            &["addr", "add", &format!("{prefix}.1/24"), "dev", BRIDGE],
        )?;
        run("ip", &["link", "set", BRIDGE, "up"])?;
        Ok(bridge)
    }

    /// The bridge's subnet, e.g. `10.213.37.0/24`.
    pub fn subnet(&self) -> &str {
        &self.subnet
    }

    /// Whether an iptables rule spec or chain name is one dockerd added for
    /// this bridge: its chains are all called `DOCKER*`.
    fn ours(&self, spec: &str) -> bool {
        spec.contains("DOCKER") || spec.contains(BRIDGE) || spec.contains(&self.subnet)
    }

    fn undo_iptables(&self) -> Result<()> {
        let after = Dump::parse(&output("iptables-save", &[])?);
        let script = iptables::undo_script(&self.iptables_before, &after, |s| self.ours(s));
        if !script.is_empty() {
            restore(&script).with_context(|| format!("iptables-restore of:\n{script}"))?;
        }
        let now = Dump::parse(&output("iptables-save", &[])?);
        // iptables-nft leaves the tables it created behind, empty.
        if self.nf_tables {
            for table in iptables::new_tables(&self.iptables_before, &now) {
                if now.is_empty_table(&table) {
                    run("nft", &["delete", "table", "ip", &table])?;
                }
            }
        }
        let left = iptables::leftovers(&Dump::parse(&output("iptables-save", &[])?), |s| {
            self.ours(s)
        });
        ensure!(left.is_empty(), "iptables still has: {}", left.join("; "));
        Ok(())
    }
}

impl Drop for PrivateBridge {
    fn drop(&mut self) {
        // Veths dockerd failed to remove would outlive the bridge.
        let ports = output("ip", &["-o", "link", "show", "master", BRIDGE]).unwrap_or_default();
        for port in ports.lines().filter_map(port_name) {
            eprintln!("warning: removing leftover veth {port}");
            warn(run("ip", &["link", "delete", port]));
        }
        warn(run("ip", &["link", "delete", BRIDGE]));
        warn(self.undo_iptables());
        for (path, value) in &self.sysctls_before {
            let now = fs::read_to_string(path).ok();
            match value {
                Some(v) if now.as_deref() != Some(v) => {
                    warn(fs::write(path, v).with_context(|| format!("restoring {path}")));
                }
                // The file appeared (br_netfilter was loaded): switch it
                // off, which is how bridged traffic behaved without it.
                None if now.is_some_and(|n| n.trim() != "0") => {
                    warn(fs::write(path, "0").with_context(|| format!("resetting {path}")));
                }
                _ => {}
            }
        }
    }
}

/// `7: veth1a2b@if6: <...> ...` -> `veth1a2b`.
fn port_name(line: &str) -> Option<&str> {
    let name = line.split(": ").nth(1)?;
    Some(name.split('@').next().unwrap_or(name))
}

fn link_exists(name: &str) -> bool {
    Command::new("ip")
        .args(["link", "show", name])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn warn(result: Result<()>) {
    if let Err(e) = result {
        eprintln!("warning: cleaning up the bench bridge: {e:#}");
    }
}

/// Runs `program args` and returns its stdout; fails on a non-zero exit.
fn output(program: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {program}"))?;
    ensure!(
        out.status.success(),
        "{program} {} failed ({}): {}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn run(program: &str, args: &[&str]) -> Result<()> {
    output(program, args).map(drop)
}

fn restore(script: &str) -> Result<()> {
    let mut child = Command::new("iptables-restore")
        .arg("--noflush")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("running iptables-restore")?;
    child
        .stdin
        .take()
        .context("iptables-restore stdin")?
        .write_all(script.as_bytes())
        .context("writing to iptables-restore")?;
    let out = child
        .wait_with_output()
        .context("waiting for iptables-restore")?;
    ensure!(
        out.status.success(),
        "iptables-restore failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_bridge_ports() {
        let line =
            "7: veth1a2b3c@if6: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 master berthbench0";
        assert_eq!(port_name(line), Some("veth1a2b3c"));
        assert_eq!(port_name("8: vethx: <UP>"), Some("vethx"));
        assert_eq!(port_name(""), None);
    }
}
