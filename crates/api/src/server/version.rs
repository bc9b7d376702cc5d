//! The `/v1.NN` path prefix and moby's version middleware: requests
//! without a prefix get [`API_VERSION`]; a version above it or below
//! [`MIN_API_VERSION`] is a 400 with Docker's message.

use std::cmp::Ordering;

use axum::extract::Request;
use axum::http::{HeaderValue, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::HttpError;
use super::ApiError;
use crate::types::system::{API_VERSION, MIN_API_VERSION};

/// The API version a request asked for (its `/v1.NN` prefix), or `None`
/// without a prefix. Stored in the request's extensions by the router.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedVersion(pub Option<String>);

impl RequestedVersion {
    /// The version the request is served at: the one asked for, else
    /// [`API_VERSION`].
    pub fn effective(&self) -> &str {
        self.0.as_deref().unwrap_or(API_VERSION)
    }
}

/// Compares `major.minor[.patch]` versions numerically, as moby's
/// `versions.compare` (missing or non-numeric parts count as 0).
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let parts = |s: &str| -> Vec<u64> { s.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    let (a, b) = (parts(a), parts(b));
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (
            a.get(i).copied().unwrap_or(0),
            b.get(i).copied().unwrap_or(0),
        );
        match x.cmp(&y) {
            Ordering::Equal => {}
            o => return o,
        }
    }
    Ordering::Equal
}

/// Splits `/v1.44/containers/json` into `("1.44", "/containers/json")`
/// (moby's `/v{version:[0-9.]+}` matcher). `None` when there is no prefix.
fn split_version(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("/v")?;
    let end = rest.find('/').unwrap_or(rest.len());
    let (version, tail) = rest.split_at(end);
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    Some((version, if tail.is_empty() { "/" } else { tail }))
}

/// Outer middleware (before routing): strips a `/v1.NN` prefix from the
/// URI and records it as [`RequestedVersion`].
pub(crate) async fn strip_prefix(mut req: Request, next: Next) -> Response {
    let uri = req.uri().clone();
    let requested = match split_version(uri.path()) {
        None => RequestedVersion(None),
        Some((version, rest)) => {
            let version = version.to_string();
            let path_and_query = match uri.query() {
                Some(q) => format!("{rest}?{q}"),
                None => rest.to_string(),
            };
            let mut parts = uri.into_parts();
            parts.path_and_query = path_and_query.parse().ok();
            if let Ok(new) = Uri::from_parts(parts) {
                *req.uri_mut() = new;
            }
            RequestedVersion(Some(version))
        }
    };
    req.extensions_mut().insert(requested);
    next.run(req).await
}

/// Route middleware (matched routes only, as moby's): rejects versions out
/// of range and sets the `Server`, `Api-Version`, `OSType` and
/// `Docker-Experimental` headers on every answer.
pub(crate) async fn check(req: Request, next: Next) -> Response {
    let requested = req
        .extensions()
        .get::<RequestedVersion>()
        .cloned()
        .unwrap_or(RequestedVersion(None));
    let version = requested.effective().to_string();
    let mut response = if compare_versions(&version, MIN_API_VERSION) == Ordering::Less {
        let mut e = HttpError::from(ApiError::invalid(format!(
            "client version {version} is too old. Minimum supported API version is \
             {MIN_API_VERSION}, please upgrade your client to a newer version"
        )));
        // moby answers clients this old in plain text: they would print
        // JSON as is.
        e.plain = true;
        e.into_response()
    } else if compare_versions(&version, API_VERSION) == Ordering::Greater {
        HttpError::from(ApiError::invalid(format!(
            "client version {version} is too new. Maximum supported API version is {API_VERSION}"
        )))
        .into_response()
    } else {
        next.run(req).await
    };
    let h = response.headers_mut();
    h.insert(
        "Server",
        HeaderValue::from_static(concat!("Berth/", env!("CARGO_PKG_VERSION"), " (linux)")),
    );
    h.insert("Api-Version", HeaderValue::from_static(API_VERSION));
    h.insert("OSType", HeaderValue::from_static("linux"));
    h.insert("Docker-Experimental", HeaderValue::from_static("false"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(compare_versions("1.9", "1.24"), Ordering::Less);
        assert_eq!(compare_versions("1.49", "1.49"), Ordering::Equal);
        assert_eq!(compare_versions("1.50", "1.49"), Ordering::Greater);
        assert_eq!(compare_versions("2", "1.99"), Ordering::Greater);
        assert_eq!(compare_versions("1.24.0", "1.24"), Ordering::Equal);
    }

    #[test]
    fn prefixes_split() {
        assert_eq!(
            split_version("/v1.44/containers/json"),
            Some(("1.44", "/containers/json"))
        );
        assert_eq!(split_version("/v1.44"), Some(("1.44", "/")));
        assert_eq!(split_version("/version"), None);
        assert_eq!(split_version("/vx/_ping"), None);
        assert_eq!(split_version("/containers/json"), None);
    }
}
