//! The daemon's events service (moby `daemon/events/events.go`, the models
//! of `api/types/events` and the `GET /events` query of
//! `api/server/router/system`).
//!
//! - [`Message`] is one event with the Engine API's JSON shape (`Type`,
//!   `Action`, `Actor.ID`, `Actor.Attributes`, `scope`, `time`, `timeNano`,
//!   plus the legacy `status` / `id` / `from` of container and image events).
//! - [`Events`] keeps the last [`EVENTS_LIMIT`] events in a ring buffer for
//!   `since` replay and fans live events out to subscribers.
//! - [`EventFilter`] is Docker's `filters` query parameter with moby's
//!   matching rules.
//! - [`EventsQuery`] parses `since` / `until` / `filters` the way the
//!   `GET /events` handler does.
//!
//! # Delivery to subscribers
//!
//! Each subscriber has its own bounded `tokio::sync::mpsc` channel
//! ([`SUBSCRIBER_BUFFER`] events, moby's `bufferSize`). [`Events::log`]
//! filters at publish time and uses `try_send`: it never waits. When a
//! subscriber's channel is full the event is dropped *for that subscriber
//! only* and counted ([`Subscription::dropped`]); moby's publisher does the
//! same after a 100 ms timeout, Berth just does not wait. A broadcast
//! channel was not used because it would make every subscriber buffer every
//! event, filtered or not, and a lagging receiver would lose the oldest
//! events of everyone's stream position rather than just its own.
//!
//! The ring buffer and the subscriber list share one lock, so a subscriber
//! sees every event exactly once: either in the replay or live, never both
//! and never neither.

mod filter;
#[cfg(test)]
mod tests;

pub use berth_api::types::events::{action, Actor, EventType, Message, LOCAL_SCOPE};
pub use filter::{EventFilter, ACCEPTED_FILTERS};

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use berth_api::types::events::unix_nanos;
use tokio::sync::mpsc;

use crate::error::{DaemonError, Result};

/// How many past events the service keeps for replay (moby's `eventsLimit`).
pub const EVENTS_LIMIT: usize = 256;

/// How many undelivered events a subscriber may have queued before new ones
/// are dropped for it (moby's `bufferSize`).
pub const SUBSCRIBER_BUFFER: usize = 1024;

/// The daemon's ways of building a [`Message`] (moby's
/// `LogContainerEventWithAttributes` / `LogImageEvent`), kept in the daemon
/// since the attribute rules are the daemon's, not the wire model's. Bring
/// the trait into scope to call `Message::container(...)` and
/// `Message::image(...)`.
pub trait MessageExt {
    /// A container event, with attributes built as moby's
    /// `LogContainerEventWithAttributes` builds them: `extra` first, then the
    /// container's labels (which override `extra`), then `image` (when not
    /// empty) and `name` (leading `/` trimmed). `image` is the image as the
    /// user named it (`Config.Image`), not the resolved ID.
    ///
    /// Per-action `extra` (moby's): `die` -> `exitCode` (and `execDuration`,
    /// whole seconds), `kill` -> `signal` (the number, e.g. `"9"`),
    /// `rename` -> `oldName` (with its leading `/`), `exec_*` -> `execID`
    /// (`exec_die` also `exitCode`).
    fn container(
        action: impl Into<String>,
        id: &str,
        name: &str,
        image: &str,
        labels: Option<&BTreeMap<String, String>>,
        extra: &[(&str, &str)],
    ) -> Message;

    /// An image event, as moby's `LogImageEvent(imageID, refName, action)`:
    /// the actor ID is `id_or_ref` and the `name` attribute defaults to it
    /// too unless `extra` sets `name` (for `tag`, the ID is the image ID and
    /// `name` the new reference). The image's labels, when the caller has
    /// them, go in `extra` too.
    fn image(action: impl Into<String>, id_or_ref: &str, extra: &[(&str, &str)]) -> Message;
    /// A `network` event about network `id` with the given attributes.
    fn network(action: impl Into<String>, id: &str, attrs: &[(&str, &str)]) -> Message;
}

impl MessageExt for Message {
    fn container(
        action: impl Into<String>,
        id: &str,
        name: &str,
        image: &str,
        labels: Option<&BTreeMap<String, String>>,
        extra: &[(&str, &str)],
    ) -> Self {
        let mut attrs: BTreeMap<String, String> = extra
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if let Some(labels) = labels {
            attrs.extend(labels.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        if !image.is_empty() {
            attrs.insert("image".into(), image.to_string());
        }
        attrs.insert("name".into(), name.trim_start_matches('/').to_string());
        Message::new(EventType::Container, action, id, attrs)
    }

    fn image(action: impl Into<String>, id_or_ref: &str, extra: &[(&str, &str)]) -> Self {
        let mut attrs: BTreeMap<String, String> = extra
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        attrs
            .entry("name".into())
            .or_insert_with(|| id_or_ref.to_string());
        Message::new(EventType::Image, action, id_or_ref, attrs)
    }

    fn network(action: impl Into<String>, id: &str, attrs: &[(&str, &str)]) -> Self {
        let attrs = attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Message::new(EventType::Network, action, id, attrs)
    }
}

struct Subscriber {
    id: u64,
    filter: EventFilter,
    tx: mpsc::Sender<Message>,
    dropped: Arc<AtomicU64>,
}

struct State {
    ring: VecDeque<Message>,
    subscribers: Vec<Subscriber>,
    next_id: u64,
}

struct Inner {
    limit: usize,
    channel: usize,
    state: Mutex<State>,
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state torn
        // (push/pop/retain), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The events service (moby `daemon/events.Events`). Cheap to clone: all
/// clones share one buffer and one set of subscribers.
#[derive(Clone)]
pub struct Events {
    inner: Arc<Inner>,
}

impl Default for Events {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.inner.lock();
        f.debug_struct("Events")
            .field("buffered", &st.ring.len())
            .field("subscribers", &st.subscribers.len())
            .finish()
    }
}

impl Events {
    /// A service keeping [`EVENTS_LIMIT`] events, with subscriber channels
    /// of [`SUBSCRIBER_BUFFER`].
    pub fn new() -> Self {
        Self::with_limits(EVENTS_LIMIT, SUBSCRIBER_BUFFER)
    }

    /// A service keeping `limit` past events, each subscriber queueing at
    /// most `channel` undelivered ones (both at least 1).
    pub fn with_limits(limit: usize, channel: usize) -> Self {
        let limit = limit.max(1);
        Events {
            inner: Arc::new(Inner {
                limit,
                channel: channel.max(1),
                state: Mutex::new(State {
                    ring: VecDeque::with_capacity(limit),
                    subscribers: Vec::new(),
                    next_id: 0,
                }),
            }),
        }
    }

    /// Records an event, as moby's `Events.Log`: stamps it with the current
    /// time (under the lock, so the buffer stays in time order), sets the
    /// scope to `local`, fills the legacy fields, then publishes it. Never
    /// blocks on subscribers; safe from any thread, sync or async.
    pub fn log(&self, mut msg: Message) {
        let mut st = self.inner.lock();
        msg.stamp(SystemTime::now());
        msg.scope = LOCAL_SCOPE.to_string();
        msg.fill_legacy();
        self.publish_locked(&mut st, msg);
    }

    /// Records an event as given, keeping its time and fields (moby's
    /// `PublishMessage`). Prefer [`Events::log`].
    pub fn publish(&self, msg: Message) {
        let mut st = self.inner.lock();
        self.publish_locked(&mut st, msg);
    }

    fn publish_locked(&self, st: &mut State, msg: Message) {
        st.subscribers.retain(|s| {
            if !s.filter.include(&msg) {
                return !s.tx.is_closed();
            }
            match s.tx.try_send(msg.clone()) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    s.dropped.fetch_add(1, Ordering::Relaxed);
                    true
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            }
        });
        if st.ring.len() >= self.inner.limit {
            st.ring.pop_front();
        }
        st.ring.push_back(msg);
    }

    /// The buffered events, oldest first.
    pub fn buffered(&self) -> Vec<Message> {
        self.inner.lock().ring.iter().cloned().collect()
    }

    /// How many live subscriptions there are.
    pub fn subscriber_count(&self) -> usize {
        let mut st = self.inner.lock();
        st.subscribers.retain(|s| !s.tx.is_closed());
        st.subscribers.len()
    }

    /// Subscribes, as moby's `SubscribeTopic`. Returns the buffered events
    /// to replay (oldest first) and the live stream.
    ///
    /// Replay happens only when `since` or `until` is set (as in moby): the
    /// buffered events with `since <= time <= until` that match `filter`.
    /// When `until` is already past, the subscription is not registered and
    /// [`Subscription::next`] returns `None` at once: the caller streams the
    /// replay and ends. Otherwise live events matching `filter` follow, and
    /// the stream ends at `until` (see [`Subscription::next`]).
    pub fn subscribe(
        &self,
        filter: EventFilter,
        since: Option<SystemTime>,
        until: Option<SystemTime>,
    ) -> (Vec<Message>, Subscription) {
        let now = SystemTime::now();
        let mut st = self.inner.lock();
        let replay = if since.is_none() && until.is_none() {
            Vec::new()
        } else {
            let since_n = since.map(unix_nanos).unwrap_or(i64::MIN);
            let until_n = until.map(unix_nanos).unwrap_or(i64::MAX);
            st.ring
                .iter()
                .filter(|m| m.time_nano >= since_n && m.time_nano <= until_n)
                .filter(|m| filter.include(m))
                .cloned()
                .collect()
        };
        let dropped = Arc::new(AtomicU64::new(0));
        let only_past = until.is_some_and(|u| u <= now);
        let (rx, id) = if only_past {
            (None, 0)
        } else {
            let (tx, rx) = mpsc::channel(self.inner.channel);
            let id = st.next_id;
            st.next_id += 1;
            st.subscribers.push(Subscriber {
                id,
                filter,
                tx,
                dropped: dropped.clone(),
            });
            (Some(rx), id)
        };
        drop(st);
        let deadline = until.map(|u| {
            let left = u.duration_since(now).unwrap_or(Duration::ZERO);
            tokio::time::Instant::now() + left
        });
        let sub = Subscription {
            rx,
            id,
            until_nano: until.map(unix_nanos),
            deadline,
            dropped,
            events: Arc::downgrade(&self.inner),
        };
        (replay, sub)
    }
}

/// A live event stream from [`Events::subscribe`]. Dropping it
/// unsubscribes.
pub struct Subscription {
    rx: Option<mpsc::Receiver<Message>>,
    id: u64,
    until_nano: Option<i64>,
    deadline: Option<tokio::time::Instant>,
    dropped: Arc<AtomicU64>,
    events: Weak<Inner>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("live", &self.rx.is_some())
            .field("deadline", &self.deadline)
            .field("dropped", &self.dropped())
            .finish()
    }
}

impl Subscription {
    /// The next live event, or `None` when the stream is over: `until` was
    /// in the past at subscribe time, `until` has been reached (the wait
    /// ends at that instant, moby's timer), or the service is gone. Without
    /// `until` this waits forever for events; the API handler should race
    /// it against the client disconnecting. Cancel-safe.
    pub async fn next(&mut self) -> Option<Message> {
        let rx = self.rx.as_mut()?;
        let msg = match self.deadline {
            None => rx.recv().await,
            Some(d) => tokio::time::timeout_at(d, rx.recv()).await.ok().flatten(),
        };
        match msg {
            Some(m) if self.until_nano.is_some_and(|u| m.time_nano > u) => {
                self.close();
                None
            }
            Some(m) => Some(m),
            None => {
                self.close();
                None
            }
        }
    }

    /// A live event already queued, without waiting (`None` if none is, or
    /// the stream is over). Does not apply the `until` timer, only the
    /// event-time check.
    pub fn try_next(&mut self) -> Option<Message> {
        let rx = self.rx.as_mut()?;
        let m = rx.try_recv().ok()?;
        if self.until_nano.is_some_and(|u| m.time_nano > u) {
            self.close();
            return None;
        }
        Some(m)
    }

    /// True once the stream can yield nothing more.
    pub fn is_finished(&self) -> bool {
        self.rx.is_none()
    }

    /// How many matching events were dropped for this subscriber because
    /// its queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    fn close(&mut self) {
        if self.rx.take().is_some() {
            if let Some(inner) = self.events.upgrade() {
                inner.lock().subscribers.retain(|s| s.id != self.id);
            }
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.close();
    }
}

/// The parsed query of `GET /events` (`since`, `until`, `filters`).
#[derive(Debug, Clone, Default)]
pub struct EventsQuery {
    /// Replay buffered events from this time on.
    pub since: Option<SystemTime>,
    /// Stop streaming at this time.
    pub until: Option<SystemTime>,
    /// Which events to send.
    pub filter: EventFilter,
}

impl EventsQuery {
    /// Parses the query values (absent or empty = unset), as moby's
    /// `getEvents`: times per [`parse_event_time`], filters per
    /// [`EventFilter::from_json`], and InvalidParameter
    /// ``` `since` time (<since>) cannot be after `until` time (<until>) ```
    /// when `until` is before `since`.
    pub fn parse(
        since: Option<&str>,
        until: Option<&str>,
        filters: Option<&str>,
        now: SystemTime,
    ) -> Result<Self> {
        let since_s = since.unwrap_or("");
        let until_s = until.unwrap_or("");
        let since_t = parse_event_time(since_s, now)?;
        let until_t = parse_event_time(until_s, now)?;
        if let Some(u) = until_t {
            if u < since_t.unwrap_or(UNIX_EPOCH) {
                return Err(DaemonError::invalid(format!(
                    "`since` time ({since_s}) cannot be after `until` time ({until_s})"
                )));
            }
        }
        let filter = EventFilter::from_json(filters.unwrap_or(""))?;
        Ok(EventsQuery {
            since: since_t,
            until: until_t,
            filter,
        })
    }
}

/// Parses a `since` / `until` value as Docker accepts it: empty means unset;
/// otherwise Unix seconds with an optional fraction (`1700000000.5`),
/// RFC 3339 (and its shorter forms `2006-01-02`, `2006-01-02T15:04`, ...),
/// or a Go duration (`10m`, `1h30m`) meaning that long before `now`. `0`
/// is the Unix epoch (replay everything buffered). Shares the parser of
/// `docker logs --since` ([`crate::logs::parse_timestamp`]).
pub fn parse_event_time(value: &str, now: SystemTime) -> Result<Option<SystemTime>> {
    match value.trim() {
        "" => Ok(None),
        "0" => Ok(Some(UNIX_EPOCH)),
        v => crate::logs::parse_timestamp(v, now).map(Some),
    }
}
