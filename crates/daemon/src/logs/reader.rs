//! Reading the json-file log: the set of rotated files, `tail` offsets
//! found by scanning backwards, and line-by-line decoding with filters.

use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::{LogMessage, LogsOptions, Stream};
use crate::error::{DaemonError, Result};

/// Read size for both directions.
const CHUNK: usize = 64 * 1024;

/// `<path>.<n>`.
pub(crate) fn numbered(path: &Path, n: usize) -> PathBuf {
    let mut p = path.as_os_str().to_os_string();
    p.push(format!(".{n}"));
    PathBuf::from(p)
}

/// The log's files that exist, oldest first: `<path>.N`, ..., `<path>.1`,
/// then `<path>`.
pub fn log_files(path: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = (1..)
        .map(|n| numbered(path, n))
        .take_while(|p| p.exists())
        .collect();
    files.reverse();
    if path.exists() {
        files.push(path.to_path_buf());
    }
    files
}

/// A file's identity (device, inode).
pub(crate) type FileId = (u64, u64);

pub(crate) fn file_id(m: &std::fs::Metadata) -> FileId {
    (m.dev(), m.ino())
}

/// An open log file read forward from `pos`, keeping an unterminated last
/// line until the rest of it arrives.
#[derive(Debug)]
pub(crate) struct LineReader {
    pub(crate) file: File,
    pub(crate) id: FileId,
    pub(crate) pos: u64,
    partial: Vec<u8>,
}

impl LineReader {
    pub(crate) fn open(path: &Path) -> io::Result<LineReader> {
        let file = File::open(path)?;
        let id = file_id(&file.metadata()?);
        Ok(LineReader {
            file,
            id,
            pos: 0,
            partial: Vec::new(),
        })
    }

    /// Calls `f` with every complete line (without its `\n`) from the
    /// current position to the end of the file, until `f` returns false.
    /// Returns whether anything new was read, or `Ok(None)` if `f` stopped.
    pub(crate) fn read_available(
        &mut self,
        f: &mut dyn FnMut(&[u8]) -> bool,
    ) -> io::Result<Option<bool>> {
        let len = self.file.metadata()?.len();
        if len < self.pos {
            // Truncated in place (max-file 1): start over.
            self.pos = 0;
            self.partial.clear();
        }
        let mut got = false;
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = self.file.read_at(&mut buf, self.pos)?;
            if n == 0 {
                return Ok(Some(got));
            }
            got = true;
            self.pos += n as u64;
            let mut data = &buf[..n];
            while let Some(i) = data.iter().position(|&b| b == b'\n') {
                let keep_going = if self.partial.is_empty() {
                    f(&data[..i])
                } else {
                    self.partial.extend_from_slice(&data[..i]);
                    let line = std::mem::take(&mut self.partial);
                    f(&line)
                };
                data = &data[i + 1..];
                if !keep_going {
                    return Ok(None);
                }
            }
            self.partial.extend_from_slice(data);
        }
    }
}

/// The files of a log, open.
#[derive(Debug)]
pub(crate) struct LogSet {
    /// The rotated files, oldest first.
    pub(crate) rotated: Vec<LineReader>,
    /// The live file, if there is one.
    pub(crate) live: Option<LineReader>,
}

impl LogSet {
    /// Every reader, oldest first.
    pub(crate) fn all_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut LineReader> {
        self.rotated.iter_mut().chain(self.live.as_mut())
    }
}

/// Opens the live file and the rotated ones, retrying if a rotation
/// happens while they are opened (so no file is seen twice).
pub(crate) fn open_set(path: &Path) -> io::Result<LogSet> {
    for _ in 0..10 {
        let live = match LineReader::open(path) {
            Ok(r) => Some(r),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        let mut set = Vec::new();
        for n in 1.. {
            match LineReader::open(&numbered(path, n)) {
                Ok(r) => set.push(r),
                Err(e) if e.kind() == io::ErrorKind::NotFound => break,
                Err(e) => return Err(e),
            }
        }
        set.reverse();
        let stable = match (&live, std::fs::metadata(path)) {
            (Some(l), Ok(m)) => file_id(&m) == l.id,
            (None, Err(e)) => e.kind() == io::ErrorKind::NotFound,
            _ => false,
        };
        let dup = live
            .as_ref()
            .is_some_and(|l| set.iter().any(|r| r.id == l.id));
        if stable && !dup {
            return Ok(LogSet { rotated: set, live });
        }
    }
    Err(io::Error::other(
        "log files kept rotating while opening them",
    ))
}

/// Where the last `n` complete lines of `file` (`len` bytes) start, and how
/// many complete lines were found (fewer than `n` means: from offset 0).
/// Scans backwards; bytes after the last `\n` are not a line.
pub(crate) fn tail_start(file: &File, len: u64, n: usize) -> io::Result<(u64, usize)> {
    // The (n+1)-th newline from the end ends the line before the ones kept.
    let mut seen = 0usize;
    let mut end = len;
    let mut buf = vec![0u8; CHUNK];
    while end > 0 {
        let start = end.saturating_sub(CHUNK as u64);
        let chunk = &mut buf[..(end - start) as usize];
        file.read_exact_at(chunk, start)?;
        for (i, &b) in chunk.iter().enumerate().rev() {
            if b == b'\n' {
                if seen == n {
                    return Ok((start + i as u64 + 1, n));
                }
                seen += 1;
            }
        }
        end = start;
    }
    Ok((0, seen))
}

/// Positions the readers (oldest first) so that only the last `tail`
/// complete lines are read; `None` keeps everything.
pub(crate) fn apply_tail(set: &mut LogSet, tail: Option<usize>) -> io::Result<()> {
    let Some(mut remaining) = tail else {
        return Ok(());
    };
    for r in set.all_mut().rev() {
        let len = r.file.metadata()?.len();
        // With nothing left to keep this still lands after the last `\n`,
        // so a partial line being written is followed from its start.
        let (start, found) = tail_start(&r.file, len, remaining)?;
        r.pos = start;
        remaining -= found.min(remaining);
    }
    Ok(())
}

/// What to do with a decoded entry.
pub(crate) enum Verdict {
    /// Send it.
    Send(LogMessage),
    /// Filtered out.
    Skip,
    /// Past `until`: the stream ends.
    End,
}

/// Decodes one line and applies `since` / `until` and stream selection,
/// warning about (and skipping) lines that do not decode.
pub(crate) fn judge(line: &[u8], opts: &LogsOptions, path: &Path) -> Verdict {
    if line.iter().all(u8::is_ascii_whitespace) {
        return Verdict::Skip;
    }
    let msg = match LogMessage::from_json(line) {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "skipping corrupt log line");
            return Verdict::Skip;
        }
    };
    if opts.since.is_some_and(|s| msg.time < s) {
        return Verdict::Skip;
    }
    if opts.until.is_some_and(|u| msg.time > u) {
        return Verdict::End;
    }
    let wanted = match msg.stream {
        Stream::Stdout => opts.stdout,
        Stream::Stderr => opts.stderr,
    };
    if wanted {
        Verdict::Send(msg)
    } else {
        Verdict::Skip
    }
}

/// Feeds every available line of `r` through [`judge`] to `sink` (which
/// returns false to stop). Returns `Ok(None)` when reading must stop,
/// else whether anything new was read.
pub(crate) fn pump(
    r: &mut LineReader,
    opts: &LogsOptions,
    path: &Path,
    sink: &mut dyn FnMut(LogMessage) -> bool,
) -> io::Result<Option<bool>> {
    r.read_available(&mut |line| match judge(line, opts, path) {
        Verdict::Send(m) => sink(m),
        Verdict::Skip => true,
        Verdict::End => false,
    })
}

/// Reads the existing log at `path` (the live file; rotated files beside
/// it), oldest entry first, with `tail`, `since`, `until` and stream
/// selection applied. An unterminated last line is left out; corrupt lines
/// are skipped with a warning. A missing log reads as empty.
pub fn read_logs(path: &Path, opts: &LogsOptions) -> Result<Vec<LogMessage>> {
    let io_err = |e| DaemonError::io(format!("reading log {}", path.display()), e);
    let mut set = open_set(path).map_err(io_err)?;
    apply_tail(&mut set, opts.tail).map_err(io_err)?;
    let mut out = Vec::new();
    for r in set.all_mut() {
        let stopped = pump(r, opts, path, &mut |m| {
            out.push(m);
            true
        })
        .map_err(io_err)?
        .is_none();
        if stopped {
            break;
        }
    }
    Ok(out)
}
