//! End-to-end tests of berth-shim against the real kernel: a `ShimClient`
//! launches real `berth-shim` processes, which create containers through
//! berth-runtime from the busybox fixture. Run as root, after
//! `cargo build --workspace` (the tests use the built `berth-shim`).

use std::fs;
use std::io::Read;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use berth_errdefs::{ErrorKind, HasKind};
use berth_shim::oci_spec::runtime::Process;
use berth_shim::protocol::{encode, Request};
use berth_shim::{
    ContainerdClient, CreateRequest, ExecStdio, OutputStream, ShimClient, ShimConfig, Status,
    StdioOptions,
};
use integration_tests::{unique, workspace_bin, Bundle, LeakCheck};
use serde_json::Value;
use tempfile::TempDir;

/// A private exec root and runtime root, and a client over them. On drop,
/// shuts down any shim a failed test left behind.
struct Env {
    tmp: TempDir,
    client: ShimClient,
}

impl Env {
    fn new() -> Self {
        integration_tests::require_root();
        let tmp = tempfile::Builder::new()
            .prefix("berth-it-shim-")
            .tempdir()
            .unwrap();
        let client = ShimClient::new(Self::config(tmp.path()));
        Self { tmp, client }
    }

    fn config(root: &Path) -> ShimConfig {
        ShimConfig {
            exec_root: root.join("shims"),
            runtime_root: root.join("runtime"),
            // BERTH_SHIM_BIN: measure another build (e.g. target/release/berth-shim).
            shim_binary: std::env::var_os("BERTH_SHIM_BIN")
                .map(PathBuf::from)
                .unwrap_or_else(|| workspace_bin("berth-shim")),
        }
    }

    /// Another client over the same roots, as a restarted daemon would make.
    fn new_client(&self) -> ShimClient {
        ShimClient::new(Self::config(self.tmp.path()))
    }

    fn state_dir(&self, id: &str) -> PathBuf {
        self.client.state_dir(id)
    }

    fn log_path(&self, id: &str) -> PathBuf {
        self.tmp
            .path()
            .join("containers")
            .join(format!("{id}-json.log"))
    }

    fn request(
        &self,
        id: &str,
        bundle: &Bundle,
        terminal: bool,
        open_stdin: bool,
    ) -> CreateRequest {
        CreateRequest {
            id: id.to_string(),
            bundle: bundle.path.clone(),
            stdio: StdioOptions {
                terminal,
                open_stdin,
                log_path: self.log_path(id),
                log_max_size: None,
                log_max_files: 1,
            },
        }
    }

    /// Creates a container running `args` (no terminal, no stdin).
    async fn create(&self, args: &[&str]) -> (String, Bundle) {
        let bundle = Bundle::new(args);
        let id = unique("shim");
        self.client
            .create(self.request(&id, &bundle, false, false))
            .await
            .expect("create");
        (id, bundle)
    }

    /// Deletes `id` and checks nothing is left: shim process, state dir,
    /// cgroups, mounts, container processes.
    async fn delete_and_check(&self, id: &str, bundle: &Bundle) {
        let leaks = LeakCheck::new(bundle);
        let shim_pid = self.client.state(id).await.expect("state").shim_pid;
        self.client.delete(id).await.expect("delete");
        assert!(!self.state_dir(id).exists(), "state dir left behind");
        wait_until("the shim to exit", || !process_exists(shim_pid));
        assert!(
            !self.tmp.path().join("runtime").join(id).exists(),
            "runtime state left behind"
        );
        for entry in fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
            let dir = entry.path().join(bundle.cgroup_path());
            assert!(!dir.exists(), "cgroup {} left behind", dir.display());
        }
        drop(leaks);
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let Ok(dirs) = fs::read_dir(self.tmp.path().join("shims")) else {
            return;
        };
        for dir in dirs.flatten() {
            // Synchronous: this may run inside the test's runtime.
            if let Ok(mut s) = UnixStream::connect(dir.path().join("shim.sock")) {
                use std::io::Write;
                let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                let _ = s.write_all(&encode(&Request::Shutdown));
                let _ = s.read_to_end(&mut Vec::new());
            }
        }
    }
}

fn process_exists(pid: u32) -> bool {
    // A zombie still has /proc/<pid>; it is gone once its new parent reaps it.
    fs::read_to_string(format!("/proc/{pid}/stat")).is_ok()
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn log_entries(path: &Path) -> Vec<Value> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("json-file line"))
        .collect()
}

fn process(args: &[&str]) -> Process {
    serde_json::from_value(serde_json::json!({
        "args": args,
        "cwd": "/",
        "env": ["PATH=/bin:/usr/bin:/sbin:/usr/sbin"],
        "user": {"uid": 0, "gid": 0},
    }))
    .unwrap()
}

/// A `/proc/<pid>/status` field in kB (VmRSS, RssAnon, RssFile...).
fn status_kb(pid: u32, field: &str) -> u64 {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_goes_to_the_json_file_log_with_its_stream() {
    let env = Env::new();
    let (id, bundle) = env.create(&["sh", "-c", "echo hi; echo err >&2"]).await;
    let st = env.client.state(&id).await.unwrap();
    assert_eq!(st.status, Status::Created);
    let pid = env.client.start(&id).await.expect("start");
    assert!(pid > 0);
    let exit = env.client.wait(&id, None).await.expect("wait");
    assert_eq!(exit.code, 0);
    assert_eq!(exit.signal, None);
    assert!(!exit.oom_killed);

    let entries = log_entries(&env.log_path(&id));
    let find = |text: &str| {
        entries
            .iter()
            .find(|e| e["log"] == text)
            .unwrap_or_else(|| panic!("{text:?} not in log: {entries:?}"))
    };
    assert_eq!(find("hi\n")["stream"], "stdout");
    assert_eq!(find("err\n")["stream"], "stderr");
    let time = find("hi\n")["time"].as_str().unwrap().to_string();
    assert!(time.ends_with('Z') && time.contains('T'), "{time}");
    assert!(time.len() >= 20 && time.as_bytes()[4] == b'-', "{time}");

    let st = env.client.state(&id).await.unwrap();
    assert_eq!(st.status, Status::Stopped);
    assert_eq!(st.exit.as_ref().map(|e| e.code), Some(0));
    env.delete_and_check(&id, &bundle).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_code_propagates() {
    let env = Env::new();
    let (id, bundle) = env.create(&["sh", "-c", "exit 3"]).await;
    env.client.start(&id).await.unwrap();
    let exit = env.client.wait(&id, None).await.unwrap();
    assert_eq!((exit.code, exit.signal), (3, None));
    // A second waiter gets the same answer.
    assert_eq!(env.client.wait(&id, None).await.unwrap(), exit);
    let deleted = env.client.delete(&id).await.unwrap();
    assert_eq!(deleted.map(|e| e.code), Some(3));
    assert!(!env.state_dir(&id).exists());
    drop(LeakCheck::new(&bundle));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_is_exit_137_and_recorded() {
    let env = Env::new();
    let (id, bundle) = env.create(&["sleep", "100"]).await;
    env.client.start(&id).await.unwrap();
    let st = env.client.state(&id).await.unwrap();
    assert_eq!(st.status, Status::Running);
    // The shim trims its memory once idle for a second.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let rss = |f| status_kb(st.shim_pid, f);
    eprintln!(
        "idle shim of a running container: VmRSS {} kB (RssAnon {} kB, RssFile {} kB)",
        rss("VmRSS"),
        rss("RssAnon"),
        rss("RssFile"),
    );
    assert!(rss("VmRSS") > 0);

    // Lifecycle errors are typed.
    let again = env.client.start(&id).await.unwrap_err();
    assert_eq!(again.kind(), ErrorKind::Conflict, "{again}");
    let running = env.client.delete(&id).await.unwrap_err();
    assert_eq!(running.kind(), ErrorKind::Conflict, "{running}");

    env.client.pause(&id).await.expect("pause");
    assert_eq!(env.client.state(&id).await.unwrap().status, Status::Paused);
    env.client.resume(&id).await.expect("resume");
    assert_eq!(env.client.state(&id).await.unwrap().status, Status::Running);

    env.client.kill(&id, libc::SIGKILL, false).await.unwrap();
    let exit = env.client.wait(&id, None).await.unwrap();
    assert_eq!((exit.code, exit.signal), (137, Some(libc::SIGKILL)));
    let on_disk: Value =
        serde_json::from_slice(&fs::read(env.state_dir(&id).join("exit.json")).unwrap()).unwrap();
    assert_eq!(on_disk["code"], 137);
    let late = env
        .client
        .kill(&id, libc::SIGTERM, false)
        .await
        .unwrap_err();
    assert_eq!(late.kind(), ErrorKind::Conflict, "{late}");
    env.delete_and_check(&id, &bundle).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_duplicate_containers_are_typed_errors() {
    let env = Env::new();
    let err = env.client.state("nope").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let err = env.client.state("../etc").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter, "{err}");

    let (id, bundle) = env.create(&["true"]).await;
    let dup = env
        .client
        .create(env.request(&id, &bundle, false, false))
        .await
        .unwrap_err();
    assert_eq!(dup.kind(), ErrorKind::Conflict, "{dup}");
    let err = env
        .client
        .wait(&id, Some("no-such-exec"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");

    // A config the runtime rejects fails create cleanly, with its kind.
    let mut bad = Bundle::new(&["true"]);
    bad.config["process"]["terminal"] = Value::Bool(true);
    bad.save();
    let bad_id = unique("shim-bad");
    let err = env
        .client
        .create(env.request(&bad_id, &bad, false, false))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter, "{err}");
    assert!(err.to_string().contains("terminal"), "{err}");
    assert!(!env.state_dir(&bad_id).exists());

    // A created, never started container can be deleted.
    env.delete_and_check(&id, &bundle).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_output_and_exit() {
    let env = Env::new();
    let (id, bundle) = env.create(&["sleep", "100"]).await;
    env.client.start(&id).await.unwrap();
    let pid = env
        .client
        .exec(
            &id,
            "e1",
            process(&["sh", "-c", "echo from-exec; echo oops >&2; exit 5"]),
            ExecStdio::default(),
        )
        .await
        .expect("exec");
    assert!(pid > 0);
    // Output produced before the attach is kept for it.
    let attach = env.client.attach(&id, Some("e1")).await.expect("attach");
    let (out, err) = attach.output.collect().await.unwrap();
    assert_eq!(String::from_utf8_lossy(&out), "from-exec\n");
    assert_eq!(String::from_utf8_lossy(&err), "oops\n");
    assert_eq!(env.client.wait(&id, Some("e1")).await.unwrap().code, 5);
    let dup = env
        .client
        .exec(&id, "e1", process(&["true"]), ExecStdio::default())
        .await
        .unwrap_err();
    assert_eq!(dup.kind(), ErrorKind::Conflict, "{dup}");
    // Exec output is not the container's log.
    assert!(!fs::read_to_string(env.log_path(&id))
        .unwrap_or_default()
        .contains("from-exec"));

    env.client.kill(&id, libc::SIGKILL, false).await.unwrap();
    env.client.wait(&id, None).await.unwrap();
    env.delete_and_check(&id, &bundle).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_streams_output_and_feeds_stdin() {
    let env = Env::new();
    let bundle = Bundle::new(&["cat"]);
    let id = unique("shim");
    env.client
        .create(env.request(&id, &bundle, false, true))
        .await
        .unwrap();
    let mut attach = env.client.attach(&id, None).await.expect("attach");
    env.client.start(&id).await.unwrap();
    attach.stdin.write_all(b"hello\n").await.unwrap();
    let (stream, data) = attach.output.next().await.unwrap().unwrap();
    assert_eq!(
        (stream, data.as_slice()),
        (OutputStream::Stdout, &b"hello\n"[..])
    );
    attach.stdin.write_all(b"partial").await.unwrap();
    env.client.close_stdin(&id, None).await.unwrap();
    let (out, _) = attach.output.collect().await.unwrap();
    assert_eq!(out, b"partial");
    assert_eq!(env.client.wait(&id, None).await.unwrap().code, 0);
    let logged: Vec<String> = log_entries(&env.log_path(&id))
        .iter()
        .map(|e| e["log"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(logged, ["hello\n", "partial"]);
    env.delete_and_check(&id, &bundle).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminal_output_is_logged_and_resizable() {
    let env = Env::new();
    let mut bundle = Bundle::new(&["sh", "-c", "sleep 0.3; stty size; echo tty-out"]);
    bundle.config["process"]["terminal"] = Value::Bool(true);
    bundle.save();
    let id = unique("shim-tty");
    env.client
        .create(env.request(&id, &bundle, true, false))
        .await
        .expect("create with terminal");
    env.client.resize(&id, None, 100, 30).await.expect("resize");
    env.client.start(&id).await.unwrap();
    assert_eq!(env.client.wait(&id, None).await.unwrap().code, 0);
    let logged: Vec<String> = log_entries(&env.log_path(&id))
        .iter()
        .map(|e| {
            assert_eq!(e["stream"], "stdout");
            e["log"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(logged, ["30 100\r\n", "tty-out\r\n"]);
    env.delete_and_check(&id, &bundle).await;
}

/// Runs as a child process of the test below: creates and starts a
/// container with its own client, then blocks until it is killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "helper run by shim_outlives_its_launcher"]
async fn helper_launch_and_block() {
    let Ok(spec) = std::env::var("BERTH_SHIM_IT_HELPER") else {
        return;
    };
    let v: Value = serde_json::from_str(&spec).unwrap();
    let root = PathBuf::from(v["root"].as_str().unwrap());
    let req: CreateRequest = serde_json::from_value(v["request"].clone()).unwrap();
    let client = ShimClient::new(Env::config(&root));
    let id = req.id.clone();
    client.create(req).await.unwrap();
    client.start(&id).await.unwrap();
    fs::write(root.join("helper-ready"), b"").unwrap();
    tokio::time::sleep(Duration::from_secs(600)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shim_outlives_its_launcher_and_records_the_exit() {
    let env = Env::new();
    let bundle = Bundle::new(&["sh", "-c", "sleep 1; echo done; exit 7"]);
    let id = unique("shim-orphan");
    let spec = serde_json::json!({
        "root": env.tmp.path(),
        "request": env.request(&id, &bundle, false, false),
    });
    // Output through a file: the shim must not hold a pipe of ours.
    let out = fs::File::create(env.tmp.path().join("helper.out")).unwrap();
    let mut helper = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "helper_launch_and_block",
            "--ignored",
            "--nocapture",
        ])
        .env("BERTH_SHIM_IT_HELPER", spec.to_string())
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    let ready = env.tmp.path().join("helper-ready");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready.exists() {
        if Instant::now() > deadline || helper.try_wait().unwrap().is_some() {
            let _ = helper.kill();
            let _ = helper.wait();
            panic!(
                "helper failed: {}",
                fs::read_to_string(env.tmp.path().join("helper.out")).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // The daemon dies hard.
    helper.kill().unwrap();
    helper.wait().unwrap();

    // The container ends while nobody is connected; the shim records it.
    let exit_file = env.state_dir(&id).join("exit.json");
    wait_until("exit.json", || exit_file.exists());
    let on_disk: Value = serde_json::from_slice(&fs::read(&exit_file).unwrap()).unwrap();
    assert_eq!(on_disk["code"], 7);
    let recorded = env.new_client().recorded_exit(&id).unwrap().unwrap();
    assert_eq!((recorded.code, recorded.signal), (7, None));

    // A restarted daemon finds the shim and learns how the container ended.
    let client = env.new_client();
    assert_eq!(client.restore().await.unwrap(), vec![id.clone()]);
    let st = client.state(&id).await.unwrap();
    assert_eq!(st.status, Status::Stopped);
    assert_eq!(st.exit.as_ref().map(|e| e.code), Some(7));
    assert_eq!(client.wait(&id, None).await.unwrap().code, 7);
    assert!(log_entries(&env.log_path(&id))
        .iter()
        .any(|e| e["log"] == "done\n"));
    env.delete_and_check(&id, &bundle).await;
    assert!(client.restore().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_rotation_honours_max_size_and_max_file() {
    let env = Env::new();
    let bundle = Bundle::new(&[
        "sh",
        "-c",
        "i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); done",
    ]);
    let id = unique("shim-rot");
    let mut req = env.request(&id, &bundle, false, false);
    req.stdio.log_max_size = Some(2000);
    req.stdio.log_max_files = 3;
    env.client.create(req).await.unwrap();
    env.client.start(&id).await.unwrap();
    assert_eq!(env.client.wait(&id, None).await.unwrap().code, 0);
    let live = env.log_path(&id);
    let numbered = |n: u32| PathBuf::from(format!("{}.{n}", live.display()));
    assert!(numbered(1).exists() && numbered(2).exists());
    assert!(
        !numbered(3).exists(),
        "max-file 3 keeps the live file and two more"
    );
    let kept: Vec<String> = [numbered(2), numbered(1), live.clone()]
        .iter()
        .flat_map(|f| log_entries(f))
        .map(|e| e["log"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kept.last().map(String::as_str), Some("line-299\n"));
    let first: usize = kept[0]["line-".len()..].trim().parse().unwrap();
    let expected: Vec<String> = (first..300).map(|i| format!("line-{i}\n")).collect();
    assert_eq!(
        kept, expected,
        "nothing lost or reordered within the kept files"
    );
    for f in [numbered(1), numbered(2)] {
        let len = fs::metadata(&f).unwrap().len();
        assert!((2000..2200).contains(&len), "{}: {len} bytes", f.display());
    }
    env.delete_and_check(&id, &bundle).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_with_a_terminal_and_kill_all() {
    let env = Env::new();
    let (id, bundle) = env.create(&["sh", "-c", "sleep 100 & sleep 100"]).await;
    env.client.start(&id).await.unwrap();
    let stdio = ExecStdio {
        terminal: true,
        open_stdin: false,
    };
    env.client
        .exec(&id, "tty", process(&["sh", "-c", "tty; echo x"]), stdio)
        .await
        .expect("exec with terminal");
    let (out, err) = env
        .client
        .attach(&id, Some("tty"))
        .await
        .unwrap()
        .output
        .collect()
        .await
        .unwrap();
    let out = String::from_utf8_lossy(&out);
    assert!(
        out.starts_with("/dev/pts/") && out.ends_with("x\r\n"),
        "{out:?}"
    );
    assert!(err.is_empty());
    assert_eq!(env.client.wait(&id, Some("tty")).await.unwrap().code, 0);

    env.client.kill(&id, libc::SIGKILL, true).await.unwrap();
    let exit = env.client.wait(&id, None).await.unwrap();
    assert_eq!(exit.code, 137);
    env.delete_and_check(&id, &bundle).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oom_kill_is_reported() {
    // With swap the allocation may just swap out instead of hitting the limit.
    let swaps = fs::read_to_string("/proc/swaps").unwrap_or_default();
    if swaps.lines().count() > 1 {
        eprintln!("skipped: swap is enabled");
        return;
    }
    let env = Env::new();
    let mut bundle = Bundle::new(&[
        "sh",
        "-c",
        "x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo survived",
    ]);
    bundle.config["linux"]["resources"]["memory"] = serde_json::json!({"limit": 16 << 20});
    bundle.save();
    let id = unique("shim-oom");
    env.client
        .create(env.request(&id, &bundle, false, false))
        .await
        .unwrap();
    env.client.start(&id).await.unwrap();
    let exit = env.client.wait(&id, None).await.unwrap();
    assert!(exit.oom_killed, "{exit:?}");
    assert_eq!((exit.code, exit.signal), (137, Some(libc::SIGKILL)));
    env.delete_and_check(&id, &bundle).await;
}
