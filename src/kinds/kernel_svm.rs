//! RBF-kernel SVM: `bias + Σ coef_i · exp(-gamma · |x - sv_i|²)`, a decision
//! value turned into a probability by Platt scaling.
//!
//! Explanation: model-agnostic Shapley values ([`crate::explain::shapley`])
//! against the file's background set (the training-mean row in older
//! files): exact TreeSHAP has no kernel analogue and linear SHAP does not
//! apply; enumeration and permutation sampling are model-agnostic and
//! additive by construction.

use serde::{Deserialize, Serialize};

use super::{all_finite, Attribution, Cost, Design, Kind, Output};

/// Permutation pairs of the sampler of files without a background set.
const LEGACY_PAIRS: u32 = 32;

#[derive(Debug, Clone, PartialEq)]
pub struct KernelSvm {
    pub gamma: f32,
    /// Support vectors, row-major, `coef.len()` rows of the design width.
    pub support: Vec<f32>,
    pub coef: Vec<f32>,
    pub bias: f32,
}

/// Section `kernel-svm` (format v3).
#[derive(Debug, Serialize, Deserialize)]
pub struct KernelSvmWire {
    pub gamma: f32,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub support: Vec<f32>,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub coef: Vec<f32>,
    pub bias: f32,
}

impl KernelSvm {
    fn predict_cost(&self, d: &Design<'_>) -> u64 {
        (self.coef.len() as u64).saturating_mul(3 * d.width as u64 + super::EXP_COST)
    }
}

impl Kind for KernelSvm {
    const TAG: &'static str = "kernel-svm";
    type Wire = KernelSvmWire;
    const IN_LEGACY_SLOT: bool = true;

    fn to_wire(&self) -> KernelSvmWire {
        KernelSvmWire {
            gamma: self.gamma,
            support: self.support.clone(),
            coef: self.coef.clone(),
            bias: self.bias,
        }
    }

    fn from_wire(w: KernelSvmWire) -> Result<Self, String> {
        Ok(KernelSvm {
            gamma: w.gamma,
            support: w.support,
            coef: w.coef,
            bias: w.bias,
        })
    }

    fn validate(&self, d: &Design<'_>) -> Result<(), String> {
        if self.coef.len().checked_mul(d.width) != Some(self.support.len()) {
            return Err(format!(
                "SVM holds {} support values, expected {} vectors x {}",
                self.support.len(),
                self.coef.len(),
                d.width
            ));
        }
        if !(self.gamma.is_finite() && self.gamma > 0.0) {
            return Err("SVM gamma must be positive".into());
        }
        all_finite("SVM support vectors", &self.support)?;
        all_finite("SVM coefficients", &self.coef)?;
        all_finite("SVM bias", &[self.bias])
    }

    fn output_kind(&self) -> Output {
        Output::Score
    }

    fn output(&self, x: &[f32]) -> f32 {
        let d = x.len();
        if d == 0 {
            return self.bias;
        }
        let mut acc = self.bias;
        for (sv, c) in self.support.chunks_exact(d).zip(&self.coef) {
            let mut dist = 0.0f32;
            for (a, b) in sv.iter().zip(x) {
                let t = a - b;
                dist += t * t;
            }
            acc += c * libm::expf(-self.gamma * dist);
        }
        acc
    }

    /// Computes the distances of four rows to a support vector together:
    /// four independent dependency chains instead of one, so the CPU
    /// overlaps them; each row still sums its squared differences in column
    /// order and its kernel terms in support-vector order.
    fn outputs(&self, xs: &[f32], width: usize, out: &mut [f32]) {
        let mut quads = xs.chunks_exact(4 * width);
        let mut outs = out.chunks_exact_mut(4);
        for (x4, o4) in (&mut quads).zip(&mut outs) {
            let (x0, rest) = x4.split_at(width);
            let (x1, rest) = rest.split_at(width);
            let (x2, x3) = rest.split_at(width);
            let mut acc = [self.bias; 4];
            for (sv, c) in self.support.chunks_exact(width).zip(&self.coef) {
                let mut d = [0.0f32; 4];
                for ((((a, b0), b1), b2), b3) in sv.iter().zip(x0).zip(x1).zip(x2).zip(x3) {
                    let t0 = a - b0;
                    let t1 = a - b1;
                    let t2 = a - b2;
                    let t3 = a - b3;
                    d[0] += t0 * t0;
                    d[1] += t1 * t1;
                    d[2] += t2 * t2;
                    d[3] += t3 * t3;
                }
                for (a, dist) in acc.iter_mut().zip(d) {
                    *a += c * libm::expf(-self.gamma * dist);
                }
            }
            o4.copy_from_slice(&acc);
        }
        for (x, o) in quads
            .remainder()
            .chunks_exact(width)
            .zip(outs.into_remainder())
        {
            *o = self.output(x);
        }
    }

    fn explain(&self, d: &Design<'_>, x: &[f32], scale: f64, offset: f64) -> Attribution {
        let mut eval = |xs: &[f32], out: &mut [f32]| self.outputs(xs, d.width, out);
        let cost = self.predict_cost(d);
        super::model_agnostic(d, x, (scale, offset), cost, LEGACY_PAIRS, &mut eval)
    }

    fn method(&self) -> &'static str {
        "sampling Shapley values (64 antithetic permutations, against the training means)"
    }

    fn cost(&self, d: &Design<'_>) -> Cost {
        let predict = self.predict_cost(d);
        Cost {
            predict,
            explain: super::shapley_cost(d, predict, LEGACY_PAIRS),
        }
    }

    fn uses_background_set(&self) -> bool {
        true
    }

    fn summary(&self) -> String {
        format!(
            "RBF kernel, gamma {}, {} support vectors",
            crate::num::F32(self.gamma),
            self.coef.len()
        )
    }

    fn embeds_training_rows(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_matches_formula() {
        let m = KernelSvm {
            gamma: 0.5,
            support: vec![0.0, 0.0, 1.0, 1.0],
            coef: vec![1.0, -1.0],
            bias: 0.25,
        };
        let x = [1.0f32, 0.0];
        let expect = 0.25 + (-0.5f64).exp() - (-0.5f64).exp();
        assert!((m.output(&x) as f64 - expect).abs() < 1e-6);
    }
}
