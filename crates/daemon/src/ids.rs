//! Container IDs, as moby's `pkg/stringid` makes them: 32 random bytes as
//! 64 lowercase hex characters, shown truncated to 12.

use std::fs::File;
use std::io::Read;

use crate::error::{DaemonError, Result};

/// The length of a short (truncated) ID.
pub const SHORT_ID_LEN: usize = 12;

/// Returns a new random 64-hex-char ID from the kernel's CSPRNG
/// (`/dev/urandom`). As moby's `GenerateRandomID` does, an ID whose short form
/// is all digits is thrown away and drawn again: such a short ID parses as a
/// number and is a bad hostname.
///
/// Fails (System) only if `/dev/urandom` cannot be read.
pub fn generate_id() -> Result<String> {
    loop {
        let mut bytes = [0u8; 32];
        File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut bytes))
            .map_err(|e| DaemonError::io("reading /dev/urandom", e))?;
        let id = hex(&bytes);
        if !is_all_digits(truncate_id(&id)) {
            return Ok(id);
        }
    }
}

/// The first 12 characters of `id` (after an optional `sha256:` prefix), or
/// all of it when shorter: moby's `stringid.TruncateID`.
pub fn truncate_id(id: &str) -> &str {
    let id = id.strip_prefix("sha256:").unwrap_or(id);
    match id.char_indices().nth(SHORT_ID_LEN) {
        Some((i, _)) => &id[..i],
        None => id,
    }
}

/// True when `s` is a full 64-char lowercase hex ID.
pub fn is_full_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A random `u64` from `/dev/urandom`, for choices that need no more than
/// unpredictability (generated names, temp file suffixes). Falls back to the
/// clock mixed with the PID if `/dev/urandom` cannot be read.
pub(crate) fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    match File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes)) {
        Ok(()) => u64::from_le_bytes(bytes),
        Err(_) => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            nanos.rotate_left(17)
                ^ u64::from(std::process::id()).wrapping_mul(0x9e37_79b9_7f4a_7c15)
        }
    }
}

fn is_all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0xf) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_64_hex_and_unique() {
        let mut seen = HashSet::new();
        for _ in 0..200 {
            let id = generate_id().unwrap();
            assert!(is_full_id(&id), "{id}");
            assert!(!is_all_digits(truncate_id(&id)));
            assert!(seen.insert(id));
        }
    }

    #[test]
    fn truncation() {
        let id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(truncate_id(id), "0123456789ab");
        assert_eq!(truncate_id(&format!("sha256:{id}")), "0123456789ab");
        assert_eq!(truncate_id("abc"), "abc");
        assert!(!is_full_id("abc"));
        assert!(!is_full_id(&id.to_uppercase()));
    }
}
