//! The system endpoints (docker/cli's `client/version.go`, `info.go`,
//! `events.go`, `disk_usage.go`): version, info, the event stream and disk
//! usage. `ping` is on [`Client`] itself, as version negotiation needs it.

use berth_api::types::df::DiskUsage;
use berth_api::types::events::Message;
use berth_api::types::filters::Filters;
use berth_api::types::system::{SystemInfo, SystemVersion};

use crate::client::{Call, Client};
use crate::error::Result;
use crate::stream::JsonStream;
use crate::Method;

/// The selection of `GET /events` (moby `events.ListOptions`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventsOptions {
    /// Only events after this time (Unix seconds with an optional
    /// `.nanoseconds` fraction, as the CLI computes it).
    pub since: Option<String>,
    /// Stop at this time (same form); `None` streams until interrupted.
    pub until: Option<String>,
    /// `type`, `event`, `container`, `image`, `label`, ...
    pub filters: Filters,
}

impl Client {
    /// `GET /version`.
    pub async fn version(&self) -> Result<SystemVersion> {
        self.json(Call::new(Method::GET, "/version")).await
    }

    /// `GET /info`.
    pub async fn info(&self) -> Result<SystemInfo> {
        self.json(Call::new(Method::GET, "/info")).await
    }

    /// `GET /events?since=&until=&filters=`: one message per line.
    pub async fn events(&self, options: &EventsOptions) -> Result<JsonStream<Message>> {
        let call = Call::new(Method::GET, "/events")
            .query_opt("since", options.since.as_deref())
            .query_opt("until", options.until.as_deref())
            .query_opt(
                "filters",
                (!options.filters.is_empty()).then(|| options.filters.to_json()),
            );
        let resp = self.send(call).await?;
        Ok(JsonStream::new(resp.into_body()))
    }

    /// `GET /system/df?type=`: the disk usage of the given object kinds
    /// (`container`, `image`, `volume`, `build-cache`; all when empty).
    pub async fn disk_usage(&self, types: &[&str]) -> Result<DiskUsage> {
        let call = types
            .iter()
            .fold(Call::new(Method::GET, "/system/df"), |c, t| {
                c.query("type", t)
            });
        self.json(call).await
    }
}
