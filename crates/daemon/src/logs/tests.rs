use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use berth_shim::jsonlog::{JsonFileLogger, LogStream as ShimStream};
use futures_util::StreamExt;

use super::*;
use crate::config::HostConfig;
use crate::daemon::Container;
use crate::persist::ContainerRecord;

const T0: u64 = 1_700_000_000;

fn at(secs: u64, nanos: u32) -> SystemTime {
    UNIX_EPOCH + Duration::new(secs, nanos)
}

/// One json-file line as the shim writes it.
fn entry(stream: &str, text: &str, secs: u64) -> String {
    let time = berth_shim::jsonlog::format_time(at(secs, 0));
    format!(
        "{}\n",
        serde_json::json!({"log": format!("{text}\n"), "stream": stream, "time": time})
    )
}

fn write(path: &Path, lines: &[String]) {
    fs::write(path, lines.concat()).unwrap();
}

/// A log with two rotated files: `.2` has a0 a1, `.1` has b0 b1, the live
/// file c0 c1 c2 (stderr on odd lines), one second apart.
fn rotated_log(dir: &Path) -> PathBuf {
    let path = dir.join("x-json.log");
    let mut t = T0;
    let mut mk = |names: &[&str]| -> Vec<String> {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                t += 1;
                entry(if i % 2 == 0 { "stdout" } else { "stderr" }, n, t)
            })
            .collect()
    };
    let a = mk(&["a0", "a1"]);
    let b = mk(&["b0", "b1"]);
    let c = mk(&["c0", "c1", "c2"]);
    write(&reader::numbered(&path, 2), &a);
    write(&reader::numbered(&path, 1), &b);
    write(&path, &c);
    path
}

fn texts(msgs: &[LogMessage]) -> Vec<String> {
    msgs.iter()
        .map(|m| String::from_utf8_lossy(&m.line).trim_end().to_string())
        .collect()
}

fn read(path: &Path, opts: LogsOptions) -> Vec<String> {
    texts(&read_logs(path, &opts).unwrap())
}

#[test]
fn reads_all_lines_in_order_across_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let path = rotated_log(dir.path());
    assert_eq!(
        read(&path, LogsOptions::default()),
        ["a0", "a1", "b0", "b1", "c0", "c1", "c2"]
    );
    let msgs = read_logs(&path, &LogsOptions::default()).unwrap();
    assert_eq!(msgs[0].stream, Stream::Stdout);
    assert_eq!(msgs[1].stream, Stream::Stderr);
    assert_eq!(msgs[0].time, at(T0 + 1, 0));
    assert_eq!(msgs[0].line, b"a0\n");
    assert_eq!(log_files(&path).len(), 3);
}

#[test]
fn missing_log_reads_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("none-json.log");
    assert!(read(&path, LogsOptions::default()).is_empty());
}

#[test]
fn selects_streams() {
    let dir = tempfile::tempdir().unwrap();
    let path = rotated_log(dir.path());
    let stdout = LogsOptions {
        stderr: false,
        ..LogsOptions::default()
    };
    assert_eq!(read(&path, stdout), ["a0", "b0", "c0", "c2"]);
    let stderr = LogsOptions {
        stdout: false,
        ..LogsOptions::default()
    };
    assert_eq!(read(&path, stderr), ["a1", "b1", "c1"]);
}

#[test]
fn tail_spans_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = rotated_log(dir.path());
    let tail = |n| LogsOptions {
        tail: Some(n),
        ..LogsOptions::default()
    };
    assert!(read(&path, tail(0)).is_empty());
    assert_eq!(read(&path, tail(2)), ["c1", "c2"]);
    assert_eq!(read(&path, tail(3)), ["c0", "c1", "c2"]);
    assert_eq!(read(&path, tail(4)), ["b1", "c0", "c1", "c2"]);
    assert_eq!(read(&path, tail(6)), ["a1", "b0", "b1", "c0", "c1", "c2"]);
    assert_eq!(read(&path, tail(100)).len(), 7);
    // As in Docker, tail counts both streams before selection.
    let stderr_tail = LogsOptions {
        stdout: false,
        tail: Some(3),
        ..LogsOptions::default()
    };
    assert_eq!(read(&path, stderr_tail), ["c1"]);
}

#[test]
fn tail_scans_backwards_over_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big-json.log");
    let long = "x".repeat(1000);
    let lines: Vec<String> = (0..300)
        .map(|i| entry("stdout", &format!("{i} {long}"), T0 + i))
        .collect();
    write(&path, &lines);
    let got = read(
        &path,
        LogsOptions {
            tail: Some(150),
            ..LogsOptions::default()
        },
    );
    assert_eq!(got.len(), 150);
    assert!(got[0].starts_with("150 "));
    assert!(got[149].starts_with("299 "));
}

#[test]
fn since_and_until_filter() {
    let dir = tempfile::tempdir().unwrap();
    let path = rotated_log(dir.path());
    let since = LogsOptions {
        since: Some(at(T0 + 4, 0)),
        ..LogsOptions::default()
    };
    assert_eq!(read(&path, since), ["b1", "c0", "c1", "c2"]);
    let until = LogsOptions {
        until: Some(at(T0 + 3, 500)),
        ..LogsOptions::default()
    };
    assert_eq!(read(&path, until), ["a0", "a1", "b0"]);
    let both = LogsOptions {
        since: Some(at(T0 + 4, 0)),
        until: Some(at(T0 + 5, 0)),
        tail: Some(5),
        ..LogsOptions::default()
    };
    assert_eq!(read(&path, both), ["b1", "c0"]);
}

#[test]
fn partial_last_line_and_corrupt_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p-json.log");
    let mut text = entry("stdout", "one", T0);
    text.push_str("{not json}\n");
    text.push('\n');
    text.push_str(r#"{"log":"bad time\n","stream":"stdout","time":"yesterday"}"#);
    text.push('\n');
    text.push_str(&entry("stderr", "two", T0 + 1));
    text.push_str(r#"{"log":"half"#);
    fs::write(&path, &text).unwrap();
    assert_eq!(read(&path, LogsOptions::default()), ["one", "two"]);
    assert_eq!(
        read(
            &path,
            LogsOptions {
                tail: Some(1),
                ..LogsOptions::default()
            }
        ),
        ["two"]
    );
}

#[test]
fn reads_what_the_shim_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s-json.log");
    let mut logger = JsonFileLogger::open(&path, Some(200), 10).unwrap();
    for i in 0..20 {
        let stream = if i % 3 == 0 {
            ShimStream::Stderr
        } else {
            ShimStream::Stdout
        };
        logger
            .log(stream, format!("line {i}\n").as_bytes(), at(T0 + i, 1000))
            .unwrap();
    }
    assert!(log_files(&path).len() > 3);
    let got = read(&path, LogsOptions::default());
    let want: Vec<String> = (0..20).map(|i| format!("line {i}")).collect();
    assert_eq!(got, want);
}

#[test]
fn timestamps_prefix_is_fixed_width() {
    let m = LogMessage {
        stream: Stream::Stdout,
        time: at(T0, 120_000_000),
        line: b"hi\n".to_vec(),
    };
    assert_eq!(m.render(false), b"hi\n");
    assert_eq!(m.render(true), b"2023-11-14T22:13:20.120000000Z hi\n");
    assert_eq!(
        format_time_fixed(at(T0, 0)),
        "2023-11-14T22:13:20.000000000Z"
    );
    assert_eq!(
        format_time_fixed(at(0, 5)),
        "1970-01-01T00:00:00.000000005Z"
    );
    assert_eq!(
        format_time_fixed(UNIX_EPOCH - Duration::from_secs(1)),
        "1969-12-31T23:59:59.000000000Z"
    );
    assert_eq!(
        format_time_fixed(at(951_782_400, 0)),
        "2000-02-29T00:00:00.000000000Z"
    );
}

#[test]
fn decodes_entries() {
    let m = LogMessage::from_json(
        br#"{"log":"x\n","stream":"stderr","time":"2023-11-14T22:13:20.5Z","attrs":{"a":"b"}}"#,
    )
    .unwrap();
    assert_eq!(m.stream, Stream::Stderr);
    assert_eq!(m.time, at(T0, 500_000_000));
    let m = LogMessage::from_json(
        br#"{"log":"x","stream":"weird","time":"2023-11-14T23:13:20+01:00"}"#,
    )
    .unwrap();
    assert_eq!(m.stream, Stream::Stdout);
    assert_eq!(m.time, at(T0, 0));
    assert_eq!(m.line, b"x");
    assert!(LogMessage::from_json(b"[]").is_err());
}

#[test]
fn parses_query() {
    let now = at(T0, 700_000_000);
    let o = LogsOptions::from_query(
        [
            ("stdout", "1"),
            ("stderr", "false"),
            ("follow", "true"),
            ("tail", "all"),
            ("since", "1700000000.5"),
            ("until", "0"),
            ("timestamps", "1"),
        ],
        now,
    )
    .unwrap();
    assert_eq!(
        o,
        LogsOptions {
            stdout: true,
            stderr: false,
            follow: true,
            tail: None,
            since: Some(at(T0, 500_000_000)),
            until: None,
            timestamps: true,
        }
    );
    let o = LogsOptions::from_query([("tail", "10")], now).unwrap();
    assert_eq!(o.tail, Some(10));
    assert!(!o.stdout && !o.stderr);
    assert_eq!(parse_tail("-3"), None);
    assert_eq!(parse_tail(""), None);
    assert_eq!(parse_tail("0"), Some(0));
    assert!(LogsOptions::from_query([("since", "garbage")], now).is_err());
}

#[test]
fn parses_timestamps_like_docker() {
    let now = at(T0, 700_000_000);
    let p = |s: &str| parse_timestamp(s, now).unwrap();
    assert_eq!(p("1700000000"), at(T0, 0));
    assert_eq!(p("1700000000.5"), at(T0, 500_000_000));
    assert_eq!(p("1700000000.000000001"), at(T0, 1));
    assert_eq!(p("10m"), at(T0 - 600, 0));
    assert_eq!(p("1h30m"), at(T0 - 5400, 0));
    assert_eq!(p("1.5s"), at(T0 - 1, 0));
    assert_eq!(p("-10s"), at(T0 + 10, 0));
    assert_eq!(p("2023-11-14T22:13:20Z"), at(T0, 0));
    assert_eq!(p("2023-11-14T22:13:20.25Z"), at(T0, 250_000_000));
    assert_eq!(p("2023-11-14T23:13:20+01:00"), at(T0, 0));
    assert_eq!(p("2023-11-14T22:13:20"), at(T0, 0));
    assert_eq!(p("2023-11-14T22:13"), at(T0 - 20, 0));
    assert_eq!(p("2023-11-14T22"), at(T0 - 13 * 60 - 20, 0));
    assert_eq!(p("2023-11-14"), at(T0 - 22 * 3600 - 13 * 60 - 20, 0));
    assert_eq!(p("2023-11-14Z"), at(T0 - 22 * 3600 - 13 * 60 - 20, 0));
    assert_eq!(p("0"), UNIX_EPOCH);
    for bad in [
        "2023-13-01",
        "2023-02-30T00:00:00Z",
        "10x",
        "abc",
        "1.2.3",
        "",
    ] {
        assert!(parse_timestamp(bad, now).is_err(), "{bad}");
    }
    assert_eq!(parse_go_duration("300ms"), Some(300_000_000));
    assert_eq!(parse_go_duration("2h45m"), Some(9_900_000_000_000));
    assert_eq!(parse_go_duration("1"), None);
}

fn container(dir: &Path) -> Arc<Container> {
    let mut record = ContainerRecord {
        id: "c".repeat(64),
        ..ContainerRecord::default()
    };
    record.state.running = true;
    Arc::new(Container::new(
        record,
        HostConfig::default(),
        dir.to_path_buf(),
    ))
}

async fn next_text(s: &mut LogStream) -> Option<String> {
    let m = tokio::time::timeout(Duration::from_secs(5), s.next())
        .await
        .expect("log line in time")?;
    Some(
        String::from_utf8(m.unwrap().line)
            .unwrap()
            .trim_end()
            .to_string(),
    )
}

#[tokio::test]
async fn follow_sees_appends_and_rotation_and_ends_on_exit() {
    let dir = tempfile::tempdir().unwrap();
    let c = container(dir.path());
    let path = c.log_path();
    let mut logger = JsonFileLogger::open(&path, Some(300), 3).unwrap();
    logger
        .log(ShimStream::Stdout, b"before\n", SystemTime::now())
        .unwrap();
    let opts = LogsOptions {
        follow: true,
        ..LogsOptions::default()
    };
    let mut s = spawn_reader(path.clone(), opts, Some(c.subscribe()));
    assert_eq!(next_text(&mut s).await.unwrap(), "before");

    // Appends, with rotations in between (each entry is ~90 bytes).
    let writer = std::thread::spawn(move || {
        for i in 0..12 {
            logger
                .log(
                    ShimStream::Stdout,
                    format!("n{i}\n").as_bytes(),
                    SystemTime::now(),
                )
                .unwrap();
            if i % 2 == 0 {
                std::thread::sleep(Duration::from_millis(60));
            }
        }
        logger
    });
    for i in 0..12 {
        assert_eq!(next_text(&mut s).await.unwrap(), format!("n{i}"));
    }
    let mut logger = writer.join().unwrap();
    assert!(reader::numbered(&path, 1).exists());

    // A line logged just before the exit is still delivered, then it ends.
    logger
        .log(ShimStream::Stderr, b"last\n", SystemTime::now())
        .unwrap();
    c.notify_exit(0);
    assert_eq!(next_text(&mut s).await.unwrap(), "last");
    assert!(next_text(&mut s).await.is_none());
}

#[tokio::test]
async fn follow_waits_for_the_rest_of_a_partial_line() {
    let dir = tempfile::tempdir().unwrap();
    let c = container(dir.path());
    let path = c.log_path();
    let line = entry("stdout", "whole", T0);
    let (head, rest) = line.split_at(10);
    fs::write(&path, head).unwrap();
    let opts = LogsOptions {
        follow: true,
        timestamps: true,
        ..LogsOptions::default()
    };
    let mut s = spawn_reader(path.clone(), opts, Some(c.subscribe()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(rest.as_bytes())
        .unwrap();
    let m = s.next().await.unwrap().unwrap();
    assert_eq!(m.render(true), b"2023-11-14T22:13:20.000000000Z whole\n");
    c.notify_removed();
    assert!(next_text(&mut s).await.is_none());
}

#[tokio::test]
async fn follow_with_a_past_until_ends() {
    let dir = tempfile::tempdir().unwrap();
    let path = rotated_log(dir.path());
    let opts = LogsOptions {
        follow: true,
        until: Some(at(T0 + 100, 0)),
        ..LogsOptions::default()
    };
    let mut s = spawn_reader(path, opts, None);
    let mut got = Vec::new();
    while let Some(t) = next_text(&mut s).await {
        got.push(t);
    }
    assert_eq!(got.len(), 7);
}

#[tokio::test]
async fn follow_waits_for_the_log_to_appear() {
    let dir = tempfile::tempdir().unwrap();
    let c = container(dir.path());
    let path = c.log_path();
    let opts = LogsOptions {
        follow: true,
        tail: Some(0),
        ..LogsOptions::default()
    };
    let mut s = spawn_reader(path.clone(), opts, Some(c.subscribe()));
    tokio::time::sleep(Duration::from_millis(200)).await;
    write(&path, &[entry("stdout", "late", T0)]);
    assert_eq!(next_text(&mut s).await.unwrap(), "late");
    drop(s);
}

#[tokio::test]
async fn follow_with_tail_zero_picks_up_a_line_in_progress() {
    let dir = tempfile::tempdir().unwrap();
    let c = container(dir.path());
    let path = c.log_path();
    let line = entry("stdout", "in progress", T0 + 1);
    let (head, rest) = line.split_at(7);
    fs::write(&path, format!("{}{head}", entry("stdout", "old", T0))).unwrap();
    let opts = LogsOptions {
        follow: true,
        tail: Some(0),
        ..LogsOptions::default()
    };
    let mut s = spawn_reader(path.clone(), opts, Some(c.subscribe()));
    tokio::time::sleep(Duration::from_millis(200)).await;
    fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(rest.as_bytes())
        .unwrap();
    assert_eq!(next_text(&mut s).await.unwrap(), "in progress");
    c.notify_exit(1);
    assert!(next_text(&mut s).await.is_none());
}
