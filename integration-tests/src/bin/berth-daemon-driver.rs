//! Drives one daemon operation in its own process, so crash tests can kill
//! the daemon mid-operation (with `BERTH_CRASH_AT`) and check what a new
//! daemon finds. Usage: `berth-daemon-driver DATA EXEC SHIM IMAGE OP NAME`
//! with OP one of `create`, `start`, `remove`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use berth_daemon::config::{Config, ContainerCreateRequest, HostConfig, StrSlice};
use berth_daemon::daemon::Daemon;
use berth_image::service::{ImageServiceConfig, LocalImageService};
use berth_shim::{ShimClient, ShimConfig};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, data, exec, shim, image, op, name] = args.as_slice() else {
        eprintln!("usage: berth-daemon-driver DATA EXEC SHIM IMAGE OP NAME");
        return ExitCode::from(2);
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let result: Result<(), String> = rt.block_on(async {
        let images =
            LocalImageService::open(ImageServiceConfig::new(data)).map_err(|e| e.to_string())?;
        let shims = ShimClient::new(ShimConfig {
            exec_root: PathBuf::from(exec).join("shims"),
            runtime_root: PathBuf::from(exec).join("runtime"),
            shim_binary: PathBuf::from(shim),
        });
        let config =
            integration_tests::daemon_cleanup::test_config(Path::new(data), Path::new(exec));
        let d = Daemon::open(config, Arc::new(images), Arc::new(shims))
            .await
            .map_err(|e| e.to_string())?;
        match op.as_str() {
            "create" => {
                let request = ContainerCreateRequest {
                    config: Config {
                        image: image.clone(),
                        cmd: Some(StrSlice(vec!["sleep".into(), "1000".into()])),
                        ..Default::default()
                    },
                    host_config: Some(HostConfig::default()),
                    networking_config: None,
                };
                d.create(Some(name), request).await.map(|_| ())
            }
            "start" => d.start(name).await,
            "remove" => d.remove(name, true).await,
            other => return Err(format!("unknown op {other}")),
        }
        .map_err(|e| e.to_string())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
