//! Choosing a subnet for a bridge network that clashes with nothing the
//! host already routes, from Docker's default pools: 172.17-31.0.0/16, then
//! 192.168.0.0/16 cut into /20s.

use ipnet::Ipv4Net;

/// Docker's default address pools, in the order they are tried.
pub fn default_candidates() -> impl Iterator<Item = Ipv4Net> {
    let wide = (17..=31u8).map(|b| Ipv4Net::new(std::net::Ipv4Addr::new(172, b, 0, 0), 16));
    let narrow = (0..16u8).map(|i| Ipv4Net::new(std::net::Ipv4Addr::new(192, 168, i * 16, 0), 20));
    wide.chain(narrow).map(|n| n.expect("valid prefix"))
}

/// Whether two subnets share any address.
pub fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(b) || b.contains(a)
}

/// The first candidate that overlaps none of `taken` (the host's routes
/// and the other networks' subnets).
pub fn pick(candidates: impl IntoIterator<Item = Ipv4Net>, taken: &[Ipv4Net]) -> Option<Ipv4Net> {
    candidates
        .into_iter()
        .find(|c| !taken.iter().any(|t| overlaps(c, t)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    #[test]
    fn skips_routed_and_used_subnets() {
        let taken = [
            net("172.17.0.0/16"),
            net("172.18.5.0/24"),
            net("192.0.2.0/24"),
        ];
        assert_eq!(
            pick(default_candidates(), &taken),
            Some(net("172.19.0.0/16"))
        );
        assert_eq!(pick(default_candidates(), &[]), Some(net("172.17.0.0/16")));
        // A wide route (10/8 style covering all 172.16/12) pushes it to 192.168.
        assert_eq!(
            pick(default_candidates(), &[net("172.16.0.0/12")]),
            Some(net("192.168.0.0/20"))
        );
        let all: Vec<Ipv4Net> = default_candidates().collect();
        assert_eq!(pick(default_candidates(), &all), None);
    }
}
