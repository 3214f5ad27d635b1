//! Turning a model's raw output into a probability of the positive class.

use crate::kinds::Output;
use crate::num::F32;

#[derive(Debug, Clone, PartialEq)]
pub enum Calibration {
    /// The output already is a probability (a random forest's average of
    /// leaf probabilities); clamped to [0, 1].
    Identity,
    /// The output is log-odds: `p = 1 / (1 + exp(−m))` (logistic
    /// regression, gradient boosting, the attention model).
    Logistic,
    /// Platt scaling of a decision value: `p = 1 / (1 + exp(a·m + b))`.
    Platt { a: f32, b: f32 },
    /// Platt scaling of a probability's log-odds (a random forest's
    /// average): `p = 1 / (1 + exp(a·logit(q) + b))`, with `q` kept in
    /// [`PLATT_LOGIT_CLAMP`, 1 − `PLATT_LOGIT_CLAMP`] so a pure leaf gives a
    /// finite, moderate probability. Format 3 (`calibration/platt-logit`).
    PlattLogit { a: f32, b: f32 },
    /// Isotonic regression of a probability output (a random forest's
    /// average): a non-decreasing map, linear between knots. Format 3
    /// (`calibration/isotonic`).
    Isotonic(Isotonic),
}

/// A non-decreasing piecewise-linear map of a probability through knots
/// `(x_k, y_k)`: `x` strictly increasing, `y` non-decreasing inside (0, 1),
/// constant beyond the first and last knot. Fitted by the trainer's pool
/// adjacent violators on out-of-fold outputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Isotonic {
    pub x: Vec<f32>,
    pub y: Vec<f32>,
}

/// Most knots an isotonic calibration may have.
pub const MAX_ISOTONIC_KNOTS: usize = 4096;

impl Isotonic {
    /// The calibrated probability of output `q`: binary search for its
    /// segment (no recursion), then `y_lo + t·(y_hi − y_lo)` in f32 with
    /// `t = (q − x_lo)/(x_hi − x_lo)`. Every step rounds monotonically, so
    /// the map stays non-decreasing in `q`, and the same bits come out
    /// natively and in wasm.
    pub fn map(&self, q: f32) -> f32 {
        let (Some(&x0), Some(&y0), Some(&xn), Some(&yn)) =
            (self.x.first(), self.y.first(), self.x.last(), self.y.last())
        else {
            return f32::NAN;
        };
        if q.is_nan() {
            return q;
        }
        if q <= x0 {
            return y0;
        }
        if q >= xn {
            return yn;
        }
        let (mut lo, mut hi) = (0usize, self.x.len() - 1);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.x.get(mid).is_some_and(|&x| x <= q) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let at = |v: &[f32], i: usize| v.get(i).copied().unwrap_or(f32::NAN);
        let (xl, xh, yl, yh) = (
            at(&self.x, lo),
            at(&self.x, hi),
            at(&self.y, lo),
            at(&self.y, hi),
        );
        yl + (q - xl) / (xh - xl) * (yh - yl)
    }

    fn validate(&self) -> Result<(), String> {
        let n = self.x.len();
        if !(2..=MAX_ISOTONIC_KNOTS).contains(&n) || self.y.len() != n {
            return Err(format!(
                "isotonic calibration: {n} and {} knot values, expected 2 to {MAX_ISOTONIC_KNOTS} of each",
                self.y.len()
            ));
        }
        let mut prev = (f32::NEG_INFINITY, 0.0f32);
        for (k, (&x, &y)) in self.x.iter().zip(&self.y).enumerate() {
            if !(x.is_finite() && x > prev.0 && y > 0.0 && y < 1.0 && y >= prev.1) {
                return Err(format!(
                    "isotonic calibration: knot {k} ({}, {}) is not finite, increasing in x, non-decreasing in y and inside (0, 1)",
                    F32(x),
                    F32(y)
                ));
            }
            prev = (x, y);
        }
        Ok(())
    }
}

/// How close to 0 or 1 a probability may be before [`Calibration::PlattLogit`]
/// takes its log-odds.
pub const PLATT_LOGIT_CLAMP: f32 = 1e-4;

impl Calibration {
    /// The calibration's name in messages.
    pub fn name(&self) -> &'static str {
        match self {
            Calibration::Identity => "identity",
            Calibration::Logistic => "logistic",
            Calibration::Platt { .. } => "Platt",
            Calibration::PlattLogit { .. } => "Platt (log-odds)",
            Calibration::Isotonic(_) => "isotonic",
        }
    }

    pub fn probability(&self, output: f32) -> f32 {
        match *self {
            Calibration::Identity if output.is_nan() => output,
            Calibration::Identity => output.clamp(0.0, 1.0),
            // Written as Platt {a: −1, b: 0} so that files of every format
            // version give the same bits: (−1)·m + 0 equals −m for every m
            // except the sign of a zero, which expf ignores.
            Calibration::Logistic => sigmoid_affine(-1.0, 0.0, output),
            Calibration::Platt { a, b } => sigmoid_affine(a, b, output),
            Calibration::PlattLogit { .. } if output.is_nan() => output,
            Calibration::PlattLogit { a, b } => {
                let q = output.clamp(PLATT_LOGIT_CLAMP, 1.0 - PLATT_LOGIT_CLAMP);
                // libm's logf: the same bits natively and in wasm.
                sigmoid_affine(a, b, libm::logf(q / (1.0 - q)))
            }
            Calibration::Isotonic(ref iso) => iso.map(output),
        }
    }

    /// Log-odds of the calibrated probability as an affine map of the
    /// output, when there is one (`Some((scale, offset))`: log-odds =
    /// scale·m + offset).
    pub fn log_odds_affine(&self) -> Option<(f32, f32)> {
        match *self {
            Calibration::Identity | Calibration::PlattLogit { .. } | Calibration::Isotonic(_) => {
                None
            }
            Calibration::Logistic => Some((1.0, -0.0)),
            Calibration::Platt { a, b } => Some((-a, -b)),
        }
    }

    /// The kind of raw output this calibration expects.
    pub fn expects(&self) -> Output {
        match self {
            Calibration::Identity | Calibration::PlattLogit { .. } | Calibration::Isotonic(_) => {
                Output::Probability
            }
            Calibration::Logistic | Calibration::Platt { .. } => Output::Score,
        }
    }

    /// Parameters are finite (a NaN Platt parameter would score every
    /// customer 0.5).
    pub fn validate(&self) -> Result<(), String> {
        match *self {
            Calibration::Platt { a, b } | Calibration::PlattLogit { a, b }
                if !(a.is_finite() && b.is_finite()) =>
            {
                Err(format!(
                "Platt calibration parameters ({}, {}) are not finite numbers",
                    F32(a),
                    F32(b)
                ))
            }
            Calibration::Platt { a, .. } | Calibration::PlattLogit { a, .. }
                if a.abs() < f32::MIN_POSITIVE =>
            {
                Err(format!(
                "Platt calibration slope {} is (nearly) 0: every customer would get one probability",
                    F32(a)
                ))
            }
            Calibration::Isotonic(ref iso) => iso.validate(),
            _ => Ok(()),
        }
    }
}

/// NaN in, NaN out: the scorer refuses such a row instead of reporting a
/// made-up 0.5.
fn sigmoid_affine(a: f32, b: f32, m: f32) -> f32 {
    1.0 / (1.0 + libm::expf(a * m + b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platt_and_logistic() {
        assert_eq!(Calibration::Logistic.probability(0.0), 0.5);
        let p = Calibration::Logistic.probability(2.0);
        assert!((p as f64 - 1.0 / (1.0 + (-2.0f64).exp())).abs() < 1e-7);
        let p = Calibration::Platt { a: -2.0, b: 1.0 }.probability(0.5);
        assert_eq!(p, 0.5);
        assert_eq!(Calibration::Identity.probability(1.5), 1.0);
    }

    #[test]
    fn logistic_is_bitwise_the_platt_form_it_replaced() {
        let old = Calibration::Platt { a: -1.0, b: 0.0 };
        for m in [-30.0f32, -1.5, -0.0, 0.0, 1e-7, 0.75, 12.0, 88.0] {
            assert_eq!(
                Calibration::Logistic.probability(m).to_bits(),
                old.probability(m).to_bits()
            );
        }
    }

    #[test]
    fn isotonic_interpolates_between_knots_and_never_decreases() {
        let iso = Isotonic {
            x: vec![0.1, 0.3, 0.6, 0.9],
            y: vec![0.02, 0.2, 0.2, 0.7],
        };
        let c = Calibration::Isotonic(iso.clone());
        c.validate().unwrap();
        assert_eq!(c.probability(0.0), 0.02);
        assert_eq!(c.probability(1.0), 0.7);
        assert_eq!(c.probability(0.3), 0.2);
        assert!((c.probability(0.2) - 0.11).abs() < 1e-6);
        assert!((c.probability(0.75) - 0.45).abs() < 1e-6);
        assert!(c.probability(f32::NAN).is_nan());
        // Monotone on a fine grid and between neighbouring floats.
        let mut prev = 0.0f32;
        let mut q = 0.0f32;
        while q <= 1.0 {
            let p = c.probability(q);
            assert!(p >= prev, "{q}: {p} < {prev}");
            let next = f32::from_bits(q.to_bits() + 1);
            assert!(c.probability(next) >= p);
            prev = p;
            q += 1.0 / 4096.0;
        }
        assert_eq!(c.expects(), Output::Probability);
        assert!(c.log_odds_affine().is_none());
    }
}
