//! Docker's `filters` for `GET /events` (moby `api/types/filters` and
//! `daemon/events/filter.go`).

use berth_image::reference::parse_normalized_named;

use super::Message;
use crate::error::Result;
use crate::filters::{self, FilterMatch, Filters};

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
    args: Filters,
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
        let f = EventFilter {
            args: filters::parse(s)?,
        };
        f.validate()?;
        Ok(f)
    }

    /// Wraps already parsed filters (the API's), validating the keys.
    pub fn from_filters(args: Filters) -> Result<Self> {
        let f = EventFilter { args };
        f.validate()?;
        Ok(f)
    }

    /// Adds `key=value` (as the CLI's `--filter key=value`). Keys are not
    /// validated here; see [`EventFilter::validate`].
    pub fn add(&mut self, key: &str, value: &str) -> &mut Self {
        self.args.add(key, value);
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
        self.args.validate(ACCEPTED_FILTERS)
    }

    /// True when no key has a value.
    pub fn is_empty(&self) -> bool {
        self.args.is_empty()
    }

    /// The values given for `key`.
    pub fn get(&self, key: &str) -> impl Iterator<Item = &str> {
        self.args.get(key).iter().map(String::as_str)
    }

    /// Whether `msg` passes every filter (moby's `Filter.Include`).
    pub fn include(&self, msg: &Message) -> bool {
        if self.is_empty() {
            return true;
        }
        self.match_event(msg)
            && self.args.exact_match("type", msg.event_type.as_str())
            && self.args.exact_match("scope", &msg.scope)
            && NAME_KEYS.iter().all(|k| self.fuzzy_name(k, msg))
            && self.match_image(msg)
            && self.match_labels(msg)
    }

    fn match_event(&self, msg: &Message) -> bool {
        if self.get("event").any(|v| FUZZY_EVENTS.contains(&v)) {
            self.args.fuzzy_match("event", &msg.action)
        } else {
            self.args.exact_match("event", &msg.action)
        }
    }

    fn fuzzy_name(&self, key: &str, msg: &Message) -> bool {
        if !self.args.contains(key) {
            return true;
        }
        let name = msg
            .actor
            .attributes
            .get("name")
            .map(String::as_str)
            .unwrap_or("");
        self.args.fuzzy_match(key, &msg.actor.id) || self.args.fuzzy_match(key, name)
    }

    /// moby's `matchImage`: the actor ID, or the `image` attribute (`name`
    /// for image events), each as is or with its tag/digest stripped to the
    /// familiar name (`busybox:latest` -> `busybox`).
    fn match_image(&self, msg: &Message) -> bool {
        if !self.args.contains("image") {
            return true;
        }
        let values = self.args.get("image");
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
        let (id_name, image_short) = (strip_tag(id), strip_tag(image_name));
        [id, image_name, id_name.as_str(), image_short.as_str()]
            .iter()
            .any(|c| values.iter().any(|v| v == c))
    }

    /// `Args.MatchKVList` over the attributes: every `label` value `k` or
    /// `k=v` must be present (with that value).
    fn match_labels(&self, msg: &Message) -> bool {
        self.args.match_labels("label", Some(&msg.actor.attributes))
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
