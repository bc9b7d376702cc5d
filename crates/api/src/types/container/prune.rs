//! `POST /containers/prune` (moby `container.PruneReport`).

use serde::{Deserialize, Serialize, Serializer};

use crate::types::null_default;

/// The `POST /containers/prune` response (moby `ContainersPruneReport`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PruneReport {
    /// IDs of the removed containers; `null` on the wire when none was
    /// (Go's nil slice).
    #[serde(
        rename = "ContainersDeleted",
        deserialize_with = "null_default",
        serialize_with = "empty_as_null"
    )]
    pub containers_deleted: Vec<String>,
    /// Bytes freed (the removed containers' writable layers).
    #[serde(rename = "SpaceReclaimed", deserialize_with = "null_default")]
    pub space_reclaimed: u64,
}

/// Serializes an empty list as `null`, as Go encodes a nil slice.
fn empty_as_null<S: Serializer>(v: &[String], s: S) -> Result<S::Ok, S::Error> {
    if v.is_empty() {
        s.serialize_none()
    } else {
        s.collect_seq(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_pruned_is_null_like_docker() {
        let v = serde_json::to_value(PruneReport::default()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"ContainersDeleted": null, "SpaceReclaimed": 0})
        );
        let r = PruneReport {
            containers_deleted: vec!["a".into()],
            space_reclaimed: 5,
        };
        let back: PruneReport = serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
        assert_eq!(back, r);
        let empty: PruneReport = serde_json::from_value(v).unwrap();
        assert_eq!(empty, PruneReport::default());
    }
}
