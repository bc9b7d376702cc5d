//! A TCP forwarder in front of the real registry that can stall: once
//! switched on, every connection stops forwarding the registry's answer after
//! a few KiB (manifests and configs pass, layer downloads hang), the way a
//! stalled or hostile registry behaves. It counts open client connections so
//! a test can see a cancelled pull close its sockets.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// Bytes of registry answer forwarded per connection before a stall.
const STALL_AFTER: usize = 64 * 1024;

#[derive(Default)]
struct State {
    stall: AtomicBool,
    open: AtomicUsize,
    stopping: AtomicBool,
}

/// The forwarder; stops accepting on drop.
pub struct StallProxy {
    port: u16,
    state: Arc<State>,
}

impl StallProxy {
    /// Forwards a free 127.0.0.1 port to `upstream` (`host:port`).
    pub fn start(upstream: &str) -> StallProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let state = Arc::new(State::default());
        let upstream = upstream.to_string();
        let st = state.clone();
        thread::spawn(move || {
            for client in listener.incoming() {
                if st.stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                st.open.fetch_add(1, Ordering::SeqCst);
                let st = st.clone();
                thread::spawn(move || forward(client, server, &st));
            }
        });
        StallProxy { port, state }
    }

    /// `127.0.0.1:<port>`, to use as the registry host in references.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Turns stalling on or off (for new bytes on every connection).
    pub fn set_stall(&self, on: bool) {
        self.state.stall.store(on, Ordering::SeqCst);
    }

    /// Client connections currently open.
    pub fn open_connections(&self) -> usize {
        self.state.open.load(Ordering::SeqCst)
    }

    /// Waits up to `timeout` for the open connection count to reach `n`.
    pub fn wait_open(&self, n: usize, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if self.open_connections() == n {
                return true;
            }
            thread::sleep(Duration::from_millis(20));
        }
        self.open_connections() == n
    }
}

impl Drop for StallProxy {
    fn drop(&mut self) {
        self.state.stopping.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn forward(client: TcpStream, server: TcpStream, st: &Arc<State>) {
    let closed = Arc::new(AtomicBool::new(false));
    let (mut c_read, mut s_write) = (
        client.try_clone().expect("clone"),
        server.try_clone().expect("clone"),
    );
    let up = {
        let closed = closed.clone();
        let (client, server) = (
            client.try_clone().expect("clone"),
            server.try_clone().expect("clone"),
        );
        thread::spawn(move || {
            let mut buf = [0u8; 16 * 1024];
            // Client -> registry until the client hangs up.
            while let Ok(n) = c_read.read(&mut buf) {
                if n == 0 || s_write.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            closed.store(true, Ordering::SeqCst);
            let _ = client.shutdown(Shutdown::Both);
            let _ = server.shutdown(Shutdown::Both);
        })
    };
    let (mut s_read, mut c_write) = (server, client);
    let mut sent = 0usize;
    let mut buf = [0u8; 16 * 1024];
    loop {
        if st.stall.load(Ordering::SeqCst) && sent >= STALL_AFTER {
            // Hang, holding the connection, until the client gives up.
            while !closed.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(20));
            }
            break;
        }
        let limit = if st.stall.load(Ordering::SeqCst) {
            (STALL_AFTER - sent).clamp(1, buf.len())
        } else {
            buf.len()
        };
        match s_read.read(&mut buf[..limit]) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if c_write.write_all(&buf[..n]).is_err() {
                    break;
                }
                sent += n;
            }
        }
    }
    let _ = c_write.shutdown(Shutdown::Both);
    let _ = up.join();
    st.open.fetch_sub(1, Ordering::SeqCst);
}
