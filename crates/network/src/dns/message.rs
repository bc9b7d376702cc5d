//! The DNS wire format, as much of it as the resolver needs (RFC 1035,
//! RFC 6891 for EDNS): parse a query's header, first question and EDNS
//! payload size, and build replies with A or PTR answers. Hand-written and
//! small on purpose: the resolver runs once per container.

use std::net::Ipv4Addr;

/// Record type A (an IPv4 address).
pub(crate) const TYPE_A: u16 = 1;
/// Record type PTR (a reverse-lookup name).
pub(crate) const TYPE_PTR: u16 = 12;
/// Record type AAAA (an IPv6 address).
pub(crate) const TYPE_AAAA: u16 = 28;
/// Record type OPT, EDNS's pseudo-record in the additional section.
const TYPE_OPT: u16 = 41;
/// Class IN (the Internet).
pub(crate) const CLASS_IN: u16 = 1;

/// Response code: no error.
pub(crate) const RCODE_NOERROR: u8 = 0;
/// Response code: the server failed to complete the request.
pub(crate) const RCODE_SERVFAIL: u8 = 2;
/// Response code: the server refuses to answer.
pub(crate) const RCODE_REFUSED: u8 = 5;

/// The TTL of local answers, Docker's (libnetwork's `respTTL`).
const LOCAL_TTL: u32 = 600;
/// The size limit of a UDP reply when the query carries no EDNS record.
pub(crate) const CLASSIC_UDP_LIMIT: usize = 512;
/// The UDP payload size this resolver advertises in its own OPT records;
/// it is also the size of its receive buffer.
pub(crate) const OUR_UDP_SIZE: u16 = 4096;
/// The largest message TCP's two-byte length prefix can carry.
pub(crate) const TCP_LIMIT: usize = 65535;

const HEADER_LEN: usize = 12;
const FLAG_QR: u16 = 0x8000;
const FLAG_TC: u16 = 0x0200;
const FLAG_RD: u16 = 0x0100;
const FLAG_RA: u16 = 0x0080;
const FLAG_CD: u16 = 0x0010;
const OPCODE_MASK: u16 = 0x7800;
/// A name is at most 255 bytes in wire form (RFC 1035 3.1).
const MAX_NAME_WIRE: usize = 255;
const MAX_LABEL: usize = 63;
/// A compression pointer to the question name, which always sits right
/// after the header in the replies this module builds.
const POINTER_TO_QUESTION: [u8; 2] = [0xC0, HEADER_LEN as u8];

/// Why a packet could not be read as a query; such packets are dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Malformed(pub &'static str);

/// A parsed query: what the resolver needs to answer it or to build a
/// reply around an upstream's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Query {
    /// The client's transaction ID.
    pub id: u16,
    /// The header's flags word as the client sent it.
    flags: u16,
    /// The first question's name in uncompressed wire form, in the
    /// client's case: echoed back as is, since some resolvers check the
    /// case of the echoed question (DNS 0x20).
    qname_wire: Vec<u8>,
    /// The first question's name in presentation form: lowercase, no
    /// trailing dot, `.` and unprintable bytes inside a label escaped (so
    /// such a name can never equal a container's name).
    pub name: String,
    /// The first question's type.
    pub qtype: u16,
    /// The first question's class.
    pub qclass: u16,
    /// Whether the query has exactly one question (the only kind answered
    /// locally; others are forwarded).
    pub single_question: bool,
    /// The UDP payload size from the query's OPT record, if it has one.
    pub edns_size: Option<u16>,
}

impl Query {
    /// The opcode (0 is a standard query).
    pub fn opcode(&self) -> u8 {
        ((self.flags & OPCODE_MASK) >> 11) as u8
    }

    /// The largest UDP reply the client accepts: 512 bytes, or more when
    /// its EDNS record says so.
    pub fn udp_limit(&self) -> usize {
        match self.edns_size {
            Some(size) => usize::from(size).max(CLASSIC_UDP_LIMIT),
            None => CLASSIC_UDP_LIMIT,
        }
    }
}

/// Parses a query. Responses (QR set), packets without a question, and
/// anything that runs off its end or loops are [`Malformed`].
pub(crate) fn parse_query(msg: &[u8]) -> Result<Query, Malformed> {
    if msg.len() < HEADER_LEN {
        return Err(Malformed("shorter than a header"));
    }
    let id = be16(msg, 0)?;
    let flags = be16(msg, 2)?;
    if flags & FLAG_QR != 0 {
        return Err(Malformed("a response, not a query"));
    }
    let qdcount = be16(msg, 4)?;
    let ancount = be16(msg, 6)?;
    let nscount = be16(msg, 8)?;
    let arcount = be16(msg, 10)?;
    if qdcount == 0 {
        return Err(Malformed("no question"));
    }

    let mut qname_wire = Vec::with_capacity(32);
    let mut name = String::with_capacity(32);
    let mut pos = read_name(msg, HEADER_LEN, &mut qname_wire, &mut name)?;
    let qtype = be16(msg, pos)?;
    let qclass = be16(msg, pos + 2)?;
    pos += 4;
    for _ in 1..qdcount {
        pos = skip_name(msg, pos)? + 4;
    }
    for _ in 0..u32::from(ancount) + u32::from(nscount) {
        pos = skip_record(msg, pos)?.0;
    }
    let mut edns_size = None;
    for _ in 0..arcount {
        let (next, rtype, class) = skip_record(msg, pos)?;
        if rtype == TYPE_OPT && msg.get(pos) == Some(&0) {
            edns_size = Some(class);
        }
        pos = next;
    }
    if pos > msg.len() {
        return Err(Malformed("runs off its end"));
    }

    Ok(Query {
        id,
        flags,
        qname_wire,
        name,
        qtype,
        qclass,
        single_question: qdcount == 1,
        edns_size,
    })
}

/// The data of one answer record in a local reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer<'a> {
    /// An A record.
    A(Ipv4Addr),
    /// A PTR record pointing at this name (presentation form, with or
    /// without the trailing dot).
    Ptr(&'a str),
}

/// Builds the reply to `query` with `rcode` and `answers` (all owned by the
/// question's name, with Docker's TTL). When it would exceed `limit`
/// bytes, the answers that do not fit are left out and TC is set, so the
/// client retries over TCP. Returns `None` when an answer cannot be
/// encoded (a PTR target that is not a valid name).
pub(crate) fn build_reply(
    query: &Query,
    rcode: u8,
    answers: &[Answer<'_>],
    limit: usize,
) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(HEADER_LEN + query.qname_wire.len() + 4 + answers.len() * 16);
    let flags = FLAG_QR
        | (query.flags & (OPCODE_MASK | FLAG_RD | FLAG_CD))
        | FLAG_RA
        | u16::from(rcode & 0x0F);
    put_header(&mut out, query.id, flags);
    put_question(&mut out, query);

    // Offsets where each answer ends, to cut at a record boundary.
    let mut ends = Vec::with_capacity(answers.len());
    for answer in answers {
        out.extend_from_slice(&POINTER_TO_QUESTION);
        match answer {
            Answer::A(ip) => {
                put_rr_fixed(&mut out, TYPE_A, 4);
                out.extend_from_slice(&ip.octets());
            }
            Answer::Ptr(target) => {
                put_rr_fixed(&mut out, TYPE_PTR, 0);
                let rdata_at = out.len();
                encode_name(target, &mut out)?;
                let rdlen = u16::try_from(out.len() - rdata_at).ok()?;
                out[rdata_at - 2..rdata_at].copy_from_slice(&rdlen.to_be_bytes());
            }
        }
        ends.push(out.len());
    }

    let opt_len = if query.edns_size.is_some() { 11 } else { 0 };
    let mut ancount = answers.len();
    if out.len() + opt_len > limit {
        ancount = ends
            .iter()
            .take_while(|&&end| end + opt_len <= limit)
            .count();
        let keep = if ancount == 0 {
            HEADER_LEN + query.qname_wire.len() + 4
        } else {
            ends[ancount - 1]
        };
        out.truncate(keep);
        set_flag(&mut out, FLAG_TC);
    }
    out[6..8].copy_from_slice(&u16::try_from(ancount).ok()?.to_be_bytes());
    if query.edns_size.is_some() {
        put_opt(&mut out);
    }
    Some(out)
}

/// A reply with `rcode` and no answers (SERVFAIL when no upstream answered).
pub(crate) fn empty_reply(query: &Query, rcode: u8) -> Vec<u8> {
    // Cannot fail: there is no answer to encode and the question fits.
    build_reply(query, rcode, &[], TCP_LIMIT).unwrap_or_default()
}

/// Whether `reply` is a well-formed answer to the query with `id`: long
/// enough for a header, QR set, same ID. Anything else from an upstream is
/// ignored.
pub(crate) fn is_reply_to(reply: &[u8], id: u16) -> bool {
    reply.len() >= HEADER_LEN
        && reply[2] & 0x80 != 0
        && u16::from_be_bytes([reply[0], reply[1]]) == id
}

/// The response code of a reply (the header's low four bits).
pub(crate) fn rcode(reply: &[u8]) -> u8 {
    reply.get(3).map_or(0, |b| b & 0x0F)
}

/// Makes an upstream's `reply` the one to send the client: the client's
/// ID, and when it exceeds `limit` (a UDP client's size), just its header
/// and the question with TC set so the client retries over TCP.
pub(crate) fn relay_reply(query: &Query, mut reply: Vec<u8>, limit: usize) -> Vec<u8> {
    if reply.len() < HEADER_LEN {
        return empty_reply(query, RCODE_SERVFAIL);
    }
    reply[0..2].copy_from_slice(&query.id.to_be_bytes());
    if reply.len() <= limit {
        return reply;
    }
    let flags = u16::from_be_bytes([reply[2], reply[3]]) | FLAG_TC;
    let mut out = Vec::with_capacity(HEADER_LEN + query.qname_wire.len() + 4 + 11);
    put_header(&mut out, query.id, flags);
    put_question(&mut out, query);
    if query.edns_size.is_some() {
        put_opt(&mut out);
    }
    out
}

/// The IPv4 address a reverse-lookup name (`d.c.b.a.in-addr.arpa`, already
/// lowercase) stands for, if it is one.
pub(crate) fn parse_reverse_v4(name: &str) -> Option<Ipv4Addr> {
    let digits = name.strip_suffix(".in-addr.arpa")?;
    let mut octets = [0u8; 4];
    let mut labels = digits.split('.');
    for slot in octets.iter_mut().rev() {
        let label = labels.next()?;
        // Plain decimal only: `u8::from_str` would also take "+1".
        if label.is_empty() || label.len() > 3 || !label.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *slot = label.parse().ok()?;
    }
    if labels.next().is_some() {
        return None;
    }
    Some(Ipv4Addr::from(octets))
}

fn be16(msg: &[u8], at: usize) -> Result<u16, Malformed> {
    match msg.get(at..at + 2) {
        Some(b) => Ok(u16::from_be_bytes([b[0], b[1]])),
        None => Err(Malformed("runs off its end")),
    }
}

/// Reads the (possibly compressed) name at `start`, appending it in
/// uncompressed wire form to `wire` and in lowercase presentation form to
/// `text`; returns the offset just past the name where it started.
/// Pointers must point strictly backwards, so a name cannot loop.
fn read_name(
    msg: &[u8],
    start: usize,
    wire: &mut Vec<u8>,
    text: &mut String,
) -> Result<usize, Malformed> {
    let mut pos = start;
    // Where the labels being read began: a pointer must go before it.
    let mut floor = start;
    let mut resume = None;
    loop {
        let len = *msg.get(pos).ok_or(Malformed("name runs off the end"))?;
        match len & 0xC0 {
            0x00 => {
                let len = usize::from(len);
                if len == 0 {
                    wire.push(0);
                    if wire.len() > MAX_NAME_WIRE {
                        return Err(Malformed("name longer than 255 bytes"));
                    }
                    return Ok(resume.unwrap_or(pos + 1));
                }
                let label = msg
                    .get(pos + 1..pos + 1 + len)
                    .ok_or(Malformed("label runs off the end"))?;
                if wire.len() + 1 + len + 1 > MAX_NAME_WIRE {
                    return Err(Malformed("name longer than 255 bytes"));
                }
                wire.push(len as u8);
                wire.extend_from_slice(label);
                if !text.is_empty() {
                    text.push('.');
                }
                push_label_text(label, text);
                pos += 1 + len;
            }
            0xC0 => {
                let low = *msg
                    .get(pos + 1)
                    .ok_or(Malformed("pointer runs off the end"))?;
                let target = usize::from(u16::from_be_bytes([len & 0x3F, low]));
                if target >= floor {
                    return Err(Malformed("compression pointer does not point backwards"));
                }
                resume.get_or_insert(pos + 2);
                floor = target;
                pos = target;
            }
            _ => return Err(Malformed("reserved label type")),
        }
    }
}

/// Appends a label in lowercase presentation form, escaping what would
/// make the dotted text ambiguous.
fn push_label_text(label: &[u8], text: &mut String) {
    for &b in label {
        match b {
            b'.' | b'\\' => {
                text.push('\\');
                text.push(char::from(b));
            }
            0x21..=0x7E => text.push(char::from(b.to_ascii_lowercase())),
            _ => {
                text.push('\\');
                text.push(char::from(b'0' + b / 100));
                text.push(char::from(b'0' + (b / 10) % 10));
                text.push(char::from(b'0' + b % 10));
            }
        }
    }
}

/// The offset just past the name at `pos`, without following pointers.
fn skip_name(msg: &[u8], mut pos: usize) -> Result<usize, Malformed> {
    loop {
        let len = *msg.get(pos).ok_or(Malformed("name runs off the end"))?;
        match len & 0xC0 {
            0x00 if len == 0 => return Ok(pos + 1),
            0x00 => pos += 1 + usize::from(len),
            0xC0 => return Ok(pos + 2),
            _ => return Err(Malformed("reserved label type")),
        }
    }
}

/// Skips the resource record at `pos`; returns the offset past it, its
/// type and its class.
fn skip_record(msg: &[u8], pos: usize) -> Result<(usize, u16, u16), Malformed> {
    let fixed = skip_name(msg, pos)?;
    let rtype = be16(msg, fixed)?;
    let class = be16(msg, fixed + 2)?;
    let rdlen = usize::from(be16(msg, fixed + 8)?);
    let end = fixed + 10 + rdlen;
    if end > msg.len() {
        return Err(Malformed("record data runs off the end"));
    }
    Ok((end, rtype, class))
}

/// Encodes a presentation-form name (no escapes: container and network
/// names never have them) into uncompressed wire form.
fn encode_name(name: &str, out: &mut Vec<u8>) -> Option<()> {
    let name = name.strip_suffix('.').unwrap_or(name);
    let start = out.len();
    if !name.is_empty() {
        for label in name.split('.') {
            if label.is_empty() || label.len() > MAX_LABEL {
                return None;
            }
            out.push(label.len() as u8);
            out.extend_from_slice(label.as_bytes());
        }
    }
    out.push(0);
    (out.len() - start <= MAX_NAME_WIRE).then_some(())
}

fn put_header(out: &mut Vec<u8>, id: u16, flags: u16) {
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&flags.to_be_bytes());
    // One question; the answer count is patched in later; no authority or
    // additional records besides an OPT added by `put_opt`.
    out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
}

fn put_question(out: &mut Vec<u8>, query: &Query) {
    out.extend_from_slice(&query.qname_wire);
    out.extend_from_slice(&query.qtype.to_be_bytes());
    out.extend_from_slice(&query.qclass.to_be_bytes());
}

/// Type, class IN, TTL and RDLENGTH of an answer whose owner name was just
/// written.
fn put_rr_fixed(out: &mut Vec<u8>, rtype: u16, rdlen: u16) {
    out.extend_from_slice(&rtype.to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    out.extend_from_slice(&LOCAL_TTL.to_be_bytes());
    out.extend_from_slice(&rdlen.to_be_bytes());
}

/// Appends an OPT record (RFC 6891 requires one in the reply to a query
/// that had one) and counts it in ARCOUNT.
fn put_opt(out: &mut Vec<u8>) {
    out.push(0);
    out.extend_from_slice(&TYPE_OPT.to_be_bytes());
    out.extend_from_slice(&OUR_UDP_SIZE.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    out[10..12].copy_from_slice(&1u16.to_be_bytes());
}

fn set_flag(out: &mut [u8], flag: u16) {
    let flags = u16::from_be_bytes([out[2], out[3]]) | flag;
    out[2..4].copy_from_slice(&flags.to_be_bytes());
}

#[cfg(test)]
mod tests;
