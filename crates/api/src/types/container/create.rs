//! `POST /containers/create`: the request body ([`ContainerCreateRequest`],
//! moby's `CreateRequest`) and the answer ([`CreateResponse`]).

use serde::{Deserialize, Deserializer, Serialize};

use super::{Config, HostConfig};
use crate::types::{decode, null_default, DecodeError};

/// The body of `POST /containers/create`: a [`Config`] with the
/// `HostConfig` and `NetworkingConfig` objects beside its fields.
///
/// Decoding splits the object by hand (rather than `#[serde(flatten)]`) so
/// that a type error still names its field, e.g. `HostConfig.Memory`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ContainerCreateRequest {
    /// The container's portable configuration (the body's top-level fields).
    #[serde(flatten)]
    pub config: Config,
    /// The host-dependent configuration.
    #[serde(
        rename = "HostConfig",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub host_config: Option<HostConfig>,
    /// Network endpoints to connect to (kept verbatim until the network layer
    /// models it).
    #[serde(
        rename = "NetworkingConfig",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub networking_config: Option<serde_json::Value>,
}

impl ContainerCreateRequest {
    /// Builds the request from the body's top-level object; a type error is
    /// a [`DecodeError::Field`] whose path starts at the body's top
    /// (`Tty`, `HostConfig.Memory`).
    pub fn from_object(
        mut map: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Self, DecodeError> {
        use serde_json::Value;
        let host = map.remove("HostConfig");
        let net = map.remove("NetworkingConfig");
        let config = from_value_with_path::<Config>(Value::Object(map), None)?;
        let host_config = match host {
            None | Some(Value::Null) => None,
            Some(v) => Some(from_value_with_path::<HostConfig>(v, Some("HostConfig"))?),
        };
        let networking_config = match net {
            None | Some(Value::Null) => None,
            Some(v) => Some(v),
        };
        Ok(ContainerCreateRequest {
            config,
            host_config,
            networking_config,
        })
    }
}

impl<'de> Deserialize<'de> for ContainerCreateRequest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let map = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        ContainerCreateRequest::from_object(map).map_err(|e| match e {
            DecodeError::Syntax { message } => D::Error::custom(message),
            DecodeError::Field { path, message } => D::Error::custom(format!("{path}: {message}")),
        })
    }
}

/// Deserializes a JSON value found at `prefix` (the top when `None`),
/// keeping the path of a field at fault.
fn from_value_with_path<T: serde::de::DeserializeOwned>(
    v: serde_json::Value,
    prefix: Option<&str>,
) -> Result<T, DecodeError> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let inner = e.path().to_string();
        let inner = if inner == "." { String::new() } else { inner };
        let message = e.inner().to_string();
        let path = match (prefix, inner.is_empty()) {
            (None, true) => return DecodeError::Syntax { message },
            (None, false) => inner,
            (Some(p), true) => p.to_string(),
            (Some(p), false) => format!("{p}.{inner}"),
        };
        DecodeError::Field { path, message }
    })
}

/// What `POST /containers/create` answers (201): the new container's ID
/// and any warnings (moby `container.CreateResponse`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateResponse {
    /// The full container ID.
    #[serde(rename = "Id")]
    pub id: String,
    /// Warnings for the user (e.g. ignored settings); `[]` when none.
    #[serde(rename = "Warnings", default, deserialize_with = "null_default")]
    pub warnings: Vec<String>,
}

/// Decodes a `POST /containers/create` body; see [`crate::types::decode`].
/// A field of the wrong type is a [`DecodeError::Field`] with its full
/// path (`HostConfig.Memory`); a body that is not a JSON object is a
/// [`DecodeError::Syntax`].
pub fn decode_create_request(bytes: &[u8]) -> Result<ContainerCreateRequest, DecodeError> {
    ContainerCreateRequest::from_object(decode(bytes)?)
}
