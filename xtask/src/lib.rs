//! Berth's developer tasks as a library, so tests can build the same fixtures
//! the `cargo xtask` command does.
