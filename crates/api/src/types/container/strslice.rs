//! `strslice.StrSlice`: a list of strings that also decodes from one string.

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

/// A list of strings that decodes from either a JSON array or a single
/// string (`"sh"` is `["sh"]`), as moby's `strslice.StrSlice`. Used for
/// `Cmd`, `Entrypoint`, `Shell`, `CapAdd` and `CapDrop`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct StrSlice(pub Vec<String>);

impl StrSlice {
    /// True when the list has no elements.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<String>> for StrSlice {
    fn from(v: Vec<String>) -> Self {
        StrSlice(v)
    }
}

impl From<&[&str]> for StrSlice {
    fn from(v: &[&str]) -> Self {
        StrSlice(v.iter().map(|s| s.to_string()).collect())
    }
}

impl<'de> Deserialize<'de> for StrSlice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StrSlice;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<StrSlice, E> {
                Ok(StrSlice(vec![s.to_string()]))
            }
            fn visit_unit<E: de::Error>(self) -> Result<StrSlice, E> {
                Ok(StrSlice::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StrSlice, A::Error> {
                let mut v = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    v.push(s);
                }
                Ok(StrSlice(v))
            }
        }
        d.deserialize_any(V)
    }
}
