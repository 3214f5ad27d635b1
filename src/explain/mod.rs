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
//! - [`product`]: exact Shapley values of the RBF SVM against the file's
//!   background set (the kernel is a product over players);
//! - [`shapley`]: model-agnostic Shapley values for kinds without an exact
//!   method (attention; the RBF SVM of files without a background set): against the file's background set, exact
//!   enumeration for few features, else antithetic permutation sampling
//!   seeded per customer, with a convergence figure; for files without a
//!   background set (written before it existed), the fixed-seed sampler
//!   against the mean row they always had, bit for bit.
//!
//! # Players
//!
//! A player is an input as the customer gives it: one original column of
//! the schema, whose one-hot design columns move together. Every kind
//! reports one contribution per player, in schema order, except the
//! sequence kinds ([`crate::sequence`]): their players are the statics
//! (schema order), then the steps of the history, oldest first, a step
//! being every channel's columns at it ([`PerPlayer::Players`]; the
//! contributions of steps carry a [`Step`]).
//!
//! - Model-agnostic Shapley values ([`shapley`]) treat each
//!   feature as one player directly: a coalition sets all of a feature's
//!   columns from the customer or all from the background.
//! - Linear SHAP and TreeSHAP compute a value per *design column* and this
//!   module sums a feature's columns ([`PerPlayer::Columns`]). For a linear
//!   model that sum is exactly the feature's Shapley value (the game is
//!   additive over columns). For trees it is the sum of the columns'
//!   path-dependent Shapley values: it equals the feature-as-one-player
//!   value when no path tests two columns of the same one-hot feature, and
//!   otherwise splits their interaction between the columns in a way that
//!   still adds up (`base + Σ` is unchanged, additivity holds exactly).

pub mod product;
pub mod shapley;
pub mod treeshap;

pub use shapley::BackgroundSet;

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
    /// Set when the player is a step of a history (sequence kinds).
    pub step: Option<Step>,
}

/// A step of a history as an explanation player.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// 1 = the most recent step.
    pub age: u32,
    /// "1 month ago", "3 months ago".
    pub ago: String,
    /// `(channel, display value)` of each channel at this step.
    pub values: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    pub base: f32,
    /// `base + Σ contributions`: the model output in `unit`.
    pub output: f32,
    pub unit: Unit,
    pub method: &'static str,
    /// Sampled explanations: the largest estimated standard error of a
    /// contribution, relative to the sum of the contributions' absolute
    /// values. `None` for exact methods (and the fixed-seed sampler of files
    /// without a background set, which estimates none).
    pub convergence: Option<f32>,
    /// One per feature, in schema order.
    pub contributions: Vec<Contribution>,
    pub probability: f32,
    pub warnings: Vec<Warning>,
}

/// Which method explains this bundle's model.
pub fn method(b: &Bundle) -> &'static str {
    if b.background_set.is_some() && b.model.uses_background_set() {
        b.model.background_method()
    } else {
        b.model.method()
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
        width: x.len(),
        ..b.design(&groups)
    };
    let Attribution {
        base,
        per,
        convergence,
    } = b.model.explain(&design, x, scale, offset);
    let folded = match per {
        PerPlayer::Columns(cols) => fold(b, &cols),
        PerPlayer::Features(f) => f,
        PerPlayer::Players(p) => {
            let output = base + p.iter().sum::<f64>();
            return Ok(Explanation {
                base: base as f32,
                output: output as f32,
                unit,
                method: method(b),
                convergence: convergence.map(|c| c as f32),
                contributions: players(b, values, &p),
                probability,
                warnings,
            });
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
            step: None,
        })
        .collect();
    Ok(Explanation {
        base: base as f32,
        output: output as f32,
        unit,
        method: method(b),
        convergence: convergence.map(|c| c as f32),
        contributions,
        probability,
        warnings,
    })
}

/// The contributions of a sequence kind's players: its statics under their
/// names, then one entry per step of the history, oldest first.
fn players(b: &Bundle, values: &[Value], phi: &[f64]) -> Vec<Contribution> {
    let Some(inputs) = b.model.sequence() else {
        return Vec::new();
    };
    let h = &inputs.history;
    let shown = |i: usize| {
        values
            .get(i)
            .map(|v| display_value(b, i, v))
            .unwrap_or_default()
    };
    let mut out = Vec::with_capacity(phi.len());
    for (st, &c) in inputs.statics.iter().zip(phi) {
        let i = st.feature as usize;
        out.push(Contribution {
            feature: b
                .schema
                .features
                .get(i)
                .map(|f| f.name.clone())
                .unwrap_or_default(),
            value: shown(i),
            contribution: c as f32,
            step: None,
        });
    }
    for (t, &c) in phi.iter().skip(inputs.statics.len()).enumerate() {
        let age = h.steps.saturating_sub(t as u32);
        let ago = format!("{age} {}{} ago", h.unit, if age == 1 { "" } else { "s" });
        let mut feature = h.name.clone();
        feature.push(' ');
        feature.push_str(&ago);
        let mut value = String::new();
        let mut values = Vec::with_capacity(h.channels.len());
        for ch in &h.channels {
            let v = ch
                .features
                .get(t)
                .map_or(String::new(), |&f| shown(f as usize));
            if !value.is_empty() {
                value.push_str(", ");
            }
            value.push_str(&ch.name);
            value.push(' ');
            value.push_str(&v);
            values.push((ch.name.clone(), v));
        }
        out.push(Contribution {
            feature,
            value,
            contribution: c as f32,
            step: Some(Step { age, ago, values }),
        });
    }
    out
}
