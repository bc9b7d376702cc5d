//! The network endpoints over the daemon and its network controller:
//! decode Docker's request shapes, call the daemon, encode
//! `NetworkResource`s as moby does.

use std::collections::BTreeMap;

use async_trait::async_trait;
use berth_api::server::{ApiError, NetworkBackend};
use berth_api::types::filters::Filters;
use berth_api::types::network::{
    ConfigReference, EndpointResource, Ipam, IpamConfig, NetworkConnectRequest,
    NetworkCreateRequest, NetworkCreateResponse, NetworkDisconnectRequest, NetworkPruneReport,
    NetworkResource,
};
use berth_network::bridge::format_mac;
use berth_network::{CreateNetwork, NetworkRecord};

use super::{api_error, ApiBackend};
use crate::error::DaemonError;
use crate::filters::FilterMatch;

/// The filters `GET /networks` accepts (moby's `acceptedNetworkFilters`).
const LIST_FILTERS: &[&str] = &["dangling", "driver", "id", "label", "name", "scope", "type"];

fn invalid(msg: String) -> ApiError {
    api_error(DaemonError::invalid(msg))
}

fn parse_create(req: NetworkCreateRequest) -> Result<CreateNetwork, ApiError> {
    if req.enable_ipv6 == Some(true) {
        return Err(invalid(
            "IPv6 networks are not supported by Berth yet".into(),
        ));
    }
    if req.ingress || req.config_only || req.config_from.is_some() {
        return Err(invalid(
            "swarm networks (ingress, config-only, config-from) are not supported".into(),
        ));
    }
    let configs = req
        .ipam
        .as_ref()
        .and_then(|i| i.config.clone())
        .unwrap_or_default();
    if configs.len() > 1 {
        return Err(invalid("Berth supports one IPv4 pool per network".into()));
    }
    let mut out = CreateNetwork {
        name: req.name,
        driver: req.driver,
        internal: req.internal,
        attachable: req.attachable,
        labels: req.labels.unwrap_or_default(),
        options: req.options.unwrap_or_default(),
        ..Default::default()
    };
    if let Some(c) = configs.first() {
        let parse_net = |what: &str, s: &str| -> Result<Option<berth_network::Ipv4Net>, ApiError> {
            if s.is_empty() {
                return Ok(None);
            }
            s.parse()
                .map(Some)
                .map_err(|_| invalid(format!("invalid {what}: {s}")))
        };
        out.subnet = parse_net("subnet", &c.subnet)?;
        out.ip_range = parse_net("ip-range", &c.ip_range)?;
        if !c.gateway.is_empty() {
            out.gateway = Some(
                c.gateway
                    .parse()
                    .map_err(|_| invalid(format!("invalid gateway address: {}", c.gateway)))?,
            );
        }
        if out.subnet.is_none() && (out.gateway.is_some() || out.ip_range.is_some()) {
            return Err(invalid("gateway and ip-range need a subnet".into()));
        }
    }
    Ok(out)
}

/// A network as `GET /networks/{id}` shows it; `containers` adds the
/// endpoints of running containers (list leaves them out, as moby does).
fn resource(backend: &ApiBackend, net: &NetworkRecord, containers: bool) -> NetworkResource {
    let config = net
        .pool
        .as_ref()
        .map(|p| {
            vec![IpamConfig {
                subnet: p.subnet.to_string(),
                ip_range: p.range.map(|r| r.to_string()).unwrap_or_default(),
                gateway: p.gateway.to_string(),
                aux_addresses: BTreeMap::new(),
            }]
        })
        .unwrap_or_default();
    let daemon = backend.daemon();
    let eps = containers.then(|| {
        daemon
            .network_containers(net)
            .into_iter()
            .map(|(id, ep)| {
                (
                    id,
                    EndpointResource {
                        name: ep.container_name.clone(),
                        endpoint_id: ep.id.clone(),
                        mac_address: format_mac(&ep.mac),
                        ipv4_address: ep.address.to_string(),
                        ipv6_address: String::new(),
                    },
                )
            })
            .collect::<BTreeMap<_, _>>()
    });
    NetworkResource {
        name: net.name.clone(),
        id: net.id.clone(),
        created: net.created.clone(),
        scope: "local".into(),
        driver: net.driver.clone(),
        enable_ipv4: true,
        enable_ipv6: false,
        ipam: Ipam {
            driver: "default".into(),
            options: None,
            config: Some(config),
        },
        internal: net.internal,
        attachable: net.attachable,
        ingress: false,
        config_from: ConfigReference::default(),
        config_only: false,
        containers: eps,
        options: Some(net.options.clone()),
        labels: Some(net.labels.clone()),
        peers: None,
    }
}

#[async_trait]
impl NetworkBackend for ApiBackend {
    async fn network_create(
        &self,
        req: NetworkCreateRequest,
    ) -> Result<NetworkCreateResponse, ApiError> {
        let create = parse_create(req)?;
        let ctl = self.daemon().networks().clone();
        let net = tokio::task::spawn_blocking(move || ctl.create_network(create))
            .await
            .map_err(|e| api_error(DaemonError::System(e.to_string())))?
            .map_err(|e| api_error(DaemonError::layer(e)))?;
        self.daemon().network_event("create", &net, "");
        Ok(NetworkCreateResponse {
            id: net.id,
            warning: String::new(),
        })
    }

    async fn network_list(&self, filters: Filters) -> Result<Vec<NetworkResource>, ApiError> {
        filters.validate(LIST_FILTERS).map_err(api_error)?;
        let mut out = Vec::new();
        for net in self.daemon().networks().networks() {
            let kind = if net.is_predefined() {
                "builtin"
            } else {
                "custom"
            };
            if !filters.matches("name", &net.name)
                || !filters.fuzzy_match("id", &net.id)
                || !filters.exact_match("driver", &net.driver)
                || !filters.exact_match("type", kind)
                || !filters.exact_match("scope", "local")
                || !filters.match_labels("label", Some(&net.labels))
            {
                continue;
            }
            if let Some(d) = filters.get("dangling").first() {
                let dangling = !net.is_predefined() && !self.daemon().network_in_use(&net);
                if (d == "true" || d == "1") != dangling {
                    continue;
                }
            }
            out.push(resource(self, &net, false));
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn network_inspect(
        &self,
        id: &str,
        _verbose: bool,
        _scope: Option<String>,
    ) -> Result<NetworkResource, ApiError> {
        let net = self
            .daemon()
            .networks()
            .network(id)
            .map_err(|e| api_error(DaemonError::layer(e)))?;
        Ok(resource(self, &net, true))
    }

    async fn network_remove(&self, id: &str) -> Result<(), ApiError> {
        self.daemon().network_remove(id).await.map_err(api_error)
    }

    async fn network_prune(&self, filters: Filters) -> Result<NetworkPruneReport, ApiError> {
        let filters = crate::daemon::PruneFilters::from_filters(filters);
        filters.validate().map_err(api_error)?;
        let until = filters
            .until(std::time::SystemTime::now())
            .map_err(api_error)?;
        let mut deleted = Vec::new();
        for net in self.daemon().networks().networks() {
            if net.is_predefined() || self.daemon().network_in_use(&net) {
                continue;
            }
            if !filters.match_labels(Some(&net.labels)) {
                continue;
            }
            if let Some(until) = until {
                let created = humantime::parse_rfc3339_weak(&net.created).ok();
                if created.is_some_and(|c| c >= until) {
                    continue;
                }
            }
            if self.network_remove(&net.id).await.is_ok() {
                deleted.push(net.name.clone());
            }
        }
        Ok(NetworkPruneReport {
            networks_deleted: deleted,
        })
    }

    async fn network_connect(&self, id: &str, req: NetworkConnectRequest) -> Result<(), ApiError> {
        self.daemon()
            .network_connect(id, &req.container, req.endpoint_config.unwrap_or_default())
            .await
            .map_err(api_error)
    }

    async fn network_disconnect(
        &self,
        id: &str,
        req: NetworkDisconnectRequest,
    ) -> Result<(), ApiError> {
        self.daemon()
            .network_disconnect(id, &req.container, req.force)
            .await
            .map_err(api_error)
    }
}
