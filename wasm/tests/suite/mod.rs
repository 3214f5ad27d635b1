//! The wasm test suite, shared by `node.rs` and `browser.rs`.
//!
//! Every test goes through the exported JS API (`ferrisk_wasm::WasmScorer`,
//! i.e. the `Scorer` class, with `JsValue` arguments and results), so the
//! conversions the browser relies on are what is tested.
//!
//! - `golden`: the golden model files of `tests/golden/` (one per kind) and
//!   `synthetic.csv` (`histories.csv` for the sequence kinds): result shapes, and agreement of `predict`,
//!   `predictBatch`, `predictCsv`, `evaluate` and `metricsFor`.
//! - `parity`: models trained on German credit and scored by the *native*
//!   CLI (fixtures made by scripts/test-wasm.sh); wasm probabilities must
//!   equal the CLI's bit for bit.
//! - `hostile`: damaged files and bad inputs throw clear errors, and the
//!   scorer keeps working afterwards.
//! - `credit`: reasons and points (`reasons()`/`score()` give the `Scored`
//!   view), drift counts and PSI, attention weights.
//! - `session`: `CsvSession` fed bytes in any chunking; broken records are
//!   row errors with their file lines; equal to `predictCsv` bit for bit.
//! - `import`: models imported from XGBoost and LightGBM (tests/import/):
//!   the libraries' probabilities within 1e-5, the native CLI's bit for bit,
//!   and the libraries' TreeSHAP contributions.
//! - `js`: the bindings' own serde serializer (`ferrisk_wasm::js`, which
//!   replaced serde-wasm-bindgen): each serde shape as the JS value the
//!   bindings promise (objects, arrays, null, Map, Uint8Array, numbers).
//! - `parity` also checks that `score(customer, {explain: true})` gives the
//!   JSON of the CLI's `explain --json`.

mod util;

mod credit;
mod golden;
mod hostile;
mod import;
mod js;
mod parity;
mod rows;
mod session;
mod trust;
