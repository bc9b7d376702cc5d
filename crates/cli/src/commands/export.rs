//! `export` (docker/cli `cli/command/container/export.go`): a tar of a
//! container's filesystem to stdout or, with `-o`, to a file (written
//! whole to a temp file first, then renamed, as Docker's `CopyToFile`).

use std::path::Path;

use berth_client::Client;
use clap::Args;
use tokio::io::AsyncWriteExt;

use crate::errors::{CliError, CmdResult};
use crate::stdio::Stdio;

/// `export [-o FILE] CONTAINER`.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// Write to a file, instead of STDOUT
    #[arg(short = 'o', long, value_name = "string")]
    pub output: Option<String>,
    /// CONTAINER
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

/// Docker's refusal to write an archive to a terminal.
pub const TERMINAL_REFUSAL: &str =
    "cowardly refusing to save to a terminal. Use the -o flag or redirect";

/// docker/cli's `ValidateOutputPath`: the file's directory must exist and
/// the path must not be a directory.
pub fn validate_output_path(path: &str) -> Result<(), String> {
    let p = Path::new(path);
    let dir = p
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.exists() {
        return Err(format!(
            "invalid output path: directory {:?} does not exist",
            dir.display().to_string()
        ));
    }
    if p.is_dir() {
        return Err(format!("invalid output path: {path:?} is a directory"));
    }
    Ok(())
}

/// `export`.
pub async fn export(client: &Client, args: &ExportArgs, io: &mut Stdio) -> CmdResult {
    let output = args.output.as_deref().filter(|o| !o.is_empty());
    if output.is_none() && io.stdout_tty {
        return Err(CliError::msg(TERMINAL_REFUSAL));
    }
    if let Some(path) = output {
        validate_output_path(path)
            .map_err(|e| CliError::msg(format!("failed to export container: {e}")))?;
    }
    let mut tar = client.container_export(&args.container).await?;
    match output {
        None => {
            while let Some(chunk) = tar.next().await {
                io.stdout.write_all(&chunk?).await?;
            }
            io.stdout.flush().await?;
        }
        Some(path) => {
            let path = Path::new(path);
            let dir = path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let tmp = dir.join(format!(".{name}.berth-export-{}", std::process::id()));
            let written = async {
                let mut f = tokio::fs::File::create(&tmp).await?;
                while let Some(chunk) = tar.next().await {
                    let chunk = chunk.map_err(|e| CliError::msg(e.to_string()))?;
                    f.write_all(&chunk).await?;
                }
                f.sync_all().await?;
                tokio::fs::rename(&tmp, path).await?;
                Ok::<(), CliError>(())
            }
            .await;
            if let Err(e) = written {
                let _ = tokio::fs::remove_file(&tmp).await;
                return Err(e);
            }
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_paths_are_checked_like_docker() {
        let d = tempfile::tempdir().unwrap();
        let ok = d.path().join("out.tar");
        validate_output_path(ok.to_str().unwrap()).unwrap();
        validate_output_path("relative.tar").unwrap();
        let missing = d.path().join("nope/out.tar");
        assert_eq!(
            validate_output_path(missing.to_str().unwrap()).unwrap_err(),
            format!(
                "invalid output path: directory {:?} does not exist",
                d.path().join("nope").display().to_string()
            )
        );
        let dir = d.path().to_str().unwrap();
        assert_eq!(
            validate_output_path(dir).unwrap_err(),
            format!("invalid output path: {dir:?} is a directory")
        );
    }
}
