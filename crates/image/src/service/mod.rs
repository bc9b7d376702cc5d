//! [`ImageService`], the seam the daemon calls (moby's `ImageService`), and
//! [`LocalImageService`], its implementation over the stores under one data
//! root:
//!
//! ```text
//! <data-root>/image/content/   blobs by digest (manifests, configs, layers)
//! <data-root>/image/           image records and repositories.json
//! <data-root>/overlay/         layer snapshots by ChainID, container rootfs
//! ```

mod pull;
mod remove;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;

pub use remove::{DeleteItem, ImageUser, ImageUsers};

use crate::archive;
use crate::content::{ContentStore, Digest};
use crate::distribution::{Credentials, RegistryOptions};
use crate::error::ImageError;
use crate::platform::Platform;
use crate::progress::Progress;
use crate::record::ImageRecord;
use crate::reference::parse_normalized_named;
use crate::snapshot::{RootfsSnapshot, SnapshotStore};
use crate::store::{
    overlay2_graph_driver, GraphDriverData, HistoryItem, ImageInspect, ImageStore, ImageSummary,
};

/// What the daemon needs from the image layer. Every method that takes a
/// user string resolves it as moby's `GetImage` does (name, full or short
/// ID, digest).
#[async_trait]
pub trait ImageService: Send + Sync {
    /// Pulls `reference` (e.g. `busybox`, `host:5000/a/b:tag`,
    /// `name@sha256:...`), reporting progress; returns the image. Concurrent
    /// pulls of the same reference share one download; dropping every
    /// caller's future cancels it.
    async fn pull(
        &self,
        reference: &str,
        options: PullOptions,
        progress: Progress,
    ) -> Result<ImageRecord, ImageError>;

    /// The image `ref_or_id` names.
    fn get_image(&self, ref_or_id: &str) -> Result<ImageRecord, ImageError>;

    /// Every image, as `GET /images/json` lists them.
    fn list_images(&self) -> Vec<ImageSummary>;

    /// `GET /images/{name}/json`.
    fn inspect(&self, ref_or_id: &str) -> Result<ImageInspect, ImageError>;

    /// `GET /images/{name}/history`.
    fn history(&self, ref_or_id: &str) -> Result<Vec<HistoryItem>, ImageError>;

    /// `docker tag source target`.
    fn tag(&self, source: &str, target: &str) -> Result<(), ImageError>;

    /// `docker rmi`: untags, or deletes the image and its unused layers,
    /// with moby's conflict rules. Returns the Untagged/Deleted items.
    fn remove(&self, ref_or_id: &str, force: bool) -> Result<Vec<DeleteItem>, ImageError>;

    /// Creates the read-write snapshot `key` (a container ID) on top of
    /// image `image_id`'s layers. Mount it with [`RootfsSnapshot::mount`].
    fn prepare_rootfs(&self, key: &str, image_id: &Digest) -> Result<RootfsSnapshot, ImageError>;

    /// The directories of the existing snapshot `key` (to mount it again
    /// after a restart).
    fn rootfs(&self, key: &str) -> Result<RootfsSnapshot, ImageError>;

    /// Unmounts (if mounted) and removes the snapshot `key`.
    fn remove_rootfs(&self, key: &str) -> Result<(), ImageError>;

    /// `docker save`: writes the named images as one tar (docker-save
    /// `manifest.json` and an OCI layout in the same archive).
    fn save(&self, names: &[String], out: &mut dyn Write) -> Result<(), ImageError>;

    /// `docker load`: reads a docker-save or OCI archive; returns Docker's
    /// `Loaded image: ...` / `Loaded image ID: ...` lines.
    fn load(&self, input: &mut dyn Read) -> Result<Vec<String>, ImageError>;
}

/// How to set up a [`LocalImageService`].
#[derive(Debug, Clone)]
pub struct ImageServiceConfig {
    /// The data root (`/var/lib/berth` for the daemon).
    pub data_root: PathBuf,
    /// Which registries are reached over plain HTTP.
    pub registries: RegistryOptions,
    /// Layers downloaded at once per pull (dockerd's default is 3).
    pub max_concurrent_downloads: usize,
}

impl ImageServiceConfig {
    /// The defaults for a data root.
    pub fn new(data_root: impl Into<PathBuf>) -> Self {
        ImageServiceConfig {
            data_root: data_root.into(),
            registries: RegistryOptions::default(),
            max_concurrent_downloads: 3,
        }
    }
}

/// Options of one pull.
#[derive(Debug, Clone, Default)]
pub struct PullOptions {
    /// The platform to pick from an index (default: the host's).
    pub platform: Option<Platform>,
    /// Registry credentials.
    pub credentials: Credentials,
}

/// The image service over local stores. Cheap to clone (shared state).
#[derive(Clone)]
pub struct LocalImageService {
    inner: Arc<Inner>,
}

struct Inner {
    config: ImageServiceConfig,
    content: Arc<ContentStore>,
    snapshots: Arc<SnapshotStore>,
    images: ImageStore,
    pulls: pull::InflightPulls,
    gc: remove::GcGate,
    users: std::sync::RwLock<Option<Arc<dyn ImageUsers>>>,
}

impl LocalImageService {
    /// Opens (creating if needed) every store under `config.data_root`,
    /// cleaning up what a crash left behind (temp files, half-unpacked
    /// layers).
    pub fn open(config: ImageServiceConfig) -> Result<LocalImageService, ImageError> {
        let image_root = config.data_root.join("image");
        let content = ContentStore::open(&image_root.join("content"))
            .map_err(ImageError::content("opening the content store"))?;
        let snapshots = SnapshotStore::open(&config.data_root.join("overlay"))?;
        let images = ImageStore::open(&image_root)?;
        Ok(LocalImageService {
            inner: Arc::new(Inner {
                config,
                content: Arc::new(content),
                snapshots: Arc::new(snapshots),
                images,
                pulls: pull::InflightPulls::default(),
                gc: remove::GcGate::default(),
                users: std::sync::RwLock::new(None),
            }),
        })
    }

    /// Installs the callback that tells which containers use an image, so
    /// `remove` can refuse with Docker's conflict messages. The daemon sets
    /// it once at start-up.
    pub fn set_image_users(&self, users: Arc<dyn ImageUsers>) {
        *self.inner.users.write().unwrap_or_else(|e| e.into_inner()) = Some(users);
    }

    /// The data root this service was opened on.
    pub fn data_root(&self) -> &Path {
        &self.inner.config.data_root
    }

    /// The content store (blobs by digest).
    pub fn content(&self) -> &ContentStore {
        &self.inner.content
    }

    /// The snapshot store (layers by ChainID, container snapshots).
    pub fn snapshots(&self) -> &SnapshotStore {
        &self.inner.snapshots
    }

    /// The image store (records and references).
    pub fn images(&self) -> &ImageStore {
        &self.inner.images
    }

    /// Removes every blob and layer no image (and no container snapshot)
    /// references. Returns how many blobs and layers were removed. Waits
    /// for no one: when a pull is in flight, it is deferred until the last
    /// pull ends.
    pub fn garbage_collect(&self) -> Result<(usize, usize), ImageError> {
        remove::garbage_collect(&self.inner)
    }

    /// Some image tagged in repository `name`, when `name` is a bare
    /// repository name (no tag, no digest).
    fn any_image_of_repository(&self, name: &str) -> Option<ImageRecord> {
        let repo = parse_normalized_named(name).ok()?;
        if !repo.is_name_only() {
            return None;
        }
        self.inner.images.list().into_iter().find(|record| {
            self.inner
                .images
                .references_to(&record.id)
                .iter()
                .any(|r| r.tag().is_some() && r.name() == repo.name())
        })
    }

    fn graph_driver(&self, record: &ImageRecord) -> GraphDriverData {
        let snaps = &self.inner.snapshots;
        let mut lowers: Vec<PathBuf> = record
            .chain()
            .iter()
            .map(|c| snaps.layer_diff_dir(c))
            .collect();
        let upper = lowers.pop().unwrap_or_default();
        lowers.reverse();
        let top = upper.parent().map(Path::to_path_buf).unwrap_or_default();
        overlay2_graph_driver(&lowers, &upper, &top.join("work"), &top.join("merged"))
    }
}

#[async_trait]
impl ImageService for LocalImageService {
    async fn pull(
        &self,
        reference: &str,
        options: PullOptions,
        progress: Progress,
    ) -> Result<ImageRecord, ImageError> {
        pull::pull(&self.inner, reference, options, progress).await
    }

    fn get_image(&self, ref_or_id: &str) -> Result<ImageRecord, ImageError> {
        Ok(self.inner.images.get_image(ref_or_id)?)
    }

    fn list_images(&self) -> Vec<ImageSummary> {
        self.inner.images.summaries()
    }

    fn inspect(&self, ref_or_id: &str) -> Result<ImageInspect, ImageError> {
        let record = self.get_image(ref_or_id)?;
        Ok(self
            .inner
            .images
            .inspect(&record.id, self.graph_driver(&record))?)
    }

    fn history(&self, ref_or_id: &str) -> Result<Vec<HistoryItem>, ImageError> {
        let record = self.get_image(ref_or_id)?;
        Ok(self.inner.images.history(&record.id)?)
    }

    fn tag(&self, source: &str, target: &str) -> Result<(), ImageError> {
        let record = self.get_image(source)?;
        let target = parse_normalized_named(target)?;
        if target.digest().is_some() {
            return Err(ImageError::InvalidParameter(
                "refusing to create a tag with a digest reference".into(),
            ));
        }
        let target = crate::reference::tag_name_only(target);
        Ok(self.inner.images.tag_image(&target, &record.id)?)
    }

    fn remove(&self, ref_or_id: &str, force: bool) -> Result<Vec<DeleteItem>, ImageError> {
        let users = self
            .inner
            .users
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        remove::remove(&self.inner, users.as_deref(), ref_or_id, force)
    }

    fn prepare_rootfs(&self, key: &str, image_id: &Digest) -> Result<RootfsSnapshot, ImageError> {
        let record = self
            .inner
            .images
            .get(image_id)
            .ok_or_else(|| ImageError::NotFound(format!("No such image: {image_id}")))?;
        Ok(self.inner.snapshots.prepare(key, &record.chain())?)
    }

    fn rootfs(&self, key: &str) -> Result<RootfsSnapshot, ImageError> {
        Ok(self.inner.snapshots.rootfs(key)?)
    }

    fn remove_rootfs(&self, key: &str) -> Result<(), ImageError> {
        Ok(self.inner.snapshots.remove(key)?)
    }

    fn save(&self, names: &[String], out: &mut dyn Write) -> Result<(), ImageError> {
        let mut images = Vec::with_capacity(names.len());
        for name in names {
            let record = match self.get_image(name) {
                Ok(r) => r,
                // A bare repository name saves every tag of it (moby's
                // `parseNames`), even when it has no `latest`.
                Err(e) => match self.any_image_of_repository(name) {
                    Some(r) => r,
                    None => return Err(e),
                },
            };
            images.push((name.clone(), record));
        }
        archive::save(&self.inner.content, &self.inner.images, &images, out)
    }

    fn load(&self, input: &mut dyn Read) -> Result<Vec<String>, ImageError> {
        let _gate = self.inner.gc.hold();
        archive::load(
            &self.inner.content,
            &self.inner.snapshots,
            &self.inner.images,
            input,
        )
    }
}
