//! docker-py (the Docker SDK for Python) driving a real `berthd`: the
//! script `integration-tests/py/docker_py_smoke.py` pulls an image the
//! daemon does not have, runs containers attached and detached, waits,
//! reads logs and removes them, and uses a named volume (pre-filled, kept,
//! listed by label, removed) and a tmpfs. CI installs `python3` and `python3-docker`;
//! without them this test fails and says so.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use integration_tests::berthd::{text, wait_timeout, Berthd};
use integration_tests::daemon_world::DaemonWorld;

/// The smoke script, next to this crate's tests.
fn script() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("py/docker_py_smoke.py")
}

/// Fails with an install hint unless `python3` can import `docker`.
fn require_docker_py() {
    let probe = Command::new("python3")
        .args(["-c", "import docker; print(docker.__version__)"])
        .output();
    match probe {
        Err(e) => panic!(
            "python3 is needed for the docker-py smoke test ({e}): \
             apt-get install python3 python3-docker"
        ),
        Ok(o) if !o.status.success() => panic!(
            "python3 cannot import docker-py: apt-get install python3-docker \
             (or pip install docker): {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Ok(_) => {}
    }
}

#[test]
fn docker_py_pulls_runs_waits_reads_logs_and_removes() {
    require_docker_py();
    let w = DaemonWorld::new();
    let d = Berthd::start(&w);
    // Not pre-pulled: the script's pull is the first time berthd sees it.
    let image = format!("{}/multilayer:latest", w.reg.host());
    let child = Command::new("python3")
        .arg(script())
        .arg(&image)
        .env("DOCKER_HOST", d.host())
        .env_remove("DOCKER_TLS_VERIFY")
        .env_remove("DOCKER_CERT_PATH")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn python3");
    let (out, err, code) = text(&wait_timeout(child, Duration::from_secs(180)));
    assert_eq!(
        code, 0,
        "docker-py smoke failed:\nstdout: {out}\nstderr: {err}"
    );
    let line = out
        .lines()
        .find(|l| l.starts_with("docker-py smoke: OK"))
        .unwrap_or_else(|| panic!("no result line in {out:?} (stderr {err:?})"));
    assert!(
        line.ends_with("pull, run, run -d, wait, logs, rm, volumes, tmpfs"),
        "{line}"
    );
    println!("{line}");
}
