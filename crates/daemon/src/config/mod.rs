//! Serde models of Docker's container configuration as the Engine API
//! (v1.44+) carries it: [`Config`] (the portable part, `api/types/container/config.go`),
//! [`HostConfig`] (the host-dependent part, `hostconfig.go`) and the
//! `POST /containers/create` body, [`ContainerCreateRequest`].
//!
//! Decoding follows Go's `encoding/json` as moby uses it: unknown fields are
//! ignored, `null` means the zero value, `Cmd`/`Entrypoint`/`Shell` accept a
//! string or an array; a wrong type is an error naming the field.

mod container;
mod host;
mod strslice;

pub use container::{Config, HealthConfig};
pub use host::{
    DeviceMapping, HostConfig, LogConfig, Mount, PortBinding, RestartPolicy, Ulimit, WeightDevice,
};
pub use strslice::StrSlice;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{DaemonError, Result};

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

impl<'de> Deserialize<'de> for ContainerCreateRequest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error;
        use serde_json::Value;
        let mut map = serde_json::Map::<String, Value>::deserialize(d)?;
        let host = map.remove("HostConfig");
        let net = map.remove("NetworkingConfig");
        let config =
            from_value_with_path::<Config>(Value::Object(map)).map_err(D::Error::custom)?;
        let host_config = match host {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                from_value_with_path::<HostConfig>(v)
                    .map_err(|e| D::Error::custom(format!("HostConfig.{e}")))?,
            ),
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

/// Deserializes a JSON value, rendering an error as `<path>: <message>`.
fn from_value_with_path<T: serde::de::DeserializeOwned>(
    v: serde_json::Value,
) -> std::result::Result<T, String> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        if path.is_empty() || path == "." {
            e.inner().to_string()
        } else {
            format!("{path}: {}", e.inner())
        }
    })
}

/// Decodes JSON into `T`; a syntax or type error is InvalidParameter naming
/// the field path, e.g. `invalid JSON: HostConfig.Memory: invalid type: ...`.
pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        if path.is_empty() || path == "." {
            DaemonError::invalid(format!("invalid JSON: {}", e.inner()))
        } else {
            DaemonError::invalid(format!("invalid JSON: {path}: {}", e.inner()))
        }
    })
}

/// Decodes a `POST /containers/create` body.
pub fn decode_create_request(bytes: &[u8]) -> Result<ContainerCreateRequest> {
    decode(bytes)
}

/// Deserializes `null` as `T::default()`, as Go does for non-pointer fields.
pub(crate) fn null_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests;
