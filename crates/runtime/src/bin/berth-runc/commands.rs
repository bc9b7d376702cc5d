//! The subcommands, each a few calls into berth-runtime.

use std::collections::HashSet;
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command as Ps;

use berth_runtime::error::Context;
use berth_runtime::{
    cloned_binary, spec, Container, CreateOptions, Error, ExecOptions, Result, Runtime,
};
use clap::Args;
use nix::unistd::Pid;
use oci_spec::runtime::{Capability, Process, Spec, UserBuilder};

use crate::signals::{forward_to, parse_signal};
use crate::{tty, Cli, Command, OutputFormat};

/// Flags shared by `create` and `run`.
#[derive(Args, Debug)]
pub struct CreateArgs {
    /// The container id.
    pub id: String,
    /// Path to the bundle (holding config.json).
    #[arg(short, long, default_value = ".")]
    pub bundle: PathBuf,
    /// Write the init's pid to this file.
    #[arg(long = "pid-file")]
    pub pid_file: Option<PathBuf>,
    /// Unix socket that receives the pty master when process.terminal is set.
    #[arg(long = "console-socket")]
    pub console_socket: Option<PathBuf>,
    /// Use MS_MOVE + chroot instead of pivot_root.
    #[arg(long = "no-pivot")]
    pub no_pivot: bool,
    /// Accepted for compatibility; no session keyring is created.
    #[arg(long = "no-new-keyring")]
    pub no_new_keyring: bool,
}

/// `run`'s flags.
#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    create: CreateArgs,
    /// Do not wait for the container; leave it running.
    #[arg(short, long)]
    detach: bool,
    /// Keep the container's state after it exits.
    #[arg(long)]
    keep: bool,
}

/// `exec`'s flags.
#[derive(Args, Debug)]
pub struct ExecArgs {
    /// The container id.
    id: String,
    /// The command and its arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
    /// A process.json describing the process (replaces the command line).
    #[arg(short, long)]
    process: Option<PathBuf>,
    /// Allocate a pseudo-TTY.
    #[arg(short, long)]
    tty: bool,
    /// Do not wait for the process.
    #[arg(short, long)]
    detach: bool,
    /// Write the process's pid to this file.
    #[arg(long = "pid-file")]
    pid_file: Option<PathBuf>,
    /// Working directory inside the container.
    #[arg(long)]
    cwd: Option<PathBuf>,
    /// Extra environment variables (KEY=VALUE).
    #[arg(short, long)]
    env: Vec<String>,
    /// uid[:gid] to run as.
    #[arg(short, long)]
    user: Option<String>,
    /// Additional gids.
    #[arg(short = 'g', long = "additional-gids")]
    additional_gids: Vec<u32>,
    /// Capabilities to add.
    #[arg(short = 'c', long = "cap")]
    cap: Vec<String>,
    /// Set no_new_privs for the process.
    #[arg(long = "no-new-privs")]
    no_new_privs: bool,
    /// Unix socket that receives the pty master.
    #[arg(long = "console-socket")]
    console_socket: Option<PathBuf>,
}

/// Runs one subcommand; returns the process exit code.
pub fn dispatch(cli: Cli) -> Result<u8> {
    let rt = Runtime::new(&cli.root);
    match cli.command {
        Command::Spec { bundle, rootless } => write_spec(&bundle, rootless).map(|_| 0),
        Command::Create(args) => {
            cloned_binary::ensure_cloned()?;
            create(&rt, args, false)?;
            Ok(0)
        }
        Command::Start { id } => rt.load(&id)?.start().map(|_| 0),
        Command::Run(args) => {
            cloned_binary::ensure_cloned()?;
            run(&rt, args)
        }
        Command::State { id } => {
            let st = rt.load(&id)?.oci_state();
            print_json(&st)?;
            Ok(0)
        }
        Command::Kill { id, signal, all } => {
            let sig = parse_signal(&signal).map_err(Error::Spec)?;
            rt.load(&id)?.kill(sig, all).map(|_| 0)
        }
        Command::Delete { id, force } => match rt.load(&id) {
            // runc treats deleting a container that is already gone as success with --force.
            Err(Error::NotFound(_)) if force => Ok(0),
            r => r?.delete(force).map(|_| 0),
        },
        Command::Exec(args) => {
            cloned_binary::ensure_cloned()?;
            exec(&rt, args)
        }
        Command::Pause { id } => rt.load(&id)?.pause().map(|_| 0),
        Command::Resume { id } => rt.load(&id)?.resume().map(|_| 0),
        Command::Ps {
            id,
            format,
            ps_args,
        } => ps(&rt.load(&id)?, format, ps_args).map(|_| 0),
        Command::List { format, quiet } => list(&rt, format, quiet).map(|_| 0),
    }
}

fn print_json<T: serde::Serialize>(v: &T) -> Result<()> {
    let s = serde_json::to_string_pretty(v).map_err(|e| Error::Spec(e.to_string()))?;
    println!("{s}");
    Ok(())
}

fn write_spec(bundle: &Path, rootless: bool) -> Result<()> {
    if rootless {
        return Err(Error::Unsupported(
            "rootless specs are not supported".into(),
        ));
    }
    let path = bundle.join("config.json");
    if path.exists() {
        return Err(Error::Spec(
            "File config.json exists. Remove it first".into(),
        ));
    }
    Spec::default()
        .save(&path)
        .map_err(|e| Error::Spec(format!("write {}: {e}", path.display())))
}

/// How the console is wired: to the caller's socket, or proxied by us.
enum ConsoleWiring {
    None,
    Socket(UnixStream),
    Proxy(UnixStream, UnixStream),
}

impl ConsoleWiring {
    fn new(wanted: bool, socket: Option<&Path>) -> Result<Self> {
        if !wanted {
            return Ok(Self::None);
        }
        match socket {
            Some(p) => UnixStream::connect(p)
                .map(Self::Socket)
                .context_with(|| format!("connect to console socket {}", p.display())),
            None => {
                let (ours, theirs) = UnixStream::pair().context("socketpair")?;
                Ok(Self::Proxy(ours, theirs))
            }
        }
    }

    /// The socket end handed to the runtime.
    fn take_runtime_end(&mut self) -> Option<UnixStream> {
        match std::mem::replace(self, Self::None) {
            Self::None => None,
            Self::Socket(s) => Some(s),
            Self::Proxy(ours, theirs) => {
                *self = Self::Proxy(ours.try_clone().ok()?, theirs.try_clone().ok()?);
                Some(theirs)
            }
        }
    }

    /// For proxying: receive the master and copy stdio until the pty closes.
    fn proxy_until_closed(&self) -> Result<()> {
        if let Self::Proxy(ours, _) = self {
            let master = tty::receive_master(ours)?;
            let _raw = tty::RawMode::enter();
            tty::proxy(master).context("proxy terminal")?;
        }
        Ok(())
    }
}

fn terminal_wanted(bundle: &Path) -> bool {
    spec::load_spec(bundle)
        .ok()
        .and_then(|s| s.process().as_ref().and_then(|p| p.terminal()))
        .unwrap_or(false)
}

fn create(rt: &Runtime, args: CreateArgs, allow_proxy: bool) -> Result<(Container, ConsoleWiring)> {
    let wanted = terminal_wanted(&args.bundle);
    if wanted && args.console_socket.is_none() && !allow_proxy {
        return Err(Error::Spec(
            "cannot allocate tty if runc will detach without setting console socket".into(),
        ));
    }
    let mut console = ConsoleWiring::new(wanted, args.console_socket.as_deref())?;
    let c = rt.create(CreateOptions {
        id: args.id,
        bundle: args.bundle,
        console_socket: console.take_runtime_end(),
        no_pivot: args.no_pivot,
    })?;
    if let Some(p) = &args.pid_file {
        write_pid_file(p, c.pid())?;
    }
    Ok((c, console))
}

fn write_pid_file(path: &Path, pid: i32) -> Result<()> {
    berth_runtime::state::write_atomic(path, pid.to_string().as_bytes())
}

fn run(rt: &Runtime, args: RunArgs) -> Result<u8> {
    let (container, console) = create(rt, args.create, !args.detach)?;
    if let Err(e) = container.start() {
        let _ = container.delete(true);
        return Err(e);
    }
    if args.detach {
        return Ok(0);
    }
    let pid = Pid::from_raw(container.pid());
    forward_to(pid.as_raw());
    console.proxy_until_closed()?;
    let code = berth_runtime::process::wait_exit_code(pid)?;
    if !args.keep {
        container.delete(true)?;
    }
    Ok(code as u8)
}

fn exec(rt: &Runtime, args: ExecArgs) -> Result<u8> {
    let container = rt.load(&args.id)?;
    let process = exec_process(&container, &args)?;
    let wanted = process.terminal().unwrap_or(false);
    if wanted && args.detach && args.console_socket.is_none() {
        return Err(Error::Spec(
            "cannot allocate tty if runc will detach without setting console socket".into(),
        ));
    }
    let mut console = ConsoleWiring::new(wanted, args.console_socket.as_deref())?;
    let pid = container.exec(ExecOptions {
        process,
        console_socket: console.take_runtime_end(),
    })?;
    if let Some(p) = &args.pid_file {
        write_pid_file(p, pid.as_raw())?;
    }
    if args.detach {
        return Ok(0);
    }
    forward_to(pid.as_raw());
    console.proxy_until_closed()?;
    Ok(berth_runtime::process::wait_exit_code(pid)? as u8)
}

/// The process for `exec`: process.json, or the container's own process
/// with the command line's changes, as runc builds it.
fn exec_process(container: &Container, args: &ExecArgs) -> Result<Process> {
    if let Some(p) = &args.process {
        return spec::load_process(p);
    }
    if args.command.is_empty() {
        return Err(Error::Spec("exec: a command is required".into()));
    }
    let mut process = container
        .record()
        .config
        .process()
        .clone()
        .unwrap_or_default();
    process.set_args(Some(args.command.clone()));
    process.set_terminal(Some(args.tty));
    if args.tty {
        if let Some((rows, cols)) = tty::own_size() {
            let size = oci_spec::runtime::BoxBuilder::default()
                .height(rows as u32)
                .width(cols as u32)
                .build()
                .map_err(|e| Error::Spec(e.to_string()))?;
            process.set_console_size(Some(size));
        }
    }
    if let Some(cwd) = &args.cwd {
        process.set_cwd(cwd.clone());
    }
    let mut env = process.env().clone().unwrap_or_default();
    for kv in &args.env {
        let key = kv.split('=').next().unwrap_or_default();
        env.retain(|e| e.split('=').next() != Some(key));
        env.push(kv.clone());
    }
    process.set_env(Some(env));
    if let Some(u) = &args.user {
        let (uid, gid) = match u.split_once(':') {
            Some((u, g)) => (u, Some(g)),
            None => (u.as_str(), None),
        };
        let parse = |s: &str| {
            s.parse::<u32>().map_err(|_| {
                Error::Spec(format!("invalid --user {u:?}: numeric uid[:gid] expected"))
            })
        };
        let user = UserBuilder::default()
            .uid(parse(uid)?)
            .gid(gid.map(parse).transpose()?.unwrap_or(0))
            .additional_gids(args.additional_gids.clone())
            .build()
            .map_err(|e| Error::Spec(e.to_string()))?;
        process.set_user(user);
    }
    if !args.cap.is_empty() {
        let mut caps = process.capabilities().clone().unwrap_or_default();
        for name in &args.cap {
            let c: Capability = name
                .trim_start_matches("CAP_")
                .parse()
                .map_err(|_| Error::Spec(format!("unknown capability {name:?}")))?;
            let add = |set: &Option<oci_spec::runtime::Capabilities>| {
                let mut set = set.clone().unwrap_or_default();
                set.insert(c);
                Some(set)
            };
            caps.set_bounding(add(caps.bounding()));
            caps.set_effective(add(caps.effective()));
            caps.set_permitted(add(caps.permitted()));
            caps.set_inheritable(add(caps.inheritable()));
            caps.set_ambient(add(caps.ambient()));
        }
        process.set_capabilities(Some(caps));
    }
    if args.no_new_privs {
        process.set_no_new_privileges(Some(true));
    }
    Ok(process)
}

fn ps(container: &Container, format: OutputFormat, ps_args: Vec<String>) -> Result<()> {
    let pids = container.processes()?;
    if format == OutputFormat::Json {
        return print_json(&pids);
    }
    let args = if ps_args.is_empty() {
        vec!["-ef".to_string()]
    } else {
        ps_args
    };
    let out = Ps::new("ps").args(&args).output().context("run ps")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let col = header
        .split_whitespace()
        .position(|h| h == "PID")
        .ok_or_else(|| Error::Spec("ps output has no PID column".into()))?;
    let wanted: HashSet<String> = pids.iter().map(|p| p.to_string()).collect();
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{header}");
    for line in lines.filter(|l| {
        l.split_whitespace()
            .nth(col)
            .is_some_and(|p| wanted.contains(p))
    }) {
        let _ = writeln!(stdout, "{line}");
    }
    Ok(())
}

fn list(rt: &Runtime, format: OutputFormat, quiet: bool) -> Result<()> {
    let states: Vec<_> = rt.list()?.iter().map(|c| c.oci_state()).collect();
    if quiet {
        states.iter().for_each(|s| println!("{}", s.id));
        return Ok(());
    }
    if format == OutputFormat::Json {
        return print_json(&states);
    }
    println!(
        "{:<20} {:<8} {:<10} {:<40} {:<32} OWNER",
        "ID", "PID", "STATUS", "BUNDLE", "CREATED"
    );
    for s in states {
        println!(
            "{:<20} {:<8} {:<10} {:<40} {:<32} root",
            s.id,
            s.pid,
            s.status,
            s.bundle.display(),
            s.created
        );
    }
    Ok(())
}
