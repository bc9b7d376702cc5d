//! `ContainerWait`: block until the container is not running, exits next,
//! or is removed, and return its exit code.

use std::str::FromStr;
use std::sync::Arc;

use crate::error::{DaemonError, Result};

use super::Daemon;

/// The `condition` of `POST /containers/{id}/wait`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WaitCondition {
    /// Return at once if the container is not running, else at its exit.
    #[default]
    NotRunning,
    /// Return at the next exit, even if it is not running now.
    NextExit,
    /// Return when the container is removed.
    Removed,
}

impl FromStr for WaitCondition {
    type Err = DaemonError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "" | "not-running" => Ok(WaitCondition::NotRunning),
            "next-exit" => Ok(WaitCondition::NextExit),
            "removed" => Ok(WaitCondition::Removed),
            other => Err(DaemonError::invalid(format!(
                "invalid condition: {other:?}"
            ))),
        }
    }
}

impl Daemon {
    /// Waits for `condition` and returns the container's exit code.
    pub async fn wait(self: &Arc<Self>, reference: &str, condition: WaitCondition) -> Result<i32> {
        let container = self.get(reference)?;
        // Subscribe before looking at the state, so no exit is missed.
        let mut rx = container.subscribe();
        let seen = rx.borrow().exits;
        let state = container.record().state;
        let outcome = match condition {
            WaitCondition::NotRunning if !state.running => return Ok(state.exit_code),
            WaitCondition::NotRunning | WaitCondition::NextExit => {
                rx.wait_for(|l| l.exits > seen || l.removed).await
            }
            WaitCondition::Removed => rx.wait_for(|l| l.removed).await,
        };
        match outcome {
            Ok(l) => Ok(l.exit_code),
            // The container (and its channel) went away: it was removed.
            Err(_) => Ok(container.record().state.exit_code),
        }
    }
}
