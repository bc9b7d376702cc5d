//! Docker's confirmation prompt (docker/cli `command.PromptForConfirmation`),
//! shared by every `prune`.

use crate::stdio::Stdio;

/// Prints `message [y/N] ` and reads one line of stdin: only `y` (any
/// case) confirms, as in Docker; anything else, or no stdin, declines.
pub async fn confirm(io: &mut Stdio, message: &str) -> bool {
    io.out(&format!("{message} [y/N] ")).await;
    // Stdin is read on a blocking thread: the runtime's workers must not stall.
    let read = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    })
    .await;
    matches!(read, Ok(Ok(l)) if l.trim().eq_ignore_ascii_case("y"))
}
