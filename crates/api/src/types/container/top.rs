//! `GET /containers/{id}/top` (moby `container.TopResponse`).

use serde::{Deserialize, Serialize};

/// The `GET /containers/{id}/top` body (moby `ContainerTopOKBody`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopResponse {
    /// `ps`'s column titles.
    #[serde(rename = "Titles")]
    pub titles: Vec<String>,
    /// One row per process, as many fields as titles.
    #[serde(rename = "Processes")]
    pub processes: Vec<Vec<String>>,
}
