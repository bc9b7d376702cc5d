//! [`ContainerBackend`] over the daemon.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use berth_api::server::{
    ApiError, ArchivePutOptions, BoxStream, ByteStream, ContainerBackend, HijackedStreams,
    LogsStream, PendingWait,
};
use berth_api::types::container::{
    AttachOptions, Change, ContainerCreateRequest, ContainerInspectResponse, ContainerSummary,
    ContainerUpdateRequest, ContainerUpdateResponse, CreateResponse, ListOptions, LogsOptions,
    PathStat, PruneReport, RemoveOptions, StatsOptions, StatsSnapshot, StopOptions, TopResponse,
    WaitCondition, WaitExitError, WaitResponse,
};
use berth_api::types::filters::Filters;
use futures_util::TryStreamExt;

use super::{api_error, inspect, streams, ApiBackend};
use crate::daemon::{self, PruneFilters};
use crate::logs::{parse_tail, parse_time_filter};

type R<T> = Result<T, ApiError>;

/// The daemon's default log driver, which berthd is limited to.
const DEFAULT_LOG_DRIVER: &str = "json-file";

/// moby's `mergeAndVerifyLogConfig` at create: an unset log driver is the
/// daemon's default and is stored with the container, so inspect shows
/// `{"Type": "json-file", "Config": {}}` (docker-py's `containers.run`
/// reads the output back only when it sees a driver it can read).
fn default_log_config(request: &mut ContainerCreateRequest) {
    let log = &mut request
        .host_config
        .get_or_insert_with(Default::default)
        .log_config;
    if log.kind.is_empty() {
        log.kind = DEFAULT_LOG_DRIVER.to_string();
    }
    log.config.get_or_insert_with(Default::default);
}

#[async_trait]
impl ContainerBackend for ApiBackend {
    async fn create(
        &self,
        name: Option<String>,
        mut request: ContainerCreateRequest,
    ) -> R<CreateResponse> {
        default_log_config(&mut request);
        self.daemon
            .create(name.as_deref(), request)
            .await
            .map_err(api_error)
    }

    async fn start(&self, name: &str) -> R<()> {
        self.daemon.start(name).await.map_err(api_error)
    }

    async fn stop(&self, name: &str, options: StopOptions) -> R<()> {
        self.daemon
            .stop(name, options.timeout)
            .await
            .map_err(api_error)
    }

    async fn restart(&self, name: &str, options: StopOptions) -> R<()> {
        self.daemon
            .restart(name, options.timeout)
            .await
            .map_err(api_error)
    }

    async fn kill(&self, name: &str, signal: Option<String>) -> R<()> {
        self.daemon
            .kill(name, signal.as_deref())
            .await
            .map_err(api_error)
    }

    async fn wait(&self, name: &str, condition: WaitCondition) -> R<PendingWait> {
        let wait = self
            .daemon
            .wait_registered(name, condition)
            .map_err(api_error)?;
        Ok(Box::pin(async move {
            match wait.await {
                Ok(code) => WaitResponse {
                    error: None,
                    status_code: code.into(),
                },
                Err(e) => WaitResponse {
                    error: Some(WaitExitError {
                        message: e.to_string(),
                    }),
                    status_code: -1,
                },
            }
        }))
    }

    async fn remove(&self, name: &str, options: RemoveOptions) -> R<()> {
        if options.remove_link {
            return Err(ApiError::invalid(
                "Conflict, cannot remove the default link name of the container",
            ));
        }
        self.daemon
            .remove_with_volumes(name, options.force, options.remove_volumes)
            .await
            .map_err(api_error)
    }

    async fn inspect(&self, name: &str, size: bool) -> R<ContainerInspectResponse> {
        inspect::inspect(&self.daemon, name, size).map_err(api_error)
    }

    async fn list(&self, options: ListOptions) -> R<Vec<ContainerSummary>> {
        let records = self
            .daemon
            .list_containers(&daemon::ListOptions {
                all: options.all,
                limit: options.limit.map_or(0, |l| l as i64),
                filters: options.filters,
            })
            .map_err(api_error)?;
        let now = SystemTime::now();
        Ok(records
            .iter()
            .map(|r| {
                let mut row = inspect::summary(&self.daemon, r, now);
                if options.size {
                    (row.size_rw, row.size_root_fs) = inspect::sizes(&self.daemon, r);
                }
                row
            })
            .collect())
    }

    async fn logs(&self, name: &str, options: LogsOptions) -> R<LogsStream> {
        let now = SystemTime::now();
        let tty = self
            .daemon
            .get(name)
            .map_err(api_error)?
            .record()
            .config
            .tty;
        let opts = crate::logs::LogsOptions {
            stdout: options.stdout,
            stderr: options.stderr,
            follow: options.follow,
            tail: parse_tail(&options.tail),
            since: parse_time_filter(&options.since, now).map_err(api_error)?,
            until: parse_time_filter(&options.until, now).map_err(api_error)?,
            timestamps: options.timestamps,
        };
        let stream = self.daemon.logs(name, opts).await.map_err(api_error)?;
        Ok(LogsStream {
            tty,
            stream: streams::logs(stream, tty, options.timestamps),
        })
    }

    async fn attach(&self, name: &str, options: AttachOptions) -> R<HijackedStreams> {
        let session = self
            .daemon
            .attach(
                name,
                daemon::AttachOptions {
                    stdin: options.stdin,
                    stdout: options.stdout,
                    stderr: options.stderr,
                    logs: options.logs,
                    stream: options.stream,
                    detach_keys: options.detach_keys,
                },
            )
            .await
            .map_err(api_error)?;
        Ok(streams::hijack(session))
    }

    async fn resize(&self, name: &str, height: u32, width: u32) -> R<()> {
        self.daemon
            .resize(name, height, width)
            .await
            .map_err(api_error)
    }

    async fn pause(&self, name: &str) -> R<()> {
        self.daemon.pause(name).await.map_err(api_error)
    }

    async fn unpause(&self, name: &str) -> R<()> {
        self.daemon.unpause(name).await.map_err(api_error)
    }

    async fn rename(&self, name: &str, new_name: &str) -> R<()> {
        self.daemon.rename(name, new_name).await.map_err(api_error)
    }

    async fn top(&self, name: &str, ps_args: &str) -> R<TopResponse> {
        self.daemon.top(name, ps_args).await.map_err(api_error)
    }

    async fn stats(&self, name: &str, options: StatsOptions) -> R<BoxStream<StatsSnapshot>> {
        if !options.stream {
            let one = self.daemon.stats(name).await.map_err(api_error)?;
            return Ok(Box::pin(futures_util::stream::iter([one])));
        }
        let rx = self
            .daemon
            .stats_stream(name, Duration::from_secs(1))
            .map_err(api_error)?;
        Ok(Box::pin(futures_util::stream::unfold(
            rx,
            |mut rx| async move { rx.recv().await.map(|s| (s, rx)) },
        )))
    }

    async fn changes(&self, name: &str) -> R<Vec<Change>> {
        self.daemon.changes(name).await.map_err(api_error)
    }

    async fn prune(&self, filters: Filters) -> R<PruneReport> {
        self.daemon
            .prune(&PruneFilters::from_filters(filters))
            .await
            .map_err(api_error)
    }

    async fn archive_stat(&self, name: &str, path: &str) -> R<PathStat> {
        self.daemon
            .archive_stat(name, path)
            .await
            .map_err(api_error)
    }

    async fn archive_get(&self, name: &str, path: &str) -> R<(PathStat, ByteStream)> {
        let (stat, tar) = self
            .daemon
            .archive_get(name, path)
            .await
            .map_err(api_error)?;
        Ok((stat, streams::tar(tar)))
    }

    async fn archive_put(
        &self,
        name: &str,
        path: &str,
        options: ArchivePutOptions,
        body: ByteStream,
    ) -> R<()> {
        let reader = tokio_util::io::StreamReader::new(
            body.map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.message)),
        );
        self.daemon
            .archive_put(name, path, reader, options)
            .await
            .map_err(api_error)
    }

    async fn export(&self, name: &str) -> R<ByteStream> {
        let tar = self.daemon.export(name).await.map_err(api_error)?;
        Ok(streams::tar(tar))
    }

    async fn update(
        &self,
        name: &str,
        request: ContainerUpdateRequest,
    ) -> R<ContainerUpdateResponse> {
        let warnings = self
            .daemon
            .update_container(name, request)
            .await
            .map_err(api_error)?;
        Ok(ContainerUpdateResponse { warnings })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use berth_api::types::container::{HostConfig, LogConfig};

    use super::*;

    #[test]
    fn an_unset_log_driver_is_json_file_and_a_set_one_is_kept() {
        let mut r = ContainerCreateRequest::default();
        default_log_config(&mut r);
        let log = &r.host_config.as_ref().unwrap().log_config;
        assert_eq!(log.kind, "json-file");
        assert_eq!(log.config, Some(BTreeMap::new()));

        let opts = BTreeMap::from([("max-size".to_string(), "1m".to_string())]);
        let mut r = ContainerCreateRequest {
            host_config: Some(HostConfig {
                log_config: LogConfig {
                    kind: "none".into(),
                    config: Some(opts.clone()),
                },
                ..Default::default()
            }),
            ..Default::default()
        };
        default_log_config(&mut r);
        let log = &r.host_config.as_ref().unwrap().log_config;
        assert_eq!(
            (log.kind.as_str(), log.config.as_ref()),
            ("none", Some(&opts))
        );
    }
}
