//! The command line grammar (clap derive): Docker's commands, flags and
//! help texts. The `commands` module runs what this parses.

use clap::{ArgAction, Args, Parser, Subcommand};

use crate::commands::df::DfArgs;
use crate::commands::diff::DiffArgs;
use crate::commands::export::ExportArgs;
use crate::commands::image::args::{
    HistoryArgs, ImageCommand, ImagesArgs, LoadArgs, PullArgs, RmiArgs, SaveArgs, TagArgs,
};
use crate::commands::network::NetworkCommand;
use crate::commands::system_prune::SystemPruneArgs;
use crate::commands::update::UpdateArgs;
use crate::commands::volume::VolumeCommand;
use crate::opts::ContainerOptions;

/// `berth [OPTIONS] COMMAND`.
#[derive(Debug, Parser)]
#[command(
    name = "berth",
    about = "A self-sufficient runtime for containers",
    version,
    disable_help_subcommand = true,
    subcommand_required = true,
    arg_required_else_help = true
)]
pub struct Cli {
    /// Daemon socket to connect to (unix:///path or tcp://host:port)
    #[arg(short = 'H', long = "host", global = true, value_name = "list")]
    pub host: Option<String>,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Every command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create and run a new container from an image
    Run(RunArgs),
    /// Create a new container
    Create(CreateArgs),
    /// Start one or more stopped containers
    Start(StartArgs),
    /// Stop one or more running containers
    Stop(StopArgs),
    /// Restart one or more containers
    Restart(StopArgs),
    /// Kill one or more running containers
    Kill(KillArgs),
    /// Remove one or more containers
    Rm(RmArgs),
    /// Block until one or more containers stop, then print their exit codes
    Wait(Targets),
    /// Pause all processes within one or more containers
    Pause(Targets),
    /// Unpause all processes within one or more containers
    Unpause(Targets),
    /// Rename a container
    Rename(RenameArgs),
    /// Fetch the logs of a container
    Logs(LogsArgs),
    /// Execute a command in a running container
    Exec(ExecArgs),
    /// Attach local standard input, output, and error streams to a running container
    Attach(AttachArgs),
    /// Display the running processes of a container
    Top(TopArgs),
    /// Copy files/folders between a container and the local filesystem
    Cp(CpArgs),
    /// Return low-level information on Berth objects
    Inspect(InspectArgs),
    /// List containers
    Ps(PsArgs),
    /// List port mappings or a specific mapping for the container
    Port(PortArgs),
    /// Display a live stream of container(s) resource usage statistics
    Stats(StatsArgs),
    /// Show the Berth version information
    Version(FormatArgs),
    /// Display system-wide information
    Info(FormatArgs),
    /// Get real time events from the server
    Events(EventsArgs),
    /// Manage containers
    #[command(subcommand)]
    Container(ContainerCommand),
    /// Manage Berth
    #[command(subcommand)]
    System(SystemCommand),
    // Images (flags in `commands::image::args`).
    /// Download an image from a registry
    Pull(PullArgs),
    /// List images
    Images(ImagesArgs),
    /// Remove one or more images
    Rmi(RmiArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(TagArgs),
    /// Show the history of an image
    History(HistoryArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    Save(SaveArgs),
    /// Load an image from a tar archive or STDIN
    Load(LoadArgs),
    /// Manage images
    #[command(subcommand)]
    Image(ImageCommand),
    /// Update configuration of one or more containers
    Update(UpdateArgs),
    /// Inspect changes to files or directories on a container's filesystem
    Diff(DiffArgs),
    /// Export a container's filesystem as a tar archive
    Export(ExportArgs),
    /// Manage volumes
    #[command(subcommand)]
    Volume(VolumeCommand),
    /// Manage networks
    #[command(subcommand)]
    Network(NetworkCommand),
}

/// `berth container ...`.
#[derive(Debug, Subcommand)]
pub enum ContainerCommand {
    /// Create and run a new container from an image
    Run(RunArgs),
    /// Create a new container
    Create(CreateArgs),
    /// Start one or more stopped containers
    Start(StartArgs),
    /// Stop one or more running containers
    Stop(StopArgs),
    /// Restart one or more containers
    Restart(StopArgs),
    /// Kill one or more running containers
    Kill(KillArgs),
    /// Remove one or more containers
    #[command(visible_alias = "remove")]
    Rm(RmArgs),
    /// Block until one or more containers stop, then print their exit codes
    Wait(Targets),
    /// Pause all processes within one or more containers
    Pause(Targets),
    /// Unpause all processes within one or more containers
    Unpause(Targets),
    /// Rename a container
    Rename(RenameArgs),
    /// Fetch the logs of a container
    Logs(LogsArgs),
    /// Execute a command in a running container
    Exec(ExecArgs),
    /// Attach local standard input, output, and error streams to a running container
    Attach(AttachArgs),
    /// Display the running processes of a container
    Top(TopArgs),
    /// Display detailed information on one or more containers
    Inspect(ContainerInspectArgs),
    /// List containers
    #[command(visible_aliases = ["ps", "list"])]
    Ls(PsArgs),
    /// List port mappings or a specific mapping for the container
    Port(PortArgs),
    /// Display a live stream of container(s) resource usage statistics
    Stats(StatsArgs),
    /// Remove all stopped containers
    Prune(PruneArgs),
    /// Update configuration of one or more containers
    Update(UpdateArgs),
    /// Inspect changes to files or directories on a container's filesystem
    Diff(DiffArgs),
    /// Export a container's filesystem as a tar archive
    Export(ExportArgs),
}

/// `berth system ...`.
#[derive(Debug, Subcommand)]
pub enum SystemCommand {
    /// Get real time events from the server
    Events(EventsArgs),
    /// Display system-wide information
    Info(FormatArgs),
    /// Show Berth disk usage
    Df(DfArgs),
    /// Remove unused data
    Prune(SystemPruneArgs),
}

/// `run`: the container flags plus the attach and detach ones.
#[derive(Debug, Clone, Args)]
#[command(disable_help_flag = true)]
pub struct RunArgs {
    /// Print usage
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,
    /// Run container in background and print container ID
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys", value_name = "string")]
    pub detach_keys: Option<String>,
    /// Proxy received signals to the process
    #[arg(long = "sig-proxy", default_value_t = true, action = ArgAction::Set, value_name = "bool")]
    pub sig_proxy: bool,
    /// The container flags.
    #[command(flatten)]
    pub options: ContainerOptions,
    /// IMAGE [COMMAND] [ARG...]
    #[arg(value_name = "IMAGE", required = true, trailing_var_arg = true, num_args = 1..)]
    pub args: Vec<String>,
}

/// `create`: the container flags.
#[derive(Debug, Clone, Args)]
#[command(disable_help_flag = true)]
pub struct CreateArgs {
    /// Print usage
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,
    /// The container flags.
    #[command(flatten)]
    pub options: ContainerOptions,
    /// IMAGE [COMMAND] [ARG...]
    #[arg(value_name = "IMAGE", required = true, trailing_var_arg = true, num_args = 1..)]
    pub args: Vec<String>,
}

/// One or more containers.
#[derive(Debug, Clone, Args)]
pub struct Targets {
    /// CONTAINER [CONTAINER...]
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

/// `start`.
#[derive(Debug, Clone, Args)]
pub struct StartArgs {
    /// Attach STDOUT/STDERR and forward signals
    #[arg(short = 'a', long)]
    pub attach: bool,
    /// Attach container's STDIN
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys", value_name = "string")]
    pub detach_keys: Option<String>,
    /// CONTAINER [CONTAINER...]
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

/// `stop` and `restart`.
#[derive(Debug, Clone, Args)]
pub struct StopArgs {
    /// Signal to send to the container
    #[arg(short = 's', long, value_name = "string")]
    pub signal: Option<String>,
    /// Seconds to wait before killing the container
    #[arg(
        short = 't',
        long = "time",
        visible_alias = "timeout",
        value_name = "int",
        allow_hyphen_values = true
    )]
    pub time: Option<i64>,
    /// CONTAINER [CONTAINER...]
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

/// `kill`.
#[derive(Debug, Clone, Args)]
pub struct KillArgs {
    /// Signal to send to the container
    #[arg(short = 's', long, value_name = "string")]
    pub signal: Option<String>,
    /// CONTAINER [CONTAINER...]
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

/// `rm`.
#[derive(Debug, Clone, Args)]
pub struct RmArgs {
    /// Force the removal of a running container (uses SIGKILL)
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Remove anonymous volumes associated with the container
    #[arg(short = 'v', long)]
    pub volumes: bool,
    /// Remove the specified link
    #[arg(short = 'l', long)]
    pub link: bool,
    /// CONTAINER [CONTAINER...]
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

/// `cp`.
#[derive(Debug, Clone, Args)]
pub struct CpArgs {
    /// Archive mode (copy all uid/gid information)
    #[arg(short = 'a', long = "archive")]
    pub archive: bool,
    /// Always follow symbol link in SRC_PATH
    #[arg(short = 'L', long = "follow-link")]
    pub follow_link: bool,
    /// SRC: CONTAINER:SRC_PATH or a local path
    #[arg(value_name = "SRC")]
    pub src: String,
    /// DEST: CONTAINER:DEST_PATH or a local path
    #[arg(value_name = "DEST")]
    pub dest: String,
}

/// `rename`.
#[derive(Debug, Clone, Args)]
pub struct RenameArgs {
    /// CONTAINER
    #[arg(value_name = "CONTAINER")]
    pub container: String,
    /// NEW_NAME
    #[arg(value_name = "NEW_NAME")]
    pub new_name: String,
}

/// `logs`.
#[derive(Debug, Clone, Args)]
pub struct LogsArgs {
    /// Follow log output
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Number of lines to show from the end of the logs
    #[arg(short = 'n', long, default_value = "all", value_name = "string")]
    pub tail: String,
    /// Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)
    #[arg(long, value_name = "string")]
    pub since: Option<String>,
    /// Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)
    #[arg(long, value_name = "string")]
    pub until: Option<String>,
    /// Show timestamps
    #[arg(short = 't', long)]
    pub timestamps: bool,
    /// Show extra details provided to logs
    #[arg(long)]
    pub details: bool,
    /// CONTAINER
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

/// `exec`.
#[derive(Debug, Clone, Args)]
pub struct ExecArgs {
    /// Detached mode: run command in the background
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Set environment variables
    #[arg(short = 'e', long = "env", value_name = "list")]
    pub env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long = "env-file", value_name = "list")]
    pub env_file: Vec<String>,
    /// Username or UID (format: "<name|uid>[:<group|gid>]")
    #[arg(short = 'u', long, value_name = "string")]
    pub user: Option<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long, value_name = "string")]
    pub workdir: Option<String>,
    /// Give extended privileges to the command
    #[arg(long)]
    pub privileged: bool,
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys", value_name = "string")]
    pub detach_keys: Option<String>,
    /// CONTAINER COMMAND [ARG...]
    #[arg(value_name = "CONTAINER COMMAND", required = true, trailing_var_arg = true, num_args = 2..)]
    pub args: Vec<String>,
}

/// `attach`.
#[derive(Debug, Clone, Args)]
pub struct AttachArgs {
    /// Do not attach STDIN
    #[arg(long = "no-stdin")]
    pub no_stdin: bool,
    /// Proxy all received signals to the process
    #[arg(long = "sig-proxy", default_value_t = true, action = ArgAction::Set, value_name = "bool")]
    pub sig_proxy: bool,
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys", value_name = "string")]
    pub detach_keys: Option<String>,
    /// CONTAINER
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

/// `top`.
#[derive(Debug, Clone, Args)]
pub struct TopArgs {
    /// CONTAINER
    #[arg(value_name = "CONTAINER")]
    pub container: String,
    /// [ps OPTIONS]
    #[arg(
        value_name = "ps OPTIONS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub ps_args: Vec<String>,
}

/// `inspect`.
#[derive(Debug, Clone, Args)]
pub struct InspectArgs {
    /// Format output using a custom template
    #[arg(short = 'f', long, value_name = "string")]
    pub format: Option<String>,
    /// Display total file sizes if the type is container
    #[arg(short = 's', long)]
    pub size: bool,
    /// Return JSON for specified type
    #[arg(long = "type", value_name = "string")]
    pub kind: Option<String>,
    /// NAME|ID [NAME|ID...]
    #[arg(value_name = "NAME|ID", required = true)]
    pub names: Vec<String>,
}

/// `container inspect`.
#[derive(Debug, Clone, Args)]
pub struct ContainerInspectArgs {
    /// Format output using a custom template
    #[arg(short = 'f', long, value_name = "string")]
    pub format: Option<String>,
    /// Display total file sizes
    #[arg(short = 's', long)]
    pub size: bool,
    /// CONTAINER [CONTAINER...]
    #[arg(value_name = "CONTAINER", required = true)]
    pub names: Vec<String>,
}

/// `ps`.
#[derive(Debug, Clone, Default, Args)]
pub struct PsArgs {
    /// Show all containers (default shows just running)
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Filter output based on conditions provided
    #[arg(short = 'f', long = "filter", value_name = "filter")]
    pub filter: Vec<String>,
    /// Format output using a custom template
    #[arg(long, value_name = "string")]
    pub format: Option<String>,
    /// Show n last created containers (includes all states)
    #[arg(short = 'n', long = "last", value_name = "int", default_value_t = -1, allow_hyphen_values = true)]
    pub last: i64,
    /// Show the latest created container (includes all states)
    #[arg(short = 'l', long)]
    pub latest: bool,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Only display container IDs
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Display total file sizes
    #[arg(short = 's', long)]
    pub size: bool,
}

/// `port`.
#[derive(Debug, Clone, Args)]
pub struct PortArgs {
    /// CONTAINER
    #[arg(value_name = "CONTAINER")]
    pub container: String,
    /// PRIVATE_PORT[/PROTO]
    #[arg(value_name = "PRIVATE_PORT[/PROTO]")]
    pub port: Option<String>,
}

/// `stats`.
#[derive(Debug, Clone, Args)]
pub struct StatsArgs {
    /// Show all containers (default shows just running)
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Disable streaming stats and only pull the first result
    #[arg(long = "no-stream")]
    pub no_stream: bool,
    /// Do not truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Format output using a custom template
    #[arg(long, value_name = "string")]
    pub format: Option<String>,
    /// [CONTAINER...]
    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

/// `--format` alone (`version`, `info`).
#[derive(Debug, Clone, Args)]
pub struct FormatArgs {
    /// Format output using a custom template
    #[arg(short = 'f', long, value_name = "string")]
    pub format: Option<String>,
}

/// `events`.
#[derive(Debug, Clone, Args)]
pub struct EventsArgs {
    /// Filter output based on conditions provided
    #[arg(short = 'f', long = "filter", value_name = "filter")]
    pub filter: Vec<String>,
    /// Format output using a custom template
    #[arg(long, value_name = "string")]
    pub format: Option<String>,
    /// Show all events created since timestamp
    #[arg(long, value_name = "string")]
    pub since: Option<String>,
    /// Stream events until this timestamp
    #[arg(long, value_name = "string")]
    pub until: Option<String>,
}

/// `container prune`.
#[derive(Debug, Clone, Args)]
pub struct PruneArgs {
    /// Provide filter values (e.g. "until=<timestamp>")
    #[arg(long = "filter", value_name = "filter")]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    pub force: bool,
}
