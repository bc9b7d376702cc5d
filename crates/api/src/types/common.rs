//! Models shared by every area (moby `api/types/common`).

use serde::{Deserialize, Serialize};

use crate::types::null_default;

/// The body of every error answer: `{"message": "..."}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// What went wrong, as the CLI prints it after `Error response from
    /// daemon: `.
    #[serde(rename = "message", default, deserialize_with = "null_default")]
    pub message: String,
}

impl ErrorResponse {
    /// An error body with `message`.
    pub fn new(message: impl Into<String>) -> Self {
        ErrorResponse {
            message: message.into(),
        }
    }
}

/// `{"Id": "..."}`: what `POST /containers/{id}/exec` and other creating
/// endpoints answer (moby `common.IDResponse`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdResponse {
    /// The new object's ID.
    #[serde(rename = "Id", default, deserialize_with = "null_default")]
    pub id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names() {
        assert_eq!(
            serde_json::to_string(&ErrorResponse::new("No such container: x")).unwrap(),
            r#"{"message":"No such container: x"}"#
        );
        assert_eq!(
            serde_json::to_string(&IdResponse { id: "abc".into() }).unwrap(),
            r#"{"Id":"abc"}"#
        );
    }
}
