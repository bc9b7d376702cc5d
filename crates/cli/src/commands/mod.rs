//! Runs a parsed command line: one module per command group, each
//! command returning its exit status ([`crate::errors::CmdResult`]).

pub mod container;
pub mod cp;
pub mod df;
pub mod diff;
pub mod export;
pub mod image;
pub mod inspect;
pub mod network;
pub mod prompt;
pub mod ps;
pub mod run;
pub mod system;
pub mod system_prune;
pub mod update;
pub mod volume;

use berth_client::{Client, Host};

use crate::cli::{Cli, Command, ContainerCommand, SystemCommand};
use crate::errors::{CliError, CmdResult, RUN_ERROR};
use crate::stdio::Stdio;

/// The client for `-H` or the environment.
pub fn client_for(host: Option<&str>) -> Result<Client, CliError> {
    let host = match host {
        Some(h) => Host::parse(h),
        None => Host::from_env(),
    };
    host.map(Client::new)
        .map_err(|e| CliError::msg(e.to_string()))
}

/// Runs `cli` with the process's streams; returns the exit status after
/// printing any error to stderr.
pub async fn dispatch(cli: Cli) -> i32 {
    let mut io = Stdio::process();
    let is_run = matches!(
        cli.command,
        Command::Run(_)
            | Command::Create(_)
            | Command::Container(ContainerCommand::Run(_) | ContainerCommand::Create(_))
    );
    let result = match client_for(cli.host.as_deref()) {
        Ok(client) => execute(&client, cli.command, &mut io).await,
        Err(e) if is_run => Err(e.with_status(RUN_ERROR)),
        Err(e) => Err(e),
    };
    match result {
        Ok(status) => status,
        Err(e) => {
            if let Some(m) = &e.message {
                io.err(&format!("{m}\n")).await;
            }
            e.status
        }
    }
}

/// Runs one command against `client`.
pub async fn execute(client: &Client, command: Command, io: &mut Stdio) -> CmdResult {
    let cwd = std::env::current_dir().unwrap_or_else(|_| "/".into());
    match command {
        Command::Run(a) => run::run(client, &a, io, &cwd).await,
        Command::Create(a) => run::create(client, &a, io, &cwd).await,
        Command::Start(a) => container::start(client, &a, io).await,
        Command::Stop(a) => container::stop(client, &a, io).await,
        Command::Restart(a) => container::restart(client, &a, io).await,
        Command::Kill(a) => container::kill(client, &a, io).await,
        Command::Rm(a) => container::rm(client, &a, io).await,
        Command::Wait(a) => container::wait(client, &a, io).await,
        Command::Pause(a) => container::pause(client, &a, io).await,
        Command::Unpause(a) => container::unpause(client, &a, io).await,
        Command::Rename(a) => container::rename(client, &a).await,
        Command::Logs(a) => container::logs(client, &a, io).await,
        Command::Exec(a) => container::exec(client, &a, io).await,
        Command::Attach(a) => container::attach(client, &a, io).await,
        Command::Top(a) => container::top(client, &a, io).await,
        Command::Cp(a) => cp::cp(client, &a).await,
        Command::Inspect(a) => inspect::inspect(client, &a, io).await,
        Command::Ps(a) => ps::ps(client, &a, io).await,
        Command::Port(a) => container::port(client, &a, io).await,
        Command::Stats(a) => container::stats(client, &a, io).await,
        Command::Version(a) => system::version(client, &a, io).await,
        Command::Info(a) => system::info(client, &a, io).await,
        Command::Events(a) => system::events(client, &a, io).await,
        Command::System(SystemCommand::Events(a)) => system::events(client, &a, io).await,
        Command::System(SystemCommand::Info(a)) => system::info(client, &a, io).await,
        // Images.
        Command::Pull(a) => image::pull::pull(client, &a, io).await,
        Command::Images(a) => image::list::images(client, &a, io).await,
        Command::Rmi(a) => image::remove::rmi(client, &a, io).await,
        Command::Tag(a) => image::remove::tag(client, &a, io).await,
        Command::History(a) => image::history::history(client, &a, io).await,
        Command::Save(a) => image::transfer::save(client, &a, io).await,
        Command::Load(a) => image::transfer::load(client, &a, io).await,
        Command::Image(c) => image::execute(client, c, io).await,
        Command::System(SystemCommand::Df(a)) => df::df(client, &a, io).await,
        Command::System(SystemCommand::Prune(a)) => {
            system_prune::system_prune(client, &a, io).await
        }
        Command::Update(a) => update::update(client, &a, io).await,
        Command::Diff(a) => diff::diff(client, &a, io).await,
        Command::Export(a) => export::export(client, &a, io).await,
        Command::Volume(c) => volume::volume(client, &c, io).await,
        Command::Network(c) => network::network(client, &c, io).await,
        Command::Container(c) => {
            let top = match c {
                ContainerCommand::Run(a) => Command::Run(a),
                ContainerCommand::Create(a) => Command::Create(a),
                ContainerCommand::Start(a) => Command::Start(a),
                ContainerCommand::Stop(a) => Command::Stop(a),
                ContainerCommand::Restart(a) => Command::Restart(a),
                ContainerCommand::Kill(a) => Command::Kill(a),
                ContainerCommand::Rm(a) => Command::Rm(a),
                ContainerCommand::Wait(a) => Command::Wait(a),
                ContainerCommand::Pause(a) => Command::Pause(a),
                ContainerCommand::Unpause(a) => Command::Unpause(a),
                ContainerCommand::Rename(a) => Command::Rename(a),
                ContainerCommand::Logs(a) => Command::Logs(a),
                ContainerCommand::Exec(a) => Command::Exec(a),
                ContainerCommand::Attach(a) => Command::Attach(a),
                ContainerCommand::Top(a) => Command::Top(a),
                ContainerCommand::Ls(a) => Command::Ps(a),
                ContainerCommand::Port(a) => Command::Port(a),
                ContainerCommand::Stats(a) => Command::Stats(a),
                ContainerCommand::Inspect(a) => {
                    return inspect::container_inspect(client, &a, io).await
                }
                ContainerCommand::Prune(a) => return container::prune(client, &a, io).await,
                ContainerCommand::Update(a) => Command::Update(a),
                ContainerCommand::Diff(a) => Command::Diff(a),
                ContainerCommand::Export(a) => Command::Export(a),
            };
            Box::pin(execute(client, top, io)).await
        }
    }
}
