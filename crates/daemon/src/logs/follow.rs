//! The reader thread: the existing log, then (with `follow`) new lines as
//! the shim appends them, across rotations, until the container stops,
//! `until` passes or the consumer goes away.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use tokio::sync::{mpsc, watch};

use super::reader::{apply_tail, file_id, numbered, open_set, pump, LineReader};
use super::{LogMessage, LogStream, LogsOptions};
use crate::daemon::Lifecycle;
use crate::error::{DaemonError, Result};

/// How often a follower looks for new lines.
const POLL: Duration = Duration::from_millis(150);

/// Messages buffered between the reader thread and the consumer.
const BUFFER: usize = 256;

/// What ends a follow besides `until` and the consumer: any change of the
/// container's [`Lifecycle`] (an exit or its removal) after subscribing,
/// or the container going away. `None` follows until `until` or the
/// consumer stops it.
pub type StopSignal = Option<watch::Receiver<Lifecycle>>;

/// Starts reading the log at `path` on its own thread and returns the
/// messages as a stream. With `options.follow` the reader keeps polling the
/// live file after the existing lines, handles rotation (the live file
/// renamed to `.1` and a new one created) and truncation, and ends when
/// `stop` fires (after draining what is left), when `until` passes, or when
/// the [`LogStream`] is dropped.
pub fn spawn_reader(path: PathBuf, options: LogsOptions, stop: StopSignal) -> LogStream {
    let (tx, rx) = mpsc::channel(BUFFER);
    let err_tx = tx.clone();
    let spawned = std::thread::Builder::new()
        .name("berth-logs".into())
        .spawn(move || {
            let io_err = |e| DaemonError::io(format!("reading log {}", path.display()), e);
            if let Err(e) = run(&path, &options, stop, &tx).map_err(io_err) {
                let _ = tx.blocking_send(Err(e));
            }
        });
    if let Err(e) = spawned {
        let _ = err_tx.try_send(Err(DaemonError::io("spawning the log reader", e)));
    }
    LogStream::new(rx)
}

fn run(
    path: &Path,
    opts: &LogsOptions,
    mut stop: StopSignal,
    tx: &mpsc::Sender<Result<LogMessage>>,
) -> io::Result<()> {
    let mut sink = |m: LogMessage| tx.blocking_send(Ok(m)).is_ok();
    let mut set = open_set(path)?;
    apply_tail(&mut set, opts.tail)?;
    for r in set.all_mut() {
        if pump(r, opts, path, &mut sink)?.is_none() {
            return Ok(());
        }
    }
    let mut live = set.live;
    if !opts.follow {
        return Ok(());
    }

    let mut stopping = false;
    loop {
        if tx.is_closed() {
            return Ok(());
        }
        // Observe the stop signal before reading, so whatever was logged
        // before the exit is read below.
        let stop_now = stop
            .as_mut()
            .is_some_and(|rx| !matches!(rx.has_changed(), Ok(false)));
        let mut got = false;
        match &mut live {
            None => {
                if let Ok(r) = LineReader::open(path) {
                    live = Some(r);
                    continue;
                }
            }
            Some(r) => {
                match pump(r, opts, path, &mut sink)? {
                    None => return Ok(()),
                    Some(g) => got = g,
                }
                if is_rotated(r, path) {
                    // Finish the old file (the shim no longer writes to it),
                    // then any rotated files newer than it, then the new one.
                    if pump(r, opts, path, &mut sink)?.is_none() {
                        return Ok(());
                    }
                    for mut newer in unseen_rotated(path, r.id) {
                        if pump(&mut newer, opts, path, &mut sink)?.is_none() {
                            return Ok(());
                        }
                    }
                    live = LineReader::open(path).ok();
                    continue;
                }
            }
        }
        if opts.until.is_some_and(|u| SystemTime::now() > u) {
            return Ok(());
        }
        if stopping && !got {
            return Ok(());
        }
        stopping |= stop_now;
        std::thread::sleep(POLL);
    }
}

/// Whether `path` no longer names the file `r` reads.
fn is_rotated(r: &LineReader, path: &Path) -> bool {
    match std::fs::metadata(path) {
        Ok(m) => file_id(&m) != r.id,
        Err(_) => false,
    }
}

/// The rotated files newer than the one with identity `old`, oldest first
/// (more than one rotation may have happened between two polls).
fn unseen_rotated(path: &Path, old: (u64, u64)) -> Vec<LineReader> {
    let mut newer = Vec::new();
    for n in 1.. {
        match LineReader::open(&numbered(path, n)) {
            Ok(r) if r.id == old => {
                newer.reverse();
                return newer;
            }
            Ok(r) => newer.push(r),
            Err(_) => break,
        }
    }
    // The old file was rotated away entirely; its successors that still
    // exist are all newer than it.
    tracing::warn!(path = %path.display(), "log rotated faster than it was followed; lines lost");
    newer.reverse();
    newer
}
