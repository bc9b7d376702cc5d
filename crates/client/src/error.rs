//! What can go wrong talking to the daemon, classified into the error
//! kinds the daemon's statuses come from.

use berth_errdefs::{ErrorKind, HasKind};

/// A client error.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The host string is not an address the client understands.
    #[error("invalid host {0}")]
    InvalidHost(String),
    /// Nothing answers at the address.
    #[error("Cannot connect to the Berth daemon at {host}. Is the daemon running?")]
    Connect {
        /// The address tried.
        host: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP exchange failed half-way.
    #[error("talking to the daemon: {0}")]
    Http(String),
    /// The daemon answered with an error status and message.
    #[error("Error response from daemon: {message}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The daemon's `message`.
        message: String,
    },
    /// The daemon's answer did not decode.
    #[error("unexpected answer from the daemon: {0}")]
    Decode(String),
    /// The request could not be encoded.
    #[error("cannot encode the request: {0}")]
    Encode(String),
}

impl ClientError {
    /// The daemon's message for an API error, else the error's text.
    pub fn message(&self) -> String {
        match self {
            ClientError::Api { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }

    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl HasKind for ClientError {
    fn kind(&self) -> ErrorKind {
        match self {
            ClientError::InvalidHost(_) | ClientError::Encode(_) => ErrorKind::InvalidParameter,
            ClientError::Connect { .. } => ErrorKind::Unavailable,
            ClientError::Http(_) | ClientError::Decode(_) => ErrorKind::System,
            ClientError::Api { status, .. } => ErrorKind::from_http_status(*status),
        }
    }
}

/// Results of client calls.
pub type Result<T> = std::result::Result<T, ClientError>;
