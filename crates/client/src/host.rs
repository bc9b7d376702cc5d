//! Where the daemon listens: `unix:///path` or `tcp://host:port`, read from
//! `BERTH_HOST`, else `DOCKER_HOST`, else Berth's default socket.

use std::fmt;
use std::path::PathBuf;

use crate::error::ClientError;

/// Berth's default API socket.
pub const DEFAULT_HOST: &str = "unix:///run/berth.sock";

/// A daemon address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A unix socket path.
    Unix(PathBuf),
    /// A TCP `host:port` (plain HTTP).
    Tcp(String),
}

impl Host {
    /// Parses `unix:///path`, `tcp://host[:port]` (port 2375 when left
    /// out, as Docker does) or `http://host:port`.
    pub fn parse(s: &str) -> Result<Host, ClientError> {
        let bad = |why: &str| ClientError::InvalidHost(format!("{s}: {why}"));
        if let Some(path) = s.strip_prefix("unix://") {
            if path.is_empty() {
                return Err(bad("no socket path"));
            }
            return Ok(Host::Unix(PathBuf::from(path)));
        }
        let rest = s
            .strip_prefix("tcp://")
            .or_else(|| s.strip_prefix("http://"))
            .ok_or_else(|| bad("expected unix://, tcp:// or http://"))?;
        let addr = rest.trim_end_matches('/');
        if addr.is_empty() || addr.contains('/') {
            return Err(bad("expected host:port"));
        }
        // `[::1]` or `host` without a port gets Docker's 2375.
        let has_port = match addr.rfind(':') {
            Some(i) => !addr[i..].contains(']') && addr[i + 1..].parse::<u16>().is_ok(),
            None => false,
        };
        if has_port {
            Ok(Host::Tcp(addr.to_string()))
        } else {
            Ok(Host::Tcp(format!("{addr}:2375")))
        }
    }

    /// `BERTH_HOST`, else `DOCKER_HOST`, else [`DEFAULT_HOST`] (empty
    /// values count as unset).
    pub fn from_env() -> Result<Host, ClientError> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let s = var("BERTH_HOST")
            .or_else(|| var("DOCKER_HOST"))
            .unwrap_or_else(|| DEFAULT_HOST.to_string());
        Host::parse(&s)
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Unix(p) => write!(f, "unix://{}", p.display()),
            Host::Tcp(a) => write!(f, "tcp://{a}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dockers_forms() {
        assert_eq!(
            Host::parse("unix:///run/berth.sock").unwrap(),
            Host::Unix("/run/berth.sock".into())
        );
        assert_eq!(
            Host::parse("tcp://127.0.0.1:2376").unwrap(),
            Host::Tcp("127.0.0.1:2376".into())
        );
        assert_eq!(
            Host::parse("tcp://example.test").unwrap(),
            Host::Tcp("example.test:2375".into())
        );
        assert_eq!(
            Host::parse("tcp://[::1]").unwrap(),
            Host::Tcp("[::1]:2375".into())
        );
        assert_eq!(
            Host::parse("http://[::1]:99/").unwrap(),
            Host::Tcp("[::1]:99".into())
        );
        for bad in [
            "",
            "unix://",
            "ssh://x",
            "tcp://",
            "tcp://a/b",
            "/run/x.sock",
        ] {
            assert!(Host::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Host::parse("unix:///a b").unwrap().to_string(),
            "unix:///a b"
        );
    }
}
