//! The image commands (docker/cli `cli/command/image`): `pull`, `images`
//! / `image ls`, `rmi` / `image rm`, `tag`, `image inspect`, `history`,
//! `image prune`, `save` and `load`, plus the image half of `inspect`.
//! One module per concern; [`args`] holds their flags.

pub mod args;
pub mod auth;
pub mod format;
pub mod history;
pub mod list;
pub mod prune;
pub mod pull;
pub mod remove;
pub mod transfer;

use berth_client::Client;

use crate::errors::CmdResult;
use crate::stdio::Stdio;
use args::ImageCommand;

/// Runs `berth image ...`.
pub async fn execute(client: &Client, command: ImageCommand, io: &mut Stdio) -> CmdResult {
    match command {
        ImageCommand::History(a) => history::history(client, &a, io).await,
        ImageCommand::Inspect(a) => crate::commands::inspect::image_inspect(client, &a, io).await,
        ImageCommand::Load(a) => transfer::load(client, &a, io).await,
        ImageCommand::Ls(a) => list::images(client, &a, io).await,
        ImageCommand::Prune(a) => prune::prune(client, &a, io).await,
        ImageCommand::Pull(a) => pull::pull(client, &a, io).await,
        ImageCommand::Rm(a) => remove::rmi(client, &a, io).await,
        ImageCommand::Save(a) => transfer::save(client, &a, io).await,
        ImageCommand::Tag(a) => remove::tag(client, &a, io).await,
    }
}
