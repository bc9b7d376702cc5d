//! `docker save`: one tar with an OCI layout and the legacy docker-save
//! files, written in a fixed order with zero mtimes so the same images
//! always give the same bytes. Blobs are streamed from the content store.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};

use super::{
    blob_path, ManifestItem, ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME, INDEX_FILE, MANIFEST_FILE,
    OCI_LAYOUT_CONTENT, OCI_LAYOUT_FILE, REPOSITORIES_FILE,
};
use crate::content::{ContentStore, Digest};
use crate::error::ImageError;
use crate::manifest::{
    Descriptor, DescriptorPlatform, ImageIndex, ImageManifest, OCI_CONFIG, OCI_INDEX, OCI_MANIFEST,
};
use crate::record::ImageRecord;
use crate::reference::{parse_normalized_named, tag_name_only, Reference};
use crate::store::ImageStore;

/// What one archive path holds.
enum Source {
    Dir,
    Blob { digest: Digest, size: u64 },
    Bytes(Vec<u8>),
}

/// One image to write, with the tags it is saved under (moby's
/// `imageDescriptor`).
struct Selected {
    record: ImageRecord,
    tags: Vec<Reference>,
}

pub(super) fn save(
    content: &ContentStore,
    images: &ImageStore,
    selected: &[(String, ImageRecord)],
    out: &mut dyn Write,
) -> Result<(), ImageError> {
    let chosen = associate(images, selected);

    let mut files: BTreeMap<String, Source> = BTreeMap::new();
    let mut index_entries: Vec<Descriptor> = Vec::new();
    let mut manifest_items: Vec<ManifestItem> = Vec::new();
    let mut repositories: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();

    for sel in &chosen {
        let rec = &sel.record;
        let add_blob = |files: &mut BTreeMap<String, Source>, d: &Digest| {
            let size = content.size(d).map_err(ImageError::content(format!(
                "saving image {}: blob {d}",
                rec.id
            )))?;
            files.insert(format!("blobs/{}/", d.algorithm()), Source::Dir);
            files.insert(
                blob_path(d),
                Source::Blob {
                    digest: d.clone(),
                    size,
                },
            );
            Ok::<u64, ImageError>(size)
        };
        files.insert("blobs/".into(), Source::Dir);
        let config_size = add_blob(&mut files, &rec.id)?;
        for layer in &rec.layers {
            add_blob(&mut files, &layer.blob)?;
        }
        // The manifest the image was pulled or loaded with, or (if that blob
        // is gone) an OCI manifest rebuilt from the record.
        let (manifest_digest, manifest_type, manifest_size) =
            if content.contains(&rec.manifest.digest) {
                let size = add_blob(&mut files, &rec.manifest.digest)?;
                (
                    rec.manifest.digest.clone(),
                    rec.manifest.media_type.clone(),
                    size,
                )
            } else {
                let bytes = synthesize_manifest(rec, config_size)?;
                let d = Digest::sha256_of(&bytes);
                let size = bytes.len() as u64;
                files.insert(blob_path(&d), Source::Bytes(bytes));
                (d, OCI_MANIFEST.to_string(), size)
            };

        let platform =
            (!rec.config.os.is_empty() && !rec.config.architecture.is_empty()).then(|| {
                DescriptorPlatform {
                    architecture: rec.config.architecture.clone(),
                    os: rec.config.os.clone(),
                    variant: rec.config.variant.clone(),
                    os_version: None,
                }
            });
        let descriptor = |annotations| Descriptor {
            media_type: manifest_type.clone(),
            digest: manifest_digest.clone(),
            size: manifest_size,
            platform: platform.clone(),
            urls: None,
            annotations,
        };
        let mut repo_tags = Vec::new();
        for tag_ref in &sel.tags {
            let tag = tag_ref.tag().unwrap_or("latest").to_string();
            if let Some(top) = rec.layers.last() {
                repositories
                    .entry(tag_ref.familiar_name())
                    .or_default()
                    .insert(tag.clone(), top.blob.hex().to_string());
            }
            repo_tags.push(tag_ref.familiar_string());
            index_entries.push(descriptor(Some(BTreeMap::from([
                (ANNOTATION_IMAGE_NAME.to_string(), tag_ref.to_string()),
                (ANNOTATION_REF_NAME.to_string(), tag),
            ]))));
        }
        if sel.tags.is_empty() {
            index_entries.push(descriptor(None));
        }
        manifest_items.push(ManifestItem {
            config: blob_path(&rec.id),
            repo_tags: (!repo_tags.is_empty()).then_some(repo_tags),
            layers: rec.layers.iter().map(|l| blob_path(&l.blob)).collect(),
        });
    }

    let index = ImageIndex {
        schema_version: 2,
        media_type: Some(OCI_INDEX.to_string()),
        manifests: index_entries,
        annotations: None,
    };
    files.insert(INDEX_FILE.into(), Source::Bytes(to_json(&index, false)?));
    files.insert(
        MANIFEST_FILE.into(),
        Source::Bytes(to_json(&manifest_items, true)?),
    );
    files.insert(
        OCI_LAYOUT_FILE.into(),
        Source::Bytes(OCI_LAYOUT_CONTENT.as_bytes().to_vec()),
    );
    if !repositories.is_empty() {
        files.insert(
            REPOSITORIES_FILE.into(),
            Source::Bytes(to_json(&repositories, true)?),
        );
    }

    write_tar(content, &files, out)
}

/// moby's `parseNames`: which images are saved, and under which tags. A
/// tagged name saves that tag; a bare repository name saves every tag of
/// that repository (possibly several images); an ID or a digest reference
/// saves the image untagged.
fn associate(images: &ImageStore, selected: &[(String, ImageRecord)]) -> Vec<Selected> {
    let mut chosen: Vec<Selected> = Vec::new();
    let mut add = |record: &ImageRecord, tag: Option<Reference>| {
        let idx = match chosen.iter().position(|s| s.record.id == record.id) {
            Some(i) => i,
            None => {
                chosen.push(Selected {
                    record: record.clone(),
                    tags: Vec::new(),
                });
                chosen.len() - 1
            }
        };
        if let Some(tag) = tag {
            let tags = &mut chosen[idx].tags;
            if !tags.iter().any(|t| t.to_string() == tag.to_string()) {
                tags.push(tag);
            }
        }
    };
    for (name, record) in selected {
        let parsed = parse_normalized_named(name)
            .ok()
            .filter(|r| r.familiar_name() != "sha256");
        match parsed {
            None => add(record, None),
            Some(r) if r.digest().is_some() => add(record, None),
            Some(r) if r.is_name_only() => {
                let repo = r.name();
                let mut found = false;
                for img in images.list() {
                    for other in images.references_to(&img.id) {
                        if other.name() == repo && other.tag().is_some() && other.digest().is_none()
                        {
                            found = true;
                            add(&img, Some(other));
                        }
                    }
                }
                if !found {
                    add(record, None);
                }
            }
            Some(r) => add(record, Some(tag_name_only(r))),
        }
    }
    chosen
}

/// An OCI manifest for a record whose original manifest blob is missing.
fn synthesize_manifest(rec: &ImageRecord, config_size: u64) -> Result<Vec<u8>, ImageError> {
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.to_string()),
        config: Descriptor {
            media_type: OCI_CONFIG.to_string(),
            digest: rec.id.clone(),
            size: config_size,
            platform: None,
            urls: None,
            annotations: None,
        },
        layers: rec
            .layers
            .iter()
            .map(|l| Descriptor {
                media_type: l.media_type.clone(),
                digest: l.blob.clone(),
                size: l.blob_size,
                platform: None,
                urls: None,
                annotations: None,
            })
            .collect(),
        annotations: None,
    };
    to_json(&manifest, false)
}

/// JSON bytes; `newline` as Go's `json.Encoder` writes them.
fn to_json<T: serde::Serialize>(value: &T, newline: bool) -> Result<Vec<u8>, ImageError> {
    let mut bytes = serde_json::to_vec(value)
        .map_err(|e| ImageError::Invalid(format!("encoding the archive metadata: {e}")))?;
    if newline {
        bytes.push(b'\n');
    }
    Ok(bytes)
}

fn header(path: &str, kind: tar::EntryType, size: u64) -> Result<tar::Header, ImageError> {
    let mut h = tar::Header::new_ustar();
    h.set_path(path)
        .map_err(ImageError::io(format!("writing archive entry {path}")))?;
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(if kind == tar::EntryType::Directory {
        0o755
    } else {
        0o644
    });
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h.set_cksum();
    Ok(h)
}

fn write_tar(
    content: &ContentStore,
    files: &BTreeMap<String, Source>,
    out: &mut dyn Write,
) -> Result<(), ImageError> {
    let mut builder = tar::Builder::new(out);
    let werr = || ImageError::io("writing the archive");
    for (path, source) in files {
        match source {
            Source::Dir => {
                let h = header(path, tar::EntryType::Directory, 0)?;
                builder.append(&h, io::empty()).map_err(werr())?;
            }
            Source::Bytes(bytes) => {
                let h = header(path, tar::EntryType::Regular, bytes.len() as u64)?;
                builder.append(&h, &bytes[..]).map_err(werr())?;
            }
            Source::Blob { digest, size } => {
                let file = content
                    .read(digest)
                    .map_err(ImageError::content(format!("saving blob {digest}")))?;
                let h = header(path, tar::EntryType::Regular, *size)?;
                let reader = ExactReader {
                    inner: file.take(*size),
                    remaining: *size,
                    digest,
                };
                builder.append(&h, reader).map_err(werr())?;
            }
        }
    }
    builder.finish().map_err(werr())?;
    builder
        .into_inner()
        .map_err(werr())?
        .flush()
        .map_err(werr())
}

/// Fails instead of ending early, so a blob that shrank cannot produce an
/// entry shorter than its header says.
struct ExactReader<'a, R> {
    inner: R,
    remaining: u64,
    digest: &'a Digest,
}

impl<R: Read> Read for ExactReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && self.remaining > 0 && !buf.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("blob {} is shorter than when the save began", self.digest),
            ));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}
