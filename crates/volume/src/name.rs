//! Volume names: moby's rule for the local driver and random names for
//! anonymous volumes.

use crate::error::Result;

/// Checks a name against `[a-zA-Z0-9][a-zA-Z0-9_.-]+` with moby's message:
/// `create <name>: "<name>" includes invalid characters for a local volume
/// name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to
/// pass a host directory, use absolute path`.
pub fn validate_name(name: &str) -> Result<()> {
    let _ = name;
    todo!()
}

/// A fresh random 64-hex name for an anonymous volume.
pub fn anonymous_name() -> String {
    todo!()
}
