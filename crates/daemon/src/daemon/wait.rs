//! `ContainerWait`: block until the container is not running, exits next,
//! or is removed, and return its exit code.

use std::future::Future;
use std::sync::Arc;

use crate::error::Result;

use super::Daemon;

pub use berth_api::types::container::WaitCondition;

impl Daemon {
    /// Waits for `condition` and returns the container's exit code.
    pub async fn wait(self: &Arc<Self>, reference: &str, condition: WaitCondition) -> Result<i32> {
        self.wait_registered(reference, condition)?.await
    }

    /// Registers a wait for `condition` now and returns the future that
    /// resolves to the exit code. An exit after this call is never missed,
    /// even if the future is first polled later (the API sends its 200
    /// before waiting, and `docker run` starts the container only then).
    /// Errors: no such container (NotFound).
    pub fn wait_registered(
        &self,
        reference: &str,
        condition: WaitCondition,
    ) -> Result<impl Future<Output = Result<i32>> + Send + 'static> {
        let container = self.get(reference)?;
        // Subscribe before looking at the state, so no exit is missed.
        let mut rx = container.subscribe();
        let seen = rx.borrow().exits;
        let state = container.record().state;
        Ok(async move {
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
        })
    }
}
