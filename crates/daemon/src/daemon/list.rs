//! `docker ps` (moby's `daemon/list.go`): which containers to show, in
//! which order, under `all`, `limit` and the `filters` query.

use std::collections::HashSet;

use crate::error::{DaemonError, Result};
use crate::filters::{FilterMatch, Filters};
use crate::persist::ContainerRecord;

use super::Daemon;

/// The filter keys `GET /containers/json` accepts.
pub const LIST_ACCEPTED_FILTERS: &[&str] = &[
    "ancestor",
    "before",
    "exited",
    "expose",
    "health",
    "id",
    "isolation",
    "is-task",
    "label",
    "name",
    "network",
    "publish",
    "since",
    "status",
    "volume",
];

const STATUSES: &[&str] = &[
    "created",
    "restarting",
    "running",
    "removing",
    "paused",
    "exited",
    "dead",
];
const HEALTHS: &[&str] = &["starting", "healthy", "unhealthy", "none"];

/// What `GET /containers/json` asks for.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// Stopped containers too (implied by a `status` filter or a limit).
    pub all: bool,
    /// At most this many of the newest (0 or less: no limit).
    pub limit: i64,
    /// The `filters` query.
    pub filters: Filters,
}

fn invalid_filter(key: &str, value: &str) -> DaemonError {
    DaemonError::invalid(format!("invalid filter '{key}={value}'"))
}

impl Daemon {
    /// The containers `docker ps` shows, newest first. Errors: an unknown
    /// filter key or value (InvalidParameter); a `before` / `since`
    /// container that does not exist (NotFound).
    pub fn list_containers(&self, options: &ListOptions) -> Result<Vec<ContainerRecord>> {
        let f = &options.filters;
        f.validate(LIST_ACCEPTED_FILTERS)?;
        let mut all = options.all;
        for s in f.get("status") {
            if !STATUSES.contains(&s.as_str()) {
                return Err(invalid_filter("status", s));
            }
            all = true;
        }
        for h in f.get("health") {
            if !HEALTHS.contains(&h.as_str()) {
                return Err(invalid_filter("health", h));
            }
        }
        let exited: Vec<i32> = f
            .get("exited")
            .iter()
            .map(|v| {
                v.parse().map_err(|_| {
                    DaemonError::invalid(format!("strconv.Atoi: parsing {v:?}: invalid syntax"))
                })
            })
            .collect::<Result<_>>()?;
        let only_one = |key: &str| -> Result<Option<String>> {
            match f.get(key) {
                [] => Ok(None),
                [one] => Ok(Some(self.get(one)?.record().id)),
                _ => Err(DaemonError::invalid(format!(
                    "only one value is allowed for the '{key}' filter"
                ))),
            }
        };
        let mut before = only_one("before")?;
        let since = only_one("since")?;
        let ancestors: Option<HashSet<String>> = f.contains("ancestor").then(|| {
            f.get("ancestor")
                .iter()
                .filter_map(|r| self.images.get_image(r).ok())
                .map(|i| i.id.to_string())
                .collect()
        });

        let mut records: Vec<ContainerRecord> = self.list().iter().map(|c| c.record()).collect();
        records.sort_by(|a, b| created(b).cmp(&created(a)).then_with(|| b.id.cmp(&a.id)));
        let mut out = Vec::new();
        for r in records {
            // Everything newer than `before`, and `before` itself, is out.
            if let Some(b) = &before {
                if *b == r.id {
                    before = None;
                }
                continue;
            }
            if since.as_deref() == Some(r.id.as_str()) {
                break;
            }
            let s = &r.state;
            if !s.running && !all && options.limit <= 0 {
                continue;
            }
            let short_name = r.name.trim_start_matches('/');
            if !f.matches("name", &r.name) && !f.matches("name", short_name) {
                continue;
            }
            if !f.matches("id", &r.id) {
                continue;
            }
            if !f.match_labels("label", r.config.labels.as_ref()) {
                continue;
            }
            if options.limit > 0 && out.len() as i64 == options.limit {
                break;
            }
            let exited_ok = exited.contains(&s.exit_code) && s.status() == "exited";
            if !exited.is_empty() && !exited_ok {
                continue;
            }
            if !f.matches("status", s.status()) {
                continue;
            }
            let health = s.health.as_ref().map_or("none", |h| h.status.as_str());
            if !f.exact_match("health", health) {
                continue;
            }
            if let Some(ids) = &ancestors {
                if !ids.contains(&r.image) {
                    continue;
                }
            }
            out.push(r);
        }
        Ok(out)
    }
}

/// Creation time for ordering (RFC 3339 strings from one clock compare
/// correctly once parsed).
fn created(r: &ContainerRecord) -> std::time::SystemTime {
    humantime::parse_rfc3339(&r.created).unwrap_or(std::time::UNIX_EPOCH)
}
