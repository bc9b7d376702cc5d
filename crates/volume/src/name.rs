//! Volume names: moby's rule for the local driver and random names for
//! anonymous volumes.

use std::io::Read;

use crate::error::{Result, VolumeError};

/// Checks a name against `[a-zA-Z0-9][a-zA-Z0-9_.-]+` with moby's message:
/// `create <name>: "<name>" includes invalid characters for a local volume
/// name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to
/// pass a host directory, use absolute path`.
pub fn validate_name(name: &str) -> Result<()> {
    if is_valid(name) {
        return Ok(());
    }
    Err(VolumeError::InvalidParameter(format!(
        "create {name}: {name:?} includes invalid characters for a local volume name, \
         only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. \
         If you intended to pass a host directory, use absolute path"
    )))
}

/// The rule itself, without the message. Besides matching moby, it keeps
/// every name a plain path component: no `/`, and no `.`/`..` (they would
/// need a leading dot), so `<root>/<name>` never escapes the root.
pub(crate) fn is_valid(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    if !first.is_ascii_alphanumeric() {
        return false;
    }
    let mut rest = 0;
    for c in chars {
        if !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')) {
            return false;
        }
        rest += 1;
    }
    rest >= 1
}

/// A fresh random 64-hex name for an anonymous volume.
pub fn anonymous_name() -> String {
    let bytes = random_bytes::<32>();
    let mut out = String::with_capacity(64);
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// `N` bytes from the kernel's CSPRNG: getrandom(2), or /dev/urandom where
/// the syscall is missing. A name collision would merge two anonymous
/// volumes, so a weak source is not an option: failing both is a panic.
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    let mut filled = 0;
    while filled < N {
        // SAFETY: the pointer and length describe the unfilled tail of `buf`.
        let n = unsafe { libc::getrandom(buf[filled..].as_mut_ptr().cast(), N - filled, 0) };
        if n > 0 {
            filled += n as usize;
            continue;
        }
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        let mut f = std::fs::File::open("/dev/urandom").expect("open /dev/urandom");
        f.read_exact(&mut buf).expect("read /dev/urandom");
        return buf;
    }
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_moby_names() {
        for name in ["ab", "a1", "my-vol", "my_vol.2", "A.b-c_d", "0x"] {
            validate_name(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn refuses_bad_names_with_mobys_message() {
        for name in [
            "", "a", "-ab", "_meta", ".x", "..", "a/b", "a b", "a:b", "/abs", "é1",
        ] {
            let err = validate_name(name).unwrap_err();
            assert!(matches!(err, VolumeError::InvalidParameter(_)), "{name}");
        }
        assert_eq!(
            validate_name("a/b").unwrap_err().to_string(),
            "create a/b: \"a/b\" includes invalid characters for a local volume name, \
             only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. \
             If you intended to pass a host directory, use absolute path"
        );
    }

    #[test]
    fn anonymous_names_are_64_hex_and_distinct() {
        let a = anonymous_name();
        let b = anonymous_name();
        assert_eq!(a.len(), 64);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, b);
        validate_name(&a).unwrap();
    }
}
