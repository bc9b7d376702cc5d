//! The Engine API's models (moby `api/types`), by area. Serde only: no
//! server, no async runtime.

pub mod common;
pub mod container;
mod decode;
pub mod df;
pub mod events;
pub mod exec;
pub mod filters;
pub mod image;
pub mod network;
pub mod system;
pub mod volume;

pub use common::{ErrorResponse, IdResponse};
pub use decode::{decode, DecodeError};

use serde::{Deserialize, Deserializer};

/// Serializes an empty list as `null`, as Go encodes a nil slice. Use
/// with `#[serde(serialize_with = "empty_as_null")]`.
pub fn empty_as_null<S: serde::Serializer>(v: &[String], s: S) -> Result<S::Ok, S::Error> {
    if v.is_empty() {
        s.serialize_none()
    } else {
        s.collect_seq(v)
    }
}

/// Deserializes `null` as `T::default()`, as Go does for non-pointer
/// fields. Use with `#[serde(deserialize_with = "null_default")]` (plus
/// `default` for absent fields).
pub fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}
