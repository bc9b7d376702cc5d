//! The shim's error type and its mapping onto Berth's error kinds.

use std::io;

use berth_errdefs::{ErrorKind, HasKind};
use serde::{Deserialize, Serialize};

/// Everything that can go wrong talking to, or inside, a shim.
#[derive(Debug, thiserror::Error)]
pub enum ShimError {
    /// No such container (no shim for it) or no such exec.
    #[error("{0}")]
    NotFound(String),
    /// The request clashes with the current state (start twice, delete running...).
    #[error("{0}")]
    Conflict(String),
    /// The request is malformed (bad id, bad spec, stdio mismatch).
    #[error("{0}")]
    InvalidParameter(String),
    /// The shim could not be reached or did not answer.
    #[error("{0}")]
    Unavailable(String),
    /// The shim or the runtime failed.
    #[error("{0}")]
    System(String),
    /// The peer sent something the protocol does not allow.
    #[error("shim protocol: {0}")]
    Protocol(String),
    /// A system call or file operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying OS error.
        source: io::Error,
    },
}

impl ShimError {
    /// Wraps an OS error with what was being done.
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        ShimError::Io {
            context: context.into(),
            source,
        }
    }
}

impl HasKind for ShimError {
    fn kind(&self) -> ErrorKind {
        match self {
            ShimError::NotFound(_) => ErrorKind::NotFound,
            ShimError::Conflict(_) => ErrorKind::Conflict,
            ShimError::InvalidParameter(_) => ErrorKind::InvalidParameter,
            ShimError::Unavailable(_) => ErrorKind::Unavailable,
            ShimError::System(_) | ShimError::Protocol(_) | ShimError::Io { .. } => {
                ErrorKind::System
            }
        }
    }
}

impl From<berth_runtime::Error> for ShimError {
    fn from(e: berth_runtime::Error) -> Self {
        use berth_runtime::Error as E;
        let msg = e.to_string();
        match e {
            E::NotFound(_) => ShimError::NotFound(msg),
            E::Exists(_) | E::InvalidState(_) => ShimError::Conflict(msg),
            E::InvalidId(_) | E::Spec(_) | E::Unsupported(_) => ShimError::InvalidParameter(msg),
            _ => ShimError::System(msg),
        }
    }
}

/// An error as it travels over the shim protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireError {
    /// The error kind.
    pub kind: WireKind,
    /// The message, for humans.
    pub message: String,
}

/// The error kinds the protocol carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireKind {
    /// See [`ShimError::NotFound`].
    NotFound,
    /// See [`ShimError::Conflict`].
    Conflict,
    /// See [`ShimError::InvalidParameter`].
    InvalidParameter,
    /// See [`ShimError::Unavailable`].
    Unavailable,
    /// Anything else.
    System,
}

impl From<&ShimError> for WireError {
    fn from(e: &ShimError) -> Self {
        let kind = match e.kind() {
            ErrorKind::NotFound => WireKind::NotFound,
            ErrorKind::Conflict | ErrorKind::NotModified => WireKind::Conflict,
            ErrorKind::InvalidParameter | ErrorKind::Forbidden => WireKind::InvalidParameter,
            ErrorKind::Unavailable => WireKind::Unavailable,
            ErrorKind::System | ErrorKind::NotImplemented => WireKind::System,
        };
        WireError {
            kind,
            message: e.to_string(),
        }
    }
}

impl From<WireError> for ShimError {
    fn from(e: WireError) -> Self {
        match e.kind {
            WireKind::NotFound => ShimError::NotFound(e.message),
            WireKind::Conflict => ShimError::Conflict(e.message),
            WireKind::InvalidParameter => ShimError::InvalidParameter(e.message),
            WireKind::Unavailable => ShimError::Unavailable(e.message),
            WireKind::System => ShimError::System(e.message),
        }
    }
}
