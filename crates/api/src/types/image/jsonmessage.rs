//! The JSON progress messages dockerd streams for pull, push, load and
//! build (moby `pkg/jsonmessage`), with Go's `omitempty` rules so the lines
//! are byte for byte what dockerd writes, and the progress bar text
//! `JSONProgress.String()` renders.

use crate::units::human_size;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

fn is_zero(n: &i64) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One line of a progress stream (moby `jsonmessage.JSONMessage`). Every
/// field is left out when empty, in Go's field order:
/// `{"status":"Downloading","progressDetail":{"current":1,"total":2},"progress":"[=>  ]","id":"abc"}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonMessage {
    /// Free text output (`Loaded image: busybox:latest\n`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub stream: String,
    /// The status word or line (`Downloading`, `Pulling from library/busybox`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub status: String,
    /// The numbers behind a progress bar.
    #[serde(rename = "progressDetail", skip_serializing_if = "Option::is_none")]
    pub progress_detail: Option<JsonProgress>,
    /// The rendered progress bar (deprecated upstream, still sent).
    #[serde(rename = "progress", skip_serializing_if = "String::is_empty")]
    pub progress: String,
    /// What the line is about (a short layer ID, a tag).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// The source of the event (unused by pull).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub from: String,
    /// Unix seconds (unused by pull).
    #[serde(skip_serializing_if = "is_zero")]
    pub time: i64,
    /// Unix nanoseconds (unused by pull).
    #[serde(rename = "timeNano", skip_serializing_if = "is_zero")]
    pub time_nano: i64,
    /// The error that ended the stream.
    #[serde(rename = "errorDetail", skip_serializing_if = "Option::is_none")]
    pub error_detail: Option<JsonError>,
    /// The error's message again (deprecated upstream, still sent).
    #[serde(rename = "error", skip_serializing_if = "String::is_empty")]
    pub error: String,
    /// Out-of-band data (a pushed digest, a built image ID).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aux: Option<serde_json::Value>,
}

impl JsonMessage {
    /// A status line, as moby's `progress.Message` writes it:
    /// `{"status":..,"id":..}` (no progress detail).
    pub fn status(id: Option<&str>, status: impl Into<String>) -> JsonMessage {
        JsonMessage {
            status: status.into(),
            id: id.unwrap_or_default().to_string(),
            ..JsonMessage::default()
        }
    }

    /// A progress update, as moby's `progress.Update` / progress readers
    /// write it: the status, the detail (`{}` when there are no numbers),
    /// the bar rendered at the server's width, and the ID.
    pub fn progress(id: &str, status: impl Into<String>, detail: JsonProgress) -> JsonMessage {
        JsonMessage {
            status: status.into(),
            progress: detail.to_string(),
            progress_detail: Some(detail),
            id: id.to_string(),
            ..JsonMessage::default()
        }
    }

    /// Free text (`{"stream":..}`), as `docker load` reports what it loaded.
    pub fn stream(text: impl Into<String>) -> JsonMessage {
        JsonMessage {
            stream: text.into(),
            ..JsonMessage::default()
        }
    }

    /// The line that ends a stream with an error, as moby's
    /// `streamformatter.FormatError` writes it:
    /// `{"errorDetail":{"message":..},"error":..}`.
    pub fn error(message: impl Into<String>) -> JsonMessage {
        let message = message.into();
        JsonMessage {
            error_detail: Some(JsonError {
                code: 0,
                message: message.clone(),
            }),
            error: message,
            ..JsonMessage::default()
        }
    }

    /// The error this line carries, if any (`errorDetail.message`, else
    /// `error`).
    pub fn error_message(&self) -> Option<&str> {
        match &self.error_detail {
            Some(e) if !e.message.is_empty() => Some(&e.message),
            _ if !self.error.is_empty() => Some(&self.error),
            _ => None,
        }
    }
}

/// `errorDetail` (moby `jsonmessage.JSONError`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonError {
    /// An HTTP-like code, when the error has one.
    #[serde(skip_serializing_if = "is_zero")]
    pub code: i64,
    /// The message.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// `progressDetail` (moby `jsonmessage.JSONProgress`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonProgress {
    /// Done so far.
    #[serde(skip_serializing_if = "is_zero")]
    pub current: i64,
    /// The whole (0 when unknown).
    #[serde(skip_serializing_if = "is_zero")]
    pub total: i64,
    /// When the work started, Unix seconds (for the time left; 0: none).
    #[serde(skip_serializing_if = "is_zero")]
    pub start: i64,
    /// Show the bar without the numbers.
    #[serde(rename = "hidecounts", skip_serializing_if = "is_false")]
    pub hide_counts: bool,
    /// The unit of `current`/`total`; empty means bytes.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub units: String,
}

impl JsonProgress {
    /// Byte progress: `current` of `total`.
    pub fn bytes(current: u64, total: u64) -> JsonProgress {
        JsonProgress {
            current: i64::try_from(current).unwrap_or(i64::MAX),
            total: i64::try_from(total).unwrap_or(i64::MAX),
            ..JsonProgress::default()
        }
    }

    /// `JSONProgress.String()` for a terminal `width` columns wide: the bar
    /// (only above 110 columns), the numbers, and the time left when
    /// `start` is set. Empty when there is nothing to show.
    pub fn render(&self, width: usize) -> String {
        if self.current <= 0 && self.total <= 0 {
            return String::new();
        }
        if self.total <= 0 {
            return if self.units.is_empty() {
                format!("{:>8}", human_size(self.current as f64))
            } else {
                format!("{} {}", self.current, self.units)
            };
        }
        // Go: int(float64(current)/float64(total)*100) / 2, capped at 50.
        let percentage = (((self.current as f64 / self.total as f64) * 100.0) as i64 / 2).min(50);
        let mut out = String::new();
        if width > 110 {
            let eq = usize::try_from(percentage).unwrap_or(0);
            out.push('[');
            out.push_str(&"=".repeat(eq));
            out.push('>');
            out.push_str(&" ".repeat(50 - eq));
            out.push_str("] ");
        }
        if !self.hide_counts {
            if self.units.is_empty() {
                let current = human_size(self.current as f64);
                if self.current > self.total {
                    // A current past the total is wonky: show it alone.
                    out.push_str(&format!("{current:>8}"));
                } else {
                    out.push_str(&format!("{current:>8}/{}", human_size(self.total as f64)));
                }
            } else if self.current > self.total {
                out.push_str(&format!("{} {}", self.current, self.units));
            } else {
                out.push_str(&format!("{}/{} {}", self.current, self.total, self.units));
            }
        }
        if self.current > 0 && self.start > 0 && percentage < 50 {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            let per_entry = (now - self.start as f64).max(0.0) / self.current as f64;
            let left = ((self.total - self.current) as f64 * per_entry).round() as u64;
            out.push(' ');
            out.push_str(&go_seconds(left));
        }
        out
    }
}

impl std::fmt::Display for JsonProgress {
    /// As dockerd renders it server-side: no terminal, so 200 columns.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render(200))
    }
}

/// Whole seconds as Go's `time.Duration.String()` writes them (`1h2m3s`,
/// `2m0s`, `5s`, `0s`).
fn go_seconds(s: u64) -> String {
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_render_like_dockerd_at_200_columns() {
        let p = JsonProgress::bytes(1200, 3400);
        // 35% -> 17 '=' then '>' and 33 spaces.
        assert_eq!(
            p.to_string(),
            format!("[{}>{}]    1.2kB/3.4kB", "=".repeat(17), " ".repeat(33))
        );
        let done = JsonProgress::bytes(3400, 3400);
        assert_eq!(
            done.to_string(),
            format!("[{}>]    3.4kB/3.4kB", "=".repeat(50))
        );
        let start = JsonProgress::bytes(0, 772_000);
        assert_eq!(
            start.to_string(),
            format!("[>{}]       0B/772kB", " ".repeat(50))
        );
        // Narrow terminals get no bar; wonky counts drop the total.
        assert_eq!(p.render(80), "   1.2kB/3.4kB");
        assert_eq!(JsonProgress::bytes(5000, 10).render(80), "     5kB");
        assert_eq!(JsonProgress::bytes(1500, 0).to_string(), "   1.5kB");
        assert_eq!(JsonProgress::default().to_string(), "");
        let units = JsonProgress {
            current: 3,
            total: 7,
            units: "layers".into(),
            ..JsonProgress::default()
        };
        assert_eq!(units.render(80), "3/7 layers");
    }

    #[test]
    fn lines_are_dockerds_bytes() {
        let j = |m: &JsonMessage| serde_json::to_string(m).unwrap();
        assert_eq!(
            j(&JsonMessage::status(
                Some("latest"),
                "Pulling from library/busybox"
            )),
            r#"{"status":"Pulling from library/busybox","id":"latest"}"#
        );
        assert_eq!(
            j(&JsonMessage::status(None, "Digest: sha256:ab")),
            r#"{"status":"Digest: sha256:ab"}"#
        );
        assert_eq!(
            j(&JsonMessage::progress(
                "abc123def456",
                "Pulling fs layer",
                JsonProgress::default()
            )),
            r#"{"status":"Pulling fs layer","progressDetail":{},"id":"abc123def456"}"#
        );
        let down = JsonMessage::progress("abc123def456", "Downloading", JsonProgress::bytes(1, 2));
        assert_eq!(
            j(&down),
            format!(
                r#"{{"status":"Downloading","progressDetail":{{"current":1,"total":2}},"progress":"[{}>{}]       1B/2B","id":"abc123def456"}}"#,
                "=".repeat(25),
                " ".repeat(25)
            )
        );
        assert_eq!(
            j(&JsonMessage::error("manifest unknown")),
            r#"{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}"#
        );
        assert_eq!(
            j(&JsonMessage::stream("Loaded image: busybox:latest\n")),
            r#"{"stream":"Loaded image: busybox:latest\n"}"#
        );
        let back: JsonMessage = serde_json::from_str(&j(&down)).unwrap();
        assert_eq!(back, down);
        let err: JsonMessage = serde_json::from_str(r#"{"error":"boom"}"#).unwrap();
        assert_eq!(err.error_message(), Some("boom"));
        assert_eq!(down.error_message(), None);
    }
}
