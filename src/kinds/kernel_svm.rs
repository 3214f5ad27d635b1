//! RBF-kernel SVM: `bias + Σ coef_i · exp(-gamma · |x - sv_i|²)`, a decision
//! value turned into a probability by Platt scaling.
//!
//! Explanation: exact Shapley values against the file's background set
//! ([`crate::explain::product`]: the kernel is a product over players, so
//! each support vector's game has a closed form). Files without a
//! background set keep the model-agnostic sampler against the training-mean
//! row they were always explained with ([`crate::explain::shapley::legacy`]).

use serde::{Deserialize, Serialize};

use super::{all_finite, Attribution, Cost, Design, Kind, Output, PerPlayer};
use crate::explain::product;
use crate::explain::BackgroundSet;

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

    /// Cost of [`KernelSvm::exact`]: per support vector, the player factors
    /// of the customer and of every background row, and `⌈p/2⌉` quadrature
    /// nodes of `≈ 6p` operations per background row.
    fn exact_cost(&self, d: &Design<'_>, rows: usize) -> u64 {
        let p = d.groups.len() as u64;
        let rows = rows as u64;
        let factors = (rows + 1).saturating_mul(3 * d.width as u64 + p * super::EXP_COST);
        let nodes = rows.saturating_mul(p.div_ceil(2) * 6 * p + 2 * p);
        (self.coef.len() as u64)
            .saturating_mul(factors.saturating_add(nodes))
            .saturating_add(self.predict_cost(d).saturating_mul(rows + 1))
    }

    /// Exact Shapley values of the interventional game against `set`
    /// ([`crate::explain::product`]), in the unit `scale · output + offset`.
    /// The base and `f(x)` are the model's own outputs, and the rounding gap
    /// of `base + Σφ` against `f(x)` (the quadrature computes the kernel as
    /// a product in f64, the model as one `expf` in f32) is spread over the
    /// players in proportion to `|φ|`, so the explanation adds up exactly.
    fn exact(
        &self,
        d: &Design<'_>,
        set: &BackgroundSet,
        x: &[f32],
        scale: f64,
        offset: f64,
    ) -> Attribution {
        let (w, p) = (d.width, d.groups.len());
        let total: f64 = set.weights.iter().map(|&v| v as f64).sum();
        let mut out = vec![0.0f32; set.len()];
        self.outputs(&set.rows, w, &mut out);
        let base: f64 = out
            .iter()
            .zip(&set.weights)
            .map(|(&o, &v)| v as f64 / total * (scale * o as f64 + offset))
            .sum();
        let fx = scale * self.output(x) as f64 + offset;
        let nodes = product::gauss_legendre(p.div_ceil(2));
        // Each player's kernel factor, as the model computes the kernel:
        // f32 squared distances and `expf`.
        let factors = |z: &[f32], sv: &[f32], into: &mut Vec<f64>| {
            into.clear();
            for &(start, end) in d.groups {
                let mut dist = 0.0f32;
                for (a, b) in z
                    .get(start..end)
                    .unwrap_or(&[])
                    .iter()
                    .zip(sv.get(start..end).unwrap_or(&[]))
                {
                    let t = a - b;
                    dist += t * t;
                }
                into.push(libm::expf(-self.gamma * dist) as f64);
            }
        };
        let (mut a, mut c, mut scratch) = (Vec::new(), Vec::new(), Vec::new());
        let mut phi = vec![0.0f64; p];
        if w > 0 {
            for (sv, &coef) in self.support.chunks_exact(w).zip(&self.coef) {
                factors(x, sv, &mut a);
                for (row, &v) in set.rows.chunks_exact(w).zip(&set.weights) {
                    factors(row, sv, &mut c);
                    let k = scale * coef as f64 * v as f64 / total;
                    product::add_product_game(&a, &c, k, &nodes, &mut scratch, &mut phi);
                }
            }
        }
        let gap = fx - base - phi.iter().sum::<f64>();
        let size: f64 = phi.iter().map(|f| f.abs()).sum();
        if size > 0.0 {
            for f in &mut phi {
                *f += gap * f.abs() / size;
            }
        }
        Attribution {
            base,
            per: PerPlayer::Features(phi),
            convergence: None,
        }
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
        if let Some(set) = d.background_set {
            return self.exact(d, set, x, scale, offset);
        }
        let mut eval = |xs: &[f32], out: &mut [f32]| self.outputs(xs, d.width, out);
        let cost = self.predict_cost(d);
        super::model_agnostic(
            d,
            x,
            (scale, offset),
            cost,
            LEGACY_PAIRS,
            crate::explain::shapley::Players::one_each(d.groups),
            &mut eval,
        )
    }

    fn method(&self) -> &'static str {
        "sampling Shapley values (64 antithetic permutations, against the training means)"
    }

    fn cost(&self, d: &Design<'_>) -> Cost {
        let predict = self.predict_cost(d);
        let explain = match d.background_set {
            Some(set) => self.exact_cost(d, set.len()),
            None => super::shapley_cost(d, predict, LEGACY_PAIRS, d.groups.len()),
        };
        Cost { predict, explain }
    }

    fn uses_background_set(&self) -> bool {
        true
    }

    fn background_method(&self) -> &'static str {
        "exact Shapley values against training centroids (the kernel is a product over features: Gauss-Legendre quadrature of each support vector's game)"
    }

    fn summary(&self) -> String {
        format!(
            "RBF kernel, gamma {}, {} centres",
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
