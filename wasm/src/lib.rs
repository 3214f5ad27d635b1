//! # ferrisk-wasm
//!
//! WebAssembly bindings of the ferrisk runtime: the only crate with
//! `#[wasm_bindgen]` items. Every exported function converts JavaScript
//! values into runtime types, calls the runtime ([`ferrisk::Scorer`],
//! [`ferrisk::RowScorer`], [`ferrisk::batch::BatchPlan`],
//! [`ferrisk::session::CsvSession`]), and converts the result back into a
//! [`ferrisk::views`] value; there is no scoring logic here, so the browser,
//! the CLI and the service give the same numbers and the same JSON shapes.
//!
//! ```js
//! import init, { Scorer } from "./pkg/ferrisk_wasm.js";
//! await init();
//! const scorer = Scorer.load(new Uint8Array(await (await fetch("lr.frk")).arrayBuffer()));
//! const s = scorer.score({ age_in_years: 35, purpose: "car (new)" }, { explain: true });
//! console.log(s.probability, s.decision, s.points, s.reasons, s.warnings);
//! ```
//!
//! Build: `scripts/build-wasm.sh` (into `www/pkg/`, size budget checked).
//! Tests: `scripts/test-wasm.sh` (Node.js, headless Chromium, shipped bundle,
//! `tsc --strict` over the declarations).
//!
//! Architecture invariants:
//! - every export returns `Result<_, Fail>` (a `FerriskError` with a stable
//!   `code`, see [`Fail`]); no path that JavaScript input
//!   reaches can panic, and a failed call leaves the scorer unchanged;
//! - `predictBatch` crosses the JS/wasm boundary once per batch; the runtime's
//!   batch plan reuses one block of design-row buffers;
//! - result objects are the runtime's views (TypeScript declarations
//!   generated from them, `types.d.ts`), never `any`.

use std::cell::RefCell;
use std::rc::Rc;

use ferrisk::batch::BatchPlan;
use ferrisk::error::{Coded, Column};
use ferrisk::schema::RawValue;
use ferrisk::session::{CsvRow, CsvSession, RowError};
use ferrisk::views::{
    DriftView, ExplanationView, MetadataView, MetricsView, PredictionView, RowErrorView,
    SchemaView, ScoredView,
};
use ferrisk::{ScoreOptions, Scorer};
use js_sys::{Array, Float32Array, Object, Reflect, Uint32Array, Uint8Array};
use serde::Serialize;
use wasm_bindgen::prelude::*;

/// The result views' declarations, generated from `src/views.rs`.
#[wasm_bindgen(typescript_custom_section)]
const TS_VIEWS: &str = include_str!("types.d.ts");

/// Shapes that exist only in the browser API.
#[wasm_bindgen(typescript_custom_section)]
const TS_WASM: &str = r#"
/** A customer: feature name -> value. Numbers (or numeric text) for numeric
 * features, category text for categorical ones; null, undefined or "" mean
 * missing (imputed with a warning). */
export type Customer = Record<string, number | string | null | undefined>;

/** What `score` computes beyond the probability and the points. */
export interface ScoreOptions {
  /** Explanation, principal reasons and points per feature (default false). */
  explain?: boolean;
  /** How many principal reasons, with `explain` (default 4, at most 64). */
  reasons?: number;
  /** Language of the reason texts: "en" (default) or "zh". */
  lang?: string;
  /** Reasons also for an approved customer (default false: reason codes
   *  are given for refusals, the adverse decisions). */
  allReasons?: boolean;
  /** Attach a decision record (`record`), which `ferrisk replay`
   *  reproduces bit for bit with the customer's inputs (default false). */
  record?: boolean;
}

export interface CsvPrediction {
  /** One per data row; NaN for rows that failed (see errors). */
  probabilities: Float32Array;
  /** 1 when probability >= threshold, else 0 (0 for failed rows). */
  decisions: Uint8Array;
  errors: CsvRowError[];
  /** Counts of the scored rows in the model's drift bins (add them up over
   *  chunks and pass to driftReport), or null for files without a profile. */
  driftCounts: Uint32Array | null;
}

/** A row of `predictRows` as an array: one value per feature, in the
 * order of `schema().features`. */
export type RowValues = ReadonlyArray<number | string | null | undefined>;

/** What `predictRows` returns: one entry per row. */
export interface RowsPrediction {
  probabilities: Float32Array;
  /** 1 when probability >= threshold, else 0. */
  decisions: Uint8Array;
  /** Rows scored with warnings (imputed values, unseen categories, values
   *  outside the training range); `row` counts from 0. */
  warnings: { row: number; warnings: string[] }[];
}

export interface CsvSessionOptions {
  /** Return each row's input fields (default true). */
  fields?: boolean;
  /** Count the scored rows into the model's drift bins (default true). */
  drift?: boolean;
}

/** The warnings of one scored row (imputed values, unknown categories). */
export interface CsvRowWarnings {
  line: number;
  warnings: string[];
}

/** The rows one `CsvSession.push` (or `finish`) completed, in file order:
 *  the arrays have one entry per row, failed rows included. */
export interface CsvRows {
  /** The file line each row starts on (the header is line 1). */
  lines: Uint32Array;
  /** NaN for rows that failed (see errors). */
  probabilities: Float32Array;
  /** 1 when probability >= threshold, else 0 (0 for failed rows). */
  decisions: Uint8Array;
  /** With the label column: 1 positive class, 0 negative class, 255 neither
   *  (blank, another value, or a row that could not be read); else null. */
  labels: Uint8Array | null;
  /** Each row's cells in header order, untrimmed ([] for a row the reader
   *  could not split); no entries at all with `fields: false`. */
  fields: string[][];
  /** Rows that were not scored: ragged, bad quoting, not UTF-8, bad values. */
  errors: CsvRowError[];
  /** Rows scored with warnings. */
  warnings: CsvRowWarnings[];
}
"#;

#[wasm_bindgen]
extern "C" {
    /// `ScoreOptions` (declared above), read property by property.
    #[wasm_bindgen(typescript_type = "ScoreOptions")]
    pub type ScoreOptionsArg;

    /// `CsvSessionOptions` (declared above), read property by property.
    #[wasm_bindgen(typescript_type = "CsvSessionOptions")]
    pub type CsvSessionOptionsArg;
}

/// Version of the bindings (the workspace version).
#[wasm_bindgen(skip_jsdoc)]
pub fn version() -> Result<String, Fail> {
    Ok(env!("CARGO_PKG_VERSION").to_string())
}

/// Public for the wasm test suite only (its rules are tested there).
#[doc(hidden)]
pub mod js;
pub mod trust;

/// Serialises a result view into a plain JavaScript object (`None` becomes
/// `null`, not `undefined`).
fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, Fail> {
    js::to_value(value).map_err(|e| {
        Fail::new(
            "INTERNAL",
            &format!("cannot convert the result to JavaScript: {e}"),
        )
    })
}

/// A thrown error: a JavaScript `Error` whose `name` is "FerriskError",
/// with the runtime's stable `code` ([`ferrisk::error::CODES`]) and, where
/// the runtime knows them, `feature`, `line`, `column` and `row`. The
/// package's `FerriskError` class recognises it (`instanceof`).
pub struct Fail(JsValue);

impl From<Fail> for JsValue {
    fn from(f: Fail) -> JsValue {
        f.0
    }
}

/// The bindings' own errors (an argument of the wrong shape).
impl From<JsError> for Fail {
    fn from(e: JsError) -> Fail {
        Fail::mark(e.into(), "BAD_ARGUMENT")
    }
}

impl Fail {
    /// An `Error` with `message`, named FerriskError, with `code`.
    #[inline(never)]
    fn new(code: &str, message: &str) -> Fail {
        Fail::mark(JsError::new(message).into(), code)
    }

    #[inline(never)]
    fn mark(v: JsValue, code: &str) -> Fail {
        let f = Fail(v);
        f.field("name", &JsValue::from_str("FerriskError"));
        f.field("code", &JsValue::from_str(code));
        f
    }

    fn field(&self, key: &str, value: &JsValue) {
        // Setting a property of a fresh Error cannot throw.
        let _ = Reflect::set(&self.0, &JsValue::from_str(key), value);
    }

    /// The error of a runtime error, with its code and fields.
    #[inline(never)]
    fn coded(e: &dyn Coded) -> Fail {
        let p = e.place();
        let f = Fail::new(p.code, &e.to_string());
        if let Some(name) = p.feature {
            f.field("feature", &JsValue::from_str(name));
        }
        match p.column {
            Some(Column::Index(i)) => f.field("column", &JsValue::from_f64(i as f64)),
            Some(Column::Name(n)) => f.field("column", &JsValue::from_str(n)),
            None => {}
        }
        for (key, v) in [("line", p.line), ("row", p.row)] {
            if let Some(v) = v {
                f.field(key, &JsValue::from_f64(v as f64));
            }
        }
        f
    }
}

/// An argument of the wrong shape (code `BAD_ARGUMENT`).
fn bad(message: &str) -> Fail {
    Fail::new("BAD_ARGUMENT", message)
}

fn err<E: Coded>(e: E) -> Fail {
    Fail::coded(&e)
}

/// Sets `obj[key] = value`.
fn set(obj: &Object, key: &str, value: &JsValue) -> Result<(), Fail> {
    Reflect::set(obj, &JsValue::from_str(key), value)
        .map(|_| ())
        .map_err(|_| Fail::new("INTERNAL", "cannot build the result object"))
}

// ---------------------------------------------------------------------------
// Input conversion.

/// One value of a customer object, owned (JS strings are copied once).
enum Cell {
    Missing,
    Number(f64),
    Text(String),
}

/// A customer object read against the schema.
struct Customer {
    /// One per schema feature, in schema order.
    cells: Vec<Cell>,
    /// Keys that are not features.
    extras: Vec<String>,
}

impl Cell {
    fn raw(&self) -> RawValue<'_> {
        match self {
            Cell::Missing => RawValue::Missing,
            Cell::Number(v) => RawValue::Number(*v),
            Cell::Text(t) => RawValue::Text(t),
        }
    }
}

/// One JavaScript value as a cell, with the one rule for missing values
/// that `predict`, `score` and every batch form share: null, undefined,
/// NaN and "" are missing (the runtime treats "" as missing). `None` for
/// a value of another type (boolean, object, ...).
fn cell(value: &JsValue) -> Option<Cell> {
    if let Some(v) = value.as_f64() {
        Some(if v.is_nan() {
            Cell::Missing
        } else {
            Cell::Number(v)
        })
    } else if value.is_undefined() || value.is_null() {
        Some(Cell::Missing)
    } else {
        value.as_string().map(Cell::Text)
    }
}

/// A feature's value of a type no feature takes (code `BAD_VALUE`).
fn wrong_type(name: &str, key: &JsValue, value: &JsValue) -> Fail {
    let f = Fail::new(
        "BAD_VALUE",
        &format!(
            "feature '{name}': expected a number, a string, null or undefined, got {}",
            js_type_name(value)
        ),
    );
    f.field("feature", key);
    f
}

fn js_type_name(v: &JsValue) -> &'static str {
    if v.is_null() {
        "null"
    } else if v.is_undefined() {
        "undefined"
    } else if v.is_string() {
        "a string"
    } else if v.as_f64().is_some() {
        "a number"
    } else if v.as_bool().is_some() {
        "a boolean"
    } else if Array::is_array(v) {
        "an array"
    } else if v.is_bigint() {
        "a BigInt"
    } else if v.is_symbol() {
        "a symbol"
    } else if v.is_function() {
        "a function"
    } else {
        "an object"
    }
}

/// An options object's property: `None` when absent (undefined).
fn option(options: Option<&Object>, key: &str) -> Result<Option<JsValue>, Fail> {
    let Some(o) = options else {
        return Ok(None);
    };
    let v = Reflect::get(o, &JsValue::from_str(key))
        .map_err(|_| bad(&format!("options: reading '{key}' threw")))?;
    Ok((!v.is_undefined()).then_some(v))
}

fn bool_option(options: Option<&Object>, key: &str, default: bool) -> Result<bool, Fail> {
    match option(options, key)? {
        None => Ok(default),
        Some(v) => v.as_bool().ok_or_else(|| {
            bad(&format!(
                "options.{key} must be a boolean, got {}",
                js_type_name(&v)
            ))
        }),
    }
}

/// The options of `score`, with the runtime's defaults.
fn score_options(options: Option<&Object>) -> Result<ScoreOptions, Fail> {
    let mut opts = ScoreOptions {
        explain: bool_option(options, "explain", false)?,
        reasons_always: bool_option(options, "allReasons", false)?,
        record: bool_option(options, "record", false)?,
        ..ScoreOptions::default()
    };
    if let Some(v) = option(options, "reasons")? {
        match v.as_f64() {
            Some(k) if k >= 0.0 && k.fract() == 0.0 => opts.reasons = k.min(64.0) as usize,
            _ => {
                return Err(bad(&format!(
                    "options.reasons must be a whole number >= 0, got {}",
                    v.as_f64()
                        .map_or_else(|| js_type_name(&v).to_string(), ferrisk::num::js)
                )))
            }
        }
    }
    if let Some(v) = option(options, "lang")? {
        opts.lang = v.as_string().ok_or_else(|| {
            bad(&format!(
                "options.lang must be a string, got {}",
                js_type_name(&v)
            ))
        })?;
    }
    Ok(opts)
}

// ---------------------------------------------------------------------------
// The scorer class.

/// A loaded ferrisk model, ready to score customers in the browser.
#[wasm_bindgen(js_name = Scorer)]
pub struct WasmScorer {
    /// Shared with the CSV sessions made from this scorer.
    inner: Rc<Scorer>,
    format_version: u16,
    /// `predictBatch`'s column plan and buffers.
    plan: RefCell<BatchPlan>,
    /// Feature names as JS strings, made once for customer lookups.
    keys: Vec<JsValue>,
}

#[wasm_bindgen(js_class = Scorer)]
impl WasmScorer {
    /// Loads a model file (the bytes of a `.frk`). Throws an `Error` naming
    /// what is wrong: truncated, bad magic, from the future, checksum, ...
    #[wasm_bindgen(skip_jsdoc)]
    pub fn load(bytes: &[u8]) -> Result<WasmScorer, Fail> {
        let inner = Scorer::from_bytes(bytes).map_err(err)?;
        // The header was checked by `from_bytes`; its version is at offset 8.
        let format_version = match bytes.get(8..10) {
            Some(&[a, b]) => u16::from_le_bytes([a, b]),
            _ => 0,
        };
        let keys = inner
            .bundle()
            .schema
            .features
            .iter()
            .map(|f| JsValue::from_str(&f.name))
            .collect();
        Ok(WasmScorer {
            keys,
            plan: RefCell::new(BatchPlan::new(&inner)),
            inner: Rc::new(inner),
            format_version,
        })
    }

    /// The model's input features with their training statistics.
    #[wasm_bindgen(skip_jsdoc, unchecked_return_type = "Schema")]
    pub fn schema(&self) -> Result<JsValue, Fail> {
        to_js(&SchemaView::new(self.inner.bundle()))
    }

    /// Provenance and description of the model file.
    #[wasm_bindgen(skip_jsdoc, unchecked_return_type = "Metadata")]
    pub fn metadata(&self) -> Result<JsValue, Fail> {
        let view = to_js(&MetadataView::new(self.inner.bundle(), self.format_version))?;
        // The governance report is the file's JSON text: handed on parsed.
        if let Some(g) = &self.inner.bundle().governance {
            let parsed = js_sys::JSON::parse(&g.report)
                .map_err(|_| bad("the file's governance report is not JSON"))?;
            set(view.unchecked_ref(), "governance", &parsed)?;
        }
        Ok(view)
    }

    /// The training-time evaluation stored in the file (held-out test split),
    /// or `null` when the file has none.
    #[wasm_bindgen(skip_jsdoc, unchecked_return_type = "Metrics | null")]
    pub fn metrics(&self) -> Result<JsValue, Fail> {
        to_js(&MetricsView::report(self.inner.bundle()))
    }

    /// Scores one customer.
    #[wasm_bindgen(skip_jsdoc, unchecked_return_type = "Prediction")]
    pub fn predict(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Customer")] customer: JsValue,
    ) -> Result<JsValue, Fail> {
        let c = self.customer(&customer)?;
        let p = self.inner.predict(self.fields(&c)).map_err(err)?;
        to_js(&PredictionView::from(&p))
    }

    /// Scores one customer through the runtime's row-scoring path, with on
    /// request (`{explain: true}`) the explanation, the principal reasons
    /// (`reasons`, default 4; texts in `lang`, default "en") and the points
    /// per feature: the shape of the CLI's `explain --json` and of each
    /// result of the service's `/predict`.
    #[wasm_bindgen(skip_jsdoc, unchecked_return_type = "Scored")]
    pub fn score(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Customer")] customer: JsValue,
        options: Option<ScoreOptionsArg>,
    ) -> Result<JsValue, Fail> {
        let opts = score_options(options.as_ref().map(|o| o.unchecked_ref()))?;
        self.scored(&customer, opts)
    }

    /// Per-feature contributions to one customer's score. Throws for model
    /// kinds without an explanation method yet.
    #[wasm_bindgen(skip_jsdoc, unchecked_return_type = "Explanation")]
    pub fn contributions(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Customer")] customer: JsValue,
    ) -> Result<JsValue, Fail> {
        let c = self.customer(&customer)?;
        let e = self.inner.explain(self.fields(&c)).map_err(err)?;
        to_js(&ExplanationView::from(&e))
    }

    /// The principal reasons for a customer's score (the `count` features
    /// that pushed most towards the positive class; default 4, at most 64),
    /// texts in `lang` ("en", "zh"), with the score in scorecard points and
    /// the points per feature: `score(customer, {explain: true, reasons:
    /// count, lang, allReasons: true})`: given whatever the decision.
    #[wasm_bindgen(skip_jsdoc, unchecked_return_type = "Scored")]
    pub fn reasons(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Customer")] customer: JsValue,
        count: Option<u32>,
        lang: Option<String>,
    ) -> Result<JsValue, Fail> {
        // Asked for by name: reasons whatever the decision.
        let mut opts = ScoreOptions {
            explain: true,
            reasons_always: true,
            ..ScoreOptions::default()
        };
        if let Some(k) = count {
            opts.reasons = k.min(64) as usize;
        }
        if let Some(lang) = lang {
            opts.lang = lang;
        }
        self.scored(&customer, opts)
    }

    /// Scores `rows` customers given column-major: `numeric` holds the
    /// numeric features in schema order (NaN = missing), `codes` the
    /// categorical features in schema order as indices into that feature's
    /// `categories` (-1 = missing). Returns one probability per row.
    /// Each row's warnings: pass `notes`, a `Uint8Array` of rows × schema
    /// features; it is filled row-major with 0 (none), 1 (imputed) or 3
    /// (outside the training range): the warning the row's `score` gives
    /// that feature (2, an unknown category, cannot occur in codes).
    #[wasm_bindgen(skip_jsdoc, js_name = predictBatch)]
    pub fn predict_batch(
        &self,
        numeric: &[f64],
        codes: &[i32],
        rows: u32,
        notes: Option<Uint8Array>,
    ) -> Result<Vec<f32>, Fail> {
        let mut plan = self
            .plan
            .try_borrow_mut()
            .map_err(|_| bad("predictBatch: scorer is busy"))?;
        let fail = err::<ferrisk::batch::BatchError>;
        let Some(notes) = notes else {
            return plan
                .score(&self.inner, numeric, codes, rows as usize)
                .map_err(fail);
        };
        let mut buf = vec![0u8; notes.length() as usize];
        let p = plan
            .score_noted(&self.inner, numeric, codes, rows as usize, Some(&mut buf))
            .map_err(fail)?;
        notes.copy_from(&buf);
        Ok(p)
    }

    /// Scores customers as a portal holds them: `rows` is an array whose
    /// items are customer objects (as `predict` takes) or arrays of values
    /// in schema order (`schema().features`), mixed freely. Values are
    /// converted here, in wasm, by the rule `predict` uses: numbers or
    /// numeric text, category text, and null / undefined / NaN / "" for
    /// missing (imputed with a warning); an unseen category is scored
    /// with a warning. A row that cannot be scored throws a FerriskError
    /// with its `row` (from 0). Slower than `predictBatch` (typed arrays
    /// in schema order), which stays the fastest path.
    #[wasm_bindgen(skip_jsdoc, js_name = predictRows, unchecked_return_type = "RowsPrediction")]
    pub fn predict_rows(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ReadonlyArray<Customer | RowValues>")] rows: JsValue,
    ) -> Result<JsValue, Fail> {
        let rows: Array = rows
            .dyn_into()
            .map_err(|_| bad("predictRows: rows must be an array"))?;
        let n = rows.length() as usize;
        let threshold = self.inner.bundle().threshold;
        let mut probs = Vec::with_capacity(n);
        let mut decisions = Vec::with_capacity(n);
        let mut warned = String::from("[");
        let mut scorer = self.inner.rows(ScoreOptions::default());
        for (i, row) in rows.iter().enumerate() {
            let at = |f: Fail| {
                f.field("row", &JsValue::from_f64(i as f64));
                f
            };
            let c = if Array::is_array(&row) {
                self.values(row.unchecked_ref()).map_err(at)?
            } else {
                self.customer(&row).map_err(at)?
            };
            let s = self.score_cells(&mut scorer, &c).map_err(at)?;
            let p = s.prediction.probability;
            probs.push(p);
            decisions.push(u8::from(p >= threshold));
            if !s.prediction.warnings.is_empty() {
                let w: Vec<String> = s
                    .prediction
                    .warnings
                    .iter()
                    .map(|w| w.to_string())
                    .collect();
                RowsText::warnings(&mut warned, "row", i, &w);
            }
        }
        warned.push(']');
        let warnings = js_sys::JSON::parse(&warned)
            .map_err(|_| Fail::new("INTERNAL", "cannot convert the warnings to JavaScript"))?;
        let obj = Object::new();
        set(&obj, "probabilities", &Float32Array::from(&probs[..]))?;
        set(&obj, "decisions", &Uint8Array::from(&decisions[..]))?;
        set(&obj, "warnings", &warnings)?;
        Ok(obj.into())
    }

    /// Scores every row of a CSV text (header with every feature; extra
    /// columns such as the label are ignored). Bad rows are reported in
    /// `errors` and get NaN; a structural CSV problem throws. For a large
    /// file, feed its bytes to a `csvSession()` instead.
    #[wasm_bindgen(skip_jsdoc, js_name = predictCsv, unchecked_return_type = "CsvPrediction")]
    pub fn predict_csv(&self, text: &str) -> Result<JsValue, Fail> {
        let mut session = CsvSession::new(
            Rc::clone(&self.inner),
            ScoreOptions {
                drift: true,
                ..ScoreOptions::default()
            },
        );
        let mut rows = session.push(text.as_bytes()).map_err(err)?;
        session.finish_into(&mut rows).map_err(err)?;
        // A record the reader could not split throws here (the session
        // reports it and goes on; a CSV text is small enough to fix first).
        if let Some(e) = rows.iter().find_map(|r| match &r.outcome {
            Err(e @ RowError::Csv(_)) => Some(e),
            _ => None,
        }) {
            return Err(Fail::coded(e));
        }
        let obj = rows_object(rows, self.inner.bundle().threshold, None)?;
        set(&obj, "driftCounts", &drift_counts(session.drift()))?;
        Ok(obj.into())
    }

    /// A session that scores a CSV file fed to it as bytes, chunk by chunk
    /// (see `CsvSession`). Options: `{fields?: boolean, drift?: boolean}`,
    /// both true by default.
    #[wasm_bindgen(skip_jsdoc, js_name = csvSession)]
    pub fn csv_session(
        &self,
        options: Option<CsvSessionOptionsArg>,
    ) -> Result<WasmCsvSession, Fail> {
        let options = options.as_ref().map(|o| o.unchecked_ref());
        let opts = ScoreOptions {
            drift: bool_option(options, "drift", true)?,
            ..ScoreOptions::default()
        };
        Ok(WasmCsvSession {
            fields: bool_option(options, "fields", true)?,
            threshold: self.inner.bundle().threshold,
            inner: CsvSession::new(Rc::clone(&self.inner), opts),
        })
    }

    /// PSI per feature and for the score from drift counts summed over the
    /// `driftCounts` of `predictCsv` results.
    #[wasm_bindgen(skip_jsdoc, js_name = driftReport, unchecked_return_type = "DriftReport")]
    pub fn drift_report(&self, counts: &[u32]) -> Result<JsValue, Fail> {
        let r = self
            .inner
            .drift_report(&ferrisk::drift::DriftCounts {
                counts: counts.to_vec(),
            })
            .map_err(err)?;
        to_js(&DriftView::from(&r))
    }

    /// Scores a labelled CSV (label column as in the schema) and computes the
    /// metrics at the model's threshold. Any bad row throws, naming its line.
    #[wasm_bindgen(skip_jsdoc, unchecked_return_type = "Metrics")]
    pub fn evaluate(
        &self,
        #[wasm_bindgen(js_name = csvText)] csv_text: &str,
    ) -> Result<JsValue, Fail> {
        let m = self.inner.evaluate_csv(csv_text, |_| {}).map_err(err)?;
        to_js(&MetricsView::new(&m))
    }

    /// Metrics for probabilities the page computed itself (e.g. a CSV scored
    /// in chunks) against labels (1 = positive class, 0 = negative), at the
    /// model's threshold.
    #[wasm_bindgen(skip_jsdoc, js_name = metricsFor, unchecked_return_type = "Metrics")]
    pub fn metrics_for(&self, probabilities: &[f32], labels: &[u8]) -> Result<JsValue, Fail> {
        if probabilities.len() != labels.len() {
            return Err(bad(&format!(
                "metricsFor: {} probabilities but {} labels",
                probabilities.len(),
                labels.len()
            )));
        }
        if let Some(i) = probabilities.iter().position(|p| !(0.0..=1.0).contains(p)) {
            let p = probabilities.get(i).copied().unwrap_or(f32::NAN);
            return Err(bad(&format!(
                "metricsFor: row {i}: probability {} is not in [0, 1]",
                ferrisk::num::F32(p)
            )));
        }
        let mut y = Vec::with_capacity(labels.len());
        for (i, &l) in labels.iter().enumerate() {
            match l {
                0 => y.push(false),
                1 => y.push(true),
                other => {
                    return Err(bad(&format!(
                    "metricsFor: row {i}: label {other} is neither 1 (positive) nor 0 (negative)"
                )))
                }
            }
        }
        let b = self.inner.bundle();
        let m = ferrisk::metrics::compute(probabilities, &y, b.threshold).ok_or_else(|| {
            bad(&format!(
                "metricsFor: labels contain only one class; metrics need both '{}' and '{}'",
                b.schema.positive, b.schema.negative
            ))
        })?;
        to_js(&MetricsView::new(&m))
    }
}

impl WasmScorer {
    /// One customer through the runtime's row-scoring path, as a view.
    fn scored(&self, customer: &JsValue, opts: ScoreOptions) -> Result<JsValue, Fail> {
        let c = self.customer(customer)?;
        let s = self.score_cells(&mut self.inner.rows(opts), &c)?;
        to_js(&ScoredView::from(&s))
    }

    /// One customer's cells through the runtime's row-scoring path (one
    /// copy of it in the bundle for `score`, `reasons` and `predictRows`).
    #[inline(never)]
    fn score_cells(
        &self,
        scorer: &mut ferrisk::RowScorer<'_>,
        c: &Customer,
    ) -> Result<ferrisk::Scored, Fail> {
        scorer.score_fields(self.fields(c)).map_err(err)
    }

    /// Reads a customer object: one cell per schema feature (looked up with
    /// the cached key strings: one crossing per feature, no key decoding),
    /// plus the names of any other keys, which the runtime ignores with a
    /// warning (the label column silently).
    fn customer(&self, customer: &JsValue) -> Result<Customer, Fail> {
        if !customer.is_object() || Array::is_array(customer) || customer.is_function() {
            return Err(bad(&format!(
                "customer must be an object mapping feature names to values, got {}",
                js_type_name(customer)
            )));
        }
        let features = &self.inner.bundle().schema.features;
        let mut cells = Vec::with_capacity(features.len());
        let mut defined = 0u32;
        for (f, key) in features.iter().zip(&self.keys) {
            let value = Reflect::get(customer, key)
                .map_err(|_| bad(&format!("feature '{}': reading the value threw", f.name)))?;
            let cell = cell(&value).ok_or_else(|| wrong_type(&f.name, key, &value))?;
            if !value.is_undefined() {
                defined += 1;
            }
            cells.push(cell);
        }
        // Other keys exist only when the object has more keys than defined features.
        let mut extras = Vec::new();
        let keys = Object::keys(customer.unchecked_ref::<Object>());
        if keys.length() > defined {
            for k in keys.iter() {
                if let Some(k) = k.as_string() {
                    if self.inner.feature_index(&k).is_none() {
                        extras.push(k);
                    }
                }
            }
        }
        Ok(Customer { cells, extras })
    }

    /// Reads a row given as an array of values in schema order.
    fn values(&self, row: &Array) -> Result<Customer, Fail> {
        let features = &self.inner.bundle().schema.features;
        if row.length() as usize != features.len() {
            return Err(err(ferrisk::ScoreError::FeatureCount {
                expected: features.len(),
                got: row.length() as usize,
            }));
        }
        let mut cells = Vec::with_capacity(features.len());
        for (f, (value, key)) in features.iter().zip(row.iter().zip(&self.keys)) {
            cells.push(cell(&value).ok_or_else(|| wrong_type(&f.name, key, &value))?);
        }
        Ok(Customer {
            cells,
            extras: Vec::new(),
        })
    }

    /// `(name, value)` pairs of a customer for the runtime.
    fn fields<'a>(&'a self, c: &'a Customer) -> impl Iterator<Item = (&'a str, RawValue<'a>)> {
        let features = &self.inner.bundle().schema.features;
        features
            .iter()
            .zip(&c.cells)
            .map(|(f, cell)| (f.name.as_str(), cell.raw()))
            .chain(c.extras.iter().map(|k| (k.as_str(), RawValue::Missing)))
    }
}

fn drift_counts(counts: Option<&ferrisk::drift::DriftCounts>) -> JsValue {
    match counts {
        Some(c) => Uint32Array::from(&c.counts[..]).into(),
        None => JsValue::NULL,
    }
}

// ---------------------------------------------------------------------------
// The CSV session class.

/// Label byte of a row without a usable label (see `CsvRows.labels`).
const NO_LABEL: u8 = 255;

/// A CSV file being scored as its bytes arrive (`scorer.csvSession()`):
/// `push(chunk)` returns the rows that chunk completed, `finish()` the
/// rest. Chunks may end anywhere (inside a field, a quoted line break or a
/// UTF-8 character); the results do not depend on where. A ragged row, a
/// stray quote or a row that is not UTF-8 is a row error naming the file's
/// own line, and scoring goes on; a bad header throws. The session keeps
/// its own reference to the model, so it works after `scorer.free()`.
#[wasm_bindgen(js_name = CsvSession)]
pub struct WasmCsvSession {
    inner: CsvSession<Rc<Scorer>>,
    fields: bool,
    threshold: f32,
}

#[wasm_bindgen(js_class = CsvSession)]
impl WasmCsvSession {
    /// Reads the next chunk of the file; returns the rows it completed.
    #[wasm_bindgen(skip_jsdoc, unchecked_return_type = "CsvRows")]
    pub fn push(&mut self, bytes: &[u8]) -> Result<JsValue, Fail> {
        let rows = self.inner.push(bytes).map_err(err)?;
        Ok(rows_object(rows, self.threshold, Some(self))?.into())
    }

    /// Marks the end of the file; returns the last rows. Throws for a file
    /// without a header line.
    #[wasm_bindgen(skip_jsdoc, unchecked_return_type = "CsvRows")]
    pub fn finish(&mut self) -> Result<JsValue, Fail> {
        let rows = self.inner.finish().map_err(err)?;
        Ok(rows_object(rows, self.threshold, Some(self))?.into())
    }

    /// The column names (trimmed), once the header has been read; else null.
    #[wasm_bindgen(skip_jsdoc, unchecked_return_type = "string[] | null")]
    pub fn header(&self) -> Result<JsValue, Fail> {
        match self.inner.header() {
            Some(h) => to_js(h),
            None => Ok(JsValue::NULL),
        }
    }

    /// The label column's index in the header, when the file has it.
    #[wasm_bindgen(skip_jsdoc, js_name = labelColumn)]
    pub fn label_column(&self) -> Result<Option<u32>, Fail> {
        Ok(self.inner.label_column().map(|c| c as u32))
    }

    /// Drift-bin counts of the rows scored so far, or null (no drift
    /// profile in the file, or `drift: false`).
    #[wasm_bindgen(skip_jsdoc, js_name = driftCounts, unchecked_return_type = "Uint32Array | null")]
    pub fn drift_counts(&self) -> Result<JsValue, Fail> {
        Ok(drift_counts(self.inner.drift()))
    }

    /// PSI per feature and for the score over the rows scored so far.
    #[wasm_bindgen(skip_jsdoc, js_name = driftReport, unchecked_return_type = "DriftReport")]
    pub fn drift_report(&self) -> Result<JsValue, Fail> {
        let r = self.inner.drift_report().map_err(err)?;
        to_js(&DriftView::from(&r))
    }
}

/// The bulk of a `CsvRows` object, every row's fields and warnings, written
/// as JSON text and parsed by one `JSON.parse`: for a large file (millions
/// of fields) about twice as fast as one boundary crossing per string.
struct RowsText {
    fields: String,
    warnings: String,
}

impl RowsText {
    /// Appends `s` to `out` as a JSON string.
    fn string(out: &mut String, s: &str) {
        out.push('"');
        // Quotes, backslashes and control characters are ASCII: the text
        // between them is whole UTF-8 and is copied as it is.
        let mut from = 0;
        for (i, b) in s.bytes().enumerate() {
            if b == b'"' || b == b'\\' || b < 0x20 {
                out.push_str(s.get(from..i).unwrap_or_default());
                match b {
                    b'"' => out.push_str("\\\""),
                    b'\\' => out.push_str("\\\\"),
                    b'\n' => out.push_str("\\n"),
                    b'\r' => out.push_str("\\r"),
                    b'\t' => out.push_str("\\t"),
                    _ => {
                        const HEX: &[u8; 16] = b"0123456789abcdef";
                        out.push_str("\\u00");
                        out.push(char::from(HEX[usize::from(b >> 4)]));
                        out.push(char::from(HEX[usize::from(b & 15)]));
                    }
                }
                from = i + 1;
            }
        }
        out.push_str(s.get(from..).unwrap_or_default());
        out.push('"');
    }

    /// Appends a JSON array of strings to `out`.
    fn strings(out: &mut String, items: &[String]) {
        out.push('[');
        for (k, item) in items.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            RowsText::string(out, item);
        }
        out.push(']');
    }

    /// Appends one row's fields to the `fields` array.
    fn fields(&mut self, fields: &[String]) {
        if self.fields.len() > 1 {
            self.fields.push(',');
        }
        RowsText::strings(&mut self.fields, fields);
    }

    /// Appends `{"<key>":N,"warnings":[...]}` to `out` (key "line" for a
    /// CSV row, "row" for a `predictRows` row).
    fn warnings(out: &mut String, key: &str, line: usize, warnings: &[String]) {
        out.push_str(if out.len() > 1 { ",{\"" } else { "{\"" });
        out.push_str(key);
        out.push_str("\":");
        out.push_str(&line.to_string());
        out.push_str(",\"warnings\":");
        RowsText::strings(out, warnings);
        out.push('}');
    }

    fn into_js(mut self) -> Result<JsValue, Fail> {
        self.fields.push(']');
        self.warnings.push(']');
        let text = format!(
            "{{\"fields\":{},\"warnings\":{}}}",
            self.fields, self.warnings
        );
        js_sys::JSON::parse(&text)
            .map_err(|_| Fail::new("INTERNAL", "cannot convert the rows to JavaScript"))
    }
}

/// The `CsvRows` object of some rows (one entry per row); `predictCsv` uses
/// its probabilities, decisions and errors.
fn rows_object(
    rows: Vec<CsvRow>,
    threshold: f32,
    session: Option<&WasmCsvSession>,
) -> Result<Object, Fail> {
    let labelled = session.is_some_and(|s| s.inner.label_column().is_some());
    let with_fields = session.is_some_and(|s| s.fields);
    let n = rows.len();
    let mut lines = Vec::with_capacity(n);
    let mut probs = Vec::with_capacity(n);
    let mut decisions = Vec::with_capacity(n);
    let mut labels = Vec::with_capacity(if labelled { n } else { 0 });
    let mut text = RowsText {
        fields: String::from("["),
        warnings: String::from("["),
    };
    let mut errors = Vec::new();
    for row in rows {
        lines.push(u32::try_from(row.line).unwrap_or(u32::MAX));
        if labelled {
            labels.push(row.label.map_or(NO_LABEL, u8::from));
        }
        if with_fields {
            text.fields(&row.fields);
        }
        match row.outcome {
            Ok(s) => {
                let p = s.prediction.probability;
                probs.push(p);
                decisions.push(u8::from(p >= threshold));
                if !s.prediction.warnings.is_empty() {
                    let w: Vec<String> = s
                        .prediction
                        .warnings
                        .iter()
                        .map(|w| w.to_string())
                        .collect();
                    RowsText::warnings(&mut text.warnings, "line", row.line, &w);
                }
            }
            Err(e) => {
                probs.push(f32::NAN);
                decisions.push(0);
                errors.push(RowErrorView {
                    line: row.line,
                    message: e.to_string(),
                    code: e.code(),
                });
            }
        }
    }
    let obj: Object = text.into_js()?.unchecked_into();
    set(&obj, "errors", &to_js(&errors)?)?;
    if session.is_some() {
        set(&obj, "lines", &Uint32Array::from(&lines[..]))?;
        let labels: JsValue = if labelled {
            Uint8Array::from(&labels[..]).into()
        } else {
            JsValue::NULL
        };
        set(&obj, "labels", &labels)?;
    } else {
        // predictCsv's shape: probabilities, decisions, errors.
        for key in ["fields", "warnings"] {
            Reflect::delete_property(&obj, &JsValue::from_str(key))
                .map_err(|_| Fail::new("INTERNAL", "cannot build the result object"))?;
        }
    }
    set(&obj, "probabilities", &Float32Array::from(&probs[..]))?;
    set(&obj, "decisions", &Uint8Array::from(&decisions[..]))?;
    Ok(obj)
}
