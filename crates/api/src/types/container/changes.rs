//! `GET /containers/{id}/changes` (`docker diff`, moby
//! `container.FilesystemChange`).

use serde::{Deserialize, Serialize};

/// [`Change::kind`]: the path exists in the image and was changed.
pub const CHANGE_MODIFY: u8 = 0;
/// [`Change::kind`]: the path is new.
pub const CHANGE_ADD: u8 = 1;
/// [`Change::kind`]: the path was deleted.
pub const CHANGE_DELETE: u8 = 2;

/// One entry of `GET /containers/{id}/changes` (moby
/// `container.FilesystemChange`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// The absolute path inside the container.
    #[serde(rename = "Path")]
    pub path: String,
    /// [`CHANGE_MODIFY`] (0), [`CHANGE_ADD`] (1) or [`CHANGE_DELETE`] (2).
    #[serde(rename = "Kind")]
    pub kind: u8,
}

impl Change {
    /// The CLI's one-letter form: `C`, `A` or `D`.
    pub fn letter(&self) -> char {
        match self.kind {
            CHANGE_ADD => 'A',
            CHANGE_DELETE => 'D',
            _ => 'C',
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shape_and_letters() {
        let c = Change {
            path: "/etc".into(),
            kind: CHANGE_MODIFY,
        };
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            serde_json::json!({"Path": "/etc", "Kind": 0})
        );
        let letters: String = [CHANGE_MODIFY, CHANGE_ADD, CHANGE_DELETE]
            .into_iter()
            .map(|kind| {
                Change {
                    path: "/x".into(),
                    kind,
                }
                .letter()
            })
            .collect();
        assert_eq!(letters, "CAD");
    }
}
