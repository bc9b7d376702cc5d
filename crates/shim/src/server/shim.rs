//! The shim's event loop: one thread polling the listening socket, the
//! SIGCHLD signalfd, the processes' stdio and the client connections.

use std::collections::BTreeMap;
use std::fs;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use berth_runtime::{Container, CreateOptions, Runtime};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signalfd::SignalFd;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use crate::error::ShimError;
use crate::jsonlog::{JsonFileLogger, LineSplitter};
use crate::protocol::{encode, Reply, Response};
use crate::types::{CreateRequest, ExitStatus};

use super::conn::{Conn, Mode, ProcKey};
use super::process::{read_some, Proc, Sink, MAX_STDIN_BACKLOG};
use super::stdio::{prepare, set_nonblocking, with_child_stdio, ShimSide};
use super::EXIT_FILE;

/// How long output may keep flowing after a process was reaped (a
/// grandchild may hold its pipes open).
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// How long the shim must have been idle before it trims its memory.
pub(super) const TRIM_DELAY: Duration = Duration::from_secs(1);

pub(super) type Result<T, E = ShimError> = std::result::Result<T, E>;

/// What the loop polls, in the order of the poll set.
#[derive(Clone)]
enum Token {
    Listener,
    Signal,
    Output(ProcKey, usize),
    Stdin(ProcKey),
    Conn(u64),
}

/// The shim: one container, its processes and its clients.
pub struct Shim {
    pub(super) state_dir: PathBuf,
    pub(super) container: Container,
    pub(super) listener: UnixListener,
    pub(super) signals: SignalFd,
    pub(super) procs: BTreeMap<ProcKey, Proc>,
    pub(super) conns: BTreeMap<u64, Conn>,
    pub(super) next_conn: u64,
    /// When to give memory back after serving requests (see `memory::trim`).
    pub(super) trim_due: Option<Instant>,
}

pub(super) fn sys(context: &str) -> impl FnOnce(std::io::Error) -> ShimError + '_ {
    move |e| ShimError::io(context, e)
}

impl Shim {
    /// Creates the container (stdio wired, init waiting for start) and
    /// binds the shim's socket.
    pub fn create(
        state_dir: &Path,
        runtime_root: &Path,
        req: &CreateRequest,
        signals: SignalFd,
    ) -> Result<Self> {
        let spec = oci_spec::runtime::Spec::load(req.bundle.join("config.json"))
            .map_err(|e| ShimError::InvalidParameter(format!("bundle config.json: {e}")))?;
        let spec_terminal = spec
            .process()
            .as_ref()
            .and_then(|p| p.terminal())
            .unwrap_or(false);
        if spec_terminal != req.stdio.terminal {
            return Err(ShimError::InvalidParameter(format!(
                "stdio.terminal is {} but process.terminal in config.json is {spec_terminal}",
                req.stdio.terminal
            )));
        }
        let logger = JsonFileLogger::open(
            &req.stdio.log_path,
            req.stdio.log_max_size,
            req.stdio.log_max_files,
        )
        .map_err(sys("open json-file log"))?;
        let io = prepare(req.stdio.terminal, req.stdio.open_stdin).map_err(sys("set up stdio"))?;
        let runtime = Runtime::new(runtime_root);
        let container = with_child_stdio(&io.child, || {
            runtime.create(CreateOptions {
                id: req.id.clone(),
                bundle: req.bundle.clone(),
                console_socket: io.console_socket,
                no_pivot: false,
            })
        })
        .map_err(sys("install stdio"))??;
        drop(io.child);
        // The runtime chdirs into the bundle; do not keep it busy.
        std::env::set_current_dir("/").map_err(sys("chdir /"))?;
        let sink = Sink::Log {
            logger,
            lines: [LineSplitter::default(), LineSplitter::default()],
        };
        let proc = Self::finish_stdio(container.pid(), io.shim, sink)?;
        let sock = state_dir.join(super::SOCKET);
        let _ = fs::remove_file(&sock);
        let listener = UnixListener::bind(&sock).map_err(sys("bind shim socket"))?;
        listener.set_nonblocking(true).map_err(sys("listen"))?;
        let mut procs = BTreeMap::new();
        procs.insert(None, proc);
        Ok(Self {
            state_dir: state_dir.to_path_buf(),
            container,
            listener,
            signals,
            procs,
            conns: BTreeMap::new(),
            next_conn: 0,
            trim_due: None,
        })
    }

    /// Builds the process record once it is spawned (receiving the
    /// terminal master if there is one).
    pub(super) fn finish_stdio(pid: i32, side: ShimSide, sink: Sink) -> Result<Proc> {
        match side {
            ShimSide::Pipes(shim) => Ok(Proc::new(pid, shim.outputs, shim.stdin, sink)),
            ShimSide::Terminal {
                console,
                open_stdin,
            } => {
                let master = berth_runtime::console::recv_fd(console.as_fd())?;
                set_nonblocking(&master).map_err(sys("terminal"))?;
                let dup = |m: &OwnedFd| m.try_clone().map_err(sys("duplicate terminal master"));
                let stdin = if open_stdin {
                    Some(dup(&master)?)
                } else {
                    None
                };
                let resize = dup(&master)?;
                let mut p = Proc::new(pid, [Some(master), None], stdin, sink);
                p.terminal = Some(resize);
                Ok(p)
            }
        }
    }

    /// Serves until the container is deleted.
    pub fn run(mut self) -> ! {
        loop {
            self.turn();
        }
    }

    /// One poll round.
    fn turn(&mut self) {
        let mut tokens = vec![Token::Listener, Token::Signal];
        let mut fds = vec![
            PollFd::new(self.listener.as_fd(), PollFlags::POLLIN),
            PollFd::new(self.signals.as_fd(), PollFlags::POLLIN),
        ];
        for (key, p) in &self.procs {
            for (i, fd) in p.outputs.iter().enumerate() {
                if let Some(fd) = fd {
                    tokens.push(Token::Output(key.clone(), i));
                    fds.push(PollFd::new(fd.as_fd(), PollFlags::POLLIN));
                }
            }
            if let (Some(fd), false) = (&p.stdin, p.stdin_buf.is_empty()) {
                tokens.push(Token::Stdin(key.clone()));
                fds.push(PollFd::new(fd.as_fd(), PollFlags::POLLOUT));
            }
        }
        for (id, c) in &self.conns {
            let mut ev = PollFlags::empty();
            // Backpressure: a process not reading its stdin stops its clients.
            let stdin_full = match &c.mode {
                Mode::Attached(key) => self
                    .procs
                    .get(key)
                    .is_some_and(|p| p.stdin_buf.len() > MAX_STDIN_BACKLOG),
                _ => false,
            };
            if !c.read_closed && !stdin_full {
                ev |= PollFlags::POLLIN;
            }
            if !c.outbuf.is_empty() {
                ev |= PollFlags::POLLOUT;
            }
            tokens.push(Token::Conn(*id));
            fds.push(PollFd::new(c.stream.as_fd(), ev));
        }
        let timeout = self
            .procs
            .values()
            .filter(|p| p.exit.is_none())
            .filter_map(|p| p.reaped.as_ref().map(|(_, d)| *d))
            .chain(self.trim_due)
            .min()
            .map(|d| {
                let ms = d.saturating_duration_since(Instant::now()).as_millis() + 1;
                PollTimeout::from(ms.min(u16::MAX as u128) as u16)
            })
            .unwrap_or(PollTimeout::NONE);
        match poll(&mut fds, timeout) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => return,
            Err(e) => {
                eprintln!("berth-shim: poll: {e}");
                std::thread::sleep(Duration::from_millis(100));
                return;
            }
        }
        let ready: Vec<(Token, PollFlags)> = fds
            .iter()
            .zip(tokens)
            .filter_map(|(fd, t)| {
                let r = fd.revents().unwrap_or(PollFlags::empty());
                (!r.is_empty()).then_some((t, r))
            })
            .collect();
        drop(fds);
        for (token, revents) in ready {
            match token {
                Token::Listener => self.accept(),
                Token::Signal => self.reap(),
                Token::Output(key, idx) => self.read_output(&key, idx),
                Token::Stdin(key) => {
                    if let Some(p) = self.procs.get_mut(&key) {
                        p.flush_stdin();
                    }
                }
                Token::Conn(id) => self.serve_conn(id, revents),
            }
        }
        self.finish_exited();
        if self.trim_due.is_some_and(|t| t <= Instant::now()) {
            self.trim_due = None;
            super::memory::trim();
        }
        self.conns.retain(|_, c| !c.finished());
        for p in self.procs.values_mut() {
            let conns = &self.conns;
            p.attached.retain(|id| conns.contains_key(id));
            p.waiters.retain(|id| conns.contains_key(id));
        }
    }

    fn accept(&mut self) {
        loop {
            match self.listener.accept() {
                Ok((s, _)) => match Conn::new(s) {
                    Ok(c) => {
                        self.conns.insert(self.next_conn, c);
                        self.next_conn += 1;
                    }
                    Err(e) => eprintln!("berth-shim: accept: {e}"),
                },
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    eprintln!("berth-shim: accept: {e}");
                    return;
                }
            }
        }
    }

    /// Reaps every child that has exited (the shim is a subreaper).
    fn reap(&mut self) {
        while let Ok(Some(_)) = self.signals.read_signal() {}
        loop {
            let (pid, code, signal) = match waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(_) => return,
                Ok(ws) => match (ws.pid(), exit_code(ws)) {
                    (Some(pid), Some((code, signal))) => (pid, code, signal),
                    _ => continue,
                },
            };
            if let Some(p) = self
                .procs
                .values_mut()
                .find(|p| p.pid == pid.as_raw() && p.reaped.is_none())
            {
                let exit = ExitStatus {
                    code,
                    signal,
                    exited_at: SystemTime::now(),
                    oom_killed: false,
                };
                p.reaped = Some((exit, Instant::now() + DRAIN_GRACE));
                p.stdin = None;
                p.stdin_buf.clear();
            }
        }
    }

    fn read_output(&mut self, key: &ProcKey, idx: usize) {
        let Some(p) = self.procs.get_mut(key) else {
            return;
        };
        let mut buf = vec![0u8; 32 * 1024];
        // Bounded, so one chatty process cannot starve the others.
        for _ in 0..16 {
            let Some(fd) = &p.outputs[idx] else { return };
            match read_some(fd, &mut buf) {
                Ok(Some(n)) => p.output(idx, &buf[..n], &mut self.conns),
                Ok(None) => return p.output_closed(idx),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(e) => {
                    eprintln!("berth-shim: read output: {e}");
                    return p.output_closed(idx);
                }
            }
        }
    }

    /// Finalises reaped processes whose output has drained (or whose grace
    /// period is over): records the init's exit on disk, then answers.
    fn finish_exited(&mut self) {
        let now = Instant::now();
        let keys: Vec<ProcKey> = self
            .procs
            .iter()
            .filter(|(_, p)| p.exit.is_none())
            .filter(|(_, p)| matches!(&p.reaped, Some((_, d)) if p.drained() || now >= *d))
            .map(|(k, _)| k.clone())
            .collect();
        for key in keys {
            self.finish(&key);
        }
    }

    pub(super) fn finish(&mut self, key: &ProcKey) {
        let oom = key.is_none() && self.oom_killed();
        let Some(p) = self.procs.get_mut(key) else {
            return;
        };
        let Some((mut exit, _)) = p.reaped.clone() else {
            return;
        };
        for idx in 0..2 {
            if p.outputs[idx].is_some() {
                p.output_closed(idx);
            }
        }
        p.terminal = None;
        exit.oom_killed = oom;
        if key.is_none() {
            let path = self.state_dir.join(EXIT_FILE);
            let data = serde_json::to_vec(&exit).unwrap_or_default();
            if let Err(e) = berth_runtime::state::write_atomic(&path, &data) {
                eprintln!("berth-shim: record exit: {e}");
            }
        }
        p.exit = Some(exit.clone());
        let answer = encode(&Response::Ok(Reply::Exit { exit: Some(exit) }));
        for id in p.waiters.drain(..) {
            if let Some(c) = self.conns.get_mut(&id) {
                c.send(&answer);
                c.mode = Mode::Closing;
            }
        }
        for id in p.attached.drain(..) {
            if let Some(c) = self.conns.get_mut(&id) {
                c.mode = Mode::Closing;
            }
        }
    }

    /// Whether the container's memory cgroup has recorded an OOM kill.
    fn oom_killed(&self) -> bool {
        let cg = self.container.record().cgroup_path.trim_start_matches('/');
        let files = [
            Path::new("/sys/fs/cgroup/memory")
                .join(cg)
                .join("memory.oom_control"),
            Path::new("/sys/fs/cgroup").join(cg).join("memory.events"),
        ];
        files.iter().any(|f| {
            fs::read_to_string(f).is_ok_and(|s| {
                s.lines().any(|l| {
                    l.strip_prefix("oom_kill ")
                        .and_then(|n| n.trim().parse::<u64>().ok())
                        .is_some_and(|n| n > 0)
                })
            })
        })
    }

    fn serve_conn(&mut self, id: u64, revents: PollFlags) {
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        if revents.contains(PollFlags::POLLOUT) {
            c.flush();
        }
        if revents.intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR) {
            if c.read_closed {
                // Fully hung up.
                c.dead = revents.intersects(PollFlags::POLLHUP | PollFlags::POLLERR);
                return;
            }
            c.fill();
        }
        match c.mode.clone() {
            Mode::Request => self.handle_requests(id),
            Mode::Attached(key) => {
                let data = std::mem::take(&mut c.inbuf);
                if let Some(p) = self.procs.get_mut(&key) {
                    p.write_stdin(&data);
                }
            }
            Mode::Waiting | Mode::Closing => {
                c.inbuf.clear();
            }
        }
    }
}

/// A Docker-style exit code (128 + signal when killed) and the signal.
pub(super) fn exit_code(ws: WaitStatus) -> Option<(i32, Option<i32>)> {
    match ws {
        WaitStatus::Exited(_, code) => Some((code, None)),
        WaitStatus::Signaled(_, sig, _) => Some((128 + sig as i32, Some(sig as i32))),
        _ => None,
    }
}
