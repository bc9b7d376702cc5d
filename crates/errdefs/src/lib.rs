//! # berth-errdefs
//!
//! The error kinds every Berth layer classifies its errors into, as moby's
//! `errdefs` package does. Each crate keeps its own `thiserror` types and
//! implements [`HasKind`]; the API server turns a kind into an HTTP status and
//! a `{"message": ...}` body without knowing the crate the error came from.
//!
//! Test alone: `cargo test -p berth-errdefs`.

use std::fmt;

/// What kind of failure an error is, independent of which layer raised it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The caller asked for something malformed or invalid (400).
    InvalidParameter,
    /// The object named does not exist (404).
    NotFound,
    /// The request clashes with the current state (409).
    Conflict,
    /// Nothing to do: the state already is what was asked for (304).
    NotModified,
    /// The operation is not allowed (403).
    Forbidden,
    /// A dependency (a registry, the kernel) is unavailable right now (503).
    Unavailable,
    /// The feature is not implemented (yet) by this engine (501): a clear
    /// refusal rather than a fake success.
    NotImplemented,
    /// Anything else: a bug or an environment failure (500).
    System,
}

impl ErrorKind {
    /// The HTTP status the Engine API answers with for this kind.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::InvalidParameter => 400,
            ErrorKind::NotFound => 404,
            ErrorKind::Conflict => 409,
            ErrorKind::NotModified => 304,
            ErrorKind::Forbidden => 403,
            ErrorKind::Unavailable => 503,
            ErrorKind::NotImplemented => 501,
            ErrorKind::System => 500,
        }
    }
}

impl ErrorKind {
    /// The kind an Engine API error status stands for (what a client makes
    /// of a daemon's answer); unknown statuses are [`ErrorKind::System`].
    pub fn from_http_status(status: u16) -> ErrorKind {
        match status {
            400 => ErrorKind::InvalidParameter,
            404 => ErrorKind::NotFound,
            409 => ErrorKind::Conflict,
            304 => ErrorKind::NotModified,
            403 => ErrorKind::Forbidden,
            503 => ErrorKind::Unavailable,
            501 => ErrorKind::NotImplemented,
            _ => ErrorKind::System,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            ErrorKind::InvalidParameter => "invalid parameter",
            ErrorKind::NotFound => "not found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::NotModified => "not modified",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::NotImplemented => "not implemented",
            ErrorKind::System => "system",
        };
        f.write_str(name)
    }
}

/// Implemented by every error type that crosses a layer boundary.
pub trait HasKind {
    /// The kind this error is classified as.
    fn kind(&self) -> ErrorKind;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_match_the_engine_api() {
        assert_eq!(ErrorKind::from_http_status(418), ErrorKind::System);
        let cases = [
            (ErrorKind::InvalidParameter, 400),
            (ErrorKind::NotFound, 404),
            (ErrorKind::Conflict, 409),
            (ErrorKind::NotModified, 304),
            (ErrorKind::Forbidden, 403),
            (ErrorKind::Unavailable, 503),
            (ErrorKind::NotImplemented, 501),
            (ErrorKind::System, 500),
        ];
        for (kind, status) in cases {
            assert_eq!(kind.http_status(), status, "{kind}");
            assert_eq!(ErrorKind::from_http_status(status), kind, "{status}");
        }
    }
}
