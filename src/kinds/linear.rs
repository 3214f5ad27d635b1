//! Linear decision function `bias + w·x` over the (scaled) design row:
//! logistic regression (output in log-odds) and the linear SVM (a decision
//! value, Platt-calibrated).
//!
//! Explanation: exact linear SHAP under the training means,
//! `φ_j = w_j (x_j − E[x_j])`, per design column (one-hot columns are folded
//! back to their feature by the caller).

use serde::{Deserialize, Serialize};

use super::{all_finite, Attribution, Cost, Design, Kind, Output, PerPlayer};

#[derive(Debug, Clone, PartialEq)]
pub struct Linear {
    pub weights: Vec<f32>,
    pub bias: f32,
}

/// Section `linear` (format v3).
#[derive(Debug, Serialize, Deserialize)]
pub struct LinearWire {
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub weights: Vec<f32>,
    pub bias: f32,
}

impl Kind for Linear {
    const TAG: &'static str = "linear";
    type Wire = LinearWire;
    const IN_LEGACY_SLOT: bool = true;

    fn to_wire(&self) -> LinearWire {
        LinearWire {
            weights: self.weights.clone(),
            bias: self.bias,
        }
    }

    fn from_wire(w: LinearWire) -> Result<Self, String> {
        Ok(Linear {
            weights: w.weights,
            bias: w.bias,
        })
    }

    fn validate(&self, d: &Design<'_>) -> Result<(), String> {
        if self.weights.len() != d.width {
            return Err(format!(
                "linear model has {} weights for a design width of {}",
                self.weights.len(),
                d.width
            ));
        }
        all_finite("linear weights", &self.weights)?;
        all_finite("linear bias", &[self.bias])
    }

    fn output_kind(&self) -> Output {
        Output::Score
    }

    fn output(&self, x: &[f32]) -> f32 {
        let mut acc = self.bias;
        for (w, v) in self.weights.iter().zip(x) {
            acc += w * v;
        }
        acc
    }

    fn explain(&self, d: &Design<'_>, x: &[f32], scale: f64, offset: f64) -> Attribution {
        let mut base_margin = self.bias as f64;
        let mut cols = Vec::with_capacity(x.len());
        for ((w, xi), mu) in self.weights.iter().zip(x).zip(d.background) {
            base_margin += (*w as f64) * (*mu as f64);
            cols.push(scale * (*w as f64) * ((*xi as f64) - (*mu as f64)));
        }
        Attribution {
            base: scale * base_margin + offset,
            per: PerPlayer::Columns(cols),
            convergence: None,
        }
    }

    fn method(&self) -> &'static str {
        "linear SHAP (exact, under the training means)"
    }

    fn cost(&self, d: &Design<'_>) -> Cost {
        Cost {
            predict: d.width as u64,
            explain: 2 * d.width as u64,
        }
    }

    fn summary(&self) -> String {
        format!("linear, {} weights", self.weights.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_in_order() {
        let m = Linear {
            weights: vec![0.5, -2.0],
            bias: 1.0,
        };
        assert_eq!(m.output(&[2.0, 1.0]), 0.0);
    }
}
