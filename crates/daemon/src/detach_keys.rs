//! Detach keys: the key sequence that detaches an attached client
//! (`ctrl-p,ctrl-q` by default) in Docker's syntax (moby's `term.ToBytes`),
//! and the filter that watches a client's stdin for it (moby's
//! `term.NewEscapeProxy`).

use crate::error::{DaemonError, Result};

/// Docker's default detach sequence, `ctrl-p,ctrl-q`.
pub const DEFAULT_DETACH_KEYS: [u8; 2] = [16, 17];

/// Parses a detach sequence: comma-separated keys, each one character or
/// `ctrl-<c>` with `<c>` in `a`-`z`, `@`, `[`, `\`, `]`, `^`, `_`. An empty
/// string is the default sequence. Anything else is InvalidParameter with
/// moby's message.
pub fn parse_detach_keys(keys: &str) -> Result<Vec<u8>> {
    if keys.is_empty() {
        return Ok(DEFAULT_DETACH_KEYS.to_vec());
    }
    let invalid = || DaemonError::invalid(format!("Invalid detach keys ({keys}) provided"));
    let mut out = Vec::new();
    for key in keys.split(',') {
        if key.len() > 1 {
            let lower = key.to_ascii_lowercase();
            let ctrl = lower.strip_prefix("ctrl-").ok_or_else(invalid)?;
            let code = match ctrl.as_bytes() {
                [c @ b'a'..=b'z'] => c - b'a' + 1,
                [b'@'] => 0,
                [b'['] => 27,
                [b'\\'] => 28,
                [b']'] => 29,
                [b'^'] => 30,
                [b'_'] => 31,
                _ => return Err(invalid()),
            };
            out.push(code);
        } else {
            let b = *key.as_bytes().first().ok_or_else(invalid)?;
            out.push(b);
        }
    }
    Ok(out)
}

/// Watches a byte stream for a detach sequence. Bytes that might start the
/// sequence are held back until it is clear whether they do; a completed
/// sequence is swallowed and reported.
#[derive(Debug, Clone)]
pub struct EscapeProxy {
    keys: Vec<u8>,
    matched: usize,
}

/// What [`EscapeProxy::feed`] decided about a chunk of input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Escape {
    /// Pass these bytes on (possibly empty while a prefix is held back).
    Forward(Vec<u8>),
    /// The sequence was typed: forward these bytes (those before it), then
    /// detach.
    Detach(Vec<u8>),
}

impl EscapeProxy {
    /// A proxy for `keys` (an empty sequence never detaches).
    pub fn new(keys: Vec<u8>) -> EscapeProxy {
        EscapeProxy { keys, matched: 0 }
    }

    /// Feeds the next chunk of input.
    pub fn feed(&mut self, input: &[u8]) -> Escape {
        if self.keys.is_empty() {
            return Escape::Forward(input.to_vec());
        }
        let mut out = Vec::with_capacity(input.len());
        for &b in input {
            if b == self.keys[self.matched] {
                self.matched += 1;
                if self.matched == self.keys.len() {
                    self.matched = 0;
                    return Escape::Detach(out);
                }
                continue;
            }
            // A broken prefix was real input after all.
            out.extend_from_slice(&self.keys[..self.matched]);
            self.matched = 0;
            if b == self.keys[0] {
                self.matched = 1;
                if self.keys.len() == 1 {
                    self.matched = 0;
                    return Escape::Detach(out);
                }
            } else {
                out.push(b);
            }
        }
        Escape::Forward(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dockers_syntax() {
        assert_eq!(parse_detach_keys("").unwrap(), vec![16, 17]);
        assert_eq!(parse_detach_keys("ctrl-p,ctrl-q").unwrap(), vec![16, 17]);
        assert_eq!(parse_detach_keys("ctrl-a,x").unwrap(), vec![1, b'x']);
        assert_eq!(
            parse_detach_keys("ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_,CTRL-Z").unwrap(),
            vec![0, 27, 28, 29, 30, 31, 26]
        );
        for bad in ["ctrl-1", "ab", "ctrl-", "a,,b", "shift-a"] {
            let e = parse_detach_keys(bad).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("Invalid detach keys ({bad}) provided")
            );
        }
    }

    #[test]
    fn swallows_the_sequence_and_passes_the_rest() {
        let mut p = EscapeProxy::new(vec![16, 17]);
        assert_eq!(p.feed(b"abc"), Escape::Forward(b"abc".to_vec()));
        // A prefix split across chunks is held, then released when broken.
        assert_eq!(p.feed(&[b'x', 16]), Escape::Forward(b"x".to_vec()));
        assert_eq!(p.feed(b"y"), Escape::Forward(vec![16, b'y']));
        // A prefix followed by a new start of the sequence.
        assert_eq!(p.feed(&[16, 16]), Escape::Forward(vec![16]));
        assert_eq!(p.feed(&[17, b'z']), Escape::Detach(vec![]));
        let mut p = EscapeProxy::new(vec![16, 17]);
        assert_eq!(p.feed(&[b'a', 16, 17, b'b']), Escape::Detach(b"a".to_vec()));
        let mut one = EscapeProxy::new(vec![b'q']);
        assert_eq!(one.feed(b"abq"), Escape::Detach(b"ab".to_vec()));
        let mut none = EscapeProxy::new(vec![]);
        assert_eq!(none.feed(&[16, 17]), Escape::Forward(vec![16, 17]));
    }
}
