//! Engine API versions (`1.44`) and the negotiation a Docker client does:
//! use the daemon's version when it is older than the client's own.

/// The newest API version this client speaks: the one `berth-api` models.
pub const MAX_API_VERSION: &str = berth_api::types::system::API_VERSION;
/// The version assumed when a daemon does not say (Docker's fallback).
pub const FALLBACK_API_VERSION: &str = "1.24";

/// `(major, minor)` of `1.44`; `None` when malformed.
pub fn parse_version(v: &str) -> Option<(u32, u32)> {
    let (major, minor) = v.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// The version to talk to a daemon advertising `server`: the older of it
/// and [`MAX_API_VERSION`]; the fallback when it advertises nothing usable.
pub fn negotiate(server: Option<&str>) -> String {
    let ours = parse_version(MAX_API_VERSION).expect("a valid constant");
    match server.and_then(parse_version) {
        Some(theirs) if theirs < ours => format!("{}.{}", theirs.0, theirs.1),
        Some(_) => MAX_API_VERSION.to_string(),
        None => FALLBACK_API_VERSION.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_takes_the_older_version() {
        assert_eq!(negotiate(Some("1.41")), "1.41");
        assert_eq!(negotiate(Some("1.99")), MAX_API_VERSION);
        assert_eq!(negotiate(Some(MAX_API_VERSION)), MAX_API_VERSION);
        assert_eq!(negotiate(Some("garbage")), "1.24");
        assert_eq!(negotiate(None), "1.24");
        // Numeric, not lexical: 1.9 is older than 1.10.
        assert!(parse_version("1.9") < parse_version("1.10"));
    }
}
