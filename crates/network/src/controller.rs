//! The network controller (libnetwork's `Controller`): every network, every
//! container's endpoints, their sandboxes (pinned network namespaces),
//! published ports and DNS resolvers. The daemon talks to networking only
//! through this type.
//!
//! Endpoints are kept on disk per container (`endpoints/<id>.json`) beside
//! the network records, so after a daemon restart [`NetworkController::reconcile`]
//! can restore the rules of live containers and undo everything of the dead.
//! Every method is synchronous and short; the daemon calls them from a
//! blocking task.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use crate::bridge::{mac_for, BridgeDriver};
use crate::dns::{self, NameLookup, Resolver};
use crate::driver::{EndpointSpec, NetworkDriver};
use crate::error::{NetworkError, Result};
use crate::ipam::Pool;
use crate::iptables::Iptables;
use crate::netlink::Netlink;
use crate::netns;
use crate::ports::{PortAllocator, PortMapping, PortRequest};
use crate::store::{NetworkRecord, NetworkStore, DRIVER_BRIDGE, DRIVER_HOST, DRIVER_NULL};
use crate::subnet;

/// The address every embedded resolver listens on inside its container.
pub const RESOLVER_IP: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 11);

/// Where and how the controller works.
#[derive(Debug, Clone)]
pub struct ControllerConfig {
    /// `<data root>/network`: network records and endpoints.
    pub data_dir: PathBuf,
    /// `<exec root>/netns`: the pinned sandboxes.
    pub netns_dir: PathBuf,
    /// The default bridge's Linux name (`berth0`); `none` makes no default
    /// bridge network, as dockerd's `--bridge none`.
    pub default_bridge: String,
    /// The default bridge's subnet (`--bip`); picked clear of the host's
    /// routes when `None`.
    pub default_subnet: Option<Ipv4Net>,
    /// Whether to program iptables (NAT, forwarding, published ports).
    pub iptables: bool,
    /// The resolv.conf upstream names are forwarded to.
    pub host_resolv_conf: PathBuf,
}

/// A request to create a network (`docker network create`).
#[derive(Debug, Clone, Default)]
pub struct CreateNetwork {
    /// Its name.
    pub name: String,
    /// `bridge` (default); other drivers are refused.
    pub driver: String,
    /// `--subnet`; picked when `None`.
    pub subnet: Option<Ipv4Net>,
    /// `--gateway`.
    pub gateway: Option<Ipv4Addr>,
    /// `--ip-range`.
    pub ip_range: Option<Ipv4Net>,
    /// `--internal`.
    pub internal: bool,
    /// `--attachable`.
    pub attachable: bool,
    /// `--label`s.
    pub labels: BTreeMap<String, String>,
    /// `-o` driver options (`com.docker.network.bridge.name`,
    /// `com.docker.network.driver.mtu`).
    pub options: BTreeMap<String, String>,
}

/// Which network a container joins, and how.
#[derive(Debug, Clone, Default)]
pub struct Attach {
    /// The network's name, ID or ID prefix.
    pub network: String,
    /// Extra DNS names on that network (`--network-alias`).
    pub aliases: Vec<String>,
    /// A fixed address (`--ip`).
    pub ipv4: Option<Ipv4Addr>,
    /// A fixed MAC address (`--mac-address`).
    pub mac: Option<[u8; 6]>,
}

/// The container an operation is about.
#[derive(Debug, Clone, Copy)]
pub struct ContainerRef<'a> {
    /// Its full ID.
    pub id: &'a str,
    /// Its name, without the leading `/`.
    pub name: &'a str,
}

/// One container's interface on one network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// 64 hex.
    pub id: String,
    /// The network's ID.
    pub network_id: String,
    /// The network's name when joined.
    pub network_name: String,
    /// The container's ID.
    pub container_id: String,
    /// The container's name (its DNS name).
    pub container_name: String,
    /// Extra DNS names.
    pub aliases: Vec<String>,
    /// Interface name inside the container.
    pub ifname: String,
    /// Address and prefix.
    pub address: Ipv4Net,
    /// The network's gateway, if it has one the container routes through.
    pub gateway: Option<Ipv4Addr>,
    /// MAC address.
    pub mac: [u8; 6],
    /// Ports published through this endpoint.
    pub ports: Vec<PortMapping>,
}

/// What [`NetworkController::prepare`] set up: enough for the spec.
#[derive(Debug, Clone)]
pub struct Prepared {
    container_id: String,
    /// The pinned network namespace to run the container in.
    pub sandbox_key: PathBuf,
    /// Its endpoints with their addresses and reserved ports, not plumbed yet.
    pub endpoints: Vec<Endpoint>,
    /// Whether the embedded resolver will serve it (a user-defined network).
    pub embedded_dns: bool,
}

/// What [`NetworkController::attach`] set up for a container.
#[derive(Debug, Clone)]
pub struct Attached {
    /// The pinned network namespace to run the container in.
    pub sandbox_key: PathBuf,
    /// Its endpoints, in the order asked.
    pub endpoints: Vec<Endpoint>,
    /// Whether an embedded resolver serves it (on 127.0.0.11).
    pub embedded_dns: bool,
}

#[derive(Default)]
struct State {
    networks: BTreeMap<String, NetworkRecord>,
    /// Container ID -> its endpoints.
    endpoints: BTreeMap<String, Vec<Endpoint>>,
}

/// Every network and endpoint of one daemon.
pub struct NetworkController {
    config: ControllerConfig,
    store: NetworkStore,
    driver: BridgeDriver,
    iptables: Option<Iptables>,
    ports: PortAllocator,
    state: Mutex<State>,
    resolvers: Mutex<HashMap<String, Resolver>>,
    /// Background veth deletions in flight, and their completion signal.
    unplugging: Arc<(Mutex<usize>, std::sync::Condvar)>,
    me: Weak<NetworkController>,
}

impl std::fmt::Debug for NetworkController {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetworkController")
            .field("config", &self.config)
            .finish()
    }
}

fn random_id() -> String {
    let mut bytes = [0u8; 32];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        let _ = f.read_exact(&mut bytes);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_nanos(std::time::SystemTime::now()).to_string()
}

impl NetworkController {
    /// Opens the controller: loads the networks, creates the predefined
    /// `bridge`, `host` and `none` networks on first use, and (re)creates
    /// every bridge's plumbing. Call [`NetworkController::reconcile`] once
    /// the live containers are known.
    pub fn open(config: ControllerConfig) -> Result<Arc<NetworkController>> {
        let iptables = if config.iptables {
            Some(Iptables::new()?)
        } else {
            None
        };
        let ctl = Arc::new_cyclic(|me| NetworkController {
            store: NetworkStore::new(config.data_dir.join("networks")),
            driver: BridgeDriver::new(iptables.clone()),
            iptables,
            ports: PortAllocator::new(),
            state: Mutex::new(State::default()),
            resolvers: Mutex::new(HashMap::new()),
            unplugging: Arc::default(),
            me: me.clone(),
            config,
        });
        let mut records = ctl.store.load_all()?;
        for (name, driver) in [("host", DRIVER_HOST), ("none", DRIVER_NULL)] {
            if !records.iter().any(|r| r.name == name) {
                let r = ctl.new_record(name, driver);
                ctl.store.save(&r)?;
                records.push(r);
            }
        }
        // dockerd's `--bridge none`: no default bridge network at all.
        let wants_bridge = ctl.config.default_bridge != "none";
        if wants_bridge && !records.iter().any(|r| r.name == "bridge") {
            let mut r = ctl.new_record("bridge", DRIVER_BRIDGE);
            r.bridge = ctl.config.default_bridge.clone();
            r.options.insert(
                "com.docker.network.bridge.default_bridge".into(),
                "true".into(),
            );
            r.options
                .insert("com.docker.network.bridge.name".into(), r.bridge.clone());
            let subnet = match ctl.config.default_subnet {
                Some(s) => s,
                None => ctl.pick_subnet(&records)?,
            };
            // `--bip` names the bridge's own address.
            let gateway = ctl
                .config
                .default_subnet
                .map(|s| s.addr())
                .filter(|a| *a != subnet.network());
            r.pool = Some(Pool::new(subnet, gateway, None)?);
            ctl.store.save(&r)?;
            records.push(r);
        }
        for r in &records {
            if r.driver == DRIVER_BRIDGE {
                ctl.driver.create_network(r)?;
            }
        }
        ctl.lock().networks = records.into_iter().map(|r| (r.id.clone(), r)).collect();
        Ok(ctl)
    }

    fn new_record(&self, name: &str, driver: &str) -> NetworkRecord {
        NetworkRecord {
            id: random_id(),
            name: name.to_string(),
            driver: driver.to_string(),
            created: now_rfc3339(),
            internal: false,
            attachable: false,
            labels: BTreeMap::new(),
            options: BTreeMap::new(),
            bridge: String::new(),
            mtu: None,
            pool: None,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn pick_subnet(&self, records: &[NetworkRecord]) -> Result<Ipv4Net> {
        let mut taken = Netlink::open()?.route_destinations()?;
        taken.extend(
            records
                .iter()
                .filter_map(|r| r.pool.as_ref().map(|p| p.subnet)),
        );
        subnet::pick(subnet::default_candidates(), &taken).ok_or_else(|| {
            NetworkError::Unavailable(
                "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network".into(),
            )
        })
    }

    /// Every network.
    pub fn networks(&self) -> Vec<NetworkRecord> {
        self.lock().networks.values().cloned().collect()
    }

    /// The network `reference` names: full ID, exact name, then a unique
    /// ID prefix (moby's `FindNetwork` order).
    pub fn network(&self, reference: &str) -> Result<NetworkRecord> {
        find(&self.lock(), reference).cloned()
    }

    /// The endpoints on network `id`.
    pub fn network_endpoints(&self, id: &str) -> Vec<Endpoint> {
        self.lock()
            .endpoints
            .values()
            .flatten()
            .filter(|e| e.network_id == id)
            .cloned()
            .collect()
    }

    /// The endpoints of container `id`.
    pub fn container_endpoints(&self, id: &str) -> Vec<Endpoint> {
        self.lock().endpoints.get(id).cloned().unwrap_or_default()
    }

    /// Where container `id`'s network namespace is pinned.
    pub fn sandbox_key(&self, id: &str) -> PathBuf {
        self.config.netns_dir.join(id)
    }

    /// Creates a bridge network.
    pub fn create_network(&self, req: CreateNetwork) -> Result<NetworkRecord> {
        let driver = if req.driver.is_empty() {
            DRIVER_BRIDGE
        } else {
            req.driver.as_str()
        };
        if driver != DRIVER_BRIDGE {
            return Err(NetworkError::NotFound(format!(
                "could not find plugin {driver} in v1 plugin registry: plugin not found"
            )));
        }
        if req.name.is_empty() {
            return Err(NetworkError::InvalidParameter(
                "network name must not be empty".into(),
            ));
        }
        let mut st = self.lock();
        if st.networks.values().any(|n| n.name == req.name) {
            return Err(NetworkError::Conflict(format!(
                "network with name {} already exists",
                req.name
            )));
        }
        let mut r = self.new_record(&req.name, DRIVER_BRIDGE);
        r.internal = req.internal;
        r.attachable = req.attachable;
        r.labels = req.labels;
        r.bridge = match req.options.get("com.docker.network.bridge.name") {
            Some(b) if !b.is_empty() => b.clone(),
            _ => format!("berth-{}", &r.id[..9]),
        };
        if r.bridge.len() > 15 {
            return Err(NetworkError::InvalidParameter(format!(
                "bridge name {} is longer than 15 characters",
                r.bridge
            )));
        }
        if let Some(mtu) = req.options.get("com.docker.network.driver.mtu") {
            r.mtu = Some(
                mtu.parse()
                    .map_err(|_| NetworkError::InvalidParameter(format!("invalid MTU {mtu:?}")))?,
            );
        }
        r.options = req.options;
        let existing: Vec<NetworkRecord> = st.networks.values().cloned().collect();
        let subnet = match req.subnet {
            Some(s) => {
                let s = s.trunc();
                if let Some(other) = existing.iter().find(|o| {
                    o.pool
                        .as_ref()
                        .is_some_and(|p| subnet::overlaps(&p.subnet, &s))
                }) {
                    return Err(NetworkError::Forbidden(format!(
                        "invalid pool request: Pool overlaps with other one on this address space ({} is used by network {})",
                        s, other.name
                    )));
                }
                s
            }
            None => self.pick_subnet(&existing)?,
        };
        r.pool = Some(Pool::new(subnet, req.gateway, req.ip_range)?);
        self.driver.create_network(&r).inspect_err(|_| {
            let _ = self.driver.delete_network(&r);
        })?;
        if let Err(e) = self.store.save(&r) {
            let _ = self.driver.delete_network(&r);
            return Err(e);
        }
        st.networks.insert(r.id.clone(), r.clone());
        Ok(r)
    }

    /// Removes a user-defined network with no endpoints.
    pub fn remove_network(&self, reference: &str) -> Result<()> {
        let mut st = self.lock();
        let net = find(&st, reference)?.clone();
        if net.is_predefined() {
            return Err(NetworkError::Forbidden(format!(
                "{} is a pre-defined network and cannot be removed",
                net.name
            )));
        }
        let users: Vec<&Endpoint> = st
            .endpoints
            .values()
            .flatten()
            .filter(|e| e.network_id == net.id)
            .collect();
        if !users.is_empty() {
            return Err(NetworkError::Forbidden(format!(
                "error while removing network: network {} has active endpoints (name:{:?} id:{:?})",
                net.name,
                users[0].container_name,
                &users[0].container_id[..12]
            )));
        }
        self.driver.delete_network(&net)?;
        self.store.delete(&net.id)?;
        st.networks.remove(&net.id);
        Ok(())
    }

    /// Sets up a starting container's networking: pins its sandbox, joins
    /// `networks` in order (the first gives the default route), publishes
    /// `ports` on the first, and starts the embedded resolver when any
    /// network is user-defined. All or nothing: [`NetworkController::prepare`]
    /// then [`NetworkController::plug`].
    pub fn attach(
        &self,
        container: ContainerRef<'_>,
        networks: &[Attach],
        ports: &[PortRequest],
        dns_upstreams: &[SocketAddr],
    ) -> Result<Attached> {
        let prepared = self.prepare(container, networks, ports)?;
        self.plug(&prepared, dns_upstreams)
    }

    /// The quick half of [`NetworkController::attach`], all a container's
    /// spec needs: pins the sandbox, leases the addresses, reserves the
    /// host ports. The slow half ([`NetworkController::plug`]) can then run
    /// while the runtime creates the container, which waits in the sandbox
    /// until started. On error nothing is left.
    pub fn prepare(
        &self,
        container: ContainerRef<'_>,
        networks: &[Attach],
        ports: &[PortRequest],
    ) -> Result<Prepared> {
        let sandbox_key = self.sandbox_key(container.id);
        // A leftover from a crash would make the create fail.
        self.detach(container.id);
        netns::create(&sandbox_key)?;
        let result = (|| {
            let mut endpoints = Vec::new();
            for (i, a) in networks.iter().enumerate() {
                endpoints.push(self.lease(container, a, &format!("eth{i}"))?);
            }
            if let Some(first) = endpoints.first_mut() {
                if !ports.is_empty() {
                    first.ports =
                        self.ports
                            .reserve_for(container.id, Some(first.address.addr()), ports)?;
                    self.set_endpoint_ports(container.id, &first.id, &first.ports);
                }
            }
            Ok(Prepared {
                container_id: container.id.to_string(),
                sandbox_key: sandbox_key.clone(),
                embedded_dns: self.wants_resolver(&endpoints),
                endpoints,
            })
        })();
        result.inspect_err(|_| self.detach(container.id))
    }

    /// The slow half of [`NetworkController::attach`]: the veths and their
    /// addresses and routes, the port rules, the resolver. On error the
    /// whole attach is undone.
    pub fn plug(&self, prepared: &Prepared, dns_upstreams: &[SocketAddr]) -> Result<Attached> {
        let id = prepared.container_id.as_str();
        let result = (|| {
            for (i, ep) in prepared.endpoints.iter().enumerate() {
                self.plug_endpoint(ep, i == 0, &prepared.sandbox_key)?;
            }
            if let Some(first) = prepared.endpoints.first() {
                self.add_port_rules(first)?;
            }
            let embedded_dns = prepared.embedded_dns;
            if embedded_dns {
                self.start_resolver(id, &prepared.sandbox_key, dns_upstreams)?;
            }
            self.save_endpoints(id)?;
            Ok(Attached {
                sandbox_key: prepared.sandbox_key.clone(),
                endpoints: prepared.endpoints.clone(),
                embedded_dns,
            })
        })();
        result.inspect_err(|_| self.detach(id))
    }

    fn wants_resolver(&self, endpoints: &[Endpoint]) -> bool {
        let st = self.lock();
        endpoints.iter().any(|e| {
            st.networks
                .get(&e.network_id)
                .is_some_and(|n| !n.is_predefined())
        })
    }

    /// Joins one network: [`Self::lease`] then [`Self::plug_endpoint`].
    fn join(
        &self,
        container: ContainerRef<'_>,
        attach: &Attach,
        ifname: &str,
        primary: bool,
        sandbox: &Path,
    ) -> Result<Endpoint> {
        let ep = self.lease(container, attach, ifname)?;
        if let Err(e) = self.plug_endpoint(&ep, primary, sandbox) {
            self.forget_endpoint(container.id, &ep);
            self.release_lease(&ep.network_id, ep.address.addr());
            return Err(e);
        }
        Ok(ep)
    }

    /// Leases an address on a network and records the endpoint (in memory;
    /// the caller saves), so a later detach undoes it.
    fn lease(
        &self,
        container: ContainerRef<'_>,
        attach: &Attach,
        ifname: &str,
    ) -> Result<Endpoint> {
        let id = random_id();
        let (net, address) = {
            let mut st = self.lock();
            let net = find(&st, &attach.network)?.clone();
            if net.driver != DRIVER_BRIDGE {
                return Err(NetworkError::Forbidden(format!(
                    "container cannot be connected to network {}: only bridge networks can be joined",
                    net.name
                )));
            }
            if st
                .endpoints
                .get(container.id)
                .is_some_and(|eps| eps.iter().any(|e| e.network_id == net.id))
            {
                return Err(NetworkError::Forbidden(format!(
                    "endpoint with name {} already exists in network {}",
                    container.name, net.name
                )));
            }
            if net.is_predefined() && (attach.ipv4.is_some() || !attach.aliases.is_empty()) {
                return Err(NetworkError::InvalidParameter(
                    "user specified IP address is supported on user defined networks only".into(),
                ));
            }
            let record = st.networks.get_mut(&net.id).expect("found above");
            let pool = record.pool.as_mut().expect("bridge networks have pools");
            let ip = pool.allocate(&id, attach.ipv4)?;
            let address = Ipv4Net::new(ip, pool.subnet.prefix_len())
                .map_err(|e| NetworkError::System(e.to_string()))?;
            // Leases are rebuilt from the endpoints after a crash: no fsync.
            let _ = self.store.save(record);
            (record.clone(), address)
        };
        let gateway = (!net.internal).then(|| net.pool.as_ref().expect("pool").gateway);
        let ep = Endpoint {
            id,
            network_id: net.id.clone(),
            network_name: net.name.clone(),
            container_id: container.id.to_string(),
            container_name: container.name.to_string(),
            aliases: attach.aliases.clone(),
            ifname: ifname.to_string(),
            address,
            gateway,
            mac: attach.mac.unwrap_or_else(|| mac_for(address.addr())),
            ports: Vec::new(),
        };
        self.lock()
            .endpoints
            .entry(container.id.to_string())
            .or_default()
            .push(ep.clone());
        Ok(ep)
    }

    /// Plumbs a leased endpoint: its veth, address, MAC and (for the
    /// primary one) default route.
    fn plug_endpoint(&self, ep: &Endpoint, primary: bool, sandbox: &Path) -> Result<()> {
        let net = self.network(&ep.network_id)?;
        let spec = EndpointSpec {
            id: &ep.id,
            sandbox,
            ifname: &ep.ifname,
            address: ep.address,
            mac: ep.mac,
            default_gateway: if primary { ep.gateway } else { None },
        };
        self.driver.join(&net, &spec)
    }

    fn forget_endpoint(&self, container_id: &str, ep: &Endpoint) {
        if let Some(eps) = self.lock().endpoints.get_mut(container_id) {
            eps.retain(|e| e.id != ep.id);
        }
    }

    fn release_lease(&self, network_id: &str, ip: Ipv4Addr) {
        let mut st = self.lock();
        if let Some(r) = st.networks.get_mut(network_id) {
            if let Some(p) = r.pool.as_mut() {
                p.release(ip);
                let _ = self.store.save(r);
            }
        }
    }

    fn bridge_of(&self, network_id: &str) -> Option<String> {
        self.lock()
            .networks
            .get(network_id)
            .map(|n| n.bridge.clone())
    }

    /// Adds the DNAT rules of the endpoint's reserved ports, all or nothing.
    fn add_port_rules(&self, ep: &Endpoint) -> Result<()> {
        if let (Some(ipt), Some(bridge)) = (&self.iptables, self.bridge_of(&ep.network_id)) {
            for (i, m) in ep.ports.iter().enumerate() {
                if let Err(e) = ipt.add_port(&bridge, ep.address.addr(), m) {
                    for done in &ep.ports[..i] {
                        let _ = ipt.remove_port(&bridge, ep.address.addr(), done);
                    }
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    fn set_endpoint_ports(&self, container_id: &str, endpoint_id: &str, ports: &[PortMapping]) {
        if let Some(eps) = self.lock().endpoints.get_mut(container_id) {
            if let Some(e) = eps.iter_mut().find(|e| e.id == endpoint_id) {
                e.ports = ports.to_vec();
            }
        }
    }

    fn unpublish(&self, container_id: &str, ep: &Endpoint) {
        if let (Some(ipt), Some(bridge)) = (&self.iptables, self.bridge_of(&ep.network_id)) {
            for m in &ep.ports {
                if let Err(e) = ipt.remove_port(&bridge, ep.address.addr(), m) {
                    tracing::warn!(error = %e, "removing a port rule");
                }
            }
        }
        if !ep.ports.is_empty() {
            self.ports.release(container_id);
        }
    }

    fn start_resolver(
        &self,
        container_id: &str,
        sandbox: &Path,
        upstreams: &[SocketAddr],
    ) -> Result<()> {
        let (udp, tcp) = netns::run_in(sandbox, || {
            let addr = SocketAddr::from((RESOLVER_IP, 53));
            let udp = std::net::UdpSocket::bind(addr)
                .map_err(|e| NetworkError::io("binding the embedded DNS server (udp)", e))?;
            let tcp = std::net::TcpListener::bind(addr)
                .map_err(|e| NetworkError::io("binding the embedded DNS server (tcp)", e))?;
            Ok((udp, tcp))
        })?;
        let mut upstreams: Vec<SocketAddr> = if upstreams.is_empty() {
            let text = std::fs::read_to_string(&self.config.host_resolv_conf).unwrap_or_default();
            dns::upstreams_from_resolv_conf(&text)
        } else {
            upstreams.to_vec()
        };
        upstreams.retain(|u| u.ip() != IpAddr::V4(RESOLVER_IP));
        let names: Arc<dyn NameLookup> = Arc::new(ContainerNames {
            ctl: self.me.clone(),
            container_id: container_id.to_string(),
        });
        let resolver = Resolver::spawn(udp, tcp, names, upstreams)
            .map_err(|e| NetworkError::io("starting the embedded DNS server", e))?;
        self.resolvers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(container_id.to_string(), resolver);
        Ok(())
    }

    fn stop_resolver(&self, container_id: &str) {
        let r = self
            .resolvers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(container_id);
        if let Some(r) = r {
            r.stop();
        }
    }

    fn endpoints_path(&self, container_id: &str) -> PathBuf {
        self.config
            .data_dir
            .join("endpoints")
            .join(format!("{container_id}.json"))
    }

    fn save_endpoints(&self, container_id: &str) -> Result<()> {
        let eps = self.container_endpoints(container_id);
        let path = self.endpoints_path(container_id);
        if eps.is_empty() {
            let _ = std::fs::remove_file(&path);
            return Ok(());
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| NetworkError::io(format!("creating {}", dir.display()), e))?;
        }
        let bytes = serde_json::to_vec(&eps).map_err(|e| NetworkError::System(e.to_string()))?;
        // Rebuilt at every start, and a lost file only loses a cleanup: no fsync.
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, bytes)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| NetworkError::io(format!("writing {}", path.display()), e))
    }

    /// Connects a running container (its sandbox pinned) to one more network.
    pub fn connect(&self, container: ContainerRef<'_>, attach: &Attach) -> Result<Endpoint> {
        let sandbox = self.sandbox_key(container.id);
        if !netns::is_pinned(&sandbox) {
            return Err(NetworkError::Conflict(format!(
                "container {} is not running with a network namespace of its own",
                container.name
            )));
        }
        let n = self.container_endpoints(container.id).len();
        let ifname = (n..)
            .map(|i| format!("eth{i}"))
            .find(|name| {
                !self
                    .container_endpoints(container.id)
                    .iter()
                    .any(|e| &e.ifname == name)
            })
            .expect("unbounded");
        let ep = self.join(container, attach, &ifname, n == 0, &sandbox)?;
        let needs_dns = self.wants_resolver(std::slice::from_ref(&ep));
        let has_dns = self
            .resolvers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(container.id);
        if needs_dns && !has_dns {
            if let Err(e) = self.start_resolver(container.id, &sandbox, &[]) {
                tracing::warn!(error = %e, "starting the embedded DNS server on connect");
            }
        }
        self.save_endpoints(container.id)?;
        Ok(ep)
    }

    /// Disconnects a container from a network (`docker network disconnect`).
    pub fn disconnect(&self, container_id: &str, network: &str) -> Result<Endpoint> {
        let net = self.network(network)?;
        let ep = {
            let mut st = self.lock();
            let eps = st.endpoints.entry(container_id.to_string()).or_default();
            let pos = eps
                .iter()
                .position(|e| e.network_id == net.id)
                .ok_or_else(|| {
                    NetworkError::NotFound(format!(
                        "container {} is not connected to network {}",
                        &container_id[..12.min(container_id.len())],
                        net.name
                    ))
                })?;
            eps.remove(pos)
        };
        self.leave(container_id, &ep);
        if !self.wants_resolver(&self.container_endpoints(container_id)) {
            self.stop_resolver(container_id);
        }
        self.save_endpoints(container_id)?;
        Ok(ep)
    }

    fn leave(&self, container_id: &str, ep: &Endpoint) {
        self.unpublish(container_id, ep);
        self.unplug(ep);
    }

    /// Deletes the endpoint's veth, then returns its address.
    fn unplug(&self, ep: &Endpoint) {
        let net = self.lock().networks.get(&ep.network_id).cloned();
        if let Some(net) = net {
            if let Err(e) = self.driver.leave(&net, &ep.id) {
                tracing::warn!(error = %e, endpoint = %ep.id, "removing a veth");
            }
        }
        self.release_lease(&ep.network_id, ep.address.addr());
    }

    /// Undoes everything [`NetworkController::attach`] and
    /// [`NetworkController::connect`] set up for a container: resolver,
    /// ports, veths, leases, sandbox. Idempotent; failures are logged.
    pub fn detach(&self, container_id: &str) {
        self.stop_resolver(container_id);
        let eps = self
            .lock()
            .endpoints
            .remove(container_id)
            .unwrap_or_default();
        for ep in &eps {
            self.unpublish(container_id, ep);
        }
        self.ports.release(container_id);
        let _ = std::fs::remove_file(self.endpoints_path(container_id));
        if let Err(e) = netns::remove(&self.sandbox_key(container_id)) {
            tracing::warn!(error = %e, "removing a network sandbox");
        }
        if eps.is_empty() {
            return;
        }
        // Deleting a veth waits for the kernel's RCU grace periods (tens of
        // ms), which a `run --rm` would otherwise wait for: it happens on a
        // thread of its own, and each address is returned only once its
        // veth is gone, so a new container never meets the old one's MAC.
        let Some(me) = self.me.upgrade() else {
            eps.iter().for_each(|ep| self.unplug(ep));
            return;
        };
        *self.unplugging.0.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        std::thread::spawn(move || {
            for ep in &eps {
                me.unplug(ep);
            }
            let (count, done) = &*me.unplugging;
            *count.lock().unwrap_or_else(|p| p.into_inner()) -= 1;
            done.notify_all();
        });
    }

    /// Waits until every veth a [`NetworkController::detach`] left to the
    /// background is deleted and its address returned.
    pub fn settle(&self) {
        let (count, done) = &*self.unplugging;
        let mut n = count.lock().unwrap_or_else(|p| p.into_inner());
        while *n > 0 {
            n = done.wait(n).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// After a daemon restart: restores the endpoints, ports, rules and
    /// resolvers of the containers `is_live` accepts, undoes everything of
    /// the others, and drops leases no endpoint holds.
    pub fn reconcile(&self, is_live: impl Fn(&str) -> bool) {
        let dir = self.config.data_dir.join("endpoints");
        let mut saved: Vec<(String, Vec<Endpoint>)> = Vec::new();
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for entry in entries.flatten() {
                let path = entry.path();
                let Some(id) = path.file_stem().and_then(|s| s.to_str()).map(String::from) else {
                    continue;
                };
                match std::fs::read(&path)
                    .ok()
                    .and_then(|b| serde_json::from_slice::<Vec<Endpoint>>(&b).ok())
                {
                    Some(eps) => saved.push((id, eps)),
                    None => {
                        let _ = std::fs::remove_file(&path);
                    }
                }
            }
        }
        for (id, eps) in saved {
            self.lock().endpoints.insert(id.clone(), eps.clone());
            if !is_live(&id) {
                self.detach(&id);
                continue;
            }
            for ep in &eps {
                if ep.ports.is_empty() {
                    continue;
                }
                if let Err(e) = self.ports.reserve_exact(&id, &ep.ports) {
                    tracing::warn!(container = %id, error = %e, "re-reserving published ports");
                }
                if let (Some(ipt), Some(bridge)) = (&self.iptables, self.bridge_of(&ep.network_id))
                {
                    for m in &ep.ports {
                        if let Err(e) = ipt.add_port(&bridge, ep.address.addr(), m) {
                            tracing::warn!(container = %id, error = %e, "restoring a port rule");
                        }
                    }
                }
            }
            if self.wants_resolver(&eps) {
                if let Err(e) = self.start_resolver(&id, &self.sandbox_key(&id), &[]) {
                    tracing::warn!(container = %id, error = %e, "restarting the embedded DNS server");
                }
            }
        }
        // Leases and sandboxes nothing owns any more.
        let mut st = self.lock();
        let owners: std::collections::HashSet<String> = st
            .endpoints
            .values()
            .flatten()
            .map(|e| e.id.clone())
            .collect();
        let live: std::collections::HashSet<String> = st.endpoints.keys().cloned().collect();
        for r in st.networks.values_mut() {
            if let Some(p) = r.pool.as_mut() {
                if p.retain(|o| owners.contains(o)) > 0 {
                    let _ = self.store.save(r);
                }
            }
        }
        drop(st);
        if let Ok(entries) = std::fs::read_dir(&self.config.netns_dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if !live.contains(&name) && !is_live(&name) {
                    let _ = netns::remove(&entry.path());
                }
            }
        }
    }

    /// Removes every bridge network's plumbing and rules (the networks'
    /// records stay): for tests and uninstall. Live containers lose their
    /// connectivity.
    pub fn teardown(&self) {
        let ids: Vec<String> = self.lock().endpoints.keys().cloned().collect();
        for id in ids {
            self.detach(&id);
        }
        self.settle();
        for r in self.networks() {
            if r.driver == DRIVER_BRIDGE {
                if let Err(e) = self.driver.delete_network(&r) {
                    tracing::warn!(network = %r.name, error = %e, "tearing down a network");
                }
            }
        }
    }
}

fn find<'a>(st: &'a State, reference: &str) -> Result<&'a NetworkRecord> {
    let not_found = || NetworkError::NotFound(format!("network {reference} not found"));
    if reference.is_empty() {
        return Err(not_found());
    }
    if let Some(r) = st.networks.get(reference) {
        return Ok(r);
    }
    if let Some(r) = st.networks.values().find(|r| r.name == reference) {
        return Ok(r);
    }
    let mut matches = st.networks.values().filter(|r| r.id.starts_with(reference));
    match (matches.next(), matches.next()) {
        (Some(r), None) => Ok(r),
        (Some(_), Some(_)) => Err(NetworkError::InvalidParameter(format!(
            "network {reference} is ambiguous"
        ))),
        _ => Err(not_found()),
    }
}

/// What one container's resolver answers from: the endpoints on the
/// user-defined networks it shares with others.
struct ContainerNames {
    ctl: Weak<NetworkController>,
    container_id: String,
}

impl ContainerNames {
    fn with_peers<T>(&self, f: impl FnOnce(&[&Endpoint]) -> T) -> Option<T> {
        let ctl = self.ctl.upgrade()?;
        let st = ctl.lock();
        let mine: Vec<&String> = st
            .endpoints
            .get(&self.container_id)?
            .iter()
            .filter(|e| {
                st.networks
                    .get(&e.network_id)
                    .is_some_and(|n| !n.is_predefined())
            })
            .map(|e| &e.network_id)
            .collect();
        let peers: Vec<&Endpoint> = st
            .endpoints
            .values()
            .flatten()
            .filter(|e| mine.contains(&&e.network_id))
            .collect();
        Some(f(&peers))
    }
}

fn answers_to(ep: &Endpoint, name: &str) -> bool {
    let short = &ep.container_id[..12.min(ep.container_id.len())];
    let bare = name
        .strip_suffix(&format!(".{}", ep.network_name.to_lowercase()))
        .unwrap_or(name);
    [bare, name].iter().any(|n| {
        ep.container_name.eq_ignore_ascii_case(n)
            || ep.aliases.iter().any(|a| a.eq_ignore_ascii_case(n))
            || *n == short
    })
}

impl NameLookup for ContainerNames {
    fn lookup_v4(&self, name: &str) -> Vec<Ipv4Addr> {
        self.with_peers(|peers| {
            let mut out: Vec<Ipv4Addr> = peers
                .iter()
                .filter(|e| answers_to(e, name))
                .map(|e| e.address.addr())
                .collect();
            out.dedup();
            out
        })
        .unwrap_or_default()
    }

    fn lookup_ptr(&self, ip: Ipv4Addr) -> Option<String> {
        self.with_peers(|peers| {
            peers
                .iter()
                .find(|e| e.address.addr() == ip)
                .map(|e| format!("{}.{}", e.container_name, e.network_name))
        })
        .flatten()
    }
}

#[cfg(test)]
#[path = "controller_tests.rs"]
mod tests;
