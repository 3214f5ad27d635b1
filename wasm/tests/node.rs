//! The shared wasm test suite (`suite/`), run under Node.js:
//! `wasm-pack test --node wasm` (see scripts/test-wasm.sh).
//!
//! This file must NOT configure `run_in_browser`: the runner skips
//! browser-configured suites under Node and node suites in a browser, so
//! `browser.rs` includes the same suite with that configuration and each
//! mode runs every test exactly once.
#![cfg(target_arch = "wasm32")]
// Test code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod suite;
