//! The shim's answers to protocol requests: lifecycle operations on the
//! container, exec, resize, attach, wait and delete.

use std::fs;
use std::os::fd::AsRawFd;
use std::time::{Instant, SystemTime};

use berth_runtime::ExecOptions;
use nix::sys::signal::Signal;
use nix::sys::wait::waitpid;
use nix::unistd::Pid;
use oci_spec::runtime::Process;

use crate::error::ShimError;
use crate::protocol::{encode, take_frame, Reply, Request, Response};
use crate::types::{ExecStdio, ExitStatus, ShimState, Status};

use super::conn::{Mode, ProcKey};
use super::process::{Proc, Sink};
use super::shim::{exit_code, sys, Result, Shim, TRIM_DELAY};
use super::stdio::{prepare, with_child_stdio};

impl Shim {
    /// Answers the request waiting on connection `id`, once it is complete.
    pub(super) fn handle_requests(&mut self, id: u64) {
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        let req = match take_frame::<Request>(&mut c.inbuf) {
            Ok(Some(r)) => r,
            Ok(None) => {
                if c.read_closed {
                    c.dead = true;
                }
                return;
            }
            Err(e) => {
                c.send(&encode(&Response::from_result(Err(e))));
                c.mode = Mode::Closing;
                return;
            }
        };
        // Once idle again, drop what serving this request mapped in.
        self.trim_due = Some(Instant::now() + TRIM_DELAY);
        let result = match req {
            Request::State => Ok(Reply::State {
                state: self.state(),
            }),
            Request::Start => self.start(),
            Request::Kill { signal, all } => self.kill(signal, all),
            Request::Pause => self
                .running()
                .and_then(|_| Ok(self.container.pause()?))
                .map(done),
            Request::Resume => self
                .running()
                .and_then(|_| Ok(self.container.resume()?))
                .map(done),
            Request::Exec {
                exec_id,
                process,
                stdio,
            } => self.exec(exec_id, *process, stdio),
            Request::Resize {
                exec_id,
                width,
                height,
            } => self.resize(&exec_id, width, height),
            Request::Attach { exec_id } => return self.attach(id, exec_id),
            Request::Wait { exec_id } => return self.wait(id, exec_id),
            Request::CloseStdin { exec_id } => self.proc_mut(&exec_id).map(|p| {
                p.close_stdin();
                Reply::Done
            }),
            Request::Delete => self.delete(id, false),
            Request::Shutdown => self.delete(id, true),
        };
        if let Some(c) = self.conns.get_mut(&id) {
            c.send(&encode(&Response::from_result(result)));
            c.mode = Mode::Closing;
        }
    }

    fn proc_mut(&mut self, key: &ProcKey) -> Result<&mut Proc> {
        self.procs.get_mut(key).ok_or_else(|| no_exec(key))
    }

    fn init_gone(&self) -> bool {
        self.procs
            .get(&None)
            .is_some_and(|p| p.reaped.is_some() || p.exit.is_some())
    }

    fn running(&self) -> Result<()> {
        if self.init_gone() {
            return Err(ShimError::Conflict(format!(
                "container {} is not running",
                self.container.id()
            )));
        }
        Ok(())
    }

    fn state(&self) -> ShimState {
        let init = self.procs.get(&None);
        let exit = init.and_then(|p| p.exit.clone().or_else(|| p.reaped.clone().map(|r| r.0)));
        let status = if exit.is_some() {
            Status::Stopped
        } else {
            match self.container.status() {
                berth_runtime::Status::Creating | berth_runtime::Status::Created => Status::Created,
                berth_runtime::Status::Running => Status::Running,
                berth_runtime::Status::Paused => Status::Paused,
                berth_runtime::Status::Stopped => Status::Stopped,
            }
        };
        ShimState {
            id: self.container.id().to_string(),
            status,
            pid: if exit.is_some() {
                0
            } else {
                self.container.pid() as u32
            },
            shim_pid: std::process::id(),
            exit,
        }
    }

    fn start(&mut self) -> Result<Reply> {
        self.running()?;
        self.container.start()?;
        Ok(Reply::Pid {
            pid: self.container.pid() as u32,
        })
    }

    fn kill(&mut self, signal: i32, all: bool) -> Result<Reply> {
        let sig = Signal::try_from(signal)
            .map_err(|_| ShimError::InvalidParameter(format!("invalid signal {signal}")))?;
        self.running()?;
        self.container.kill(sig, all)?;
        Ok(Reply::Done)
    }

    fn exec(&mut self, exec_id: String, mut process: Process, stdio: ExecStdio) -> Result<Reply> {
        if exec_id.is_empty() {
            return Err(ShimError::InvalidParameter(
                "exec id must not be empty".into(),
            ));
        }
        let key = Some(exec_id);
        if self.procs.contains_key(&key) {
            return Err(ShimError::Conflict(format!(
                "exec {} already exists",
                key.as_deref().unwrap_or_default()
            )));
        }
        self.running()?;
        process.set_terminal(Some(stdio.terminal));
        let io = prepare(stdio.terminal, stdio.open_stdin).map_err(sys("set up stdio"))?;
        let container = &self.container;
        let pid = with_child_stdio(&io.child, || {
            container.exec(ExecOptions {
                process,
                console_socket: io.console_socket,
            })
        })
        .map_err(sys("install stdio"))??;
        drop(io.child);
        let proc = Self::finish_stdio(pid.as_raw(), io.shim, Sink::Replay(Some(Vec::new())))?;
        self.procs.insert(key, proc);
        Ok(Reply::Pid {
            pid: pid.as_raw() as u32,
        })
    }

    fn resize(&mut self, key: &ProcKey, width: u16, height: u16) -> Result<Reply> {
        let p = self.proc_mut(key)?;
        let Some(t) = &p.terminal else {
            return Err(ShimError::Conflict("the process has no terminal".into()));
        };
        berth_runtime::console::set_size(t.as_raw_fd(), height, width)?;
        Ok(Reply::Done)
    }

    fn attach(&mut self, id: u64, key: ProcKey) {
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        let Some(p) = self.procs.get_mut(&key) else {
            c.send(&encode(&Response::from_result(Err(no_exec(&key)))));
            c.mode = Mode::Closing;
            return;
        };
        c.send(&encode(&Response::Ok(Reply::Attached)));
        c.mode = Mode::Attached(key);
        let early_stdin = std::mem::take(&mut c.inbuf);
        p.attach(id, c);
        p.write_stdin(&early_stdin);
    }

    fn wait(&mut self, id: u64, key: ProcKey) {
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        match self.procs.get_mut(&key) {
            None => {
                c.send(&encode(&Response::from_result(Err(no_exec(&key)))));
                c.mode = Mode::Closing;
            }
            Some(p) => match &p.exit {
                Some(exit) => {
                    c.send(&encode(&Response::Ok(Reply::Exit {
                        exit: Some(exit.clone()),
                    })));
                    c.mode = Mode::Closing;
                }
                None => {
                    c.mode = Mode::Waiting;
                    p.waiters.push(id);
                }
            },
        }
    }

    /// Deletes the container (`force`: whatever its state), answers, removes
    /// the state dir and exits the shim.
    fn delete(&mut self, id: u64, force: bool) -> Result<Reply> {
        let status = self.state().status;
        if !force && matches!(status, Status::Running | Status::Paused) {
            return Err(ShimError::Conflict(format!(
                "cannot delete container {} that is {}: stop it first",
                self.container.id(),
                if status == Status::Running {
                    "running"
                } else {
                    "paused"
                }
            )));
        }
        match self.container.delete(force) {
            Ok(()) | Err(berth_runtime::Error::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
        // The init (killed by delete if it never started) is ours to reap.
        let pid = self.procs.get(&None).map(|p| p.pid).unwrap_or(0);
        if self.procs.get(&None).is_some_and(|p| p.reaped.is_none()) {
            if let Some((code, signal)) = waitpid(Pid::from_raw(pid), None).ok().and_then(exit_code)
            {
                if let Some(p) = self.procs.get_mut(&None) {
                    let exit = ExitStatus {
                        code,
                        signal,
                        exited_at: SystemTime::now(),
                        oom_killed: false,
                    };
                    p.reaped = Some((exit, Instant::now()));
                }
            }
        }
        let keys: Vec<ProcKey> = self.procs.keys().cloned().collect();
        for key in keys {
            if self
                .procs
                .get(&key)
                .is_some_and(|p| p.reaped.is_some() && p.exit.is_none())
            {
                self.finish(&key);
            }
        }
        let exit = self.procs.get(&None).and_then(|p| p.exit.clone());
        let answer = encode(&Response::Ok(Reply::Exit { exit }));
        if let Err(e) = fs::remove_dir_all(&self.state_dir) {
            eprintln!("berth-shim: remove state dir: {e}");
        }
        for c in self.conns.values_mut() {
            c.flush_blocking();
        }
        if let Some(c) = self.conns.get_mut(&id) {
            c.send(&answer);
            c.flush_blocking();
        }
        std::process::exit(0)
    }
}

fn done(_: ()) -> Reply {
    Reply::Done
}

fn no_exec(key: &ProcKey) -> ShimError {
    match key {
        Some(e) => ShimError::NotFound(format!("no such exec: {e}")),
        None => ShimError::NotFound("no init process".into()),
    }
}
