//! Image operations as the daemon runs them: the [`ImageService`] call,
//! then the image events moby's image service logs (`pull`, `tag`,
//! `untag`, `delete`, `load`, `save`), with the image's labels as
//! attributes.
//!
//! [`ImageService`]: berth_image::service::ImageService

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::Weak;

use berth_image::content::Digest;
use berth_image::progress::Progress;
use berth_image::record::ImageRecord;
use berth_image::reference::{parse_normalized_named, tag_name_only};
use berth_image::service::{DeleteItem, ImageUser, ImageUsers, PullOptions};

use crate::error::{DaemonError, Result};
use crate::events::{action, Message, MessageExt};

use super::Daemon;

/// The image's labels, as event attributes.
fn labels(image: &ImageRecord) -> BTreeMap<String, String> {
    image
        .config
        .config
        .as_ref()
        .and_then(|c| c.labels.clone())
        .unwrap_or_default()
        .into_iter()
        .collect()
}

/// The daemon's containers as the image service sees them when it
/// removes an image: who uses it, and whether running (Docker's `rmi`
/// conflicts). Weak, as the service lives inside the daemon.
pub struct ContainerImageUsers(pub Weak<Daemon>);

impl ImageUsers for ContainerImageUsers {
    fn users_of(&self, image_id: &Digest) -> Vec<ImageUser> {
        let Some(daemon) = self.0.upgrade() else {
            return Vec::new();
        };
        let id = image_id.to_string();
        daemon
            .list()
            .iter()
            .map(|c| c.record())
            .filter(|r| r.image == id)
            .map(|r| ImageUser {
                container_id: r.id,
                running: r.state.running,
            })
            .collect()
    }
}

impl Daemon {
    /// Logs image event `action` for `id` with `name`, plus the labels.
    fn image_event(&self, action: &str, id: &str, name: &str, image: Option<&ImageRecord>) {
        let labels = image.map(labels).unwrap_or_default();
        let mut extra: Vec<(&str, &str)> = labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        extra.push(("name", name));
        self.events.log(Message::image(action, id, &extra));
    }

    /// The image service the daemon drives (reads need no events).
    pub fn images(&self) -> &dyn berth_image::service::ImageService {
        self.images.as_ref()
    }

    /// `docker pull`: pulls `reference` and logs `pull` for it (its
    /// familiar form, with the default tag).
    pub async fn pull_image(
        &self,
        reference: &str,
        options: PullOptions,
        progress: Progress,
    ) -> Result<ImageRecord> {
        let image = self
            .images
            .pull(reference, options, progress)
            .await
            .map_err(DaemonError::layer)?;
        let name = parse_normalized_named(reference)
            .map(|r| tag_name_only(r).familiar_string())
            .unwrap_or_else(|_| reference.to_string());
        self.image_event(action::PULL, &name, &name, Some(&image));
        Ok(image)
    }

    /// `docker tag`: logs `tag` with the image ID and the new reference.
    pub fn tag_image(&self, source: &str, target: &str) -> Result<()> {
        self.images
            .tag(source, target)
            .map_err(DaemonError::layer)?;
        let image = self.images.get_image(target).map_err(DaemonError::layer)?;
        let name = parse_normalized_named(target)
            .map(|r| tag_name_only(r).familiar_string())
            .unwrap_or_else(|_| target.to_string());
        self.image_event(action::TAG, &image.id.to_string(), &name, Some(&image));
        Ok(())
    }

    /// `docker rmi`: logs `untag` for each removed reference and `delete`
    /// when the image itself goes (both under the image ID, as moby does).
    pub fn remove_image(&self, reference: &str, force: bool) -> Result<Vec<DeleteItem>> {
        let image = self
            .images
            .get_image(reference)
            .map_err(DaemonError::layer)?;
        let items = self
            .images
            .remove(reference, force)
            .map_err(DaemonError::layer)?;
        let id = &image.id.to_string();
        for item in &items {
            match item {
                DeleteItem::Untagged(_) => self.image_event(action::UNTAG, id, id, Some(&image)),
                DeleteItem::Deleted(d) if d == id => {
                    self.image_event(action::DELETE, id, id, Some(&image))
                }
                DeleteItem::Deleted(_) => {}
            }
        }
        Ok(items)
    }

    /// `docker load`: logs `load` for each image the archive held (under
    /// its ID, as moby does).
    pub fn load_images(&self, input: &mut dyn Read) -> Result<Vec<String>> {
        let lines = self.images.load(input).map_err(DaemonError::layer)?;
        for line in &lines {
            let loaded = line
                .strip_prefix("Loaded image: ")
                .or_else(|| line.strip_prefix("Loaded image ID: "))
                .unwrap_or(line);
            match self.images.get_image(loaded) {
                Ok(image) => {
                    let id = &image.id.to_string();
                    self.image_event(action::LOAD, id, id, Some(&image))
                }
                Err(e) => tracing::warn!(image = loaded, error = %e, "loaded image not found"),
            }
        }
        Ok(lines)
    }

    /// `docker save`: writes the archive, then logs `save` per image (under
    /// its ID).
    pub fn save_images(&self, names: &[String], out: &mut dyn Write) -> Result<()> {
        let images: Vec<ImageRecord> = names
            .iter()
            .map(|n| self.images.get_image(n).map_err(DaemonError::layer))
            .collect::<Result<_>>()?;
        self.images.save(names, out).map_err(DaemonError::layer)?;
        for image in &images {
            let id = &image.id.to_string();
            self.image_event(action::SAVE, id, id, Some(image));
        }
        Ok(())
    }
}
