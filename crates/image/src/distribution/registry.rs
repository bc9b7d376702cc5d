//! Talking to one registry for one repository: the transport (HTTPS, or
//! plain HTTP for insecure registries), authentication (anonymous, basic, or
//! bearer tokens negotiated by oci-client), manifests fetched with a size
//! bound, and blob streams.

use std::net::IpAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use oci_client::client::{ClientConfig, ClientProtocol, SizedStream};
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use oci_client::RegistryOperation;

use crate::error::ImageError;
use crate::manifest::{Descriptor, ACCEPTED_MANIFEST_TYPES, DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED};
use crate::reference::Reference;

/// How to reach registries: which ones are insecure (plain HTTP).
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Extra insecure registries: `host`, `host:port` or a CIDR such as
    /// `10.0.0.0/8`, as dockerd's `--insecure-registry` takes them.
    /// Loopback (127.0.0.0/8, ::1, localhost) is always insecure.
    pub insecure_registries: Vec<String>,
}

/// Credentials for one pull (what `X-Registry-Auth` carries).
#[derive(Clone, Default)]
pub enum Credentials {
    /// No credentials.
    #[default]
    Anonymous,
    /// A user name and password: sent as HTTP basic auth, or exchanged for a
    /// bearer token when the registry asks for one.
    Basic {
        /// User name.
        username: String,
        /// Password.
        password: String,
    },
    /// A bearer (identity) token used as is.
    Token(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Anonymous => f.write_str("Anonymous"),
            Credentials::Basic { username, .. } => write!(f, "Basic({username}, <redacted>)"),
            Credentials::Token(_) => f.write_str("Token(<redacted>)"),
        }
    }
}

impl RegistryOptions {
    /// Whether `host` (a registry domain, maybe with a port) is reached over
    /// plain HTTP.
    pub fn is_insecure(&self, host: &str) -> bool {
        let bare = strip_port(host);
        if bare == "localhost" || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()) {
            return true;
        }
        self.insecure_registries.iter().any(|entry| {
            entry == host
                || entry == bare
                || bare
                    .parse::<IpAddr>()
                    .is_ok_and(|ip| cidr_contains(entry, ip))
        })
    }
}

fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((h, port)) if !h.contains(':') && port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    }
}

fn cidr_contains(cidr: &str, ip: IpAddr) -> bool {
    let Some((net, bits)) = cidr.split_once('/') else {
        return false;
    };
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(n) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(i)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

/// A connection to one repository on one registry, authenticated for pull.
pub(crate) struct RegistrySession {
    client: oci_client::Client,
    http: reqwest::Client,
    image: oci_client::Reference,
    base_url: String,
    authorization: Option<String>,
    basic: Option<(String, String)>,
    /// `name` as Docker prints it in errors (`busybox`, `host:5000/a/b`).
    familiar: String,
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

impl RegistrySession {
    /// Connects to `reference`'s registry and negotiates credentials.
    pub(crate) async fn connect(
        reference: &Reference,
        credentials: &Credentials,
        options: &RegistryOptions,
    ) -> Result<RegistrySession, ImageError> {
        let image = oci_client::Reference::with_tag(
            reference.domain().to_string(),
            reference.path().to_string(),
            "latest".to_string(),
        );
        let registry = image.resolve_registry().to_string();
        let insecure = options.is_insecure(reference.domain());
        let scheme = if insecure { "http" } else { "https" };
        let config = ClientConfig {
            protocol: if insecure {
                ClientProtocol::Http
            } else {
                ClientProtocol::Https
            },
            connect_timeout: Some(CONNECT_TIMEOUT),
            platform_resolver: None,
            user_agent: concat!("berth/", env!("CARGO_PKG_VERSION")),
            ..ClientConfig::default()
        };
        let client = oci_client::Client::new(config);
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("berth/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ImageError::Unavailable(format!("cannot build HTTP client: {e}")))?;
        let auth = match credentials {
            Credentials::Anonymous => RegistryAuth::Anonymous,
            Credentials::Basic { username, password } => {
                RegistryAuth::Basic(username.clone(), password.clone())
            }
            Credentials::Token(t) => RegistryAuth::Bearer(t.clone()),
        };
        let familiar = reference.familiar_name();
        let base_url = format!("{scheme}://{registry}");
        let token = client
            .auth(&image, &auth, RegistryOperation::Pull)
            .await
            .map_err(|e| map_oci_error(e, &familiar, &base_url))?;
        let basic = match credentials {
            Credentials::Basic { username, password } => Some((username.clone(), password.clone())),
            _ => None,
        };
        Ok(RegistrySession {
            client,
            http,
            image,
            base_url,
            authorization: token.map(|t| format!("Bearer {t}")),
            basic,
            familiar,
        })
    }

    /// Fetches the manifest `tag_or_digest`, refusing one larger than
    /// `limit` bytes before reading it whole. Returns the bytes and the
    /// Content-Type.
    pub(crate) async fn manifest(
        &self,
        tag_or_digest: &str,
        limit: u64,
    ) -> Result<(Bytes, Option<String>), ImageError> {
        let url = format!(
            "{}/v2/{}/manifests/{}",
            self.base_url,
            self.image.repository(),
            tag_or_digest
        );
        let accept = ACCEPTED_MANIFEST_TYPES
            .iter()
            .chain([DOCKER_SCHEMA1_SIGNED, DOCKER_SCHEMA1].iter())
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        let mut request = self.http.get(&url).header("Accept", accept);
        if let Some(a) = &self.authorization {
            request = request.header("Authorization", a);
        } else if let Some((u, p)) = &self.basic {
            request = request.basic_auth(u, Some(p));
        }
        let response = request
            .send()
            .await
            .map_err(|e| ImageError::Unavailable(format!("Get \"{url}\": {}", chain(&e))))?;
        let status = response.status();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if !status.is_success() {
            let body = read_bounded(response, 64 * 1024, &url)
                .await
                .unwrap_or_default();
            let what = format!("{}:{}", self.familiar, tag_or_digest);
            return Err(registry_error(
                status.as_u16(),
                &body,
                &what,
                &self.familiar,
            ));
        }
        let body = read_bounded(response, limit, &url).await?;
        Ok((body, content_type))
    }

    /// Fetches a small blob (a config) whole, refusing more than `limit` bytes.
    pub(crate) async fn small_blob(
        &self,
        desc: &Descriptor,
        limit: u64,
    ) -> Result<Bytes, ImageError> {
        if desc.size > limit {
            return Err(too_large(&desc.digest.to_string(), limit));
        }
        let mut stream = self.blob_stream(desc).await?;
        let mut buf = BytesMut::new();
        while let Some(chunk) = stream.stream.next().await {
            let chunk = chunk.map_err(|e| {
                ImageError::Unavailable(format!("reading blob {}: {e}", desc.digest))
            })?;
            if (buf.len() + chunk.len()) as u64 > limit {
                return Err(too_large(&desc.digest.to_string(), limit));
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf.freeze())
    }

    /// Opens the download of a blob.
    pub(crate) async fn blob_stream(&self, desc: &Descriptor) -> Result<SizedStream, ImageError> {
        self.client
            .pull_blob_stream(&self.image, desc.digest.to_string().as_str())
            .await
            .map_err(|e| map_oci_error(e, &self.familiar, &self.base_url))
    }
}

fn too_large(what: &str, limit: u64) -> ImageError {
    ImageError::InvalidParameter(format!(
        "{what} is larger than the {limit}-byte limit for manifests and configs; refusing to read it"
    ))
}

async fn read_bounded(
    mut response: reqwest::Response,
    limit: u64,
    url: &str,
) -> Result<Bytes, ImageError> {
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(too_large(url, limit));
    }
    let mut buf = BytesMut::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| ImageError::Unavailable(format!("reading {url}: {}", chain(&e))))?
    {
        if (buf.len() + chunk.len()) as u64 > limit {
            return Err(too_large(url, limit));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// The error's message with its causes (reqwest hides the useful part).
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// Turns a registry's error response into Docker's messages.
fn registry_error(status: u16, body: &[u8], what: &str, familiar: &str) -> ImageError {
    let detail = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            let e = v.get("errors")?.get(0)?.clone();
            let code = e
                .get("code")?
                .as_str()?
                .to_ascii_lowercase()
                .replace('_', " ");
            let message = e.get("message").and_then(|m| m.as_str()).unwrap_or("");
            Some(format!("{code}: {message}"))
        })
        .unwrap_or_else(|| format!("unexpected status {status}"));
    match status {
        401 | 403 => ImageError::Unauthorized(format!(
            "pull access denied for {familiar}, repository does not exist or may require 'docker login': {detail}"
        )),
        404 => ImageError::NotFound(format!("manifest for {what} not found: {detail}")),
        429 | 500..=599 => ImageError::Unavailable(format!(
            "received unexpected HTTP status: {status} from registry for {what}: {detail}"
        )),
        _ => ImageError::Invalid(format!(
            "unexpected HTTP status {status} from registry for {what}: {detail}"
        )),
    }
}

fn map_oci_error(e: OciDistributionError, familiar: &str, base_url: &str) -> ImageError {
    match e {
        OciDistributionError::AuthenticationFailure(reason) => ImageError::Unauthorized(format!(
            "pull access denied for {familiar}, repository does not exist or may require 'docker login': {reason}"
        )),
        OciDistributionError::UnauthorizedError { url } => ImageError::Unauthorized(format!(
            "pull access denied for {familiar}, repository does not exist or may require 'docker login': unauthorized: {url}"
        )),
        OciDistributionError::RegistryError { envelope, url } => {
            let body = serde_json::to_vec(&envelope).unwrap_or_default();
            let code = if envelope.errors.iter().any(|e| {
                matches!(
                    e.code,
                    oci_client::errors::OciErrorCode::BlobUnknown
                        | oci_client::errors::OciErrorCode::ManifestUnknown
                        | oci_client::errors::OciErrorCode::NameUnknown
                        | oci_client::errors::OciErrorCode::NotFound
                )
            }) {
                404
            } else {
                500
            };
            registry_error(code, &body, &url, familiar)
        }
        OciDistributionError::ServerError { code, url, message } => {
            registry_error(code, message.as_bytes(), &url, familiar)
        }
        OciDistributionError::RequestError(e) => {
            ImageError::Unavailable(format!("Get \"{base_url}/v2/\": {}", chain(&e)))
        }
        OciDistributionError::DigestError(e) => ImageError::Invalid(e.to_string()),
        other => ImageError::Unavailable(format!("registry {base_url}: {}", chain(&other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_configured_registries_are_insecure() {
        let opts = RegistryOptions {
            insecure_registries: vec!["reg.example:5000".into(), "10.1.0.0/16".into()],
        };
        for host in [
            "127.0.0.1:5000",
            "127.8.8.8",
            "localhost:5000",
            "[::1]:5000",
            "reg.example:5000",
            "10.1.2.3:80",
        ] {
            assert!(opts.is_insecure(host), "{host}");
        }
        for host in [
            "docker.io",
            "reg.example:5001",
            "10.2.0.1:80",
            "example.com",
        ] {
            assert!(!opts.is_insecure(host), "{host}");
        }
    }

    #[test]
    fn registry_errors_use_dockers_wording() {
        let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#;
        let e = registry_error(404, body, "busybox:nope", "busybox");
        assert_eq!(
            e.to_string(),
            "manifest for busybox:nope not found: manifest unknown: manifest unknown"
        );
        let e = registry_error(401, b"", "x:y", "x");
        assert!(e.to_string().starts_with("pull access denied for x"), "{e}");
    }

    #[test]
    fn credentials_never_print_secrets() {
        let c = Credentials::Basic {
            username: "u".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
