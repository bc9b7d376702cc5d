//! The runtime's error type: every failure carries a message a user can act on.

use std::io;

/// Everything that can go wrong while driving a container's lifecycle.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A container with this id already exists under the state root.
    #[error("container with id {0:?} already exists")]
    Exists(String),
    /// No container with this id exists under the state root.
    #[error("container {0:?} does not exist")]
    NotFound(String),
    /// The id is empty or holds characters other than `[A-Za-z0-9_+.-]`.
    #[error("invalid container id {0:?}: it must match [A-Za-z0-9][A-Za-z0-9_+.-]*")]
    InvalidId(String),
    /// The operation is not allowed in the container's current state.
    #[error("{0}")]
    InvalidState(String),
    /// config.json (or a process.json) is unreadable or inconsistent.
    #[error("{0}")]
    Spec(String),
    /// A cgroup could not be created, configured, frozen or removed.
    #[error("cgroup: {0}")]
    Cgroup(String),
    /// The container's seccomp profile could not be turned into a filter.
    #[error(transparent)]
    Seccomp(#[from] crate::seccomp::SeccompError),
    /// A lifecycle hook failed.
    #[error("{0}")]
    Hook(String),
    /// The container's init (or an exec'd process) failed before running the
    /// user's program; the message comes from inside the container.
    #[error("{0}")]
    Init(String),
    /// A requested feature that this runtime deliberately does not provide.
    #[error("{0}")]
    Unsupported(String),
    /// A system call or file operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What the runtime was doing.
        context: String,
        /// The underlying OS error.
        source: io::Error,
    },
}

/// The runtime's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Attaches a description of what was being done to an OS error.
pub trait Context<T> {
    /// Wraps the error with `context`, built only on failure.
    fn context_with<F: FnOnce() -> String>(self, context: F) -> Result<T>;
    /// Wraps the error with a fixed `context`.
    fn context(self, context: &str) -> Result<T>;
}

impl<T, E: Into<io::Error>> Context<T> for std::result::Result<T, E> {
    fn context_with<F: FnOnce() -> String>(self, context: F) -> Result<T> {
        self.map_err(|e| Error::Io {
            context: context(),
            source: e.into(),
        })
    }

    fn context(self, context: &str) -> Result<T> {
        self.context_with(|| context.to_string())
    }
}
