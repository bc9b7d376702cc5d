//! Pull progress as Docker's `jsonmessage.DisplayJSONMessagesStream`
//! shows it: on a terminal one line per layer ID, redrawn in place; else
//! the status lines only.

use serde::Deserialize;

use crate::format::units::human_size;

/// One message of `POST /images/create` (a private stand-in until the
/// image API types land).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ProgressMessage {
    /// What happens (`Pulling fs layer`, `Downloading`, `Pull complete`).
    pub status: String,
    /// The layer or tag it is about.
    pub id: String,
    /// The bar as the daemon drew it.
    pub progress: String,
    /// Bytes done and total.
    #[serde(rename = "progressDetail")]
    pub progress_detail: Option<ProgressDetail>,
    /// The failure, when the pull failed.
    pub error: String,
    /// The failure in detail.
    #[serde(rename = "errorDetail")]
    pub error_detail: Option<ErrorDetail>,
}

/// `progressDetail`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ProgressDetail {
    /// Bytes done.
    pub current: i64,
    /// Bytes in all (0: unknown).
    pub total: i64,
}

/// `errorDetail`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ErrorDetail {
    /// The message.
    pub message: String,
}

impl ProgressMessage {
    /// The failure this message reports, if any.
    pub fn failure(&self) -> Option<String> {
        if let Some(d) = &self.error_detail {
            if !d.message.is_empty() {
                return Some(d.message.clone());
            }
        }
        (!self.error.is_empty()).then(|| self.error.clone())
    }

    /// The progress text: the daemon's bar, else `current/total`.
    fn progress_text(&self) -> String {
        if !self.progress.is_empty() {
            return self.progress.clone();
        }
        match &self.progress_detail {
            Some(d) if d.total > 0 => format!(
                "{}/{}",
                human_size(d.current as f64),
                human_size(d.total as f64)
            ),
            Some(d) if d.current > 0 => human_size(d.current as f64),
            _ => String::new(),
        }
    }

    fn has_progress(&self) -> bool {
        !self.progress.is_empty()
            || self
                .progress_detail
                .as_ref()
                .is_some_and(|d| d.current > 0 || d.total > 0)
    }
}

/// Turns messages into terminal output.
#[derive(Debug, Default)]
pub struct Display {
    terminal: bool,
    /// Layer ID -> its line, counted from the first progress line.
    lines: Vec<String>,
}

impl Display {
    /// A display for a terminal (`terminal`) or a plain stream.
    pub fn new(terminal: bool) -> Display {
        Display {
            terminal,
            lines: Vec::new(),
        }
    }

    /// The text to write for `m`.
    pub fn render(&mut self, m: &ProgressMessage) -> String {
        let mut out = String::new();
        let progress = m.has_progress();
        if !self.terminal {
            if progress {
                // Progress bars are for terminals only.
                return out;
            }
            if !m.id.is_empty() {
                out.push_str(&format!("{}: ", m.id));
            }
            out.push_str(&m.status);
            out.push('\n');
            return out;
        }
        let mut diff = 0;
        if !m.id.is_empty() && progress || !m.id.is_empty() && self.lines.contains(&m.id) {
            let line = match self.lines.iter().position(|l| l == &m.id) {
                Some(i) => i,
                None => {
                    self.lines.push(m.id.clone());
                    out.push('\n');
                    self.lines.len() - 1
                }
            };
            diff = self.lines.len() - line;
            out.push_str(&format!("\x1b[{diff}A"));
        } else {
            // A message without progress ends the block of layer lines.
            self.lines.clear();
        }
        out.push_str("\x1b[2K\r");
        if !m.id.is_empty() {
            out.push_str(&format!("{}: ", m.id));
        }
        out.push_str(&m.status);
        if progress {
            out.push(' ');
            out.push_str(&m.progress_text());
            out.push('\r');
        } else if diff == 0 {
            out.push('\n');
        } else {
            out.push('\r');
        }
        if diff > 0 {
            out.push_str(&format!("\x1b[{diff}B"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(json: &str) -> ProgressMessage {
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
            d.render(&msg(r#"{"status":"Downloading","id":"a1","progressDetail":{"current":5,"total":10},"progress":"[=>  ] 5B/10B"}"#)),
            ""
        );
        assert_eq!(
            d.render(&msg(
                r#"{"status":"Pull complete","id":"a1","progressDetail":{}}"#
            )),
            "a1: Pull complete\n"
        );
        let e = msg(r#"{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}"#);
        assert_eq!(e.failure().as_deref(), Some("manifest unknown"));
        assert_eq!(msg(r#"{"status":"x"}"#).failure(), None);
    }

    #[test]
    fn terminal_output_redraws_layer_lines() {
        let mut d = Display::new(true);
        let first = d.render(&msg(
            r#"{"status":"Downloading","id":"a1","progressDetail":{"current":500,"total":1000}}"#,
        ));
        assert_eq!(first, "\n\x1b[1A\x1b[2K\ra1: Downloading 500B/1kB\r\x1b[1B");
        let second = d.render(&msg(
            r#"{"status":"Downloading","id":"b2","progress":"[==>  ]"}"#,
        ));
        assert_eq!(second, "\n\x1b[1A\x1b[2K\rb2: Downloading [==>  ]\r\x1b[1B");
        // Back to the first layer's line: two up, redraw, two down.
        let again = d.render(&msg(r#"{"status":"Pull complete","id":"a1"}"#));
        assert_eq!(again, "\x1b[2A\x1b[2K\ra1: Pull complete\r\x1b[2B");
        let done = d.render(&msg(
            r#"{"status":"Status: Downloaded newer image for busybox:latest"}"#,
        ));
        assert_eq!(
            done,
            "\x1b[2K\rStatus: Downloaded newer image for busybox:latest\n"
        );
    }
}
