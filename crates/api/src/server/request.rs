//! Reading requests the way moby's `httputils` does: query values
//! (`BoolValue`, integers), and JSON bodies (`CheckForJSON`, `ReadJSON`)
//! with a size limit.

use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use super::error::HttpError;
use super::ApiError;
use crate::types::filters::Filters;

/// The largest JSON request body accepted (413 above).
pub const MAX_JSON_BODY: usize = 4 << 20;

/// A request's query string as key/value pairs in order ([`Query::get`]
/// takes the first, as Go's `Form.Get`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    /// Parses a raw query string; a malformed one (including a `%` not
    /// followed by two hex digits, which Go's `url.ParseQuery` refuses and
    /// `form_urlencoded` would keep literally) is InvalidParameter.
    pub(crate) fn parse(raw: Option<&str>) -> Result<Self, HttpError> {
        match raw {
            None | Some("") => Ok(Query::default()),
            Some(q) => {
                check_escapes(q)?;
                serde_urlencoded::from_str(q)
                    .map(Query)
                    .map_err(|e| ApiError::invalid(format!("invalid query: {e}")).into())
            }
        }
    }

    /// The first value of `key`, as Go's `Form.Get`; `""` when absent.
    pub(crate) fn get(&self, key: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of `key`, in order (Go's `Form[key]`).
    pub(crate) fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The value of `key` when present and not empty.
    pub(crate) fn opt(&self, key: &str) -> Option<String> {
        Some(self.get(key))
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }

    /// moby's `BoolValue`: true unless absent, empty, `0`, `no`, `false`
    /// or `none` (any case).
    pub(crate) fn bool(&self, key: &str) -> bool {
        let v = self.get(key).trim().to_ascii_lowercase();
        !matches!(v.as_str(), "" | "0" | "no" | "false" | "none")
    }

    /// moby's `BoolValueOrDefault`: `default` when absent or empty.
    pub(crate) fn bool_or(&self, key: &str, default: bool) -> bool {
        if self.get(key).is_empty() {
            default
        } else {
            self.bool(key)
        }
    }

    /// An integer value; absent or empty is `None`, anything else that is
    /// not an integer is InvalidParameter naming the parameter.
    pub(crate) fn int(&self, key: &str) -> Result<Option<i64>, HttpError> {
        let v = self.get(key);
        if v.is_empty() {
            return Ok(None);
        }
        v.trim().parse().map(Some).map_err(|_| {
            ApiError::invalid(format!("invalid value for {key}: {v:?} is not an integer")).into()
        })
    }

    /// The `filters` parameter.
    pub(crate) fn filters(&self) -> Result<Filters, HttpError> {
        Ok(Filters::from_json(self.get("filters"))?)
    }

    /// The `platform` parameter when present, checked as moby's router
    /// checks it (containerd's `platforms.Parse`) before anything is done.
    pub(crate) fn platform(&self) -> Result<Option<String>, HttpError> {
        let Some(p) = self.opt("platform") else {
            return Ok(None);
        };
        check_platform(&p)?;
        Ok(Some(p))
    }
}

/// Refuses a `%` escape that is not two hex digits, with Go's message.
fn check_escapes(q: &str) -> Result<(), HttpError> {
    let b = q.as_bytes();
    for (i, _) in q.match_indices('%') {
        let ok = b.len() > i + 2 && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit();
        if !ok {
            // Byte slicing may split a UTF-8 sequence: show it lossily.
            let bad = String::from_utf8_lossy(&b[i..(i + 3).min(b.len())]);
            return Err(ApiError::invalid(format!("invalid URL escape \"{bad}\"")).into());
        }
    }
    Ok(())
}

/// Operating systems containerd knows (a platform of one component may
/// name one of these).
const KNOWN_OS: [&str; 17] = [
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "hurd",
    "illumos",
    "ios",
    "js",
    "linux",
    "nacl",
    "netbsd",
    "openbsd",
    "plan9",
    "solaris",
    "windows",
    "zos",
];

/// Architectures containerd knows, and the aliases it normalizes.
const KNOWN_ARCH: [&str; 31] = [
    "386",
    "amd64",
    "amd64p32",
    "arm",
    "armbe",
    "arm64",
    "arm64be",
    "ppc64",
    "ppc64le",
    "loong64",
    "mips",
    "mipsle",
    "mips64",
    "mips64le",
    "mips64p32",
    "mips64p32le",
    "ppc",
    "riscv",
    "riscv64",
    "s390",
    "s390x",
    "sparc",
    "sparc64",
    "wasm",
    "x86_64",
    "x86-64",
    "aarch64",
    "i386",
    "i686",
    "armhf",
    "armel",
];

/// containerd's `platforms.Parse` rules: `os/arch[/variant]` of
/// `[A-Za-z0-9_-]+` components, or one component naming a known OS or
/// architecture. Anything else is InvalidParameter with its wording.
fn check_platform(p: &str) -> Result<(), HttpError> {
    let bad = |why: &str| -> HttpError {
        ApiError::invalid(format!("\"{p}\": {why}: invalid argument")).into()
    };
    let parts: Vec<&str> = p.split('/').collect();
    let specifier = |s: &&str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    if let Some(part) = parts.iter().find(|s| !specifier(s)) {
        return Err(ApiError::invalid(format!(
            "\"{part}\" is an invalid component of \"{p}\": platform specifier component \
             must match \"^[A-Za-z0-9_-]+$\": invalid argument"
        ))
        .into());
    }
    match parts.as_slice() {
        [one] => {
            let one = one.to_ascii_lowercase();
            if KNOWN_OS.contains(&one.as_str()) || KNOWN_ARCH.contains(&one.as_str()) {
                Ok(())
            } else {
                Err(bad("unknown operating system or architecture"))
            }
        }
        [_, _] | [_, _, _] => Ok(()),
        _ => Err(bad("cannot parse platform specifier")),
    }
}

/// moby's `CheckForJSON`: a body needs `Content-Type: application/json`
/// (parameters allowed); no body needs nothing.
fn check_for_json(headers: &HeaderMap, body_is_empty: bool) -> Result<(), HttpError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("\u{fffd}"))
        .unwrap_or("");
    if ct.is_empty() && body_is_empty {
        return Ok(());
    }
    let mime = ct.split(';').next().unwrap_or("").trim();
    if mime.eq_ignore_ascii_case("application/json") {
        return Ok(());
    }
    if mime.is_empty() || !mime.contains('/') {
        return Err(ApiError::invalid(format!(
            "malformed Content-Type header ({ct}): mime: no media type"
        ))
        .into());
    }
    Err(ApiError::invalid(format!(
        "unsupported Content-Type header ({ct}): must be 'application/json'"
    ))
    .into())
}

/// Reads the whole body, at most `limit` bytes (413 above, without
/// reading further).
pub(crate) async fn read_body(body: Body, limit: usize) -> Result<bytes::Bytes, HttpError> {
    use futures_util::StreamExt;
    let too_big = || {
        HttpError::with_status(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body too large: more than {limit} bytes"),
        )
    };
    let mut stream = body.into_data_stream();
    let mut buf = bytes::BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            HttpError::from(ApiError::invalid(format!("reading request body: {e}")))
        })?;
        if buf.len() + chunk.len() > limit {
            return Err(too_big());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// Reads a JSON body with `decode`. An empty body is `None` (moby's
/// `ReadJSON` leaves the zero value); a syntax or type error is
/// InvalidParameter naming the field; a wrong content type is
/// InvalidParameter; more than [`MAX_JSON_BODY`] is 413.
pub(crate) async fn read_json<T>(
    headers: &HeaderMap,
    body: Body,
    decode: impl FnOnce(&[u8]) -> Result<T, crate::types::DecodeError>,
) -> Result<Option<T>, HttpError> {
    let bytes = read_body(body, MAX_JSON_BODY).await?;
    check_for_json(headers, bytes.is_empty())?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    Ok(Some(decode(&bytes)?))
}

/// [`read_json`] with [`crate::types::decode`].
pub(crate) async fn read_json_default<T: DeserializeOwned + Default>(
    headers: &HeaderMap,
    body: Body,
) -> Result<T, HttpError> {
    Ok(read_json(headers, body, crate::types::decode)
        .await?
        .unwrap_or_default())
}
