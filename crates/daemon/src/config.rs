//! The container configuration models, now `berth_api::types::container`
//! (re-exported here so daemon code and tests keep their paths), and the
//! request decoders with their errors mapped to [`DaemonError`]
//! (InvalidParameter).

pub use berth_api::types::container::{
    Config, ContainerCreateRequest, DeviceMapping, HealthConfig, HostConfig, LogConfig, Mount,
    PortBinding, RestartPolicy, StrSlice, Ulimit, WeightDevice,
};

use crate::error::{DaemonError, Result};

/// Decodes JSON into `T` ([`berth_api::types::decode`]); an error is
/// InvalidParameter naming the field path, e.g.
/// `invalid JSON: HostConfig.Memory: invalid type: ...`.
pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    berth_api::types::decode(bytes).map_err(DaemonError::from)
}

/// Decodes a `POST /containers/create` body
/// ([`berth_api::types::container::decode_create_request`]).
pub fn decode_create_request(bytes: &[u8]) -> Result<ContainerCreateRequest> {
    berth_api::types::container::decode_create_request(bytes).map_err(DaemonError::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_errdefs::{ErrorKind, HasKind};

    #[test]
    fn decode_errors_are_invalid_parameter_with_the_same_message() {
        let e =
            decode_create_request(br#"{"Image":"x","HostConfig":{"Memory":"lots"}}"#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidParameter);
        assert!(
            e.to_string()
                .starts_with("invalid JSON: HostConfig.Memory: invalid type"),
            "{e}"
        );
        let e = decode::<HostConfig>(b"[").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidParameter);
        let ok: HostConfig = decode(br#"{"Memory":5}"#).unwrap();
        assert_eq!(ok.memory, 5);
    }
}
