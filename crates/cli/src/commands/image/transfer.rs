//! `save` and `load` (docker/cli `image/save.go`, `image/load.go`): image
//! tars streamed between the daemon and a file or the standard streams.

use std::path::{Path, PathBuf};

use berth_client::stream::ByteStream;
use berth_client::Client;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::args::{LoadArgs, SaveArgs};
use crate::errors::{CliError, CmdResult};
use crate::opts::io_reason;
use crate::progress::{show, Target};
use crate::stdio::{BoxReader, Stdio};

/// docker/cli's `ValidateOutputPath`: the directory must exist (Docker
/// reports its failed `stat`), and an existing path may be a file, a
/// directory (which the write then reports) or a pipe, but not a device.
pub fn validate_output(path: &str) -> Result<(), String> {
    let p = Path::new(path);
    if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            return Err(format!(
                "invalid output path: stat {}: no such file or directory",
                dir.display()
            ));
        }
    }
    use std::os::unix::fs::FileTypeExt;
    match std::fs::metadata(p) {
        Ok(m) if m.file_type().is_char_device() || m.file_type().is_block_device() => Err(format!(
            "invalid output path: \"{path}\" must be a directory or a regular file: got a device"
        )),
        _ => Ok(()),
    }
}

/// Copies the tar to `out`.
async fn copy(tar: &mut ByteStream, out: &mut (impl AsyncWrite + Unpin)) -> Result<(), CliError> {
    while let Some(chunk) = tar.next().await {
        out.write_all(&chunk?).await?;
    }
    out.flush().await?;
    Ok(())
}

/// A temporary name beside `path`, so that a failed save leaves no
/// half-written file under the real name (Docker's `CopyToFile`).
fn temp_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.berth-save-{}", std::process::id()))
}

/// Writes the tar to `path` through a temporary file renamed at the end.
async fn save_to_file(tar: &mut ByteStream, path: &str) -> Result<(), CliError> {
    let dest = Path::new(path);
    let temp = temp_beside(dest);
    let written = async {
        let mut file = tokio::fs::File::create(&temp).await.map_err(|e| {
            CliError::msg(format!(
                "failed to save image: open {}: {}",
                temp.display(),
                io_reason(&e)
            ))
        })?;
        copy(tar, &mut file).await?;
        file.sync_all().await?;
        tokio::fs::rename(&temp, dest).await.map_err(|e| {
            CliError::msg(format!(
                "failed to save image: rename {path}: {}",
                io_reason(&e)
            ))
        })
    }
    .await;
    if written.is_err() {
        let _ = tokio::fs::remove_file(&temp).await;
    }
    written
}

/// `save`.
pub async fn save(client: &Client, args: &SaveArgs, io: &mut Stdio) -> CmdResult {
    let output = args.output.as_deref().filter(|o| !o.is_empty());
    if output.is_none() && io.stdout_tty {
        return Err(CliError::msg(
            "cowardly refusing to save to a terminal. Use the -o flag or redirect",
        ));
    }
    if let Some(path) = output {
        validate_output(path).map_err(|e| CliError::msg(format!("failed to save image: {e}")))?;
    }
    let mut tar = client.image_save(&args.images).await?;
    match output {
        Some(path) => save_to_file(&mut tar, path).await?,
        None => copy(&mut tar, &mut io.stdout).await?,
    }
    Ok(0)
}

/// `load`: from `-i FILE` or stdin (never a terminal); the daemon is
/// asked for its quiet form unless stdout is a terminal, as Docker does.
pub async fn load(client: &Client, args: &LoadArgs, io: &mut Stdio) -> CmdResult {
    let input: BoxReader = match args.input.as_deref().filter(|i| !i.is_empty()) {
        Some(path) => Box::new(
            tokio::fs::File::open(path)
                .await
                .map_err(|e| CliError::msg(format!("open {path}: {}", io_reason(&e))))?,
        ),
        None if io.stdin_tty => {
            return Err(CliError::msg(
                "requested load from stdin, but stdin is empty",
            ))
        }
        None => io
            .stdin
            .take()
            .ok_or_else(|| CliError::msg("requested load from stdin, but stdin is empty"))?,
    };
    let quiet = args.quiet || !io.stdout_tty;
    let mut messages = client.image_load(input, quiet).await?;
    show(&mut messages, io, Target::Stdout).await?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_paths_are_checked_like_docker() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("out.tar");
        assert_eq!(validate_output(ok.to_str().unwrap()), Ok(()));
        let missing = dir.path().join("nosuch/out.tar");
        assert_eq!(
            validate_output(missing.to_str().unwrap()).unwrap_err(),
            format!(
                "invalid output path: stat {}: no such file or directory",
                dir.path().join("nosuch").display()
            )
        );
        assert_eq!(validate_output("relative.tar"), Ok(()));
        assert!(validate_output("/dev/null").is_err());
        let t = temp_beside(&ok);
        assert_eq!(t.parent(), ok.parent());
        assert!(t
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with(".out.tar.berth-save-"));
    }
}
