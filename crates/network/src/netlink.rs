//! A small synchronous rtnetlink client: the link, address and route
//! operations the bridge driver needs, over one `NETLINK_ROUTE` socket.
//!
//! A netlink socket talks to the network namespace it was opened in, so
//! [`Netlink::open`] is called from a thread that has entered the namespace
//! to configure (see [`crate::netns`]). Synchronous on purpose: each call
//! is one request and its ack, microseconds apart, and the caller is
//! already on a dedicated thread.

use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::RawFd;

use ipnet::Ipv4Net;
use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL,
    NLM_F_REQUEST,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    InfoBridgePort, InfoData, InfoKind, InfoPortData, InfoPortKind, InfoVeth, LinkAttribute,
    LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

use crate::error::{NetworkError, Result};

/// An open rtnetlink socket in the calling thread's network namespace.
pub struct Netlink {
    socket: Socket,
    seq: u32,
}

/// What [`Netlink::set_link`] changes on a link; `None` leaves a field alone.
#[derive(Debug, Default, Clone)]
pub struct LinkChange<'a> {
    /// Bring the link up.
    pub up: bool,
    /// Enslave it to this bridge (by index).
    pub master: Option<u32>,
    /// New MTU.
    pub mtu: Option<u32>,
    /// New MAC address.
    pub mac: Option<[u8; 6]>,
    /// New name.
    pub name: Option<&'a str>,
    /// Move it into the network namespace open as this fd.
    pub netns_fd: Option<RawFd>,
}

impl Netlink {
    /// Opens a socket in the calling thread's network namespace.
    pub fn open() -> Result<Netlink> {
        let mut socket =
            Socket::new(NETLINK_ROUTE).map_err(|e| NetworkError::io("netlink socket", e))?;
        socket
            .bind_auto()
            .map_err(|e| NetworkError::io("netlink bind", e))?;
        socket
            .connect(&SocketAddr::new(0, 0))
            .map_err(|e| NetworkError::io("netlink connect", e))?;
        Ok(Netlink { socket, seq: 0 })
    }

    /// Sends one request and collects its replies until the ack (or the end
    /// of a dump), with `what` as the error's context.
    fn request(
        &mut self,
        what: &str,
        message: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<Vec<RouteNetlinkMessage>> {
        self.request_raw(message, flags)
            .map_err(|e| NetworkError::io(format!("netlink {what}"), e))
    }

    /// [`Netlink::request`] keeping the kernel's errno.
    fn request_raw(
        &mut self,
        message: RouteNetlinkMessage,
        flags: u16,
    ) -> std::io::Result<Vec<RouteNetlinkMessage>> {
        self.seq = self.seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        // Every non-dump request asks for an ack, so even a GET ends with one.
        let dump = flags & NLM_F_DUMP == NLM_F_DUMP;
        header.flags = NLM_F_REQUEST | flags | if dump { 0 } else { NLM_F_ACK };
        header.sequence_number = self.seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(message));
        packet.finalize();
        let mut out = vec![0u8; packet.buffer_len()];
        packet.serialize(&mut out);
        self.socket.send(&out, 0)?;

        let mut replies = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = self.socket.recv(&mut &mut buf[..], 0)?;
            let mut offset = 0;
            while offset < n {
                let reply = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&buf[offset..n])
                    .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
                let len = reply.header.length as usize;
                if len == 0 {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "empty netlink reply",
                    ));
                }
                offset += len;
                if reply.header.sequence_number != self.seq {
                    continue;
                }
                match reply.payload {
                    NetlinkPayload::Done(_) => return Ok(replies),
                    NetlinkPayload::Error(e) => match e.code {
                        None => return Ok(replies),
                        Some(_) => return Err(e.to_io()),
                    },
                    NetlinkPayload::InnerMessage(m) => replies.push(m),
                    _ => {}
                }
            }
        }
    }

    /// The index of the link called `name`, or `None` when there is none.
    pub fn link_index(&mut self, name: &str) -> Result<Option<u32>> {
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(name.to_string()));
        match self.request_raw(RouteNetlinkMessage::GetLink(msg), 0) {
            Ok(replies) => Ok(replies.into_iter().find_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(l.header.index),
                _ => None,
            })),
            Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Ok(None),
            Err(e) => Err(NetworkError::io(format!("netlink get link {name}"), e)),
        }
    }

    /// The index of `name`, or NotFound.
    pub fn require_link(&mut self, name: &str) -> Result<u32> {
        self.link_index(name)?
            .ok_or_else(|| NetworkError::NotFound(format!("no link named {name}")))
    }

    /// Creates a bridge called `name` (down; see [`Netlink::set_link`]).
    pub fn add_bridge(&mut self, name: &str, mtu: Option<u32>) -> Result<u32> {
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(name.to_string()));
        if let Some(mtu) = mtu {
            msg.attributes.push(LinkAttribute::Mtu(mtu));
        }
        msg.attributes
            .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(
                InfoKind::Bridge,
            )]));
        self.request(
            &format!("add bridge {name}"),
            RouteNetlinkMessage::NewLink(msg),
            NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
        )?;
        self.require_link(name)
    }

    /// Creates the veth pair `name` <-> `peer`, with the peer placed
    /// straight into the network namespace open as `peer_netns`. Returns
    /// the index of `name` (which stays in this namespace, down).
    pub fn add_veth(
        &mut self,
        name: &str,
        peer: &str,
        peer_netns: RawFd,
        mtu: Option<u32>,
    ) -> Result<u32> {
        let mut peer_msg = LinkMessage::default();
        peer_msg
            .attributes
            .push(LinkAttribute::IfName(peer.to_string()));
        peer_msg.attributes.push(LinkAttribute::NetNsFd(peer_netns));
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(name.to_string()));
        if let Some(mtu) = mtu {
            msg.attributes.push(LinkAttribute::Mtu(mtu));
            peer_msg.attributes.push(LinkAttribute::Mtu(mtu));
        }
        msg.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer_msg))),
        ]));
        self.request(
            &format!("add veth {name}"),
            RouteNetlinkMessage::NewLink(msg),
            NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
        )?;
        self.require_link(name)
    }

    /// Applies `change` to the link at `index`.
    pub fn set_link(&mut self, index: u32, change: &LinkChange<'_>) -> Result<()> {
        let mut msg = LinkMessage::default();
        msg.header.index = index;
        if change.up {
            msg.header.flags = LinkFlags::Up;
            msg.header.change_mask = LinkFlags::Up;
        }
        if let Some(master) = change.master {
            msg.attributes.push(LinkAttribute::Controller(master));
        }
        if let Some(mtu) = change.mtu {
            msg.attributes.push(LinkAttribute::Mtu(mtu));
        }
        if let Some(mac) = change.mac {
            msg.attributes.push(LinkAttribute::Address(mac.to_vec()));
        }
        if let Some(name) = change.name {
            msg.attributes.push(LinkAttribute::IfName(name.to_string()));
        }
        if let Some(fd) = change.netns_fd {
            msg.attributes.push(LinkAttribute::NetNsFd(fd));
        }
        self.request("set link", RouteNetlinkMessage::SetLink(msg), NLM_F_ACK)?;
        Ok(())
    }

    /// Turns on hairpin mode on the bridge port at `index`, so traffic can
    /// leave by the port it came in (`ip link set .. type bridge_slave hairpin on`).
    pub fn set_hairpin(&mut self, index: u32) -> Result<()> {
        let mut msg = LinkMessage::default();
        msg.header.index = index;
        msg.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::PortKind(InfoPortKind::Bridge),
            LinkInfo::PortData(InfoPortData::BridgePort(vec![InfoBridgePort::HairpinMode(
                true,
            )])),
        ]));
        self.request("set hairpin", RouteNetlinkMessage::NewLink(msg), 0)?;
        Ok(())
    }

    /// Deletes the link at `index` (a veth takes its peer with it).
    pub fn del_link(&mut self, index: u32) -> Result<()> {
        let mut msg = LinkMessage::default();
        msg.header.index = index;
        self.request("delete link", RouteNetlinkMessage::DelLink(msg), NLM_F_ACK)?;
        Ok(())
    }

    /// Deletes the link called `name` if there is one.
    pub fn del_link_named(&mut self, name: &str) -> Result<()> {
        match self.link_index(name)? {
            Some(i) => self.del_link(i),
            None => Ok(()),
        }
    }

    /// Adds `addr` to the link at `index` (an existing address is not an error).
    pub fn add_address(&mut self, index: u32, addr: Ipv4Net) -> Result<()> {
        let mut msg = AddressMessage::default();
        msg.header.family = AddressFamily::Inet;
        msg.header.prefix_len = addr.prefix_len();
        msg.header.index = index;
        let ip = IpAddr::V4(addr.addr());
        msg.attributes.push(AddressAttribute::Local(ip));
        msg.attributes.push(AddressAttribute::Address(ip));
        msg.attributes
            .push(AddressAttribute::Broadcast(addr.broadcast()));
        match self.request_raw(
            RouteNetlinkMessage::NewAddress(msg),
            NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
        ) {
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => Ok(()),
            r => r
                .map(drop)
                .map_err(|e| NetworkError::io(format!("netlink add address {addr}"), e)),
        }
    }

    /// The IPv4 addresses (with prefix) on the link at `index`.
    pub fn addresses(&mut self, index: u32) -> Result<Vec<Ipv4Net>> {
        let mut msg = AddressMessage::default();
        msg.header.family = AddressFamily::Inet;
        let replies = self.request(
            "list addresses",
            RouteNetlinkMessage::GetAddress(msg),
            NLM_F_DUMP,
        )?;
        Ok(replies
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewAddress(a) if a.header.index == index => {
                    a.attributes.iter().find_map(|attr| match attr {
                        AddressAttribute::Local(IpAddr::V4(ip)) => {
                            Ipv4Net::new(*ip, a.header.prefix_len).ok()
                        }
                        _ => None,
                    })
                }
                _ => None,
            })
            .collect())
    }

    /// Adds the default route via `gateway` out of the link at `index`.
    pub fn add_default_route(&mut self, index: u32, gateway: Ipv4Addr) -> Result<()> {
        let mut msg = RouteMessage::default();
        msg.header.address_family = AddressFamily::Inet;
        msg.header.table = RouteHeader::RT_TABLE_MAIN;
        msg.header.protocol = RouteProtocol::Boot;
        msg.header.scope = RouteScope::Universe;
        msg.header.kind = RouteType::Unicast;
        msg.attributes
            .push(RouteAttribute::Gateway(RouteAddress::Inet(gateway)));
        msg.attributes.push(RouteAttribute::Oif(index));
        self.request(
            "add default route",
            RouteNetlinkMessage::NewRoute(msg),
            NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
        )?;
        Ok(())
    }

    /// The destinations of every IPv4 route in the main table except the
    /// default route: what a new bridge subnet must not overlap.
    pub fn route_destinations(&mut self) -> Result<Vec<Ipv4Net>> {
        let mut msg = RouteMessage::default();
        msg.header.address_family = AddressFamily::Inet;
        let replies = self.request(
            "list routes",
            RouteNetlinkMessage::GetRoute(msg),
            NLM_F_DUMP,
        )?;
        Ok(replies
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewRoute(r)
                    if r.header.table == RouteHeader::RT_TABLE_MAIN
                        && r.header.destination_prefix_length > 0 =>
                {
                    r.attributes.iter().find_map(|a| match a {
                        RouteAttribute::Destination(RouteAddress::Inet(ip)) => {
                            Ipv4Net::new(*ip, r.header.destination_prefix_length).ok()
                        }
                        _ => None,
                    })
                }
                _ => None,
            })
            .collect())
    }
}
