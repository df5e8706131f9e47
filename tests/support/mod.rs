//! Shared test support. Use from an integration test with `mod support;`.

// Each test binary uses a different subset of the helpers.
#![allow(dead_code)]

pub mod moto;
pub mod proxy;
pub mod seed;
pub mod stub;
