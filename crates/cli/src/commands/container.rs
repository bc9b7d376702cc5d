//! The container commands other than `run`, `create` and `ps`
//! (docker/cli `cli/command/container`): start, stop, restart, kill, rm,
//! wait, pause, unpause, rename, logs, exec, attach, top, inspect, port,
//! stats and prune.

use std::time::Duration;

use berth_api::types::container::{
    AttachOptions, LogsOptions, RemoveOptions, StatsOptions, StatsSnapshot, StopOptions,
    WaitCondition,
};
use berth_api::types::exec::{ExecConfig, ExecStartConfig};
use berth_client::stdcopy::StdStream;
use berth_client::Client;
use serde_json::Value;
use tokio::io::AsyncWriteExt;

use crate::cli::{
    AttachArgs, ExecArgs, KillArgs, LogsArgs, PortArgs, PruneArgs, RenameArgs, RmArgs, StartArgs,
    StatsArgs, StopArgs, Targets, TopArgs,
};
use crate::commands::prompt::confirm;
use crate::errors::{CliError, CmdResult};
use crate::format::units::{bytes_size, human_size};
use crate::opts::parse;
use crate::stdio::{
    detach_key_bytes, pump, terminal_size, PumpEnd, RawTerminal, Stdio, DEFAULT_DETACH_KEYS,
};
use crate::timefmt::get_timestamp;

/// Runs `f` on each container, printing the name on success and the
/// errors at the end (status 1 if any), as Docker's multi-container
/// commands do.
async fn each<F, Fut>(names: &[String], io: &mut Stdio, print: bool, f: F) -> CmdResult
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<(), berth_client::ClientError>>,
{
    let mut errors = Vec::new();
    for name in names {
        match f(name.clone()).await {
            Ok(()) if print => io.out(&format!("{name}\n")).await,
            Ok(()) => {}
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() {
        Ok(0)
    } else {
        Err(CliError::msg(errors.join("\n")))
    }
}

/// `stop`.
pub async fn stop(client: &Client, args: &StopArgs, io: &mut Stdio) -> CmdResult {
    let options = StopOptions {
        signal: args.signal.clone(),
        timeout: args.time,
    };
    each(&args.containers, io, true, |n| {
        let options = options.clone();
        async move { client.container_stop(&n, &options).await }
    })
    .await
}

/// `restart`.
pub async fn restart(client: &Client, args: &StopArgs, io: &mut Stdio) -> CmdResult {
    let options = StopOptions {
        signal: args.signal.clone(),
        timeout: args.time,
    };
    each(&args.containers, io, true, |n| {
        let options = options.clone();
        async move { client.container_restart(&n, &options).await }
    })
    .await
}

/// `kill`.
pub async fn kill(client: &Client, args: &KillArgs, io: &mut Stdio) -> CmdResult {
    let signal = args.signal.clone();
    each(&args.containers, io, true, |n| {
        let signal = signal.clone();
        async move { client.container_kill(&n, signal.as_deref()).await }
    })
    .await
}

/// `rm`.
pub async fn rm(client: &Client, args: &RmArgs, io: &mut Stdio) -> CmdResult {
    let options = RemoveOptions {
        force: args.force,
        remove_volumes: args.volumes,
        remove_link: args.link,
    };
    each(&args.containers, io, true, |n| {
        let options = options.clone();
        async move { client.container_remove(&n, &options).await }
    })
    .await
}

/// `pause`.
pub async fn pause(client: &Client, args: &Targets, io: &mut Stdio) -> CmdResult {
    each(&args.containers, io, true, |n| async move {
        client.container_pause(&n).await
    })
    .await
}

/// `unpause`.
pub async fn unpause(client: &Client, args: &Targets, io: &mut Stdio) -> CmdResult {
    each(&args.containers, io, true, |n| async move {
        client.container_unpause(&n).await
    })
    .await
}

/// `wait`: each container's exit code on its own line.
pub async fn wait(client: &Client, args: &Targets, io: &mut Stdio) -> CmdResult {
    let mut errors = Vec::new();
    for name in &args.containers {
        match client.container_wait(name, WaitCondition::NotRunning).await {
            Ok(w) => io.out(&format!("{}\n", w.status_code)).await,
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() {
        Ok(0)
    } else {
        Err(CliError::msg(errors.join("\n")))
    }
}

/// `rename`.
pub async fn rename(client: &Client, args: &RenameArgs) -> CmdResult {
    let new_name = args.new_name.trim();
    if new_name.is_empty() || args.container.trim().is_empty() {
        return Err(CliError::msg(
            "Error: neither old nor new names may be empty",
        ));
    }
    client.container_rename(&args.container, new_name).await?;
    Ok(0)
}

/// `start`: without `-a`/`-i` start each and print its name; with them,
/// attach to one container, start it and exit with its status.
pub async fn start(client: &Client, args: &StartArgs, io: &mut Stdio) -> CmdResult {
    if !args.attach && !args.interactive {
        return each(&args.containers, io, true, |n| async move {
            client.container_start(&n).await
        })
        .await;
    }
    if args.containers.len() > 1 {
        return Err(CliError::msg(
            "you cannot start and attach multiple containers at once",
        ));
    }
    let name = &args.containers[0];
    let info = client.container_inspect(name).await?;
    let config = info.config.unwrap_or_default();
    let stdin = args.interactive && config.open_stdin;
    stream_container(
        client,
        name,
        config.tty,
        stdin,
        args.detach_keys.clone(),
        io,
        |c, n| Box::pin(async move { c.container_start(n).await }),
    )
    .await
}

type Starter = for<'a> fn(
    &'a Client,
    &'a str,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<(), berth_client::ClientError>> + 'a>,
>;

/// Attach, register the wait, run `then` (start, or nothing), pump the
/// streams, and give the container's status (or 0 on detach).
async fn stream_container(
    client: &Client,
    name: &str,
    tty: bool,
    stdin: bool,
    detach_keys: Option<String>,
    io: &mut Stdio,
    then: Starter,
) -> CmdResult {
    let keys = detach_keys.clone().unwrap_or_default();
    let escape = detach_key_bytes(if keys.is_empty() {
        DEFAULT_DETACH_KEYS
    } else {
        &keys
    })
    .map_err(|e| CliError::msg(format!("Invalid detach keys ({keys}) provided: {e}")))?;
    if stdin && tty && !io.stdin_tty {
        return Err(CliError::msg("the input device is not a TTY"));
    }
    let conn = client
        .container_attach(
            name,
            &AttachOptions {
                stream: true,
                stdin,
                stdout: true,
                stderr: true,
                logs: false,
                detach_keys: keys,
            },
        )
        .await?;
    let waiter = client
        .container_wait_begin(name, WaitCondition::NextExit)
        .await?;
    then(client, name).await?;
    let raw = (tty && stdin && io.stdin_tty)
        .then(|| RawTerminal::stdin().ok())
        .flatten();
    if tty && io.stdout_tty {
        if let Some((h, w)) = terminal_size() {
            let _ = client.container_resize(name, h as u32, w as u32).await;
        }
    }
    let input = if stdin { io.stdin.take() } else { None };
    let end = pump(
        Box::new(conn),
        input,
        &mut io.stdout,
        &mut io.stderr,
        tty,
        tty.then_some(escape),
    )
    .await;
    drop(raw);
    match end? {
        PumpEnd::Detached => Ok(0),
        PumpEnd::Finished => Ok(waiter.result().await?.status_code as i32),
    }
}

/// `attach`.
pub async fn attach(client: &Client, args: &AttachArgs, io: &mut Stdio) -> CmdResult {
    let info = client.container_inspect(&args.container).await?;
    let state = info.state.unwrap_or_default();
    if !state.running {
        return Err(CliError::msg(
            "You cannot attach to a stopped container, start it first",
        ));
    }
    if state.paused {
        return Err(CliError::msg(
            "You cannot attach to a paused container, unpause it first",
        ));
    }
    let config = info.config.unwrap_or_default();
    let stdin = !args.no_stdin && config.open_stdin;
    stream_container(
        client,
        &args.container,
        config.tty,
        stdin,
        args.detach_keys.clone(),
        io,
        |_, _| Box::pin(async { Ok(()) }),
    )
    .await
}

/// `logs`.
pub async fn logs(client: &Client, args: &LogsArgs, io: &mut Stdio) -> CmdResult {
    let info = client.container_inspect(&args.container).await?;
    let tty = info.config.map(|c| c.tty).unwrap_or(false);
    let now = std::time::SystemTime::now();
    let options = LogsOptions {
        stdout: true,
        stderr: true,
        since: match &args.since {
            Some(s) => get_timestamp(s, now).map_err(CliError::msg)?,
            None => String::new(),
        },
        until: match &args.until {
            Some(s) => get_timestamp(s, now).map_err(CliError::msg)?,
            None => String::new(),
        },
        timestamps: args.timestamps,
        follow: args.follow,
        tail: args.tail.clone(),
        details: args.details,
    };
    let mut out = client
        .container_logs(&args.container, &options, tty)
        .await?;
    while let Some(chunk) = out.next().await {
        let (stream, data) = chunk?;
        let w = match stream {
            StdStream::Stderr | StdStream::SystemErr => &mut io.stderr,
            _ => &mut io.stdout,
        };
        w.write_all(&data).await?;
        w.flush().await?;
    }
    Ok(0)
}

/// The body of `exec`'s create request (docker/cli `parseExec`).
pub fn exec_config(args: &ExecArgs, console: Option<[u64; 2]>) -> Result<ExecConfig, CliError> {
    let (_, cmd) = args
        .args
        .split_first()
        .expect("clap requires CONTAINER COMMAND");
    let mut env = Vec::new();
    for file in &args.env_file {
        let content = std::fs::read_to_string(file)
            .map_err(|e| CliError::msg(format!("open {file}: {}", crate::opts::io_reason(&e))))?;
        env.extend(parse::env_file(&content, file).map_err(CliError::msg)?);
    }
    for e in &args.env {
        env.push(parse::env(e).map_err(CliError::msg)?);
    }
    let attach = !args.detach;
    Ok(ExecConfig {
        attach_stdin: attach && args.interactive,
        attach_stdout: attach,
        attach_stderr: attach,
        detach_keys: args.detach_keys.clone().unwrap_or_default(),
        tty: args.tty,
        env: (!env.is_empty()).then_some(env),
        cmd: Some(cmd.to_vec()),
        privileged: args.privileged,
        user: args.user.clone().unwrap_or_default(),
        working_dir: args.workdir.clone().unwrap_or_default(),
        console_size: if args.tty { console } else { None },
    })
}

/// `exec`: exits with the command's exit code (from exec inspect).
pub async fn exec(client: &Client, args: &ExecArgs, io: &mut Stdio) -> CmdResult {
    let container = &args.args[0];
    let console = (args.tty && io.stdout_tty)
        .then(terminal_size)
        .flatten()
        .map(|(h, w)| [h as u64, w as u64]);
    let config = exec_config(args, console)?;
    let keys = config.detach_keys.clone();
    let escape = detach_key_bytes(if keys.is_empty() {
        DEFAULT_DETACH_KEYS
    } else {
        &keys
    })
    .map_err(|e| CliError::msg(format!("Invalid detach keys ({keys}) provided: {e}")))?;
    if config.attach_stdin && config.tty && !io.stdin_tty {
        return Err(CliError::msg("the input device is not a TTY"));
    }
    let id = client.exec_create(container, &config).await?.id;
    let start = ExecStartConfig {
        detach: args.detach,
        tty: args.tty,
        console_size: config.console_size,
    };
    if args.detach {
        client.exec_start_detached(&id, &start).await?;
        return Ok(0);
    }
    let conn = client.exec_start_attached(&id, &start).await?;
    let raw = (args.tty && config.attach_stdin && io.stdin_tty)
        .then(|| RawTerminal::stdin().ok())
        .flatten();
    if args.tty && io.stdout_tty {
        if let Some((h, w)) = terminal_size() {
            let _ = client.exec_resize(&id, h as u32, w as u32).await;
        }
    }
    let input = if config.attach_stdin {
        io.stdin.take()
    } else {
        None
    };
    let end = pump(
        Box::new(conn),
        input,
        &mut io.stdout,
        &mut io.stderr,
        args.tty,
        args.tty.then_some(escape),
    )
    .await;
    drop(raw);
    if end? == PumpEnd::Detached {
        return Ok(0);
    }
    // The exit code lands shortly after the stream closes.
    for _ in 0..50 {
        let inspect = client.exec_inspect(&id).await?;
        if !inspect.running {
            return Ok(inspect.exit_code.unwrap_or(0));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(0)
}

/// `top`: `ps`'s table as the daemon ran it.
pub async fn top(client: &Client, args: &TopArgs, io: &mut Stdio) -> CmdResult {
    let ps_args = args.ps_args.join(" ");
    let top = client
        .container_top(&args.container, Some(&ps_args))
        .await?;
    io.out(&top_table(&top.titles, &top.processes)).await;
    Ok(0)
}

/// Docker's `top` table (`tabwriter` with a minimum width of 20).
pub fn top_table(titles: &[String], rows: &[Vec<String>]) -> String {
    let mut text = titles.join("\t");
    text.push('\n');
    for r in rows {
        text.push_str(&r.join("\t"));
        text.push('\n');
    }
    crate::format::table::align_min(&text, 20)
}

/// Re-indents JSON text as Go's `json.Indent(dst, src, "", "    ")`:
/// keys keep the daemon's order, empty objects and arrays stay `{}` / `[]`.
pub fn indent_json(src: &[u8], prefix_depth: usize) -> String {
    let mut out = String::with_capacity(src.len() * 2);
    let text = String::from_utf8_lossy(src);
    let mut depth = prefix_depth;
    let mut in_str = false;
    let mut escaped = false;
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("    ");
        }
    };
    while i < chars.len() {
        let c = chars[i];
        if in_str {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
            i += 1;
            continue;
        }
        match c {
            '"' => {
                in_str = true;
                out.push(c);
            }
            '{' | '[' => {
                // Empty containers stay on one line.
                let mut j = i + 1;
                while j < chars.len() && chars[j].is_whitespace() {
                    j += 1;
                }
                let close = if c == '{' { '}' } else { ']' };
                if j < chars.len() && chars[j] == close {
                    out.push(c);
                    out.push(close);
                    i = j + 1;
                    continue;
                }
                out.push(c);
                depth += 1;
                newline(&mut out, depth);
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// `port`: the published ports, `80/tcp -> 0.0.0.0:8080`.
pub async fn port(client: &Client, args: &PortArgs, io: &mut Stdio) -> CmdResult {
    let info = client.container_inspect(&args.container).await?;
    let ports = info
        .network_settings
        .and_then(|n| n.ports)
        .unwrap_or_default();
    let lines = port_lines(&ports, args.port.as_deref()).map_err(CliError::msg)?;
    if lines.is_empty() {
        if let Some(p) = &args.port {
            return Err(CliError::msg(format!(
                "Error: No public port '{}' published for {}",
                if p.contains('/') {
                    p.clone()
                } else {
                    format!("{p}/tcp")
                },
                args.container
            )));
        }
    }
    let mut out = String::new();
    for l in lines {
        out.push_str(&l);
        out.push('\n');
    }
    io.out(&out).await;
    Ok(0)
}

/// The lines of `port`: all bindings as `80/tcp -> 0.0.0.0:8080`, or for
/// one port just `0.0.0.0:8080`.
pub fn port_lines(
    ports: &std::collections::BTreeMap<
        String,
        Option<Vec<berth_api::types::container::PortBinding>>,
    >,
    only: Option<&str>,
) -> Result<Vec<String>, String> {
    let addr = |b: &berth_api::types::container::PortBinding| {
        let ip = if b.host_ip.is_empty() {
            "0.0.0.0"
        } else {
            &b.host_ip
        };
        if ip.contains(':') {
            format!("[{ip}]:{}", b.host_port)
        } else {
            format!("{ip}:{}", b.host_port)
        }
    };
    let mut out = Vec::new();
    match only {
        Some(p) => {
            let key = if p.contains('/') {
                p.to_string()
            } else {
                format!("{p}/tcp")
            };
            let (num, _) = key.split_once('/').unwrap_or((&key, ""));
            if num.parse::<u16>().is_err() {
                return Err(format!("Error: invalid port ({num}): invalid syntax"));
            }
            for b in ports.get(&key).cloned().flatten().unwrap_or_default() {
                out.push(addr(&b));
            }
        }
        None => {
            let mut keys: Vec<&String> = ports.keys().collect();
            keys.sort_by_key(|k| {
                let (n, proto) = k.split_once('/').unwrap_or((k, ""));
                (n.parse::<u32>().unwrap_or(0), proto.to_string())
            });
            for k in keys {
                for b in ports[k].iter().flatten() {
                    out.push(format!("{k} -> {}", addr(b)));
                }
            }
        }
    }
    Ok(out)
}

/// One `stats` row's values (docker/cli `formatter/stats.go`).
pub fn stats_row(s: &StatsSnapshot, trunc: bool) -> Value {
    let cpu_delta =
        s.cpu_stats.cpu_usage.total_usage as f64 - s.precpu_stats.cpu_usage.total_usage as f64;
    let system_delta = s.cpu_stats.system_cpu_usage as f64 - s.precpu_stats.system_cpu_usage as f64;
    let online = if s.cpu_stats.online_cpus > 0 {
        s.cpu_stats.online_cpus as f64
    } else {
        s.cpu_stats.cpu_usage.percpu_usage.len().max(1) as f64
    };
    let cpu = if system_delta > 0.0 && cpu_delta > 0.0 {
        cpu_delta / system_delta * online * 100.0
    } else {
        0.0
    };
    // Docker subtracts the page cache (inactive_file on cgroup v2).
    let cache = s
        .memory_stats
        .stats
        .get("inactive_file")
        .or_else(|| s.memory_stats.stats.get("total_inactive_file"))
        .copied()
        .unwrap_or(0);
    let mem = s.memory_stats.usage.saturating_sub(cache) as f64;
    let limit = s.memory_stats.limit as f64;
    let mem_pct = if limit > 0.0 {
        mem / limit * 100.0
    } else {
        0.0
    };
    let id = if trunc {
        crate::commands::ps::short_id(&s.id)
    } else {
        s.id.clone()
    };
    serde_json::json!({
        "Container": id,
        "ID": id,
        "Name": s.name.strip_prefix('/').unwrap_or(&s.name),
        "CPUPerc": format!("{cpu:.2}%"),
        "MemUsage": format!("{} / {}", bytes_size(mem), bytes_size(limit)),
        "MemPerc": format!("{mem_pct:.2}%"),
        "NetIO": format!("{} / {}", human_size(0.0), human_size(0.0)),
        "BlockIO": format!("{} / {}", human_size(0.0), human_size(0.0)),
        "PIDs": s.pids_stats.current.to_string(),
    })
}

/// `stats` (`--no-stream` prints one sample per container; streaming
/// redraws the table every sample).
pub async fn stats(client: &Client, args: &StatsArgs, io: &mut Stdio) -> CmdResult {
    let names: Vec<String> = if args.containers.is_empty() {
        client
            .container_list(&berth_api::types::container::ListOptions {
                all: args.all,
                ..Default::default()
            })
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect()
    } else {
        args.containers.clone()
    };
    let format = args.format.clone().unwrap_or_else(|| {
        "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}".into()
    });
    let header = serde_json::json!({
        "Container": "CONTAINER", "ID": "CONTAINER ID", "Name": "NAME", "CPUPerc": "CPU %",
        "MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET I/O",
        "BlockIO": "BLOCK I/O", "PIDs": "PIDS",
    });
    loop {
        let mut rows = Vec::new();
        let mut errors = Vec::new();
        for n in &names {
            let options = StatsOptions {
                stream: false,
                one_shot: false,
            };
            match client.container_stats(n, &options).await {
                Ok(mut s) => match s.next().await {
                    Some(Ok(sample)) => rows.push(stats_row(&sample, !args.no_trunc)),
                    Some(Err(e)) => errors.push(e.to_string()),
                    None => {}
                },
                Err(e) => errors.push(e.to_string()),
            }
        }
        if !errors.is_empty() {
            return Err(CliError::msg(errors.join("\n")));
        }
        let text = crate::format::output::rows(&format, &header, &rows)?;
        if args.no_stream {
            io.out(&text).await;
            return Ok(0);
        }
        if io.stdout_tty {
            io.out("\x1b[2J\x1b[H").await;
        }
        io.out(&text).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// `container prune`.
pub async fn prune(client: &Client, args: &PruneArgs, io: &mut Stdio) -> CmdResult {
    let filters = crate::commands::ps::parse_filters(&args.filter)?;
    if !args.force
        && !confirm(
            io,
            "WARNING! This will remove all stopped containers.\nAre you sure you want to continue?",
        )
        .await
    {
        return Ok(0);
    }
    let report = client.containers_prune(&filters).await?;
    let mut out = String::new();
    if !report.containers_deleted.is_empty() {
        out.push_str("Deleted Containers:\n");
        for id in &report.containers_deleted {
            out.push_str(id);
            out.push('\n');
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "Total reclaimed space: {}\n",
        human_size(report.space_reclaimed as f64)
    ));
    io.out(&out).await;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_api::types::container::PortBinding;
    use std::collections::BTreeMap;

    #[test]
    fn inspect_output_is_indented_like_go() {
        let raw = br#"{"Id":"abc","State":{"Running":true,"Pid":0},"Args":[],"Labels":{},"Names":["a","b:c"],"Esc":"q\"{,}"}"#;
        let got = indent_json(raw, 0);
        assert_eq!(
            got,
            "{\n    \"Id\": \"abc\",\n    \"State\": {\n        \"Running\": true,\n        \"Pid\": 0\n    },\n    \"Args\": [],\n    \"Labels\": {},\n    \"Names\": [\n        \"a\",\n        \"b:c\"\n    ],\n    \"Esc\": \"q\\\"{,}\"\n}"
        );
        // As an element of the top-level array: one level deeper.
        assert_eq!(indent_json(br#"{"a":1}"#, 1), "{\n        \"a\": 1\n    }");
    }

    #[test]
    fn exec_flags_build_the_exec_config() {
        use clap::Parser;
        let cli = crate::cli::Cli::try_parse_from([
            "berth",
            "exec",
            "-it",
            "-e",
            "A=1",
            "-u",
            "nobody",
            "-w",
            "/tmp",
            "--privileged",
            "web",
            "sh",
            "-c",
            "echo hi",
        ])
        .unwrap();
        let crate::cli::Command::Exec(args) = cli.command else {
            panic!("not exec")
        };
        let c = exec_config(&args, Some([24, 80])).unwrap();
        assert_eq!(c.cmd.as_deref().unwrap(), ["sh", "-c", "echo hi"]);
        assert!(c.attach_stdin && c.attach_stdout && c.attach_stderr && c.tty && c.privileged);
        assert_eq!(
            (c.user.as_str(), c.working_dir.as_str()),
            ("nobody", "/tmp")
        );
        assert_eq!(c.env.as_deref().unwrap(), ["A=1"]);
        assert_eq!(c.console_size, Some([24, 80]));
        let cli = crate::cli::Cli::try_parse_from(["berth", "exec", "-d", "web", "true"]).unwrap();
        let crate::cli::Command::Exec(args) = cli.command else {
            panic!("not exec")
        };
        let c = exec_config(&args, None).unwrap();
        assert!(!c.attach_stdout && !c.attach_stderr && !c.attach_stdin && !c.tty);
        assert_eq!(c.env, None);
    }

    #[test]
    fn port_lines_like_docker() {
        let mut ports = BTreeMap::new();
        ports.insert(
            "80/tcp".to_string(),
            Some(vec![
                PortBinding {
                    host_ip: "0.0.0.0".into(),
                    host_port: "8080".into(),
                },
                PortBinding {
                    host_ip: "::".into(),
                    host_port: "8080".into(),
                },
            ]),
        );
        ports.insert("443/tcp".to_string(), None);
        ports.insert(
            "9/udp".to_string(),
            Some(vec![PortBinding {
                host_ip: String::new(),
                host_port: "9".into(),
            }]),
        );
        assert_eq!(
            port_lines(&ports, None).unwrap(),
            [
                "9/udp -> 0.0.0.0:9",
                "80/tcp -> 0.0.0.0:8080",
                "80/tcp -> [::]:8080"
            ]
        );
        assert_eq!(
            port_lines(&ports, Some("80")).unwrap(),
            ["0.0.0.0:8080", "[::]:8080"]
        );
        assert!(port_lines(&ports, Some("443")).unwrap().is_empty());
        assert!(port_lines(&ports, Some("x")).is_err());
    }

    #[test]
    fn top_and_stats_tables() {
        let t = top_table(
            &["UID".into(), "PID".into(), "CMD".into()],
            &[vec!["root".into(), "1".into(), "sleep 100".into()]],
        );
        assert_eq!(
            t,
            "UID                 PID                 CMD\nroot                1                   sleep 100\n"
        );
        let mut s = StatsSnapshot::empty("/web", "0123456789abcdef");
        s.cpu_stats.cpu_usage.total_usage = 300;
        s.precpu_stats.cpu_usage.total_usage = 100;
        s.cpu_stats.system_cpu_usage = 2000;
        s.precpu_stats.system_cpu_usage = 1000;
        s.cpu_stats.online_cpus = 2;
        s.memory_stats.usage = 2 << 20;
        s.memory_stats.limit = 8 << 20;
        s.pids_stats.current = 3;
        let r = stats_row(&s, true);
        assert_eq!(r["ID"], "0123456789ab");
        assert_eq!(r["Name"], "web");
        assert_eq!(r["CPUPerc"], "40.00%");
        assert_eq!(r["MemUsage"], "2MiB / 8MiB");
        assert_eq!(r["MemPerc"], "25.00%");
        assert_eq!(r["PIDs"], "3");
    }
}
