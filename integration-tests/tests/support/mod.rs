//! Shared helpers of the image integration tests.
#![allow(dead_code)]

pub mod auth_gateway;
pub mod stall_proxy;
