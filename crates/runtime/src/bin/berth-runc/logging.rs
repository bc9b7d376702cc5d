//! `--log`, `--log-format` and `--debug`: runtime messages go to the log file
//! (JSON lines for containerd-style consumers) when one is given.

use std::fs::OpenOptions;
use std::path::Path;
use std::sync::Mutex;

use tracing::Level;

use crate::LogFormat;

/// Sets up the global subscriber. Without `--log`, only errors reach stderr
/// through `main`, so nothing is installed.
pub fn init(log: Option<&Path>, format: LogFormat, debug: bool) {
    let Some(path) = log else { return };
    let Ok(file) = OpenOptions::new().create(true).append(true).open(path) else {
        eprintln!("berth-runc: cannot open log file {}", path.display());
        return;
    };
    let level = if debug { Level::DEBUG } else { Level::INFO };
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(false)
        .with_target(false)
        .with_writer(Mutex::new(file));
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
