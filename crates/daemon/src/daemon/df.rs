//! `docker system df` (moby `daemon/disk_usage.go`): the bytes held by
//! image layers (each layer once, however many images share it), each
//! image with the containers using it and the bytes it shares with other
//! images, and each container's writable layer.

use std::collections::{BTreeMap, HashMap};

use berth_api::types::image::ImageSummary;

use super::Daemon;
use crate::persist::ContainerRecord;

/// What the images hold on disk.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImagesUsage {
    /// Bytes of every layer, each counted once.
    pub layers_size: i64,
    /// Every image with `Containers` and `SharedSize` filled in.
    pub images: Vec<ImageSummary>,
}

/// One image's layers as `(ChainID, bytes)` pairs.
pub type ImageLayers = Vec<(String, u64)>;

/// The usage of `images` (their summaries, with each one's layers), given
/// the containers on the host: a layer used by two images counts once in
/// `layers_size` and counts as shared in both.
pub fn images_usage(
    images: Vec<(ImageSummary, ImageLayers)>,
    containers: &[ContainerRecord],
) -> ImagesUsage {
    let mut layer_users: HashMap<&str, (u64, usize)> = HashMap::new();
    for (_, layers) in &images {
        let mut seen = std::collections::HashSet::new();
        for (chain, size) in layers {
            if seen.insert(chain.as_str()) {
                layer_users.entry(chain.as_str()).or_insert((*size, 0)).1 += 1;
            }
        }
    }
    let layers_size = layer_users.values().map(|(s, _)| *s as i64).sum();
    let mut users: BTreeMap<&str, i64> = BTreeMap::new();
    for c in containers {
        *users.entry(c.image.as_str()).or_default() += 1;
    }
    let images = images
        .iter()
        .map(|(summary, layers)| {
            let shared: u64 = layers
                .iter()
                .filter(|(chain, _)| layer_users.get(chain.as_str()).is_some_and(|u| u.1 > 1))
                .map(|(_, size)| size)
                .sum();
            ImageSummary {
                containers: users.get(summary.id.as_str()).copied().unwrap_or(0),
                shared_size: shared as i64,
                ..summary.clone()
            }
        })
        .collect();
    ImagesUsage {
        layers_size,
        images,
    }
}

impl Daemon {
    /// The images' disk usage (see [`images_usage`]) on this daemon.
    pub fn images_disk_usage(&self) -> ImagesUsage {
        let images = self
            .images()
            .list_images()
            .into_iter()
            .map(|summary| {
                let layers = self
                    .images()
                    .get_image(&summary.id)
                    .map(|r| {
                        r.layers
                            .iter()
                            .map(|l| (l.chain_id.to_string(), l.unpacked_size))
                            .collect()
                    })
                    .unwrap_or_default();
                (summary, layers)
            })
            .collect();
        let containers: Vec<ContainerRecord> = self.list().iter().map(|c| c.record()).collect();
        images_usage(images, &containers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(id: &str, layers: &[(&str, u64)]) -> (ImageSummary, ImageLayers) {
        let size = layers.iter().map(|(_, s)| s).sum::<u64>() as i64;
        (
            ImageSummary {
                id: id.into(),
                size,
                containers: -1,
                shared_size: -1,
                ..ImageSummary::default()
            },
            layers.iter().map(|(c, s)| (c.to_string(), *s)).collect(),
        )
    }

    #[test]
    fn shared_layers_count_once_and_as_shared() {
        let images = vec![
            image("sha256:a", &[("base", 100), ("app", 10)]),
            image("sha256:b", &[("base", 100), ("other", 5)]),
            image("sha256:c", &[("alone", 7)]),
        ];
        let containers = [
            ContainerRecord {
                image: "sha256:a".into(),
                ..ContainerRecord::default()
            },
            ContainerRecord {
                image: "sha256:a".into(),
                ..ContainerRecord::default()
            },
        ];
        let u = images_usage(images, &containers);
        assert_eq!(u.layers_size, 122);
        let by_id: BTreeMap<&str, &ImageSummary> =
            u.images.iter().map(|i| (i.id.as_str(), i)).collect();
        assert_eq!(by_id["sha256:a"].containers, 2);
        assert_eq!(by_id["sha256:a"].shared_size, 100);
        assert_eq!(by_id["sha256:a"].size, 110);
        assert_eq!(by_id["sha256:b"].containers, 0);
        assert_eq!(by_id["sha256:b"].shared_size, 100);
        assert_eq!(by_id["sha256:c"].shared_size, 0);
        assert_eq!(images_usage(vec![], &[]), ImagesUsage::default());
    }
}
