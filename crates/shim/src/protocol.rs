//! The shim's wire protocol: length-prefixed JSON frames over a unix
//! socket, each carrying the protocol version.
//!
//! A frame is a 4-byte big-endian length followed by that many bytes of
//! JSON: `{"v":1,"body":...}`. The client sends one [`Request`] per
//! connection and gets one [`Response`]. After a successful `attach` the
//! connection becomes a byte stream: the shim sends output chunks with
//! Docker's 8-byte stdcopy header (`[stream, 0, 0, 0, len u32 BE]`, stream
//! 1 = stdout, 2 = stderr; a terminal's output is stream 1), the client
//! sends raw stdin bytes.

use oci_spec::runtime::Process;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{ShimError, WireError};
use crate::types::{ExecStdio, ExitStatus, ShimState};

/// The protocol version this build speaks.
pub const VERSION: u32 = 1;
/// The largest frame either side accepts.
pub const MAX_FRAME: usize = 4 << 20;
/// The stdcopy stream id of stdout.
pub const STREAM_STDOUT: u8 = 1;
/// The stdcopy stream id of stderr.
pub const STREAM_STDERR: u8 = 2;

/// What a client asks a shim.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// The container's status, pid and exit.
    State,
    /// Start the created container.
    Start,
    /// Signal the init (or, with `all`, every process of the container).
    Kill {
        /// The signal number.
        signal: i32,
        /// Every process in the cgroup, not just the init.
        all: bool,
    },
    /// Freeze the container.
    Pause,
    /// Thaw the container.
    Resume,
    /// Start another process in the container.
    Exec {
        /// The exec's id, unique within the container.
        exec_id: String,
        /// The process to run.
        process: Box<Process>,
        /// How its stdio is wired.
        stdio: ExecStdio,
    },
    /// Resize the terminal of the init or of an exec.
    Resize {
        /// The exec, or the init when absent.
        exec_id: Option<String>,
        /// Columns.
        width: u16,
        /// Rows.
        height: u16,
    },
    /// Turn this connection into the process's stdio stream.
    Attach {
        /// The exec, or the init when absent.
        exec_id: Option<String>,
    },
    /// Answer once the process has exited.
    Wait {
        /// The exec, or the init when absent.
        exec_id: Option<String>,
    },
    /// Close the process's stdin.
    CloseStdin {
        /// The exec, or the init when absent.
        exec_id: Option<String>,
    },
    /// Delete the stopped container; the shim then exits.
    Delete,
    /// Kill and delete whatever is there; the shim then exits.
    Shutdown,
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Reply {
    /// Done, nothing to report.
    Done,
    /// A process id (start, exec).
    Pid {
        /// The pid on the host.
        pid: u32,
    },
    /// The container's state.
    State {
        /// The state.
        state: ShimState,
    },
    /// How a process ended (wait, delete).
    Exit {
        /// The exit, if the process ran at all.
        exit: Option<ExitStatus>,
    },
    /// The connection is now an attach stream.
    Attached,
}

/// The answer to a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    /// It worked.
    Ok(Reply),
    /// It failed.
    Err(WireError),
}

impl Response {
    /// The response for a result.
    pub fn from_result(r: Result<Reply, ShimError>) -> Self {
        match r {
            Ok(reply) => Response::Ok(reply),
            Err(e) => Response::Err(WireError::from(&e)),
        }
    }

    /// Back into a result on the client side.
    pub fn into_result(self) -> Result<Reply, ShimError> {
        match self {
            Response::Ok(r) => Ok(r),
            Response::Err(e) => Err(e.into()),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    v: u32,
    body: T,
}

/// Encodes `body` as one frame.
pub fn encode<T: Serialize>(body: &T) -> Vec<u8> {
    let json = serde_json::to_vec(&Envelope { v: VERSION, body })
        .expect("protocol types always serialize");
    let mut out = Vec::with_capacity(4 + json.len());
    out.extend_from_slice(&(json.len() as u32).to_be_bytes());
    out.extend_from_slice(&json);
    out
}

/// The payload length announced by a frame header, checked against [`MAX_FRAME`].
pub fn frame_len(header: [u8; 4]) -> Result<usize, ShimError> {
    let len = u32::from_be_bytes(header) as usize;
    if len > MAX_FRAME {
        return Err(ShimError::Protocol(format!(
            "frame of {len} bytes exceeds the limit of {MAX_FRAME}"
        )));
    }
    Ok(len)
}

/// Decodes a frame's JSON payload, checking the version.
pub fn decode_payload<T: DeserializeOwned>(payload: &[u8]) -> Result<T, ShimError> {
    #[derive(Deserialize)]
    struct Version {
        v: u32,
    }
    let v: Version = serde_json::from_slice(payload)
        .map_err(|e| ShimError::Protocol(format!("bad frame: {e}")))?;
    if v.v != VERSION {
        return Err(ShimError::Protocol(format!(
            "unsupported protocol version {} (this side speaks {VERSION})",
            v.v
        )));
    }
    let env: Envelope<T> = serde_json::from_slice(payload)
        .map_err(|e| ShimError::Protocol(format!("bad frame: {e}")))?;
    Ok(env.body)
}

/// Takes one complete frame off the front of `buf`, if there is one.
pub fn take_frame<T: DeserializeOwned>(buf: &mut Vec<u8>) -> Result<Option<T>, ShimError> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let len = frame_len([buf[0], buf[1], buf[2], buf[3]])?;
    if buf.len() < 4 + len {
        return Ok(None);
    }
    let body = decode_payload(&buf[4..4 + len]);
    buf.drain(..4 + len);
    body.map(Some)
}

/// Wraps an output chunk in a stdcopy header.
pub fn stream_chunk(stream: u8, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + data.len());
    out.extend_from_slice(&[stream, 0, 0, 0]);
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::WireKind;

    #[test]
    fn requests_round_trip_through_frames() {
        let mut buf = encode(&Request::Kill {
            signal: 9,
            all: true,
        });
        buf.extend(encode(&Request::Wait {
            exec_id: Some("e1".into()),
        }));
        let first = buf.len() - 1;
        let mut partial = buf[..first].to_vec();
        match take_frame::<Request>(&mut partial).unwrap() {
            Some(Request::Kill {
                signal: 9,
                all: true,
            }) => {}
            other => panic!("{other:?}"),
        }
        // The second frame is one byte short: not yet.
        assert!(take_frame::<Request>(&mut partial).unwrap().is_none());
        partial.push(buf[first]);
        match take_frame::<Request>(&mut partial).unwrap() {
            Some(Request::Wait { exec_id: Some(e) }) if e == "e1" => {}
            other => panic!("{other:?}"),
        }
        assert!(partial.is_empty());
    }

    #[test]
    fn responses_round_trip() {
        for r in [
            Response::Ok(Reply::Pid { pid: 42 }),
            Response::Ok(Reply::Done),
            Response::Err(WireError {
                kind: WireKind::Conflict,
                message: "already running".into(),
            }),
        ] {
            let mut buf = encode(&r);
            assert_eq!(take_frame::<Response>(&mut buf).unwrap(), Some(r));
        }
        let err = Response::Err(WireError {
            kind: WireKind::NotFound,
            message: "no such exec".into(),
        })
        .into_result()
        .unwrap_err();
        assert!(matches!(err, ShimError::NotFound(m) if m == "no such exec"));
    }

    #[test]
    fn frames_are_versioned_and_bounded() {
        let payload = br#"{"v":99,"body":{"op":"state"}}"#;
        let mut buf = (payload.len() as u32).to_be_bytes().to_vec();
        buf.extend_from_slice(payload);
        let err = take_frame::<Request>(&mut buf).unwrap_err();
        assert!(err.to_string().contains("version 99"), "{err}");

        let mut huge = ((MAX_FRAME + 1) as u32).to_be_bytes().to_vec();
        assert!(take_frame::<Request>(&mut huge).is_err());
        let mut garbage = 3u32.to_be_bytes().to_vec();
        garbage.extend_from_slice(b"{{{");
        assert!(take_frame::<Request>(&mut garbage).is_err());
    }

    #[test]
    fn wire_format_is_stable() {
        let frame = encode(&Request::State);
        assert_eq!(&frame[4..], br#"{"v":1,"body":{"op":"state"}}"#);
        assert_eq!(
            stream_chunk(STREAM_STDERR, b"hi"),
            [2, 0, 0, 0, 0, 0, 0, 2, b'h', b'i']
        );
    }
}
