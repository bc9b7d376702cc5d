//! `docker container prune` (moby `daemon/prune.go` `ContainersPrune`):
//! remove every container that is not running, optionally only those
//! created before `until` and matching `label` / `label!`.

use std::collections::{BTreeMap, HashSet};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use crate::error::{DaemonError, Result};
use crate::events::{action, EventType, Message};
use crate::filters::{self, FilterMatch, Filters};

use super::Daemon;

/// The filter keys container prune accepts (moby's
/// `containersAcceptedFilters`).
pub const PRUNE_ACCEPTED_FILTERS: &[&str] = &["label", "label!", "until"];

/// The `filters` of `POST /containers/prune`: key -> values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneFilters {
    args: Filters,
}

impl PruneFilters {
    /// No filter: every stopped container.
    pub fn all() -> Self {
        Self::default()
    }

    /// Parses the `filters` query parameter in either of Docker's forms,
    /// `{"label":{"a=b":true}}` or `{"label":["a=b"]}`; empty means none.
    /// Bad JSON is InvalidParameter.
    pub fn from_json(s: &str) -> Result<Self> {
        Ok(PruneFilters {
            args: filters::parse(s)?,
        })
    }

    /// Wraps already parsed filters (the API's).
    pub fn from_filters(args: Filters) -> Self {
        PruneFilters { args }
    }

    /// Adds `key=value` (the CLI's `--filter key=value`).
    pub fn with(mut self, key: &str, value: &str) -> Self {
        self.args.add(key, value);
        self
    }

    fn get(&self, key: &str) -> &[String] {
        self.args.get(key)
    }

    /// InvalidParameter `invalid filter 'x'` for a key prune does not take.
    pub(crate) fn validate(&self) -> Result<()> {
        self.args.validate(PRUNE_ACCEPTED_FILTERS)
    }

    /// `until` as a time (moby's `getUntilFromPruneFilters`).
    pub(crate) fn until(&self, now: SystemTime) -> Result<Option<SystemTime>> {
        match self.get("until") {
            [] => Ok(None),
            [one] => crate::logs::parse_timestamp(one, now).map(Some),
            _ => Err(DaemonError::invalid("more than one until filter specified")),
        }
    }

    /// moby's `matchLabels`: every `label` matches and, when given, not
    /// every `label!` does.
    pub(crate) fn match_labels(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        self.args.match_labels("label", labels)
            && (!self.args.contains("label!") || !self.args.match_labels("label!", labels))
    }
}

pub use berth_api::types::container::PruneReport;

impl Daemon {
    /// Removes every container that is not running and passes `filters`.
    /// A container that fails to go is logged and skipped, as in moby.
    /// Logs a container `prune` event with the `reclaimed` bytes.
    pub async fn prune(self: &Arc<Self>, filters: &PruneFilters) -> Result<PruneReport> {
        filters.validate()?;
        let until = filters.until(SystemTime::now())?;
        let mut report = PruneReport::default();
        for container in self.list() {
            let record = container.record();
            if record.state.running {
                continue;
            }
            if let Some(until) = until {
                let created = humantime::parse_rfc3339_weak(&record.created)
                    .or_else(|_| humantime::parse_rfc3339(&record.created));
                if created.is_ok_and(|c| c > until) {
                    continue;
                }
            }
            if !filters.match_labels(record.config.labels.as_ref()) {
                continue;
            }
            let size = self
                .images
                .rootfs(&record.id)
                .map(|r| dir_size(&r.upper_dir))
                .unwrap_or(0);
            if let Err(e) = self.remove(&record.id, false).await {
                tracing::warn!(id = %record.id, error = %e, "failed to prune container");
                continue;
            }
            report.space_reclaimed += size;
            report.containers_deleted.push(record.id);
        }
        let attrs = BTreeMap::from([("reclaimed".to_string(), report.space_reclaimed.to_string())]);
        self.events()
            .log(Message::new(EventType::Container, action::PRUNE, "", attrs));
        Ok(report)
    }
}

/// Bytes in the files under `dir`, each inode once (moby's
/// `directory.Size`).
pub fn dir_size(dir: &Path) -> u64 {
    let mut seen = HashSet::new();
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let Ok(meta) = entry.metadata() else {
                continue;
            };
            if meta.is_dir() {
                stack.push(entry.path());
            } else if meta.nlink() <= 1 || seen.insert((meta.dev(), meta.ino())) {
                total += meta.size();
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_and_validate() {
        let f = PruneFilters::from_json(r#"{"label":{"a=b":true},"until":{"1h":true}}"#).unwrap();
        assert_eq!(f.get("label"), ["a=b"]);
        f.validate().unwrap();
        let f = PruneFilters::from_json(r#"{"name":["x"]}"#).unwrap();
        assert_eq!(
            f.validate().unwrap_err().to_string(),
            "invalid filter 'name'"
        );
        let two = PruneFilters::all().with("until", "1h").with("until", "2h");
        assert!(two.until(SystemTime::now()).is_err());
    }

    #[test]
    fn labels_match_like_moby() {
        let labels = BTreeMap::from([("a".to_string(), "b".to_string())]);
        let l = Some(&labels);
        assert!(PruneFilters::all().match_labels(None));
        assert!(PruneFilters::all().with("label", "a").match_labels(l));
        assert!(PruneFilters::all().with("label", "a=b").match_labels(l));
        assert!(!PruneFilters::all().with("label", "a=c").match_labels(l));
        assert!(!PruneFilters::all().with("label", "a").match_labels(None));
        assert!(!PruneFilters::all().with("label!", "a").match_labels(l));
        assert!(PruneFilters::all().with("label!", "x").match_labels(l));
    }
}
