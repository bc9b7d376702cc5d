//! Docker's `filters` query parameter (moby's `api/types/filters.Args`):
//! key -> set of values, decoded from either JSON form, with moby's
//! matching rules (exact, regular expression, `key=value` labels).

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{DaemonError, Result};

/// A parsed `filters` value. An absent key matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    fields: BTreeMap<String, BTreeSet<String>>,
}

impl Filters {
    /// No filter.
    pub fn new() -> Filters {
        Filters::default()
    }

    /// Parses `{"key":{"value":true}}` (only `true` values count) or the
    /// older `{"key":["value"]}`; empty means no filter. Bad JSON is
    /// InvalidParameter.
    pub fn from_json(s: &str) -> Result<Filters> {
        let s = s.trim();
        let mut f = Filters::default();
        if s.is_empty() {
            return Ok(f);
        }
        if let Ok(map) = serde_json::from_str::<BTreeMap<String, BTreeMap<String, bool>>>(s) {
            for (k, vals) in map {
                let set = f.fields.entry(k).or_default();
                set.extend(vals.into_iter().filter(|(_, on)| *on).map(|(v, _)| v));
            }
            return Ok(f);
        }
        let map: BTreeMap<String, Vec<String>> = serde_json::from_str(s)
            .map_err(|e| DaemonError::invalid(format!("invalid filter: {e}")))?;
        for (k, vals) in map {
            f.fields.entry(k).or_default().extend(vals);
        }
        Ok(f)
    }

    /// Adds `key=value` (the CLI's `--filter key=value`).
    pub fn with(mut self, key: &str, value: &str) -> Filters {
        self.fields
            .entry(key.to_string())
            .or_default()
            .insert(value.to_string());
        self
    }

    /// InvalidParameter `invalid filter 'x'` for the first key not in
    /// `accepted`.
    pub fn validate(&self, accepted: &[&str]) -> Result<()> {
        match self.fields.keys().find(|k| !accepted.contains(&k.as_str())) {
            Some(k) => Err(DaemonError::invalid(format!("invalid filter '{k}'"))),
            None => Ok(()),
        }
    }

    /// Whether `key` has a value.
    pub fn contains(&self, key: &str) -> bool {
        self.fields.get(key).is_some_and(|v| !v.is_empty())
    }

    /// True when no key has a value.
    pub fn is_empty(&self) -> bool {
        self.fields.values().all(BTreeSet::is_empty)
    }

    /// The values of `key` (sorted).
    pub fn get(&self, key: &str) -> Vec<&str> {
        self.fields
            .get(key)
            .map(|s| s.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// `key` absent, or one of its values equals `source`.
    pub fn exact_match(&self, key: &str, source: &str) -> bool {
        !self.contains(key) || self.fields[key].contains(source)
    }

    /// `key` absent, or `source` starts with one of its values (moby's
    /// `FuzzyMatch`).
    pub fn fuzzy_match(&self, key: &str, source: &str) -> bool {
        !self.contains(key)
            || self.fields[key]
                .iter()
                .any(|p| source.starts_with(p.as_str()))
    }

    /// `key` absent, or one of its values equals `source` or, read as an
    /// unanchored regular expression, matches it (moby's `Match`).
    pub fn matches(&self, key: &str, source: &str) -> bool {
        let Some(vals) = self.fields.get(key) else {
            return true;
        };
        vals.iter()
            .any(|v| v == source || regex::Regex::new(v).is_ok_and(|re| re.is_match(source)))
    }

    /// `key` absent, or every value (`k` or `k=v`) is satisfied by
    /// `labels` (moby's `MatchKVList`).
    pub fn match_labels(&self, key: &str, labels: Option<&BTreeMap<String, String>>) -> bool {
        if !self.contains(key) {
            return true;
        }
        let empty = BTreeMap::new();
        let labels = labels.unwrap_or(&empty);
        !labels.is_empty()
            && self.fields[key].iter().all(|v| match v.split_once('=') {
                Some((k, want)) => labels.get(k).is_some_and(|have| have == want),
                None => labels.contains_key(v),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_json_forms_and_matching() {
        let a = Filters::from_json(r#"{"name":{"web":true,"off":false}}"#).unwrap();
        let b = Filters::from_json(r#"{"name":["web"]}"#).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.get("name"), ["web"]);
        assert!(Filters::from_json("").unwrap() == Filters::new());
        assert!(Filters::from_json("{bad").is_err());

        assert!(a.matches("name", "web"));
        assert!(a.matches("name", "my-web-1"), "unanchored regex");
        assert!(!a.matches("name", "db"));
        assert!(a.matches("id", "anything"), "absent key");
        let re = Filters::new().with("name", "^db$");
        assert!(re.matches("name", "db") && !re.matches("name", "db2"));
        assert!(!a.exact_match("name", "my-web-1"));

        let labels: BTreeMap<String, String> =
            [("a".to_string(), "1".to_string()), ("b".into(), "".into())].into();
        let f = Filters::new().with("label", "a=1").with("label", "b");
        assert!(f.match_labels("label", Some(&labels)));
        assert!(!Filters::new()
            .with("label", "a=2")
            .match_labels("label", Some(&labels)));
        assert!(!Filters::new()
            .with("label", "c")
            .match_labels("label", None));

        let e = Filters::new()
            .with("bogus", "x")
            .validate(&["name"])
            .unwrap_err();
        assert_eq!(e.to_string(), "invalid filter 'bogus'");
    }
}
