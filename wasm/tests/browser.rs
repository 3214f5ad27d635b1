//! The shared wasm test suite (`suite/`), run in headless Chromium:
//! `wasm-pack test --headless --chrome wasm` (see scripts/test-wasm.sh,
//! which sets CHROMEDRIVER and the flags in wasm/webdriver.json).
#![cfg(target_arch = "wasm32")]
// Test code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod suite;
