//! The Docker image reference grammar (github.com/distribution/reference,
//! the package moby uses), parsed by hand.
//!
//! ```text
//! reference       := name [ ":" tag ] [ "@" digest ]
//! name            := [domain "/"] remote-name
//! domain          := host [":" port-number]
//! host            := domain-name | "[" ipv6 "]"
//! domain-name     := domain-component ("." domain-component)*
//! domain-component:= /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
//! port-number     := /[0-9]+/
//! remote-name     := path-component ("/" path-component)*
//! path-component  := alpha-numeric (separator alpha-numeric)*
//! alpha-numeric   := /[a-z0-9]+/
//! separator       := /[_.]|__|[-]+/
//! tag             := /[\w][\w.-]{0,127}/
//! digest          := algorithm ":" encoded
//! algorithm       := /[A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*/
//! encoded         := /[0-9a-fA-F]{32,}/
//! ```
//!
//! After the grammar matches, the digest is validated like
//! `github.com/opencontainers/go-digest`'s `Digest.Validate`: `sha256`,
//! `sha384` and `sha512` are known and need exactly 64, 96 and 128
//! lowercase hex characters; any other algorithm is unsupported.
//!
//! Entry points: [`parse_normalized_named`] (`reference.ParseNormalizedNamed`)
//! and [`parse_docker_ref`] (`reference.ParseDockerRef`, adds `:latest`).

use std::fmt;

/// The registry assumed when a reference names none (`defaultDomain`).
pub const DEFAULT_DOMAIN: &str = "docker.io";

/// The historical name of Docker Hub, normalized to [`DEFAULT_DOMAIN`]
/// (`legacyDefaultDomain`).
pub const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";

/// The namespace of official images on Docker Hub (`officialRepoPrefix`).
pub const OFFICIAL_REPO_PREFIX: &str = "library/";

/// The tag added by [`parse_docker_ref`] when there is neither tag nor
/// digest (`defaultTag`).
pub const DEFAULT_TAG: &str = "latest";

/// The maximum length in bytes of a full repository name, domain included
/// (`NameTotalLengthMax`).
pub const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// Why a string is not a valid image reference. Every variant is bad input
/// (the API maps it to InvalidParameter / HTTP 400); the `Display` of each
/// is exactly the message Docker prints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// The string does not match the reference grammar
    /// (`ErrReferenceInvalidFormat`).
    #[error("invalid reference format")]
    InvalidFormat,
    /// The repository part of a reference given to
    /// [`parse_normalized_named`] has uppercase letters; carries the remote
    /// name as distribution/reference reports it (the text after the domain
    /// up to the first `:`, with `library/` added for a one-component Docker
    /// Hub name).
    #[error("invalid reference format: repository name ({0}) must be lowercase")]
    RepositoryNameNotLowercase(String),
    /// The reference would match the grammar once lowercased
    /// (`ErrNameContainsUppercase`).
    #[error("repository name must be lowercase")]
    NameContainsUppercase,
    /// The reference is empty (`ErrNameEmpty`).
    #[error("repository name must have at least one component")]
    NameEmpty,
    /// The full name, domain included, is longer than
    /// [`NAME_TOTAL_LENGTH_MAX`] bytes (`ErrNameTooLong`).
    #[error("repository name must not be more than 255 characters")]
    NameTooLong,
    /// The string is a full 64-hex image ID, not a repository name.
    #[error("invalid repository name ({0}), cannot specify 64-byte hexadecimal strings")]
    ImageIdAsName(String),
    /// A tag given to [`Reference::with_tag`] does not match the tag
    /// grammar (`ErrTagInvalidFormat`).
    #[error("invalid tag format")]
    InvalidTagFormat,
    /// A digest given to [`Reference::with_digest`] does not match the
    /// digest grammar (`ErrDigestInvalidFormat`).
    #[error("invalid digest format")]
    InvalidDigestFormat,
    /// The digest's encoded part is malformed for its algorithm
    /// (go-digest `ErrDigestInvalidFormat`).
    #[error("invalid checksum digest format")]
    InvalidChecksumDigestFormat,
    /// The digest's encoded part has the wrong length for its algorithm
    /// (go-digest `ErrDigestInvalidLength`).
    #[error("invalid checksum digest length")]
    InvalidChecksumDigestLength,
    /// The digest algorithm is well-formed but unknown
    /// (go-digest `ErrDigestUnsupported`).
    #[error("unsupported digest algorithm")]
    UnsupportedDigestAlgorithm,
}

/// A parsed image reference: a repository name (domain and path) with an
/// optional tag and an optional digest.
///
/// `Display` is the full normalized string, e.g.
/// `docker.io/library/busybox:latest`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl Reference {
    /// The registry part: `docker.io`, `localhost:5000`, `127.0.0.1:5000`,
    /// `[::1]:5000`. Empty only in the corner case where the first component
    /// looks like a domain to the normalizer but is not a valid host while
    /// the whole name is a valid path (e.g. `a_b.com/x`), exactly as
    /// distribution/reference behaves.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The repository path inside the registry, e.g. `library/busybox`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The full repository name, `domain/path` (just `path` when the domain
    /// is empty).
    pub fn name(&self) -> String {
        if self.domain.is_empty() {
            self.path.clone()
        } else {
            format!("{}/{}", self.domain, self.path)
        }
    }

    /// The tag, if any.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest (`algorithm:hex`), if any.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// True when the reference has neither tag nor digest
    /// (`reference.IsNameOnly`).
    pub fn is_name_only(&self) -> bool {
        self.tag.is_none() && self.digest.is_none()
    }

    /// The short name users type (`reference.FamiliarName`): `busybox` for
    /// `docker.io/library/busybox`, `user/app` for `docker.io/user/app`, the
    /// full name for any other registry.
    pub fn familiar_name(&self) -> String {
        if self.domain != DEFAULT_DOMAIN {
            return self.name();
        }
        match self.path.strip_prefix(OFFICIAL_REPO_PREFIX) {
            Some(rest) if !rest.contains('/') => rest.to_string(),
            _ => self.path.clone(),
        }
    }

    /// The familiar name followed by `:tag` and/or `@digest`
    /// (`reference.FamiliarString`).
    pub fn familiar_string(&self) -> String {
        let mut s = self.familiar_name();
        self.push_suffix(&mut s);
        s
    }

    /// The same repository with `tag` set, keeping any digest
    /// (`reference.WithTag`). Fails with [`ReferenceError::InvalidTagFormat`].
    pub fn with_tag(&self, tag: &str) -> Result<Reference, ReferenceError> {
        if !is_tag(tag) {
            return Err(ReferenceError::InvalidTagFormat);
        }
        Ok(Reference {
            tag: Some(tag.to_string()),
            ..self.clone()
        })
    }

    /// The same repository with `digest` set, keeping any tag
    /// (`reference.WithDigest`). Fails with
    /// [`ReferenceError::InvalidDigestFormat`] when the digest does not match
    /// the grammar, then with go-digest's errors when it is not a valid
    /// digest (stricter than Go, where the `Digest` is usually already
    /// validated by its caller).
    pub fn with_digest(&self, digest: &str) -> Result<Reference, ReferenceError> {
        if !is_digest_pattern(digest) {
            return Err(ReferenceError::InvalidDigestFormat);
        }
        validate_digest(digest)?;
        Ok(Reference {
            digest: Some(digest.to_string()),
            ..self.clone()
        })
    }

    /// The same repository with the tag and digest removed
    /// (`reference.TrimNamed`).
    pub fn trim_named(&self) -> Reference {
        Reference {
            tag: None,
            digest: None,
            ..self.clone()
        }
    }

    fn push_suffix(&self, s: &mut String) {
        if let Some(tag) = &self.tag {
            s.push(':');
            s.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            s.push('@');
            s.push_str(digest);
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = self.name();
        self.push_suffix(&mut s);
        f.write_str(&s)
    }
}

/// True when `s` is a full image ID: exactly 64 lowercase hex characters
/// (`anchoredIdentifierRegexp`). Such a string is refused as a name.
pub fn is_full_image_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(is_lower_hex)
}

/// Parse a reference as typed by a user and normalize it
/// (`reference.ParseNormalizedNamed`): the first component is the domain
/// when it contains `.` or `:`, is `localhost`, or has uppercase letters;
/// otherwise the domain is `docker.io`, and a one-component Docker Hub path
/// gets `library/`. `index.docker.io` becomes `docker.io`. No default tag
/// is added.
pub fn parse_normalized_named(s: &str) -> Result<Reference, ReferenceError> {
    if is_full_image_id(s) {
        return Err(ReferenceError::ImageIdAsName(s.to_string()));
    }
    let (domain, remainder) = split_docker_domain(s);
    let remote = match remainder.find(':') {
        Some(i) => &remainder[..i],
        None => &remainder[..],
    };
    if remote.to_lowercase() != remote {
        return Err(ReferenceError::RepositoryNameNotLowercase(
            remote.to_string(),
        ));
    }
    parse(&format!("{domain}/{remainder}"))
}

/// Parse a reference the way the daemon resolves images
/// (`ParseDockerRef`): [`parse_normalized_named`], then `:latest` is added
/// when there is neither tag nor digest (`reference.TagNameOnly`). When both
/// a tag and a digest are given the tag is dropped, as upstream does: the
/// digest alone names the content (`name:tag@digest` -> `name@digest`).
pub fn parse_docker_ref(s: &str) -> Result<Reference, ReferenceError> {
    let r = parse_normalized_named(s)?;
    if r.tag().is_some() && r.digest().is_some() {
        return Ok(Reference { tag: None, ..r });
    }
    Ok(tag_name_only(r))
}

/// Add `:latest` to a reference that has neither tag nor digest
/// (`reference.TagNameOnly`); any other reference is returned unchanged.
pub fn tag_name_only(r: Reference) -> Reference {
    if r.is_name_only() {
        Reference {
            tag: Some(DEFAULT_TAG.to_string()),
            ..r
        }
    } else {
        r
    }
}

/// `splitDockerDomain`: returns the domain and the remainder.
fn split_docker_domain(name: &str) -> (String, String) {
    let (mut domain, mut remainder) = match name.find('/') {
        Some(i) => {
            let first = &name[..i];
            if !first.contains(['.', ':']) && first != "localhost" && first.to_lowercase() == first
            {
                (DEFAULT_DOMAIN.to_string(), name.to_string())
            } else {
                (first.to_string(), name[i + 1..].to_string())
            }
        }
        None => (DEFAULT_DOMAIN.to_string(), name.to_string()),
    };
    if domain == LEGACY_DEFAULT_DOMAIN {
        domain = DEFAULT_DOMAIN.to_string();
    }
    if domain == DEFAULT_DOMAIN && !remainder.contains('/') {
        remainder = format!("{OFFICIAL_REPO_PREFIX}{remainder}");
    }
    (domain, remainder)
}

/// `reference.Parse`, restricted to named references (the only kind
/// [`parse_normalized_named`] produces).
fn parse(s: &str) -> Result<Reference, ReferenceError> {
    let Some(m) = match_reference(s) else {
        if s.is_empty() {
            return Err(ReferenceError::NameEmpty);
        }
        if match_reference(&s.to_lowercase()).is_some() {
            return Err(ReferenceError::NameContainsUppercase);
        }
        return Err(ReferenceError::InvalidFormat);
    };
    if m.domain.len() + m.path.len() + usize::from(!m.domain.is_empty()) > NAME_TOTAL_LENGTH_MAX {
        return Err(ReferenceError::NameTooLong);
    }
    if let Some(d) = m.digest {
        validate_digest(d)?;
    }
    Ok(Reference {
        domain: m.domain.to_string(),
        path: m.path.to_string(),
        tag: m.tag.map(str::to_string),
        digest: m.digest.map(str::to_string),
    })
}

/// The captures of `ReferenceRegexp`.
struct Match<'a> {
    domain: &'a str,
    path: &'a str,
    tag: Option<&'a str>,
    digest: Option<&'a str>,
}

/// Match `^(name)(?::(tag))?(?:@(digest))?$`. Only the digest may follow
/// `@`; a `:` whose suffix has no `/` must start the tag (a domain's `:`
/// is always followed by `/path`); the domain, when it matches, wins over
/// reading the first component as part of the path (leftmost-first).
fn match_reference(s: &str) -> Option<Match<'_>> {
    let (rest, digest) = match s.split_once('@') {
        Some((rest, d)) => {
            if !is_digest_pattern(d) {
                return None;
            }
            (rest, Some(d))
        }
        None => (s, None),
    };
    let (name, tag) = match rest.rfind(':') {
        Some(i) if !rest[i + 1..].contains('/') => {
            let t = &rest[i + 1..];
            if !is_tag(t) {
                return None;
            }
            (&rest[..i], Some(t))
        }
        _ => (rest, None),
    };
    if let Some((first, path)) = name.split_once('/') {
        if is_domain_and_port(first) && is_remote_name(path) {
            return Some(Match {
                domain: first,
                path,
                tag,
                digest,
            });
        }
    }
    if is_remote_name(name) {
        return Some(Match {
            domain: "",
            path: name,
            tag,
            digest,
        });
    }
    None
}

fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
fn is_path_component(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    loop {
        let start = i;
        while i < b.len() && is_lower_alnum(b[i]) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i == b.len() {
            return true;
        }
        match b[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if i < b.len() && b[i] == b'_' {
                    i += 1;
                }
            }
            b'-' => {
                while i < b.len() && b[i] == b'-' {
                    i += 1;
                }
            }
            _ => return false,
        }
    }
}

/// `pathComponent(?:/pathComponent)*`
fn is_remote_name(s: &str) -> bool {
    s.split('/').all(is_path_component)
}

/// `[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`
fn is_domain_name_component(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) => {
            f.is_ascii_alphanumeric()
                && l.is_ascii_alphanumeric()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        }
        _ => false,
    }
}

/// `(?:domainName|\[[a-fA-F0-9:]+\])(?::[0-9]+)?`
fn is_domain_and_port(s: &str) -> bool {
    let (host_ok, rest) = if let Some(inner) = s.strip_prefix('[') {
        match inner.find(']') {
            Some(i) => {
                let addr = &inner[..i];
                (
                    !addr.is_empty() && addr.bytes().all(|c| c.is_ascii_hexdigit() || c == b':'),
                    &inner[i + 1..],
                )
            }
            None => return false,
        }
    } else {
        let end = s.find(':').unwrap_or(s.len());
        (s[..end].split('.').all(is_domain_name_component), &s[end..])
    };
    if !host_ok {
        return false;
    }
    if rest.is_empty() {
        return true;
    }
    match rest.strip_prefix(':') {
        Some(port) => !port.is_empty() && port.bytes().all(|c| c.is_ascii_digit()),
        None => false,
    }
}

/// `[\w][\w.-]{0,127}`
fn is_tag(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && is_word(b[0])
        && b[1..]
            .iter()
            .all(|c| is_word(*c) || *c == b'.' || *c == b'-')
}

/// `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`
fn is_digest_pattern(s: &str) -> bool {
    let Some((alg, hex)) = s.split_once(':') else {
        return false;
    };
    let alg_ok = alg.split(['-', '_', '+', '.']).all(|c| {
        let b = c.as_bytes();
        !b.is_empty() && b[0].is_ascii_alphabetic() && b.iter().all(|x| x.is_ascii_alphanumeric())
    });
    alg_ok && hex.len() >= 32 && hex.bytes().all(|c| c.is_ascii_hexdigit())
}

/// go-digest's `DigestRegexpAnchored`:
/// `^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$`
fn is_go_digest_pattern(s: &str) -> bool {
    let Some((alg, enc)) = s.split_once(':') else {
        return false;
    };
    let alg_ok = alg
        .split(['.', '+', '_', '-'])
        .all(|c| !c.is_empty() && c.bytes().all(is_lower_alnum));
    alg_ok
        && !enc.is_empty()
        && enc
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'=' || c == b'_' || c == b'-')
}

/// go-digest's `Digest.Validate` with sha256, sha384 and sha512 available.
fn validate_digest(s: &str) -> Result<(), ReferenceError> {
    let i = match s.find(':') {
        Some(i) if i > 0 && i + 1 < s.len() => i,
        _ => return Err(ReferenceError::InvalidChecksumDigestFormat),
    };
    let (alg, enc) = (&s[..i], &s[i + 1..]);
    let size = match alg {
        "sha256" => 32,
        "sha384" => 48,
        "sha512" => 64,
        _ => {
            return Err(if is_go_digest_pattern(s) {
                ReferenceError::UnsupportedDigestAlgorithm
            } else {
                ReferenceError::InvalidChecksumDigestFormat
            })
        }
    };
    if enc.len() != size * 2 {
        return Err(ReferenceError::InvalidChecksumDigestLength);
    }
    if !enc.bytes().all(is_lower_hex) {
        return Err(ReferenceError::InvalidChecksumDigestFormat);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "7b3ccabffc97de872a30dfd234fd972a66d247c8cfc69b0550f276481852627c";

    fn d() -> String {
        format!("sha256:{HEX}")
    }

    /// (input, parse_docker_ref().to_string(), familiar_string(), domain, path, tag, digest)
    #[allow(clippy::type_complexity)]
    fn valid_cases() -> Vec<(
        String,
        String,
        String,
        &'static str,
        String,
        Option<String>,
        Option<String>,
    )> {
        let dg = d();
        let c = |i: &str,
                 full: &str,
                 fam: &str,
                 dom: &'static str,
                 path: &str,
                 tag: Option<&str>,
                 dig: Option<&str>| {
            (
                i.to_string(),
                full.to_string(),
                fam.to_string(),
                dom,
                path.to_string(),
                tag.map(str::to_string),
                dig.map(str::to_string),
            )
        };
        let a256 = "a".repeat(255 - "docker.io/library/".len());
        vec![
            c(
                "busybox",
                "docker.io/library/busybox:latest",
                "busybox:latest",
                "docker.io",
                "library/busybox",
                Some("latest"),
                None,
            ),
            c(
                "busybox:1.36",
                "docker.io/library/busybox:1.36",
                "busybox:1.36",
                "docker.io",
                "library/busybox",
                Some("1.36"),
                None,
            ),
            c(
                "library/busybox",
                "docker.io/library/busybox:latest",
                "busybox:latest",
                "docker.io",
                "library/busybox",
                Some("latest"),
                None,
            ),
            c(
                "docker.io/busybox",
                "docker.io/library/busybox:latest",
                "busybox:latest",
                "docker.io",
                "library/busybox",
                Some("latest"),
                None,
            ),
            c(
                "docker.io/library/busybox:musl",
                "docker.io/library/busybox:musl",
                "busybox:musl",
                "docker.io",
                "library/busybox",
                Some("musl"),
                None,
            ),
            c(
                "index.docker.io/library/busybox",
                "docker.io/library/busybox:latest",
                "busybox:latest",
                "docker.io",
                "library/busybox",
                Some("latest"),
                None,
            ),
            c(
                "index.docker.io/busybox",
                "docker.io/library/busybox:latest",
                "busybox:latest",
                "docker.io",
                "library/busybox",
                Some("latest"),
                None,
            ),
            c(
                "user/app",
                "docker.io/user/app:latest",
                "user/app:latest",
                "docker.io",
                "user/app",
                Some("latest"),
                None,
            ),
            c(
                "user/app:v1",
                "docker.io/user/app:v1",
                "user/app:v1",
                "docker.io",
                "user/app",
                Some("v1"),
                None,
            ),
            c(
                "library/a/b",
                "docker.io/library/a/b:latest",
                "library/a/b:latest",
                "docker.io",
                "library/a/b",
                Some("latest"),
                None,
            ),
            c(
                "localhost/app",
                "localhost/app:latest",
                "localhost/app:latest",
                "localhost",
                "app",
                Some("latest"),
                None,
            ),
            c(
                "localhost:5000/a/b:t",
                "localhost:5000/a/b:t",
                "localhost:5000/a/b:t",
                "localhost:5000",
                "a/b",
                Some("t"),
                None,
            ),
            c(
                "127.0.0.1:5000/busybox",
                "127.0.0.1:5000/busybox:latest",
                "127.0.0.1:5000/busybox:latest",
                "127.0.0.1:5000",
                "busybox",
                Some("latest"),
                None,
            ),
            c(
                "[::1]:5000/x",
                "[::1]:5000/x:latest",
                "[::1]:5000/x:latest",
                "[::1]:5000",
                "x",
                Some("latest"),
                None,
            ),
            c(
                "[fe80::1]/x:y",
                "[fe80::1]/x:y",
                "[fe80::1]/x:y",
                "[fe80::1]",
                "x",
                Some("y"),
                None,
            ),
            c(
                "example.com/a/b/c",
                "example.com/a/b/c:latest",
                "example.com/a/b/c:latest",
                "example.com",
                "a/b/c",
                Some("latest"),
                None,
            ),
            c(
                "Example.COM/a",
                "Example.COM/a:latest",
                "Example.COM/a:latest",
                "Example.COM",
                "a",
                Some("latest"),
                None,
            ),
            c(
                "my-reg.example.com:443/team/app:1.0.0-rc.1",
                "my-reg.example.com:443/team/app:1.0.0-rc.1",
                "my-reg.example.com:443/team/app:1.0.0-rc.1",
                "my-reg.example.com:443",
                "team/app",
                Some("1.0.0-rc.1"),
                None,
            ),
            c(
                "host:5000/x",
                "host:5000/x:latest",
                "host:5000/x:latest",
                "host:5000",
                "x",
                Some("latest"),
                None,
            ),
            c(
                &format!("busybox@{dg}"),
                &format!("docker.io/library/busybox@{dg}"),
                &format!("busybox@{dg}"),
                "docker.io",
                "library/busybox",
                None,
                Some(&dg),
            ),
            c(
                &format!("busybox:1.36@{dg}"),
                &format!("docker.io/library/busybox@{dg}"),
                &format!("busybox@{dg}"),
                "docker.io",
                "library/busybox",
                None,
                Some(&dg),
            ),
            c(
                &format!("localhost:5000/x@{dg}"),
                &format!("localhost:5000/x@{dg}"),
                &format!("localhost:5000/x@{dg}"),
                "localhost:5000",
                "x",
                None,
                Some(&dg),
            ),
            c(
                "a_b",
                "docker.io/library/a_b:latest",
                "a_b:latest",
                "docker.io",
                "library/a_b",
                Some("latest"),
                None,
            ),
            c(
                "a__b",
                "docker.io/library/a__b:latest",
                "a__b:latest",
                "docker.io",
                "library/a__b",
                Some("latest"),
                None,
            ),
            c(
                "a-b",
                "docker.io/library/a-b:latest",
                "a-b:latest",
                "docker.io",
                "library/a-b",
                Some("latest"),
                None,
            ),
            c(
                "a--b",
                "docker.io/library/a--b:latest",
                "a--b:latest",
                "docker.io",
                "library/a--b",
                Some("latest"),
                None,
            ),
            c(
                "a.b",
                "docker.io/library/a.b:latest",
                "a.b:latest",
                "docker.io",
                "library/a.b",
                Some("latest"),
                None,
            ),
            c(
                "a.b/c",
                "a.b/c:latest",
                "a.b/c:latest",
                "a.b",
                "c",
                Some("latest"),
                None,
            ),
            c(
                "a0/b1.c-d_e__f",
                "docker.io/a0/b1.c-d_e__f:latest",
                "a0/b1.c-d_e__f:latest",
                "docker.io",
                "a0/b1.c-d_e__f",
                Some("latest"),
                None,
            ),
            c(
                "busybox:UPPER_tag",
                "docker.io/library/busybox:UPPER_tag",
                "busybox:UPPER_tag",
                "docker.io",
                "library/busybox",
                Some("UPPER_tag"),
                None,
            ),
            c(
                "busybox:_x",
                "docker.io/library/busybox:_x",
                "busybox:_x",
                "docker.io",
                "library/busybox",
                Some("_x"),
                None,
            ),
            c(
                "FOO/bar",
                "FOO/bar:latest",
                "FOO/bar:latest",
                "FOO",
                "bar",
                Some("latest"),
                None,
            ),
            c(
                "localhost",
                "docker.io/library/localhost:latest",
                "localhost:latest",
                "docker.io",
                "library/localhost",
                Some("latest"),
                None,
            ),
            c(
                "localhost:5000",
                "docker.io/library/localhost:5000",
                "localhost:5000",
                "docker.io",
                "library/localhost",
                Some("5000"),
                None,
            ),
            c(
                "docker.io/user/app",
                "docker.io/user/app:latest",
                "user/app:latest",
                "docker.io",
                "user/app",
                Some("latest"),
                None,
            ),
            c(
                "quay.io/library/busybox",
                "quay.io/library/busybox:latest",
                "quay.io/library/busybox:latest",
                "quay.io",
                "library/busybox",
                Some("latest"),
                None,
            ),
            c(
                &a256,
                &format!("docker.io/library/{a256}:latest"),
                &format!("{a256}:latest"),
                "docker.io",
                &format!("library/{a256}"),
                Some("latest"),
                None,
            ),
            c(
                &format!("busybox:{}", "t".repeat(128)),
                &format!("docker.io/library/busybox:{}", "t".repeat(128)),
                &format!("busybox:{}", "t".repeat(128)),
                "docker.io",
                "library/busybox",
                Some(&"t".repeat(128)),
                None,
            ),
            c(
                &format!("busybox@sha512:{HEX}{HEX}"),
                &format!("docker.io/library/busybox@sha512:{HEX}{HEX}"),
                &format!("busybox@sha512:{HEX}{HEX}"),
                "docker.io",
                "library/busybox",
                None,
                Some(&format!("sha512:{HEX}{HEX}")),
            ),
        ]
    }

    #[test]
    fn valid_references() {
        let cases = valid_cases();
        assert!(cases.len() >= 30);
        for (input, full, fam, dom, path, tag, dig) in cases {
            let r = parse_docker_ref(&input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(r.to_string(), full, "to_string of {input}");
            assert_eq!(r.familiar_string(), fam, "familiar_string of {input}");
            assert_eq!(r.domain(), dom, "domain of {input}");
            assert_eq!(r.path(), path, "path of {input}");
            assert_eq!(r.name(), format!("{dom}/{path}"), "name of {input}");
            assert_eq!(r.tag().map(str::to_string), tag, "tag of {input}");
            assert_eq!(r.digest().map(str::to_string), dig, "digest of {input}");
        }
    }

    #[test]
    fn normalized_named_adds_no_tag() {
        let r = parse_normalized_named("busybox").unwrap();
        assert_eq!(r.tag(), None);
        assert!(r.is_name_only());
        assert_eq!(r.to_string(), "docker.io/library/busybox");
        assert_eq!(r.familiar_string(), "busybox");
        assert_eq!(r.familiar_name(), "busybox");
        let r = parse_normalized_named("host:5000/x").unwrap();
        assert_eq!(r.tag(), None);
        assert_eq!(r.domain(), "host:5000");
        let r = parse_normalized_named(&format!("busybox@{}", d())).unwrap();
        assert_eq!(r.tag(), None);
        assert_eq!(
            parse_docker_ref(&format!("busybox@{}", d())).unwrap().tag(),
            None
        );
    }

    #[test]
    fn familiar_names() {
        let f = |s: &str| parse_normalized_named(s).unwrap().familiar_name();
        assert_eq!(f("docker.io/library/busybox"), "busybox");
        assert_eq!(f("docker.io/user/app"), "user/app");
        assert_eq!(f("docker.io/library/a/b"), "library/a/b");
        assert_eq!(
            f("localhost:5000/library/busybox"),
            "localhost:5000/library/busybox"
        );
        assert_eq!(f("ghcr.io/o/r"), "ghcr.io/o/r");
    }

    #[test]
    fn invalid_references() {
        use ReferenceError as E;
        let long = "a".repeat(256);
        let fits_not = "a".repeat(255 - "docker.io/library/".len() + 1);
        let hex_msg =
            format!("invalid repository name ({HEX}), cannot specify 64-byte hexadecimal strings");
        let cases: Vec<(String, ReferenceError, &str)> = vec![
            (
                "Busybox".into(),
                E::RepositoryNameNotLowercase("library/Busybox".into()),
                "invalid reference format: repository name (library/Busybox) must be lowercase",
            ),
            (
                "UPPER:tag".into(),
                E::RepositoryNameNotLowercase("library/UPPER".into()),
                "invalid reference format: repository name (library/UPPER) must be lowercase",
            ),
            (
                "user/App".into(),
                E::RepositoryNameNotLowercase("user/App".into()),
                "invalid reference format: repository name (user/App) must be lowercase",
            ),
            (
                "localhost:5000/Foo".into(),
                E::RepositoryNameNotLowercase("Foo".into()),
                "invalid reference format: repository name (Foo) must be lowercase",
            ),
            (
                "busybox:".into(),
                E::InvalidFormat,
                "invalid reference format",
            ),
            (":tag".into(), E::InvalidFormat, "invalid reference format"),
            ("a//b".into(), E::InvalidFormat, "invalid reference format"),
            ("-a".into(), E::InvalidFormat, "invalid reference format"),
            ("a-".into(), E::InvalidFormat, "invalid reference format"),
            ("a___b".into(), E::InvalidFormat, "invalid reference format"),
            ("a..b".into(), E::InvalidFormat, "invalid reference format"),
            ("a/".into(), E::InvalidFormat, "invalid reference format"),
            ("/a".into(), E::InvalidFormat, "invalid reference format"),
            (
                "host:port/".into(),
                E::InvalidFormat,
                "invalid reference format",
            ),
            (
                "host:5000/".into(),
                E::InvalidFormat,
                "invalid reference format",
            ),
            (
                "host:port/x".into(),
                E::InvalidFormat,
                "invalid reference format",
            ),
            (
                "-host.com/x".into(),
                E::InvalidFormat,
                "invalid reference format",
            ),
            ("".into(), E::InvalidFormat, "invalid reference format"),
            (
                "busybox:-tag".into(),
                E::InvalidFormat,
                "invalid reference format",
            ),
            (
                "busybox:a:b".into(),
                E::InvalidFormat,
                "invalid reference format",
            ),
            (
                format!("busybox:{}", "t".repeat(129)),
                E::InvalidFormat,
                "invalid reference format",
            ),
            (
                "busybox@".into(),
                E::InvalidFormat,
                "invalid reference format",
            ),
            (
                "busybox@sha256:abc".into(),
                E::InvalidFormat,
                "invalid reference format",
            ),
            (
                format!("busybox@{}@{}", d(), d()),
                E::InvalidFormat,
                "invalid reference format",
            ),
            (
                "busybox@sha256:".to_string() + &"a".repeat(32),
                E::InvalidChecksumDigestLength,
                "invalid checksum digest length",
            ),
            (
                "busybox@sha256:".to_string() + &"A".repeat(64),
                E::InvalidChecksumDigestFormat,
                "invalid checksum digest format",
            ),
            (
                "busybox@md5:".to_string() + &"a".repeat(32),
                E::UnsupportedDigestAlgorithm,
                "unsupported digest algorithm",
            ),
            (
                long.clone(),
                E::NameTooLong,
                "repository name must not be more than 255 characters",
            ),
            (
                fits_not,
                E::NameTooLong,
                "repository name must not be more than 255 characters",
            ),
            (
                format!("example.com/{}", "a".repeat(244)),
                E::NameTooLong,
                "repository name must not be more than 255 characters",
            ),
            (HEX.into(), E::ImageIdAsName(HEX.into()), &hex_msg),
        ];
        assert!(cases.len() >= 15);
        for (input, err, msg) in cases {
            let got = parse_normalized_named(&input).expect_err(&input);
            assert_eq!(got, err, "error for {input:?}");
            assert_eq!(got.to_string(), msg, "message for {input:?}");
            assert_eq!(parse_docker_ref(&input).expect_err(&input), err);
        }
    }

    #[test]
    fn name_exactly_at_limit_is_accepted() {
        let ok = format!("example.com/{}", "a".repeat(255 - "example.com/".len()));
        assert_eq!(parse_normalized_named(&ok).unwrap().name().len(), 255);
    }

    #[test]
    fn plain_parse_errors() {
        assert_eq!(parse(""), Err(ReferenceError::NameEmpty));
        assert_eq!(
            ReferenceError::NameEmpty.to_string(),
            "repository name must have at least one component"
        );
        assert_eq!(parse("Busybox"), Err(ReferenceError::NameContainsUppercase));
        assert_eq!(
            ReferenceError::NameContainsUppercase.to_string(),
            "repository name must be lowercase"
        );
        // Without a normalized domain, a bare name has an empty domain.
        let r = parse("busybox").unwrap();
        assert_eq!((r.domain(), r.name()), ("", "busybox".to_string()));
    }

    #[test]
    fn domain_like_but_invalid_host_falls_back_to_path() {
        // distribution/reference: "a_b.com" is not a host but is a path component.
        let r = parse_normalized_named("a_b.com/x").unwrap();
        assert_eq!(r.domain(), "");
        assert_eq!(r.path(), "a_b.com/x");
        assert_eq!(r.to_string(), "a_b.com/x");
    }

    #[test]
    fn uppercase_after_at_is_reported_with_remote() {
        // The remote name is cut at the first ':' only, as in distribution.
        let err = parse_normalized_named(&format!("busybox@SHA256:{HEX}")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid reference format: repository name (library/busybox@SHA256) must be lowercase"
        );
    }

    #[test]
    fn with_tag_and_digest() {
        let r = parse_normalized_named("busybox").unwrap();
        assert_eq!(
            r.with_tag("1.36").unwrap().to_string(),
            "docker.io/library/busybox:1.36"
        );
        assert_eq!(r.with_tag("-x"), Err(ReferenceError::InvalidTagFormat));
        assert_eq!(
            ReferenceError::InvalidTagFormat.to_string(),
            "invalid tag format"
        );
        // Only parse_docker_ref drops the tag of name:tag@digest.
        let both = parse_normalized_named(&format!("busybox:1.36@{}", d())).unwrap();
        assert_eq!(both.tag(), Some("1.36"));
        assert_eq!(both.digest(), Some(d().as_str()));
        let dr = r.with_tag("t").unwrap().with_digest(&d()).unwrap();
        assert_eq!(
            dr.to_string(),
            format!("docker.io/library/busybox:t@{}", d())
        );
        assert_eq!(dr.trim_named().to_string(), "docker.io/library/busybox");
        assert_eq!(
            r.with_digest("sha256:abc"),
            Err(ReferenceError::InvalidDigestFormat)
        );
        assert_eq!(
            ReferenceError::InvalidDigestFormat.to_string(),
            "invalid digest format"
        );
        assert_eq!(
            r.with_digest(&format!("sha256:{}", "a".repeat(40))),
            Err(ReferenceError::InvalidChecksumDigestLength)
        );
        assert_eq!(
            r.with_digest(&format!("sha384:{HEX}{}", &HEX[..32]))
                .unwrap()
                .digest()
                .unwrap()
                .len(),
            7 + 96
        );
        assert_eq!(
            r.with_digest(&format!("Foo:{HEX}")),
            Err(ReferenceError::InvalidChecksumDigestFormat)
        );
    }

    #[test]
    fn full_image_id() {
        assert!(is_full_image_id(HEX));
        assert!(!is_full_image_id(&HEX[..63]));
        assert!(!is_full_image_id(&HEX.to_uppercase()));
        assert!(!is_full_image_id(&d()));
        // 63 hex chars are a valid (if odd) repository name.
        assert!(parse_normalized_named(&HEX[..63]).is_ok());
    }

    #[test]
    fn grammar_helpers() {
        assert!(is_domain_and_port("localhost"));
        assert!(is_domain_and_port("127.0.0.1:5000"));
        assert!(is_domain_and_port("[::1]"));
        assert!(!is_domain_and_port("[]:5000"));
        assert!(!is_domain_and_port("[::1"));
        assert!(!is_domain_and_port("host:"));
        assert!(!is_domain_and_port("a..b"));
        assert!(!is_domain_and_port("a-.b"));
        assert!(!is_path_component("a-_b"));
        assert!(is_digest_pattern(&format!("a+b.c-d_e:{HEX}")));
        assert!(!is_digest_pattern(&format!("1a:{HEX}")));
        assert!(!is_digest_pattern(&format!("a-:{HEX}")));
    }
}
