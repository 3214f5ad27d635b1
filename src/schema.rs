//! The model's input schema and the preprocessing fitted on the training split.
//!
//! A raw customer (feature name -> value as a person typed it) becomes a
//! dense `f32` design row in two steps, both here and both shared by the
//! trainer's metrics, the CLI, the server and the wasm scorer:
//!
//! 1. [`Schema::parse_value`]: text or number -> [`Value`] (missing, a number,
//!    a known category code, or an unknown category);
//! 2. [`Schema::encode`]: imputation (median / most frequent), one-hot for
//!    categoricals, and standard scaling of numeric columns when the model
//!    asks for it. Trees get raw, unscaled numeric values.

use crate::csv::is_missing;
use crate::error::ScoreError;
use crate::num::{F32, F64};

/// A numeric input feature with the statistics fitted on the training split.
#[derive(Debug, Clone, PartialEq)]
pub struct NumericFeature {
    pub min: f32,
    pub max: f32,
    pub mean: f32,
    /// Standard deviation used for scaling; never zero (1 when constant).
    pub std: f32,
    /// Imputation value and the "typical customer" value.
    pub median: f32,
}

/// A categorical input feature with its training categories.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoricalFeature {
    /// Categories seen in training, in one-hot column order.
    pub categories: Vec<String>,
    /// Share of training rows in each category (same order).
    pub frequencies: Vec<f32>,
    /// Index of the most frequent category (imputation and typical value).
    pub mode: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FeatureKind {
    Numeric(NumericFeature),
    Categorical(CategoricalFeature),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    pub name: String,
    pub kind: FeatureKind,
    /// Share of training rows where the value was missing.
    pub missing_rate: f32,
}

impl Feature {
    pub fn is_numeric(&self) -> bool {
        matches!(self.kind, FeatureKind::Numeric(_))
    }

    /// Number of design columns this feature expands to.
    pub fn width(&self) -> usize {
        match &self.kind {
            FeatureKind::Numeric(_) => 1,
            FeatureKind::Categorical(c) => c.categories.len(),
        }
    }

    /// The typical value as display text (median or most frequent category).
    pub fn typical_text(&self) -> String {
        match &self.kind {
            FeatureKind::Numeric(n) => format_number(n.median),
            FeatureKind::Categorical(c) => c
                .categories
                .get(c.mode as usize)
                .cloned()
                .unwrap_or_default(),
        }
    }
}

/// One parsed input value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Missing,
    Number(f32),
    Category(u32),
    /// A category not seen in training (kept for the warning text).
    Unknown(String),
}

/// A value as it arrives from a user: typed text, a number, or nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum RawValue<'a> {
    Missing,
    Number(f64),
    Text(&'a str),
}

/// Something worth telling the user about a scored customer; scoring went on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub feature: String,
    pub message: String,
    pub kind: WarningKind,
}

/// What a [`Warning`] is about, for counting them (e.g. the end-of-run
/// summary of a batch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum WarningKind {
    /// The value was missing: imputed, or left to the model's default branch.
    Imputed,
    /// A category not seen in training.
    UnknownCategory,
    /// A number outside the [min, max] of the training split.
    OutOfRange,
    /// A name that is not a feature of the model (ignored).
    NotAFeature,
}

impl WarningKind {
    /// Every kind, in a fixed order.
    pub const ALL: [WarningKind; 4] = [
        WarningKind::Imputed,
        WarningKind::UnknownCategory,
        WarningKind::OutOfRange,
        WarningKind::NotAFeature,
    ];

    /// The kind's number in [`crate::batch::BatchPlan::score_noted`]'s notes:
    /// 1 + its position in [`WarningKind::ALL`] (0 = no warning).
    pub fn code(self) -> u8 {
        match self {
            WarningKind::Imputed => 1,
            WarningKind::UnknownCategory => 2,
            WarningKind::OutOfRange => 3,
            WarningKind::NotAFeature => 4,
        }
    }

    /// Short human name: `imputed`, `unknown category`, ...
    pub fn label(self) -> &'static str {
        match self {
            WarningKind::Imputed => "imputed",
            WarningKind::UnknownCategory => "unknown category",
            WarningKind::OutOfRange => "out of training range",
            WarningKind::NotAFeature => "not a feature",
        }
    }
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.feature, self.message)
    }
}

/// How the design row is built for a model kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoding {
    /// Standard-scale numeric columns (linear models, SVMs, attention).
    pub scale: bool,
    /// Replace missing numeric values by the median. When false, missing
    /// numerics stay NaN for models that learned where to send them (GBM).
    pub impute_numeric: bool,
}

/// Input schema plus fitted preprocessing.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    pub features: Vec<Feature>,
    pub label: String,
    pub positive: String,
    pub negative: String,
    pub encoding: Encoding,
}

/// Shortest text that parses back to the same `f32`.
pub fn format_number(v: f32) -> String {
    if v.is_finite() && v == v.trunc() && v.abs() < 1e9 {
        format!("{}", v as i64)
    } else {
        F32(v).to_string()
    }
}

impl Schema {
    /// Total design columns.
    pub fn width(&self) -> usize {
        self.features.iter().map(Feature::width).sum()
    }

    pub fn position(&self, name: &str) -> Option<usize> {
        self.features.iter().position(|f| f.name == name)
    }

    /// For each design column: (feature index, category index for one-hot columns).
    pub fn columns(&self) -> Vec<(usize, Option<usize>)> {
        let mut cols = Vec::with_capacity(self.width());
        for (i, f) in self.features.iter().enumerate() {
            match &f.kind {
                FeatureKind::Numeric(_) => cols.push((i, None)),
                FeatureKind::Categorical(c) => {
                    cols.extend((0..c.categories.len()).map(|k| (i, Some(k))))
                }
            }
        }
        cols
    }

    /// Human name of a design column: `age` or `purpose=car (new)`.
    pub fn column_name(&self, feature: usize, category: Option<usize>) -> String {
        let Some(f) = self.features.get(feature) else {
            return String::new();
        };
        match (&f.kind, category) {
            (FeatureKind::Categorical(c), Some(k)) => format!(
                "{}={}",
                f.name,
                c.categories.get(k).map(String::as_str).unwrap_or("?")
            ),
            _ => f.name.clone(),
        }
    }

    /// Parses one raw value for feature `index`.
    pub fn parse_value(&self, index: usize, raw: RawValue<'_>) -> Result<Value, ScoreError> {
        let Some(f) = self.features.get(index) else {
            return Err(ScoreError::FeatureCount {
                expected: self.features.len(),
                got: index + 1,
            });
        };
        match (&f.kind, raw) {
            (_, RawValue::Missing) => Ok(Value::Missing),
            (_, RawValue::Text(t)) if is_missing(t) => Ok(Value::Missing),
            (FeatureKind::Numeric(_), RawValue::Number(v)) => number(&f.name, v),
            (FeatureKind::Numeric(_), RawValue::Text(t)) => {
                let t = t.trim();
                match crate::num::parse_f64(t) {
                    Some(v) => number(&f.name, v),
                    None => Err(ScoreError::NotANumber {
                        feature: f.name.clone(),
                        value: t.to_string(),
                    }),
                }
            }
            (FeatureKind::Categorical(c), RawValue::Text(t)) => Ok(category(c, t.trim())),
            (FeatureKind::Categorical(c), RawValue::Number(v)) => {
                // A category typed as a number (e.g. codes "1", "2"): match its text.
                let text = if v == v.trunc() && v.abs() < 1e15 {
                    format!("{}", v as i64)
                } else {
                    F64(v).to_string()
                };
                Ok(category(c, &text))
            }
        }
    }

    /// Builds the design row for parsed values (one per feature, schema order).
    /// `out` must have `self.width()` entries. Warnings are appended for
    /// imputed values, unknown categories and numbers outside the training
    /// range (which are scored as they are).
    pub fn encode(
        &self,
        values: &[Value],
        out: &mut [f32],
        warnings: &mut Vec<Warning>,
    ) -> Result<(), ScoreError> {
        if values.len() != self.features.len() {
            return Err(ScoreError::FeatureCount {
                expected: self.features.len(),
                got: values.len(),
            });
        }
        if out.len() != self.width() {
            return Err(ScoreError::FeatureCount {
                expected: self.width(),
                got: out.len(),
            });
        }
        let mut col = 0;
        for (f, v) in self.features.iter().zip(values) {
            match &f.kind {
                FeatureKind::Numeric(n) => {
                    let raw = match v {
                        Value::Number(x) => {
                            // A feature without training values has no range.
                            if (*x < n.min || *x > n.max) && f.missing_rate < 1.0 {
                                warnings.push(Warning {
                                    feature: f.name.clone(),
                                    message: format!(
                                        "{} is outside the training range {} .. {}; scored as it is",
                                        format_number(*x),
                                        format_number(n.min),
                                        format_number(n.max)
                                    ),
                                    kind: WarningKind::OutOfRange,
                                });
                            }
                            *x
                        }
                        Value::Missing if self.encoding.impute_numeric => {
                            warnings.push(Warning {
                                feature: f.name.clone(),
                                message: format!(
                                    "missing; imputed the training median {}",
                                    format_number(n.median)
                                ),
                                kind: WarningKind::Imputed,
                            });
                            n.median
                        }
                        Value::Missing => {
                            warnings.push(Warning {
                                feature: f.name.clone(),
                                message: "missing; the model's learned default branch is used"
                                    .into(),
                                kind: WarningKind::Imputed,
                            });
                            f32::NAN
                        }
                        Value::Category(_) | Value::Unknown(_) => {
                            return Err(ScoreError::WrongType {
                                feature: f.name.clone(),
                                expected: "a number",
                                got: "a category".into(),
                            })
                        }
                    };
                    out[col] = if self.encoding.scale && !raw.is_nan() {
                        (raw - n.mean) / n.std
                    } else {
                        raw
                    };
                    col += 1;
                }
                FeatureKind::Categorical(c) => {
                    let width = c.categories.len();
                    let slot = &mut out[col..col + width];
                    slot.fill(0.0);
                    match v {
                        Value::Category(k) if (*k as usize) < width => slot[*k as usize] = 1.0,
                        Value::Missing => {
                            if let Some(s) = slot.get_mut(c.mode as usize) {
                                *s = 1.0;
                            }
                            warnings.push(Warning {
                                feature: f.name.clone(),
                                message: format!(
                                    "missing; imputed the most frequent category '{}'",
                                    f.typical_text()
                                ),
                                kind: WarningKind::Imputed,
                            });
                        }
                        Value::Unknown(text) => warnings.push(Warning {
                            feature: f.name.clone(),
                            message: format!(
                                "category '{text}' was not seen in training; scored as none of the known categories"
                            ),
                            kind: WarningKind::UnknownCategory,
                        }),
                        Value::Category(k) => {
                            return Err(ScoreError::WrongType {
                                feature: f.name.clone(),
                                expected: "a known category code",
                                got: format!("code {k}"),
                            })
                        }
                        Value::Number(x) => {
                            return Err(ScoreError::WrongType {
                                feature: f.name.clone(),
                                expected: "a category",
                                got: format!("the number {}", F32(*x)),
                            })
                        }
                    }
                    col += width;
                }
            }
        }
        Ok(())
    }
}

fn number(feature: &str, v: f64) -> Result<Value, ScoreError> {
    if !v.is_finite() {
        return Err(ScoreError::NotFinite {
            feature: feature.to_string(),
            value: v,
        });
    }
    let x = v as f32;
    if !x.is_finite() {
        return Err(ScoreError::NotFinite {
            feature: feature.to_string(),
            value: v,
        });
    }
    Ok(Value::Number(x))
}

fn category(c: &CategoricalFeature, text: &str) -> Value {
    match c.categories.iter().position(|k| k == text) {
        Some(i) => Value::Category(i as u32),
        None => Value::Unknown(text.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(scale: bool) -> Schema {
        Schema {
            features: vec![
                Feature {
                    name: "age".into(),
                    kind: FeatureKind::Numeric(NumericFeature {
                        min: 18.0,
                        max: 80.0,
                        mean: 40.0,
                        std: 10.0,
                        median: 38.0,
                    }),
                    missing_rate: 0.0,
                },
                Feature {
                    name: "housing".into(),
                    kind: FeatureKind::Categorical(CategoricalFeature {
                        categories: vec!["own".into(), "rent".into()],
                        frequencies: vec![0.7, 0.3],
                        mode: 0,
                    }),
                    missing_rate: 0.0,
                },
            ],
            label: "y".into(),
            positive: "bad".into(),
            negative: "good".into(),
            encoding: Encoding {
                scale,
                impute_numeric: true,
            },
        }
    }

    fn encode(s: &Schema, raw: [RawValue<'_>; 2]) -> (Vec<f32>, Vec<Warning>) {
        let values: Vec<Value> = raw
            .into_iter()
            .enumerate()
            .map(|(i, r)| s.parse_value(i, r).unwrap())
            .collect();
        let mut out = vec![0.0; s.width()];
        let mut w = Vec::new();
        s.encode(&values, &mut out, &mut w).unwrap();
        (out, w)
    }

    #[test]
    fn scales_numeric_and_one_hots() {
        let s = schema(true);
        let (x, w) = encode(&s, [RawValue::Text(" 50 "), RawValue::Text("rent")]);
        assert_eq!(x, vec![1.0, 0.0, 1.0]);
        assert!(w.is_empty());
        let (x, _) = encode(
            &schema(false),
            [RawValue::Number(50.0), RawValue::Text("own")],
        );
        assert_eq!(x, vec![50.0, 1.0, 0.0]);
    }

    #[test]
    fn imputes_and_warns() {
        let s = schema(false);
        let (x, w) = encode(&s, [RawValue::Text("NA"), RawValue::Missing]);
        assert_eq!(x, vec![38.0, 1.0, 0.0]);
        assert_eq!(w.len(), 2);
        assert!(w[0].message.contains("median 38"));
    }

    #[test]
    fn numbers_outside_the_training_range_score_with_a_warning() {
        let s = schema(true);
        for (age, outside) in [(18.0, false), (80.0, false), (17.5, true), (150.0, true)] {
            let (x, w) = encode(&s, [RawValue::Number(age), RawValue::Text("own")]);
            assert_eq!(x[0], (age as f32 - 40.0) / 10.0, "scored as it is");
            assert_eq!(w.len(), usize::from(outside), "{age}: {w:?}");
            if outside {
                assert_eq!(w[0].kind, WarningKind::OutOfRange);
                assert_eq!(
                    w[0].to_string(),
                    format!(
                        "age: {} is outside the training range 18 .. 80; scored as it is",
                        format_number(age as f32)
                    )
                );
            }
        }
        // Imputed values are not out of range; kinds tell the warnings apart.
        let (_, w) = encode(&s, [RawValue::Missing, RawValue::Text("boat")]);
        let kinds: Vec<WarningKind> = w.iter().map(|w| w.kind).collect();
        assert_eq!(kinds, [WarningKind::Imputed, WarningKind::UnknownCategory]);
    }

    #[test]
    fn unknown_category_scores_with_warning() {
        let s = schema(false);
        let (x, w) = encode(&s, [RawValue::Number(20.0), RawValue::Text("boat")]);
        assert_eq!(x, vec![20.0, 0.0, 0.0]);
        assert!(w[0].message.contains("'boat' was not seen"));
    }

    #[test]
    fn bad_numbers_are_errors_naming_feature() {
        let s = schema(false);
        let e = s.parse_value(0, RawValue::Text("abc")).unwrap_err();
        assert_eq!(e.to_string(), "feature 'age': 'abc' is not a number");
        let e = s.parse_value(0, RawValue::Number(f64::NAN)).unwrap_err();
        assert!(e.to_string().contains("not a finite number"));
        let e = s.parse_value(0, RawValue::Number(1e300)).unwrap_err();
        assert!(e.to_string().contains("not a finite number"));
        let e = s
            .encode(&[Value::Missing], &mut [0.0; 3], &mut Vec::new())
            .unwrap_err();
        assert_eq!(
            e,
            ScoreError::FeatureCount {
                expected: 2,
                got: 1
            }
        );
    }
}
