//! Progress streams (pull, load) shown as Docker's
//! `jsonmessage.DisplayJSONMessagesStream` shows them: on a terminal one
//! line per layer ID, redrawn in place with the bar drawn at the
//! terminal's width; elsewhere the status lines only, no bars and no
//! cursor movement.

use berth_api::types::image::JsonMessage;
use berth_client::stream::JsonStream;
use berth_client::ClientError;

use crate::errors::CliError;
use crate::stdio::{terminal_size, Stdio};

/// The width a bar is drawn at when the terminal does not say (Go's
/// `JSONProgress.width` default).
const DEFAULT_WIDTH: usize = 200;

/// A source of progress messages: the daemon's stream, or a fake.
#[allow(async_fn_in_trait)]
pub trait MessageSource {
    /// The next message; `None` when the stream is over.
    async fn next_message(&mut self) -> Option<Result<JsonMessage, ClientError>>;
}

impl MessageSource for JsonStream<JsonMessage> {
    async fn next_message(&mut self) -> Option<Result<JsonMessage, ClientError>> {
        self.next().await
    }
}

/// Where a stream is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `docker pull`, `docker load`.
    Stdout,
    /// The pull of `docker run` / `create` (stdout is the container's).
    Stderr,
    /// Nowhere (`-q`): only a failure is reported.
    Discard,
}

/// Shows every message of `source` on `target` until the stream ends; a
/// message carrying an error ends it with that error (Docker prints the
/// daemon's text as is, exit status 1).
pub async fn show(
    source: &mut impl MessageSource,
    io: &mut Stdio,
    target: Target,
) -> Result<(), CliError> {
    let terminal = match target {
        Target::Stdout => io.stdout_tty,
        Target::Stderr => io.stderr_tty,
        Target::Discard => false,
    };
    let width = terminal_size().map_or(DEFAULT_WIDTH, |(_, w)| usize::from(w));
    let mut display = Display::with_width(terminal, width);
    while let Some(m) = source.next_message().await {
        let m = m?;
        if let Some(e) = m.error_message() {
            return Err(CliError::msg(e));
        }
        let text = display.render(&m);
        match target {
            Target::Stdout => io.out(&text).await,
            Target::Stderr => io.err(&text).await,
            Target::Discard => {}
        }
    }
    Ok(())
}

/// Turns messages into output, remembering which line each layer is on.
#[derive(Debug)]
pub struct Display {
    terminal: bool,
    width: usize,
    /// The IDs of the lines being redrawn, top first.
    ids: Vec<String>,
}

impl Display {
    /// A display for a terminal (`terminal`) of the default width, or for
    /// a plain stream.
    pub fn new(terminal: bool) -> Display {
        Display::with_width(terminal, DEFAULT_WIDTH)
    }

    /// A display drawing bars for a terminal `width` columns wide.
    pub fn with_width(terminal: bool, width: usize) -> Display {
        Display {
            terminal,
            width,
            ids: Vec::new(),
        }
    }

    /// The text to write for `m`.
    pub fn render(&mut self, m: &JsonMessage) -> String {
        let mut out = String::new();
        if m.aux.is_some() {
            return out;
        }
        let mut diff = 0;
        if !m.id.is_empty() && (m.progress_detail.is_some() || !m.progress.is_empty()) {
            let line = match self.ids.iter().position(|id| id == &m.id) {
                Some(i) => i,
                None => {
                    self.ids.push(m.id.clone());
                    if self.terminal {
                        out.push('\n');
                    }
                    self.ids.len() - 1
                }
            };
            diff = self.ids.len() - line;
            if self.terminal {
                out.push_str(&format!("\x1b[{diff}A"));
            }
        } else {
            // Anything else ends the block of redrawn lines (as `pull -a`
            // moves from one tag to the next).
            self.ids.clear();
        }
        self.line(m, &mut out);
        if !m.id.is_empty() && self.terminal && diff > 0 {
            out.push_str(&format!("\x1b[{diff}B"));
        }
        out
    }

    /// Go's `JSONMessage.Display`.
    fn line(&self, m: &JsonMessage, out: &mut String) {
        let bar = m
            .progress_detail
            .as_ref()
            .map(|p| p.render(self.width))
            .unwrap_or_default();
        let mut endl = "";
        if self.terminal && m.stream.is_empty() && m.progress_detail.is_some() {
            out.push_str("\x1b[2K\r");
            endl = "\r";
        } else if !bar.is_empty() {
            // Bars are for terminals only.
            return;
        }
        if !m.id.is_empty() {
            out.push_str(&m.id);
            out.push_str(": ");
        }
        if !m.from.is_empty() {
            out.push_str(&format!("(from {}) ", m.from));
        }
        if m.progress_detail.is_some() && self.terminal {
            out.push_str(&format!("{} {bar}{endl}", m.status));
        } else if !m.progress.is_empty() {
            out.push_str(&format!("{} {}{endl}", m.status, m.progress));
        } else if !m.stream.is_empty() {
            out.push_str(&m.stream);
            out.push_str(endl);
        } else {
            out.push_str(&m.status);
            out.push_str(endl);
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(json: &str) -> JsonMessage {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn plain_output_prints_statuses_only() {
        let mut d = Display::new(false);
        assert_eq!(
            d.render(&msg(
                r#"{"status":"Pulling from library/busybox","id":"latest"}"#
            )),
            "latest: Pulling from library/busybox\n"
        );
        assert_eq!(
            d.render(&msg(
                r#"{"status":"Pulling fs layer","progressDetail":{},"id":"a1"}"#
            )),
            "a1: Pulling fs layer\n"
        );
        assert_eq!(
            d.render(&msg(r#"{"status":"Downloading","id":"a1","progressDetail":{"current":5,"total":10},"progress":"[=>  ] 5B/10B"}"#)),
            ""
        );
        assert_eq!(
            d.render(&msg(
                r#"{"status":"Pull complete","id":"a1","progressDetail":{}}"#
            )),
            "a1: Pull complete\n"
        );
        assert_eq!(
            d.render(&msg(r#"{"stream":"Loaded image: busybox:latest\n"}"#)),
            "Loaded image: busybox:latest\n"
        );
        assert_eq!(d.render(&msg(r#"{"aux":{"ID":"sha256:ab"}}"#)), "");
    }

    #[test]
    fn terminal_output_redraws_layer_lines() {
        let mut d = Display::with_width(true, 80);
        let first = d.render(&msg(
            r#"{"status":"Downloading","id":"a1","progressDetail":{"current":500,"total":1000}}"#,
        ));
        assert_eq!(
            first,
            "\n\x1b[1A\x1b[2K\ra1: Downloading     500B/1kB\r\x1b[1B"
        );
        let second = d.render(&msg(
            r#"{"status":"Pulling fs layer","id":"b2","progressDetail":{}}"#,
        ));
        assert_eq!(second, "\n\x1b[1A\x1b[2K\rb2: Pulling fs layer \r\x1b[1B");
        // Back to the first layer's line: two up, redraw, two down.
        let again = d.render(&msg(
            r#"{"status":"Pull complete","id":"a1","progressDetail":{}}"#,
        ));
        assert_eq!(again, "\x1b[2A\x1b[2K\ra1: Pull complete \r\x1b[2B");
        let done = d.render(&msg(r#"{"status":"Digest: sha256:ab"}"#));
        assert_eq!(done, "Digest: sha256:ab\n");
        // A new block starts below.
        let next = d.render(&msg(
            r#"{"status":"Waiting","id":"c3","progressDetail":{}}"#,
        ));
        assert_eq!(next, "\n\x1b[1A\x1b[2K\rc3: Waiting \r\x1b[1B");
        // Wide terminals get the bar.
        let mut wide = Display::with_width(true, 120);
        let bar = wide.render(&msg(
            r#"{"status":"Downloading","id":"a1","progressDetail":{"current":1,"total":2}}"#,
        ));
        assert!(bar.contains(&format!("[{}>", "=".repeat(25))), "{bar:?}");
    }
}
