//! The `run` / `create` flow over a fake [`Engine`]: the order of calls
//! (attach and wait before start), the pull on a missing image, warnings,
//! `--cidfile`, `-d`, and the exit statuses.

use std::cell::RefCell;
use std::path::Path;

use berth_api::types::container::{CreateResponse, WaitResponse};
use berth_api::types::image::JsonMessage;
use berth_client::stdcopy::{frame, StdStream};
use clap::Parser;
use tokio::io::AsyncWriteExt;

use super::*;
use crate::cli::{Cli, Command};

struct FakePull(std::vec::IntoIter<JsonMessage>);

impl PullSource for FakePull {
    async fn next_message(&mut self) -> Option<Result<JsonMessage, ClientError>> {
        self.0.next().map(Ok)
    }
}

struct FakeWait(i64);

impl WaitSource for FakeWait {
    async fn result(self) -> Result<WaitResponse, ClientError> {
        Ok(WaitResponse {
            error: None,
            status_code: self.0,
        })
    }
}

#[derive(Default)]
struct Fake {
    calls: RefCell<Vec<String>>,
    /// Create answers "No such image" this many times.
    missing: RefCell<u32>,
    start_error: Option<String>,
    pull_error: bool,
    exit: i64,
}

fn api(status: u16, message: &str) -> ClientError {
    ClientError::Api {
        status,
        message: message.into(),
    }
}

impl Engine for Fake {
    type Pull = FakePull;
    type Wait = FakeWait;

    async fn create(&self, spec: &CreateSpec) -> Result<CreateResponse, ClientError> {
        self.calls
            .borrow_mut()
            .push(format!("create {}", spec.request.config.image));
        let mut missing = self.missing.borrow_mut();
        if *missing > 0 {
            *missing -= 1;
            return Err(api(404, "No such image: busybox:latest"));
        }
        Ok(CreateResponse {
            id: "c0ffee".into(),
            warnings: vec!["low memory".into()],
        })
    }

    async fn pull(&self, image: &ImageRef, _: Option<&str>) -> Result<FakePull, ClientError> {
        self.calls
            .borrow_mut()
            .push(format!("pull {} {}", image.name, image.api_tag()));
        let mut msgs: Vec<JsonMessage> = vec![serde_json::from_str(
            r#"{"status":"Pulling from library/busybox","id":"latest"}"#,
        )
        .unwrap()];
        if self.pull_error {
            msgs.push(
                serde_json::from_str(
                    r#"{"error":"manifest unknown","errorDetail":{"message":"manifest unknown"}}"#,
                )
                .unwrap(),
            );
        }
        Ok(FakePull(msgs.into_iter()))
    }

    async fn attach(&self, id: &str, o: &AttachOptions) -> Result<BoxConn, ClientError> {
        self.calls.borrow_mut().push(format!(
            "attach {id} stdin={} stdout={} stderr={} stream={}",
            o.stdin, o.stdout, o.stderr, o.stream
        ));
        let (client, mut daemon) = tokio::io::duplex(1024);
        tokio::spawn(async move {
            daemon
                .write_all(&frame(StdStream::Stdout, b"hello\n"))
                .await
                .unwrap();
            daemon
                .write_all(&frame(StdStream::Stderr, b"warn\n"))
                .await
                .unwrap();
            daemon.shutdown().await.unwrap();
        });
        Ok(Box::new(client))
    }

    async fn wait(&self, id: &str, c: WaitCondition) -> Result<FakeWait, ClientError> {
        self.calls
            .borrow_mut()
            .push(format!("wait {id} {}", c.as_str()));
        Ok(FakeWait(self.exit))
    }

    async fn start(&self, id: &str) -> Result<(), ClientError> {
        self.calls.borrow_mut().push(format!("start {id}"));
        match &self.start_error {
            Some(m) => Err(api(400, m)),
            None => Ok(()),
        }
    }

    async fn resize(&self, id: &str, h: u32, w: u32) -> Result<(), ClientError> {
        self.calls.borrow_mut().push(format!("resize {id} {h} {w}"));
        Ok(())
    }

    async fn kill(&self, id: &str, signal: &str) -> Result<(), ClientError> {
        self.calls.borrow_mut().push(format!("kill {id} {signal}"));
        Ok(())
    }
}

use crate::stdio::MemWriter as Buf;

fn stdio() -> (Stdio, Buf, Buf) {
    let (out, err) = (Buf::default(), Buf::default());
    let io = Stdio {
        stdin: Some(Box::new(&b""[..])),
        stdout: Box::new(out.clone()),
        stderr: Box::new(err.clone()),
        stdin_tty: false,
        stdout_tty: false,
        stderr_tty: false,
    };
    (io, out, err)
}

fn run_args(args: &[&str]) -> RunArgs {
    let mut argv = vec!["berth", "run"];
    argv.extend_from_slice(args);
    match Cli::try_parse_from(argv).unwrap().command {
        Command::Run(r) => r,
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn pulls_a_missing_image_then_attaches_and_waits_before_start() {
    let fake = Fake {
        missing: RefCell::new(1),
        exit: 3,
        ..Fake::default()
    };
    let (mut io, out, err) = stdio();
    let status = run(
        &fake,
        &run_args(&["busybox", "echo", "hi"]),
        &mut io,
        Path::new("/"),
    )
    .await
    .unwrap();
    assert_eq!(status, 3, "the container's exit code");
    assert_eq!(
        *fake.calls.borrow(),
        [
            "create busybox",
            "pull busybox latest",
            "create busybox",
            "attach c0ffee stdin=false stdout=true stderr=true stream=true",
            "wait c0ffee next-exit",
            "start c0ffee",
        ]
    );
    assert_eq!(out.text(), "hello\n");
    assert_eq!(
        err.text(),
        "Unable to find image 'busybox:latest' locally\nlatest: Pulling from library/busybox\nWARNING: low memory\nwarn\n"
    );
}

#[tokio::test]
async fn rm_waits_for_removal_and_detach_prints_the_id() {
    let fake = Fake::default();
    let (mut io, _, _) = stdio();
    run(
        &fake,
        &run_args(&["--rm", "-i", "busybox"]),
        &mut io,
        Path::new("/"),
    )
    .await
    .unwrap();
    assert!(fake
        .calls
        .borrow()
        .contains(&"wait c0ffee removed".to_string()));
    assert!(fake
        .calls
        .borrow()
        .contains(&"attach c0ffee stdin=true stdout=true stderr=true stream=true".to_string()));

    let fake = Fake::default();
    let (mut io, out, _) = stdio();
    let status = run(
        &fake,
        &run_args(&["-d", "busybox"]),
        &mut io,
        Path::new("/"),
    )
    .await
    .unwrap();
    assert_eq!(status, 0);
    assert_eq!(out.text(), "c0ffee\n");
    assert_eq!(*fake.calls.borrow(), ["create busybox", "start c0ffee"]);
}

#[tokio::test]
async fn start_failures_map_to_126_and_127() {
    for (message, status) in [
        ("exec: \"nosuch\": executable file not found in $PATH", 127),
        ("exec /etc/passwd: permission denied", 126),
        ("something else", 125),
    ] {
        let fake = Fake {
            start_error: Some(message.into()),
            ..Fake::default()
        };
        let (mut io, _, _) = stdio();
        let e = run(
            &fake,
            &run_args(&["busybox", "nosuch"]),
            &mut io,
            Path::new("/"),
        )
        .await
        .unwrap_err();
        assert_eq!(e.status, status, "{message}");
        assert_eq!(
            e.message.unwrap(),
            format!("Error response from daemon: {message}")
        );
    }
}

#[tokio::test]
async fn pull_policies_and_failures() {
    // --pull never: the daemon's error, 125, no pull.
    let fake = Fake {
        missing: RefCell::new(1),
        ..Fake::default()
    };
    let (mut io, _, _) = stdio();
    let e = run(
        &fake,
        &run_args(&["--pull", "never", "busybox"]),
        &mut io,
        Path::new("/"),
    )
    .await
    .unwrap_err();
    assert_eq!(e.status, 125);
    assert_eq!(
        e.message.as_deref(),
        Some("Error response from daemon: No such image: busybox:latest")
    );
    assert_eq!(*fake.calls.borrow(), ["create busybox"]);

    // --pull always pulls first.
    let fake = Fake::default();
    let (mut io, _, _) = stdio();
    run(
        &fake,
        &run_args(&["--pull", "always", "-d", "busybox:1.36"]),
        &mut io,
        Path::new("/"),
    )
    .await
    .unwrap();
    assert_eq!(fake.calls.borrow()[0], "pull busybox 1.36");

    // An error in the progress stream fails the run.
    let fake = Fake {
        missing: RefCell::new(1),
        pull_error: true,
        ..Fake::default()
    };
    let (mut io, _, _) = stdio();
    let e = run(&fake, &run_args(&["busybox"]), &mut io, Path::new("/"))
        .await
        .unwrap_err();
    assert_eq!(
        (e.status, e.message.as_deref()),
        (125, Some("manifest unknown"))
    );

    // Bad flags are 125 before any request.
    let fake = Fake::default();
    let (mut io, _, _) = stdio();
    let e = run(
        &fake,
        &run_args(&["-p", "nope", "busybox"]),
        &mut io,
        Path::new("/"),
    )
    .await
    .unwrap_err();
    assert_eq!(e.status, 125);
    assert!(fake.calls.borrow().is_empty());
}

#[tokio::test]
async fn tty_without_a_terminal_and_cidfile() {
    let fake = Fake::default();
    let (mut io, _, _) = stdio();
    let e = run(
        &fake,
        &run_args(&["-it", "busybox"]),
        &mut io,
        Path::new("/"),
    )
    .await
    .unwrap_err();
    assert_eq!(e.message.as_deref(), Some("the input device is not a TTY"));
    assert!(fake.calls.borrow().is_empty());

    let dir = tempfile::tempdir().unwrap();
    let cid = dir.path().join("cid");
    let cid_s = cid.to_str().unwrap();
    let fake = Fake::default();
    let (mut io, _, _) = stdio();
    run(
        &fake,
        &run_args(&["-d", "--cidfile", cid_s, "busybox"]),
        &mut io,
        Path::new("/"),
    )
    .await
    .unwrap();
    assert_eq!(std::fs::read_to_string(&cid).unwrap(), "c0ffee");
    // A second run refuses an existing file.
    let (mut io, _, _) = stdio();
    let e = run(
        &fake,
        &run_args(&["-d", "--cidfile", cid_s, "busybox"]),
        &mut io,
        Path::new("/"),
    )
    .await
    .unwrap_err();
    assert!(e.message.unwrap().starts_with("container ID file found"));
}

#[tokio::test]
async fn create_prints_the_id() {
    let fake = Fake::default();
    let (mut io, out, err) = stdio();
    let args = match Cli::try_parse_from(["berth", "create", "--name", "web", "busybox"])
        .unwrap()
        .command
    {
        Command::Create(c) => c,
        _ => unreachable!(),
    };
    assert_eq!(
        create(&fake, &args, &mut io, Path::new("/")).await.unwrap(),
        0
    );
    assert_eq!(out.text(), "c0ffee\n");
    assert_eq!(err.text(), "WARNING: low memory\n");
    assert_eq!(*fake.calls.borrow(), ["create busybox"]);
}
