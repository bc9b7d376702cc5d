//! Berth's volumes (moby `volume/`): named and anonymous volumes behind the
//! [`VolumeDriver`] trait, with the `local` driver, the [`VolumeStore`]
//! that keeps names, labels and container references, and the copy that
//! pre-fills a new volume from an image.
//!
//! The daemon owns which container mounts what and where; this crate owns
//! where the data lives. Everything here is synchronous.

mod copy;
mod driver;
mod error;
mod fsx;
mod local;
mod mountopts;
mod name;
mod store;
mod usage;

pub use copy::{copy_dir_contents, is_empty_dir};
pub use driver::VolumeDriver;
pub use error::{Result, VolumeError};
pub use local::LocalDriver;
pub use name::{anonymous_name, validate_name};
pub use store::{CreateOptions, VolumeInfo, VolumeStore, ANONYMOUS_LABEL};
