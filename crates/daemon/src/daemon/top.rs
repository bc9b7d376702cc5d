//! `docker top` (moby `daemon/top_unix.go`): the container's PIDs from its
//! cgroup, the host's `ps` with the caller's arguments, and only the rows
//! whose PID is one of the container's.

use crate::error::{DaemonError, Result};
use crate::events::action;

use super::cgroupfs::ContainerCgroup;
use super::Daemon;

/// `ps`'s arguments when the caller gives none.
pub const DEFAULT_PS_ARGS: &str = "-ef";

pub use berth_api::types::container::TopResponse;

impl Daemon {
    /// Lists the container's processes with `ps <ps_args>` (default `-ef`).
    /// Errors: not running or restarting (Conflict), a `ps` argument that
    /// renames the PID column (InvalidParameter), `ps` failing or printing
    /// no `PID` column (System).
    pub async fn top(&self, reference: &str, ps_args: &str) -> Result<TopResponse> {
        let ps_args = if ps_args.is_empty() {
            DEFAULT_PS_ARGS
        } else {
            ps_args
        };
        validate_ps_args(ps_args)?;
        let container = self.get(reference)?;
        let record = container.record();
        if !record.state.running {
            return Err(DaemonError::Conflict(format!(
                "Container {} is not running",
                record.id
            )));
        }
        if record.state.restarting {
            return Err(DaemonError::Conflict(format!(
                "Container {} is restarting, wait until the container is running",
                record.id
            )));
        }
        let pids = ContainerCgroup::locate(&container.host_config(), &record.id).pids();
        let args: Vec<String> = ps_args.split(' ').map(str::to_string).collect();
        let output = run_ps(&args, &pids).await?;
        let list = parse_ps_output(&output, &pids)?;
        self.container_event(&container, action::TOP, &[]);
        Ok(list)
    }
}

/// Runs `ps <args> -q<pids>`, and without `-q` if that fails (some options,
/// such as `f`, cannot be combined with it). Returns stdout.
async fn run_ps(args: &[String], pids: &[u32]) -> Result<Vec<u8>> {
    let quick = format!(
        "-q{}",
        pids.iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",")
    );
    let first = tokio::process::Command::new("ps")
        .args(args)
        .arg(&quick)
        .output()
        .await;
    if let Ok(out) = first {
        if out.status.success() {
            return Ok(out.stdout);
        }
    }
    let out = tokio::process::Command::new("ps")
        .args(args)
        .output()
        .await
        .map_err(|e| DaemonError::System(format!("ps: {e}")))?;
    if out.status.success() {
        return Ok(out.stdout);
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr.lines().next().unwrap_or("").trim();
    let why = if line.is_empty() {
        out.status.to_string()
    } else {
        line.to_string()
    };
    Err(DaemonError::System(format!("ps: {why}")))
}

/// Refuses `x=PID...` column renames other than `pid=` (moby's
/// `validatePSArgs`: `\s+([^\s]*)=\s*(PID[^\s]*)`), since the PID column
/// must stay findable.
fn validate_ps_args(ps_args: &str) -> Result<()> {
    // Every position that follows whitespace starts a candidate `k=`.
    let bytes = ps_args.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let key_start = i;
        // `[^\s]*=` is greedy: the key runs to the last `=` of the word.
        let word_end = bytes[key_start..]
            .iter()
            .position(u8::is_ascii_whitespace)
            .map_or(bytes.len(), |p| key_start + p);
        let Some(eq) = bytes[key_start..word_end]
            .iter()
            .rposition(|b| *b == b'=')
            .map(|p| key_start + p)
        else {
            i = word_end;
            continue;
        };
        let mut v = eq + 1;
        while v < bytes.len() && bytes[v].is_ascii_whitespace() {
            v += 1;
        }
        if ps_args[v..].starts_with("PID") {
            let value_end = bytes[v..]
                .iter()
                .position(u8::is_ascii_whitespace)
                .map_or(bytes.len(), |p| v + p);
            let key = &ps_args[key_start..eq];
            if key != "pid" {
                return Err(DaemonError::invalid(format!(
                    "specifying \"{key}={}\" is not allowed",
                    &ps_args[v..value_end]
                )));
            }
            i = value_end;
        } else {
            i = word_end;
        }
    }
    Ok(())
}

/// Keeps the header and the rows of `procs` (moby's `parsePSOutput`): the
/// `PID` column is found by title; thread rows (`-` as PID, with `m`)
/// follow their process; extra fields merge into the last column.
pub(crate) fn parse_ps_output(output: &[u8], procs: &[u32]) -> Result<TopResponse> {
    let text = String::from_utf8_lossy(output);
    let mut lines = text.split('\n');
    let titles = fields_ascii(lines.next().unwrap_or(""));
    let Some(pid_index) = titles.iter().position(|t| t == "PID") else {
        return Err(DaemonError::System(
            "Couldn't find PID field in ps output".into(),
        ));
    };
    let mut list = TopResponse {
        titles,
        processes: Vec::new(),
    };
    let mut previous_contained = false;
    for line in lines {
        if line.is_empty() {
            continue;
        }
        let fields = fields_ascii(line);
        let Some(pid) = fields.get(pid_index) else {
            continue;
        };
        if pid == "-" {
            if previous_contained {
                append_process(&mut list, fields);
            }
            continue;
        }
        let p: u32 = pid.parse().map_err(|e| {
            DaemonError::System(format!(
                "Unexpected pid '{pid}': strconv.Atoi: parsing {pid:?}: {e}"
            ))
        })?;
        if procs.contains(&p) {
            previous_contained = true;
            append_process(&mut list, fields);
        } else {
            previous_contained = false;
        }
    }
    Ok(list)
}

/// Fits `fields` to the titles, joining the overhang into the last column.
fn append_process(list: &mut TopResponse, mut fields: Vec<String>) {
    let n = list.titles.len();
    if fields.len() >= n {
        let rest = fields.split_off(n - 1).join(" ");
        fields.push(rest);
    }
    list.processes.push(fields);
}

/// Splits on ASCII whitespace only (moby's `fieldsASCII`).
fn fields_ascii(s: &str) -> Vec<String> {
    s.split(|c: char| c.is_ascii_whitespace())
        .filter(|f| !f.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use berth_errdefs::HasKind;

    use super::*;

    #[test]
    fn keeps_only_the_containers_rows() {
        let out = b"UID   PID  PPID  C STIME TTY  TIME     CMD\n\
root    1     0  0 10:00 ?    00:00:01 /sbin/init splash\n\
root   42     1  0 10:00 ?    00:00:00 sleep 1000\n\
root   43    42  0 10:00 ?    00:00:00 sleep 1001\n";
        let list = parse_ps_output(out, &[42, 43]).unwrap();
        assert_eq!(list.titles.len(), 8);
        assert_eq!(list.processes.len(), 2);
        assert_eq!(list.processes[0][1], "42");
        assert_eq!(list.processes[0][7], "sleep 1000");
    }

    #[test]
    fn thread_rows_follow_their_process() {
        let out = b"PID TTY TIME CMD\n42 ? 00:00:00 sleep\n- - 00:00:00 -\n7 ? 00:00:00 init\n- - 00:00:00 -\n";
        let list = parse_ps_output(out, &[42]).unwrap();
        assert_eq!(list.processes.len(), 2);
    }

    #[test]
    fn needs_a_pid_column() {
        let err = parse_ps_output(b"USER CMD\nroot x\n", &[1]).unwrap_err();
        assert_eq!(err.to_string(), "Couldn't find PID field in ps output");
        let err = parse_ps_output(b"PID CMD\nabc x\n", &[1]).unwrap_err();
        assert!(err.to_string().starts_with("Unexpected pid 'abc'"), "{err}");
    }

    #[test]
    fn ps_args_may_not_rename_pid() {
        validate_ps_args("-ef").unwrap();
        validate_ps_args("-o pid=PID,comm").unwrap();
        let err = validate_ps_args("-o foo=PID").unwrap_err();
        assert_eq!(err.to_string(), "specifying \"foo=PID\" is not allowed");
        assert_eq!(err.kind(), berth_errdefs::ErrorKind::InvalidParameter);
    }
}
