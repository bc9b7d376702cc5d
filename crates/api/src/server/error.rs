//! Errors at the seam ([`ApiError`]: a kind and a message, what backends
//! return) and on the wire (a status and `{"message": ...}`).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_errdefs::{ErrorKind, HasKind};

use crate::types::common::ErrorResponse;
use crate::types::filters::FilterError;
use crate::types::DecodeError;

/// What a backend call fails with: the [`ErrorKind`] that picks the HTTP
/// status, and the message the CLI prints after `Error response from
/// daemon: `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// The classification (InvalidParameter -> 400, NotFound -> 404, ...).
    pub kind: ErrorKind,
    /// The message.
    pub message: String,
}

impl ApiError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            message: message.into(),
        }
    }

    /// InvalidParameter (400).
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidParameter, message)
    }

    /// NotFound (404).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// System (500).
    pub fn system(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::System, message)
    }

    /// Any layer's error, keeping its kind and `Display` text (how a
    /// backend turns its own error type into this one).
    pub fn from_error(e: &(impl HasKind + std::fmt::Display)) -> Self {
        Self::new(e.kind(), e.to_string())
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.kind.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl HasKind for ApiError {
    fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl From<DecodeError> for ApiError {
    fn from(e: DecodeError) -> Self {
        ApiError::from_error(&e)
    }
}

impl From<FilterError> for ApiError {
    fn from(e: FilterError) -> Self {
        ApiError::from_error(&e)
    }
}

/// An error as the router answers it: a status, a message, and whether the
/// body is plain text (moby's answer to clients older than API 1.24) or
/// `{"message": ...}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HttpError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
    pub(crate) plain: bool,
}

impl HttpError {
    /// An error with an explicit status (for the few that have no kind,
    /// such as 413).
    pub(crate) fn with_status(status: StatusCode, message: impl Into<String>) -> Self {
        HttpError {
            status,
            message: message.into(),
            plain: false,
        }
    }
}

impl From<ApiError> for HttpError {
    fn from(e: ApiError) -> Self {
        HttpError {
            status: e.status(),
            message: e.message,
            plain: false,
        }
    }
}

impl From<DecodeError> for HttpError {
    fn from(e: DecodeError) -> Self {
        ApiError::from(e).into()
    }
}

impl From<FilterError> for HttpError {
    fn from(e: FilterError) -> Self {
        ApiError::from(e).into()
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        if self.status == StatusCode::NOT_MODIFIED {
            // A 304 carries no body.
            return self.status.into_response();
        }
        if self.plain {
            let mut r = (self.status, format!("{}\n", self.message)).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            r.headers_mut().insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            return r;
        }
        super::json_response(self.status, &ErrorResponse::new(self.message))
    }
}
