//! The in-memory container index: find a container by full ID, by a unique
//! ID prefix, or by name, with moby's `GetContainer` precedence and errors.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, RwLock};

use crate::error::{DaemonError, Result};

/// What the store needs to know about the values it holds.
pub trait StoreItem {
    /// The full 64-hex ID.
    fn id(&self) -> &str;
    /// The current canonical name (`/name`).
    fn name(&self) -> String;
}

/// A minimal container record: enough to index and list it. The daemon's
/// state machine will grow its own richer type implementing [`StoreItem`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    /// The full 64-hex ID.
    pub id: String,
    /// The canonical name, with its leading `/`.
    pub name: String,
    /// When it was created (RFC 3339).
    pub created: String,
}

impl StoreItem for Container {
    fn id(&self) -> &str {
        &self.id
    }
    fn name(&self) -> String {
        self.name.clone()
    }
}

/// A thread-safe index of containers by ID, sorted so that prefix lookups are
/// a range scan.
pub struct Store<T> {
    by_id: RwLock<BTreeMap<String, Arc<T>>>,
}

impl<T> Default for Store<T> {
    fn default() -> Self {
        Store {
            by_id: RwLock::new(BTreeMap::new()),
        }
    }
}

impl<T: StoreItem> Store<T> {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a container, keyed by its ID.
    pub fn add(&self, item: Arc<T>) {
        let id = item.id().to_string();
        self.write().insert(id, item);
    }

    /// Removes the container with full ID `id`, returning it.
    pub fn remove(&self, id: &str) -> Option<Arc<T>> {
        self.write().remove(id)
    }

    /// The container with exactly this full ID.
    pub fn get_by_id(&self, id: &str) -> Option<Arc<T>> {
        self.read().get(id).cloned()
    }

    /// The container with this name (with or without the leading `/`).
    pub fn get_by_name(&self, name: &str) -> Option<Arc<T>> {
        let want = if name.starts_with('/') {
            name.to_string()
        } else {
            format!("/{name}")
        };
        self.read().values().find(|c| c.name() == want).cloned()
    }

    /// Resolves a reference the way moby's `GetContainer` does: an exact full
    /// ID, then an exact name, then a unique ID prefix.
    ///
    /// Errors: an empty reference is InvalidParameter; nothing found is
    /// NotFound `No such container: <ref>`; a prefix shared by several IDs is
    /// InvalidParameter `Multiple IDs found with provided prefix: <ref>`.
    pub fn get(&self, reference: &str) -> Result<Arc<T>> {
        if reference.is_empty() {
            return Err(DaemonError::invalid(format!(
                "invalid name or ID supplied: {reference:?}"
            )));
        }
        if let Some(c) = self.get_by_id(reference) {
            return Ok(c);
        }
        if let Some(c) = self.get_by_name(reference) {
            return Ok(c);
        }
        let map = self.read();
        let mut hits = map
            .range::<str, _>((Bound::Included(reference), Bound::Unbounded))
            .take_while(|(id, _)| id.starts_with(reference));
        match (hits.next(), hits.next()) {
            (Some((_, c)), None) => Ok(c.clone()),
            (Some(_), Some(_)) => Err(DaemonError::invalid(format!(
                "Multiple IDs found with provided prefix: {reference}"
            ))),
            (None, _) => Err(DaemonError::no_such_container(reference)),
        }
    }

    /// All containers, in ID order.
    pub fn list(&self) -> Vec<Arc<T>> {
        self.read().values().cloned().collect()
    }

    /// How many containers the store holds.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// True when the store holds nothing.
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<T>>> {
        self.by_id.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<T>>> {
        self.by_id.write().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_errdefs::{ErrorKind, HasKind};

    fn c(id: &str, name: &str) -> Arc<Container> {
        Arc::new(Container {
            id: id.into(),
            name: name.into(),
            created: "2026-01-01T00:00:00Z".into(),
        })
    }

    fn store() -> Store<Container> {
        let s = Store::new();
        s.add(c(&format!("abc1{}", "0".repeat(60)), "/web"));
        s.add(c(&format!("abc2{}", "0".repeat(60)), "/db"));
        s.add(c(&format!("def0{}", "0".repeat(60)), "/abc"));
        s
    }

    #[test]
    fn lookups() {
        let s = store();
        assert_eq!(s.len(), 3);
        let full = format!("abc1{}", "0".repeat(60));
        assert_eq!(s.get(&full).unwrap().name, "/web");
        assert_eq!(s.get("abc2").unwrap().name, "/db");
        assert_eq!(s.get("de").unwrap().name, "/abc");
        assert_eq!(s.get("web").unwrap().id, full);
        assert_eq!(s.get("/web").unwrap().id, full);
        // An exact name wins over an (ambiguous) ID prefix.
        assert_eq!(s.get("abc").unwrap().name, "/abc");
    }

    #[test]
    fn errors() {
        let s = store();
        let e = s.get("ab").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidParameter);
        assert_eq!(e.to_string(), "Multiple IDs found with provided prefix: ab");
        let e = s.get("nope").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(e.to_string(), "No such container: nope");
        assert_eq!(s.get("").unwrap_err().kind(), ErrorKind::InvalidParameter);
        let id = format!("abc1{}", "0".repeat(60));
        assert!(s.remove(&id).is_some());
        assert_eq!(s.get("ab").unwrap().name, "/db");
        assert!(s.get("web").is_err());
    }
}
