//! Forwarding a query the resolver cannot answer to the host's
//! nameservers, one after the other (libnetwork's `forwardExtDNS`).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{timeout, timeout_at, Instant};

use super::message::{is_reply_to, rcode, RCODE_REFUSED, RCODE_SERVFAIL};

/// How long one upstream gets to answer before the next is tried.
pub(crate) const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(2);

/// Sends the client's `query` (ID `id`) verbatim to each upstream in turn
/// over UDP and returns the first usable reply. SERVFAIL and REFUSED count
/// as unusable, as in Docker: the next upstream may do better. `max_reply`
/// is the largest reply to accept (the client's EDNS size or more).
pub(crate) async fn over_udp(
    query: &[u8],
    id: u16,
    upstreams: &[SocketAddr],
    max_reply: usize,
) -> Option<Vec<u8>> {
    for &upstream in upstreams {
        match udp_exchange(query, id, upstream, max_reply).await {
            Ok(Some(reply)) if usable(&reply) => return Some(reply),
            Ok(Some(reply)) => {
                tracing::debug!(%upstream, rcode = rcode(&reply), "dns: upstream failed the query")
            }
            Ok(None) => tracing::debug!(%upstream, "dns: upstream timed out"),
            Err(e) => tracing::debug!(%upstream, error = %e, "dns: forwarding over udp failed"),
        }
    }
    None
}

/// As [`over_udp`], over TCP (for queries that came in over TCP, usually a
/// retry after a truncated UDP reply).
pub(crate) async fn over_tcp(query: &[u8], id: u16, upstreams: &[SocketAddr]) -> Option<Vec<u8>> {
    for &upstream in upstreams {
        match timeout(UPSTREAM_TIMEOUT, tcp_exchange(query, id, upstream)).await {
            Ok(Ok(reply)) if usable(&reply) => return Some(reply),
            Ok(Ok(reply)) => {
                tracing::debug!(%upstream, rcode = rcode(&reply), "dns: upstream failed the query")
            }
            Ok(Err(e)) => tracing::debug!(%upstream, error = %e, "dns: forwarding over tcp failed"),
            Err(_) => tracing::debug!(%upstream, "dns: upstream timed out"),
        }
    }
    None
}

fn usable(reply: &[u8]) -> bool {
    !matches!(rcode(reply), RCODE_SERVFAIL | RCODE_REFUSED)
}

/// One UDP round trip on a fresh connected socket (a random source port
/// per query, and the kernel drops datagrams from anyone but `upstream`).
/// Datagrams that are not a reply to `id` are ignored until the timeout.
async fn udp_exchange(
    query: &[u8],
    id: u16,
    upstream: SocketAddr,
    max_reply: usize,
) -> std::io::Result<Option<Vec<u8>>> {
    let local: SocketAddr = if upstream.is_ipv4() {
        (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local).await?;
    socket.connect(upstream).await?;
    socket.send(query).await?;
    let deadline = Instant::now() + UPSTREAM_TIMEOUT;
    let mut buf = vec![0u8; max_reply];
    loop {
        match timeout_at(deadline, socket.recv(&mut buf)).await {
            Err(_) => return Ok(None),
            Ok(Err(e)) => return Err(e),
            Ok(Ok(n)) if is_reply_to(&buf[..n], id) => {
                buf.truncate(n);
                return Ok(Some(buf));
            }
            Ok(Ok(_)) => continue,
        }
    }
}

/// One TCP round trip: a length-prefixed query, a length-prefixed reply.
async fn tcp_exchange(query: &[u8], id: u16, upstream: SocketAddr) -> std::io::Result<Vec<u8>> {
    let len = u16::try_from(query.len())
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "query too long"))?;
    let mut stream = TcpStream::connect(upstream).await?;
    let mut framed = Vec::with_capacity(2 + query.len());
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(query);
    stream.write_all(&framed).await?;
    let reply_len = usize::from(stream.read_u16().await?);
    let mut reply = vec![0u8; reply_len];
    stream.read_exact(&mut reply).await?;
    if !is_reply_to(&reply, id) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not a reply to the query",
        ));
    }
    Ok(reply)
}
