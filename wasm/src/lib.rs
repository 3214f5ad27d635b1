//! # ferrisk-wasm
//!
//! WebAssembly bindings of the ferrisk runtime: the only crate with
//! `#[wasm_bindgen]` items. Every exported function converts JavaScript
//! values into runtime types, calls [`ferrisk::Scorer`], and converts the
//! result back; all scoring logic stays in the runtime, so the browser and
//! the native CLI give the same numbers bit for bit. The one piece of
//! preprocessing here, `predictBatch`'s column-major encoder, repeats
//! [`ferrisk::Schema::encode`]'s operations in the same order; the parity
//! tests (wasm/tests) compare it with the native CLI bit for bit.
//!
//! ```js
//! import init, { Scorer } from "./pkg/ferrisk_wasm.js";
//! await init();
//! const scorer = Scorer.load(new Uint8Array(await (await fetch("lr.frk")).arrayBuffer()));
//! const p = scorer.predict({ age_in_years: 35, purpose: "car (new)" });
//! console.log(p.probability, p.decision, p.warnings);
//! ```
//!
//! Build: `scripts/build-wasm.sh` (into `www/pkg/`, size budget checked).
//! Tests: `scripts/test-wasm.sh` (Node.js, headless Chromium, shipped bundle).
//!
//! Architecture invariants:
//! - every export returns `Result<_, JsError>`; no path that JavaScript input
//!   reaches can panic, and a failed call leaves the scorer unchanged;
//! - `predictBatch` crosses the JS/wasm boundary once per batch and reuses
//!   one block of design-row buffers (no allocation per row);
//! - result objects have TypeScript interfaces (below), never `any`.

use ferrisk::explain::Explanation as RtExplanation;
use ferrisk::metrics::Metrics as RtMetrics;
use ferrisk::schema::{FeatureKind, RawValue};
use ferrisk::{Bundle, RowScore};
use js_sys::{Array, Float32Array, Object, Reflect, Uint8Array};
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
/** A customer: feature name -> value. Numbers (or numeric text) for numeric
 * features, category text for categorical ones; null, undefined or "" mean
 * missing (imputed with a warning). */
export type Customer = Record<string, number | string | null | undefined>;

export interface NumericFeature {
  name: string;
  type: "numeric";
  min: number;
  max: number;
  mean: number;
  median: number;
  /** The typical value as text (the training median). */
  typical: string;
  missingRate: number;
}

export interface CategoricalFeature {
  name: string;
  type: "categorical";
  /** Training categories; `predictBatch` codes index into this list. */
  categories: string[];
  /** Share of training rows in each category (same order). */
  frequencies: number[];
  /** The most frequent category. */
  typical: string;
  missingRate: number;
}

export type Feature = NumericFeature | CategoricalFeature;

export interface Schema {
  label: string;
  positive: string;
  negative: string;
  features: Feature[];
}

export interface Metadata {
  /** Short id of the training algorithm: "lr", "svm-linear", "svm-rbf", "rf", "gbm", "attention", "stump". */
  kind: string;
  kindName: string;
  formatVersion: number;
  producer: string;
  createdUnix: number;
  dataName: string;
  dataSha256: string;
  dataRows: number;
  params: [string, string][];
  notes: string[];
  threshold: number;
  explanationMethod: string;
  embedsTrainingRows: boolean;
}

export interface Confusion {
  tn: number;
  fp: number;
  fn: number;
  tp: number;
}

export interface RocPoint {
  fpr: number;
  tpr: number;
  /** Scores >= threshold are called positive at this point. */
  threshold: number;
}

export interface Metrics {
  rows: number;
  positives: number;
  threshold: number;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  rocAuc: number;
  ks: number;
  brier: number;
  logLoss: number;
  confusion: Confusion;
  roc: RocPoint[];
  /** Cross-validation AUC per fold (training report only). */
  cvAuc: number[] | null;
  /** Training report only. */
  trainRows: number | null;
  /** Training report only. */
  testRows: number | null;
}

export interface Prediction {
  probability: number;
  decision: boolean;
  threshold: number;
  margin: number;
  warnings: string[];
}

export interface Contribution {
  feature: string;
  value: string;
  contribution: number;
}

export interface Explanation {
  base: number;
  output: number;
  unit: "log-odds" | "probability";
  method: string;
  probability: number;
  contributions: Contribution[];
  warnings: string[];
}

export interface CsvRowError {
  line: number;
  message: string;
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

export interface Reason {
  rank: number;
  feature: string;
  value: string;
  /** Contribution towards the positive class, in the explanation's unit. */
  contribution: number;
  /** Scorecard points this feature cost the customer (negative). */
  points: number;
  text: string;
}

export interface Credit {
  probability: number;
  decision: boolean;
  /** The score in scorecard points (PDO scaling stored in the model file). */
  points: number;
  /** The principal reasons, largest first (at most the count asked for). */
  reasons: Reason[];
  /** Points of an average customer; with featurePoints it adds up to points. */
  basePoints: number;
  /** Every feature's points contribution, schema order. */
  featurePoints: { feature: string; points: number }[];
}

export type PsiLevel = "stable" | "watch" | "shift";

export interface Psi {
  psi: number;
  level: PsiLevel;
}

export interface FeaturePsi extends Psi {
  feature: string;
}

export interface DriftReport {
  rows: number;
  score: Psi;
  features: FeaturePsi[];
}

export interface FeatureAttention {
  feature: string;
  /** [CLS] attention weight on this feature (last block, mean over heads). */
  weight: number;
}
"#;

/// Version of the bindings (the workspace version).
#[wasm_bindgen]
pub fn version() -> Result<String, JsError> {
    Ok(env!("CARGO_PKG_VERSION").to_string())
}

// ---------------------------------------------------------------------------
// Result objects (serialised to plain JS objects; shapes match TS_TYPES).

#[derive(Serialize)]
#[serde(
    tag = "type",
    rename_all = "lowercase",
    rename_all_fields = "camelCase"
)]
enum FeatureOut<'a> {
    Numeric {
        name: &'a str,
        min: f32,
        max: f32,
        mean: f32,
        median: f32,
        typical: String,
        missing_rate: f32,
    },
    Categorical {
        name: &'a str,
        categories: &'a [String],
        frequencies: &'a [f32],
        typical: String,
        missing_rate: f32,
    },
}

#[derive(Serialize)]
struct SchemaOut<'a> {
    label: &'a str,
    positive: &'a str,
    negative: &'a str,
    features: Vec<FeatureOut<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MetadataOut<'a> {
    kind: &'a str,
    kind_name: &'a str,
    format_version: u16,
    producer: &'a str,
    created_unix: u64,
    data_name: &'a str,
    data_sha256: &'a str,
    data_rows: u64,
    params: &'a [(String, String)],
    notes: &'a [String],
    threshold: f32,
    explanation_method: &'static str,
    embeds_training_rows: bool,
}

#[derive(Serialize)]
struct ConfusionOut {
    tn: u64,
    fp: u64,
    #[serde(rename = "fn")]
    fn_: u64,
    tp: u64,
}

#[derive(Serialize)]
struct RocOut {
    fpr: f32,
    tpr: f32,
    threshold: f32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MetricsOut<'a> {
    rows: u64,
    positives: u64,
    threshold: f32,
    accuracy: f64,
    precision: f64,
    recall: f64,
    f1: f64,
    roc_auc: f64,
    ks: f64,
    brier: f64,
    log_loss: f64,
    confusion: ConfusionOut,
    roc: Vec<RocOut>,
    cv_auc: Option<&'a [f64]>,
    train_rows: Option<u64>,
    test_rows: Option<u64>,
}

impl<'a> MetricsOut<'a> {
    fn new(m: &RtMetrics) -> MetricsOut<'a> {
        MetricsOut {
            rows: m.rows,
            positives: m.positives,
            threshold: m.threshold,
            accuracy: m.accuracy,
            precision: m.precision,
            recall: m.recall,
            f1: m.f1,
            roc_auc: m.roc_auc,
            ks: m.ks,
            brier: m.brier,
            log_loss: m.log_loss,
            confusion: ConfusionOut {
                tn: m.confusion.tn,
                fp: m.confusion.fp,
                fn_: m.confusion.fn_,
                tp: m.confusion.tp,
            },
            roc: m
                .roc
                .iter()
                .map(|p| RocOut {
                    fpr: p.fpr,
                    tpr: p.tpr,
                    threshold: p.threshold,
                })
                .collect(),
            cv_auc: None,
            train_rows: None,
            test_rows: None,
        }
    }
}

#[derive(Serialize)]
struct PredictionOut {
    probability: f32,
    decision: bool,
    threshold: f32,
    margin: f32,
    warnings: Vec<String>,
}

#[derive(Serialize)]
struct ContributionOut<'a> {
    feature: &'a str,
    value: &'a str,
    contribution: f32,
}

#[derive(Serialize)]
struct ExplanationOut<'a> {
    base: f32,
    output: f32,
    unit: &'static str,
    method: &'static str,
    probability: f32,
    contributions: Vec<ContributionOut<'a>>,
    warnings: Vec<String>,
}

#[derive(Serialize)]
struct RowErrorOut {
    line: usize,
    message: String,
}

/// Serialises a result: `None` becomes `null` (not `undefined`), structs
/// become plain objects.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReasonOut<'a> {
    rank: u32,
    feature: &'a str,
    value: &'a str,
    contribution: f32,
    points: f32,
    text: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreditOut<'a> {
    probability: f32,
    decision: bool,
    points: f32,
    reasons: Vec<ReasonOut<'a>>,
    base_points: f32,
    feature_points: Vec<FeaturePointsOut<'a>>,
}

#[derive(Serialize)]
struct FeaturePointsOut<'a> {
    feature: &'a str,
    points: f32,
}

#[derive(Serialize)]
struct PsiOut {
    psi: f64,
    level: &'static str,
}

#[derive(Serialize)]
struct FeaturePsiOut<'a> {
    feature: &'a str,
    psi: f64,
    level: &'static str,
}

#[derive(Serialize)]
struct DriftOut<'a> {
    rows: u64,
    score: PsiOut,
    features: Vec<FeaturePsiOut<'a>>,
}

#[derive(Serialize)]
struct AttentionOut<'a> {
    feature: &'a str,
    weight: f32,
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    let ser = serde_wasm_bindgen::Serializer::new().serialize_missing_as_null(true);
    value
        .serialize(&ser)
        .map_err(|e| JsError::new(&format!("cannot convert the result to JavaScript: {e}")))
}

/// A number as JavaScript prints it, for messages (`Infinity`, `1e+300`).
fn js_number(v: f64) -> String {
    if v.is_infinite() {
        if v > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else if v.abs() >= 1e21 {
        format!("{v:e}").replace('e', "e+")
    } else {
        format!("{v}")
    }
}

fn err(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

// ---------------------------------------------------------------------------
// Customer input.

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

fn js_type_name(v: &JsValue) -> &'static str {
    if v.as_bool().is_some() {
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

// ---------------------------------------------------------------------------
// Column plan for predictBatch.

/// Where one feature's input comes from, where it goes in the design row,
/// and the preprocessing constants [`ferrisk::Schema::encode`] applies to it
/// (copied once at load so the batch loop reads no schema).
#[derive(Clone, Copy)]
enum Slot {
    /// Numeric feature: input column `input` of `numeric`, design column `col`.
    Numeric {
        feature: usize,
        input: usize,
        col: usize,
        /// Value for a missing input: the median, or NaN when the model
        /// keeps missing values (gradient boosting).
        fill: f32,
        /// Standard scaling `(x - mean) / std`, when the encoding scales.
        scale: Option<(f32, f32)>,
    },
    /// Categorical feature: input column `input` of `codes`, one-hot block at `col`.
    Categorical {
        feature: usize,
        input: usize,
        col: usize,
        width: usize,
        /// Category imputed for a missing input (the most frequent).
        mode: usize,
    },
}

fn plan(bundle: &Bundle) -> (Vec<Slot>, usize, usize) {
    let schema = &bundle.schema;
    let mut slots = Vec::with_capacity(schema.features.len());
    let (mut n_num, mut n_cat, mut col) = (0, 0, 0);
    for (feature, f) in schema.features.iter().enumerate() {
        match &f.kind {
            FeatureKind::Numeric(n) => {
                slots.push(Slot::Numeric {
                    feature,
                    input: n_num,
                    col,
                    fill: if schema.encoding.impute_numeric {
                        n.median
                    } else {
                        f32::NAN
                    },
                    scale: schema.encoding.scale.then_some((n.mean, n.std)),
                });
                n_num += 1;
                col += 1;
            }
            FeatureKind::Categorical(c) => {
                let width = c.categories.len();
                slots.push(Slot::Categorical {
                    feature,
                    input: n_cat,
                    col,
                    width,
                    mode: c.mode as usize,
                });
                n_cat += 1;
                col += width;
            }
        }
    }
    (slots, n_num, n_cat)
}

/// Rows `predictBatch` encodes before scoring them together
/// ([`ferrisk::Model::outputs`]: same bits as row by row, faster for tree
/// ensembles and RBF SVMs).
const BLOCK_ROWS: usize = 128;

/// `predictBatch` buffers: a block of design rows and their margins.
struct Scratch {
    block: Vec<f32>,
    margins: Vec<f32>,
}

// ---------------------------------------------------------------------------
// The exported class.

/// A loaded ferrisk model, ready to score customers in the browser.
#[wasm_bindgen(js_name = Scorer)]
pub struct WasmScorer {
    inner: ferrisk::Scorer,
    format_version: u16,
    slots: Vec<Slot>,
    n_numeric: usize,
    n_categorical: usize,
    /// Buffers reused by every `predictBatch` call.
    scratch: std::cell::RefCell<Scratch>,
    /// Feature names as JS strings, made once for customer lookups.
    keys: Vec<JsValue>,
}

#[wasm_bindgen(js_class = Scorer)]
impl WasmScorer {
    /// Loads a model file (the bytes of a `.frk`). Throws an `Error` naming
    /// what is wrong: truncated, bad magic, from the future, checksum, ...
    pub fn load(bytes: &[u8]) -> Result<WasmScorer, JsError> {
        let inner = ferrisk::Scorer::from_bytes(bytes).map_err(err)?;
        // The header was checked by `from_bytes`; its version is at offset 8.
        let format_version = match bytes.get(8..10) {
            Some(&[a, b]) => u16::from_le_bytes([a, b]),
            _ => 0,
        };
        let (slots, n_numeric, n_categorical) = plan(inner.bundle());
        let width = inner.width();
        let keys = inner
            .bundle()
            .schema
            .features
            .iter()
            .map(|f| JsValue::from_str(&f.name))
            .collect();
        Ok(WasmScorer {
            keys,
            inner,
            format_version,
            slots,
            n_numeric,
            n_categorical,
            scratch: std::cell::RefCell::new(Scratch {
                block: Vec::with_capacity(BLOCK_ROWS * width),
                margins: Vec::with_capacity(BLOCK_ROWS),
            }),
        })
    }

    /// The model's input features with their training statistics.
    #[wasm_bindgen(unchecked_return_type = "Schema")]
    pub fn schema(&self) -> Result<JsValue, JsError> {
        let s = &self.inner.bundle().schema;
        let features = s
            .features
            .iter()
            .map(|f| match &f.kind {
                FeatureKind::Numeric(n) => FeatureOut::Numeric {
                    name: &f.name,
                    min: n.min,
                    max: n.max,
                    mean: n.mean,
                    median: n.median,
                    typical: f.typical_text(),
                    missing_rate: f.missing_rate,
                },
                FeatureKind::Categorical(c) => FeatureOut::Categorical {
                    name: &f.name,
                    categories: &c.categories,
                    frequencies: &c.frequencies,
                    typical: f.typical_text(),
                    missing_rate: f.missing_rate,
                },
            })
            .collect();
        to_js(&SchemaOut {
            label: &s.label,
            positive: &s.positive,
            negative: &s.negative,
            features,
        })
    }

    /// Provenance and description of the model file.
    #[wasm_bindgen(unchecked_return_type = "Metadata")]
    pub fn metadata(&self) -> Result<JsValue, JsError> {
        let b = self.inner.bundle();
        let m = &b.metadata;
        to_js(&MetadataOut {
            kind: &b.algorithm.id,
            kind_name: &b.algorithm.name,
            format_version: self.format_version,
            producer: &m.producer,
            created_unix: m.created_unix,
            data_name: &m.data_name,
            data_sha256: &m.data_sha256,
            data_rows: m.data_rows,
            params: &m.params,
            notes: &m.notes,
            threshold: b.threshold,
            explanation_method: self.inner.explanation_method(),
            embeds_training_rows: b.embeds_training_rows(),
        })
    }

    /// The training-time evaluation stored in the file (held-out test split),
    /// or `null` when the file has none.
    #[wasm_bindgen(unchecked_return_type = "Metrics | null")]
    pub fn metrics(&self) -> Result<JsValue, JsError> {
        let Some(report) = &self.inner.bundle().report else {
            return Ok(JsValue::NULL);
        };
        let mut out = MetricsOut::new(&report.test);
        out.cv_auc = report.cv.as_ref().map(|cv| cv.folds.as_slice());
        out.train_rows = Some(report.train_rows);
        out.test_rows = Some(report.test_rows);
        to_js(&out)
    }

    /// Scores one customer.
    #[wasm_bindgen(unchecked_return_type = "Prediction")]
    pub fn predict(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Customer")] customer: JsValue,
    ) -> Result<JsValue, JsError> {
        let c = self.customer(&customer)?;
        let p = self.inner.predict(self.fields(&c)).map_err(err)?;
        to_js(&PredictionOut {
            probability: p.probability,
            decision: p.decision,
            threshold: p.threshold,
            margin: p.margin,
            warnings: p.warnings.iter().map(ToString::to_string).collect(),
        })
    }

    /// Per-feature contributions to one customer's score. Throws for model
    /// kinds without an explanation method yet.
    #[wasm_bindgen(unchecked_return_type = "Explanation")]
    pub fn contributions(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Customer")] customer: JsValue,
    ) -> Result<JsValue, JsError> {
        let c = self.customer(&customer)?;
        let e: RtExplanation = self.inner.explain(self.fields(&c)).map_err(err)?;
        to_js(&ExplanationOut {
            base: e.base,
            output: e.output,
            unit: e.unit.id(),
            method: e.method,
            probability: e.probability,
            contributions: e
                .contributions
                .iter()
                .map(|c| ContributionOut {
                    feature: &c.feature,
                    value: &c.value,
                    contribution: c.contribution,
                })
                .collect(),
            warnings: e.warnings.iter().map(ToString::to_string).collect(),
        })
    }

    /// Scores `rows` customers given column-major: `numeric` holds the
    /// numeric features in schema order (NaN = missing), `codes` the
    /// categorical features in schema order as indices into that feature's
    /// `categories` (-1 = missing). Returns one probability per row.
    #[wasm_bindgen(js_name = predictBatch)]
    pub fn predict_batch(
        &self,
        numeric: &[f64],
        codes: &[i32],
        rows: u32,
    ) -> Result<Vec<f32>, JsError> {
        let rows = rows as usize;
        let check = |what: &str, got: usize, cols: usize, kind: &str| -> Result<(), JsError> {
            match rows.checked_mul(cols) {
                Some(want) if want == got => Ok(()),
                _ => Err(JsError::new(&format!(
                    "predictBatch: {what} has {got} values, expected rows × {kind} features = {rows} × {cols} = {}",
                    rows.saturating_mul(cols)
                ))),
            }
        };
        check("numeric", numeric.len(), self.n_numeric, "numeric")?;
        check("codes", codes.len(), self.n_categorical, "categorical")?;
        let mut guard = self
            .scratch
            .try_borrow_mut()
            .map_err(|_| JsError::new("predictBatch: scorer is busy"))?;
        let Scratch { block, margins } = &mut *guard;
        let width = self.inner.width();
        block.resize(BLOCK_ROWS * width, 0.0);
        margins.resize(BLOCK_ROWS, 0.0);
        let bundle = self.inner.bundle();
        let mut out = Vec::with_capacity(rows);
        let mut start = 0;
        while start < rows {
            let n = (rows - start).min(BLOCK_ROWS);
            self.encode_block(numeric, codes, rows, start, n, width, block)?;
            let (xs, ms) = (
                block.get(..n * width).unwrap_or_default(),
                margins.get_mut(..n).unwrap_or_default(),
            );
            bundle.model.outputs(xs, width, ms);
            out.extend(ms.iter().map(|&m| bundle.calibration.probability(m)));
            start += n;
        }
        Ok(out)
    }

    /// Scores every row of a CSV text (header with every feature; extra
    /// columns such as the label are ignored). Bad rows are reported in
    /// `errors` and get NaN; a structural CSV problem throws.
    #[wasm_bindgen(js_name = predictCsv, unchecked_return_type = "CsvPrediction")]
    pub fn predict_csv(&self, text: &str) -> Result<JsValue, JsError> {
        let (scores, counts) = self.inner.score_csv_counted(text, |_| {}).map_err(err)?;
        let threshold = self.inner.bundle().threshold;
        let mut probs = Vec::with_capacity(scores.len());
        let mut decisions = Vec::with_capacity(scores.len());
        let mut errors = Vec::new();
        for s in scores {
            match s {
                RowScore::Scored { probability, .. } => {
                    probs.push(probability);
                    decisions.push(u8::from(probability >= threshold));
                }
                RowScore::Failed { line, error } => {
                    probs.push(f32::NAN);
                    decisions.push(0);
                    errors.push(RowErrorOut {
                        line,
                        message: error.to_string(),
                    });
                }
            }
        }
        let obj = Object::new();
        let set = |k: &str, v: &JsValue| {
            Reflect::set(&obj, &JsValue::from_str(k), v)
                .map(|_| ())
                .map_err(|_| JsError::new("cannot build the result object"))
        };
        set(
            "probabilities",
            &Float32Array::from(probs.as_slice()).into(),
        )?;
        set("decisions", &Uint8Array::from(decisions.as_slice()).into())?;
        set("errors", &to_js(&errors)?)?;
        let drift: JsValue = match counts {
            Some(c) => js_sys::Uint32Array::from(c.counts.as_slice()).into(),
            None => JsValue::NULL,
        };
        set("driftCounts", &drift)?;
        Ok(obj.into())
    }

    /// The principal reasons for a customer's score (the `count` features
    /// that pushed most towards the positive class; default 4), texts in
    /// `lang` ("en", "zh"; from the model's reason catalogue or generated),
    /// with the score in scorecard points.
    #[wasm_bindgen(unchecked_return_type = "Credit")]
    pub fn reasons(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Customer")] customer: JsValue,
        count: Option<u32>,
        lang: Option<String>,
    ) -> Result<JsValue, JsError> {
        let c = self.customer(&customer)?;
        let p = self.inner.predict(self.fields(&c)).map_err(err)?;
        let e = self.inner.explain(self.fields(&c)).map_err(err)?;
        let k = count.map_or(ferrisk::credit::DEFAULT_REASONS, |k| k.min(64) as usize);
        let lang = lang.unwrap_or_else(|| "en".to_string());
        let reasons = self.inner.reasons(&e, k, &lang);
        let (base_points, per) = self.inner.points_breakdown(&e);
        to_js(&CreditOut {
            probability: p.probability,
            decision: p.decision,
            points: self.inner.points(p.probability),
            base_points,
            feature_points: e
                .contributions
                .iter()
                .zip(&per)
                .map(|(c, &points)| FeaturePointsOut {
                    feature: &c.feature,
                    points,
                })
                .collect(),
            reasons: reasons
                .iter()
                .map(|r| ReasonOut {
                    rank: r.rank,
                    feature: &r.feature,
                    value: &r.value,
                    contribution: r.contribution,
                    points: r.points,
                    text: &r.text,
                })
                .collect(),
        })
    }

    /// PSI per feature and for the score from drift counts summed over the
    /// `driftCounts` of `predictCsv` results.
    #[wasm_bindgen(js_name = driftReport, unchecked_return_type = "DriftReport")]
    pub fn drift_report(&self, counts: &[u32]) -> Result<JsValue, JsError> {
        let r = self
            .inner
            .drift_report(&ferrisk::drift::DriftCounts {
                counts: counts.to_vec(),
            })
            .map_err(err)?;
        let level = ferrisk::drift::level;
        to_js(&DriftOut {
            rows: r.rows,
            score: PsiOut {
                psi: r.score,
                level: level(r.score),
            },
            features: r
                .features
                .iter()
                .map(|(f, p)| FeaturePsiOut {
                    feature: f,
                    psi: *p,
                    level: level(*p),
                })
                .collect(),
        })
    }

    /// For the attention model: how much the [CLS] token attended to each
    /// feature when scoring this customer. Throws for other kinds.
    #[wasm_bindgen(unchecked_return_type = "FeatureAttention[]")]
    pub fn attention(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Customer")] customer: JsValue,
    ) -> Result<JsValue, JsError> {
        let c = self.customer(&customer)?;
        let w = self.inner.attention(self.fields(&c)).map_err(err)?;
        to_js(
            &w.iter()
                .map(|(feature, weight)| AttentionOut {
                    feature,
                    weight: *weight,
                })
                .collect::<Vec<_>>(),
        )
    }

    /// Scores a labelled CSV (label column as in the schema) and computes the
    /// metrics at the model's threshold. Any bad row throws, naming its line.
    #[wasm_bindgen(unchecked_return_type = "Metrics")]
    pub fn evaluate(
        &self,
        #[wasm_bindgen(js_name = csvText)] csv_text: &str,
    ) -> Result<JsValue, JsError> {
        let m = self.inner.evaluate_csv(csv_text, |_| {}).map_err(err)?;
        to_js(&MetricsOut::new(&m))
    }

    /// Metrics for probabilities the page computed itself (e.g. a CSV scored
    /// in chunks) against labels (1 = positive class, 0 = negative), at the
    /// model's threshold.
    #[wasm_bindgen(js_name = metricsFor, unchecked_return_type = "Metrics")]
    pub fn metrics_for(&self, probabilities: &[f32], labels: &[u8]) -> Result<JsValue, JsError> {
        if probabilities.len() != labels.len() {
            return Err(JsError::new(&format!(
                "metricsFor: {} probabilities but {} labels",
                probabilities.len(),
                labels.len()
            )));
        }
        if let Some(i) = probabilities.iter().position(|p| !(0.0..=1.0).contains(p)) {
            let p = probabilities.get(i).copied().unwrap_or(f32::NAN);
            return Err(JsError::new(&format!(
                "metricsFor: row {i}: probability {p} is not in [0, 1]"
            )));
        }
        let mut y = Vec::with_capacity(labels.len());
        for (i, &l) in labels.iter().enumerate() {
            match l {
                0 => y.push(false),
                1 => y.push(true),
                other => {
                    return Err(JsError::new(&format!(
                    "metricsFor: row {i}: label {other} is neither 1 (positive) nor 0 (negative)"
                )))
                }
            }
        }
        let b = self.inner.bundle();
        let m = ferrisk::metrics::compute(probabilities, &y, b.threshold).ok_or_else(|| {
            JsError::new(&format!(
                "metricsFor: labels contain only one class; metrics need both '{}' and '{}'",
                b.schema.positive, b.schema.negative
            ))
        })?;
        to_js(&MetricsOut::new(&m))
    }
}

impl WasmScorer {
    /// Reads a customer object: one cell per schema feature (looked up with
    /// the cached key strings: one crossing per feature, no key decoding),
    /// plus the names of any other keys, which the runtime ignores with a
    /// warning (the label column silently).
    fn customer(&self, customer: &JsValue) -> Result<Customer, JsError> {
        if !customer.is_object() || Array::is_array(customer) || customer.is_function() {
            let got = if customer.is_null() {
                "null"
            } else if customer.is_undefined() {
                "undefined"
            } else if customer.is_string() {
                "a string"
            } else if customer.as_f64().is_some() {
                "a number"
            } else {
                js_type_name(customer)
            };
            return Err(JsError::new(&format!(
                "customer must be an object mapping feature names to values, got {got}"
            )));
        }
        let features = &self.inner.bundle().schema.features;
        let mut cells = Vec::with_capacity(features.len());
        let mut defined = 0u32;
        for (f, key) in features.iter().zip(&self.keys) {
            let value = Reflect::get(customer, key).map_err(|_| {
                JsError::new(&format!("feature '{}': reading the value threw", f.name))
            })?;
            let cell = if let Some(v) = value.as_f64() {
                Cell::Number(v)
            } else if value.is_undefined() || value.is_null() {
                Cell::Missing
            } else if let Some(t) = value.as_string() {
                Cell::Text(t)
            } else {
                return Err(JsError::new(&format!(
                    "feature '{}': expected a number, a string, null or undefined, got {}",
                    f.name,
                    js_type_name(&value)
                )));
            };
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

    /// `(name, value)` pairs of a customer for the runtime.
    fn fields<'a>(&'a self, c: &'a Customer) -> impl Iterator<Item = (&'a str, RawValue<'a>)> {
        let features = &self.inner.bundle().schema.features;
        features
            .iter()
            .zip(&c.cells)
            .map(|(f, cell)| (f.name.as_str(), cell.raw()))
            .chain(c.extras.iter().map(|k| (k.as_str(), RawValue::Missing)))
    }

    /// Encodes rows `start..start + n` of the batch into `block` (`n`
    /// design rows of `width`), feature by feature, exactly as
    /// [`ferrisk::Schema::encode`] does for parsed values (same operations in
    /// the same order), without warnings. The lengths of `numeric` and
    /// `codes` were checked by the caller.
    #[allow(clippy::too_many_arguments)]
    fn encode_block(
        &self,
        numeric: &[f64],
        codes: &[i32],
        rows: usize,
        start: usize,
        n: usize,
        width: usize,
        block: &mut [f32],
    ) -> Result<(), JsError> {
        let bad = |feature: usize, r: usize, what: String| {
            let features = &self.inner.bundle().schema.features;
            let name = features
                .get(feature)
                .map(|f| f.name.as_str())
                .unwrap_or("?");
            JsError::new(&format!("predictBatch: row {r}, feature '{name}': {what}"))
        };
        let block = block.get_mut(..n * width).unwrap_or_default();
        for slot in &self.slots {
            match *slot {
                Slot::Numeric {
                    feature,
                    input,
                    col,
                    fill,
                    scale,
                } => {
                    let from = input * rows + start;
                    let column = numeric.get(from..from + n).unwrap_or_default();
                    for (k, (&v, x)) in column.iter().zip(block.chunks_exact_mut(width)).enumerate()
                    {
                        let raw = if v.is_nan() {
                            fill
                        } else {
                            let f = v as f32;
                            if !v.is_finite() || !f.is_finite() {
                                return Err(bad(
                                    feature,
                                    start + k,
                                    format!("{} is not a finite number", js_number(v)),
                                ));
                            }
                            f
                        };
                        let enc = match scale {
                            Some((mean, std)) if !raw.is_nan() => (raw - mean) / std,
                            _ => raw,
                        };
                        if let Some(c) = x.get_mut(col) {
                            *c = enc;
                        }
                    }
                }
                Slot::Categorical {
                    feature,
                    input,
                    col,
                    width: w,
                    mode,
                } => {
                    let from = input * rows + start;
                    let column = codes.get(from..from + n).unwrap_or_default();
                    for (k, (&code, x)) in
                        column.iter().zip(block.chunks_exact_mut(width)).enumerate()
                    {
                        let one = match code {
                            -1 => mode,
                            c if c >= 0 && (c as usize) < w => c as usize,
                            c => {
                                return Err(bad(
                                    feature,
                                    start + k,
                                    format!(
                                    "code {c} is not a category index (0 to {}) nor -1 for missing",
                                    w.saturating_sub(1)
                                ),
                                ))
                            }
                        };
                        if let Some(onehot) = x.get_mut(col..col + w) {
                            onehot.fill(0.0);
                            if let Some(o) = onehot.get_mut(one) {
                                *o = 1.0;
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }
}
