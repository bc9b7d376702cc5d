//! The resolver's serving loops: UDP and TCP on the sockets the caller
//! bound, local answers inline, forwarded queries in their own tasks so a
//! slow upstream never holds up a local answer.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::timeout;

use super::message::{
    empty_reply, parse_query, relay_reply, Malformed, Query, OUR_UDP_SIZE, RCODE_SERVFAIL,
    TCP_LIMIT,
};
use super::{forward, local, NameLookup};

/// Forwarded queries in flight at once, per resolver (Docker's
/// `maxConcurrent`); past it the client gets SERVFAIL at once instead of
/// the resolver piling up sockets.
const MAX_CONCURRENT_FORWARDS: usize = 100;
/// TCP connections served at once; more are closed on accept.
const MAX_TCP_CONNECTIONS: usize = 32;
/// How long a TCP connection may sit idle (or dribble a message) before
/// the resolver closes it.
const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause after a socket error, so a persistent one cannot spin a core.
const ERROR_BACKOFF: Duration = Duration::from_millis(10);

/// A running resolver; dropping it (or `stop`) ends its tasks and closes
/// its sockets.
#[derive(Debug)]
pub struct Resolver {
    tasks: Vec<JoinHandle<()>>,
}

/// What both loops answer from.
struct Shared {
    names: Arc<dyn NameLookup>,
    upstreams: Box<[SocketAddr]>,
    forwards: Arc<Semaphore>,
}

impl Resolver {
    /// Serves DNS on `udp` and `tcp` (already bound, e.g. to
    /// 127.0.0.11:53 inside a container's network namespace; set them
    /// non-blocking yourself) on the current tokio runtime, answering from
    /// `names` and forwarding everything else to `upstreams`.
    pub fn spawn(
        udp: std::net::UdpSocket,
        tcp: std::net::TcpListener,
        names: Arc<dyn NameLookup>,
        upstreams: Vec<SocketAddr>,
    ) -> io::Result<Resolver> {
        let runtime = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
        udp.set_nonblocking(true)?;
        tcp.set_nonblocking(true)?;
        let udp = Arc::new(UdpSocket::from_std(udp)?);
        let tcp = TcpListener::from_std(tcp)?;
        let shared = Arc::new(Shared {
            names,
            upstreams: upstreams.into_boxed_slice(),
            forwards: Arc::new(Semaphore::new(MAX_CONCURRENT_FORWARDS)),
        });
        Ok(Resolver {
            tasks: vec![
                runtime.spawn(serve_udp(udp, Arc::clone(&shared))),
                runtime.spawn(serve_tcp(tcp, shared)),
            ],
        })
    }

    /// Stops serving: the tasks are aborted, and the sockets close as the
    /// runtime drops them (right away on a runtime with idle workers).
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for Resolver {
    fn drop(&mut self) {
        // Each loop owns the JoinSet of its per-query or per-connection
        // tasks, so aborting a loop aborts those too and every socket goes.
        for task in &self.tasks {
            task.abort();
        }
    }
}

async fn serve_udp(socket: Arc<UdpSocket>, shared: Arc<Shared>) {
    let mut in_flight = JoinSet::new();
    let mut buf = vec![0u8; usize::from(OUR_UDP_SIZE)];
    loop {
        while in_flight.try_join_next().is_some() {}
        let (len, peer) = match socket.recv_from(&mut buf).await {
            Ok(received) => received,
            Err(e) => {
                tracing::debug!(error = %e, "dns: udp receive failed");
                tokio::time::sleep(ERROR_BACKOFF).await;
                continue;
            }
        };
        let packet = &buf[..len];
        let Some(query) = parse_or_log(packet) else {
            continue;
        };
        let limit = query.udp_limit();
        let reply = match local::answer(&query, shared.names.as_ref(), limit) {
            Some(reply) => reply,
            None => match forward_permit(&shared) {
                Some(permit) => {
                    let packet = packet.to_vec();
                    let socket = Arc::clone(&socket);
                    let shared = Arc::clone(&shared);
                    in_flight.spawn(async move {
                        let _permit = permit;
                        // One byte over the limit tells an oversized reply
                        // apart from one that fits exactly.
                        let reply =
                            forward::over_udp(&packet, query.id, &shared.upstreams, limit + 1)
                                .await;
                        let reply = finish(&query, reply, limit);
                        if let Err(e) = socket.send_to(&reply, peer).await {
                            tracing::debug!(%peer, error = %e, "dns: udp send failed");
                        }
                    });
                    continue;
                }
                None => empty_reply(&query, RCODE_SERVFAIL),
            },
        };
        if let Err(e) = socket.send_to(&reply, peer).await {
            tracing::debug!(%peer, error = %e, "dns: udp send failed");
        }
    }
}

async fn serve_tcp(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::debug!(error = %e, "dns: tcp accept failed");
                tokio::time::sleep(ERROR_BACKOFF).await;
                continue;
            }
        };
        if connections.len() >= MAX_TCP_CONNECTIONS {
            tracing::debug!("dns: too many tcp connections, closing a new one");
            continue;
        }
        connections.spawn(serve_tcp_connection(stream, Arc::clone(&shared)));
    }
}

/// Serves length-prefixed queries on one connection, one after the other,
/// until the client closes it, idles out or sends something malformed.
async fn serve_tcp_connection(mut stream: TcpStream, shared: Arc<Shared>) {
    loop {
        let len = match timeout(TCP_IDLE_TIMEOUT, stream.read_u16()).await {
            Ok(Ok(len)) => usize::from(len),
            _ => return,
        };
        let mut packet = vec![0u8; len];
        if !matches!(
            timeout(TCP_IDLE_TIMEOUT, stream.read_exact(&mut packet)).await,
            Ok(Ok(_))
        ) {
            return;
        }
        let Some(query) = parse_or_log(&packet) else {
            return;
        };
        let reply = match local::answer(&query, shared.names.as_ref(), TCP_LIMIT) {
            Some(reply) => reply,
            None => match forward_permit(&shared) {
                Some(_permit) => {
                    let reply = forward::over_tcp(&packet, query.id, &shared.upstreams).await;
                    finish(&query, reply, TCP_LIMIT)
                }
                None => empty_reply(&query, RCODE_SERVFAIL),
            },
        };
        drop(packet);
        let mut framed = Vec::with_capacity(2 + reply.len());
        // Replies are built or cut to TCP_LIMIT, so the length fits.
        framed.extend_from_slice(&(reply.len().min(TCP_LIMIT) as u16).to_be_bytes());
        framed.extend_from_slice(&reply);
        if stream.write_all(&framed).await.is_err() {
            return;
        }
    }
}

fn parse_or_log(packet: &[u8]) -> Option<Query> {
    match parse_query(packet) {
        Ok(query) => Some(query),
        Err(Malformed(why)) => {
            tracing::trace!(why, "dns: dropping a malformed packet");
            None
        }
    }
}

fn forward_permit(shared: &Shared) -> Option<OwnedSemaphorePermit> {
    let permit = Arc::clone(&shared.forwards).try_acquire_owned().ok();
    if permit.is_none() {
        tracing::debug!("dns: too many forwarded queries in flight, answering SERVFAIL");
    }
    permit
}

/// The reply to send for a forwarded query: the upstream's, relayed, or
/// SERVFAIL when none answered.
fn finish(query: &Query, upstream_reply: Option<Vec<u8>>, limit: usize) -> Vec<u8> {
    match upstream_reply {
        Some(reply) => relay_reply(query, reply, limit),
        None => empty_reply(query, RCODE_SERVFAIL),
    }
}
