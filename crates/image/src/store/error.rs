//! Errors of the image store, classified with [`berth_errdefs::ErrorKind`].

use std::io;

use berth_errdefs::{ErrorKind, HasKind};

use crate::reference::ReferenceError;

/// Why an image-store operation failed. `Display` is the message the Docker
/// CLI prints (the API puts it in `{"message": ...}`).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Nothing matches: `No such image: busybox:latest` (moby's
    /// `ErrImageDoesNotExist`), `reference does not exist` (moby's
    /// `reference.ErrDoesNotExist`) or `ambiguous reference` (a short ID
    /// prefix shared by several images). Kind NotFound (404).
    #[error("{0}")]
    NotFound(String),
    /// Bad input: an invalid reference string (the reference grammar's
    /// message), a tag that carries a digest, a repository named `sha256`.
    /// Kind InvalidParameter (400).
    #[error("{0}")]
    InvalidParameter(String),
    /// The request clashes with what is stored (`Cannot overwrite digest
    /// sha256:…`). Kind Conflict (409).
    #[error("{0}")]
    Conflict(String),
    /// A filesystem operation failed; `context` says what was being done and
    /// names the path. Kind System (500).
    #[error("{context}: {source}")]
    System {
        /// What was being done, with the path.
        context: String,
        /// The underlying error.
        source: io::Error,
    },
}

impl StoreError {
    /// `No such image: <what>`: moby's `ErrImageDoesNotExist` message.
    pub fn no_such_image(what: impl std::fmt::Display) -> StoreError {
        StoreError::NotFound(format!("No such image: {what}"))
    }

    /// A [`StoreError::System`] built from an io error and its context.
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(io::Error) -> StoreError {
        let context = context.into();
        move |source| StoreError::System { context, source }
    }
}

impl From<ReferenceError> for StoreError {
    fn from(e: ReferenceError) -> Self {
        StoreError::InvalidParameter(e.to_string())
    }
}

impl HasKind for StoreError {
    fn kind(&self) -> ErrorKind {
        match self {
            StoreError::NotFound(_) => ErrorKind::NotFound,
            StoreError::InvalidParameter(_) => ErrorKind::InvalidParameter,
            StoreError::Conflict(_) => ErrorKind::Conflict,
            StoreError::System { .. } => ErrorKind::System,
        }
    }
}
