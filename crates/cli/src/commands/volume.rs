//! `volume ls|create|rm|inspect|prune` (docker/cli `cli/command/volume`):
//! Docker's flags, calling the Engine API, printing what Docker prints.

use std::collections::BTreeMap;

use berth_api::types::volume::{Volume, VolumeCreateRequest};
use berth_client::Client;
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use crate::commands::prompt::confirm;
use crate::commands::ps::parse_filters;
use crate::errors::{CliError, CmdResult};
use crate::format::output::rows as render_with_header;
use crate::format::units::human_size;
use crate::opts::parse;
use crate::stdio::Stdio;

/// `volume ...`.
#[derive(Debug, Subcommand)]
pub enum VolumeCommand {
    /// Create a volume
    Create(VolumeCreateArgs),
    /// Display detailed information on one or more volumes
    Inspect(VolumeInspectArgs),
    /// List volumes
    #[command(visible_alias = "list")]
    Ls(VolumeLsArgs),
    /// Remove all unused local volumes
    Prune(VolumePruneArgs),
    /// Remove one or more volumes
    #[command(visible_alias = "remove")]
    Rm(VolumeRmArgs),
}

/// `volume create`.
#[derive(Debug, Clone, Args)]
pub struct VolumeCreateArgs {
    /// Specify volume driver name
    #[arg(short = 'd', long, default_value = "local", value_name = "string")]
    pub driver: String,
    /// Set metadata for a volume
    #[arg(long, value_name = "list")]
    pub label: Vec<String>,
    /// Specify volume name
    #[arg(long, value_name = "string")]
    pub name: Option<String>,
    /// Set driver specific options
    #[arg(short = 'o', long = "opt", value_name = "map")]
    pub opt: Vec<String>,
    /// [VOLUME]
    #[arg(value_name = "VOLUME")]
    pub volume: Option<String>,
}

/// `volume inspect`.
#[derive(Debug, Clone, Args)]
pub struct VolumeInspectArgs {
    /// Format output using a custom template
    #[arg(short = 'f', long, value_name = "string")]
    pub format: Option<String>,
    /// VOLUME [VOLUME...]
    #[arg(value_name = "VOLUME", required = true)]
    pub volumes: Vec<String>,
}

/// `volume ls`.
#[derive(Debug, Clone, Args)]
pub struct VolumeLsArgs {
    /// Provide filter values (e.g. "dangling=true")
    #[arg(short = 'f', long = "filter", value_name = "filter")]
    pub filter: Vec<String>,
    /// Format output using a custom template
    #[arg(long, value_name = "string")]
    pub format: Option<String>,
    /// Only display volume names
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// `volume prune`.
#[derive(Debug, Clone, Args)]
pub struct VolumePruneArgs {
    /// Remove all unused volumes, not just anonymous ones
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Provide filter values (e.g. "label=<label>")
    #[arg(long = "filter", value_name = "filter")]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    pub force: bool,
}

/// `volume rm`.
#[derive(Debug, Clone, Args)]
pub struct VolumeRmArgs {
    /// Force the removal of one or more volumes
    #[arg(short = 'f', long)]
    pub force: bool,
    /// VOLUME [VOLUME...]
    #[arg(value_name = "VOLUME", required = true)]
    pub volumes: Vec<String>,
}

/// Runs a `volume` subcommand.
pub async fn volume(client: &Client, command: &VolumeCommand, io: &mut Stdio) -> CmdResult {
    match command {
        VolumeCommand::Create(a) => create(client, a, io).await,
        VolumeCommand::Inspect(a) => crate::commands::inspect::volume_inspect(client, a, io).await,
        VolumeCommand::Ls(a) => ls(client, a, io).await,
        VolumeCommand::Prune(a) => prune(client, a, io).await,
        VolumeCommand::Rm(a) => rm(client, a, io).await,
    }
}

async fn create(client: &Client, args: &VolumeCreateArgs, io: &mut Stdio) -> CmdResult {
    let name =
        match (&args.name, &args.volume) {
            (Some(n), Some(v)) if n != v => return Err(CliError::msg(
                "conflicting options: either specify --name or provide positional arg, not both",
            )),
            (Some(n), _) | (None, Some(n)) => n.clone(),
            (None, None) => String::new(),
        };
    let labels: BTreeMap<String, String> = args.label.iter().map(|l| parse::label(l)).collect();
    let req = VolumeCreateRequest {
        name,
        driver: args.driver.clone(),
        driver_opts: parse::key_values("--opt", &args.opt)?,
        labels,
    };
    let v = client.volume_create(&req).await?;
    io.out(&format!("{}\n", v.name)).await;
    Ok(0)
}

async fn ls(client: &Client, args: &VolumeLsArgs, io: &mut Stdio) -> CmdResult {
    let filters = parse_filters(&args.filter)?;
    let answer = client.volume_list(&filters).await?;
    let rows: Vec<Value> = answer.volumes.iter().map(ls_row).collect();
    let format = match (args.format.as_deref(), args.quiet) {
        (Some(f), _) if !f.is_empty() => f.to_string(),
        (_, true) => "{{.Name}}".into(),
        _ => "table {{.Driver}}\t{{.Name}}".into(),
    };
    let header = json!({"Driver": "DRIVER", "Name": "VOLUME NAME", "Scope": "SCOPE",
        "Mountpoint": "MOUNTPOINT", "Labels": "LABELS", "Links": "LINKS", "Size": "SIZE"});
    io.out(&render_with_header(&format, &header, &rows)?).await;
    Ok(0)
}

/// One `volume ls` row: docker/cli's volume formatter fields, with
/// `Labels` as `k=v,...` and `Links`/`Size` as `N/A` (no usage data in a
/// list answer).
fn ls_row(v: &Volume) -> Value {
    let labels = v
        .labels
        .iter()
        .flatten()
        .map(|(k, val)| format!("{k}={val}"))
        .collect::<Vec<_>>()
        .join(",");
    json!({"Driver": v.driver, "Name": v.name, "Scope": v.scope,
        "Mountpoint": v.mountpoint, "Labels": labels, "Links": "N/A", "Size": "N/A"})
}

async fn prune(client: &Client, args: &VolumePruneArgs, io: &mut Stdio) -> CmdResult {
    let mut filters = parse_filters(&args.filter)?;
    let warning = if args.all {
        filters.add("all", "true");
        "WARNING! This will remove all local volumes not used by at least one container."
    } else {
        "WARNING! This will remove anonymous local volumes not used by at least one container."
    };
    if !args.force
        && !confirm(
            io,
            &format!("{warning}\nAre you sure you want to continue?"),
        )
        .await
    {
        return Ok(0);
    }
    let report = client.volumes_prune(&filters).await?;
    let mut out = String::new();
    if !report.volumes_deleted.is_empty() {
        out.push_str("Deleted Volumes:\n");
        for v in &report.volumes_deleted {
            out.push_str(v);
            out.push('\n');
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "Total reclaimed space: {}\n",
        human_size(report.space_reclaimed as f64)
    ));
    io.out(&out).await;
    Ok(0)
}

async fn rm(client: &Client, args: &VolumeRmArgs, io: &mut Stdio) -> CmdResult {
    let mut errors = Vec::new();
    for name in &args.volumes {
        match client.volume_remove(name, args.force).await {
            Ok(()) => io.out(&format!("{name}\n")).await,
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() {
        Ok(0)
    } else {
        Err(CliError::msg(errors.join("\n")))
    }
}
