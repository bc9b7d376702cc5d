//! The content store: immutable blobs addressed by digest (containerd's
//! content store, moby's blob store).
//!
//! Layout under the store's root:
//!
//! ```text
//! <root>/blobs/sha256/<64 hex>     committed blobs
//! <root>/blobs/sha512/<128 hex>
//! <root>/ingest/<unique>.tmp       blobs being written (same filesystem)
//! ```
//!
//! Every byte is hashed as it streams into a [`BlobWriter`]. On
//! [`BlobWriter::commit`] the size and digest are checked; only if both match
//! is the temp file fsynced, renamed into `blobs/<alg>/<hex>` and the
//! directory fsynced. A crash at any point therefore leaves either no blob or
//! a complete, verified one; a mismatch stores nothing and removes the temp
//! file.
//!
//! Concurrent writers of the same blob (two pulls sharing a layer) each write
//! their own uniquely named temp file; the rename is atomic and, since the
//! content is identified by its digest, whichever lands last replaces an
//! identical file. A writer that finds the blob already present at commit
//! simply drops its temp file and succeeds.

use std::collections::HashSet;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use nix::fcntl::{Flock, FlockArg};

use sha2::Digest as _;

/// Distinguishes temp files created by this process.
static INGEST_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A digest algorithm the store accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Algorithm {
    Sha256,
    Sha512,
}

impl Algorithm {
    const ALL: [Algorithm; 2] = [Algorithm::Sha256, Algorithm::Sha512];

    fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }

    fn from_name(s: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.name() == s)
    }

    fn hasher(self) -> Hasher {
        match self {
            Algorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            Algorithm::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
        }
    }
}

/// A running hash of one of the supported algorithms.
enum Hasher {
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

impl Hasher {
    fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Sha512(h) => h.update(bytes),
        }
    }

    fn finish(self) -> Digest {
        match self {
            Hasher::Sha256(h) => Digest {
                algorithm: Algorithm::Sha256,
                hex: to_hex(&h.finalize()),
            },
            Hasher::Sha512(h) => Digest {
                algorithm: Algorithm::Sha512,
                hex: to_hex(&h.finalize()),
            },
        }
    }
}

fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[usize::from(b >> 4)] as char);
        s.push(HEX[usize::from(b & 0x0f)] as char);
    }
    s
}

/// A content digest such as `sha256:e3b0c442…`: an algorithm (`sha256` or
/// `sha512`) and the lowercase hex encoding of the hash.
///
/// Parsing is strict (exact length, lowercase hex only), so a digest is always
/// safe to use as a path component.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: Algorithm,
    hex: String,
}

impl Digest {
    /// Parses `sha256:<64 lowercase hex>` or `sha512:<128 lowercase hex>`;
    /// anything else is [`ContentError::InvalidDigest`].
    pub fn parse(s: &str) -> Result<Digest, ContentError> {
        let Some((alg, hex)) = s.split_once(':') else {
            return Err(ContentError::InvalidDigest(format!(
                "invalid checksum digest format: {s:?}"
            )));
        };
        let Some(algorithm) = Algorithm::from_name(alg) else {
            return Err(ContentError::InvalidDigest(format!(
                "unsupported digest algorithm: {s:?}"
            )));
        };
        if !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(ContentError::InvalidDigest(format!(
                "invalid checksum digest format: {s:?}"
            )));
        }
        if hex.len() != algorithm.hex_len() {
            return Err(ContentError::InvalidDigest(format!(
                "invalid checksum digest length: {s:?}"
            )));
        }
        Ok(Digest {
            algorithm,
            hex: hex.to_owned(),
        })
    }

    /// The algorithm name: `"sha256"` or `"sha512"`.
    pub fn algorithm(&self) -> &str {
        self.algorithm.name()
    }

    /// The lowercase hex encoding of the hash.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// The SHA-256 digest of `bytes`.
    pub fn sha256_of(bytes: &[u8]) -> Digest {
        let mut h = Algorithm::Sha256.hasher();
        h.update(bytes);
        h.finish()
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.name(), self.hex)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl FromStr for Digest {
    type Err = ContentError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Digest::parse(s)
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Digest::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Errors from the content store.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// A digest string that is not `sha256:<64 hex>` / `sha512:<128 hex>`;
    /// the string says what is wrong and quotes the input.
    #[error("{0}")]
    InvalidDigest(String),
    /// The content hashed to something other than what was expected.
    #[error("digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        /// The digest the caller asked for.
        expected: Digest,
        /// The digest of the bytes actually received or stored.
        actual: Digest,
    },
    /// The content had a different length than expected.
    #[error("size mismatch: expected {expected} bytes, got {actual}")]
    SizeMismatch {
        /// The announced size.
        expected: u64,
        /// The number of bytes received (at least this many, when too long).
        actual: u64,
    },
    /// The blob is bigger than the caller's limit (checked before reading).
    #[error("content larger than the {limit}-byte limit")]
    TooLarge {
        /// The limit that was exceeded, in bytes.
        limit: u64,
    },
    /// No blob with this digest is stored.
    #[error("blob {0} not found")]
    NotFound(Digest),
    /// A filesystem operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, with the path.
        context: String,
        /// The underlying error.
        source: io::Error,
    },
}

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> ContentError {
    let context = context.into();
    move |source| ContentError::Io { context, source }
}

/// Removes an archive-load spool directory (`load-<pid>-...`) whose process
/// no longer exists.
fn remove_abandoned_spool(dir: &Path) {
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let Some(pid) = name
        .strip_prefix("load-")
        .and_then(|rest| rest.split('-').next())
        .and_then(|pid| pid.parse::<u32>().ok())
    else {
        return;
    };
    if Path::new("/proc").join(pid.to_string()).exists() {
        return;
    }
    if let Err(e) = fs::remove_dir_all(dir) {
        tracing::warn!(path = %dir.display(), error = %e, "cannot remove abandoned load spool");
    }
}

/// Fsyncs a directory so a rename or unlink inside it is durable.
fn sync_dir(dir: &Path) -> Result<(), ContentError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(format!("fsync {}", dir.display())))
}

/// A directory of immutable blobs addressed by digest. See the module docs.
#[derive(Debug, Clone)]
pub struct ContentStore {
    root: PathBuf,
}

impl ContentStore {
    /// Opens (creating if needed) the store at `root`, and removes ingest
    /// files older than an hour (left behind by a crashed writer).
    pub fn open(root: &Path) -> Result<Self, ContentError> {
        let store = ContentStore {
            root: root.to_path_buf(),
        };
        for alg in Algorithm::ALL {
            let dir = store.blob_dir(alg);
            fs::create_dir_all(&dir).map_err(io_err(format!("create {}", dir.display())))?;
        }
        let ingest = store.ingest_dir();
        fs::create_dir_all(&ingest).map_err(io_err(format!("create {}", ingest.display())))?;
        store.remove_stale_ingest()?;
        Ok(store)
    }

    fn blob_dir(&self, alg: Algorithm) -> PathBuf {
        self.root.join("blobs").join(alg.name())
    }

    /// Scratch space on the store's filesystem: downloads in progress, and
    /// `load-<pid>-...` spool directories of archive loads (removed by
    /// [`open`](Self::open) once their process is gone).
    pub fn ingest_dir(&self) -> PathBuf {
        self.root.join("ingest")
    }

    /// Removes ingest files whose writer is gone. Every live [`BlobWriter`]
    /// holds an exclusive `flock` on its temp file (released by the kernel
    /// when the process dies), so a file we can lock belongs to nobody: a
    /// writer that crashed or was killed.
    fn remove_stale_ingest(&self) -> Result<(), ContentError> {
        let ingest = self.ingest_dir();
        let entries =
            fs::read_dir(&ingest).map_err(io_err(format!("read {}", ingest.display())))?;
        for entry in entries {
            let entry = entry.map_err(io_err(format!("read {}", ingest.display())))?;
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                remove_abandoned_spool(&entry.path());
                continue;
            }
            if !meta.is_file() {
                continue;
            }
            let abandoned = File::open(entry.path())
                .ok()
                .is_some_and(|f| Flock::lock(f, FlockArg::LockExclusiveNonblock).is_ok());
            if abandoned {
                let path = entry.path();
                match fs::remove_file(&path) {
                    Ok(()) => tracing::debug!(path = %path.display(), "removed stale ingest file"),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => {
                        tracing::warn!(path = %path.display(), error = %e, "cannot remove stale ingest file")
                    }
                }
            }
        }
        Ok(())
    }

    /// Where the blob with digest `d` lives (whether or not it exists).
    pub fn path(&self, d: &Digest) -> PathBuf {
        self.blob_dir(d.algorithm).join(&d.hex)
    }

    /// Whether the blob is stored.
    pub fn contains(&self, d: &Digest) -> bool {
        self.path(d).is_file()
    }

    /// The stored blob's size in bytes; [`ContentError::NotFound`] if absent.
    pub fn size(&self, d: &Digest) -> Result<u64, ContentError> {
        let path = self.path(d);
        match fs::metadata(&path) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(ContentError::NotFound(d.clone())),
            Err(e) => Err(io_err(format!("stat {}", path.display()))(e)),
        }
    }

    /// Opens the blob for reading. The content was verified when it was
    /// committed; this does not re-hash it (use [`read_all`](Self::read_all)
    /// for small documents that must be re-verified).
    pub fn read(&self, d: &Digest) -> Result<File, ContentError> {
        let path = self.path(d);
        match File::open(&path) {
            Ok(f) => Ok(f),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(ContentError::NotFound(d.clone())),
            Err(e) => Err(io_err(format!("open {}", path.display()))(e)),
        }
    }

    /// Reads a whole small blob (a manifest, an index, a config) into memory.
    /// Refuses with [`ContentError::TooLarge`] before reading anything if the
    /// blob is larger than `limit` bytes, then verifies the digest of what
    /// was read ([`ContentError::DigestMismatch`] on corruption).
    pub fn read_all(&self, d: &Digest, limit: u64) -> Result<Vec<u8>, ContentError> {
        let path = self.path(d);
        let file = self.read(d)?;
        let len = file
            .metadata()
            .map_err(io_err(format!("stat {}", path.display())))?
            .len();
        if len > limit {
            return Err(ContentError::TooLarge { limit });
        }
        let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        // Bounded even if the file grew after the stat.
        file.take(limit.saturating_add(1))
            .read_to_end(&mut buf)
            .map_err(io_err(format!("read {}", path.display())))?;
        if buf.len() as u64 > limit {
            return Err(ContentError::TooLarge { limit });
        }
        let mut h = d.algorithm.hasher();
        h.update(&buf);
        let actual = h.finish();
        if actual != *d {
            return Err(ContentError::DigestMismatch {
                expected: d.clone(),
                actual,
            });
        }
        Ok(buf)
    }

    /// Starts writing a blob whose digest (and optionally size) is known in
    /// advance.
    ///
    /// If the blob already exists, this still returns an ordinary writer that
    /// hashes and verifies everything it receives (callers wanting to skip
    /// the transfer should check [`contains`](Self::contains) first); its
    /// commit then discards the temp file and keeps the existing blob.
    pub fn writer(
        &self,
        expected: &Digest,
        expected_size: Option<u64>,
    ) -> Result<BlobWriter, ContentError> {
        let ingest = self.ingest_dir();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let name = format!(
            "{}-{}.{}.{}.{}.tmp",
            expected.algorithm(),
            expected.hex(),
            std::process::id(),
            INGEST_COUNTER.fetch_add(1, Ordering::Relaxed),
            now
        );
        let temp = ingest.join(name);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(io_err(format!("create {}", temp.display())))?;
        // Marks the file as in use until this writer ends (see
        // `remove_stale_ingest`); a fresh file can always be locked.
        let file = Flock::lock(file, FlockArg::LockExclusiveNonblock).map_err(|(_, e)| {
            ContentError::Io {
                context: format!("lock {}", temp.display()),
                source: e.into(),
            }
        })?;
        Ok(BlobWriter {
            file: Some(file),
            temp: Some(temp),
            target: self.path(expected),
            target_dir: self.blob_dir(expected.algorithm),
            hasher: Some(expected.algorithm.hasher()),
            expected: expected.clone(),
            expected_size,
            written: 0,
            overflow: None,
        })
    }

    /// Stores `data` as the blob `expected`, verifying its digest (and that
    /// its size is `data.len()`). Succeeds without rewriting if the blob is
    /// already stored.
    pub fn write_blob(&self, expected: &Digest, data: &[u8]) -> Result<(), ContentError> {
        let mut w = self.writer(expected, Some(data.len() as u64))?;
        if let Err(e) = w.write_all(data) {
            return Err(w.to_content_error(e));
        }
        w.commit().map(|_| ())
    }

    /// Deletes the blob; [`ContentError::NotFound`] if it is not stored.
    pub fn delete(&self, d: &Digest) -> Result<(), ContentError> {
        let path = self.path(d);
        match fs::remove_file(&path) {
            Ok(()) => sync_dir(&self.blob_dir(d.algorithm)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(ContentError::NotFound(d.clone())),
            Err(e) => Err(io_err(format!("remove {}", path.display()))(e)),
        }
    }

    /// Every stored blob, sorted. Files whose names are not valid digests are
    /// ignored.
    pub fn list(&self) -> Result<Vec<Digest>, ContentError> {
        let mut out = Vec::new();
        for alg in Algorithm::ALL {
            let dir = self.blob_dir(alg);
            let entries = match fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io_err(format!("read {}", dir.display()))(e)),
            };
            for entry in entries {
                let entry = entry.map_err(io_err(format!("read {}", dir.display())))?;
                let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                    continue;
                };
                if let Ok(d) = Digest::parse(&format!("{}:{name}", alg.name())) {
                    if entry.file_type().is_ok_and(|t| t.is_file()) {
                        out.push(d);
                    }
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// Deletes every blob not in `keep`; returns what was removed (GC, driven
    /// by the image store, which knows which blobs are referenced).
    pub fn garbage_collect(&self, keep: &HashSet<Digest>) -> Result<Vec<Digest>, ContentError> {
        let mut removed = Vec::new();
        for d in self.list()? {
            if keep.contains(&d) {
                continue;
            }
            match self.delete(&d) {
                Ok(()) => removed.push(d),
                // Raced with another deleter: already gone.
                Err(ContentError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        if !removed.is_empty() {
            tracing::debug!(count = removed.len(), "content store garbage collected");
        }
        Ok(removed)
    }
}

/// A blob being written: a temp file in `ingest/`, a running hash and a byte
/// count. Obtain one from [`ContentStore::writer`], stream the bytes in with
/// [`std::io::Write`], then [`commit`](BlobWriter::commit). Dropping it
/// uncommitted removes the temp file.
pub struct BlobWriter {
    file: Option<Flock<File>>,
    temp: Option<PathBuf>,
    target: PathBuf,
    target_dir: PathBuf,
    hasher: Option<Hasher>,
    expected: Digest,
    expected_size: Option<u64>,
    written: u64,
    /// Set once more than `expected_size` bytes were offered: the attempted total.
    overflow: Option<u64>,
}

impl fmt::Debug for BlobWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobWriter")
            .field("expected", &self.expected)
            .field("expected_size", &self.expected_size)
            .field("written", &self.written)
            .field("temp", &self.temp)
            .finish()
    }
}

impl BlobWriter {
    /// How many bytes have been accepted so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Turns an error from [`Write`] into the store's error (a size overflow
    /// becomes [`ContentError::SizeMismatch`]).
    fn to_content_error(&self, e: io::Error) -> ContentError {
        match (self.overflow, self.expected_size) {
            (Some(actual), Some(expected)) => ContentError::SizeMismatch { expected, actual },
            _ => ContentError::Io {
                context: format!("write {}", self.temp_display()),
                source: e,
            },
        }
    }

    fn temp_display(&self) -> String {
        self.temp
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    }

    /// Removes the temp file (on failure or after a no-op commit).
    fn discard(&mut self) {
        self.file = None;
        if let Some(temp) = self.temp.take() {
            if let Err(e) = fs::remove_file(&temp) {
                if e.kind() != io::ErrorKind::NotFound {
                    tracing::warn!(path = %temp.display(), error = %e, "cannot remove ingest file");
                }
            }
        }
    }

    /// Verifies size and digest, fsyncs, renames into place and fsyncs the
    /// directory. On mismatch the temp file is removed and NOTHING is stored.
    /// If the blob already exists (another writer won the race), the temp
    /// file is dropped and this succeeds: equal digests mean equal content.
    pub fn commit(mut self) -> Result<Digest, ContentError> {
        let result = self.commit_inner();
        // On success the temp file was renamed (temp is None); otherwise clean up.
        self.discard();
        result
    }

    fn commit_inner(&mut self) -> Result<Digest, ContentError> {
        if let Some(actual) = self.overflow {
            return Err(ContentError::SizeMismatch {
                expected: self.expected_size.unwrap_or(0),
                actual,
            });
        }
        if let Some(expected) = self.expected_size {
            if self.written != expected {
                return Err(ContentError::SizeMismatch {
                    expected,
                    actual: self.written,
                });
            }
        }
        let actual = self
            .hasher
            .take()
            .map(Hasher::finish)
            .expect("hasher present until commit");
        if actual != self.expected {
            return Err(ContentError::DigestMismatch {
                expected: self.expected.clone(),
                actual,
            });
        }
        let temp = self.temp.clone().expect("temp present until commit");
        if self.target.is_file() {
            tracing::debug!(digest = %self.expected, "blob already present; dropping duplicate");
            return Ok(actual);
        }
        let file = self.file.take().expect("file present until commit");
        file.sync_all()
            .map_err(io_err(format!("fsync {}", temp.display())))?;
        drop(file);
        fs::rename(&temp, &self.target).map_err(io_err(format!(
            "rename {} to {}",
            temp.display(),
            self.target.display()
        )))?;
        self.temp = None;
        sync_dir(&self.target_dir)?;
        Ok(actual)
    }
}

impl Write for BlobWriter {
    /// Hashes and writes `buf`. Fails (with an [`io::ErrorKind::InvalidData`]
    /// error wrapping [`ContentError::SizeMismatch`]) as soon as the total
    /// would exceed the expected size; the writer is then unusable and its
    /// commit fails.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let total = self.written.saturating_add(buf.len() as u64);
        if let Some(expected) = self.expected_size {
            if self.overflow.is_some() || total > expected {
                let actual = self.overflow.unwrap_or(total).max(total);
                self.overflow = Some(actual);
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    ContentError::SizeMismatch { expected, actual },
                ));
            }
        }
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("blob writer already finished"))?;
        let n = file.write(buf)?;
        if let Some(h) = self.hasher.as_mut() {
            h.update(&buf[..n]);
        }
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for BlobWriter {
    /// An uncommitted writer removes its temp file.
    fn drop(&mut self) {
        self.discard();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, ContentStore) {
        let dir = tempfile::tempdir().unwrap();
        let s = ContentStore::open(dir.path()).unwrap();
        (dir, s)
    }

    fn ingest_files(s: &ContentStore) -> Vec<PathBuf> {
        fs::read_dir(s.ingest_dir())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    }

    #[test]
    fn content_write_and_read_back() {
        let (_d, s) = store();
        let data = b"hello, berth".to_vec();
        let dg = Digest::sha256_of(&data);
        assert!(!s.contains(&dg));
        let mut w = s.writer(&dg, Some(data.len() as u64)).unwrap();
        w.write_all(&data[..5]).unwrap();
        w.write_all(&data[5..]).unwrap();
        assert_eq!(w.written(), data.len() as u64);
        assert_eq!(w.commit().unwrap(), dg);
        assert!(s.contains(&dg));
        assert_eq!(s.size(&dg).unwrap(), data.len() as u64);
        let mut got = Vec::new();
        s.read(&dg).unwrap().read_to_end(&mut got).unwrap();
        assert_eq!(got, data);
        assert_eq!(s.read_all(&dg, 1024).unwrap(), data);
        assert_eq!(s.list().unwrap(), vec![dg.clone()]);
        assert_eq!(s.path(&dg), s.root.join("blobs/sha256").join(dg.hex()));
        assert!(ingest_files(&s).is_empty());
        // Writing it again (already present) succeeds.
        s.write_blob(&dg, &data).unwrap();
        assert!(ingest_files(&s).is_empty());
    }

    #[test]
    fn content_known_sha256_vector() {
        assert_eq!(
            Digest::sha256_of(b"").to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn content_sha512_blob() {
        let (_d, s) = store();
        let data = b"abc";
        let dg = Digest::parse(
            "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
             2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        )
        .unwrap();
        s.write_blob(&dg, data).unwrap();
        assert_eq!(s.read_all(&dg, 3).unwrap(), data);
        assert_eq!(s.list().unwrap(), vec![dg]);
    }

    #[test]
    fn content_wrong_digest_stores_nothing() {
        let (_d, s) = store();
        let claimed = Digest::sha256_of(b"what was promised");
        let err = s.write_blob(&claimed, b"what was sent").unwrap_err();
        match &err {
            ContentError::DigestMismatch { expected, actual } => {
                assert_eq!(expected, &claimed);
                assert_eq!(actual, &Digest::sha256_of(b"what was sent"));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(err
            .to_string()
            .starts_with("digest mismatch: expected sha256:"));
        assert!(err.to_string().contains(", got sha256:"));
        assert!(!s.contains(&claimed));
        assert!(s.list().unwrap().is_empty());
        assert!(ingest_files(&s).is_empty());
    }

    #[test]
    fn content_wrong_size_short_stores_nothing() {
        let (_d, s) = store();
        let data = b"0123456789";
        let dg = Digest::sha256_of(data);
        let mut w = s.writer(&dg, Some(20)).unwrap();
        w.write_all(data).unwrap();
        let err = w.commit().unwrap_err();
        assert!(matches!(
            err,
            ContentError::SizeMismatch {
                expected: 20,
                actual: 10
            }
        ));
        assert_eq!(err.to_string(), "size mismatch: expected 20 bytes, got 10");
        assert!(!s.contains(&dg));
        assert!(ingest_files(&s).is_empty());
    }

    #[test]
    fn content_wrong_size_long_stores_nothing() {
        let (_d, s) = store();
        let data = b"0123456789";
        let dg = Digest::sha256_of(data);
        let mut w = s.writer(&dg, Some(4)).unwrap();
        w.write_all(&data[..3]).unwrap();
        // Refused as soon as the expected size would be exceeded.
        let e = w.write_all(&data[3..]).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert_eq!(w.written(), 3);
        let err = w.commit().unwrap_err();
        assert!(matches!(
            err,
            ContentError::SizeMismatch {
                expected: 4,
                actual: 10
            }
        ));
        assert!(!s.contains(&dg));
        assert!(ingest_files(&s).is_empty());
    }

    #[test]
    fn content_read_all_refuses_oversize_before_reading() {
        let (_d, s) = store();
        let data = vec![7u8; 100];
        let dg = Digest::sha256_of(&data);
        s.write_blob(&dg, &data).unwrap();
        // Corrupt the file: if read_all read it, it would report a digest
        // mismatch; TooLarge proves it refused on size alone.
        fs::write(s.path(&dg), vec![8u8; 100]).unwrap();
        let err = s.read_all(&dg, 99).unwrap_err();
        assert!(matches!(err, ContentError::TooLarge { limit: 99 }));
        assert_eq!(err.to_string(), "content larger than the 99-byte limit");
        // Within the limit it reads and catches the corruption.
        assert!(matches!(
            s.read_all(&dg, 100).unwrap_err(),
            ContentError::DigestMismatch { .. }
        ));
    }

    #[test]
    fn content_concurrent_writers_same_blob() {
        let (_d, s) = store();
        let data: Vec<u8> = (0..256 * 1024u32).map(|i| (i % 251) as u8).collect();
        let dg = Digest::sha256_of(&data);
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        let mut w = s.writer(&dg, Some(data.len() as u64)).unwrap();
                        for chunk in data.chunks(4096) {
                            w.write_all(chunk).unwrap();
                        }
                        w.commit()
                    })
                })
                .collect();
            for h in handles {
                assert_eq!(h.join().unwrap().unwrap(), dg);
            }
        });
        assert_eq!(s.list().unwrap(), vec![dg.clone()]);
        assert_eq!(s.read_all(&dg, u64::MAX).unwrap(), data);
        assert!(ingest_files(&s).is_empty());
    }

    #[test]
    fn content_dropped_writer_leaves_no_temp() {
        let (_d, s) = store();
        let dg = Digest::sha256_of(b"abc");
        {
            let mut w = s.writer(&dg, None).unwrap();
            w.write_all(b"ab").unwrap();
            assert_eq!(ingest_files(&s).len(), 1);
        }
        assert!(ingest_files(&s).is_empty());
        assert!(!s.contains(&dg));
    }

    #[test]
    fn content_open_removes_abandoned_ingest_only() {
        let (d, s) = store();
        // A file nobody holds a lock on: its writer is gone.
        let stale = s.ingest_dir().join("stale.tmp");
        fs::write(&stale, b"x").unwrap();
        // A live writer elsewhere (another service on the same root).
        let dg = Digest::sha256_of(b"live");
        let mut live = s.writer(&dg, Some(4)).unwrap();
        live.write_all(b"li").unwrap();
        ContentStore::open(d.path()).unwrap();
        assert!(!stale.exists());
        assert_eq!(ingest_files(&s).len(), 1, "the live writer's file stays");
        live.write_all(b"ve").unwrap();
        // Spools of dead processes go, ours stay.
        let dead = s.ingest_dir().join("load-4194305-0-1");
        let ours = s
            .ingest_dir()
            .join(format!("load-{}-0-1", std::process::id()));
        fs::create_dir_all(dead.join("sub")).unwrap();
        fs::create_dir_all(&ours).unwrap();
        ContentStore::open(d.path()).unwrap();
        assert!(!dead.exists());
        assert!(ours.exists());
        fs::remove_dir(&ours).unwrap();
        live.commit().unwrap();
        assert!(s.contains(&dg));
    }

    #[test]
    fn content_gc_keeps_referenced() {
        let (_d, s) = store();
        let blobs: Vec<Digest> = (0..4)
            .map(|i| {
                let data = format!("blob {i}");
                let dg = Digest::sha256_of(data.as_bytes());
                s.write_blob(&dg, data.as_bytes()).unwrap();
                dg
            })
            .collect();
        let keep: HashSet<Digest> = [blobs[0].clone(), blobs[2].clone()].into_iter().collect();
        let mut removed = s.garbage_collect(&keep).unwrap();
        removed.sort();
        let mut expect = vec![blobs[1].clone(), blobs[3].clone()];
        expect.sort();
        assert_eq!(removed, expect);
        let mut left = vec![blobs[0].clone(), blobs[2].clone()];
        left.sort();
        assert_eq!(s.list().unwrap(), left);
        assert!(s.garbage_collect(&keep).unwrap().is_empty());
    }

    #[test]
    fn content_digest_parse_rejects_bad_input() {
        let good = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let d = Digest::parse(good).unwrap();
        assert_eq!(d.algorithm(), "sha256");
        assert_eq!(d.to_string(), good);
        assert_eq!(good.parse::<Digest>().unwrap(), d);
        for bad in [
            "sha256:../../x",
            "sha256:../../../../../../../../../../../../../../../../../../../etc/passwd",
            "sha256:/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
            "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555",
            "sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "md5:d41d8cd98f00b204e9800998ecf8427e",
            "SHA256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "sha256:",
            "",
            ":",
            " sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ] {
            assert!(
                matches!(Digest::parse(bad), Err(ContentError::InvalidDigest(_))),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn content_digest_serde_as_string() {
        let d = Digest::sha256_of(b"x");
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, format!("\"{d}\""));
        assert_eq!(serde_json::from_str::<Digest>(&json).unwrap(), d);
        assert!(serde_json::from_str::<Digest>("\"sha256:../../x\"").is_err());
    }

    #[test]
    fn content_missing_blob_is_not_found() {
        let (_d, s) = store();
        let dg = Digest::sha256_of(b"nope");
        let err = s.delete(&dg).unwrap_err();
        assert!(matches!(&err, ContentError::NotFound(x) if *x == dg));
        assert_eq!(err.to_string(), format!("blob {dg} not found"));
        assert!(matches!(s.size(&dg), Err(ContentError::NotFound(_))));
        assert!(matches!(s.read(&dg), Err(ContentError::NotFound(_))));
        assert!(matches!(
            s.read_all(&dg, 10),
            Err(ContentError::NotFound(_))
        ));
        // Delete of a present blob works once, then NotFound.
        s.write_blob(&dg, b"nope").unwrap();
        s.delete(&dg).unwrap();
        assert!(matches!(s.delete(&dg), Err(ContentError::NotFound(_))));
    }
}
