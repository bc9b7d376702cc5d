//! Docker's `filters` for `GET /events` (moby `api/types/filters` and
//! `daemon/events/filter.go`).

use std::collections::{BTreeMap, BTreeSet};

use berth_image::reference::parse_normalized_named;

use super::Message;
use crate::error::{DaemonError, Result};

/// The filter keys `GET /events` accepts (moby's `acceptedEventFilterTags`).
pub const ACCEPTED_FILTERS: &[&str] = &[
    "config",
    "container",
    "daemon",
    "event",
    "image",
    "label",
    "network",
    "node",
    "plugin",
    "scope",
    "secret",
    "service",
    "type",
    "volume",
];

/// Keys whose filter matches the actor ID or its `name` attribute by prefix
/// (moby's `fuzzyMatchName`). Like moby, these do not look at the event
/// type: `container=x` excludes every event whose actor is not `x`.
const NAME_KEYS: &[&str] = &[
    "daemon",
    "container",
    "plugin",
    "volume",
    "network",
    "node",
    "service",
    "secret",
    "config",
];

/// `event` values that switch `event` matching to prefix matching, since
/// moby emits them with a suffix (`exec_start: sh`, `health_status: healthy`).
const FUZZY_EVENTS: &[&str] = &["health_status", "exec_create", "exec_start"];

/// A parsed `filters` value: key -> set of values. An empty filter lets
/// every event through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    fields: BTreeMap<String, BTreeSet<String>>,
}

impl EventFilter {
    /// The filter that lets everything through.
    pub fn all() -> Self {
        Self::default()
    }

    /// Parses the `filters` query parameter (moby `filters.FromJSON`), in
    /// either form: `{"type":{"container":true}}` (only `true` values count)
    /// or the older `{"type":["container"]}`. Empty means no filter. Bad
    /// JSON and keys outside [`ACCEPTED_FILTERS`] are InvalidParameter, the
    /// latter worded `invalid filter 'x'`.
    pub fn from_json(s: &str) -> Result<Self> {
        let s = s.trim();
        let mut f = EventFilter::default();
        if s.is_empty() {
            return Ok(f);
        }
        if let Ok(map) = serde_json::from_str::<BTreeMap<String, BTreeMap<String, bool>>>(s) {
            for (k, vals) in map {
                let set = f.fields.entry(k).or_default();
                set.extend(vals.into_iter().filter(|(_, on)| *on).map(|(v, _)| v));
            }
        } else {
            let map: BTreeMap<String, Vec<String>> = serde_json::from_str(s)
                .map_err(|e| DaemonError::invalid(format!("invalid filter: {e}")))?;
            for (k, vals) in map {
                f.fields.entry(k).or_default().extend(vals);
            }
        }
        f.validate()?;
        Ok(f)
    }

    /// Adds `key=value` (as the CLI's `--filter key=value`). Keys are not
    /// validated here; see [`EventFilter::validate`].
    pub fn add(&mut self, key: &str, value: &str) -> &mut Self {
        self.fields
            .entry(key.to_string())
            .or_default()
            .insert(value.to_string());
        self
    }

    /// Builder form of [`EventFilter::add`].
    pub fn with(mut self, key: &str, value: &str) -> Self {
        self.add(key, value);
        self
    }

    /// InvalidParameter `invalid filter 'x'` for the first (sorted) key not
    /// in [`ACCEPTED_FILTERS`].
    pub fn validate(&self) -> Result<()> {
        match self
            .fields
            .keys()
            .find(|k| !ACCEPTED_FILTERS.contains(&k.as_str()))
        {
            Some(k) => Err(DaemonError::invalid(format!("invalid filter '{k}'"))),
            None => Ok(()),
        }
    }

    /// True when no key has a value.
    pub fn is_empty(&self) -> bool {
        self.fields.values().all(BTreeSet::is_empty)
    }

    /// The values given for `key`.
    pub fn get(&self, key: &str) -> impl Iterator<Item = &str> {
        self.fields
            .get(key)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }

    /// Whether `msg` passes every filter (moby's `Filter.Include`).
    pub fn include(&self, msg: &Message) -> bool {
        if self.is_empty() {
            return true;
        }
        self.match_event(msg)
            && self.exact("type", msg.event_type.as_str())
            && self.exact("scope", &msg.scope)
            && NAME_KEYS.iter().all(|k| self.fuzzy_name(k, msg))
            && self.match_image(msg)
            && self.match_labels(msg)
    }

    fn values(&self, key: &str) -> Option<&BTreeSet<String>> {
        self.fields.get(key).filter(|v| !v.is_empty())
    }

    /// `Args.ExactMatch`: no values for `key` matches everything.
    fn exact(&self, key: &str, source: &str) -> bool {
        self.values(key).is_none_or(|v| v.contains(source))
    }

    /// `Args.FuzzyMatch`: exact, or `source` starts with a value.
    fn fuzzy(&self, key: &str, source: &str) -> bool {
        match self.values(key) {
            None => true,
            Some(v) => v.contains(source) || v.iter().any(|p| source.starts_with(p.as_str())),
        }
    }

    fn match_event(&self, msg: &Message) -> bool {
        if self.get("event").any(|v| FUZZY_EVENTS.contains(&v)) {
            self.fuzzy("event", &msg.action)
        } else {
            self.exact("event", &msg.action)
        }
    }

    fn fuzzy_name(&self, key: &str, msg: &Message) -> bool {
        if self.values(key).is_none() {
            return true;
        }
        let name = msg
            .actor
            .attributes
            .get("name")
            .map(String::as_str)
            .unwrap_or("");
        self.fuzzy(key, &msg.actor.id) || self.fuzzy(key, name)
    }

    /// moby's `matchImage`: the actor ID, or the `image` attribute (`name`
    /// for image events), each as is or with its tag/digest stripped to the
    /// familiar name (`busybox:latest` -> `busybox`).
    fn match_image(&self, msg: &Message) -> bool {
        let Some(values) = self.values("image") else {
            return true;
        };
        let attr = if msg.event_type == super::EventType::Image {
            "name"
        } else {
            "image"
        };
        let id = msg.actor.id.as_str();
        let image_name = msg
            .actor
            .attributes
            .get(attr)
            .map(String::as_str)
            .unwrap_or("");
        values.contains(id)
            || values.contains(image_name)
            || values.contains(&strip_tag(id))
            || values.contains(&strip_tag(image_name))
    }

    /// `Args.MatchKVList` over the attributes: every `label` value `k` or
    /// `k=v` must be present (with that value).
    fn match_labels(&self, msg: &Message) -> bool {
        let Some(values) = self.values("label") else {
            return true;
        };
        let attrs = &msg.actor.attributes;
        if attrs.is_empty() {
            return false;
        }
        values.iter().all(|v| match v.split_once('=') {
            Some((k, want)) => attrs.get(k).is_some_and(|have| have == want),
            None => attrs.contains_key(v.as_str()),
        })
    }
}

/// The familiar name without tag or digest, or `image` itself when it is
/// not a reference (moby's `stripTag`).
fn strip_tag(image: &str) -> String {
    match parse_normalized_named(image) {
        Ok(r) => r.familiar_name(),
        Err(_) => image.to_string(),
    }
}
