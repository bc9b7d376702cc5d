//! `network ls|create|rm|inspect|connect|disconnect|prune` (docker/cli
//! `cli/command/network`): Docker's flags, calling the Engine API.
//! Berth's daemon has no networks yet and answers every call with 501,
//! which these commands print as `Error response from daemon: networks
//! are not implemented yet in Berth` (status 1); the success paths print
//! what Docker prints.

use std::collections::BTreeMap;

use berth_client::Client;
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use crate::commands::prompt::confirm;
use crate::commands::ps::{parse_filters, short_id};
use crate::errors::{CliError, CmdResult};
use crate::format::output::rows as render_with_header;
use crate::opts::parse;
use crate::stdio::Stdio;

/// `network ...`.
#[derive(Debug, Subcommand)]
pub enum NetworkCommand {
    /// Connect a container to a network
    Connect(NetworkConnectArgs),
    /// Create a network
    Create(NetworkCreateArgs),
    /// Disconnect a container from a network
    Disconnect(NetworkDisconnectArgs),
    /// Display detailed information on one or more networks
    Inspect(NetworkInspectArgs),
    /// List networks
    #[command(visible_alias = "list")]
    Ls(NetworkLsArgs),
    /// Remove all unused networks
    Prune(NetworkPruneArgs),
    /// Remove one or more networks
    #[command(visible_alias = "remove")]
    Rm(NetworkRmArgs),
}

/// `network connect`.
#[derive(Debug, Clone, Args)]
pub struct NetworkConnectArgs {
    /// Add network-scoped alias for the container
    #[arg(long, value_name = "strings")]
    pub alias: Vec<String>,
    /// driver options for the network
    #[arg(long = "driver-opt", value_name = "strings")]
    pub driver_opt: Vec<String>,
    /// IPv4 address (e.g., "172.30.100.104")
    #[arg(long, value_name = "string")]
    pub ip: Option<String>,
    /// IPv6 address (e.g., "2001:db8::33")
    #[arg(long, value_name = "string")]
    pub ip6: Option<String>,
    /// Add link to another container
    #[arg(long, value_name = "list")]
    pub link: Vec<String>,
    /// Add a link-local address for the container
    #[arg(long = "link-local-ip", value_name = "strings")]
    pub link_local_ip: Vec<String>,
    /// NETWORK
    #[arg(value_name = "NETWORK")]
    pub network: String,
    /// CONTAINER
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

/// `network create`.
#[derive(Debug, Clone, Args)]
pub struct NetworkCreateArgs {
    /// Enable manual container attachment
    #[arg(long)]
    pub attachable: bool,
    /// Auxiliary IPv4 or IPv6 addresses used by Network driver
    #[arg(long = "aux-address", value_name = "map")]
    pub aux_address: Vec<String>,
    /// Driver to manage the Network
    #[arg(short = 'd', long, default_value = "bridge", value_name = "string")]
    pub driver: String,
    /// IPv4 or IPv6 Gateway for the master subnet
    #[arg(long, value_name = "strings")]
    pub gateway: Vec<String>,
    /// Restrict external access to the network
    #[arg(long)]
    pub internal: bool,
    /// Allocate container ip from a sub-range
    #[arg(long = "ip-range", value_name = "strings")]
    pub ip_range: Vec<String>,
    /// IP Address Management Driver
    #[arg(long = "ipam-driver", default_value = "default", value_name = "string")]
    pub ipam_driver: String,
    /// Set IPAM driver specific options
    #[arg(long = "ipam-opt", value_name = "map")]
    pub ipam_opt: Vec<String>,
    /// Enable or disable IPv6 networking
    #[arg(long)]
    pub ipv6: bool,
    /// Set metadata on a network
    #[arg(long, value_name = "list")]
    pub label: Vec<String>,
    /// Set driver specific options
    #[arg(short = 'o', long = "opt", value_name = "map")]
    pub opt: Vec<String>,
    /// Control the network's scope
    #[arg(long, value_name = "string")]
    pub scope: Option<String>,
    /// Subnet in CIDR format that represents a network segment
    #[arg(long, value_name = "strings")]
    pub subnet: Vec<String>,
    /// NETWORK
    #[arg(value_name = "NETWORK")]
    pub name: String,
}

/// `network disconnect`.
#[derive(Debug, Clone, Args)]
pub struct NetworkDisconnectArgs {
    /// Force the container to disconnect from a network
    #[arg(short = 'f', long)]
    pub force: bool,
    /// NETWORK
    #[arg(value_name = "NETWORK")]
    pub network: String,
    /// CONTAINER
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

/// `network inspect`.
#[derive(Debug, Clone, Args)]
pub struct NetworkInspectArgs {
    /// Format output using a custom template
    #[arg(short = 'f', long, value_name = "string")]
    pub format: Option<String>,
    /// Verbose output for diagnostics
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// NETWORK [NETWORK...]
    #[arg(value_name = "NETWORK", required = true)]
    pub networks: Vec<String>,
}

/// `network ls`.
#[derive(Debug, Clone, Args)]
pub struct NetworkLsArgs {
    /// Provide filter values (e.g. "driver=bridge")
    #[arg(short = 'f', long = "filter", value_name = "filter")]
    pub filter: Vec<String>,
    /// Format output using a custom template
    #[arg(long, value_name = "string")]
    pub format: Option<String>,
    /// Do not truncate the output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Only display network IDs
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// `network prune`.
#[derive(Debug, Clone, Args)]
pub struct NetworkPruneArgs {
    /// Provide filter values (e.g. "until=<timestamp>")
    #[arg(long = "filter", value_name = "filter")]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    pub force: bool,
}

/// `network rm`.
#[derive(Debug, Clone, Args)]
pub struct NetworkRmArgs {
    /// Do not error if the network does not exist
    #[arg(short = 'f', long)]
    pub force: bool,
    /// NETWORK [NETWORK...]
    #[arg(value_name = "NETWORK", required = true)]
    pub networks: Vec<String>,
}

/// Runs a `network` subcommand.
pub async fn network(client: &Client, command: &NetworkCommand, io: &mut Stdio) -> CmdResult {
    match command {
        NetworkCommand::Connect(a) => connect(client, a).await,
        NetworkCommand::Create(a) => create(client, a, io).await,
        NetworkCommand::Disconnect(a) => disconnect(client, a).await,
        NetworkCommand::Inspect(a) => {
            crate::commands::inspect::network_inspect(client, a, io).await
        }
        NetworkCommand::Ls(a) => ls(client, a, io).await,
        NetworkCommand::Prune(a) => prune(client, a, io).await,
        NetworkCommand::Rm(a) => rm(client, a, io).await,
    }
}

async fn connect(client: &Client, args: &NetworkConnectArgs) -> CmdResult {
    let body = json!({
        "Container": args.container,
        "EndpointConfig": {
            "IPAMConfig": {
                "IPv4Address": args.ip.clone().unwrap_or_default(),
                "IPv6Address": args.ip6.clone().unwrap_or_default(),
                "LinkLocalIPs": args.link_local_ip,
            },
            "Links": args.link,
            "Aliases": args.alias,
            "DriverOpts": parse::key_values("--driver-opt", &args.driver_opt)?,
        },
    });
    client.network_connect(&args.network, &body).await?;
    Ok(0)
}

async fn create(client: &Client, args: &NetworkCreateArgs, io: &mut Stdio) -> CmdResult {
    // Docker pairs each --subnet with the --ip-range and --gateway given
    // after it; one pool per subnet is what the daemon needs to see.
    let pools: Vec<Value> = args
        .subnet
        .iter()
        .enumerate()
        .map(|(i, subnet)| {
            json!({
                "Subnet": subnet,
                "IPRange": args.ip_range.get(i).cloned().unwrap_or_default(),
                "Gateway": args.gateway.get(i).cloned().unwrap_or_default(),
                "AuxiliaryAddresses": parse::key_values("--aux-address", &args.aux_address).unwrap_or_default(),
            })
        })
        .collect();
    let labels: BTreeMap<String, String> = args.label.iter().map(|l| parse::label(l)).collect();
    let body = json!({
        "Name": args.name,
        "Driver": args.driver,
        "Scope": args.scope.clone().unwrap_or_default(),
        "EnableIPv6": args.ipv6,
        "IPAM": {
            "Driver": args.ipam_driver,
            "Config": pools,
            "Options": parse::key_values("--ipam-opt", &args.ipam_opt)?,
        },
        "Internal": args.internal,
        "Attachable": args.attachable,
        "Options": parse::key_values("--opt", &args.opt)?,
        "Labels": labels,
    });
    let created = client.network_create(&body).await?;
    io.out(&format!("{}\n", created["Id"].as_str().unwrap_or_default()))
        .await;
    Ok(0)
}

async fn disconnect(client: &Client, args: &NetworkDisconnectArgs) -> CmdResult {
    let body = json!({"Container": args.container, "Force": args.force});
    client.network_disconnect(&args.network, &body).await?;
    Ok(0)
}

async fn ls(client: &Client, args: &NetworkLsArgs, io: &mut Stdio) -> CmdResult {
    let filters = parse_filters(&args.filter)?;
    let rows: Vec<Value> = client
        .network_list(&filters)
        .await?
        .into_iter()
        .map(|n| {
            let id = n["Id"].as_str().unwrap_or_default();
            let id = if args.no_trunc {
                id.to_string()
            } else {
                short_id(id)
            };
            json!({"ID": id, "Name": n["Name"], "Driver": n["Driver"], "Scope": n["Scope"]})
        })
        .collect();
    let format = match (args.format.as_deref(), args.quiet) {
        (Some(f), _) if !f.is_empty() => f.to_string(),
        (_, true) => "{{.ID}}".into(),
        _ => "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}".into(),
    };
    let header = json!({"ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE"});
    io.out(&render_with_header(&format, &header, &rows)?).await;
    Ok(0)
}

async fn prune(client: &Client, args: &NetworkPruneArgs, io: &mut Stdio) -> CmdResult {
    let filters = parse_filters(&args.filter)?;
    if !args.force
        && !confirm(
            io,
            "WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?",
        )
        .await
    {
        return Ok(0);
    }
    let report = client.networks_prune(&filters).await?;
    if let Some(deleted) = report["NetworksDeleted"]
        .as_array()
        .filter(|d| !d.is_empty())
    {
        let mut out = String::from("Deleted Networks:\n");
        for n in deleted {
            out.push_str(n.as_str().unwrap_or_default());
            out.push('\n');
        }
        io.out(&out).await;
    }
    Ok(0)
}

async fn rm(client: &Client, args: &NetworkRmArgs, io: &mut Stdio) -> CmdResult {
    let mut errors = Vec::new();
    for name in &args.networks {
        match client.network_remove(name).await {
            Ok(()) => io.out(&format!("{name}\n")).await,
            Err(e) if args.force && e.status() == Some(404) => {}
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() {
        Ok(0)
    } else {
        Err(CliError::msg(errors.join("\n")))
    }
}
