//! `version`, `info` and `events` (docker/cli `cli/command/system`).

use berth_api::types::events::Message;
use berth_client::{Client, EventsOptions};
use serde_json::Value;

use crate::cli::{EventsArgs, FormatArgs};
use crate::commands::ps::parse_filters;
use crate::errors::{CliError, CmdResult};
use crate::format::template::Template;
use crate::format::units::bytes_size;
use crate::stdio::Stdio;
use crate::timefmt::{get_timestamp, rfc3339_nano_fixed};

/// Docker's `version` and `info` exit 64 on a template they cannot parse.
fn template(format: &str) -> Result<Template, CliError> {
    crate::format::output::template(format).map_err(|e| e.with_status(64))
}

/// The `Client:` section of `version`.
pub fn client_section() -> String {
    format!(
        "Client:\n Version:           {}\n API version:       {}\n Built with:        rustc\n OS/Arch:           {}/{}\n",
        env!("CARGO_PKG_VERSION"),
        berth_client::version::MAX_API_VERSION,
        std::env::consts::OS,
        go_arch(),
    )
}

/// Go's name for this machine (`amd64`, `arm64`).
fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// The `Server:` section of `version`.
pub fn server_section(v: &berth_api::types::system::SystemVersion) -> String {
    let mut s = format!(
        "Server: {}\n Engine:\n  Version:          {}\n  API version:      {} (minimum version {})\n",
        v.platform.name, v.version, v.api_version, v.min_api_version
    );
    if !v.go_version.is_empty() {
        s.push_str(&format!("  Go version:       {}\n", v.go_version));
    }
    if !v.git_commit.is_empty() {
        s.push_str(&format!("  Git commit:       {}\n", v.git_commit));
    }
    if !v.build_time.is_empty() {
        s.push_str(&format!("  Built:            {}\n", v.build_time));
    }
    s.push_str(&format!("  OS/Arch:          {}/{}\n", v.os, v.arch));
    s.push_str(&format!("  Experimental:     {}\n", v.experimental));
    for c in v.components.iter().flatten().filter(|c| c.name != "Engine") {
        s.push_str(&format!(
            " {}:\n  Version:          {}\n",
            c.name, c.version
        ));
    }
    s
}

/// `version`: the client's section always; the server's, or the error
/// that kept it away (status 1).
pub async fn version(client: &Client, args: &FormatArgs, io: &mut Stdio) -> CmdResult {
    let server = client.version().await;
    if let Some(f) = &args.format {
        let t = template(f)?;
        let dot = serde_json::json!({
            "Client": {
                "Version": env!("CARGO_PKG_VERSION"),
                "ApiVersion": berth_client::version::MAX_API_VERSION,
                "Os": std::env::consts::OS,
                "Arch": go_arch(),
            },
            "Server": server.as_ref().ok().map(|v| serde_json::to_value(v).unwrap_or(Value::Null)),
        });
        io.out(&format!(
            "{}\n",
            t.render(&dot).map_err(|e| CliError::msg(e.to_string()))?
        ))
        .await;
        return server.map(|_| 0).map_err(CliError::from);
    }
    io.out(&client_section()).await;
    match server {
        Ok(v) => {
            io.out(&format!("\n{}", server_section(&v))).await;
            Ok(0)
        }
        Err(e) => Err(e.into()),
    }
}

/// The `info` text (a subset of Docker's).
pub fn info_text(i: &berth_api::types::system::SystemInfo) -> String {
    let mut s = String::from("Client:\n Version:    ");
    s.push_str(env!("CARGO_PKG_VERSION"));
    s.push_str("\n Context:    default\n Debug Mode: false\n\nServer:\n");
    s.push_str(&format!(
        " Containers: {}\n  Running: {}\n  Paused: {}\n  Stopped: {}\n Images: {}\n",
        i.containers, i.containers_running, i.containers_paused, i.containers_stopped, i.images
    ));
    s.push_str(&format!(" Server Version: {}\n", i.server_version));
    s.push_str(&format!(" Storage Driver: {}\n", i.driver));
    for [k, v] in i.driver_status.iter().flatten() {
        s.push_str(&format!("  {k}: {v}\n"));
    }
    s.push_str(&format!(" Logging Driver: {}\n", i.logging_driver));
    s.push_str(&format!(" Cgroup Driver: {}\n", i.cgroup_driver));
    if !i.cgroup_version.is_empty() {
        s.push_str(&format!(" Cgroup Version: {}\n", i.cgroup_version));
    }
    if let Some(r) = &i.runtimes {
        let names: Vec<&str> = r.keys().map(String::as_str).collect();
        s.push_str(&format!(" Runtimes: {}\n", names.join(" ")));
    }
    s.push_str(&format!(" Default Runtime: {}\n", i.default_runtime));
    s.push_str(&format!(" Kernel Version: {}\n", i.kernel_version));
    s.push_str(&format!(" Operating System: {}\n", i.operating_system));
    s.push_str(&format!(" OSType: {}\n", i.os_type));
    s.push_str(&format!(" Architecture: {}\n", i.architecture));
    s.push_str(&format!(" CPUs: {}\n", i.ncpu));
    s.push_str(&format!(
        " Total Memory: {}\n",
        bytes_size(i.mem_total as f64)
    ));
    s.push_str(&format!(" Name: {}\n", i.name));
    s.push_str(&format!(" ID: {}\n", i.id));
    s.push_str(&format!(" Docker Root Dir: {}\n", i.docker_root_dir));
    s.push_str(&format!(" Debug Mode: {}\n", i.debug));
    s.push_str(&format!(" Experimental: {}\n", i.experimental_build));
    s.push_str(&format!(
        " Live Restore Enabled: {}\n",
        i.live_restore_enabled
    ));
    for w in i.warnings.iter().flatten() {
        s.push_str(w);
        s.push('\n');
    }
    s
}

/// `info`.
pub async fn info(client: &Client, args: &FormatArgs, io: &mut Stdio) -> CmdResult {
    let i = client.info().await?;
    if let Some(f) = &args.format {
        let t = template(f)?;
        let v = serde_json::to_value(&i).unwrap_or(Value::Null);
        io.out(&format!(
            "{}\n",
            t.render(&v).map_err(|e| CliError::msg(e.to_string()))?
        ))
        .await;
        return Ok(0);
    }
    io.out(&info_text(&i)).await;
    Ok(0)
}

/// Docker's default event line:
/// `2013-01-02T13:23:37.000000000Z container start <id> (image=busybox, name=web)`.
pub fn event_line(m: &Message) -> String {
    let mut s = String::new();
    if m.time_nano != 0 {
        s.push_str(&rfc3339_nano_fixed(m.time_nano));
        s.push(' ');
    } else if m.time != 0 {
        s.push_str(&rfc3339_nano_fixed(m.time.saturating_mul(1_000_000_000)));
        s.push(' ');
    }
    s.push_str(&format!(
        "{} {} {}",
        m.event_type.as_str(),
        m.action,
        m.actor.id
    ));
    if !m.actor.attributes.is_empty() {
        let attrs: Vec<String> = m
            .actor
            .attributes
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        s.push_str(&format!(" ({})", attrs.join(", ")));
    }
    s.push('\n');
    s
}

/// `events` / `system events`.
pub async fn events(client: &Client, args: &EventsArgs, io: &mut Stdio) -> CmdResult {
    let now = std::time::SystemTime::now();
    let ts = |v: &Option<String>| -> Result<Option<String>, CliError> {
        v.as_deref()
            .map(|s| get_timestamp(s, now).map_err(CliError::msg))
            .transpose()
    };
    let options = EventsOptions {
        since: ts(&args.since)?,
        until: ts(&args.until)?,
        filters: parse_filters(&args.filter).map_err(|e| e.with_status(1))?,
    };
    let t = args.format.as_deref().map(template).transpose()?;
    let mut stream = client.events(&options).await?;
    while let Some(m) = stream.next().await {
        let m = m?;
        let line = match &t {
            None => event_line(&m),
            Some(t) => {
                let v = serde_json::to_value(&m).unwrap_or(Value::Null);
                format!(
                    "{}\n",
                    t.render(&v).map_err(|e| CliError::msg(e.to_string()))?
                )
            }
        };
        io.out(&line).await;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_lines_like_docker() {
        let m: Message = serde_json::from_str(
            r#"{"Type":"container","Action":"start","Actor":{"ID":"abc","Attributes":{"name":"web","image":"busybox"}},"scope":"local","time":1357133017,"timeNano":1357133017000000001}"#,
        )
        .unwrap();
        assert_eq!(
            event_line(&m),
            "2013-01-02T13:23:37.000000001Z container start abc (image=busybox, name=web)\n"
        );
    }

    #[test]
    fn version_sections() {
        let c = client_section();
        assert!(c.starts_with("Client:\n Version:"), "{c}");
        assert!(c.contains(" API version:       1.49\n"), "{c}");
        let v: berth_api::types::system::SystemVersion = serde_json::from_str(
            r#"{"Platform":{"Name":"Berth Engine"},"Version":"0.1.0","ApiVersion":"1.49","MinAPIVersion":"1.24","Os":"linux","Arch":"amd64"}"#,
        )
        .unwrap();
        let s = server_section(&v);
        assert!(
            s.starts_with("Server: Berth Engine\n Engine:\n  Version:          0.1.0\n"),
            "{s}"
        );
        assert!(
            s.contains("  API version:      1.49 (minimum version 1.24)\n"),
            "{s}"
        );
        assert!(s.contains("  OS/Arch:          linux/amd64\n"), "{s}");
        let i: berth_api::types::system::SystemInfo = serde_json::from_str(
            r#"{"Containers":3,"ContainersRunning":1,"ContainersStopped":2,"Driver":"overlay2","MemTotal":2147483648}"#,
        )
        .unwrap();
        let t = info_text(&i);
        assert!(
            t.contains(" Containers: 3\n  Running: 1\n  Paused: 0\n  Stopped: 2\n"),
            "{t}"
        );
        assert!(t.contains(" Storage Driver: overlay2\n"), "{t}");
        assert!(t.contains(" Total Memory: 2GiB\n"), "{t}");
    }
}
