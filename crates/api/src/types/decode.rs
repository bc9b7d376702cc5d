//! Decoding request bodies the way moby does, with errors that name the
//! field at fault.

use berth_errdefs::{ErrorKind, HasKind};

/// A request body that is not valid JSON, or has a field of the wrong
/// type. Always InvalidParameter (400). The `Display` text is the message
/// the Engine API returns: `invalid JSON: <path>: <what>`, e.g.
/// `invalid JSON: HostConfig.Memory: invalid type: string "lots", expected i64`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The body as a whole is malformed (syntax error, empty body, wrong
    /// top-level type).
    #[error("invalid JSON: {message}")]
    Syntax {
        /// serde_json's description, with line and column.
        message: String,
    },
    /// One field has the wrong type or an invalid value.
    #[error("invalid JSON: {path}: {message}")]
    Field {
        /// The field's path from the top of the body (`HostConfig.Memory`,
        /// `Env[2]`).
        path: String,
        /// What is wrong with it.
        message: String,
    },
}

impl DecodeError {
    /// The path of the field at fault, if the error is about one field.
    pub fn path(&self) -> Option<&str> {
        match self {
            DecodeError::Syntax { .. } => None,
            DecodeError::Field { path, .. } => Some(path),
        }
    }
}

impl HasKind for DecodeError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidParameter
    }
}

/// Decodes JSON into `T`, following Go's `encoding/json` as moby uses it
/// (given `T`'s serde attributes: unknown fields ignored, `null` as the zero
/// value); a syntax or type error is a [`DecodeError`] naming the field
/// path. As Go's `json.Decoder.Decode`, it reads the first JSON value and
/// ignores whatever follows it.
pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(path_error)
}

/// Classifies a path-tracking error: a syntax error or early end of input
/// is about the body, a data error at a path is about that field.
fn path_error(e: serde_path_to_error::Error<serde_json::Error>) -> DecodeError {
    let path = e.path().to_string();
    let message = e.inner().to_string();
    let syntax = !e.inner().is_data();
    if syntax || path.is_empty() || path == "." {
        DecodeError::Syntax { message }
    } else {
        DecodeError::Field { path, message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn syntax_and_field_errors() {
        let e = decode::<BTreeMap<String, i64>>(b"{not json").unwrap_err();
        assert!(matches!(e, DecodeError::Syntax { .. }), "{e:?}");
        assert!(
            e.to_string()
                .starts_with("invalid JSON: key must be a string"),
            "{e}"
        );
        assert_eq!(e.path(), None);
        assert_eq!(e.kind(), ErrorKind::InvalidParameter);

        let e = decode::<BTreeMap<String, i64>>(br#"{"a":"x"}"#).unwrap_err();
        assert_eq!(e.path(), Some("a"));
        assert!(
            e.to_string().starts_with("invalid JSON: a: invalid type"),
            "{e}"
        );
    }

    #[test]
    fn first_value_wins_and_empty_bodies_are_rejected() {
        let v = decode::<BTreeMap<String, i64>>(br#"{"a":1} x"#).unwrap();
        assert_eq!(v["a"], 1);
        let e = decode::<BTreeMap<String, i64>>(b"").unwrap_err();
        assert!(e.to_string().contains("EOF"), "{e}");
    }
}
