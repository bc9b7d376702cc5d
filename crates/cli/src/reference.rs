//! The little of Docker's image reference grammar the CLI needs before
//! pulling: split `name[:tag][@digest]` and default the tag to `latest`
//! (`reference.ParseNormalizedNamed` + `TagNameOnly`, without the
//! registry normalization the daemon does).

/// A parsed reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// The repository as the user wrote it (`busybox`, `localhost:5000/a/b`).
    pub name: String,
    /// The tag (`latest` when neither tag nor digest was given).
    pub tag: Option<String>,
    /// `sha256:...`.
    pub digest: Option<String>,
}

impl ImageRef {
    /// Parses `s`; an empty or upper-case repository is an error, as
    /// Docker's `invalid reference format`.
    pub fn parse(s: &str) -> Result<ImageRef, String> {
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (r, Some(d.to_string())),
            None => (s, None),
        };
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (
                &rest[..last_slash + i],
                Some(rest[last_slash + i + 1..].to_string()),
            ),
            None => (rest, None),
        };
        let bad = || "invalid reference format".to_string();
        if name.is_empty() || tag.as_deref() == Some("") || digest.as_deref() == Some("") {
            return Err(bad());
        }
        let path = &name[name.find('/').map_or(0, |i| i + 1)..];
        if path.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(
                "invalid reference format: repository name (library/...) must be lowercase".into(),
            );
        }
        let tag = match (&tag, &digest) {
            (None, None) => Some("latest".to_string()),
            _ => tag,
        };
        Ok(ImageRef {
            name: name.to_string(),
            tag,
            digest,
        })
    }

    /// What `Unable to find image '...' locally` shows: `busybox:latest`.
    pub fn familiar(&self) -> String {
        let mut s = self.name.clone();
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }

    /// The `tag` query parameter of a pull: the digest when there is one,
    /// else the tag.
    pub fn api_tag(&self) -> String {
        self.digest
            .clone()
            .or_else(|| self.tag.clone())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        let r = ImageRef::parse("busybox").unwrap();
        assert_eq!(r.familiar(), "busybox:latest");
        assert_eq!(
            (r.name.as_str(), r.api_tag().as_str()),
            ("busybox", "latest")
        );
        let r = ImageRef::parse("localhost:5000/a/b:1.0").unwrap();
        assert_eq!(
            (r.name.as_str(), r.api_tag().as_str()),
            ("localhost:5000/a/b", "1.0")
        );
        let r = ImageRef::parse("localhost:5000/a").unwrap();
        assert_eq!(r.familiar(), "localhost:5000/a:latest");
        let r = ImageRef::parse("a@sha256:abc").unwrap();
        assert_eq!(
            (r.tag.clone(), r.api_tag()),
            (None, "sha256:abc".to_string())
        );
        assert_eq!(r.familiar(), "a@sha256:abc");
        assert!(ImageRef::parse("").is_err());
        assert!(ImageRef::parse("a:").is_err());
        assert!(ImageRef::parse("Busybox").is_err());
    }
}
