//! Docker's `filters` query parameter: the data is the API's
//! [`Filters`]; this module adds moby's matching rules (`filters.Args`'s
//! `ExactMatch`, `FuzzyMatch`, regular-expression `Match`, `MatchKVList`)
//! and the daemon's validation.

use std::collections::BTreeMap;

pub use berth_api::types::filters::Filters;

use crate::error::{DaemonError, Result};

/// Parses the `filters` query parameter; bad JSON is InvalidParameter.
pub fn parse(s: &str) -> Result<Filters> {
    Filters::from_json(s).map_err(|e| DaemonError::invalid(e.to_string()))
}

/// moby's matching rules over [`Filters`].
pub trait FilterMatch {
    /// InvalidParameter `invalid filter 'x'` for the first key not in
    /// `accepted`.
    fn validate(&self, accepted: &[&str]) -> Result<()>;
    /// Whether `key` has a value.
    fn contains(&self, key: &str) -> bool;
    /// `key` absent, or one of its values equals `source`.
    fn exact_match(&self, key: &str, source: &str) -> bool;
    /// `key` absent, or `source` starts with one of its values.
    fn fuzzy_match(&self, key: &str, source: &str) -> bool;
    /// `key` absent, or one of its values equals `source` or, read as an
    /// unanchored regular expression, matches it (moby's `Match`).
    fn matches(&self, key: &str, source: &str) -> bool;
    /// `key` absent, or every value (`k` or `k=v`) is satisfied by
    /// `labels` (moby's `MatchKVList`).
    fn match_labels(&self, key: &str, labels: Option<&BTreeMap<String, String>>) -> bool;
}

impl FilterMatch for Filters {
    fn validate(&self, accepted: &[&str]) -> Result<()> {
        match self.keys().find(|k| !accepted.contains(k)) {
            Some(k) => Err(DaemonError::invalid(format!("invalid filter '{k}'"))),
            None => Ok(()),
        }
    }

    fn contains(&self, key: &str) -> bool {
        !self.get(key).is_empty()
    }

    fn exact_match(&self, key: &str, source: &str) -> bool {
        !self.contains(key) || self.get(key).iter().any(|v| v == source)
    }

    fn fuzzy_match(&self, key: &str, source: &str) -> bool {
        !self.contains(key) || self.get(key).iter().any(|p| source.starts_with(p.as_str()))
    }

    fn matches(&self, key: &str, source: &str) -> bool {
        !self.contains(key)
            || self
                .get(key)
                .iter()
                .any(|v| v == source || regex::Regex::new(v).is_ok_and(|re| re.is_match(source)))
    }

    fn match_labels(&self, key: &str, labels: Option<&BTreeMap<String, String>>) -> bool {
        if !self.contains(key) {
            return true;
        }
        let Some(labels) = labels.filter(|l| !l.is_empty()) else {
            return false;
        };
        self.get(key).iter().all(|v| match v.split_once('=') {
            Some((k, want)) => labels.get(k).is_some_and(|have| have == want),
            None => labels.contains_key(v.as_str()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_json_forms_and_matching() {
        let a = parse(r#"{"name":{"web":true,"off":false}}"#).unwrap();
        let b = parse(r#"{"name":["web"]}"#).unwrap();
        assert_eq!(a.get("name"), b.get("name"));
        assert_eq!(a.get("name"), ["web"]);
        assert!(parse("").unwrap() == Filters::new());
        assert!(parse("{bad").is_err());

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
