//! The network layer's error type and its mapping onto `berth_errdefs` kinds.

use berth_errdefs::{ErrorKind, HasKind};

/// What networking can fail with. The `Display` text is what the Engine API
/// returns, in moby's words where moby has them.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// A malformed request: a bad subnet, port or option (400).
    #[error("{0}")]
    InvalidParameter(String),
    /// The network, endpoint or sandbox does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// Clashes with existing state: a name or port in use, a network with
    /// active endpoints (409).
    #[error("{0}")]
    Conflict(String),
    /// The operation is not allowed on this network, e.g. removing a
    /// predefined one (403).
    #[error("{0}")]
    Forbidden(String),
    /// A resource is exhausted for now, e.g. no free address left (503).
    #[error("{0}")]
    Unavailable(String),
    /// A kernel or tool failure (500).
    #[error("{0}")]
    System(String),
}

impl NetworkError {
    /// A [`NetworkError::System`] for an I/O error while doing `what`.
    pub fn io(what: impl std::fmt::Display, e: std::io::Error) -> Self {
        NetworkError::System(format!("{what}: {e}"))
    }
}

impl HasKind for NetworkError {
    fn kind(&self) -> ErrorKind {
        match self {
            NetworkError::InvalidParameter(_) => ErrorKind::InvalidParameter,
            NetworkError::NotFound(_) => ErrorKind::NotFound,
            NetworkError::Conflict(_) => ErrorKind::Conflict,
            NetworkError::Forbidden(_) => ErrorKind::Forbidden,
            NetworkError::Unavailable(_) => ErrorKind::Unavailable,
            NetworkError::System(_) => ErrorKind::System,
        }
    }
}

/// The network layer's result type.
pub type Result<T, E = NetworkError> = std::result::Result<T, E>;
