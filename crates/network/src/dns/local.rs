//! Which queries the resolver answers itself, and how (libnetwork's
//! `handleIPQuery` and `handlePTRQuery`).

use super::message::{
    build_reply, parse_reverse_v4, Answer, Query, CLASS_IN, RCODE_NOERROR, TYPE_A, TYPE_AAAA,
    TYPE_PTR,
};
use super::NameLookup;

/// The local reply to `query`, cut to `limit` bytes, or `None` when the
/// query is not about a name or address on the container's networks and
/// must be forwarded:
/// - A for a known name: one record per address;
/// - AAAA for a known name: NOERROR and no answer (containers get no IPv6
///   address here, and answering stops the client from asking upstream
///   about a container name);
/// - PTR for a known address under in-addr.arpa: the name.
pub(crate) fn answer(query: &Query, names: &dyn NameLookup, limit: usize) -> Option<Vec<u8>> {
    if query.opcode() != 0 || !query.single_question || query.qclass != CLASS_IN {
        return None;
    }
    match query.qtype {
        TYPE_A => {
            let addrs = names.lookup_v4(&query.name);
            if addrs.is_empty() {
                return None;
            }
            let answers: Vec<Answer<'_>> = addrs.into_iter().map(Answer::A).collect();
            build_reply(query, RCODE_NOERROR, &answers, limit)
        }
        TYPE_AAAA => {
            if names.lookup_v4(&query.name).is_empty() {
                return None;
            }
            build_reply(query, RCODE_NOERROR, &[], limit)
        }
        TYPE_PTR => {
            let ip = parse_reverse_v4(&query.name)?;
            let target = names.lookup_ptr(ip)?;
            build_reply(query, RCODE_NOERROR, &[Answer::Ptr(&target)], limit)
        }
        _ => None,
    }
}
