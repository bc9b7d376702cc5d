//! The grammar of the image commands (docker/cli `cli/command/image`):
//! their flags and help texts, and `berth image ...`. Kept beside the
//! commands so that `cli.rs` only names them.

use clap::{ArgAction, Args, Subcommand};

/// `berth image ...`.
#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Show the history of an image
    History(HistoryArgs),
    /// Display detailed information on one or more images
    Inspect(ImageInspectArgs),
    /// Load an image from a tar archive or STDIN
    Load(LoadArgs),
    /// List images
    #[command(visible_aliases = ["images", "list"])]
    Ls(ImagesArgs),
    /// Remove unused images
    Prune(ImagePruneArgs),
    /// Download an image from a registry
    Pull(PullArgs),
    /// Remove one or more images
    #[command(visible_aliases = ["rmi", "remove"])]
    Rm(RmiArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    Save(SaveArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(TagArgs),
}

/// `pull`.
#[derive(Debug, Clone, Args)]
pub struct PullArgs {
    /// Skip image verification
    #[arg(
        long = "disable-content-trust",
        value_name = "bool",
        default_value_t = true,
        action = ArgAction::Set,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true"
    )]
    pub disable_content_trust: bool,
    /// Set platform if server is multi-platform capable
    #[arg(long, value_name = "string", env = "DOCKER_DEFAULT_PLATFORM")]
    pub platform: Option<String>,
    /// Suppress verbose output
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// NAME[:TAG|@DIGEST]
    #[arg(value_name = "NAME[:TAG|@DIGEST]")]
    pub name: String,
}

/// `images` / `image ls`.
#[derive(Debug, Clone, Default, Args)]
pub struct ImagesArgs {
    /// Show all images (default hides intermediate images)
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Show digests
    #[arg(long)]
    pub digests: bool,
    /// Filter output based on conditions provided
    #[arg(short = 'f', long = "filter", value_name = "filter")]
    pub filter: Vec<String>,
    /// Format output using a custom template
    #[arg(long, value_name = "string")]
    pub format: Option<String>,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Only show image IDs
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// [REPOSITORY[:TAG]]
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub reference: Option<String>,
}

/// `rmi` / `image rm`.
#[derive(Debug, Clone, Args)]
pub struct RmiArgs {
    /// Force removal of the image
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Do not delete untagged parents
    #[arg(long = "no-prune")]
    pub no_prune: bool,
    /// IMAGE [IMAGE...]
    #[arg(value_name = "IMAGE", required = true)]
    pub images: Vec<String>,
}

/// `tag`.
#[derive(Debug, Clone, Args)]
pub struct TagArgs {
    /// SOURCE_IMAGE[:TAG]
    #[arg(value_name = "SOURCE_IMAGE[:TAG]")]
    pub source: String,
    /// TARGET_IMAGE[:TAG]
    #[arg(value_name = "TARGET_IMAGE[:TAG]")]
    pub target: String,
}

/// `image inspect`.
#[derive(Debug, Clone, Args)]
pub struct ImageInspectArgs {
    /// Format output using a custom template
    #[arg(short = 'f', long, value_name = "string")]
    pub format: Option<String>,
    /// IMAGE [IMAGE...]
    #[arg(value_name = "IMAGE", required = true)]
    pub images: Vec<String>,
}

/// `history` / `image history`.
#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// Format output using a custom template
    #[arg(long, value_name = "string")]
    pub format: Option<String>,
    /// Print sizes and dates in human readable format (long form only:
    /// `-H` is the global `--host` here)
    #[arg(
        long,
        value_name = "bool",
        default_value_t = true,
        action = ArgAction::Set,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true"
    )]
    pub human: bool,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Only show image IDs
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// IMAGE
    #[arg(value_name = "IMAGE")]
    pub image: String,
}

/// `image prune`.
#[derive(Debug, Clone, Args)]
pub struct ImagePruneArgs {
    /// Remove all unused images, not just dangling ones
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Provide filter values (e.g. "until=<timestamp>")
    #[arg(long = "filter", value_name = "filter")]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    pub force: bool,
}

/// `save` / `image save`.
#[derive(Debug, Clone, Args)]
pub struct SaveArgs {
    /// Write to a file, instead of STDOUT
    #[arg(short = 'o', long, value_name = "string")]
    pub output: Option<String>,
    /// IMAGE [IMAGE...]
    #[arg(value_name = "IMAGE", required = true)]
    pub images: Vec<String>,
}

/// `load` / `image load`.
#[derive(Debug, Clone, Args)]
pub struct LoadArgs {
    /// Read from tar archive file, instead of STDIN
    #[arg(short = 'i', long, value_name = "string")]
    pub input: Option<String>,
    /// Suppress the load output
    #[arg(short = 'q', long)]
    pub quiet: bool,
}
