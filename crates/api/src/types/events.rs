//! `GET /events` (moby `api/types/events`): one event, [`Message`], about
//! an [`Actor`] of some [`EventType`], and the [`action`] words.
//!
//! The events service (ring buffer, subscriptions, filters) is the
//! daemon's; this is only the wire model.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// The `scope` of every event this engine emits (no swarm).
pub const LOCAL_SCOPE: &str = "local";

/// The kind of object an event is about (`events.Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    /// `container`
    Container,
    /// `image`
    Image,
    /// `volume`
    Volume,
    /// `network`
    Network,
    /// `daemon`
    Daemon,
    /// `plugin`
    Plugin,
    /// `builder`
    Builder,
}

impl EventType {
    /// The wire name (`container`, `image`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Container => "container",
            EventType::Image => "image",
            EventType::Volume => "volume",
            EventType::Network => "network",
            EventType::Daemon => "daemon",
            EventType::Plugin => "plugin",
            EventType::Builder => "builder",
        }
    }
}

/// The `Action` strings moby emits (`events.Action`). [`Message::action`]
/// is a plain string because some actions carry a suffix:
/// `exec_create: <cmd args>`, `exec_start: <cmd args>`,
/// `health_status: healthy`.
pub mod action {
    /// Container created.
    pub const CREATE: &str = "create";
    /// Container started.
    pub const START: &str = "start";
    /// Container restarted (`docker restart`, emitted after start).
    pub const RESTART: &str = "restart";
    /// Container process exited (attributes `exitCode`, `execDuration`).
    pub const DIE: &str = "die";
    /// Signal sent to a container (attribute `signal`).
    pub const KILL: &str = "kill";
    /// Container stopped by `docker stop`.
    pub const STOP: &str = "stop";
    /// Container frozen.
    pub const PAUSE: &str = "pause";
    /// Container thawed.
    pub const UNPAUSE: &str = "unpause";
    /// Container renamed (attribute `oldName`).
    pub const RENAME: &str = "rename";
    /// Container removed.
    pub const DESTROY: &str = "destroy";
    /// Container killed by the OOM killer.
    pub const OOM: &str = "oom";
    /// Attached to a container.
    pub const ATTACH: &str = "attach";
    /// Detached from a container.
    pub const DETACH: &str = "detach";
    /// Container committed to an image.
    pub const COMMIT: &str = "commit";
    /// Files copied from/to a container.
    pub const COPY: &str = "copy";
    /// Archive path stat'ed or extracted.
    pub const ARCHIVE_PATH: &str = "archive-path";
    /// Archive extracted into a container.
    pub const EXTRACT_TO_DIR: &str = "extract-to-dir";
    /// Container exported.
    pub const EXPORT: &str = "export";
    /// TTY resized (attributes `height`, `width`).
    pub const RESIZE: &str = "resize";
    /// `docker top`.
    pub const TOP: &str = "top";
    /// Container resources updated.
    pub const UPDATE: &str = "update";
    /// Exec created; moby emits `exec_create: <entrypoint> <args>`.
    pub const EXEC_CREATE: &str = "exec_create";
    /// Exec started; moby emits `exec_start: <entrypoint> <args>`.
    pub const EXEC_START: &str = "exec_start";
    /// Exec process exited (attributes `execID`, `exitCode`).
    pub const EXEC_DIE: &str = "exec_die";
    /// Exec attached.
    pub const EXEC_DETACH: &str = "exec_detach";
    /// Health status changed; moby emits `health_status: <status>`.
    pub const HEALTH_STATUS: &str = "health_status";
    /// Image pulled.
    pub const PULL: &str = "pull";
    /// Image pushed.
    pub const PUSH: &str = "push";
    /// Image tagged.
    pub const TAG: &str = "tag";
    /// A reference removed from an image.
    pub const UNTAG: &str = "untag";
    /// Image deleted.
    pub const DELETE: &str = "delete";
    /// Image imported.
    pub const IMPORT: &str = "import";
    /// Image loaded.
    pub const LOAD: &str = "load";
    /// Image saved.
    pub const SAVE: &str = "save";
    /// Objects pruned (attribute `reclaimed`).
    pub const PRUNE: &str = "prune";
    /// Volume or network removed / destroyed.
    pub const REMOVE: &str = "remove";
    /// Volume mounted.
    pub const MOUNT: &str = "mount";
    /// Volume unmounted.
    pub const UNMOUNT: &str = "unmount";
    /// Container connected to a network.
    pub const CONNECT: &str = "connect";
    /// Container disconnected from a network.
    pub const DISCONNECT: &str = "disconnect";
    /// Daemon configuration reloaded.
    pub const RELOAD: &str = "reload";
}

/// The object an event is about (`events.Actor`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The object's ID (container ID, image ID or reference, ...).
    #[serde(rename = "ID", default)]
    pub id: String,
    /// Key/value details (`name`, `image`, labels, `exitCode`, ...).
    /// Sorted, as Go's JSON encoder sorts map keys.
    #[serde(rename = "Attributes", default)]
    pub attributes: BTreeMap<String, String>,
}

/// One event as `GET /events` streams it (`events.Message`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Legacy: the action, for container and image events only.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    /// Legacy: the actor ID, for container and image events only.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Legacy: the `image` attribute, for container events only.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub from: String,
    /// What kind of object the event is about.
    #[serde(rename = "Type")]
    pub event_type: EventType,
    /// What happened (see [`action`]).
    #[serde(rename = "Action")]
    pub action: String,
    /// The object and its attributes.
    #[serde(rename = "Actor")]
    pub actor: Actor,
    /// Always [`LOCAL_SCOPE`] here.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scope: String,
    /// Unix seconds.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub time: i64,
    /// Unix nanoseconds.
    #[serde(rename = "timeNano", default, skip_serializing_if = "is_zero")]
    pub time_nano: i64,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

impl Message {
    /// A message of any type, stamped now, with the legacy fields filled.
    pub fn new(
        event_type: EventType,
        action: impl Into<String>,
        id: impl Into<String>,
        attributes: BTreeMap<String, String>,
    ) -> Self {
        let mut m = Message {
            status: String::new(),
            id: String::new(),
            from: String::new(),
            event_type,
            action: action.into(),
            actor: Actor {
                id: id.into(),
                attributes,
            },
            scope: LOCAL_SCOPE.to_string(),
            time: 0,
            time_nano: 0,
        };
        m.stamp(SystemTime::now());
        m.fill_legacy();
        m
    }

    /// Sets `time` and `timeNano` from `t`.
    pub fn stamp(&mut self, t: SystemTime) {
        let nanos = unix_nanos(t);
        self.time_nano = nanos;
        self.time = nanos.div_euclid(1_000_000_000);
    }

    /// Fills the legacy `status` / `id` / `from` fields as moby's
    /// `Events.Log` does: container events get all three (`from` = the
    /// `image` attribute), image events `status` and `id`, others none.
    pub fn fill_legacy(&mut self) {
        match self.event_type {
            EventType::Container => {
                self.id = self.actor.id.clone();
                self.status = self.action.clone();
                self.from = self
                    .actor
                    .attributes
                    .get("image")
                    .cloned()
                    .unwrap_or_default();
            }
            EventType::Image => {
                self.id = self.actor.id.clone();
                self.status = self.action.clone();
                self.from.clear();
            }
            _ => {
                self.id.clear();
                self.status.clear();
                self.from.clear();
            }
        }
    }
}

/// Unix nanoseconds of `t` (negative before 1970, saturating).
pub fn unix_nanos(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_nanos())
            .map(|n| -n)
            .unwrap_or(i64::MIN),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_fields_and_round_trip() {
        let attrs = BTreeMap::from([("name".to_string(), "web".to_string())]);
        let m = Message::new(EventType::Container, action::START, "abc", attrs);
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["status"], "start");
        assert_eq!(v["id"], "abc");
        assert_eq!(v["Type"], "container");
        assert_eq!(v["scope"], LOCAL_SCOPE);
        assert_eq!(v["timeNano"].as_i64().unwrap() / 1_000_000_000, v["time"]);
        let back: Message = serde_json::from_value(v).unwrap();
        assert_eq!(back, m);

        let n = Message::new(EventType::Network, action::CONNECT, "n1", BTreeMap::new());
        let v = serde_json::to_value(&n).unwrap();
        assert!(v.get("status").is_none() && v.get("id").is_none() && v.get("from").is_none());
    }

    #[test]
    fn nanos_before_the_epoch_are_negative() {
        let t = UNIX_EPOCH - std::time::Duration::from_nanos(5);
        assert_eq!(unix_nanos(t), -5);
        assert_eq!(EventType::Builder.as_str(), "builder");
    }
}
