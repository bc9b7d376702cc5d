//! The daemon behind the Engine API: [`ApiBackend`] implements the
//! `berth_api::server` backend traits over [`Daemon`], turning the
//! daemon's results into the API's types and its errors into `ApiError`s.
//! One file per backend; the router stays in `berth-api`.

mod container;
mod exec;
mod images;
mod inspect;
mod network;
mod streams;
mod system;
mod volume;

use std::sync::Arc;

use berth_api::server::{ApiError, Backends};

use crate::daemon::Daemon;

/// The adapter the router calls.
#[derive(Debug, Clone)]
pub struct ApiBackend {
    daemon: Arc<Daemon>,
}

impl ApiBackend {
    /// Serves `daemon`.
    pub fn new(daemon: Arc<Daemon>) -> ApiBackend {
        ApiBackend { daemon }
    }

    /// The router's backends, all served by `daemon`.
    pub fn backends(daemon: Arc<Daemon>) -> Backends {
        Backends::from_one(Arc::new(ApiBackend::new(daemon)))
    }

    /// The daemon served.
    pub fn daemon(&self) -> &Arc<Daemon> {
        &self.daemon
    }
}

/// A daemon error as the API reports it (status from its kind).
pub(crate) fn api_error(e: crate::error::DaemonError) -> ApiError {
    ApiError::from_error(&e)
}
