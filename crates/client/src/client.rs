//! [`Client`]: requests to the Engine API with the negotiated version
//! prefix, Docker's error decoding, JSON bodies, streams and hijacking.

use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_TYPE, HOST, UPGRADE};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use crate::error::{ClientError, Result};
use crate::host::Host;
use crate::stream::{ByteStream, MAX_BODY};
use crate::transport::{host_header, send};
use crate::version::negotiate;

/// A connection stream taken over after `101 Switching Protocols` (attach,
/// exec start): the process's stdin one way, its output the other.
pub type Hijacked = TokioIo<hyper::upgrade::Upgraded>;

/// What `GET /_ping` tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ping {
    /// The daemon's newest API version (`Api-Version`).
    pub api_version: Option<String>,
    /// `OSType` (`linux`).
    pub os_type: Option<String>,
    /// `Docker-Experimental`.
    pub experimental: bool,
}

/// One request: method, path (without the version prefix), query, body.
#[derive(Debug, Clone)]
pub struct Call {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    body: Option<(Bytes, &'static str)>,
    headers: Vec<(String, String)>,
}

impl Call {
    /// A request for `path` (e.g. `/containers/json`).
    pub fn new(method: Method, path: impl Into<String>) -> Call {
        Call {
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
            headers: Vec::new(),
        }
    }

    /// Adds a query parameter.
    pub fn query(mut self, key: &str, value: impl ToString) -> Call {
        self.query.push((key.to_string(), value.to_string()));
        self
    }

    /// Adds a query parameter when `value` is `Some`.
    pub fn query_opt(self, key: &str, value: Option<impl ToString>) -> Call {
        match value {
            Some(v) => self.query(key, v),
            None => self,
        }
    }

    /// Adds a header.
    pub fn header(mut self, key: &str, value: impl Into<String>) -> Call {
        self.headers.push((key.to_string(), value.into()));
        self
    }

    /// Sends `body` as JSON.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Result<Call> {
        let data = serde_json::to_vec(body).map_err(|e| ClientError::Encode(e.to_string()))?;
        self.body = Some((Bytes::from(data), "application/json"));
        Ok(self)
    }

    /// Sends raw bytes (`application/x-tar` for archives).
    pub fn bytes(mut self, data: Bytes, content_type: &'static str) -> Call {
        self.body = Some((data, content_type));
        self
    }

    fn uri(&self, version: Option<&str>) -> String {
        let mut uri = match version {
            Some(v) => format!("/v{v}{}", self.path),
            None => self.path.clone(),
        };
        if !self.query.is_empty() {
            uri.push('?');
            let pairs: Vec<String> = self
                .query
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect();
            uri.push_str(&pairs.join("&"));
        }
        uri
    }
}

/// Percent-encodes a query component or a path segment.
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Deserialize)]
struct ErrorBody {
    message: String,
}

/// A client of one daemon.
#[derive(Debug)]
pub struct Client {
    host: Host,
    version: OnceCell<String>,
}

impl Client {
    /// A client for `host`; the API version is negotiated on first use.
    pub fn new(host: Host) -> Client {
        Client {
            host,
            version: OnceCell::new(),
        }
    }

    /// A client for `BERTH_HOST` / `DOCKER_HOST` / the default socket.
    pub fn from_env() -> Result<Client> {
        Ok(Client::new(Host::from_env()?))
    }

    /// A client pinned to API `version` (no negotiation).
    pub fn with_version(host: Host, version: &str) -> Client {
        Client {
            host,
            version: OnceCell::new_with(Some(version.to_string())),
        }
    }

    /// The daemon address.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// `GET /_ping`.
    pub async fn ping(&self) -> Result<Ping> {
        let resp = self.raw(Call::new(Method::GET, "/_ping"), None).await?;
        let resp = check(resp).await?;
        let header = |k: &str| {
            resp.headers()
                .get(k)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        Ok(Ping {
            api_version: header("Api-Version"),
            os_type: header("OSType"),
            experimental: header("Docker-Experimental").as_deref() == Some("true"),
        })
    }

    /// The API version requests use: the daemon's, if older than ours.
    pub async fn api_version(&self) -> Result<String> {
        self.version
            .get_or_try_init(|| async {
                let ping = self.ping().await?;
                Ok(negotiate(ping.api_version.as_deref()))
            })
            .await
            .cloned()
    }

    async fn raw(&self, call: Call, version: Option<&str>) -> Result<Response<Incoming>> {
        let body = match &call.body {
            Some((data, _)) => data.clone(),
            None => Bytes::new(),
        };
        let req = self.request(&call, version, Full::new(body))?;
        send(&self.host, req).await
    }

    /// The HTTP request for `call` with `body`: the versioned URI, the
    /// headers every request carries, the call's own headers and its
    /// content type.
    fn request<B>(&self, call: &Call, version: Option<&str>, body: B) -> Result<Request<B>> {
        let mut req = Request::builder()
            .method(call.method.clone())
            .uri(call.uri(version))
            .header(HOST, host_header(&self.host))
            .header(
                "User-Agent",
                concat!("berth-client/", env!("CARGO_PKG_VERSION")),
            );
        for (k, v) in &call.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        if let Some((_, content_type)) = &call.body {
            req = req.header(CONTENT_TYPE, *content_type);
        }
        req.body(body)
            .map_err(|e| ClientError::Encode(e.to_string()))
    }

    /// Sends `call` (versioned) with `body` streamed as `content_type`
    /// (an upload too large to hold in memory, as `docker load`'s tar);
    /// an error status is [`ClientError::Api`], as for [`Client::send`].
    pub async fn send_stream<S>(
        &self,
        call: Call,
        content_type: &'static str,
        body: S,
    ) -> Result<Response<Incoming>>
    where
        S: futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static,
    {
        use futures_util::TryStreamExt;
        let version = self.api_version().await?;
        let call = call.bytes(Bytes::new(), content_type);
        let body = http_body_util::StreamBody::new(body.map_ok(hyper::body::Frame::data));
        let req = self.request(&call, Some(&version), body)?;
        check(send(&self.host, req).await?).await
    }

    /// Sends `call` (versioned); an error status becomes
    /// [`ClientError::Api`] with the daemon's message.
    pub async fn send(&self, call: Call) -> Result<Response<Incoming>> {
        let version = self.api_version().await?;
        check(self.raw(call, Some(&version)).await?).await
    }

    /// Sends `call` and decodes a JSON answer.
    pub async fn json<T: DeserializeOwned>(&self, call: Call) -> Result<T> {
        let body = ByteStream::new(self.send(call).await?.into_body())
            .collect(MAX_BODY)
            .await?;
        serde_json::from_slice(&body).map_err(|e| ClientError::Decode(e.to_string()))
    }

    /// Sends `call` and ignores the body.
    pub async fn empty(&self, call: Call) -> Result<()> {
        ByteStream::new(self.send(call).await?.into_body())
            .collect(MAX_BODY)
            .await?;
        Ok(())
    }

    /// Sends `call` asking to take the connection over (`Upgrade: tcp`),
    /// as attach and exec start do; the daemon answers `101`.
    pub async fn hijack(&self, call: Call) -> Result<Hijacked> {
        let call = call
            .header(CONNECTION.as_str(), "Upgrade")
            .header(UPGRADE.as_str(), "tcp");
        let resp = self.send(call).await?;
        if resp.status() != StatusCode::SWITCHING_PROTOCOLS {
            return Err(ClientError::Decode(format!(
                "expected 101 Switching Protocols, got {}",
                resp.status()
            )));
        }
        let upgraded = hyper::upgrade::on(resp)
            .await
            .map_err(|e| ClientError::Http(e.to_string()))?;
        Ok(TokioIo::new(upgraded))
    }
}

/// Turns an error status (400 and above, as Docker's client judges) into
/// [`ClientError::Api`]; `304 Not Modified` (start a running container,
/// stop a stopped one) is not an error.
async fn check(resp: Response<Incoming>) -> Result<Response<Incoming>> {
    let status = resp.status();
    if status.as_u16() < 400 {
        return Ok(resp);
    }
    let body = ByteStream::new(resp.into_body())
        .collect(MAX_BODY)
        .await
        .unwrap_or_default();
    let message = match serde_json::from_slice::<ErrorBody>(&body) {
        Ok(e) => e.message,
        Err(_) => String::from_utf8_lossy(&body).trim().to_string(),
    };
    Err(ClientError::Api {
        status: status.as_u16(),
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_carry_the_version_and_encoded_query() {
        let call = Call::new(Method::GET, "/containers/json")
            .query("all", 1)
            .query("filters", r#"{"name":["a b"]}"#)
            .query_opt("limit", None::<u32>);
        assert_eq!(
            call.uri(Some("1.44")),
            "/v1.44/containers/json?all=1&filters=%7B%22name%22%3A%5B%22a%20b%22%5D%7D"
        );
        assert_eq!(Call::new(Method::GET, "/_ping").uri(None), "/_ping");
    }
}
