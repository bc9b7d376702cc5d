//! `diff` (docker/cli `cli/command/container/diff.go`): the changes to a
//! container's filesystem against its image, one `C /etc`, `A /tmp/x` or
//! `D /y` line each, in the daemon's order.

use berth_api::types::container::Change;
use berth_client::Client;
use clap::Args;

use crate::errors::CmdResult;
use crate::stdio::Stdio;

/// `diff CONTAINER`.
#[derive(Debug, Clone, Args)]
pub struct DiffArgs {
    /// CONTAINER
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

/// The lines Docker prints for `changes` (`{{.Type}} {{.Path}}`).
pub fn diff_lines(changes: &[Change]) -> String {
    changes
        .iter()
        .map(|c| format!("{} {}\n", c.letter(), c.path))
        .collect()
}

/// `diff`.
pub async fn diff(client: &Client, args: &DiffArgs, io: &mut Stdio) -> CmdResult {
    let changes = client.container_diff(&args.container).await?;
    io.out(&diff_lines(&changes)).await;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_api::types::container::{CHANGE_ADD, CHANGE_DELETE, CHANGE_MODIFY};

    #[test]
    fn lines_like_docker() {
        let c = |path: &str, kind| Change {
            path: path.into(),
            kind,
        };
        assert_eq!(
            diff_lines(&[
                c("/etc", CHANGE_MODIFY),
                c("/tmp/x", CHANGE_ADD),
                c("/y", CHANGE_DELETE)
            ]),
            "C /etc\nA /tmp/x\nD /y\n"
        );
        assert_eq!(diff_lines(&[]), "");
    }
}
