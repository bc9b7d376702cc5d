//! Registry credentials for a pull, as docker/cli finds them: the
//! `auths` of `config.json` (in `$DOCKER_CONFIG`, else `~/.docker`), by
//! the registry host of the image. Credential helpers are not run.

use std::path::PathBuf;

use berth_api::types::image::AuthConfig;
use serde::Deserialize;

use super::pull::has_domain;

/// The key Docker Hub's credentials are stored under.
const INDEX_SERVER: &str = "https://index.docker.io/v1/";

#[derive(Debug, Default, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    auths: std::collections::BTreeMap<String, AuthConfig>,
}

/// `config.json`'s path.
fn config_path() -> Option<PathBuf> {
    let dir = match std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".docker"),
    };
    Some(dir.join("config.json"))
}

/// The host an `auths` key names (`https://host/v1/` -> `host`), as
/// `ConvertToHostname`.
fn hostname(key: &str) -> &str {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    key.split('/').next().unwrap_or(key)
}

/// The credentials for the registry of image `name` in config `text`;
/// empty when there are none.
pub fn lookup(text: &str, name: &str) -> AuthConfig {
    let Ok(config) = serde_json::from_str::<ConfigFile>(text) else {
        return AuthConfig::default();
    };
    let (server, entry) = if has_domain(name) {
        let host = name.split('/').next().unwrap_or_default();
        let found = config
            .auths
            .iter()
            .find(|(k, _)| k.as_str() == host || hostname(k) == host);
        (host.to_string(), found.map(|(_, v)| v.clone()))
    } else {
        let found = config.auths.get(INDEX_SERVER).cloned();
        (INDEX_SERVER.to_string(), found)
    };
    let Some(mut auth) = entry else {
        return AuthConfig::default();
    };
    // The file keeps `base64(user:password)`; the header carries them apart.
    if let Some((user, password)) = auth.basic() {
        auth.username = user;
        auth.password = password;
    }
    auth.auth.clear();
    auth.email.clear();
    auth.server_address = server;
    auth
}

/// The credentials to send when pulling image `name` (empty when the
/// config has none or cannot be read).
pub fn for_image(name: &str) -> AuthConfig {
    config_path()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map(|text| lookup(&text, name))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_by_registry_host() {
        let config = r#"{"auths":{
            "127.0.0.1:5000":{"auth":"YWxpY2U6czNjcmV0"},
            "https://index.docker.io/v1/":{"auth":"Ym9iOnB3"}
        }}"#;
        let a = lookup(config, "127.0.0.1:5000/busybox");
        assert_eq!(
            (
                a.username.as_str(),
                a.password.as_str(),
                a.server_address.as_str()
            ),
            ("alice", "s3cret", "127.0.0.1:5000")
        );
        assert!(a.auth.is_empty());
        let hub = lookup(config, "library/busybox");
        assert_eq!(
            (hub.username.as_str(), hub.server_address.as_str()),
            ("bob", INDEX_SERVER)
        );
        assert!(lookup(config, "other.example/x").is_empty());
        assert!(lookup("not json", "busybox").is_empty());
    }
}
