//! The query parameters of the image endpoints as typed options (moby
//! `api/types/image` `*Options`), and the registry credentials a client
//! sends in `X-Registry-Auth` (moby `api/types/registry.AuthConfig`).

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::types::filters::Filters;

/// `POST /images/create?fromImage=&tag=&platform=` (a pull).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PullOptions {
    /// The image to pull, as given (`busybox`, `host:5000/a/b:tag`,
    /// `name@sha256:...`); the router has dropped one trailing `:` as
    /// moby does for `pull -a`.
    pub from_image: String,
    /// A tag or digest to pull instead of the one in `from_image`; empty
    /// for none.
    pub tag: String,
    /// `os/arch[/variant]` to pick from an index; `None` for the host's.
    pub platform: Option<String>,
    /// The credentials from `X-Registry-Auth` (empty when none or when the
    /// header did not decode: moby ignores a bad header on pull).
    pub auth: AuthConfig,
}

/// `GET /images/json?all=&filters=`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// Include intermediate images.
    pub all: bool,
    /// `dangling`, `reference`, `label`, `before`, `since`, `until`.
    pub filters: Filters,
}

/// `DELETE /images/{name}?force=&noprune=`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RemoveOptions {
    /// Remove even when containers use the image or it has several
    /// references.
    pub force: bool,
    /// Delete untagged parent images (`noprune` unset).
    pub prune_children: bool,
}

/// Registry credentials (moby `registry.AuthConfig`), as the CLI encodes
/// them in `X-Registry-Auth`: URL-safe base64 of this JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthConfig {
    /// User name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub username: String,
    /// Password.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub password: String,
    /// `base64(username:password)`, the form `config.json` stores.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub auth: String,
    /// Deprecated, ignored.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub email: String,
    /// The registry these are for.
    #[serde(rename = "serveraddress", skip_serializing_if = "String::is_empty")]
    pub server_address: String,
    /// A token to exchange for access tokens.
    #[serde(rename = "identitytoken", skip_serializing_if = "String::is_empty")]
    pub identity_token: String,
    /// A bearer token sent to the registry as is.
    #[serde(rename = "registrytoken", skip_serializing_if = "String::is_empty")]
    pub registry_token: String,
}

impl AuthConfig {
    /// moby's `DecodeAuthConfig`: an empty header is no credentials; else
    /// URL-safe base64 (padding optional) of the JSON. A header that does
    /// not decode is `invalid X-Registry-Auth header: ...`.
    pub fn decode_header(header: &str) -> Result<AuthConfig, String> {
        let header = header.trim();
        if header.is_empty() {
            return Ok(AuthConfig::default());
        }
        let lenient = base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent);
        let engine = base64::engine::GeneralPurpose::new(&base64::alphabet::URL_SAFE, lenient);
        let json = engine
            .decode(header)
            .map_err(|e| format!("invalid X-Registry-Auth header: {e}"))?;
        serde_json::from_slice(&json).map_err(|e| format!("invalid X-Registry-Auth header: {e}"))
    }

    /// The header value a client sends (URL-safe base64 with padding, as
    /// the Docker CLI's `EncodeAuthConfig`).
    pub fn encode_header(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        base64::engine::general_purpose::URL_SAFE.encode(json)
    }

    /// The user name and password: the fields, else the `auth` field
    /// (`base64(user:password)`) decoded, as moby's registry client does.
    pub fn basic(&self) -> Option<(String, String)> {
        if !self.username.is_empty() {
            return Some((self.username.clone(), self.password.clone()));
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(self.auth.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, password) = text.split_once(':')?;
        (!user.is_empty()).then(|| (user.to_string(), password.to_string()))
    }

    /// True when no credential is set.
    pub fn is_empty(&self) -> bool {
        self.username.is_empty()
            && self.password.is_empty()
            && self.auth.is_empty()
            && self.identity_token.is_empty()
            && self.registry_token.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_header_round_trips_and_tolerates_missing_padding() {
        let a = AuthConfig {
            username: "alice".into(),
            password: "s3cret?".into(),
            server_address: "127.0.0.1:5000".into(),
            ..AuthConfig::default()
        };
        let h = a.encode_header();
        assert_eq!(AuthConfig::decode_header(&h).unwrap(), a);
        assert_eq!(
            AuthConfig::decode_header(h.trim_end_matches('=')).unwrap(),
            a
        );
        assert_eq!(
            AuthConfig::decode_header("").unwrap(),
            AuthConfig::default()
        );
        assert!(AuthConfig::decode_header("e30").unwrap().is_empty()); // "{}"
        let e = AuthConfig::decode_header("!!!").unwrap_err();
        assert!(e.starts_with("invalid X-Registry-Auth header: "), "{e}");
        assert_eq!(a.basic(), Some(("alice".into(), "s3cret?".into())));
        let packed = AuthConfig {
            auth: "Ym9iOnB3OmQ=".into(), // bob:pw:d
            ..AuthConfig::default()
        };
        assert_eq!(packed.basic(), Some(("bob".into(), "pw:d".into())));
        assert_eq!(AuthConfig::default().basic(), None);
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            r#"{"username":"alice","password":"s3cret?","serveraddress":"127.0.0.1:5000"}"#
        );
    }
}
