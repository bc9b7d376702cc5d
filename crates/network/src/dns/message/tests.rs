//! Wire-format tests over real query layouts and hostile input.

use super::*;

/// `busybox nslookup -type=a Web.Example` as captured on the wire.
const BUSYBOX_QUERY: &str = "ecdc0100000100000000000003576562074578616d706c650000010001";

/// A `dig web AAAA` style query: RD+AD, one OPT record (payload 1232)
/// carrying an 8-byte client cookie.
const DIG_QUERY: &str = concat!(
    "1a2b01200001000000000001",
    "0377656200001c0001",
    // OPT: root owner, type 41, payload 1232, TTL 0, 12 bytes of options.
    "00002904d000000000000c",
    "000a00080102030405060708"
);

fn bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn dns_parses_a_busybox_query() {
    let q = parse_query(&bytes(BUSYBOX_QUERY)).unwrap();
    assert_eq!(q.id, 0xecdc);
    assert_eq!(q.name, "web.example");
    assert_eq!((q.qtype, q.qclass), (TYPE_A, CLASS_IN));
    assert_eq!(q.opcode(), 0);
    assert!(q.single_question);
    assert_eq!(q.edns_size, None);
    assert_eq!(q.udp_limit(), 512);
}

#[test]
fn dns_parses_a_dig_query_with_edns() {
    let q = parse_query(&bytes(DIG_QUERY)).unwrap();
    assert_eq!(q.id, 0x1a2b);
    assert_eq!(q.name, "web");
    assert_eq!(q.qtype, TYPE_AAAA);
    assert_eq!(q.edns_size, Some(1232));
    assert_eq!(q.udp_limit(), 1232);
}

#[test]
fn dns_reply_echoes_the_question_in_the_clients_case() {
    let q = parse_query(&bytes(BUSYBOX_QUERY)).unwrap();
    let ip = Ipv4Addr::new(172, 18, 0, 2);
    let reply = build_reply(&q, RCODE_NOERROR, &[Answer::A(ip)], 512).unwrap();
    let mut want = bytes("ecdc8180000100010000000003576562074578616d706c650000010001");
    // Owner: a pointer to the question; A IN, TTL 600, 4 bytes.
    want.extend_from_slice(&bytes("c00c00010001000002580004ac120002"));
    assert_eq!(reply, want);
}

#[test]
fn dns_reply_to_an_edns_query_carries_an_opt_record() {
    let q = parse_query(&bytes(DIG_QUERY)).unwrap();
    let reply = build_reply(&q, RCODE_NOERROR, &[], q.udp_limit()).unwrap();
    // QR RD RA (CD and the opcode copied; AD is not), 1 question, 0
    // answers, 1 additional.
    assert_eq!(&reply[..12], &bytes("1a2b81800001000000000001")[..]);
    assert_eq!(
        &reply[reply.len() - 11..],
        &bytes("0000291000000000000000")[..]
    );
}

#[test]
fn dns_ptr_reply_encodes_the_target_name() {
    let mut query = bytes("000701000001000000000000");
    for label in ["2", "0", "18", "172", "in-addr", "arpa"] {
        query.push(label.len() as u8);
        query.extend_from_slice(label.as_bytes());
    }
    query.extend_from_slice(&[0, 0, 12, 0, 1]);
    let q = parse_query(&query).unwrap();
    assert_eq!(q.name, "2.0.18.172.in-addr.arpa");
    assert_eq!(
        parse_reverse_v4(&q.name),
        Some(Ipv4Addr::new(172, 18, 0, 2))
    );
    let reply = build_reply(&q, RCODE_NOERROR, &[Answer::Ptr("web.mynet")], 512).unwrap();
    let tail = &reply[query.len()..];
    // Pointer owner, PTR IN, TTL 600, 11 bytes of name.
    assert_eq!(&tail[..12], &bytes("c00c000c000100000258000b")[..]);
    assert_eq!(&tail[12..], b"\x03web\x05mynet\x00");
}

#[test]
fn dns_reverse_names_must_be_four_plain_octets() {
    assert_eq!(
        parse_reverse_v4("1.0.0.127.in-addr.arpa"),
        Some(Ipv4Addr::LOCALHOST)
    );
    for bad in [
        "0.0.127.in-addr.arpa",
        "1.1.0.0.127.in-addr.arpa",
        "256.0.0.127.in-addr.arpa",
        "+1.0.0.127.in-addr.arpa",
        "1..0.127.in-addr.arpa",
        "1.0.0.127.ip6.arpa",
        "1.0.0.127",
    ] {
        assert_eq!(parse_reverse_v4(bad), None, "{bad}");
    }
}

#[test]
fn dns_follows_compression_pointers_backwards() {
    // A second question whose name is "www" + pointer to "web.example"
    // (offset 12): the parser skips it, and a query whose first name
    // points back into the header region is rejected.
    let mut two = bytes(BUSYBOX_QUERY);
    two[5] = 2;
    two.extend_from_slice(&bytes("03777777c00c00010001"));
    let q = parse_query(&two).unwrap();
    assert_eq!(q.name, "web.example");
    assert!(!q.single_question);

    // Nothing precedes the first question but the header, so a compressed
    // first name can only point into it: here at a label "a" that the ID
    // bytes happen to spell (legal, if odd).
    let mut hdr_ptr = bytes("01610000000100000000000003617069c00000010001");
    assert_eq!(parse_query(&hdr_ptr).unwrap().name, "api.a");
    // A pointer to itself loops: rejected, not followed forever.
    hdr_ptr = bytes("ecdc01000001000000000000c00c00010001");
    assert_eq!(
        parse_query(&hdr_ptr),
        Err(Malformed("compression pointer does not point backwards"))
    );
}

#[test]
fn dns_compressed_names_in_other_sections_are_skipped() {
    // An answer in the query (as some clients send for updates) whose owner
    // is a pointer, then an OPT: the EDNS size is still found.
    let mut msg = bytes(BUSYBOX_QUERY);
    msg[7] = 1; // ANCOUNT
    msg[11] = 1; // ARCOUNT
    msg.extend_from_slice(&bytes("c00c000100010000001000047f000001"));
    msg.extend_from_slice(&bytes("00002905c0000000000000"));
    let q = parse_query(&msg).unwrap();
    assert_eq!(q.edns_size, Some(1472));
}

#[test]
fn dns_escapes_dots_and_odd_bytes_inside_labels() {
    // One label "a.b" and one with a space and an upper-case letter.
    let mut msg = bytes("000101000001000000000000");
    msg.extend_from_slice(b"\x03a.b\x03X y\x00\x00\x01\x00\x01");
    let q = parse_query(&msg).unwrap();
    assert_eq!(q.name, "a\\.b.x\\032y");
}

#[test]
fn dns_root_name_parses_as_empty() {
    let msg = bytes("0001010000010000000000000000020001");
    let q = parse_query(&msg).unwrap();
    assert_eq!(q.name, "");
    assert_eq!(q.qtype, 2);
}

#[test]
fn dns_malformed_packets_are_errors_not_panics() {
    let good = bytes(DIG_QUERY);
    // Every truncation of a valid query fails cleanly (the OPT record is
    // the last thing, so any cut breaks something).
    for len in 0..good.len() {
        assert!(parse_query(&good[..len]).is_err(), "len {len}");
    }
    let cases: &[(&str, &str)] = &[
        (
            "ecdc8100000100000000000003576562000001 0001",
            "a response, not a query",
        ),
        ("ecdc0100000000000000000003576562000001 0001", "no question"),
        (
            "ecdc0100000100000000000043576562000001 0001",
            "reserved label type",
        ),
        ("ecdc01000001000000000000c0", "pointer runs off the end"),
        (
            "ecdc01000001000000000000c0ff00010001",
            "compression pointer does not point backwards",
        ),
        ("ecdc010000010000000000000000", "runs off its end"),
    ];
    for (hex, why) in cases {
        let hex: String = hex.split_whitespace().collect();
        assert_eq!(parse_query(&bytes(&hex)), Err(Malformed(why)), "{hex}");
    }
    // A name longer than 255 bytes: five 63-byte labels.
    let mut long = bytes("000101000001000000000000");
    for _ in 0..5 {
        long.push(63);
        long.extend_from_slice(&[b'a'; 63]);
    }
    long.extend_from_slice(&[0, 0, 1, 0, 1]);
    assert_eq!(
        parse_query(&long),
        Err(Malformed("name longer than 255 bytes"))
    );
    // Garbage of every length up to a few hundred bytes never panics.
    let mut seed = 0x2545_f491_u32;
    for len in 0..400 {
        let junk: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                seed as u8
            })
            .collect();
        let _ = parse_query(&junk);
    }
}

#[test]
fn dns_udp_replies_over_the_limit_are_truncated_with_tc() {
    let q = parse_query(&bytes(BUSYBOX_QUERY)).unwrap();
    let many: Vec<Answer<'_>> = (0..40)
        .map(|i| Answer::A(Ipv4Addr::new(10, 0, 0, i)))
        .collect();
    let reply = build_reply(&q, RCODE_NOERROR, &many, 512).unwrap();
    assert!(reply.len() <= 512);
    assert_ne!(reply[2] & 0x02, 0, "TC set");
    let ancount = u16::from_be_bytes([reply[6], reply[7]]) as usize;
    let question_end = bytes(BUSYBOX_QUERY).len();
    assert_eq!(ancount, (512 - question_end) / 16);
    assert_eq!(reply.len(), question_end + ancount * 16);

    // Over TCP (or with a large EDNS size) everything fits.
    let reply = build_reply(&q, RCODE_NOERROR, &many, TCP_LIMIT).unwrap();
    assert_eq!(reply[2] & 0x02, 0);
    assert_eq!(u16::from_be_bytes([reply[6], reply[7]]), 40);
}

#[test]
fn dns_relayed_replies_get_the_clients_id_and_are_cut_to_its_size() {
    let q = parse_query(&bytes(BUSYBOX_QUERY)).unwrap();
    // NXDOMAIN from upstream, with the upstream's own ID.
    let mut upstream = bytes("000081830001000000000000");
    upstream.extend_from_slice(&bytes(BUSYBOX_QUERY)[12..]);
    let relayed = relay_reply(&q, upstream.clone(), 512);
    assert_eq!(&relayed[..2], &[0xec, 0xdc]);
    assert_eq!(&relayed[2..], &upstream[2..]);
    assert_eq!(rcode(&relayed), 3);

    let mut big = upstream.clone();
    big.resize(700, 0);
    let cut = relay_reply(&q, big, 512);
    assert_eq!(cut.len(), 12 + 17);
    assert_eq!(cut[2], 0x81 | 0x02, "QR RD and TC");
    assert_eq!(rcode(&cut), 3);
}

#[test]
fn dns_upstream_replies_must_match_the_query() {
    assert!(is_reply_to(&bytes("ecdc81800000000000000000"), 0xecdc));
    assert!(
        !is_reply_to(&bytes("ecdc01000000000000000000"), 0xecdc),
        "not a response"
    );
    assert!(
        !is_reply_to(&bytes("ecdd81800000000000000000"), 0xecdc),
        "other ID"
    );
    assert!(!is_reply_to(&bytes("ecdc8180"), 0xecdc), "short");
}

#[test]
fn dns_ptr_targets_that_are_not_names_are_refused() {
    let q = parse_query(&bytes(BUSYBOX_QUERY)).unwrap();
    let long = "a".repeat(64);
    assert_eq!(
        build_reply(&q, RCODE_NOERROR, &[Answer::Ptr(&long)], 512),
        None
    );
    assert_eq!(
        build_reply(&q, RCODE_NOERROR, &[Answer::Ptr("a..b")], 512),
        None
    );
    assert!(build_reply(&q, RCODE_NOERROR, &[Answer::Ptr("web.")], 512).is_some());
}
