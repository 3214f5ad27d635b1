//! Per-feature explanations of one score.
//!
//! Contributions are reported per *original* feature (one-hot columns are
//! summed back), with a base value, so that `base + Σ contributions` equals
//! the model output in the stated unit.
//!
//! - Linear models (logistic regression, linear SVM): exact linear SHAP
//!   under the training means, `φ_j = w_j (x_j − E[x_j])`, mapped through
//!   the calibration's affine log-odds map, in log-odds.
//! - Tree ensembles: exact path-dependent TreeSHAP ([`treeshap`]) over the
//!   node covers; gradient boosting in log-odds, random forests in
//!   probability (the forest's output is an average of leaf probabilities).
//! - RBF SVM: sampling Shapley values ([`sampling`]) against the training
//!   mean row, in log-odds. Exact TreeSHAP has no kernel analogue and
//!   linear SHAP does not apply; permutation sampling is model-agnostic,
//!   needs no customer rows as background, and is additive by construction.

pub mod sampling;
pub mod treeshap;

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
        Model::Trees(_) => "TreeSHAP (exact, path-dependent, over training covers)",
        Model::KernelSvm(_) => {
            "sampling Shapley values (64 antithetic permutations, against the training means)"
        }
        Model::Attention(_) => {
            "sampling Shapley values (32 antithetic permutations, against the training means)"
        }
    }
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

/// Design-column ranges of each original feature.
fn groups(b: &Bundle) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(b.schema.features.len());
    let mut start = 0;
    for f in &b.schema.features {
        out.push((start, start + f.width()));
        start += f.width();
    }
    out
}

pub fn explain(
    b: &Bundle,
    values: &[Value],
    x: &[f32],
    warnings: Vec<Warning>,
) -> Result<Explanation, ScoreError> {
    let margin = b.model.margin(x);
    let probability = b.calibration.probability(margin);
    // Output unit: log-odds when the calibration is an affine map of the
    // margin to log-odds, else the margin itself (a forest's probability).
    let (scale, offset, unit) = match b.calibration.log_odds_affine() {
        Some((s, o)) => (s as f64, o as f64, Unit::LogOdds),
        None => (1.0, 0.0, Unit::Probability),
    };
    let (base, folded): (f64, Vec<f64>) = match &b.model {
        Model::Linear(m) => {
            let mut base_margin = m.bias as f64;
            let mut cols = Vec::with_capacity(x.len());
            for ((w, xi), mu) in m.weights.iter().zip(x).zip(&b.background) {
                base_margin += (*w as f64) * (*mu as f64);
                cols.push(scale * (*w as f64) * ((*xi as f64) - (*mu as f64)));
            }
            (scale * base_margin + offset, fold(b, &cols))
        }
        Model::Trees(e) => {
            let per_tree = if e.average && !e.trees.is_empty() {
                1.0 / e.trees.len() as f64
            } else {
                1.0
            };
            let mut cols = vec![0.0f64; x.len()];
            let mut expected = 0.0f64;
            for t in &e.trees {
                expected += treeshap::expected_value(t);
                treeshap::tree_shap(t, x, &mut cols, per_tree * scale);
            }
            let base_margin = e.base as f64 + expected * per_tree;
            (scale * base_margin + offset, fold(b, &cols))
        }
        Model::KernelSvm(_) | Model::Attention(_) => {
            let f = |z: &[f32]| scale * b.model.margin(z) as f64 + offset;
            // A transformer forward pass costs ~50× a kernel row: half the
            // permutations keep an explanation interactive in the browser.
            let pairs = match b.model {
                Model::Attention(_) => sampling::DEFAULT_PAIRS / 2,
                _ => sampling::DEFAULT_PAIRS,
            };
            sampling::shapley(x, &b.background, &groups(b), pairs, &f)
        }
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
