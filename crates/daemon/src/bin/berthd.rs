//! `berthd`: the Berth daemon. Takes dockerd's flags (and its JSON config
//! file keys), locks its pidfile, opens the image service and reconnects to
//! the running containers' shims (live restore), and serves its `-H`
//! addresses. SIGTERM / SIGINT shut down cleanly, leaving containers
//! running; SIGHUP reloads the log level from the config file.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use berth_daemon::api::ApiBackend;
use berth_daemon::daemon::{ContainerImageUsers, Daemon, DaemonConfig};
use berth_daemon::listeners::Listeners;
use berth_daemon::options::{read_config_file, DaemonOptions, FlagValues};
use berth_daemon::pidfile::PidFile;
use berth_daemon::spec::init::InitOptions;
use berth_image::service::{ImageServiceConfig, LocalImageService};
use berth_shim::{ShimClient, ShimConfig};
use clap::Parser;
use tokio::signal::unix::{signal, SignalKind};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, reload};

/// The default config file.
const DEFAULT_CONFIG_FILE: &str = "/etc/berth/daemon.json";

/// berthd: a Docker-compatible container daemon.
#[derive(Parser, Debug)]
#[command(name = "berthd", version, about)]
struct Flags {
    /// Root of persistent state.
    #[arg(long, value_name = "DIR")]
    data_root: Option<PathBuf>,
    /// Root of runtime state.
    #[arg(long, value_name = "DIR")]
    exec_root: Option<PathBuf>,
    /// Address to serve: unix://PATH, tcp://HOST:PORT, fd://.
    #[arg(short = 'H', long = "host", value_name = "ADDR")]
    hosts: Vec<String>,
    /// Path of the pidfile.
    #[arg(long, value_name = "FILE")]
    pidfile: Option<PathBuf>,
    /// A registry to reach over plain HTTP (host[:port] or CIDR).
    #[arg(long = "insecure-registry", value_name = "REGISTRY")]
    insecure_registries: Vec<String>,
    /// Debug logging.
    #[arg(short = 'D', long)]
    debug: bool,
    /// Log level: debug, info, warn, error, fatal.
    #[arg(short = 'l', long, value_name = "LEVEL")]
    log_level: Option<String>,
    /// Layers downloaded at once per pull.
    #[arg(long, value_name = "N")]
    max_concurrent_downloads: Option<usize>,
    /// The JSON config file (dockerd's daemon.json keys).
    #[arg(long, value_name = "FILE")]
    config_file: Option<PathBuf>,
    /// The default bridge's Linux name ("none": no default bridge network)
    #[arg(
        short = 'b',
        long = "bridge",
        value_name = "NAME",
        default_value = "berth0"
    )]
    bridge: String,
    /// The default bridge's address and subnet (CIDR)
    #[arg(long, value_name = "CIDR")]
    bip: Option<berth_network::Ipv4Net>,
    /// Program iptables rules (NAT, forwarding, published ports)
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    iptables: bool,
    /// Run an init in the container to forward signals and reap processes
    #[arg(long)]
    init: bool,
    /// Path to the static berth-init binary (`cargo xtask build-init`)
    /// [default: berth-init next to berthd, target/init/release of a source
    /// checkout, /usr/local/libexec/berth, /usr/libexec/berth, PATH]
    #[arg(long, value_name = "PATH")]
    init_path: Option<PathBuf>,
}

fn level(name: &str) -> LevelFilter {
    match name {
        "debug" => LevelFilter::DEBUG,
        "warn" => LevelFilter::WARN,
        "error" | "fatal" => LevelFilter::ERROR,
        _ => LevelFilter::INFO,
    }
}

fn main() -> ExitCode {
    let flags = Flags::parse();
    let config_path = flags.config_file.clone();
    let explicit = config_path.is_some();
    let config_path = config_path.unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_FILE));
    let options = read_config_file(&config_path, explicit).and_then(|file| {
        DaemonOptions::resolve(
            FlagValues {
                data_root: flags.data_root,
                exec_root: flags.exec_root,
                hosts: flags.hosts,
                pidfile: flags.pidfile,
                insecure_registries: flags.insecure_registries,
                debug: flags.debug,
                log_level: flags.log_level,
                max_concurrent_downloads: flags.max_concurrent_downloads,
            },
            file,
        )
    });
    let network = berth_daemon::daemon::NetworkOptions {
        bridge: flags.bridge.clone(),
        bip: flags.bip,
        iptables: flags.iptables,
    };
    let init = InitOptions {
        default_init: flags.init,
        path: flags
            .init_path
            .clone()
            .unwrap_or_else(berth_daemon::spec::init::locate_init_binary),
    };
    let options = match options {
        Ok(mut o) => {
            o.network = network;
            o
        }
        Err(e) => {
            eprintln!("berthd: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (filter, reload_handle) = reload::Layer::new(level(&options.log_level));
    tracing_subscriber::registry()
        .with(filter)
        .with(fmt::layer().with_writer(std::io::stderr))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("berthd: {e}");
            return ExitCode::FAILURE;
        }
    };
    let reload_level = move || -> Result<(), String> {
        let file = read_config_file(&config_path, explicit)?.unwrap_or_default();
        if let Some(l) = file.log_level {
            reload_handle
                .reload(level(&l))
                .map_err(|e| format!("cannot reload the log level: {e}"))?;
        }
        Ok(())
    };
    match runtime.block_on(run(options, init, reload_level)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("berthd: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(
    options: DaemonOptions,
    init: InitOptions,
    reload: impl Fn() -> Result<(), String>,
) -> Result<(), String> {
    let _pidfile = PidFile::acquire(&options.pidfile)?;
    if init.default_init {
        // Said now rather than at every start; the starts refuse as well.
        if let Err(e) = berth_daemon::spec::init::verify_init_binary(&init.path) {
            tracing::warn!("--init: {e}");
        }
    }
    let mut image_config = ImageServiceConfig::new(&options.data_root);
    image_config.registries.insecure_registries = options.insecure_registries.clone();
    image_config.max_concurrent_downloads = options.max_concurrent_downloads;
    let images = LocalImageService::open(image_config).map_err(|e| e.to_string())?;
    let shims = ShimClient::new(ShimConfig {
        exec_root: options.exec_root.join("shims"),
        runtime_root: options.exec_root.join("runtime"),
        shim_binary: shim_binary()?,
    });
    let daemon = Daemon::open(
        DaemonConfig {
            data_root: options.data_root.clone(),
            exec_root: options.exec_root.clone(),
            network: options.network.clone(),
            init,
        },
        Arc::new(images.clone()),
        Arc::new(shims),
    )
    .await
    .map_err(|e| e.to_string())?;
    // `rmi` must see the containers to refuse with Docker's conflicts.
    images.set_image_users(Arc::new(ContainerImageUsers(Arc::downgrade(&daemon))));
    tracing::info!(containers = daemon.list().len(), "daemon restored");
    let mut listeners = Listeners::bind(&options.hosts)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(hosts = ?options.hosts, "API listen on");

    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    let mut hup = signal(SignalKind::hangup()).map_err(|e| e.to_string())?;
    {
        let app = berth_api::server::router(ApiBackend::backends(daemon.clone()));
        let serve = listeners.serve(app);
        tokio::pin!(serve);
        loop {
            tokio::select! {
                _ = &mut serve => {}
                _ = term.recv() => break,
                _ = int.recv() => break,
                _ = hup.recv() => match reload() {
                    Ok(()) => tracing::info!("configuration reloaded"),
                    Err(e) => tracing::warn!("reload failed: {e}"),
                },
            }
        }
    }
    tracing::info!("shutting down; containers keep running");
    drop(listeners);
    Ok(())
}

/// `berth-shim` next to this binary, else `$BERTH_SHIM`, else on `PATH`.
fn shim_binary() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("BERTH_SHIM") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    if let Some(dir) = exe.parent() {
        let candidate = dir.join("berth-shim");
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("berth-shim"))
                .find(|p| p.is_file())
        })
        .ok_or_else(|| "berth-shim not found next to berthd, in $BERTH_SHIM or on PATH".to_string())
}
