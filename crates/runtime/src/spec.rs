//! Reading config.json and process.json with errors that name the bad field.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use oci_spec::runtime::{Process, Spec};
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Loads and checks the bundle's `config.json`.
pub fn load_spec(bundle: &Path) -> Result<Spec> {
    let path = bundle.join("config.json");
    let spec: Spec = load_json(&path)?;
    validate(&spec)?;
    Ok(spec)
}

/// Loads a process description (`runc exec --process`).
pub fn load_process(path: &Path) -> Result<Process> {
    let process: Process = load_json(path)?;
    if process.args().as_ref().is_none_or(|a| a.is_empty()) {
        return Err(Error::Spec(format!(
            "{}: process.args must not be empty",
            path.display()
        )));
    }
    Ok(process)
}

/// Parses JSON, reporting the path of the offending field on failure.
fn load_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let file = File::open(path)
        .map_err(|e| Error::Spec(format!("cannot read {}: {e}", path.display())))?;
    let mut de = serde_json::Deserializer::from_reader(BufReader::new(file));
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        Error::Spec(format!(
            "{}: invalid field {field:?}: {}",
            path.display(),
            e.inner()
        ))
    })
}

/// The checks runc makes before it touches the system.
fn validate(spec: &Spec) -> Result<()> {
    let root = spec
        .root()
        .as_ref()
        .ok_or_else(|| Error::Spec("config.json: field \"root\" is required".into()))?;
    if root.path().as_os_str().is_empty() {
        return Err(Error::Spec(
            "config.json: root.path must not be empty".into(),
        ));
    }
    let process = spec
        .process()
        .as_ref()
        .ok_or_else(|| Error::Spec("config.json: field \"process\" is required".into()))?;
    if process.args().as_ref().is_none_or(|a| a.is_empty()) {
        return Err(Error::Spec(
            "config.json: process.args must not be empty".into(),
        ));
    }
    if !process.cwd().is_absolute() {
        return Err(Error::Spec(format!(
            "config.json: process.cwd {:?} is not an absolute path",
            process.cwd()
        )));
    }
    if spec.linux().is_none() {
        return Err(Error::Spec(
            "config.json: field \"linux\" is required".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, json: &str) {
        std::fs::write(dir.join("config.json"), json).unwrap();
    }

    #[test]
    fn malformed_field_is_named() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            r#"{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"cwd":"/","args":["sh"],"user":{"uid":"zero","gid":0}},"linux":{}}"#,
        );
        let err = load_spec(dir.path()).unwrap_err().to_string();
        assert!(err.contains("process.user.uid"), "{err}");
    }

    #[test]
    fn missing_args_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            r#"{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"cwd":"/","user":{"uid":0,"gid":0}},"linux":{}}"#,
        );
        let err = load_spec(dir.path()).unwrap_err().to_string();
        assert!(err.contains("process.args"), "{err}");
    }

    #[test]
    fn relative_cwd_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            r#"{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"cwd":"tmp","args":["sh"],"user":{"uid":0,"gid":0}},"linux":{}}"#,
        );
        assert!(load_spec(dir.path()).is_err());
    }
}
