//! [`ImageError`]: every failure of the image service, classified into an
//! [`ErrorKind`](berth_errdefs::ErrorKind).

use berth_errdefs::{ErrorKind, HasKind};

use crate::content::ContentError;
use crate::manifest::ManifestError;
use crate::reference::ReferenceError;
use crate::snapshot::SnapshotError;
use crate::store::StoreError;
use crate::unpack::UnpackError;

/// Why an image operation failed. The `Display` text is what a Docker user
/// would be shown.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The reference string is malformed (Docker's own message).
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    /// Some other invalid argument (a bad platform string, ...).
    #[error("{0}")]
    InvalidParameter(String),
    /// No such image, manifest or repository.
    #[error("{0}")]
    NotFound(String),
    /// The operation conflicts with the current state (rmi of an image in use).
    #[error("{0}")]
    Conflict(String),
    /// The registry refused our credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// The registry could not be reached or answered with a server error.
    #[error("{0}")]
    Unavailable(String),
    /// A manifest Berth does not pull (schema 1, unknown media types).
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// A blob whose bytes do not match its digest or size, or that is too big.
    #[error("{context}: {source}")]
    Content {
        /// Which blob, in which step.
        context: String,
        /// The content store's error.
        #[source]
        source: ContentError,
    },
    /// A layer that could not be unpacked (hostile, corrupt, or disk full).
    #[error("failed to register layer {layer}: {source}")]
    Unpack {
        /// The layer's blob digest.
        layer: String,
        /// The unpacker's error.
        #[source]
        source: UnpackError,
    },
    /// The image content is inconsistent (e.g. a DiffID that does not match).
    #[error("{0}")]
    Invalid(String),
    /// The image store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The snapshot store refused or failed.
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    /// The failure of a pull shared by several callers (each gets a handle).
    #[error(transparent)]
    Shared(std::sync::Arc<ImageError>),
    /// Every client of the pull went away.
    #[error("pull cancelled")]
    Cancelled,
    /// A local I/O failure, with what was being done.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, with the path.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl HasKind for ImageError {
    fn kind(&self) -> ErrorKind {
        match self {
            ImageError::Reference(_)
            | ImageError::InvalidParameter(_)
            | ImageError::Manifest(_) => ErrorKind::InvalidParameter,
            ImageError::NotFound(_) => ErrorKind::NotFound,
            ImageError::Conflict(_) => ErrorKind::Conflict,
            ImageError::Unauthorized(_) => ErrorKind::Forbidden,
            ImageError::Unavailable(_) | ImageError::Cancelled => ErrorKind::Unavailable,
            ImageError::Content { source, .. } => match source {
                ContentError::NotFound(_) => ErrorKind::NotFound,
                ContentError::InvalidDigest(_) => ErrorKind::InvalidParameter,
                _ => ErrorKind::System,
            },
            ImageError::Store(e) => e.kind(),
            ImageError::Snapshot(e) => e.kind(),
            ImageError::Shared(e) => e.kind(),
            ImageError::Unpack { .. } | ImageError::Invalid(_) | ImageError::Io { .. } => {
                ErrorKind::System
            }
        }
    }
}

impl ImageError {
    /// An [`ImageError::Io`] with context.
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ImageError {
        let context = context.into();
        move |source| ImageError::Io { context, source }
    }

    /// An [`ImageError::Content`] with context.
    pub fn content(context: impl Into<String>) -> impl FnOnce(ContentError) -> ImageError {
        let context = context.into();
        move |source| ImageError::Content { context, source }
    }
}
