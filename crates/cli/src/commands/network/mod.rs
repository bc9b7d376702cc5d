//! `network ls|create|rm|inspect|connect|disconnect|prune` (docker/cli
//! `cli/command/network`): Docker's flags, requests and output. The
//! commands talk to the daemon through [`NetworkApi`] so that their
//! output can be tested over a fake.

mod args;
mod create;
mod ls;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use berth_api::types::container::{EndpointIpamConfig, EndpointSettings};
use berth_api::types::filters::Filters;
use berth_api::types::network::{
    NetworkCreateRequest, NetworkCreateResponse, NetworkPruneReport, NetworkResource,
};
use berth_client::{Client, ClientError};

pub use args::{
    NetworkCommand, NetworkConnectArgs, NetworkCreateArgs, NetworkDisconnectArgs,
    NetworkInspectArgs, NetworkLsArgs, NetworkPruneArgs, NetworkRmArgs,
};
pub use create::{consolidate_ipam, create_request};
pub use ls::{go_time_string, natural_cmp};

use crate::commands::prompt::confirm;
use crate::commands::ps::parse_filters;
use crate::errors::{CliError, CmdResult};
use crate::stdio::Stdio;

/// What `network prune` asks before it removes anything.
pub const PRUNE_WARNING: &str = "WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?";

/// The daemon calls the network commands make (the client's, or a fake).
#[allow(async_fn_in_trait)]
pub trait NetworkApi {
    /// `POST /networks/create`.
    async fn create(
        &self,
        req: &NetworkCreateRequest,
    ) -> Result<NetworkCreateResponse, ClientError>;
    /// `GET /networks?filters=`.
    async fn list(&self, filters: &Filters) -> Result<Vec<NetworkResource>, ClientError>;
    /// `DELETE /networks/{id}`.
    async fn remove(&self, id: &str) -> Result<(), ClientError>;
    /// `POST /networks/prune?filters=`.
    async fn prune(&self, filters: &Filters) -> Result<NetworkPruneReport, ClientError>;
    /// `POST /networks/{id}/connect`.
    async fn connect(
        &self,
        id: &str,
        container: &str,
        config: &EndpointSettings,
    ) -> Result<(), ClientError>;
    /// `POST /networks/{id}/disconnect`.
    async fn disconnect(&self, id: &str, container: &str, force: bool) -> Result<(), ClientError>;
}

impl NetworkApi for Client {
    async fn create(
        &self,
        req: &NetworkCreateRequest,
    ) -> Result<NetworkCreateResponse, ClientError> {
        self.network_create(req).await
    }
    async fn list(&self, filters: &Filters) -> Result<Vec<NetworkResource>, ClientError> {
        self.network_list(filters).await
    }
    async fn remove(&self, id: &str) -> Result<(), ClientError> {
        self.network_remove(id).await
    }
    async fn prune(&self, filters: &Filters) -> Result<NetworkPruneReport, ClientError> {
        self.networks_prune(filters).await
    }
    async fn connect(
        &self,
        id: &str,
        container: &str,
        config: &EndpointSettings,
    ) -> Result<(), ClientError> {
        self.network_connect(id, container, Some(config)).await
    }
    async fn disconnect(&self, id: &str, container: &str, force: bool) -> Result<(), ClientError> {
        self.network_disconnect(id, container, force).await
    }
}

/// Runs a `network` subcommand.
pub async fn network(client: &Client, command: &NetworkCommand, io: &mut Stdio) -> CmdResult {
    match command {
        NetworkCommand::Inspect(a) => {
            crate::commands::inspect::network_inspect(client, a, io).await
        }
        other => run(client, other, io).await,
    }
}

/// Runs every subcommand but `inspect` (which `commands::inspect` owns)
/// over `api`.
pub async fn run(api: &impl NetworkApi, command: &NetworkCommand, io: &mut Stdio) -> CmdResult {
    match command {
        NetworkCommand::Connect(a) => connect(api, a).await,
        NetworkCommand::Create(a) => {
            let created = api.create(&create_request(a)?).await?;
            io.out(&format!("{}\n", created.id)).await;
            Ok(0)
        }
        NetworkCommand::Disconnect(a) => {
            api.disconnect(&a.network, &a.container, a.force).await?;
            Ok(0)
        }
        NetworkCommand::Inspect(_) => Err(CliError::msg("network inspect needs the client")),
        NetworkCommand::Ls(a) => {
            let networks = api.list(&parse_filters(&a.filter)?).await?;
            io.out(&ls::render(a, networks)?).await;
            Ok(0)
        }
        NetworkCommand::Prune(a) => prune(api, a, io).await,
        NetworkCommand::Rm(a) => rm(api, a, io).await,
    }
}

/// The endpoint `network connect` asks for, as docker/cli builds it
/// (`IPAMConfig` always present; empty lists and maps as Docker sends
/// them).
pub fn endpoint_config(args: &NetworkConnectArgs) -> Result<EndpointSettings, CliError> {
    for l in &args.link {
        validate_link(l).map_err(|e| {
            CliError::msg(format!("invalid argument \"{l}\" for \"--link\" flag: {e}"))
        })?;
    }
    Ok(EndpointSettings {
        ipam_config: Some(EndpointIpamConfig {
            ipv4_address: args.ip.clone().unwrap_or_default(),
            ipv6_address: args.ip6.clone().unwrap_or_default(),
            link_local_ips: (!args.link_local_ip.is_empty()).then(|| args.link_local_ip.clone()),
        }),
        links: (!args.link.is_empty()).then(|| args.link.clone()),
        aliases: Some(args.alias.clone()),
        driver_opts: Some(driver_opts(&args.driver_opt)?),
        gw_priority: args.gw_priority,
        ..EndpointSettings::default()
    })
}

/// docker/cli's `convertDriverOpt`: `key=value`, both trimmed, the key
/// required.
fn driver_opts(opts: &[String]) -> Result<BTreeMap<String, String>, CliError> {
    let mut out = BTreeMap::new();
    for o in opts {
        let (k, v) = o.split_once('=').ok_or_else(bad_driver_opt)?;
        let k = k.trim();
        if k.is_empty() {
            return Err(bad_driver_opt());
        }
        out.insert(k.to_string(), v.trim().to_string());
    }
    Ok(out)
}

fn bad_driver_opt() -> CliError {
    CliError::msg("invalid key/value pair format in driver options")
}

/// `opts.ValidateLink`: `name` or `name:alias`.
fn validate_link(l: &str) -> Result<(), String> {
    if l.is_empty() {
        return Err("empty string specified for links".into());
    }
    if l.split(':').count() > 2 {
        return Err(format!("bad format for links: {l}"));
    }
    Ok(())
}

async fn connect(api: &impl NetworkApi, args: &NetworkConnectArgs) -> CmdResult {
    let config = endpoint_config(args)?;
    api.connect(&args.network, &args.container, &config).await?;
    Ok(0)
}

/// `network prune`: asks first unless `-f` (a refusal exits 0, as
/// Docker's cancellation), then lists what went; Docker prints the list
/// with `Println`, hence the blank line after it.
async fn prune(api: &impl NetworkApi, args: &NetworkPruneArgs, io: &mut Stdio) -> CmdResult {
    let filters = parse_filters(&args.filter)?;
    if !args.force && !confirm(io, PRUNE_WARNING).await {
        return Ok(0);
    }
    let report = api.prune(&filters).await?;
    io.out(&prune_text(&report)).await;
    Ok(0)
}

/// What `network prune` prints for `report` (nothing when nothing went).
pub fn prune_text(report: &NetworkPruneReport) -> String {
    if report.networks_deleted.is_empty() {
        return String::new();
    }
    let mut out = String::from("Deleted Networks:\n");
    for name in &report.networks_deleted {
        out.push_str(name);
        out.push('\n');
    }
    out.push('\n');
    out
}

/// `network rm`: each name in turn; a success prints the name, a failure
/// prints the daemon's error at once and the command exits 1 at the end
/// (with `-f`, a missing network is no failure).
async fn rm(api: &impl NetworkApi, args: &NetworkRmArgs, io: &mut Stdio) -> CmdResult {
    let mut status = 0;
    for name in &args.networks {
        match api.remove(name).await {
            Ok(()) => io.out(&format!("{name}\n")).await,
            Err(e) if args.force && e.status() == Some(404) => {}
            Err(e) => {
                io.err(&format!("{e}\n")).await;
                status = 1;
            }
        }
    }
    if status == 0 {
        Ok(0)
    } else {
        Err(CliError::status(status))
    }
}
