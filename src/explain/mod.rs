//! Per-feature explanations of one score.
//!
//! Contributions are reported per *original* feature (one-hot columns are
//! summed back), with a base value, so that `base + Σ contributions` equals
//! the model output in the stated unit: log-odds when the calibration is an
//! affine map of the output to log-odds, else the output itself (a forest's
//! probability). Each kind computes its own attribution
//! ([`crate::kinds::Kind::explain`]); this module picks the unit, folds
//! design columns back to features and adds the display values.
//!
//! - [`treeshap`]: exact path-dependent TreeSHAP for tree ensembles;
//! - [`sampling`]: antithetic permutation Shapley values for kinds without
//!   an exact method (RBF SVM, attention).

pub mod sampling;
pub mod treeshap;

use crate::bundle::Bundle;
use crate::error::ScoreError;
use crate::kinds::{Attribution, Design, PerPlayer};
use crate::schema::{format_number, FeatureKind, Value, Warning};

/// Unit of base value and contributions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    LogOdds,
    Probability,
}

impl Unit {
    pub fn id(self) -> &'static str {
        match self {
            Unit::LogOdds => "log-odds",
            Unit::Probability => "probability",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Contribution {
    pub feature: String,
    /// The customer's value as display text (after imputation).
    pub value: String,
    pub contribution: f32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    pub base: f32,
    /// `base + Σ contributions`: the model output in `unit`.
    pub output: f32,
    pub unit: Unit,
    pub method: &'static str,
    /// One per feature, in schema order.
    pub contributions: Vec<Contribution>,
    pub probability: f32,
    pub warnings: Vec<Warning>,
}

/// Which method explains this bundle's model.
pub fn method(b: &Bundle) -> &'static str {
    b.model.method()
}

fn display_value(b: &Bundle, i: usize, v: &Value) -> String {
    let Some(f) = b.schema.features.get(i) else {
        return String::new();
    };
    match (v, &f.kind) {
        (Value::Number(x), _) => format_number(*x),
        (Value::Category(k), FeatureKind::Categorical(c)) => {
            c.categories.get(*k as usize).cloned().unwrap_or_default()
        }
        (Value::Unknown(t), _) => t.clone(),
        (Value::Missing, FeatureKind::Numeric(_)) if !b.schema.encoding.impute_numeric => {
            "missing".to_string()
        }
        (Value::Missing, _) => format!("{} (imputed)", f.typical_text()),
        (Value::Category(k), _) => format!("code {k}"),
    }
}

/// Folds design-column contributions back to original features.
fn fold(b: &Bundle, per_column: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0f64; b.schema.features.len()];
    for ((feature, _), c) in b.schema.columns().into_iter().zip(per_column) {
        if let Some(o) = out.get_mut(feature) {
            *o += c;
        }
    }
    out
}

/// Explains design row `x`; the scorer checks the explanation budget first.
pub(crate) fn explain(
    b: &Bundle,
    values: &[Value],
    x: &[f32],
    warnings: Vec<Warning>,
) -> Result<Explanation, ScoreError> {
    let raw = b.model.output(x);
    let probability = b.calibration.probability(raw);
    let (scale, offset, unit) = match b.calibration.log_odds_affine() {
        Some((s, o)) => (s as f64, o as f64, Unit::LogOdds),
        None => (1.0, 0.0, Unit::Probability),
    };
    let groups = crate::kinds::groups(&b.schema);
    let design = Design {
        schema: &b.schema,
        width: x.len(),
        background: &b.background,
        groups: &groups,
    };
    let Attribution { base, per } = b.model.explain(&design, x, scale, offset);
    let folded = match per {
        PerPlayer::Columns(cols) => fold(b, &cols),
        PerPlayer::Features(f) => f,
    };
    let output = base + folded.iter().sum::<f64>();
    let contributions = folded
        .into_iter()
        .enumerate()
        .map(|(i, c)| Contribution {
            feature: b
                .schema
                .features
                .get(i)
                .map(|f| f.name.clone())
                .unwrap_or_default(),
            value: values
                .get(i)
                .map(|v| display_value(b, i, v))
                .unwrap_or_default(),
            contribution: c as f32,
        })
        .collect();
    Ok(Explanation {
        base: base as f32,
        output: output as f32,
        unit,
        method: method(b),
        contributions,
        probability,
        warnings,
    })
}
