//! `ferrisk._ferrisk`: the Python extension module (PyO3, abi3).
//!
//! A thin layer over the runtime, like `wasm/` is for the browser: it
//! converts Python values into the runtime's types and its results back, and
//! holds no scoring logic. Every row is scored by the runtime's one
//! row-scoring path ([`ferrisk::RowScorer`]), the path `ferrisk predict`
//! takes, so probabilities, decisions, points and reasons are the CLI's bit
//! for bit.
//!
//! The pure-Python package `ferrisk` (python/ferrisk/__init__.py) turns a
//! pandas or pyarrow frame into columns this module takes:
//!
//! - a numeric column as the bytes of a float64 array (NaN = missing), each
//!   value given to the runtime as a number;
//! - any other column factorised: the bytes of int32 codes (-1 = missing)
//!   and the list of distinct values (text, or a number), each distinct
//!   value parsed once by the runtime as the CLI parses a cell.
//!
//! Nothing a caller passes can panic: lengths are checked, codes are
//! looked up with `get`, and every failure is a `ferrisk.FerriskError`
//! naming what and where.

use std::fmt::Display;
use std::path::PathBuf;

use ferrisk::format::{HEADER_LEN, MAX_BODY};
use ferrisk::schema::FeatureKind;
use ferrisk::{CsvError, RawValue, ScoreError, ScoreOptions, Scorer as Runtime, Value};
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};

pyo3::create_exception!(
    _ferrisk,
    FerriskError,
    PyException,
    "A model file, frame or option ferrisk cannot use; the message names what and where."
);

fn error(e: impl Display) -> PyErr {
    FerriskError::new_err(e.to_string())
}

/// Largest model file read from a path: the format's body limit, its
/// header and room for a signature block (the runtime checks the rest).
const MAX_FILE: u64 = MAX_BODY + HEADER_LEN as u64 + 64 * 1024;

/// Most reasons per row a caller may ask for.
const MAX_REASONS: usize = 64;

/// A model file loaded and checked, ready to score frames.
#[pyclass(frozen, module = "ferrisk._ferrisk")]
struct Scorer {
    inner: Runtime,
}

/// A distinct value of a factorised column, as Python gave it.
enum Distinct {
    Text(String),
    Number(f64),
}

/// One input column, converted from Python, for one schema feature.
enum Data {
    /// Float64 values, NaN = missing.
    Numbers(Vec<f64>),
    /// Codes into `values` (-1 = missing), each distinct value parsed once.
    Codes {
        codes: Vec<i32>,
        values: Vec<Result<Value, ScoreError>>,
    },
}

struct Column {
    feature: usize,
    data: Data,
}

/// What [`score_rows`] computes; turned into Python objects afterwards.
struct Scores {
    probability: Vec<f32>,
    /// 1 = positive class, 0 = negative, 255 = not scored.
    decision: Vec<u8>,
    points: Vec<f32>,
    errors: Vec<(usize, String)>,
    warnings: Vec<(usize, String)>,
    /// `reasons` texts per row (None past the row's last reason), when explained.
    reasons: Vec<Option<String>>,
    /// One per schema feature per row (row-major), when explained; NaN for
    /// a row that was not scored.
    contributions: Vec<f32>,
}

fn f64s(bytes: &[u8], rows: usize, name: &str) -> PyResult<Vec<f64>> {
    if Some(bytes.len()) != rows.checked_mul(8) {
        return Err(error(format!(
            "column '{name}': {} bytes of float64 for {rows} rows",
            bytes.len()
        )));
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|c| {
            let mut a = [0u8; 8];
            a.copy_from_slice(c);
            f64::from_ne_bytes(a)
        })
        .collect())
}

fn i32s(bytes: &[u8], rows: usize, name: &str) -> PyResult<Vec<i32>> {
    if Some(bytes.len()) != rows.checked_mul(4) {
        return Err(error(format!(
            "column '{name}': {} bytes of int32 codes for {rows} rows",
            bytes.len()
        )));
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|c| {
            let mut a = [0u8; 4];
            a.copy_from_slice(c);
            i32::from_ne_bytes(a)
        })
        .collect())
}

fn distinct(v: &Bound<'_, PyAny>, name: &str) -> PyResult<Distinct> {
    if let Ok(s) = v.extract::<String>() {
        return Ok(Distinct::Text(s));
    }
    // bool is an int in Python: refuse it rather than score True as 1.
    if v.is_instance_of::<pyo3::types::PyBool>() {
        return Err(error(format!(
            "column '{name}': boolean values are neither numbers nor categories; \
             convert them to text or 0/1 first"
        )));
    }
    if let Ok(x) = v.extract::<f64>() {
        return Ok(Distinct::Number(x));
    }
    let kind = v
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into());
    Err(error(format!(
        "column '{name}': a value of type {kind} is neither text nor a number"
    )))
}

impl Scorer {
    fn convert(&self, columns: &Bound<'_, PyList>, rows: usize) -> PyResult<Vec<Column>> {
        let schema = &self.inner.bundle().schema;
        let mut out = Vec::with_capacity(columns.len());
        for item in columns.iter() {
            // The column's bytes are read in place (a Vec<u8> would be
            // extracted element by element).
            let (name, kind, data, uniques): (
                String,
                String,
                Bound<'_, PyBytes>,
                Option<Bound<'_, PyList>>,
            ) = item.extract()?;
            let data = data.as_bytes();
            let Some(feature) = self.inner.feature_index(&name) else {
                return Err(error(format!(
                    "column '{name}' is not a feature of the model"
                )));
            };
            let data = match (kind.as_str(), uniques) {
                ("numbers", None) => Data::Numbers(f64s(data, rows, &name)?),
                ("codes", Some(u)) => {
                    let codes = i32s(data, rows, &name)?;
                    let mut values = Vec::with_capacity(u.len());
                    for v in u.iter() {
                        let raw = distinct(&v, &name)?;
                        values.push(match &raw {
                            Distinct::Text(t) => schema.parse_value(feature, RawValue::Text(t)),
                            Distinct::Number(x) => number(schema, feature, *x),
                        });
                    }
                    Data::Codes { codes, values }
                }
                _ => {
                    return Err(error(format!(
                        "column '{name}': unknown column form '{kind}'"
                    )))
                }
            };
            out.push(Column { feature, data });
        }
        Ok(out)
    }
}

/// A number as the runtime takes it; NaN is a missing value (pandas' and
/// Arrow's null), as an empty cell is for the CLI.
fn number(schema: &ferrisk::Schema, feature: usize, x: f64) -> Result<Value, ScoreError> {
    if x.is_nan() {
        Ok(Value::Missing)
    } else {
        schema.parse_value(feature, RawValue::Number(x))
    }
}

/// Scores `rows` rows given by `columns`, in the order of the caller's
/// columns (a row with two bad cells names the first, as the CLI names the
/// first in header order).
fn score_rows(scorer: &Runtime, columns: &[Column], rows: usize, opts: ScoreOptions) -> Scores {
    let schema = &scorer.bundle().schema;
    let features = schema.features.len();
    let explain = opts.explain;
    let k = opts.reasons;
    let mut s = Scores {
        probability: Vec::with_capacity(rows),
        decision: Vec::with_capacity(rows),
        points: Vec::with_capacity(rows),
        errors: Vec::new(),
        warnings: Vec::new(),
        reasons: Vec::new(),
        contributions: Vec::new(),
    };
    let mut scorer_rows = scorer.rows(opts);
    let mut values = vec![Value::Missing; features];
    for r in 0..rows {
        values.fill(Value::Missing);
        let mut parsed = Ok(());
        for c in columns {
            let v = match &c.data {
                Data::Numbers(xs) => match xs.get(r) {
                    Some(x) => number(schema, c.feature, *x),
                    None => Ok(Value::Missing),
                },
                Data::Codes { codes, values } => match codes.get(r) {
                    Some(code) if *code < 0 => Ok(Value::Missing),
                    Some(code) => match values.get(*code as usize) {
                        Some(v) => v.clone(),
                        None => Err(ScoreError::Unsupported(format!(
                            "row {r}: code {code} has no distinct value"
                        ))),
                    },
                    None => Ok(Value::Missing),
                },
            };
            match (v, values.get_mut(c.feature)) {
                (Ok(v), Some(slot)) => *slot = v,
                (Ok(_), None) => {}
                (Err(e), _) => {
                    parsed = Err(e);
                    break;
                }
            }
        }
        let outcome = match parsed {
            Ok(()) => scorer_rows.score_values(&values, Vec::new()),
            Err(e) => {
                scorer_rows.failed += 1;
                Err(e)
            }
        };
        match outcome {
            Ok(scored) => {
                let p = &scored.prediction;
                s.probability.push(p.probability);
                s.decision.push(u8::from(p.decision));
                s.points.push(scored.points);
                if !p.warnings.is_empty() {
                    let w: Vec<String> = p.warnings.iter().map(ToString::to_string).collect();
                    s.warnings.push((r, w.join("; ")));
                }
                if explain {
                    s.reasons.extend(
                        (0..k).map(|i| scored.reasons.get(i).map(|reason| reason.text.clone())),
                    );
                    match &scored.explanation {
                        Some(e) if e.contributions.len() == features => s
                            .contributions
                            .extend(e.contributions.iter().map(|c| c.contribution)),
                        _ => s
                            .contributions
                            .extend(std::iter::repeat_n(f32::NAN, features)),
                    }
                }
            }
            Err(e) => {
                s.probability.push(f32::NAN);
                s.decision.push(255);
                s.points.push(f32::NAN);
                s.errors.push((r, e.to_string()));
                if explain {
                    s.reasons.extend(std::iter::repeat_n(None, k));
                    s.contributions
                        .extend(std::iter::repeat_n(f32::NAN, features));
                }
            }
        }
    }
    s
}

fn f32_bytes<'py>(py: Python<'py>, v: &[f32]) -> Bound<'py, PyBytes> {
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_ne_bytes()).collect();
    PyBytes::new(py, &bytes)
}

#[pymethods]
impl Scorer {
    /// Loads a model file from its bytes.
    #[staticmethod]
    fn from_bytes(data: &[u8]) -> PyResult<Scorer> {
        Ok(Scorer {
            inner: Runtime::from_bytes(data).map_err(error)?,
        })
    }

    /// Loads a model file from a path.
    #[staticmethod]
    fn from_path(path: PathBuf) -> PyResult<Scorer> {
        use std::io::Read;
        let shown = path.display().to_string();
        let cannot = |e: std::io::Error| error(format!("{shown}: cannot read model file: {e}"));
        // Read at most one byte past the limit: a larger (or growing) file
        // is refused without being read whole.
        let mut bytes = Vec::new();
        std::fs::File::open(&path)
            .map_err(cannot)?
            .take(MAX_FILE + 1)
            .read_to_end(&mut bytes)
            .map_err(cannot)?;
        if bytes.len() as u64 > MAX_FILE {
            return Err(error(format!(
                "{shown}: model file exceeds the limit of {MAX_FILE} bytes"
            )));
        }
        Ok(Scorer {
            inner: Runtime::from_bytes(&bytes).map_err(|e| error(format!("{shown}: {e}")))?,
        })
    }

    /// The model's features in schema order: (name, "numeric" | "categorical").
    #[getter]
    fn features(&self) -> Vec<(String, &'static str)> {
        self.inner
            .bundle()
            .schema
            .features
            .iter()
            .map(|f| {
                let kind = match f.kind {
                    FeatureKind::Numeric(_) => "numeric",
                    FeatureKind::Categorical(_) => "categorical",
                };
                (f.name.clone(), kind)
            })
            .collect()
    }

    /// The positive class (a probability at or above the threshold decides it).
    #[getter]
    fn positive(&self) -> String {
        self.inner.bundle().schema.positive.clone()
    }

    #[getter]
    fn negative(&self) -> String {
        self.inner.bundle().schema.negative.clone()
    }

    #[getter]
    fn threshold(&self) -> f32 {
        self.inner.bundle().threshold
    }

    /// SHA-256 of the model file's body (decision records name the model by it).
    #[getter]
    fn sha256(&self) -> String {
        self.inner.model_sha256()
    }

    /// The algorithm that trained the model (lr, gbm, ...).
    #[getter]
    fn algorithm(&self) -> String {
        self.inner.bundle().algorithm.name.clone()
    }

    /// How explanations are computed for this model.
    #[getter]
    fn explanation_method(&self) -> &'static str {
        self.inner.explanation_method()
    }

    /// Scores `rows` rows given as converted columns (see the module docs);
    /// the GIL is released while scoring. Returns a dict of raw results the
    /// Python package turns into a frame.
    // The keyword arguments of the Python method.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (columns, rows, explain=false, reasons=4, reasons_always=false, lang="en"))]
    fn score_columns<'py>(
        &self,
        py: Python<'py>,
        columns: &Bound<'py, PyList>,
        rows: usize,
        explain: bool,
        reasons: usize,
        reasons_always: bool,
        lang: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        if reasons > MAX_REASONS {
            return Err(error(format!(
                "reasons = {reasons}: at most {MAX_REASONS} reasons per row"
            )));
        }
        let names: Vec<&str> = self
            .inner
            .bundle()
            .schema
            .features
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        let columns = self.convert(columns, rows)?;
        for (i, name) in names.iter().enumerate() {
            if !columns.iter().any(|c| c.feature == i) {
                return Err(error(CsvError::MissingColumn {
                    name: (*name).to_string(),
                }));
            }
        }
        let opts = ScoreOptions {
            explain,
            reasons,
            reasons_always,
            lang: lang.to_string(),
            drift: false,
            record: false,
        };
        let inner = &self.inner;
        let s = py.detach(|| score_rows(inner, &columns, rows, opts));
        let out = PyDict::new(py);
        out.set_item("probability", f32_bytes(py, &s.probability))?;
        out.set_item("decision", PyBytes::new(py, &s.decision))?;
        out.set_item("points", f32_bytes(py, &s.points))?;
        out.set_item("errors", s.errors)?;
        out.set_item("warnings", s.warnings)?;
        if explain {
            out.set_item("reasons", s.reasons)?;
            out.set_item("contributions", f32_bytes(py, &s.contributions))?;
        }
        Ok(out)
    }
}

#[pymodule]
fn _ferrisk(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Scorer>()?;
    m.add("FerriskError", m.py().get_type::<FerriskError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
