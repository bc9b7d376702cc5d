//! `ContainerRename`: move a container to a new (valid, free) name.

use std::sync::Arc;

use crate::error::{DaemonError, Result};
use crate::events::action;
use crate::names::normalize_name;

use super::Daemon;

impl Daemon {
    /// Renames the container; the old name is freed only once the new one
    /// is reserved and recorded.
    pub async fn rename(self: &Arc<Self>, reference: &str, new_name: &str) -> Result<()> {
        if new_name.trim_start_matches('/').is_empty() {
            return Err(DaemonError::invalid(
                "Neither old nor new names may be empty",
            ));
        }
        let container = self.get(reference)?;
        let _op = container.op.lock().await;
        let record = container.record();
        let new = normalize_name(new_name)?;
        if new == record.name {
            return Err(DaemonError::invalid(
                "Renaming a container with the same name as its current name",
            ));
        }
        let new = self.names.reserve(&new, &record.id)?;
        if let Err(e) = container.update(self.data_root(), |r| r.name = new.clone()) {
            self.names.release(&new);
            return Err(e);
        }
        self.names.release(&record.name);
        self.container_event(&container, action::RENAME, &[("oldName", &record.name)]);
        Ok(())
    }
}
