//! Image models (moby `api/types/image`, `api/types/registry` and
//! `pkg/jsonmessage`): what `docker images`, `image inspect`, `history`,
//! `rmi` and `image prune` show ([`ImageSummary`], [`ImageInspect`],
//! [`HistoryResponseItem`], [`DeleteItem`], [`PruneReport`]), the options
//! of the image endpoints, the registry credentials of `X-Registry-Auth`
//! ([`AuthConfig`]), and the JSON progress messages pull and load stream
//! ([`JsonMessage`]).

mod inspect;
mod jsonmessage;
mod options;

pub use crate::units::human_size;
pub use inspect::{
    DeleteItem, Descriptor, HistoryResponseItem, ImageInspect, ImageInspectConfig, ImageMetadata,
    ImageSummary, InspectRootFs, PruneReport,
};
pub use jsonmessage::{JsonError, JsonMessage, JsonProgress};
pub use options::{AuthConfig, ListOptions, PullOptions, RemoveOptions};

/// `GraphDriver` of an inspected image: the same model as a container's
/// (moby `storage.DriverData`).
pub use crate::types::container::GraphDriverData;
