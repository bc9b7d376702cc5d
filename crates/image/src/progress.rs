//! Pull progress: the events a pull reports, in the vocabulary of Docker's
//! JSON progress stream (`Pulling fs layer`, `Downloading`, `Pull complete`,
//! ...), and the sink they are delivered to.

use std::fmt;
use std::sync::Arc;

/// One progress event of a pull.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullEvent {
    /// A line about the whole pull (`Pulling from library/busybox`,
    /// `Digest: sha256:...`, `Status: Downloaded newer image for ...`).
    /// `id` is the tag or repository the line is about, when Docker prints one.
    Status {
        /// The `id` field of Docker's progress message, if any.
        id: Option<String>,
        /// The text.
        status: String,
    },
    /// Something happened to one layer.
    Layer {
        /// The short layer ID Docker shows: the first 12 hex of the blob digest.
        id: String,
        /// What happened.
        status: LayerStatus,
    },
}

/// A layer's progress through a pull.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerStatus {
    /// The layer is part of the image and will be fetched.
    PullingFsLayer,
    /// Queued behind the download concurrency limit.
    Waiting,
    /// Bytes received so far, of `total`.
    Downloading {
        /// Bytes received.
        current: u64,
        /// The blob's size.
        total: u64,
    },
    /// The download is complete and its digest is being checked.
    VerifyingChecksum,
    /// The blob is stored.
    DownloadComplete,
    /// The layer is being unpacked (`current` of `total` compressed bytes).
    Extracting {
        /// Bytes processed.
        current: u64,
        /// The blob's size.
        total: u64,
    },
    /// The layer is unpacked and committed.
    PullComplete,
    /// The layer was already stored locally.
    AlreadyExists,
}

impl LayerStatus {
    /// Docker's `status` string for this event.
    pub fn text(&self) -> &'static str {
        match self {
            LayerStatus::PullingFsLayer => "Pulling fs layer",
            LayerStatus::Waiting => "Waiting",
            LayerStatus::Downloading { .. } => "Downloading",
            LayerStatus::VerifyingChecksum => "Verifying Checksum",
            LayerStatus::DownloadComplete => "Download complete",
            LayerStatus::Extracting { .. } => "Extracting",
            LayerStatus::PullComplete => "Pull complete",
            LayerStatus::AlreadyExists => "Already exists",
        }
    }

    /// `(current, total)` for the events that carry a progress bar.
    pub fn progress(&self) -> Option<(u64, u64)> {
        match *self {
            LayerStatus::Downloading { current, total }
            | LayerStatus::Extracting { current, total } => Some((current, total)),
            _ => None,
        }
    }
}

impl fmt::Display for PullEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PullEvent::Status {
                id: Some(id),
                status,
            } => write!(f, "{id}: {status}"),
            PullEvent::Status { id: None, status } => f.write_str(status),
            PullEvent::Layer { id, status } => match status.progress() {
                Some((c, t)) => write!(f, "{id}: {} {c}/{t}", status.text()),
                None => write!(f, "{id}: {}", status.text()),
            },
        }
    }
}

/// Where a pull sends its events. Cheap to clone; delivering must not block
/// (a slow consumer should buffer or drop).
#[derive(Clone)]
pub struct Progress(Option<Arc<dyn Fn(PullEvent) + Send + Sync>>);

impl Progress {
    /// A sink that calls `f` for every event.
    pub fn new(f: impl Fn(PullEvent) + Send + Sync + 'static) -> Progress {
        Progress(Some(Arc::new(f)))
    }

    /// A sink that drops every event.
    pub fn discard() -> Progress {
        Progress(None)
    }

    /// Delivers one event.
    pub fn emit(&self, event: PullEvent) {
        if let Some(f) = &self.0 {
            f(event)
        }
    }

    /// Delivers a whole-pull status line.
    pub fn status(&self, id: Option<&str>, status: impl Into<String>) {
        self.emit(PullEvent::Status {
            id: id.map(str::to_string),
            status: status.into(),
        })
    }

    /// Delivers a layer event.
    pub fn layer(&self, id: &str, status: LayerStatus) {
        self.emit(PullEvent::Layer {
            id: id.to_string(),
            status,
        })
    }
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Progress"
        } else {
            "Progress(discard)"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn events_render_like_docker_lines() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = {
            let seen = seen.clone();
            Progress::new(move |e| seen.lock().unwrap().push(e.to_string()))
        };
        sink.status(Some("latest"), "Pulling from library/busybox");
        sink.layer(
            "0123456789ab",
            LayerStatus::Downloading {
                current: 5,
                total: 10,
            },
        );
        sink.layer("0123456789ab", LayerStatus::PullComplete);
        Progress::discard().status(None, "dropped");
        assert_eq!(
            *seen.lock().unwrap(),
            [
                "latest: Pulling from library/busybox",
                "0123456789ab: Downloading 5/10",
                "0123456789ab: Pull complete"
            ]
        );
    }
}
