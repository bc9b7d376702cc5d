//! `berth-runc`: a thin CLI over berth-runtime that accepts runc's commands
//! and flags, so anything that drives runc can drive it.

mod commands;
mod logging;
mod signals;
mod tty;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// The runc-compatible command line.
#[derive(Parser, Debug)]
#[command(
    name = "berth-runc",
    version,
    about = "Berth's OCI runtime (runc-compatible CLI)"
)]
pub struct Cli {
    /// Root directory for container state.
    #[arg(long, global = true, default_value = "/run/berth-runc")]
    root: PathBuf,
    /// Also write logs to this file.
    #[arg(long, global = true)]
    log: Option<PathBuf>,
    /// Log format: text or json.
    #[arg(long = "log-format", global = true, value_enum, default_value = "text")]
    log_format: LogFormat,
    /// Log debug messages.
    #[arg(long, global = true)]
    debug: bool,
    /// Use systemd's cgroup driver (not supported).
    #[arg(long = "systemd-cgroup", global = true)]
    systemd_cgroup: bool,
    #[command(subcommand)]
    command: Command,
}

/// The `--log-format` values.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LogFormat {
    /// logfmt-like text lines.
    Text,
    /// One JSON object a line (what containerd parses).
    Json,
}

/// Table or JSON output for `list` and `ps`.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum OutputFormat {
    /// Human-readable table.
    Table,
    /// JSON.
    Json,
}

/// runc's subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a new specification file (config.json).
    Spec {
        /// Where to write config.json.
        #[arg(short, long, default_value = ".")]
        bundle: PathBuf,
        /// Generate a rootless spec (not supported).
        #[arg(long)]
        rootless: bool,
    },
    /// Create a container; it waits for `start`.
    Create(commands::CreateArgs),
    /// Start a created container.
    Start {
        /// The container id.
        id: String,
    },
    /// Create and start a container, and wait for it (exits with its code).
    Run(commands::RunArgs),
    /// Print the container's OCI state.
    State {
        /// The container id.
        id: String,
    },
    /// Send a signal to the container's init (default SIGTERM).
    Kill {
        /// The container id.
        id: String,
        /// Signal name or number.
        #[arg(default_value = "SIGTERM")]
        signal: String,
        /// Signal every process in the container.
        #[arg(short, long)]
        all: bool,
    },
    /// Delete a container and everything the runtime made for it.
    Delete {
        /// The container id.
        id: String,
        /// Kill the container first if it is still running.
        #[arg(short, long)]
        force: bool,
    },
    /// Run a new process in a running container.
    Exec(commands::ExecArgs),
    /// Freeze every process of the container.
    Pause {
        /// The container id.
        id: String,
    },
    /// Thaw a paused container.
    Resume {
        /// The container id.
        id: String,
    },
    /// List the container's processes.
    Ps {
        /// The container id.
        id: String,
        /// Output format.
        #[arg(short, long, value_enum, default_value = "table")]
        format: OutputFormat,
        /// Arguments for ps(1) (default -ef).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        ps_args: Vec<String>,
    },
    /// List containers.
    List {
        /// Output format.
        #[arg(short, long, value_enum, default_value = "table")]
        format: OutputFormat,
        /// Print only ids.
        #[arg(short, long)]
        quiet: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.log.as_deref(), cli.log_format, cli.debug);
    tracing::debug!(command = ?cli.command, "berth-runc starting");
    if cli.systemd_cgroup {
        return fail(
            "--systemd-cgroup is not supported: berth-runc manages cgroups through cgroupfs".into(),
        );
    }
    match commands::dispatch(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => fail(e.to_string()),
    }
}

fn fail(message: String) -> ExitCode {
    tracing::error!("{message}");
    eprintln!("berth-runc: {message}");
    ExitCode::FAILURE
}
