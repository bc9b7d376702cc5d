//! The volume layer's error type and its mapping onto `berth_errdefs` kinds.

use berth_errdefs::{ErrorKind, HasKind};

/// What a volume operation can fail with. The `Display` text is what the
/// Engine API returns, in moby's words where moby has them.
#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    /// A bad name, driver option or request (400).
    #[error("{0}")]
    InvalidParameter(String),
    /// No such volume or driver (404).
    #[error("{0}")]
    NotFound(String),
    /// The volume is in use, or exists with another driver (409).
    #[error("{0}")]
    Conflict(String),
    /// A filesystem or mount failure (500).
    #[error("{0}")]
    System(String),
}

impl VolumeError {
    /// A [`VolumeError::System`] for an I/O error while doing `what`.
    pub fn io(what: impl std::fmt::Display, e: std::io::Error) -> Self {
        VolumeError::System(format!("{what}: {e}"))
    }
}

impl HasKind for VolumeError {
    fn kind(&self) -> ErrorKind {
        match self {
            VolumeError::InvalidParameter(_) => ErrorKind::InvalidParameter,
            VolumeError::NotFound(_) => ErrorKind::NotFound,
            VolumeError::Conflict(_) => ErrorKind::Conflict,
            VolumeError::System(_) => ErrorKind::System,
        }
    }
}

/// The volume layer's result type.
pub type Result<T, E = VolumeError> = std::result::Result<T, E>;
