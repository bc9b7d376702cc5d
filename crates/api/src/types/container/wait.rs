//! `POST /containers/{id}/wait` (moby `container.WaitResponse`).

use serde::{Deserialize, Serialize};

use crate::types::null_default;

/// What wait answers once the condition is met.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WaitResponse {
    /// Set when waiting failed after the 200 was sent (the status code is
    /// then meaningless).
    #[serde(rename = "Error", skip_serializing_if = "Option::is_none")]
    pub error: Option<WaitExitError>,
    /// The container's exit code.
    #[serde(rename = "StatusCode", deserialize_with = "null_default")]
    pub status_code: i64,
}

/// `Error` of a [`WaitResponse`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WaitExitError {
    /// What went wrong.
    #[serde(
        rename = "Message",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_omitted_unless_set() {
        let ok = WaitResponse {
            error: None,
            status_code: 137,
        };
        assert_eq!(serde_json::to_string(&ok).unwrap(), r#"{"StatusCode":137}"#);
        let failed = WaitResponse {
            error: Some(WaitExitError {
                message: "container removed".into(),
            }),
            status_code: 0,
        };
        assert_eq!(
            serde_json::to_string(&failed).unwrap(),
            r#"{"Error":{"Message":"container removed"},"StatusCode":0}"#
        );
        let back: WaitResponse = serde_json::from_str(r#"{"Error":null,"StatusCode":3}"#).unwrap();
        assert_eq!(back.status_code, 3);
        assert_eq!(back.error, None);
    }
}
