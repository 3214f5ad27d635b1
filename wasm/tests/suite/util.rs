//! Helpers: embedded fixtures, JS value access, CSV tables and batch building.

use ferrisk::csv::{is_missing, CsvText};
use ferrisk_wasm::WasmScorer;
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

pub mod data {
    include!(concat!(env!("OUT_DIR"), "/fixtures.rs"));
}

/// The model kinds every golden set and fixture set must hold (others that
/// appear are tested too).
pub const KINDS: [&str; 5] = ["lr", "svm-linear", "svm-rbf", "rf", "gbm"];

/// Kinds (`<kind>.frk` files) of a table of embedded files, at `prefix`.
fn kinds_in(files: &[(&str, &[u8])], prefix: &str) -> Vec<String> {
    let mut kinds: Vec<String> = files
        .iter()
        .filter_map(|(n, _)| n.strip_prefix(prefix)?.strip_suffix(".frk"))
        .filter(|k| !k.contains('/'))
        .map(str::to_string)
        .collect();
    kinds.sort();
    for k in KINDS {
        assert!(kinds.iter().any(|x| x == k), "{prefix}{k}.frk is missing");
    }
    kinds
}

/// Every kind of a golden set (`""` or `"v1/"`).
pub fn golden_kinds(set: &str) -> Vec<String> {
    kinds_in(data::GOLDEN, set)
}

/// Every kind of the parity fixtures.
pub fn fixture_kinds() -> Vec<String> {
    fixture("data.csv");
    kinds_in(data::FIXTURES, "")
}

/// The CSV a golden file is scored on: the one it was trained on, named by
/// its metadata (`synthetic.csv`; `histories.csv` for the sequence kinds,
/// scripts/gen-golden-seq.sh), in the same set.
pub fn golden_data(set: &str, kind: &str) -> &'static str {
    let name = ferrisk::Scorer::from_bytes(golden(&format!("{set}{kind}.frk")))
        .map(|s| s.bundle().metadata.data_name.clone())
        .unwrap_or_default();
    let name = if name.is_empty() {
        "synthetic.csv".to_string()
    } else {
        name
    };
    text(golden(&format!("{set}{name}")))
}

/// The explanation players of a model: the names of the features that are
/// players themselves (every feature, or for a kind over a history those in
/// none of its channels, in schema order), and how many history steps
/// follow them (one player each, oldest first; 0 without a history).
pub fn statics_and_steps(scorer: &WasmScorer, feats: &[FeatureInfo]) -> (Vec<String>, usize) {
    let history = get(&ok(scorer.metadata()), "history");
    let names = feats.iter().map(|f| f.name.clone());
    if !history.is_object() {
        return (names.collect(), 0);
    }
    let in_history: Vec<String> = array(&history, "channels")
        .iter()
        .flat_map(|c| strings(c, "features"))
        .collect();
    (
        names.filter(|n| !in_history.contains(n)).collect(),
        num(&history, "steps") as usize,
    )
}

/// A file of `tests/golden/`.
pub fn golden(name: &str) -> &'static [u8] {
    match data::GOLDEN.iter().find(|(n, _)| *n == name) {
        Some((_, bytes)) => bytes,
        None => panic!(
            "tests/golden/{name} is missing: generate the golden files with scripts/gen-golden.sh, \
             then run scripts/test-wasm.sh"
        ),
    }
}

/// The golden sets: `""` for the current files (`tests/golden/*`, written
/// at the current format version), then each frozen set of an older format
/// (`"v1/"` for `tests/golden/v1/*`), with the format version its files carry.
pub fn golden_sets() -> Vec<(String, u16)> {
    let mut sets = vec![(String::new(), ferrisk::format::FORMAT_VERSION)];
    let mut frozen: Vec<(String, u16)> = data::GOLDEN
        .iter()
        .filter_map(|(n, _)| n.split_once('/'))
        .filter_map(|(dir, _)| Some((format!("{dir}/"), dir.strip_prefix('v')?.parse().ok()?)))
        .collect();
    frozen.sort();
    frozen.dedup();
    sets.extend(frozen);
    sets
}

/// A file of the parity fixtures made by scripts/test-wasm.sh.
pub fn fixture(name: &str) -> &'static [u8] {
    let Some(dir) = data::FIXTURE_DIR else {
        panic!(
            "FERRISK_FIXTURES is not set, so the native-vs-wasm parity fixtures are absent: \
             run scripts/test-wasm.sh (it trains and scores them with the native CLI and runs \
             these tests with FERRISK_FIXTURES set)"
        );
    };
    match data::FIXTURES.iter().find(|(n, _)| *n == name) {
        Some((_, bytes)) => bytes,
        None => panic!("fixture {name} is missing from {dir}: re-run scripts/test-wasm.sh"),
    }
}

pub fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("fixture is UTF-8 text")
}

/// The message of a JS `Error` thrown by the bindings.
pub fn message(e: impl Into<JsValue>) -> String {
    let v: JsValue = e.into();
    assert!(
        v.is_instance_of::<js_sys::Error>(),
        "thrown value is not an Error: {v:?}"
    );
    String::from(js_sys::Error::from(v).message())
}

/// Unwraps a result, failing the test with the JS error's message.
pub fn ok<T, E: Into<JsValue>>(r: Result<T, E>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("unexpected error: {}", message(e)),
    }
}

/// The message of an expected error.
pub fn fails<T, E: Into<JsValue>>(r: Result<T, E>) -> String {
    match r {
        Ok(_) => panic!("expected an error, got a result"),
        Err(e) => message(e),
    }
}

/// Asserts that `msg` contains every one of `parts`.
pub fn assert_mentions(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(
            msg.contains(p),
            "error message {msg:?} does not mention {p:?}"
        );
    }
}

pub fn load(bytes: &[u8]) -> WasmScorer {
    ok(WasmScorer::load(bytes))
}

pub fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).expect("object property")
}

pub fn num(v: &JsValue, key: &str) -> f64 {
    let x = get(v, key);
    x.as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number: {x:?}"))
}

pub fn string(v: &JsValue, key: &str) -> String {
    let x = get(v, key);
    x.as_string()
        .unwrap_or_else(|| panic!("{key} is not a string: {x:?}"))
}

pub fn boolean(v: &JsValue, key: &str) -> bool {
    let x = get(v, key);
    x.as_bool()
        .unwrap_or_else(|| panic!("{key} is not a boolean: {x:?}"))
}

pub fn array(v: &JsValue, key: &str) -> Vec<JsValue> {
    let x = get(v, key);
    assert!(Array::is_array(&x), "{key} is not an array: {x:?}");
    Array::from(&x).iter().collect()
}

pub fn strings(v: &JsValue, key: &str) -> Vec<String> {
    array(v, key)
        .into_iter()
        .map(|s| {
            s.as_string()
                .unwrap_or_else(|| panic!("{key} holds a non-string: {s:?}"))
        })
        .collect()
}

/// A CSV read with the runtime's reader.
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn read(text: &str) -> Table {
        let mut csv = CsvText::parse(text).expect("fixture CSV parses");
        let header = csv.header().to_vec();
        let rows = (&mut csv).map(|r| r.expect("fixture CSV row").1).collect();
        Table { header, rows }
    }

    pub fn column(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("CSV has no column {name}"))
    }
}

/// One input feature as the `schema()` result describes it.
pub struct FeatureInfo {
    pub name: String,
    pub numeric: bool,
    pub categories: Vec<String>,
}

pub fn features(scorer: &WasmScorer) -> Vec<FeatureInfo> {
    let schema = ok(scorer.schema());
    array(&schema, "features")
        .iter()
        .map(|f| {
            let kind = string(f, "type");
            FeatureInfo {
                name: string(f, "name"),
                numeric: kind == "numeric",
                categories: if kind == "categorical" {
                    strings(f, "categories")
                } else {
                    Vec::new()
                },
            }
        })
        .collect()
}

/// A customer object for one CSV row: every column as text, or with
/// `numbers` numeric features as JS numbers (missing cells as `null`).
pub fn customer(table: &Table, row: &[String], features: &[FeatureInfo], numbers: bool) -> JsValue {
    let o = Object::new();
    for (name, cell) in table.header.iter().zip(row) {
        let numeric = features.iter().any(|f| &f.name == name && f.numeric);
        let value = if numbers && numeric {
            if is_missing(cell) {
                JsValue::NULL
            } else {
                match cell.trim().parse::<f64>() {
                    Ok(v) => JsValue::from_f64(v),
                    Err(_) => JsValue::from_str(cell),
                }
            }
        } else {
            JsValue::from_str(cell)
        };
        Reflect::set(&o, &JsValue::from_str(name), &value).expect("set property");
    }
    o.into()
}

/// Column-major `predictBatch` inputs for some rows of a table.
pub struct Batch {
    pub numeric: Vec<f64>,
    pub codes: Vec<i32>,
    /// Indices (into `table.rows`) of the rows in the batch.
    pub rows: Vec<usize>,
}

/// Builds a batch from every row whose categories are all known (a batch
/// cannot carry an unknown category; those rows are left out).
pub fn batch(table: &Table, features: &[FeatureInfo]) -> Batch {
    let cols: Vec<usize> = features.iter().map(|f| table.column(&f.name)).collect();
    let rows: Vec<usize> = (0..table.rows.len())
        .filter(|&r| {
            features.iter().zip(&cols).all(|(f, &c)| {
                let cell = table.rows[r][c].trim();
                f.numeric || is_missing(cell) || f.categories.iter().any(|k| k == cell)
            })
        })
        .collect();
    let mut numeric = Vec::new();
    let mut codes = Vec::new();
    for (f, &c) in features.iter().zip(&cols) {
        for &r in &rows {
            let cell = table.rows[r][c].trim();
            if f.numeric {
                numeric.push(if is_missing(cell) {
                    f64::NAN
                } else {
                    cell.parse::<f64>()
                        .unwrap_or_else(|_| panic!("row {r}: {cell:?} is not a number"))
                });
            } else {
                codes.push(if is_missing(cell) {
                    -1
                } else {
                    f.categories
                        .iter()
                        .position(|k| k == cell)
                        .map(|k| k as i32)
                        .unwrap_or(-1)
                });
            }
        }
    }
    Batch {
        numeric,
        codes,
        rows,
    }
}

/// Labels of a table's label column (`true` = positive class).
pub fn labels(table: &Table, scorer: &WasmScorer) -> Vec<bool> {
    let schema = ok(scorer.schema());
    let (label, positive, negative) = (
        string(&schema, "label"),
        string(&schema, "positive"),
        string(&schema, "negative"),
    );
    let c = table.column(&label);
    table
        .rows
        .iter()
        .map(|r| {
            let cell = r[c].trim();
            assert!(
                cell == positive || cell == negative,
                "label {cell:?} is neither class"
            );
            cell == positive
        })
        .collect()
}

/// ROC AUC by counting every positive/negative pair (ties count one half):
/// a definition independent of the runtime's sorted sweep.
pub fn pairwise_auc(p: &[f32], y: &[bool]) -> f64 {
    let pos: Vec<f32> = p
        .iter()
        .zip(y)
        .filter(|(_, &y)| y)
        .map(|(&p, _)| p)
        .collect();
    let neg: Vec<f32> = p
        .iter()
        .zip(y)
        .filter(|(_, &y)| !y)
        .map(|(&p, _)| p)
        .collect();
    let mut wins = 0.0f64;
    for a in &pos {
        for b in &neg {
            if a > b {
                wins += 1.0;
            } else if a == b {
                wins += 0.5;
            }
        }
    }
    wins / (pos.len() as f64 * neg.len() as f64)
}

/// The probability of a `predict` result, as the `f32` the model produced.
pub fn probability(prediction: &JsValue) -> f32 {
    let p = num(prediction, "probability");
    let f = p as f32;
    assert_eq!(f as f64, p, "probability {p} is not an f32 value");
    f
}

/// Reads a `Float32Array` property as a `Vec<f32>`.
pub fn f32s(v: &JsValue, key: &str) -> Vec<f32> {
    let x = get(v, key);
    assert!(
        x.is_instance_of::<js_sys::Float32Array>(),
        "{key} is not a Float32Array: {x:?}"
    );
    js_sys::Float32Array::from(x).to_vec()
}

/// Reads a `Uint8Array` property as a `Vec<u8>`.
pub fn u8s(v: &JsValue, key: &str) -> Vec<u8> {
    let x = get(v, key);
    assert!(
        x.is_instance_of::<js_sys::Uint8Array>(),
        "{key} is not a Uint8Array: {x:?}"
    );
    js_sys::Uint8Array::from(x).to_vec()
}

/// The `probability` column of a CSV written by `ferrisk predict` (f32 in
/// shortest round-trip form, so parsing gives the CLI's exact value).
pub fn cli_probabilities(name: &str, csv: &str) -> Vec<f32> {
    let table = Table::read(csv);
    let c = table.column("probability");
    table
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let cell = r[c].trim();
            cell.parse::<f32>()
                .unwrap_or_else(|_| panic!("{name} row {i}: probability {cell:?} is not a number"))
        })
        .collect()
}

/// Asserts two probability vectors are equal bit for bit, naming the first
/// difference.
pub fn assert_same_bits(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(
        got.len(),
        want.len(),
        "{what}: {} values, expected {}",
        got.len(),
        want.len()
    );
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            g.to_bits() == w.to_bits(),
            "{what}: row {i}: {g:?} (bits {:#010x}) != {w:?} (bits {:#010x})",
            g.to_bits(),
            w.to_bits()
        );
    }
}

/// A file of the parity fixtures, if scripts/test-wasm.sh made it.
pub fn fixture_opt(name: &str) -> Option<&'static [u8]> {
    fixture("data.csv");
    data::FIXTURES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, bytes)| *bytes)
}

/// A plain object from `(key, value)` pairs.
pub fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &JsValue::from_str(k), v).expect("set property");
    }
    o.into()
}

/// `score()` options: `{explain, reasons?, lang?}`.
pub fn score_options(
    explain: bool,
    reasons: Option<u32>,
    lang: Option<&str>,
) -> ferrisk_wasm::ScoreOptionsArg {
    let mut pairs = vec![("explain", JsValue::from_bool(explain))];
    if let Some(k) = reasons {
        pairs.push(("reasons", JsValue::from_f64(k.into())));
    }
    if let Some(l) = lang {
        pairs.push(("lang", JsValue::from_str(l)));
    }
    object(&pairs).unchecked_into()
}

/// `JSON.stringify(v)`.
pub fn json(v: &JsValue) -> String {
    js_sys::JSON::stringify(v)
        .map(String::from)
        .expect("JSON.stringify")
}

/// `JSON.parse(text)`.
pub fn parse_json(text: &str) -> JsValue {
    js_sys::JSON::parse(text).expect("valid JSON")
}

/// Asserts two JSON values have the same structure (the same keys, at any
/// order, the same array lengths), equal strings, booleans and nulls, and
/// numbers equal after rounding both to f32. `path` names the place.
pub fn assert_same_json(path: &str, got: &JsValue, want: &JsValue) {
    if want.is_null() {
        assert!(
            got.is_null(),
            "{path}: {} where null is expected",
            json(got)
        );
    } else if let Some(w) = want.as_f64() {
        let g = got
            .as_f64()
            .unwrap_or_else(|| panic!("{path}: {} where a number is expected", json(got)));
        // Compared as numbers: JSON text has no -0 (JSON.stringify(-0) is "0").
        assert!(g as f32 == w as f32, "{path}: {g} != {w} (as f32)");
    } else if let Some(w) = want.as_string() {
        assert_eq!(got.as_string().as_deref(), Some(w.as_str()), "{path}");
    } else if let Some(w) = want.as_bool() {
        assert_eq!(got.as_bool(), Some(w), "{path}");
    } else if Array::is_array(want) {
        assert!(
            Array::is_array(got),
            "{path}: {} is not an array",
            json(got)
        );
        let (g, w) = (Array::from(got), Array::from(want));
        assert_eq!(g.length(), w.length(), "{path}: array length");
        for i in 0..w.length() {
            assert_same_json(&format!("{path}[{i}]"), &g.get(i), &w.get(i));
        }
    } else {
        assert!(
            got.is_object() && !Array::is_array(got) && !got.is_null(),
            "{path}: {} is not an object",
            json(got)
        );
        let keys = |v: &JsValue| {
            let mut k: Vec<String> = Object::keys(v.unchecked_ref::<Object>())
                .iter()
                .filter_map(|k| k.as_string())
                .collect();
            k.sort();
            k
        };
        let (gk, wk) = (keys(got), keys(want));
        assert_eq!(gk, wk, "{path}: keys");
        for k in &wk {
            assert_same_json(&format!("{path}.{k}"), &get(got, k), &get(want, k));
        }
    }
}
