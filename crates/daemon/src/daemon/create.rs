//! `ContainerCreate` (moby's `containerCreate`): resolve the image, verify
//! the settings, reserve the name, register the mount points (creating the
//! volumes they name), prepare the read-write snapshot and write the config
//! to disk. Anything that fails undoes what was done.

use std::sync::Arc;

use crate::config::{Config, ContainerCreateRequest, HealthConfig, HostConfig};
use crate::error::{DaemonError, Result};
use crate::events::action;
use crate::ids::generate_id;
use crate::persist::{self, ContainerRecord};
use crate::spec::{
    build_namespaces, merge_image_config, parse_security_opts, resolve_command,
    resolve_working_dir, sysctl::verify_sysctls, verify_resources,
};

use super::{now_rfc3339, Container, Daemon, State};

pub use berth_api::types::container::CreateResponse;

impl Daemon {
    /// Creates a container named `name` (or a generated name).
    pub async fn create(
        self: &Arc<Self>,
        name: Option<&str>,
        request: ContainerCreateRequest,
    ) -> Result<CreateResponse> {
        let image = self
            .images
            .get_image(&request.config.image)
            .map_err(DaemonError::layer)?;
        let mut host_config = request.host_config.unwrap_or_default();
        let warnings = adapt_resources(&mut host_config);
        let mut config = request.config.clone();
        if let Some(image_config) = &image.config.config {
            merge_image_config(&mut config, image_config);
        }
        verify_settings(&config, &host_config)?;
        let networks = self.verify_networking(&host_config, request.networking_config.as_ref())?;

        let id = generate_id()?;
        let name = match name.filter(|n| !n.is_empty()) {
            Some(n) => self.names.reserve(n, &id)?,
            None => self.names.reserve_generated(&id)?,
        };
        let from = |reference: &str| Ok(self.get(reference)?.record().mount_points);
        let mount_points =
            match super::mounts::register(&self.volumes, &id, &config, &host_config, &from) {
                Ok(points) => points,
                Err(e) => {
                    self.names.release_id(&id);
                    return Err(e);
                }
            };
        let record = ContainerRecord {
            id: id.clone(),
            name,
            created: now_rfc3339(),
            image: image.id.to_string(),
            config,
            state: State::default(),
            restart_count: 0,
            manually_stopped: false,
            network_settings: berth_api::types::container::NetworkSettings {
                networks: Some(networks),
                ..Default::default()
            },
            mount_points,
        };
        let points = record.mount_points.clone();
        match self.create_on_disk(record, host_config, &image.id) {
            Ok(container) => {
                self.container_event(&container, action::CREATE, &[]);
                self.containers.add(container);
                Ok(CreateResponse { id, warnings })
            }
            Err(e) => {
                super::mounts::release(&self.volumes, &id, &points, true);
                self.names.release_id(&id);
                Err(e)
            }
        }
    }

    /// The container directory, then the snapshot, then the config (the
    /// order `restore` relies on to clean up after a crash).
    fn create_on_disk(
        &self,
        record: ContainerRecord,
        host_config: HostConfig,
        image_id: &berth_image::content::Digest,
    ) -> Result<Arc<Container>> {
        let dir = persist::container_dir(self.data_root(), &record.id)?;
        std::fs::create_dir_all(&dir)
            .map_err(|e| DaemonError::io(format!("creating {}", dir.display()), e))?;
        crate::failpoint::hit("create:after-dir");
        let result = self
            .images
            .prepare_rootfs(&record.id, image_id)
            .map_err(DaemonError::layer)
            .and_then(|_| {
                crate::failpoint::hit("create:after-snapshot");
                persist::save(self.data_root(), &record, &host_config)
            });
        if let Err(e) = result {
            let _ = self.images.remove_rootfs(&record.id);
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
        Ok(Arc::new(Container::new(record, host_config, dir)))
    }
}

/// Docker's warning for `--oom-kill-disable` without `--memory`.
pub const OOM_KILL_DISABLE_WITHOUT_LIMIT: &str = "OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.";

/// moby's `verifyPlatformContainerResources` adjustments: what the host
/// cannot honour is dropped, and risky settings are kept, each with
/// Docker's warning (shown by `run`/`create` as `WARNING: ...`).
fn adapt_resources(host: &mut HostConfig) -> Vec<String> {
    let mut warnings = Vec::new();
    if host.blkio_weight > 0 && !super::update::blkio_weight_supported() {
        warnings.push(super::update::BLKIO_WEIGHT_UNSUPPORTED.to_string());
        host.blkio_weight = 0;
    }
    if host.oom_kill_disable == Some(true) && host.memory == 0 {
        warnings.push(OOM_KILL_DISABLE_WITHOUT_LIMIT.to_string());
    }
    warnings
}

/// moby's `validateHealthCheck`: durations are 0 (default) or at least
/// 1ms; retries are not negative.
fn verify_healthcheck(h: &HealthConfig) -> Result<()> {
    const MIN_NS: i64 = 1_000_000;
    for (name, v) in [
        ("Interval", h.interval),
        ("Timeout", h.timeout),
        ("StartPeriod", h.start_period),
        ("StartInterval", h.start_interval),
    ] {
        if v != 0 && v < MIN_NS {
            return Err(DaemonError::invalid(format!(
                "{name} in Healthcheck cannot be less than 1ms"
            )));
        }
    }
    if h.retries < 0 {
        return Err(DaemonError::invalid(
            "Retries in Healthcheck cannot be negative",
        ));
    }
    Ok(())
}

/// moby's `verifyContainerSettings`, for what can be checked before start.
fn verify_settings(config: &Config, host: &HostConfig) -> Result<()> {
    resolve_command(config)?;
    resolve_working_dir(config)?;
    verify_resources(host)?;
    // "verify networking": an unknown network or namespace mode.
    let namespaces = build_namespaces(host)?;
    // Docker only finds out at start, from runc; refusing here spares
    // building a container that can never run.
    verify_sysctls(
        host.sysctls.as_ref().unwrap_or(&Default::default()),
        &namespaces,
    )?;
    if let Some(h) = &config.healthcheck {
        verify_healthcheck(h)?;
    }
    parse_security_opts(host.security_opt.as_deref().unwrap_or_default())?;
    let policy = &host.restart_policy;
    match policy.name.as_str() {
        "" | "no" | "always" | "unless-stopped" => {
            if policy.maximum_retry_count != 0 {
                return Err(DaemonError::invalid(
                    "invalid restart policy: maximum retry count can only be used with 'on-failure'",
                ));
            }
        }
        "on-failure" => {
            if policy.maximum_retry_count < 0 {
                return Err(DaemonError::invalid(
                    "invalid restart policy: maximum retry count cannot be negative",
                ));
            }
        }
        other => {
            return Err(DaemonError::invalid(format!(
                "invalid restart policy: unknown policy '{other}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"
            )))
        }
    }
    if host.auto_remove && !matches!(policy.name.as_str(), "" | "no") {
        return Err(DaemonError::invalid(
            "conflicting options: cannot specify both --restart and --rm",
        ));
    }
    Ok(())
}
