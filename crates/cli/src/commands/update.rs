//! `update` (docker/cli `cli/command/container/update.go`): new resource
//! limits and restart policy for one or more containers.

use berth_api::types::container::{ContainerUpdateRequest, RestartPolicy};
use berth_client::Client;
use clap::Args;

use crate::errors::{CliError, CmdResult};
use crate::format::units::ram_in_bytes;
use crate::opts::parse;
use crate::stdio::Stdio;

/// `update [OPTIONS] CONTAINER [CONTAINER...]`.
#[derive(Debug, Clone, Default, Args)]
pub struct UpdateArgs {
    /// Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)
    #[arg(long = "blkio-weight", value_name = "uint16")]
    pub blkio_weight: Option<u16>,
    /// Limit CPU CFS (Completely Fair Scheduler) period
    #[arg(long = "cpu-period", value_name = "int", allow_hyphen_values = true)]
    pub cpu_period: Option<i64>,
    /// Limit CPU CFS (Completely Fair Scheduler) quota
    #[arg(long = "cpu-quota", value_name = "int", allow_hyphen_values = true)]
    pub cpu_quota: Option<i64>,
    /// CPU shares (relative weight)
    #[arg(
        short = 'c',
        long = "cpu-shares",
        value_name = "int",
        allow_hyphen_values = true
    )]
    pub cpu_shares: Option<i64>,
    /// Number of CPUs
    #[arg(long, value_name = "decimal")]
    pub cpus: Option<String>,
    /// CPUs in which to allow execution (0-3, 0,1)
    #[arg(long = "cpuset-cpus", value_name = "string")]
    pub cpuset_cpus: Option<String>,
    /// MEMs in which to allow execution (0-3, 0,1)
    #[arg(long = "cpuset-mems", value_name = "string")]
    pub cpuset_mems: Option<String>,
    /// Memory limit
    #[arg(short = 'm', long, value_name = "bytes")]
    pub memory: Option<String>,
    /// Memory soft limit
    #[arg(long = "memory-reservation", value_name = "bytes")]
    pub memory_reservation: Option<String>,
    /// Swap limit equal to memory plus swap: -1 to enable unlimited swap
    #[arg(long = "memory-swap", value_name = "bytes", allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Tune container pids limit (set -1 for unlimited)
    #[arg(long = "pids-limit", value_name = "int", allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
    /// Restart policy to apply when a container exits
    #[arg(long, value_name = "string")]
    pub restart: Option<String>,
    /// CONTAINER [CONTAINER...]
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

/// pflag's message for a value that does not parse.
fn invalid(flag: &str, value: &str, why: impl std::fmt::Display) -> CliError {
    CliError::msg(format!(
        "invalid argument \"{value}\" for \"{flag}\" flag: {why}"
    ))
}

fn bytes(flag: &str, v: &Option<String>) -> Result<i64, CliError> {
    match v.as_deref() {
        None => Ok(0),
        Some(s) => ram_in_bytes(s).map_err(|e| invalid(flag, s, e)),
    }
}

/// The request body for the flags given (docker/cli `runUpdate`); no flag
/// at all is Docker's error.
pub fn update_request(args: &UpdateArgs) -> Result<ContainerUpdateRequest, CliError> {
    let any = args.blkio_weight.is_some()
        || args.cpu_period.is_some()
        || args.cpu_quota.is_some()
        || args.cpu_shares.is_some()
        || args.cpus.is_some()
        || args.cpuset_cpus.is_some()
        || args.cpuset_mems.is_some()
        || args.memory.is_some()
        || args.memory_reservation.is_some()
        || args.memory_swap.is_some()
        || args.pids_limit.is_some()
        || args.restart.is_some();
    if !any {
        return Err(CliError::msg(
            "you must provide one or more flags when using this command",
        ));
    }
    let restart_policy = match args.restart.as_deref() {
        None | Some("") => RestartPolicy::default(),
        Some(s) => {
            let (name, maximum_retry_count) = parse::restart_policy(s).map_err(CliError::msg)?;
            RestartPolicy {
                name,
                maximum_retry_count,
            }
        }
    };
    let memory_swap = match args.memory_swap.as_deref() {
        Some("-1") => -1,
        _ => bytes("--memory-swap", &args.memory_swap)?,
    };
    let nano_cpus = match &args.cpus {
        None => 0,
        Some(s) => parse::nano_cpus(s).map_err(|e| invalid("--cpus", s, e))?,
    };
    Ok(ContainerUpdateRequest {
        blkio_weight: args.blkio_weight.unwrap_or(0),
        cpu_shares: args.cpu_shares.unwrap_or(0),
        nano_cpus,
        cpu_period: args.cpu_period.unwrap_or(0),
        cpu_quota: args.cpu_quota.unwrap_or(0),
        cpuset_cpus: args.cpuset_cpus.clone().unwrap_or_default(),
        cpuset_mems: args.cpuset_mems.clone().unwrap_or_default(),
        memory: bytes("--memory", &args.memory)?,
        memory_swap,
        memory_reservation: bytes("--memory-reservation", &args.memory_reservation)?,
        pids_limit: args.pids_limit,
        restart_policy,
    })
}

/// `update`: prints each container updated, then the daemon's warnings,
/// then the errors (status 1 if any), as docker/cli does.
pub async fn update(client: &Client, args: &UpdateArgs, io: &mut Stdio) -> CmdResult {
    let request = update_request(args)?;
    let mut warnings = Vec::new();
    let mut errors = Vec::new();
    for name in &args.containers {
        match client.container_update(name, &request).await {
            Ok(r) => {
                io.out(&format!("{name}\n")).await;
                warnings.extend(r.warnings);
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    if !warnings.is_empty() {
        io.out(&format!("{}\n", warnings.join("\n"))).await;
    }
    if errors.is_empty() {
        Ok(0)
    } else {
        Err(CliError::msg(errors.join("\n")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        args: UpdateArgs,
    }

    fn parse(argv: &[&str]) -> Result<ContainerUpdateRequest, CliError> {
        let t = T::try_parse_from(std::iter::once("update").chain(argv.iter().copied())).unwrap();
        update_request(&t.args)
    }

    #[test]
    fn flags_become_dockers_body() {
        let r = parse(&[
            "-m",
            "64m",
            "--memory-swap",
            "-1",
            "--cpus",
            "1.5",
            "-c",
            "512",
            "--pids-limit",
            "-1",
            "--restart",
            "on-failure:3",
            "web",
        ])
        .unwrap();
        assert_eq!(r.memory, 64 << 20);
        assert_eq!(r.memory_swap, -1);
        assert_eq!(r.nano_cpus, 1_500_000_000);
        assert_eq!(r.cpu_shares, 512);
        assert_eq!(r.pids_limit, Some(-1));
        assert_eq!(r.restart_policy.name, "on-failure");
        assert_eq!(r.restart_policy.maximum_retry_count, 3);
        let body = serde_json::to_value(&r).unwrap();
        assert_eq!(body["Memory"], 64 << 20);
        assert_eq!(body["RestartPolicy"]["Name"], "on-failure");
        // Untouched: absent pids limit stays out of the body.
        let r = parse(&["--cpuset-cpus", "0", "web"]).unwrap();
        assert!(serde_json::to_value(&r).unwrap().get("PidsLimit").is_none());
    }

    #[test]
    fn errors_are_dockers() {
        assert_eq!(
            parse(&["web"]).unwrap_err().message.unwrap(),
            "you must provide one or more flags when using this command"
        );
        assert_eq!(
            parse(&["-m", "lots", "web"]).unwrap_err().message.unwrap(),
            "invalid argument \"lots\" for \"--memory\" flag: invalid size: 'lots'"
        );
        assert_eq!(
            parse(&["--restart", "sometimes", "web"])
                .unwrap_err()
                .message
                .unwrap(),
            "invalid restart policy format: unknown policy 'sometimes'"
        );
    }
}
