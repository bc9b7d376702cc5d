//! `docker logs` over the json-file log the shim writes (moby's
//! `daemon/logs.go` and `daemon/logger/jsonfilelog` reader).
//!
//! - [`LogsOptions`]: the request, with parsers for the Engine API's query
//!   forms ([`parse_timestamp`] accepts what `timetypes.GetTimestamp` does);
//! - [`LogMessage`]: one decoded entry, [`LogMessage::render`]ed with or
//!   without Docker's fixed-width timestamp prefix;
//! - [`read_logs`]: the existing log, rotated files oldest first then the
//!   live file, with `tail`, `since`, `until` and stream selection;
//! - [`spawn_reader`]: the same on a thread, optionally following the live
//!   file across rotations until the container stops, `until` passes or
//!   the consumer drops the [`LogStream`].

mod follow;
mod options;
mod reader;
#[cfg(test)]
mod tests;

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::SystemTime;

use serde::Deserialize;
use tokio::sync::mpsc;

pub use follow::{spawn_reader, StopSignal};
pub use options::{
    parse_bool, parse_go_duration, parse_tail, parse_time_filter, parse_timestamp, LogsOptions,
};
pub use reader::{log_files, read_logs};

use crate::error::Result;

/// moby's `logger.ErrReadLogsNotSupported`: the container's log driver is
/// not one `docker logs` can read.
pub const ERR_READ_LOGS_NOT_SUPPORTED: &str = "configured logging driver does not support reading";

/// Which output stream a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    /// The process's stdout (or its terminal).
    Stdout,
    /// The process's stderr.
    Stderr,
}

impl Stream {
    /// `stdout` or `stderr`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// One entry of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogMessage {
    /// The stream it was written to.
    pub stream: Stream,
    /// When the shim read it.
    pub time: SystemTime,
    /// The text, with its trailing `\n` unless it is a partial line.
    pub line: Vec<u8>,
}

impl LogMessage {
    /// The bytes Docker sends for this entry: the line, prefixed with the
    /// time in `jsonmessage.RFC3339NanoFixed` (UTC, always nine fraction
    /// digits) and a space when `timestamps` is set.
    pub fn render(&self, timestamps: bool) -> Vec<u8> {
        if !timestamps {
            return self.line.clone();
        }
        let mut out = format_time_fixed(self.time).into_bytes();
        out.push(b' ');
        out.extend_from_slice(&self.line);
        out
    }

    /// Decodes one json-file line (without its `\n`).
    pub fn from_json(line: &[u8]) -> std::result::Result<LogMessage, String> {
        #[derive(Deserialize)]
        struct Entry {
            log: String,
            #[serde(default)]
            stream: String,
            time: String,
        }
        let e: Entry = serde_json::from_slice(line).map_err(|e| e.to_string())?;
        let (secs, nanos) = options::parse_date_time(&e.time)
            .ok_or_else(|| format!("invalid time {:?}", e.time))?;
        Ok(LogMessage {
            // Like moby, anything but "stderr" is sent as stdout.
            stream: if e.stream == "stderr" {
                Stream::Stderr
            } else {
                Stream::Stdout
            },
            time: options::from_unix(secs, nanos),
            line: e.log.into_bytes(),
        })
    }
}

/// Formats a time as Go's `2006-01-02T15:04:05.000000000Z07:00` in UTC.
pub fn format_time_fixed(t: SystemTime) -> String {
    let (secs, nanos) = options::to_unix(t);
    let days = secs.div_euclid(86400);
    let sod = secs.rem_euclid(86400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The messages of a `docker logs` request, as they are read. Ends after
/// the last message (or after an error). Dropping it stops the reader.
#[derive(Debug)]
pub struct LogStream {
    rx: mpsc::Receiver<Result<LogMessage>>,
}

impl LogStream {
    pub(crate) fn new(rx: mpsc::Receiver<Result<LogMessage>>) -> LogStream {
        LogStream { rx }
    }

    /// The next message, or `None` at the end.
    pub async fn recv(&mut self) -> Option<Result<LogMessage>> {
        self.rx.recv().await
    }
}

impl futures_util::Stream for LogStream {
    type Item = Result<LogMessage>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}
