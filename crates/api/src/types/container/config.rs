//! `Config`: the portable part of a container's configuration.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::StrSlice;
use crate::types::null_default;

/// Docker's container `Config` (Engine API field names). Fields that Go
/// declares as slices or maps are `Option` here so that `null` and absent
/// survive a round trip; scalars decode `null` as their zero value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// The container's hostname (default: the short ID).
    #[serde(rename = "Hostname", deserialize_with = "null_default")]
    pub hostname: String,
    /// The container's domain name.
    #[serde(rename = "Domainname", deserialize_with = "null_default")]
    pub domainname: String,
    /// `user[:group]` (names or numeric IDs) the process runs as.
    #[serde(rename = "User", deserialize_with = "null_default")]
    pub user: String,
    /// Attach the client's stdin.
    #[serde(rename = "AttachStdin", deserialize_with = "null_default")]
    pub attach_stdin: bool,
    /// Attach the container's stdout.
    #[serde(rename = "AttachStdout", deserialize_with = "null_default")]
    pub attach_stdout: bool,
    /// Attach the container's stderr.
    #[serde(rename = "AttachStderr", deserialize_with = "null_default")]
    pub attach_stderr: bool,
    /// Ports to expose (`"80/tcp": {}`).
    #[serde(rename = "ExposedPorts", skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    /// Allocate a pseudo-TTY.
    #[serde(rename = "Tty", deserialize_with = "null_default")]
    pub tty: bool,
    /// Keep stdin open.
    #[serde(rename = "OpenStdin", deserialize_with = "null_default")]
    pub open_stdin: bool,
    /// Close stdin after the first attached client detaches.
    #[serde(rename = "StdinOnce", deserialize_with = "null_default")]
    pub stdin_once: bool,
    /// `KEY=value` environment, added to (and overriding) the image's.
    #[serde(rename = "Env")]
    pub env: Option<Vec<String>>,
    /// The command (arguments to the entrypoint when one is set).
    #[serde(rename = "Cmd")]
    pub cmd: Option<StrSlice>,
    /// How to check the container is healthy.
    #[serde(rename = "Healthcheck", skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<HealthConfig>,
    /// Windows-only: the command is already escaped.
    #[serde(
        rename = "ArgsEscaped",
        deserialize_with = "null_default",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub args_escaped: bool,
    /// The image reference the container was created from.
    #[serde(rename = "Image", deserialize_with = "null_default")]
    pub image: String,
    /// Paths that become anonymous volumes (`"/data": {}`).
    #[serde(rename = "Volumes")]
    pub volumes: Option<BTreeMap<String, serde_json::Value>>,
    /// The working directory (absolute).
    #[serde(rename = "WorkingDir", deserialize_with = "null_default")]
    pub working_dir: String,
    /// The entrypoint; set, it replaces the image's (and drops the image's Cmd).
    #[serde(rename = "Entrypoint")]
    pub entrypoint: Option<StrSlice>,
    /// Disable networking.
    #[serde(
        rename = "NetworkDisabled",
        deserialize_with = "null_default",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub network_disabled: bool,
    /// Deprecated MAC address field (API < 1.44 placed it here).
    #[serde(
        rename = "MacAddress",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub mac_address: String,
    /// ONBUILD triggers carried from the image.
    #[serde(rename = "OnBuild")]
    pub on_build: Option<Vec<String>>,
    /// Container labels.
    #[serde(rename = "Labels")]
    pub labels: Option<BTreeMap<String, String>>,
    /// The signal `stop` sends first (default `SIGTERM`).
    #[serde(
        rename = "StopSignal",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub stop_signal: String,
    /// Seconds `stop` waits before killing.
    #[serde(rename = "StopTimeout", skip_serializing_if = "Option::is_none")]
    pub stop_timeout: Option<i64>,
    /// The shell for the shell form of commands.
    #[serde(rename = "Shell", skip_serializing_if = "Option::is_none")]
    pub shell: Option<StrSlice>,
}

/// A health check (`HealthConfig`); durations are in nanoseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HealthConfig {
    /// `[]` inherit, `["NONE"]` disable, `["CMD", ...]` or `["CMD-SHELL", cmd]`.
    #[serde(rename = "Test", skip_serializing_if = "Option::is_none")]
    pub test: Option<Vec<String>>,
    /// Time between checks.
    #[serde(
        rename = "Interval",
        deserialize_with = "null_default",
        skip_serializing_if = "is_zero"
    )]
    pub interval: i64,
    /// Time before a check is considered hung.
    #[serde(
        rename = "Timeout",
        deserialize_with = "null_default",
        skip_serializing_if = "is_zero"
    )]
    pub timeout: i64,
    /// Grace period after start.
    #[serde(
        rename = "StartPeriod",
        deserialize_with = "null_default",
        skip_serializing_if = "is_zero"
    )]
    pub start_period: i64,
    /// Time between checks during the start period.
    #[serde(
        rename = "StartInterval",
        deserialize_with = "null_default",
        skip_serializing_if = "is_zero"
    )]
    pub start_interval: i64,
    /// Consecutive failures before unhealthy.
    #[serde(
        rename = "Retries",
        deserialize_with = "null_default",
        skip_serializing_if = "is_zero"
    )]
    pub retries: i64,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}
