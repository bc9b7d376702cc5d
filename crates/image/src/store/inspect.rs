//! The Engine API views of a stored image: `ImageInspect`
//! (`GET /images/{name}/json`), `ImageSummary` (`GET /images/json`) and
//! `HistoryResponseItem` (`GET /images/{name}/history`), rendered as Docker
//! 28 (API v1.49) renders them. The models live in `berth_api::types::image`
//! (re-exported here under their old names); this module builds them from
//! image records.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

pub use berth_api::types::image::{
    Descriptor, GraphDriverData, HistoryResponseItem as HistoryItem, ImageInspect,
    ImageInspectConfig, ImageMetadata, ImageSummary, InspectRootFs,
};

use super::error::StoreError;
use super::time::{unix_seconds, Timestamp, GO_ZERO_TIME};
use super::ImageStore;
use crate::config::{ContainerConfig, ImageConfigFile};
use crate::content::Digest;
use crate::record::ImageRecord;
use crate::reference::Reference;

/// What overlay2 reports for an image's top layer: `UpperDir`, `WorkDir`,
/// `MergedDir`, and `LowerDir` (the lower layers' dirs joined with `:`,
/// topmost first) when there are lower layers.
pub fn overlay2_graph_driver(
    lower_dirs: &[PathBuf],
    upper_dir: &Path,
    work_dir: &Path,
    merged_dir: &Path,
) -> GraphDriverData {
    let mut data = BTreeMap::new();
    if !lower_dirs.is_empty() {
        let lower: Vec<String> = lower_dirs.iter().map(|p| p.display().to_string()).collect();
        data.insert("LowerDir".to_string(), lower.join(":"));
    }
    data.insert("MergedDir".to_string(), merged_dir.display().to_string());
    data.insert("UpperDir".to_string(), upper_dir.display().to_string());
    data.insert("WorkDir".to_string(), work_dir.display().to_string());
    GraphDriverData {
        name: "overlay2".to_string(),
        data: Some(data),
    }
}

fn non_empty<T, C: IntoIterator<Item = T>>(c: Option<C>) -> Option<Vec<T>> {
    let v: Vec<T> = c?.into_iter().collect();
    (!v.is_empty()).then_some(v)
}

fn non_empty_map<K: Ord, V>(m: Option<BTreeMap<K, V>>) -> Option<BTreeMap<K, V>> {
    m.filter(|m| !m.is_empty())
}

fn non_empty_str(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

fn extra_str(cfg: &ImageConfigFile, key: &str) -> Option<String> {
    cfg.extra.get(key)?.as_str().map(str::to_string)
}

fn size_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Renders an image config's container defaults the way Docker does.
pub fn inspect_config(c: Option<&ContainerConfig>) -> ImageInspectConfig {
    let c = c.cloned().unwrap_or_default();
    ImageInspectConfig {
        user: c.user.unwrap_or_default(),
        exposed_ports: non_empty_map(c.exposed_ports),
        env: non_empty(c.env),
        cmd: non_empty(c.cmd),
        healthcheck: c.healthcheck.filter(|h| !h.is_null()),
        args_escaped: c.args_escaped.filter(|b| *b),
        volumes: non_empty_map(c.volumes),
        working_dir: c.working_dir.unwrap_or_default(),
        entrypoint: non_empty(c.entrypoint),
        on_build: non_empty(c.on_build),
        labels: non_empty_map(c.labels),
        stop_signal: non_empty_str(c.stop_signal),
        shell: non_empty(c.shell),
        ..ImageInspectConfig::default()
    }
}

/// Splits references into familiar tags and familiar digest references.
fn split_refs(refs: &[Reference]) -> (Vec<String>, Vec<String>) {
    let mut tags = Vec::new();
    let mut digests = Vec::new();
    for r in refs {
        if r.digest().is_some() {
            digests.push(r.familiar_string());
        } else if r.tag().is_some() {
            tags.push(r.familiar_string());
        }
    }
    (tags, digests)
}

/// Builds the inspect view of `record`, given the references to it, the
/// storage driver's data and the last `docker tag` time (RFC 3339).
pub fn image_inspect(
    record: &ImageRecord,
    refs: &[Reference],
    graph_driver: GraphDriverData,
    last_tag_time: Option<&str>,
) -> ImageInspect {
    let cfg = &record.config;
    let (repo_tags, repo_digests) = split_refs(refs);
    let comment = extra_str(cfg, "comment")
        .filter(|c| !c.is_empty())
        .or_else(|| cfg.history.last().and_then(|h| h.comment.clone()))
        .unwrap_or_default();
    let created = cfg
        .created
        .as_ref()
        .map(|c| Timestamp::parse(c).map_or_else(|| c.clone(), Timestamp::to_rfc3339_nano));
    ImageInspect {
        id: record.id.to_string(),
        repo_tags,
        repo_digests,
        parent: String::new(),
        comment,
        created,
        docker_version: extra_str(cfg, "docker_version").unwrap_or_default(),
        author: cfg.author.clone().unwrap_or_default(),
        config: inspect_config(cfg.config.as_ref()),
        architecture: cfg.architecture.clone(),
        variant: non_empty_str(cfg.variant.clone()),
        os: cfg.os.clone(),
        os_version: non_empty_str(extra_str(cfg, "os.version")),
        size: size_i64(record.size()),
        graph_driver,
        root_fs: InspectRootFs {
            kind: cfg.rootfs.kind.clone(),
            layers: cfg.rootfs.diff_ids.iter().map(Digest::to_string).collect(),
        },
        metadata: ImageMetadata {
            last_tag_time: last_tag_time.unwrap_or(GO_ZERO_TIME).to_string(),
        },
        descriptor: Some(Descriptor {
            media_type: record.manifest.media_type.clone(),
            digest: record.manifest.digest.to_string(),
            size: size_i64(record.manifest.size),
        }),
    }
}

/// Builds the `docker images` row of `record` given the references to it.
/// `Containers` and `SharedSize` are -1 (not computed).
pub fn image_summary(record: &ImageRecord, refs: &[Reference]) -> ImageSummary {
    let (repo_tags, repo_digests) = split_refs(refs);
    ImageSummary {
        containers: -1,
        created: unix_seconds(record.config.created.as_deref()),
        id: record.id.to_string(),
        labels: record.config.config.as_ref().and_then(|c| c.labels.clone()),
        parent_id: String::new(),
        repo_digests,
        repo_tags,
        shared_size: -1,
        size: size_i64(record.size()),
    }
}

/// moby's `ImageHistory`: one item per config history entry, newest first;
/// entries that made a layer get that layer's unpacked size. The newest
/// entry carries the image ID and its tags, the others `<missing>` (the
/// image has no locally known parent). A history with more layer-making
/// entries than layers is `too many non-empty layers in History section`.
pub fn history_items(
    record: &ImageRecord,
    refs: &[Reference],
) -> Result<Vec<HistoryItem>, StoreError> {
    let cfg = &record.config;
    let mut items = Vec::with_capacity(cfg.history.len());
    let mut layer = 0usize;
    for h in &cfg.history {
        let mut size = 0;
        if !h.empty_layer {
            if cfg.rootfs.diff_ids.len() <= layer {
                return Err(StoreError::System {
                    context: format!("history of image {}", record.id),
                    source: io::Error::new(
                        io::ErrorKind::InvalidData,
                        "too many non-empty layers in History section",
                    ),
                });
            }
            size = record
                .layers
                .get(layer)
                .map_or(0, |l| size_i64(l.unpacked_size));
            layer += 1;
        }
        items.push(HistoryItem {
            comment: h.comment.clone().unwrap_or_default(),
            created: unix_seconds(h.created.as_deref()),
            created_by: h.created_by.clone().unwrap_or_default(),
            id: "<missing>".to_string(),
            size,
            tags: None,
        });
    }
    items.reverse();
    if let Some(top) = items.first_mut() {
        top.id = record.id.to_string();
        let (tags, _) = split_refs(refs);
        top.tags = (!tags.is_empty()).then_some(tags);
    }
    Ok(items)
}

impl ImageStore {
    /// `docker image inspect` of image `id`, with `graph_driver` as its
    /// `GraphDriver` (see [`GraphDriverData::overlay2`]). `No such image:
    /// <id>` (NotFound) when it is not stored.
    pub fn inspect(
        &self,
        id: &Digest,
        graph_driver: GraphDriverData,
    ) -> Result<ImageInspect, StoreError> {
        let state = self.read();
        let record = state
            .images
            .get(id)
            .ok_or_else(|| StoreError::no_such_image(id))?;
        let refs = state.refs.references(id);
        let last = state.meta.get(id).and_then(|m| m.last_tag_time.as_deref());
        Ok(image_inspect(record, &refs, graph_driver, last))
    }

    /// `docker images`: a summary of every stored image, newest first
    /// (ties by ID).
    pub fn summaries(&self) -> Vec<ImageSummary> {
        let state = self.read();
        let mut out: Vec<ImageSummary> = state
            .images
            .values()
            .map(|r| image_summary(r, &state.refs.references(&r.id)))
            .collect();
        out.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
        out
    }

    /// `docker history` of image `id` (see [`history_items`]). `No such
    /// image: <id>` (NotFound) when it is not stored.
    pub fn history(&self, id: &Digest) -> Result<Vec<HistoryItem>, StoreError> {
        let state = self.read();
        let record = state
            .images
            .get(id)
            .ok_or_else(|| StoreError::no_such_image(id))?;
        history_items(record, &state.refs.references(id))
    }
}
