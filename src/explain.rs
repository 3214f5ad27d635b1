//! Per-feature explanations of one score.
//!
//! Contributions are reported per *original* feature (one-hot columns are
//! summed back), with a base value, so that `base + Σ contributions` equals
//! the model output in the stated unit.
//!
//! - Linear models (logistic regression, linear SVM): exact linear SHAP
//!   under the training means, `φ_j = w_j (x_j − E[x_j])`, mapped through
//!   the calibration's affine log-odds map, in log-odds.

use crate::bundle::Bundle;
use crate::error::ScoreError;
use crate::model::Model;
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
    match b.model {
        Model::Linear(_) => "linear SHAP (exact, under the training means)",
        Model::KernelSvm(_) | Model::Trees(_) => "not available for this model kind yet",
    }
}

fn display_value(b: &Bundle, i: usize, v: &Value) -> String {
    let Some(f) = b.schema.features.get(i) else {
        return String::new();
    };
    match (v, &f.kind) {
        (Value::Number(x), _) => format_number(*x),
        (Value::Category(k), FeatureKind::Categorical(c)) => c.categories.get(*k as usize).cloned().unwrap_or_default(),
        (Value::Unknown(t), _) => t.clone(),
        (Value::Missing, _) => format!("{} (imputed)", f.typical_text()),
        (Value::Category(k), _) => format!("code {k}"),
    }
}

/// Folds design-column contributions back to original features.
fn fold(b: &Bundle, per_column: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0f32; b.schema.features.len()];
    for ((feature, _), c) in b.schema.columns().into_iter().zip(per_column) {
        if let Some(o) = out.get_mut(feature) {
            *o += c;
        }
    }
    out
}

pub fn explain(b: &Bundle, values: &[Value], x: &[f32], warnings: Vec<Warning>) -> Result<Explanation, ScoreError> {
    let margin = b.model.margin(x);
    let probability = b.calibration.probability(margin);
    let (base, per_column, unit) = match &b.model {
        Model::Linear(m) => {
            let Some((scale, offset)) = b.calibration.log_odds_affine() else {
                return Err(ScoreError::Unsupported("linear model without a logistic calibration".into()));
            };
            let mut base_margin = m.bias;
            let mut cols = Vec::with_capacity(x.len());
            for ((w, xi), mu) in m.weights.iter().zip(x).zip(&b.background) {
                base_margin += w * mu;
                cols.push(scale * (w * (xi - mu)));
            }
            (scale * base_margin + offset, cols, Unit::LogOdds)
        }
        Model::KernelSvm(_) | Model::Trees(_) => {
            return Err(ScoreError::Unsupported(format!(
                "explanations are {} ({})",
                method(b),
                b.kind.display()
            )))
        }
    };
    let folded = fold(b, &per_column);
    let output = base + folded.iter().sum::<f32>();
    let contributions = folded
        .into_iter()
        .enumerate()
        .map(|(i, c)| Contribution {
            feature: b.schema.features.get(i).map(|f| f.name.clone()).unwrap_or_default(),
            value: values.get(i).map(|v| display_value(b, i, v)).unwrap_or_default(),
            contribution: c,
        })
        .collect();
    Ok(Explanation {
        base,
        output,
        unit,
        method: method(b),
        contributions,
        probability,
        warnings,
    })
}
