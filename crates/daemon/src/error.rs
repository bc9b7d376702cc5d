//! The daemon's error type and its mapping onto `berth_errdefs` kinds.

use berth_errdefs::{ErrorKind, HasKind};

/// Everything the daemon core can fail with. The `Display` text is the
/// message the Engine API returns, worded as moby words it where moby has a
/// message for the case.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The request is malformed or asks for something invalid (400).
    #[error("{0}")]
    InvalidParameter(String),
    /// The container (or another object) does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// The request clashes with existing state, e.g. a name in use (409).
    #[error("{0}")]
    Conflict(String),
    /// Nothing to do: the container already is in the asked state (304).
    #[error("{0}")]
    NotModified(String),
    /// An error from another layer (image service, shim), keeping its kind.
    #[error("{message}")]
    Layer {
        /// The other layer's classification.
        kind: ErrorKind,
        /// Its message.
        message: String,
    },
    /// A filesystem operation failed (500).
    #[error("{context}: {source}")]
    Io {
        /// What was being done, with the path involved.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The operation is not allowed (403), e.g. connecting a container that
    /// shares another's network namespace.
    #[error("{0}")]
    Forbidden(String),
    /// A feature Berth does not have (501), as moby's NotImplemented.
    #[error("{0}")]
    NotImplemented(String),
    /// Anything else that is the daemon's fault (500).
    #[error("{0}")]
    System(String),
}

impl DaemonError {
    /// An [`DaemonError::InvalidParameter`] with the given message.
    pub fn invalid(msg: impl Into<String>) -> Self {
        DaemonError::InvalidParameter(msg.into())
    }

    /// `No such container: <reference>` (moby's `containerNotFound`).
    pub fn no_such_container(reference: &str) -> Self {
        DaemonError::NotFound(format!("No such container: {reference}"))
    }

    /// Wraps another layer's error, keeping its kind and message.
    pub fn layer(e: impl HasKind + std::fmt::Display) -> Self {
        DaemonError::Layer {
            kind: e.kind(),
            message: e.to_string(),
        }
    }

    /// An [`DaemonError::Io`] error with context.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        DaemonError::Io {
            context: context.into(),
            source,
        }
    }
}

impl HasKind for DaemonError {
    fn kind(&self) -> ErrorKind {
        match self {
            DaemonError::InvalidParameter(_) => ErrorKind::InvalidParameter,
            DaemonError::NotFound(_) => ErrorKind::NotFound,
            DaemonError::Conflict(_) => ErrorKind::Conflict,
            DaemonError::NotModified(_) => ErrorKind::NotModified,
            DaemonError::NotImplemented(_) => ErrorKind::NotImplemented,
            DaemonError::Forbidden(_) => ErrorKind::Forbidden,
            DaemonError::Layer { kind, .. } => *kind,
            DaemonError::Io { .. } | DaemonError::System(_) => ErrorKind::System,
        }
    }
}

impl From<berth_api::types::DecodeError> for DaemonError {
    /// A body that does not decode is InvalidParameter, with the API's
    /// message (`invalid JSON: <path>: <what>`).
    fn from(e: berth_api::types::DecodeError) -> Self {
        DaemonError::InvalidParameter(e.to_string())
    }
}

/// Shorthand for results in this crate.
pub type Result<T, E = DaemonError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_messages() {
        let e = DaemonError::no_such_container("abc");
        assert_eq!(e.to_string(), "No such container: abc");
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(
            DaemonError::invalid("x").kind(),
            ErrorKind::InvalidParameter
        );
        assert_eq!(
            DaemonError::Conflict("x".into()).kind(),
            ErrorKind::Conflict
        );
        let io = DaemonError::io("open /x", std::io::Error::other("boom"));
        assert_eq!(io.kind(), ErrorKind::System);
        assert_eq!(io.to_string(), "open /x: boom");
    }
}
