//! The `filters` query parameter (moby `api/types/filters.Args`): a JSON
//! object of key -> values, in either of the forms Docker clients send,
//! `{"label":{"a=b":true}}` (current) or `{"label":["a=b"]}` (legacy).

use std::collections::BTreeMap;

use berth_errdefs::{ErrorKind, HasKind};

/// Parsed filters: key -> values, keys and values sorted, duplicates folded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    fields: BTreeMap<String, Vec<String>>,
}

/// A `filters` value that is not JSON of either form (InvalidParameter).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid filter: {0}")]
pub struct FilterError(String);

impl HasKind for FilterError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidParameter
    }
}

impl Filters {
    /// No filter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses the query parameter; an empty string is no filter.
    pub fn from_json(s: &str) -> Result<Self, FilterError> {
        let s = s.trim();
        let mut f = Filters::default();
        if s.is_empty() {
            return Ok(f);
        }
        if let Ok(map) = serde_json::from_str::<BTreeMap<String, BTreeMap<String, bool>>>(s) {
            for (k, vals) in map {
                for (v, on) in vals {
                    if on {
                        f.add(&k, &v);
                    }
                }
                f.fields.entry(k).or_default();
            }
            return Ok(f);
        }
        let map: BTreeMap<String, Vec<String>> =
            serde_json::from_str(s).map_err(|e| FilterError(e.to_string()))?;
        for (k, vals) in map {
            f.fields.entry(k.clone()).or_default();
            for v in vals {
                f.add(&k, &v);
            }
        }
        Ok(f)
    }

    /// Adds `key=value` (the CLI's `--filter key=value`).
    pub fn add(&mut self, key: &str, value: &str) {
        let list = self.fields.entry(key.to_string()).or_default();
        if let Err(i) = list.binary_search_by(|v| v.as_str().cmp(value)) {
            list.insert(i, value.to_string());
        }
    }

    /// `self` with `key=value` added.
    pub fn with(mut self, key: &str, value: &str) -> Self {
        self.add(key, value);
        self
    }

    /// The values of `key` (empty when absent).
    pub fn get(&self, key: &str) -> &[String] {
        self.fields.get(key).map_or(&[], Vec::as_slice)
    }

    /// The keys present.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.fields.keys().map(String::as_str)
    }

    /// True when there is no filter.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The current JSON form, `{"key":{"value":true}}`, as clients send it.
    pub fn to_json(&self) -> String {
        let map: BTreeMap<&str, BTreeMap<&str, bool>> = self
            .fields
            .iter()
            .map(|(k, vs)| (k.as_str(), vs.iter().map(|v| (v.as_str(), true)).collect()))
            .collect();
        serde_json::to_string(&map).unwrap_or_else(|_| "{}".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_parse_the_same() {
        let a = Filters::from_json(r#"{"status":{"running":true,"paused":true}}"#).unwrap();
        let b = Filters::from_json(r#"{"status":["running","paused"]}"#).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.get("status"), ["paused", "running"]);
        assert!(a.get("label").is_empty());
        assert_eq!(Filters::from_json(&a.to_json()).unwrap(), a);
        assert!(Filters::from_json("").unwrap().is_empty());
        let e = Filters::from_json("{bad").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidParameter);
        assert!(e.to_string().starts_with("invalid filter: "), "{e}");
    }
}
