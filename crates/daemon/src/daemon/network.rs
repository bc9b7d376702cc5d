//! Containers and networks (moby's `daemon/container_operations.go`): which
//! networks a container asks for at create, joining them at start, leaving
//! them when it stops, `network connect` / `disconnect`, and the
//! `NetworkSettings` that inspect, ps and `port` show. The kernel work is
//! `berth_network::NetworkController`'s, called on blocking threads.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use berth_api::types::container::{EndpointSettings, NetworkSettings, PortBinding};
use berth_network::bridge::{format_mac, parse_mac};
use berth_network::ports::port_requests;
use berth_network::{Attach, ContainerRef, Endpoint, NetworkController, NetworkRecord, Prepared};

use crate::config::HostConfig;
use crate::error::{DaemonError, Result};
use crate::events::MessageExt;
use crate::persist::ContainerRecord;

use super::{Container, Daemon};

/// The network a mode names: `""` and `default` mean `bridge`.
pub fn network_name(mode: &str) -> &str {
    match mode {
        "" | "default" => "bridge",
        m => m,
    }
}

/// Whether the mode joins networks of the controller (not host, none or
/// another container's namespace).
fn joins_networks(mode: &str) -> bool {
    !matches!(mode, "host" | "none") && !mode.starts_with("container:")
}

/// What start needs from networking to build the spec.
#[derive(Debug, Default)]
pub(crate) struct StartNetwork {
    /// The network namespace to join.
    pub netns_path: Option<PathBuf>,
    /// The primary address (for `/etc/hosts`).
    pub ip: Option<IpAddr>,
    /// The embedded resolver serves DNS.
    pub embedded_dns: bool,
    /// `container:<x>`: x's directory, whose `/etc` files are shared.
    pub shared_etc: Option<PathBuf>,
    /// The container's new `NetworkSettings`, recorded with the running state.
    pub settings: Option<NetworkSettings>,
    /// The plumbing still under way; it must succeed before the start.
    pub plug: Option<tokio::task::JoinHandle<berth_network::Result<()>>>,
}

impl StartNetwork {
    /// Waits for the plumbing [`Daemon::start_network`] left running.
    pub async fn plugged(&mut self) -> Result<()> {
        match self.plug.take() {
            Some(task) => task
                .await
                .map_err(|e| DaemonError::System(format!("network task: {e}")))?
                .map_err(DaemonError::layer),
            None => Ok(()),
        }
    }
}

fn endpoints_config(raw: Option<&serde_json::Value>) -> Result<BTreeMap<String, EndpointSettings>> {
    let Some(v) = raw.and_then(|v| v.get("EndpointsConfig")) else {
        return Ok(BTreeMap::new());
    };
    if v.is_null() {
        return Ok(BTreeMap::new());
    }
    let map: BTreeMap<String, Option<EndpointSettings>> = serde_json::from_value(v.clone())
        .map_err(|e| {
            DaemonError::invalid(format!("invalid NetworkingConfig.EndpointsConfig: {e}"))
        })?;
    Ok(map
        .into_iter()
        .map(|(k, v)| (k, v.unwrap_or_default()))
        .collect())
}

fn attach_of(name: &str, ep: &EndpointSettings) -> Result<Attach> {
    let ipv4 = ep
        .ipam_config
        .as_ref()
        .map(|c| c.ipv4_address.as_str())
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|_| DaemonError::invalid(format!("invalid IPv4 address: {s}")))
        })
        .transpose()?;
    let mac = (!ep.mac_address.is_empty())
        .then(|| parse_mac(&ep.mac_address).map_err(DaemonError::layer))
        .transpose()?;
    Ok(Attach {
        network: name.to_string(),
        aliases: ep.aliases.clone().unwrap_or_default(),
        ipv4,
        mac,
    })
}

/// The endpoint's fields in a container's `NetworkSettings.Networks`.
fn endpoint_settings(
    asked: &EndpointSettings,
    ep: &Endpoint,
    short_id: &str,
    user_defined: bool,
) -> EndpointSettings {
    let mut s = asked.clone();
    s.network_id = ep.network_id.clone();
    s.endpoint_id = ep.id.clone();
    s.gateway = ep.gateway.map(|g| g.to_string()).unwrap_or_default();
    s.ip_address = ep.address.addr().to_string();
    s.ip_prefix_len = ep.address.prefix_len() as i64;
    s.mac_address = format_mac(&ep.mac);
    if user_defined {
        let mut names = vec![ep.container_name.clone(), short_id.to_string()];
        names.extend(ep.aliases.iter().cloned());
        s.dns_names = Some(names);
    }
    s
}

/// Clears what only a running container has (addresses, endpoint IDs,
/// ports, the sandbox), keeping what was asked for.
pub(crate) fn clear_runtime_settings(r: &mut ContainerRecord) {
    let ns = &mut r.network_settings;
    let networks = ns.networks.take();
    *ns = NetworkSettings {
        networks: networks.map(|m| {
            m.into_iter()
                .map(|(k, v)| {
                    (
                        k,
                        EndpointSettings {
                            ipam_config: v.ipam_config,
                            links: v.links,
                            aliases: v.aliases,
                            mac_address: String::new(),
                            driver_opts: v.driver_opts,
                            network_id: v.network_id,
                            ..Default::default()
                        },
                    )
                })
                .collect()
        }),
        ..Default::default()
    };
}

/// `NetworkSettings.Ports`: every exposed or published port, with its
/// bindings (`null` when not published).
fn ports_map(
    record: &ContainerRecord,
    endpoints: &[Endpoint],
) -> BTreeMap<String, Option<Vec<PortBinding>>> {
    let mut out: BTreeMap<String, Option<Vec<PortBinding>>> = BTreeMap::new();
    if let Some(exposed) = &record.config.exposed_ports {
        for k in exposed.keys() {
            let key = if k.contains('/') {
                k.clone()
            } else {
                format!("{k}/tcp")
            };
            out.insert(key, None);
        }
    }
    for m in endpoints.iter().flat_map(|e| &e.ports) {
        let key = format!("{}/{}", m.container_port, m.proto);
        out.entry(key)
            .or_insert(None)
            .get_or_insert_with(Vec::new)
            .push(PortBinding {
                host_ip: m.host_ip.to_string(),
                host_port: m.host_port.to_string(),
            });
    }
    out
}

impl Daemon {
    /// The network controller.
    pub fn networks(&self) -> &Arc<NetworkController> {
        &self.network
    }

    /// The host as containers reach it: the default bridge's gateway.
    pub(crate) fn host_gateway(&self) -> Option<IpAddr> {
        self.network
            .network("bridge")
            .ok()
            .and_then(|n| n.pool)
            .map(|p| IpAddr::V4(p.gateway))
    }

    /// Runs a controller call on a blocking thread.
    async fn net<T: Send + 'static>(
        &self,
        f: impl FnOnce(&NetworkController) -> berth_network::Result<T> + Send + 'static,
    ) -> Result<T> {
        let ctl = self.network.clone();
        tokio::task::spawn_blocking(move || f(&ctl))
            .await
            .map_err(|e| DaemonError::System(format!("network task: {e}")))?
            .map_err(DaemonError::layer)
    }

    /// Create's "verify networking": the network mode names a network that
    /// exists (or another container), and the endpoint settings asked for
    /// are valid there. Returns the container's `NetworkSettings.Networks`.
    pub(crate) fn verify_networking(
        &self,
        host: &HostConfig,
        networking_config: Option<&serde_json::Value>,
    ) -> Result<BTreeMap<String, EndpointSettings>> {
        let mode = host.network_mode.as_str();
        if let Some(other) = mode.strip_prefix("container:") {
            self.get(other)?;
            return Ok(BTreeMap::new());
        }
        let mut asked = endpoints_config(networking_config)?;
        let primary = network_name(mode);
        let mut out = BTreeMap::new();
        // The mode's network first; others from EndpointsConfig (API >= 1.44).
        let mut names = vec![primary.to_string()];
        names.extend(asked.keys().filter(|k| network_name(k) != primary).cloned());
        for name in names {
            let net = self.network.network(&name).map_err(DaemonError::layer)?;
            let mut settings = asked
                .remove(&name)
                .or_else(|| (name == primary).then(|| asked.remove(mode)).flatten())
                .unwrap_or_default();
            if !joins_networks(mode) && name != primary {
                return Err(DaemonError::invalid(format!(
                    "conflicting options: cannot attach both user-defined and non-user-defined network-modes ({mode} and {name})"
                )));
            }
            if net.is_predefined() {
                let has_ip = settings
                    .ipam_config
                    .as_ref()
                    .is_some_and(|c| !c.ipv4_address.is_empty() || !c.ipv6_address.is_empty());
                if has_ip {
                    return Err(DaemonError::invalid(
                        "user specified IP address is supported on user defined networks only",
                    ));
                }
                if settings.aliases.as_ref().is_some_and(|a| !a.is_empty()) && net.name == "bridge"
                {
                    return Err(DaemonError::invalid(
                        "network-scoped alias is supported only for containers in user defined networks",
                    ));
                }
            }
            attach_of(&net.name, &settings)?;
            settings.network_id = net.id.clone();
            out.insert(net.name.clone(), settings);
        }
        Ok(out)
    }

    /// Start's "set up networking": joins the container's networks (or
    /// finds the namespace it shares) and records the result in its
    /// `NetworkSettings`. On error nothing is left set up.
    pub(crate) async fn start_network(&self, container: &Container) -> Result<StartNetwork> {
        let record = container.record();
        let host = container.host_config();
        let mode = host.network_mode.clone();
        if let Some(other) = mode.strip_prefix("container:") {
            let other = self.get(other)?;
            let o = other.record();
            if !o.state.running {
                return Err(DaemonError::Conflict(format!(
                    "cannot join network namespace of a non running container: {}",
                    o.id
                )));
            }
            let key = self.network.sandbox_key(&o.id);
            let netns = if berth_network::netns::is_pinned(&key) {
                Some(key)
            } else if other.host_config().network_mode == "host" {
                None
            } else {
                Some(PathBuf::from(format!("/proc/{}/ns/net", o.state.pid)))
            };
            return Ok(StartNetwork {
                netns_path: netns,
                shared_etc: Some(other.dir().to_path_buf()),
                ..Default::default()
            });
        }
        if !joins_networks(&mode) {
            return Ok(StartNetwork::default());
        }
        let asked = record.network_settings.networks.clone().unwrap_or_default();
        let primary = network_name(&mode).to_string();
        let mut order: Vec<(String, EndpointSettings)> = Vec::new();
        let mut rest = asked.clone();
        let first = rest
            .remove(&primary)
            .or_else(|| {
                // Created by ID or ID prefix: the record keys by name.
                let key = rest.keys().next().cloned()?;
                rest.remove(&key)
            })
            .unwrap_or_default();
        order.push((primary.clone(), first));
        order.extend(rest);
        let attaches = order
            .iter()
            .map(|(name, ep)| attach_of(name, ep))
            .collect::<Result<Vec<_>>>()?;

        let bindings: BTreeMap<String, Vec<(String, String)>> = host
            .port_bindings
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| {
                (
                    k,
                    v.unwrap_or_default()
                        .into_iter()
                        .map(|b| (b.host_ip, b.host_port))
                        .collect(),
                )
            })
            .collect();
        let exposed: Vec<String> = record
            .config
            .exposed_ports
            .as_ref()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        let ports = port_requests(&bindings, &exposed, host.publish_all_ports)
            .map_err(DaemonError::layer)?;
        let upstreams: Vec<SocketAddr> = host
            .dns
            .as_deref()
            .unwrap_or_default()
            .iter()
            .filter_map(|d| d.parse::<IpAddr>().ok())
            .map(|ip| SocketAddr::new(ip, 53))
            .collect();
        let id = record.id.clone();
        let name = record.name.trim_start_matches('/').to_string();
        let attached: Prepared = self
            .net(move |ctl| {
                ctl.prepare(
                    ContainerRef {
                        id: &id,
                        name: &name,
                    },
                    &attaches,
                    &ports,
                )
            })
            .await?;
        // The veths, rules and resolver are plumbed while the runtime
        // creates the container, which waits in its sandbox until started.
        let plug = {
            let ctl = self.network.clone();
            let prepared = attached.clone();
            tokio::task::spawn_blocking(move || ctl.plug(&prepared, &upstreams).map(drop))
        };

        let short = crate::ids::truncate_id(&record.id).to_string();
        let mut settings = NetworkSettings {
            sandbox_id: record.id.clone(),
            sandbox_key: attached.sandbox_key.display().to_string(),
            ports: Some(ports_map(&record, &attached.endpoints)),
            networks: Some(BTreeMap::new()),
            ..Default::default()
        };
        for ((name, asked), ep) in order.iter().zip(&attached.endpoints) {
            let user_defined = !matches!(name.as_str(), "bridge");
            let s = endpoint_settings(asked, ep, &short, user_defined);
            if name == "bridge" {
                // The deprecated top-level fields describe the default bridge.
                settings.endpoint_id = s.endpoint_id.clone();
                settings.gateway = s.gateway.clone();
                settings.ip_address = s.ip_address.clone();
                settings.ip_prefix_len = s.ip_prefix_len;
                settings.mac_address = s.mac_address.clone();
            }
            settings
                .networks
                .as_mut()
                .expect("set above")
                .insert(name.clone(), s);
        }
        let start = StartNetwork {
            netns_path: Some(attached.sandbox_key.clone()),
            ip: attached
                .endpoints
                .first()
                .map(|e| IpAddr::V4(e.address.addr())),
            embedded_dns: attached.embedded_dns,
            shared_etc: None,
            settings: Some(settings),
            plug: Some(plug),
        };
        Ok(start)
    }

    /// Leaves every network (idempotent).
    pub(crate) async fn stop_network(&self, id: &str) {
        let id = id.to_string();
        let _ = self
            .net(move |ctl| {
                ctl.detach(&id);
                Ok(())
            })
            .await;
    }

    /// `docker network connect`: records the endpoint and, when the
    /// container runs, joins it now.
    pub async fn network_connect(
        &self,
        network: &str,
        reference: &str,
        mut asked: EndpointSettings,
    ) -> Result<()> {
        let container = self.get(reference)?;
        let _op = container.op.lock().await;
        let net = self.network.network(network).map_err(DaemonError::layer)?;
        let mode = container.host_config().network_mode;
        if !joins_networks(&mode) {
            return Err(DaemonError::Forbidden(
                "container sharing network namespace with another container or host cannot be connected to any other network"
                    .to_string(),
            ));
        }
        let record = container.record();
        if record
            .network_settings
            .networks
            .as_ref()
            .is_some_and(|m| m.contains_key(&net.name))
        {
            return Err(DaemonError::Forbidden(format!(
                "endpoint with name {} already exists in network {}",
                record.name.trim_start_matches('/'),
                net.name
            )));
        }
        let attach = attach_of(&net.name, &asked)?;
        if net.is_predefined() && (attach.ipv4.is_some() || !attach.aliases.is_empty()) {
            return Err(DaemonError::invalid(
                "user specified IP address is supported on user defined networks only",
            ));
        }
        asked.network_id = net.id.clone();
        let settings = if record.state.running {
            let id = record.id.clone();
            let name = record.name.trim_start_matches('/').to_string();
            let ep = self
                .net(move |ctl| {
                    ctl.connect(
                        ContainerRef {
                            id: &id,
                            name: &name,
                        },
                        &attach,
                    )
                })
                .await?;
            let short = crate::ids::truncate_id(&record.id).to_string();
            endpoint_settings(&asked, &ep, &short, !net.is_predefined())
        } else {
            asked
        };
        let name = net.name.clone();
        container.update(self.data_root(), |r| {
            r.network_settings
                .networks
                .get_or_insert_with(BTreeMap::new)
                .insert(name, settings);
        })?;
        self.network_event("connect", &net, &record.id);
        Ok(())
    }

    /// `docker network disconnect`.
    pub async fn network_disconnect(
        &self,
        network: &str,
        reference: &str,
        force: bool,
    ) -> Result<()> {
        // moby's force only matters for swarm's stale endpoints.
        let _ = force;
        let container = self.get(reference)?;
        let _op = container.op.lock().await;
        let net = self.network.network(network).map_err(DaemonError::layer)?;
        let record = container.record();
        let attached = record
            .network_settings
            .networks
            .as_ref()
            .is_some_and(|m| m.contains_key(&net.name));
        if !attached {
            return Err(DaemonError::Forbidden(format!(
                "container {} is not connected to network {}",
                record.id, net.name
            )));
        }
        if record.state.running {
            let id = record.id.clone();
            let net_id = net.id.clone();
            self.net(move |ctl| ctl.disconnect(&id, &net_id)).await?;
        }
        let name = net.name.clone();
        container.update(self.data_root(), |r| {
            if let Some(m) = r.network_settings.networks.as_mut() {
                m.remove(&name);
            }
        })?;
        self.network_event("disconnect", &net, &record.id);
        Ok(())
    }

    /// Logs a `network` event (`connect`, `disconnect`, `create`, `destroy`).
    pub(crate) fn network_event(&self, action: &str, net: &NetworkRecord, container: &str) {
        let mut attrs: Vec<(&str, &str)> = vec![("name", &net.name), ("type", &net.driver)];
        if !container.is_empty() {
            attrs.push(("container", container));
        }
        self.events
            .log(crate::events::Message::network(action, &net.id, &attrs));
    }

    /// The first container that names `net` among its networks, running
    /// or not (a created one holds no endpoint yet but still uses it).
    fn network_user(&self, net: &NetworkRecord) -> Option<Arc<Container>> {
        self.list().into_iter().find(|c| {
            c.record()
                .network_settings
                .networks
                .as_ref()
                .is_some_and(|m| m.contains_key(&net.name))
        })
    }

    /// Whether any container is attached to `net` or names it.
    pub fn network_in_use(&self, net: &NetworkRecord) -> bool {
        !self.network_containers(net).is_empty() || self.network_user(net).is_some()
    }

    /// `DELETE /networks/{id}`: removes a user-defined network no
    /// container uses (Forbidden, moby's "has active endpoints",
    /// otherwise) and logs its `destroy` event.
    pub async fn network_remove(&self, id: &str) -> Result<()> {
        let ctl = self.network.clone();
        let net = ctl.network(id).map_err(DaemonError::layer)?;
        if let Some(c) = self.network_user(&net).filter(|_| !net.is_predefined()) {
            let r = c.record();
            return Err(DaemonError::Forbidden(format!(
                "error while removing network: network {} has active endpoints (name:{:?} id:{:?})",
                net.name,
                r.name.trim_start_matches('/'),
                crate::ids::truncate_id(&r.id)
            )));
        }
        let target = net.id.clone();
        tokio::task::spawn_blocking(move || ctl.remove_network(&target))
            .await
            .map_err(|e| DaemonError::System(e.to_string()))?
            .map_err(DaemonError::layer)?;
        self.network_event("destroy", &net, "");
        Ok(())
    }

    /// Which networks' names each container is attached to (for inspect of
    /// a network: its `Containers`).
    pub fn network_containers(&self, net: &NetworkRecord) -> Vec<(String, Endpoint)> {
        self.network
            .network_endpoints(&net.id)
            .into_iter()
            .map(|e| (e.container_id.clone(), e))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_network::{Ipv4Net, PortMapping, Proto};
    use serde_json::json;

    fn endpoint(ports: Vec<PortMapping>) -> Endpoint {
        Endpoint {
            id: "e".repeat(64),
            network_id: "n".repeat(64),
            network_name: "appnet".into(),
            container_id: "c".repeat(64),
            container_name: "web".into(),
            aliases: vec!["www".into()],
            ifname: "eth0".into(),
            address: "10.1.0.2/24".parse::<Ipv4Net>().unwrap(),
            gateway: Some("10.1.0.1".parse().unwrap()),
            mac: [2, 0x42, 10, 1, 0, 2],
            ports,
        }
    }

    #[test]
    fn endpoints_config_decodes_docker_shapes() {
        assert!(endpoints_config(None).unwrap().is_empty());
        let raw = json!({"EndpointsConfig": {"appnet": {"Aliases": ["a"], "IPAMConfig": {"IPv4Address": "10.1.0.9"}}, "other": null}});
        let m = endpoints_config(Some(&raw)).unwrap();
        assert_eq!(m["appnet"].aliases.as_deref(), Some(&["a".to_string()][..]));
        assert!(m.contains_key("other"));
        let a = attach_of("appnet", &m["appnet"]).unwrap();
        assert_eq!(a.ipv4, Some("10.1.0.9".parse().unwrap()));
        let bad = json!({"EndpointsConfig": {"n": {"Aliases": 3}}});
        assert_eq!(
            berth_errdefs::HasKind::kind(&endpoints_config(Some(&bad)).unwrap_err()),
            berth_errdefs::ErrorKind::InvalidParameter
        );
        let bad_ip = EndpointSettings {
            ipam_config: Some(berth_api::types::container::EndpointIpamConfig {
                ipv4_address: "nope".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(attach_of("n", &bad_ip).is_err());
    }

    #[test]
    fn settings_ports_and_clearing() {
        let m = PortMapping {
            proto: Proto::Tcp,
            host_ip: "0.0.0.0".parse().unwrap(),
            host_port: 8080,
            container_port: 80,
        };
        let ep = endpoint(vec![m]);
        let s = endpoint_settings(&EndpointSettings::default(), &ep, "cccccccccccc", true);
        assert_eq!(
            (
                s.ip_address.as_str(),
                s.ip_prefix_len,
                s.gateway.as_str(),
                s.mac_address.as_str()
            ),
            ("10.1.0.2", 24, "10.1.0.1", "02:42:0a:01:00:02")
        );
        assert_eq!(
            s.dns_names.unwrap(),
            ["web", "cccccccccccc", "www"].map(String::from)
        );
        let mut r = ContainerRecord::default();
        r.config.exposed_ports = Some([("443/tcp".to_string(), json!({}))].into());
        let ports = ports_map(&r, &[ep]);
        assert_eq!(ports["443/tcp"], None);
        assert_eq!(ports["80/tcp"].as_ref().unwrap()[0].host_port, "8080");

        r.network_settings.ip_address = "10.1.0.2".into();
        r.network_settings.networks = Some([("appnet".to_string(), s_with_id())].into());
        clear_runtime_settings(&mut r);
        let kept = &r.network_settings.networks.as_ref().unwrap()["appnet"];
        assert_eq!(kept.network_id, "n1");
        assert_eq!(kept.aliases.as_deref(), Some(&["x".to_string()][..]));
        assert!(kept.ip_address.is_empty() && kept.endpoint_id.is_empty());
        assert!(r.network_settings.ip_address.is_empty());
    }

    fn s_with_id() -> EndpointSettings {
        EndpointSettings {
            network_id: "n1".into(),
            endpoint_id: "e1".into(),
            ip_address: "10.1.0.2".into(),
            aliases: Some(vec!["x".into()]),
            ..Default::default()
        }
    }

    #[test]
    fn mode_names() {
        assert_eq!(network_name(""), "bridge");
        assert_eq!(network_name("default"), "bridge");
        assert_eq!(network_name("appnet"), "appnet");
        assert!(joins_networks("appnet") && joins_networks(""));
        assert!(
            !joins_networks("host") && !joins_networks("none") && !joins_networks("container:x")
        );
    }
}
