//! `docker exec`: the body of `POST /containers/{id}/exec`
//! ([`ExecConfig`]), of `POST /exec/{id}/start` ([`ExecStartConfig`]) and
//! the answer of `GET /exec/{id}/json` ([`ExecInspect`]).

use serde::{Deserialize, Serialize};

use crate::types::null_default;

/// The body of `POST /containers/{id}/exec` (the Engine API's `ExecConfig`,
/// `ExecOptions` in newer API types). Scalars decode `null` as their zero
/// value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExecConfig {
    /// Attach the client's stdin (the exec gets an open stdin).
    #[serde(rename = "AttachStdin", deserialize_with = "null_default")]
    pub attach_stdin: bool,
    /// Attach the exec's stdout.
    #[serde(rename = "AttachStdout", deserialize_with = "null_default")]
    pub attach_stdout: bool,
    /// Attach the exec's stderr.
    #[serde(rename = "AttachStderr", deserialize_with = "null_default")]
    pub attach_stderr: bool,
    /// The key sequence that detaches a client (`ctrl-p,ctrl-q` by default).
    #[serde(rename = "DetachKeys", deserialize_with = "null_default")]
    pub detach_keys: String,
    /// Allocate a pseudo-TTY.
    #[serde(rename = "Tty", deserialize_with = "null_default")]
    pub tty: bool,
    /// `KEY=value` entries added to (and overriding) the container's env.
    #[serde(rename = "Env")]
    pub env: Option<Vec<String>>,
    /// The command and its arguments.
    #[serde(rename = "Cmd")]
    pub cmd: Option<Vec<String>>,
    /// Run with every capability the host can grant.
    #[serde(rename = "Privileged", deserialize_with = "null_default")]
    pub privileged: bool,
    /// `user[:group]` to run as (default: the container's user).
    #[serde(rename = "User", deserialize_with = "null_default")]
    pub user: String,
    /// The working directory (default: the container's).
    #[serde(rename = "WorkingDir", deserialize_with = "null_default")]
    pub working_dir: String,
    /// The terminal's initial `[height, width]`.
    #[serde(rename = "ConsoleSize", skip_serializing_if = "Option::is_none")]
    pub console_size: Option<[u64; 2]>,
}

/// The process part of [`ExecInspect`] (moby's `ExecProcessConfig`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecProcessConfig {
    /// Whether the exec has a TTY.
    #[serde(rename = "tty")]
    pub tty: bool,
    /// The command (`Cmd[0]`).
    #[serde(rename = "entrypoint")]
    pub entrypoint: String,
    /// Its arguments (`Cmd[1..]`).
    #[serde(rename = "arguments")]
    pub arguments: Vec<String>,
    /// Whether the exec is privileged.
    #[serde(rename = "privileged", skip_serializing_if = "Option::is_none")]
    pub privileged: Option<bool>,
    /// The user it runs as, when one was given.
    #[serde(rename = "user", default, skip_serializing_if = "String::is_empty")]
    pub user: String,
}

/// `GET /exec/{id}/json` (moby's `ContainerExecInspect`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecInspect {
    /// The exec's ID.
    #[serde(rename = "ID")]
    pub id: String,
    /// Whether its process runs.
    #[serde(rename = "Running")]
    pub running: bool,
    /// Its exit code, `null` until it has exited.
    #[serde(rename = "ExitCode")]
    pub exit_code: Option<i32>,
    /// The command, TTY, privilege and user.
    #[serde(rename = "ProcessConfig")]
    pub process_config: ExecProcessConfig,
    /// Whether it was given an open stdin.
    #[serde(rename = "OpenStdin")]
    pub open_stdin: bool,
    /// Whether stderr is attached.
    #[serde(rename = "OpenStderr")]
    pub open_stderr: bool,
    /// Whether stdout is attached.
    #[serde(rename = "OpenStdout")]
    pub open_stdout: bool,
    /// Whether the instance is finished with (its process has exited).
    #[serde(rename = "CanRemove")]
    pub can_remove: bool,
    /// The container it runs in.
    #[serde(rename = "ContainerID")]
    pub container_id: String,
    /// The detach key sequence.
    #[serde(rename = "DetachKeys")]
    pub detach_keys: String,
    /// Its pid on the host (0 until started).
    #[serde(rename = "Pid")]
    pub pid: u32,
}

/// The body of `POST /exec/{id}/start` (moby `ExecStartOptions`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExecStartConfig {
    /// Start without attaching: the answer is 200 with no stream.
    #[serde(rename = "Detach", deserialize_with = "null_default")]
    pub detach: bool,
    /// Whether the exec has a TTY (the stream is then raw, not multiplexed).
    #[serde(rename = "Tty", deserialize_with = "null_default")]
    pub tty: bool,
    /// The terminal's initial `[height, width]`.
    #[serde(rename = "ConsoleSize", skip_serializing_if = "Option::is_none")]
    pub console_size: Option<[u64; 2]>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_config_decodes_engine_names_and_nulls() {
        let c: ExecConfig = serde_json::from_str(
            r#"{"AttachStdin":null,"AttachStdout":true,"Tty":true,"Env":["A=1"],
                "Cmd":["sh","-c","x"],"User":"1000","WorkingDir":"/tmp",
                "Privileged":false,"DetachKeys":"ctrl-x","ConsoleSize":[24,80]}"#,
        )
        .unwrap();
        assert!(!c.attach_stdin && c.attach_stdout && c.tty);
        assert_eq!(c.cmd.as_deref().unwrap(), ["sh", "-c", "x"]);
        assert_eq!(c.user, "1000");
        assert_eq!(c.working_dir, "/tmp");
        assert_eq!(c.console_size, Some([24, 80]));
        assert_eq!(c.detach_keys, "ctrl-x");
    }

    #[test]
    fn exec_inspect_field_names() {
        let i = ExecInspect {
            id: "x".into(),
            running: false,
            exit_code: None,
            process_config: ExecProcessConfig {
                tty: false,
                entrypoint: "sh".into(),
                arguments: vec!["-c".into()],
                privileged: Some(false),
                user: String::new(),
            },
            open_stdin: false,
            open_stderr: true,
            open_stdout: true,
            can_remove: false,
            container_id: "c".into(),
            detach_keys: String::new(),
            pid: 0,
        };
        let v = serde_json::to_value(&i).unwrap();
        assert_eq!(v["ExitCode"], serde_json::Value::Null);
        assert_eq!(v["ContainerID"], "c");
        assert_eq!(v["ProcessConfig"]["entrypoint"], "sh");
        assert_eq!(v["ProcessConfig"]["privileged"], false);
        assert!(v["ProcessConfig"].get("user").is_none());
        for k in [
            "ID",
            "Running",
            "OpenStdin",
            "OpenStderr",
            "OpenStdout",
            "CanRemove",
            "DetachKeys",
            "Pid",
        ] {
            assert!(v.get(k).is_some(), "{k}");
        }
    }
}
