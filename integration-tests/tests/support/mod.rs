//! Shared helpers of the image integration tests.
#![allow(dead_code)]

pub mod stall_proxy;
