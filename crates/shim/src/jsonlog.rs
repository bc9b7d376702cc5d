//! Docker's json-file log driver: one JSON object per line of output,
//! `{"log":"hi\n","stream":"stdout","time":"<RFC3339Nano>"}`, with
//! `max-size` / `max-file` rotation into `<path>.1`, `<path>.2`, ...

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;

/// Lines longer than this are logged in pieces, as Docker does (16 KiB).
pub const MAX_LINE: usize = 16 * 1024;

/// Which output stream a log entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogStream {
    /// The process's stdout (or its terminal).
    Stdout,
    /// The process's stderr.
    Stderr,
}

#[derive(Serialize)]
struct Entry<'a> {
    log: &'a str,
    stream: LogStream,
    time: &'a str,
}

/// Formats a time as Go's `time.RFC3339Nano` in UTC: trailing zeros of the
/// fraction trimmed, no fraction at all when it is zero.
pub fn format_time(t: SystemTime) -> String {
    let s = humantime::format_rfc3339_nanos(t).to_string();
    // "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ"
    match s.split_once('.') {
        Some((secs, frac)) => {
            let digits = frac.trim_end_matches('Z').trim_end_matches('0');
            if digits.is_empty() {
                format!("{secs}Z")
            } else {
                format!("{secs}.{digits}Z")
            }
        }
        None => s,
    }
}

/// A json-file log with rotation.
#[derive(Debug)]
pub struct JsonFileLogger {
    path: PathBuf,
    max_size: Option<u64>,
    max_files: u32,
    file: File,
    size: u64,
}

impl JsonFileLogger {
    /// Opens (appending to) the log at `path`; `max_files` counts the live file.
    pub fn open(path: &Path, max_size: Option<u64>, max_files: u32) -> io::Result<Self> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let size = file.metadata()?.len();
        Ok(Self {
            path: path.to_path_buf(),
            max_size: max_size.filter(|&m| m > 0),
            max_files: max_files.max(1),
            file,
            size,
        })
    }

    /// Writes one entry; `msg` is a line (with its `\n`) or a partial line.
    pub fn log(&mut self, stream: LogStream, msg: &[u8], time: SystemTime) -> io::Result<()> {
        let text = String::from_utf8_lossy(msg);
        let time = format_time(time);
        let mut line = serde_json::to_vec(&Entry {
            log: &text,
            stream,
            time: &time,
        })
        .map_err(io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.size += line.len() as u64;
        match self.max_size {
            Some(max) if self.size >= max => self.rotate(),
            _ => Ok(()),
        }
    }

    /// Shifts `<path>.N-1` ... `<path>` one up and starts an empty live file.
    fn rotate(&mut self) -> io::Result<()> {
        let numbered = |n: u32| {
            let mut p = self.path.clone().into_os_string();
            p.push(format!(".{n}"));
            PathBuf::from(p)
        };
        if self.max_files > 1 {
            for n in (1..self.max_files - 1).rev() {
                match fs::rename(numbered(n), numbered(n + 1)) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
            fs::rename(&self.path, numbered(1))?;
        }
        self.file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

/// Splits a byte stream into lines (kept with their `\n`), cutting lines
/// longer than [`MAX_LINE`] into partial entries.
#[derive(Debug, Default)]
pub struct LineSplitter {
    buf: Vec<u8>,
}

impl LineSplitter {
    /// Feeds bytes; `emit` gets every complete (or over-long) line.
    pub fn feed(&mut self, mut data: &[u8], emit: &mut dyn FnMut(&[u8])) {
        while !data.is_empty() {
            match data.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.push_bounded(&data[..=i], emit);
                    emit(&self.buf);
                    self.buf.clear();
                    data = &data[i + 1..];
                }
                None => {
                    self.push_bounded(data, emit);
                    data = &[];
                }
            }
        }
    }

    fn push_bounded(&mut self, mut data: &[u8], emit: &mut dyn FnMut(&[u8])) {
        while self.buf.len() + data.len() > MAX_LINE {
            let take = MAX_LINE - self.buf.len();
            self.buf.extend_from_slice(&data[..take]);
            emit(&self.buf);
            self.buf.clear();
            data = &data[take..];
        }
        self.buf.extend_from_slice(data);
    }

    /// At end of stream: emits what is left, a line without its `\n`.
    pub fn finish(&mut self, emit: &mut dyn FnMut(&[u8])) {
        if !self.buf.is_empty() {
            emit(&self.buf);
            self.buf.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::time::{Duration, UNIX_EPOCH};

    fn entries(path: &Path) -> Vec<Value> {
        fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn time_is_rfc3339_nano_trimmed() {
        let t = UNIX_EPOCH + Duration::new(1_700_000_000, 120_000_000);
        assert_eq!(format_time(t), "2023-11-14T22:13:20.12Z");
        let t = UNIX_EPOCH + Duration::new(1_700_000_000, 0);
        assert_eq!(format_time(t), "2023-11-14T22:13:20Z");
        let t = UNIX_EPOCH + Duration::new(1_700_000_000, 1);
        assert_eq!(format_time(t), "2023-11-14T22:13:20.000000001Z");
    }

    #[test]
    fn entries_carry_stream_text_and_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c-json.log");
        let mut log = JsonFileLogger::open(&path, None, 1).unwrap();
        let t = UNIX_EPOCH + Duration::new(1_700_000_000, 5);
        log.log(LogStream::Stdout, b"hi \"there\"\n", t).unwrap();
        log.log(LogStream::Stderr, b"err\n", t).unwrap();
        log.log(LogStream::Stdout, b"bad \xff utf8", t).unwrap();
        let e = entries(&path);
        assert_eq!(e[0]["log"], "hi \"there\"\n");
        assert_eq!(e[0]["stream"], "stdout");
        assert_eq!(e[0]["time"], "2023-11-14T22:13:20.000000005Z");
        assert_eq!(e[1]["stream"], "stderr");
        assert_eq!(e[2]["log"], "bad \u{fffd} utf8");
    }

    #[test]
    fn rotation_keeps_max_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c-json.log");
        let mut log = JsonFileLogger::open(&path, Some(100), 3).unwrap();
        for i in 0..20 {
            log.log(
                LogStream::Stdout,
                format!("line {i:02}\n").as_bytes(),
                SystemTime::now(),
            )
            .unwrap();
        }
        let p = |s: &str| dir.path().join(format!("c-json.log{s}"));
        assert!(p(".1").exists() && p(".2").exists());
        assert!(!p(".3").exists(), "only max-file files are kept");
        // Oldest in .2, then .1, newest in the live file; nothing reordered.
        let kept: Vec<String> = [p(".2"), p(".1"), p("")]
            .iter()
            .flat_map(|f| entries(f))
            .map(|e| e["log"].as_str().unwrap().to_string())
            .collect();
        let mut sorted = kept.clone();
        sorted.sort();
        assert_eq!(kept, sorted);
        assert_eq!(kept.last().map(String::as_str), Some("line 19\n"));
        for f in [p(""), p(".1"), p(".2")] {
            assert!(fs::metadata(&f).unwrap().len() < 200, "{}", f.display());
        }
    }

    #[test]
    fn single_file_is_truncated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c-json.log");
        let mut log = JsonFileLogger::open(&path, Some(50), 1).unwrap();
        for _ in 0..5 {
            log.log(LogStream::Stdout, b"0123456789\n", SystemTime::now())
                .unwrap();
        }
        assert!(fs::metadata(&path).unwrap().len() < 100);
        assert!(!dir.path().join("c-json.log.1").exists());
    }

    #[test]
    fn splitter_handles_partial_and_long_lines() {
        let mut s = LineSplitter::default();
        let mut out: Vec<Vec<u8>> = Vec::new();
        s.feed(b"one\ntw", &mut |l| out.push(l.to_vec()));
        s.feed(b"o\nthr", &mut |l| out.push(l.to_vec()));
        assert_eq!(out, vec![b"one\n".to_vec(), b"two\n".to_vec()]);
        s.finish(&mut |l| out.push(l.to_vec()));
        assert_eq!(out[2], b"thr");

        let mut out: Vec<Vec<u8>> = Vec::new();
        let long = vec![b'x'; MAX_LINE * 2 + 10];
        s.feed(&long, &mut |l| out.push(l.to_vec()));
        s.feed(b"\n", &mut |l| out.push(l.to_vec()));
        let lens: Vec<usize> = out.iter().map(Vec::len).collect();
        assert_eq!(lens, vec![MAX_LINE, MAX_LINE, 11]);
        assert!(out[2].ends_with(b"\n"));
    }
}
