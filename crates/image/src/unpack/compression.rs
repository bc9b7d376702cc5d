//! Compression sniffing for layer streams: gzip, zstd or plain tar, chosen by
//! the stream's magic bytes (as moby's `archive.DecompressStream` does).

use std::io::{self, Cursor, Read};

/// gzip magic (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// zstd frame magic (RFC 8878), little-endian 0xFD2FB528.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// The compression a stream was found to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    /// No compression: a plain tar stream.
    None,
    /// gzip (possibly multi-member).
    Gzip,
    /// zstd.
    Zstd,
}

/// Classifies a stream by its first bytes.
pub(crate) fn detect(head: &[u8]) -> Compression {
    if head.starts_with(&GZIP_MAGIC) {
        Compression::Gzip
    } else if head.starts_with(&ZSTD_MAGIC) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

/// Wraps `reader` in the right decoder, without requiring `'static`.
///
/// Reads up to four bytes to sniff the format, then replays them in front of
/// the rest of the stream.
pub(crate) fn decompress_any<'a, R: Read + 'a>(mut reader: R) -> io::Result<Box<dyn Read + 'a>> {
    let mut head = [0u8; 4];
    let mut filled = 0;
    while filled < head.len() {
        match reader.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    let head = head[..filled].to_vec();
    let kind = detect(&head);
    let stream = Cursor::new(head).chain(reader);
    Ok(match kind {
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(stream)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(stream)?),
        Compression::None => Box::new(stream),
    })
}
